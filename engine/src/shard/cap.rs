//! Per-participant inbound bitrate cap: a token bucket counted in bits at IP
//! level (datagram + IPv4/UDP headers), so the cap compares directly with an
//! H.225.0 bandwidth admission, which counts IP traffic.

use std::time::Instant;

/// IPv4 + UDP header bytes added to each datagram's length.
pub(crate) const IP_UDP_OVERHEAD_BYTES: usize = 28;

/// A token bucket; `rate_bps == 0` means no cap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BitrateCap {
    rate_bps: u32,
    burst_bits: f64,
    tokens_bits: f64,
    last: Option<Instant>,
}

impl BitrateCap {
    /// A full bucket for `rate_bps` allowing `burst_ms` of traffic at once
    /// (at least two full-size packets, so one late pair is not punished).
    pub(crate) fn new(rate_bps: u32, burst_ms: u32) -> Self {
        let burst_bits =
            (f64::from(rate_bps) * f64::from(burst_ms) / 1000.0).max(2.0 * 1528.0 * 8.0);
        Self {
            rate_bps,
            burst_bits,
            tokens_bits: burst_bits,
            last: None,
        }
    }

    /// The cap in bit/s (0 = none).
    pub(crate) fn rate_bps(&self) -> u32 {
        self.rate_bps
    }

    /// Takes a datagram of `len` bytes arriving at `now`; false = over the cap.
    pub(crate) fn admit(&mut self, now: Instant, len: usize) -> bool {
        if self.rate_bps == 0 {
            return true;
        }
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens_bits =
                (self.tokens_bits + elapsed * f64::from(self.rate_bps)).min(self.burst_bits);
        }
        self.last = Some(now);
        let bits = ((len + IP_UDP_OVERHEAD_BYTES) * 8) as f64;
        if self.tokens_bits >= bits {
            self.tokens_bits -= bits;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn steady_stream_under_the_cap_passes_and_double_rate_loses_half() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        // 100-byte datagrams every 20 ms = 51.2 kb/s at IP level.
        let mut under = BitrateCap::new(64_000, 200);
        let mut over = BitrateCap::new(25_600, 200);
        let (mut passed_under, mut passed_over) = (0, 0);
        for i in 0..500u32 {
            let now = t0 + Duration::from_millis(20) * i;
            passed_under += u32::from(under.admit(now, 100));
            passed_over += u32::from(over.admit(now, 100));
        }
        assert_eq!(passed_under, 500);
        // Half the packets fit the rate, plus the initial burst (2 x 1528 bytes).
        assert!((250..=280).contains(&passed_over), "{passed_over}");
    }
}
