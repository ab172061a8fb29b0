//! RFC 3550 A.8 interarrival jitter, in integer arithmetic that wraps the
//! way 32-bit RTP timestamps do.

/// Running interarrival-jitter estimate for one source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InterarrivalJitter {
    /// Transit time of the previous packet; `None` before the first.
    transit: Option<u32>,
    /// The estimate scaled by 16, as A.8's integer form keeps it. Held in 64
    /// bits so that even 2^31-unit jumps cannot overflow it.
    jitter_x16: u64,
}

impl InterarrivalJitter {
    /// An estimate that has seen no packet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one packet: its arrival time converted to the stream's clock
    /// (same units as the timestamp, any origin) and its RTP timestamp.
    pub fn update(&mut self, arrival_rtp_units: u32, rtp_timestamp: u32) {
        // Differences are taken modulo 2^32 and read as signed, so a
        // timestamp or arrival clock that wraps costs nothing.
        let transit = arrival_rtp_units.wrapping_sub(rtp_timestamp);
        if let Some(prev) = self.transit {
            let d = u64::from((transit.wrapping_sub(prev) as i32).unsigned_abs());
            // J += (|D| - J) / 16, with +8 to round (A.8's integer form).
            // (J + 8) >> 4 never exceeds J + |D|, so this cannot underflow.
            self.jitter_x16 = self.jitter_x16 + d - ((self.jitter_x16 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// The value for a report block's jitter field, in timestamp units.
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter_x16 >> 4).unwrap_or(u32::MAX)
    }

    /// The jitter in milliseconds for a stream clocked at `clock_rate_hz`
    /// (0 when the rate is 0).
    pub fn jitter_ms(&self, clock_rate_hz: u32) -> f64 {
        if clock_rate_hz == 0 {
            return 0.0;
        }
        f64::from(self.jitter()) * 1000.0 / f64::from(clock_rate_hz)
    }
}
