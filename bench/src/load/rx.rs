//! What one guardian measures about the mix it receives: loss and
//! interarrival jitter as RFC 3550 defines them, and frames that arrive too
//! late for a 20 ms playout buffer.

use std::time::Duration;

use media_core::rtcp::InterarrivalJitter;
use media_core::rtp::{RtpPacket, SeqTracker};

/// A frame arriving later than this after its slot (as predicted from the
/// first packet and the RTP clock) misses a 20 ms playout buffer.
pub const LATE_AFTER: Duration = Duration::from_millis(20);

/// Receive statistics of one guardian's mix stream.
#[derive(Debug, Clone)]
pub struct RxStats {
    seq: SeqTracker,
    jitter: InterarrivalJitter,
    clock_rate_hz: u32,
    /// Packets received.
    pub packets: u64,
    /// Packets that missed their slot by more than [`LATE_AFTER`].
    pub late: u64,
    /// Arrival of the first packet and its RTP timestamp.
    first: Option<(Duration, u32)>,
    /// Last arrival.
    pub last_arrival: Option<Duration>,
    /// Longest gap between two arrivals.
    pub longest_gap: Duration,
    /// Per-second (jitter ms, packets) samples for the report.
    pub per_second: Vec<(f64, u64)>,
    second_packets: u64,
}

impl RxStats {
    /// Stats for a stream at `clock_rate_hz`.
    pub fn new(clock_rate_hz: u32) -> Self {
        Self {
            seq: SeqTracker::new(),
            jitter: InterarrivalJitter::new(),
            clock_rate_hz,
            packets: 0,
            late: 0,
            first: None,
            last_arrival: None,
            longest_gap: Duration::ZERO,
            per_second: Vec::new(),
            second_packets: 0,
        }
    }

    /// Accounts for one received packet.
    pub fn on_packet(&mut self, arrival: Duration, packet: &RtpPacket<'_>) {
        self.packets += 1;
        self.second_packets += 1;
        self.seq.update(packet.sequence_number());
        let rate = u64::from(self.clock_rate_hz);
        let arrival_units = (arrival.as_nanos() as u64 * rate / 1_000_000_000) as u32;
        self.jitter.update(arrival_units, packet.timestamp());
        let ts = packet.timestamp();
        let (first_arrival, first_ts) = *self.first.get_or_insert((arrival, ts));
        let elapsed_units = ts.wrapping_sub(first_ts);
        // Timestamps far "behind" the first one wrapped backwards: ignore.
        if elapsed_units < u32::MAX / 2 {
            let slot = first_arrival
                + Duration::from_nanos(u64::from(elapsed_units) * 1_000_000_000 / rate);
            if arrival > slot + LATE_AFTER {
                self.late += 1;
            }
        }
        if let Some(last) = self.last_arrival {
            self.longest_gap = self.longest_gap.max(arrival.saturating_sub(last));
        }
        self.last_arrival = Some(arrival);
    }

    /// Closes a one-second sample for the time series.
    pub fn end_second(&mut self) {
        self.per_second
            .push((self.jitter_ms(), self.second_packets));
        self.second_packets = 0;
    }

    /// Interarrival jitter in ms.
    pub fn jitter_ms(&self) -> f64 {
        self.jitter.jitter_ms(self.clock_rate_hz)
    }

    /// Packets expected from the sequence numbers seen.
    pub fn expected(&self) -> u64 {
        self.seq.expected()
    }

    /// Packets lost (RFC 3550 A.3; negative with duplicates).
    pub fn lost(&self) -> i64 {
        self.seq.lost()
    }
}
