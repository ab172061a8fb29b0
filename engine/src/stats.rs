//! What shards report to the control plane: counters, per-participant
//! snapshots and the engine-added latency histogram (arrival of a frame →
//! send of the first mix containing it).

use std::time::{Duration, Instant};

use media_core::jitter::JitterStats;
use media_core::mixer::{ParticipantCounters, ParticipantId, RoomCounters};

use crate::api::RoomId;

/// Width of one latency bucket, µs.
pub const LATENCY_BUCKET_US: u64 = 250;
/// Buckets of `LATENCY_BUCKET_US` (0–200 ms); slower frames go to `overflow`.
pub const LATENCY_BUCKETS: usize = 800;

/// A fixed-size latency histogram: recording never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencyHistogram {
    buckets: [u64; LATENCY_BUCKETS],
    overflow: u64,
    count: u64,
    sum_us: u64,
    max_us: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            buckets: [0; LATENCY_BUCKETS],
            overflow: 0,
            count: 0,
            sum_us: 0,
            max_us: 0,
        }
    }
}

impl LatencyHistogram {
    /// Records one sample.
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        match self.buckets.get_mut((us / LATENCY_BUCKET_US) as usize) {
            Some(b) => *b += 1,
            None => self.overflow += 1,
        }
        self.count += 1;
        self.sum_us = self.sum_us.saturating_add(us);
        self.max_us = self.max_us.max(us);
    }

    /// Adds another histogram's samples.
    pub fn merge(&mut self, other: &Self) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a += b;
        }
        self.overflow += other.overflow;
        self.count += other.count;
        self.sum_us = self.sum_us.saturating_add(other.sum_us);
        self.max_us = self.max_us.max(other.max_us);
    }

    /// The samples recorded after `earlier`, a snapshot of this same
    /// histogram taken before: buckets, count and sum subtract (saturating,
    /// so a mismatched pair gives an empty window rather than a panic).
    /// The window's max is exact when it is above `earlier`'s max (it was
    /// recorded in the window); otherwise the sample sum cannot tell it, so
    /// it is the upper edge of the highest non-empty window bucket (at most
    /// `LATENCY_BUCKET_US` above the truth), or this histogram's max when
    /// window samples fell in the overflow.
    pub fn since(&self, earlier: &Self) -> Self {
        let mut w = Self::default();
        for ((d, a), b) in w
            .buckets
            .iter_mut()
            .zip(&self.buckets)
            .zip(&earlier.buckets)
        {
            *d = a.saturating_sub(*b);
        }
        w.overflow = self.overflow.saturating_sub(earlier.overflow);
        w.count = self.count.saturating_sub(earlier.count);
        w.sum_us = self.sum_us.saturating_sub(earlier.sum_us);
        w.max_us = if w.count == 0 {
            0
        } else if self.max_us > earlier.max_us || w.overflow > 0 {
            self.max_us
        } else {
            w.buckets
                .iter()
                .rposition(|&c| c > 0)
                .map_or(0, |i| ((i as u64 + 1) * LATENCY_BUCKET_US).min(self.max_us))
        };
        w
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Largest sample.
    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max_us)
    }

    /// Mean sample.
    pub fn mean(&self) -> Duration {
        Duration::from_micros(self.sum_us.checked_div(self.count).unwrap_or(0))
    }

    /// The upper edge of the bucket holding the `q` quantile (0.0–1.0);
    /// the max when it falls in the overflow.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b;
            if seen >= rank {
                return Duration::from_micros((i as u64 + 1) * LATENCY_BUCKET_US);
            }
        }
        self.max()
    }

    /// Non-empty buckets as (upper edge, count), for printing.
    pub fn nonzero_buckets(&self) -> impl Iterator<Item = (Duration, u64)> + '_ {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| (Duration::from_micros((i as u64 + 1) * LATENCY_BUCKET_US), c))
    }
}

/// Shard-wide counters since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardCounters {
    /// Datagrams received on media sockets.
    pub rx_datagrams: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Receive-ring drains (one before each tick, one per tick period while
    /// rooms are idle).
    pub rx_drains: u64,
    /// `io_uring_enter` calls those drains made (the kernel runs about 20
    /// sockets' receive work per call).
    pub rx_enters: u64,
    /// Multishot receives re-armed after they ended (`ENOBUFS`, errors).
    pub rx_rearms: u64,
    /// Multishot receives that ended because every provided buffer was in use.
    pub rx_no_buffers: u64,
    /// Completions left over from removed participants (buffer recycled).
    pub rx_stale: u64,
    /// Datagrams from an address other than the admitted (or latched) one.
    pub spoofed_dropped: u64,
    /// RTP from an SSRC other than the admitted (or latched) one.
    pub wrong_ssrc_dropped: u64,
    /// Datagrams over the participant's bitrate cap.
    pub over_cap_dropped: u64,
    /// Datagrams refused by the mixer (malformed, wrong payload type).
    pub rtp_rejected: u64,
    /// Source addresses latched (symmetric RTP).
    pub latched: u64,
    /// RTCP packets received and parsed.
    pub rtcp_in: u64,
    /// RTCP packets that did not parse.
    pub rtcp_malformed: u64,
    /// RTCP packets sent.
    pub rtcp_out: u64,
    /// Mix packets sent.
    pub tx_packets: u64,
    /// Mix packets dropped because the socket buffer was full.
    pub tx_would_block: u64,
    /// Other send errors.
    pub tx_errors: u64,
    /// Tick wake-ups that mixed at least one room (rooms have their own
    /// phases, so a shard wakes once per phase in use per period).
    pub ticks: u64,
    /// Room ticks found a whole period or more after their deadline (one per
    /// room and event).
    pub tick_overruns: u64,
    /// Room deadlines skipped because of an overrun (beyond the two caught up).
    pub ticks_skipped: u64,
    /// Wake-ups more than `late_output_ms` after the earliest due deadline.
    pub late_ticks: u64,
    /// Output frames sent more than `late_output_ms` after their room's deadline.
    pub late_frames: u64,
    /// Output frames sent (or attempted).
    pub frames_out: u64,
    /// Room ticks run (one per active room per shard tick).
    pub room_ticks: u64,
    /// Rooms whose tick moved later a period after waking, away from a
    /// member's arrival time.
    pub ticks_moved: u64,
    /// Times the tick timer stopped because every room went idle.
    pub idle_parks: u64,
    /// Stats reports dropped because the shard → control queue was full.
    pub reports_dropped: u64,
    /// Commands handled.
    pub commands: u64,
    /// Participants reported as timed out (silent past `media_timeout_ms`).
    pub media_timeouts: u64,
}

/// One participant's snapshot.
#[derive(Clone, Copy, Debug)]
pub struct ParticipantStats {
    /// Its room.
    pub room: RoomId,
    /// The participant.
    pub id: ParticipantId,
    /// The mixer's counters.
    pub mixer: ParticipantCounters,
    /// Its jitter buffer.
    pub jitter: JitterStats,
    /// Current jitter-buffer depth, ms.
    pub jitter_depth_ms: u32,
    /// Current jitter-buffer target, ms.
    pub jitter_target_ms: u32,
    /// Datagrams from a wrong source address.
    pub spoofed_dropped: u64,
    /// RTP with a wrong SSRC.
    pub wrong_ssrc_dropped: u64,
    /// Datagrams over the bitrate cap.
    pub over_cap_dropped: u64,
    /// The cap dropped something since the participant joined.
    pub over_cap: bool,
    /// Inbound cap in bit/s (0 = none).
    pub bitrate_cap_bps: u32,
    /// Mix packets sent to it.
    pub packets_sent: u64,
    /// Silent past `media_timeout_ms` (having sent before).
    pub timed_out: bool,
    /// It sent an RTCP BYE.
    pub bye: bool,
    /// Interarrival jitter of its stream as the engine measured it, ms.
    pub arrival_jitter_ms: f64,
    /// Packets of its stream lost (RFC 3550 A.3), as the engine measured.
    pub lost: i64,
    /// Round-trip time from its last RR/SR about our stream.
    pub rtt: Option<Duration>,
    /// Fraction of our stream it reported lost (0–255 = 0–100 %).
    pub remote_fraction_lost: Option<u8>,
    /// Jitter of our stream it reported, in timestamp units.
    pub remote_jitter: Option<u32>,
    /// RTCP reports received from it.
    pub rtcp_reports_in: u64,
    /// Sender reports sent to it.
    pub sr_sent: u64,
}

/// A shard's snapshot, pushed over the bounded shard → control queue.
#[derive(Clone, Debug)]
pub struct ShardReport {
    /// Which shard.
    pub shard: usize,
    /// Increases with every report; answers `Engine::snapshot` requests.
    pub seq: u64,
    /// When it was taken.
    pub at: Instant,
    /// Shard counters.
    pub counters: ShardCounters,
    /// Engine-added latency since start.
    pub latency: LatencyHistogram,
    /// Wall time of each tick wake-up (the rooms due mixed and sent).
    pub tick_work: LatencyHistogram,
    /// CPU time of each tick wake-up (excludes time the shard thread was descheduled).
    pub tick_cpu: LatencyHistogram,
    /// Rooms on the shard.
    pub rooms: usize,
    /// Rooms being ticked (not idle).
    pub active_rooms: usize,
    /// Sum of the rooms' mixer counters (including destroyed rooms).
    pub mixer: RoomCounters,
    /// Every participant on the shard.
    pub participants: Vec<ParticipantStats>,
}

/// The control plane's view: the latest report of each shard.
#[derive(Clone, Debug, Default)]
pub struct EngineStats {
    /// Latest report per shard (`None` before the first).
    pub shards: Vec<Option<ShardReport>>,
    /// Reports the control plane drained so far.
    pub reports_received: u64,
    /// Per shard: Engine API calls refused with `EngineError::QueueFull`
    /// because its control → shard command queue was full.
    pub commands_refused: Vec<u64>,
}

impl EngineStats {
    /// Counters summed over shards.
    pub fn counters(&self) -> ShardCounters {
        let mut total = ShardCounters::default();
        for r in self.shards.iter().flatten() {
            let c = &r.counters;
            macro_rules! add {
                ($($f:ident),*) => { $( total.$f += c.$f; )* };
            }
            add!(
                rx_datagrams,
                rx_errors,
                rx_drains,
                rx_enters,
                rx_rearms,
                rx_no_buffers,
                rx_stale,
                spoofed_dropped,
                wrong_ssrc_dropped,
                over_cap_dropped,
                rtp_rejected,
                latched,
                rtcp_in,
                rtcp_malformed,
                rtcp_out,
                tx_packets,
                tx_would_block,
                tx_errors,
                ticks,
                tick_overruns,
                ticks_skipped,
                late_ticks,
                late_frames,
                frames_out,
                room_ticks,
                ticks_moved,
                idle_parks,
                reports_dropped,
                commands,
                media_timeouts
            );
        }
        total
    }

    /// Latency histograms merged over shards.
    pub fn latency(&self) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        for r in self.shards.iter().flatten() {
            h.merge(&r.latency);
        }
        h
    }

    /// Tick work-time histograms merged over shards.
    pub fn tick_work(&self) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        for r in self.shards.iter().flatten() {
            h.merge(&r.tick_work);
        }
        h
    }

    /// Tick CPU-time histograms merged over shards.
    pub fn tick_cpu(&self) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        for r in self.shards.iter().flatten() {
            h.merge(&r.tick_cpu);
        }
        h
    }

    /// One participant's latest snapshot.
    pub fn participant(&self, id: ParticipantId) -> Option<&ParticipantStats> {
        self.shards
            .iter()
            .flatten()
            .flat_map(|r| r.participants.iter())
            .find(|p| p.id == id)
    }

    /// A one-line summary for logs.
    pub fn summary(&self) -> String {
        let c = self.counters();
        let l = self.latency();
        let rooms: usize = self.shards.iter().flatten().map(|r| r.rooms).sum();
        let active: usize = self.shards.iter().flatten().map(|r| r.active_rooms).sum();
        let participants: usize = self
            .shards
            .iter()
            .flatten()
            .map(|r| r.participants.len())
            .sum();
        format!(
            "rooms={rooms} active={active} participants={participants} rx={} tx={} spoofed={} \
             over_cap={} ticks={} overruns={} late_frames={} latency_p50={:?} p99={:?} max={:?}",
            c.rx_datagrams,
            c.tx_packets,
            c.spoofed_dropped,
            c.over_cap_dropped,
            c.ticks,
            c.tick_overruns,
            c.late_frames,
            l.quantile(0.5),
            l.quantile(0.99),
            l.max()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_bucket_edges() {
        let mut h = LatencyHistogram::default();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.quantile(0.5), Duration::from_micros(50_250));
        assert_eq!(h.quantile(0.99), Duration::from_micros(99_250));
        h.record(Duration::from_secs(3));
        assert_eq!(h.quantile(1.0), Duration::from_secs(3));
    }

    #[test]
    fn since_keeps_only_the_later_samples() {
        let mut h = LatencyHistogram::default();
        // Before the window: slow samples (a warm-up) and one overflow.
        for ms in [40u64, 60, 80] {
            h.record(Duration::from_millis(ms));
        }
        h.record(Duration::from_secs(1));
        let earlier = h;
        for ms in [2u64, 4, 6] {
            h.record(Duration::from_millis(ms));
        }
        let w = h.since(&earlier);
        assert_eq!(w.count(), 3);
        assert_eq!(w.mean(), Duration::from_millis(4));
        assert_eq!(w.quantile(1.0), Duration::from_micros(6_250));
        // Below the earlier max: the highest window bucket's upper edge.
        assert_eq!(w.max(), Duration::from_micros(6_250));
        assert_eq!(w.nonzero_buckets().count(), 3);
        // A new max inside the window is exact.
        h.record(Duration::from_millis(1_500));
        let w = h.since(&earlier);
        assert_eq!(w.count(), 4);
        assert_eq!(w.max(), Duration::from_millis(1_500));
        // Nothing after the snapshot: an empty window.
        let w = earlier.since(&earlier);
        assert_eq!(
            (w.count(), w.max(), w.mean()),
            (0, Duration::ZERO, Duration::ZERO)
        );
        // The wrong way round saturates to empty instead of panicking.
        assert_eq!(earlier.since(&h).count(), 0);
    }
}
