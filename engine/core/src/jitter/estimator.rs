//! Delay variation: a high percentile of relative transit over a sliding
//! window of packets, minus the window's minimum.
//!
//! Relative transit is arrival time minus media time (RFC 3550 §6.4.1's
//! `D`), both counted from the stream's first packet. Its absolute value
//! carries the unknown clock offset and means nothing; its spread above the
//! fastest recent packet is the delay a packet needs to be played in time.
//! The percentile is recomputed only every [`ESTIMATE_EVERY_PACKETS`]
//! packets (a linear selection on a preallocated copy), so the per-packet
//! cost is one division and one store.

use std::time::Instant;

/// Packets between percentile passes once the window has filled a little.
pub(crate) const ESTIMATE_EVERY_PACKETS: u32 = 16;
/// Percentile of transit that must be played in time.
const TRANSIT_PERCENTILE: usize = 95;

/// RTP timestamp unwrapping state for the current stream.
#[derive(Clone, Copy, Debug)]
struct Unwrap {
    highest_ts: u32,
    highest_ext: i64,
}

/// Sliding-window delay-variation estimator.
#[derive(Debug)]
pub(crate) struct DelayEstimator {
    transit_us: Vec<i64>,
    scratch_us: Vec<i64>,
    filled: usize,
    cursor: usize,
    since_estimate: u32,
    clock_rate_hz: i64,
    /// A transit step larger than this is a new sender timeline, not jitter.
    timeline_jump_us: i64,
    last_transit_us: Option<i64>,
    epoch: Option<Instant>,
    unwrap: Option<Unwrap>,
}

impl DelayEstimator {
    /// Allocates a window of `window_packets` (≥ 1) samples.
    pub fn new(window_packets: usize, clock_rate_hz: u32, timeline_jump_ms: u32) -> Self {
        let window_packets = window_packets.max(1);
        Self {
            transit_us: vec![0; window_packets],
            scratch_us: vec![0; window_packets],
            filled: 0,
            cursor: 0,
            since_estimate: 0,
            clock_rate_hz: i64::from(clock_rate_hz.max(1)),
            timeline_jump_us: i64::from(timeline_jump_ms) * 1_000,
            last_transit_us: None,
            epoch: None,
            unwrap: None,
        }
    }

    /// Forgets the stream: a new SSRC or timeline has an unrelated transit offset.
    pub fn reset_stream(&mut self) {
        self.filled = 0;
        self.cursor = 0;
        self.since_estimate = 0;
        self.unwrap = None;
        self.last_transit_us = None;
    }

    /// Forgets everything, including the arrival-time origin.
    pub fn reset(&mut self) {
        self.reset_stream();
        self.epoch = None;
    }

    /// Records one arrival; returns a fresh delay variation (µs) when one was computed.
    pub fn observe(&mut self, now: Instant, ts: u32) -> Option<i64> {
        let epoch = *self.epoch.get_or_insert(now);
        let arrival_us =
            i64::try_from(now.saturating_duration_since(epoch).as_micros()).unwrap_or(i64::MAX);
        let ext = match self.unwrap {
            None => {
                self.unwrap = Some(Unwrap {
                    highest_ts: ts,
                    highest_ext: 0,
                });
                0
            }
            Some(mut u) => {
                let ext = u.highest_ext + i64::from(ts.wrapping_sub(u.highest_ts) as i32);
                if ext > u.highest_ext {
                    u.highest_ts = ts;
                    u.highest_ext = ext;
                    self.unwrap = Some(u);
                }
                ext
            }
        };
        let media_us = ext.saturating_mul(1_000_000) / self.clock_rate_hz;
        let transit_us = arrival_us.saturating_sub(media_us);
        if self
            .last_transit_us
            .is_some_and(|last| transit_us.abs_diff(last) > self.timeline_jump_us.unsigned_abs())
        {
            // The sender moved its timestamps (say, across a silence without
            // an SSRC change): the old samples measure another offset and
            // would read as seconds of jitter.
            self.filled = 0;
            self.cursor = 0;
        }
        self.last_transit_us = Some(transit_us);
        self.transit_us[self.cursor] = transit_us;
        self.cursor = (self.cursor + 1) % self.transit_us.len();
        self.filled = (self.filled + 1).min(self.transit_us.len());
        self.since_estimate += 1;
        // Re-estimate on every packet while the window is young so the first
        // talk spurt already adapts, then only every few packets.
        if self.filled as u32 <= ESTIMATE_EVERY_PACKETS
            || self.since_estimate >= ESTIMATE_EVERY_PACKETS
        {
            self.since_estimate = 0;
            Some(self.variation_us())
        } else {
            None
        }
    }

    /// Percentile transit minus minimum transit over the window, in µs.
    fn variation_us(&mut self) -> i64 {
        let n = self.filled;
        if n == 0 {
            return 0;
        }
        let scratch = &mut self.scratch_us[..n];
        scratch.copy_from_slice(&self.transit_us[..n]);
        let rank = (n * TRANSIT_PERCENTILE).div_ceil(100).clamp(1, n) - 1;
        let (below, &mut high, _) = scratch.select_nth_unstable(rank);
        let low = below.iter().copied().fold(high, i64::min);
        high - low
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[allow(clippy::disallowed_methods)] // test clock origin
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn steady_stream_has_no_variation() {
        let t0 = t0();
        let mut e = DelayEstimator::new(100, 48_000, 600);
        let mut last = None;
        for k in 0..200u32 {
            let ts = k.wrapping_mul(960).wrapping_add(u32::MAX - 50_000); // crosses the wrap
            if let Some(v) = e.observe(t0 + Duration::from_millis(u64::from(k) * 20), ts) {
                last = Some(v);
            }
        }
        assert_eq!(last, Some(0));
    }

    #[test]
    fn spread_is_a_high_percentile() {
        let t0 = t0();
        let mut e = DelayEstimator::new(100, 8_000, 600);
        let mut last = 0;
        // Every tenth packet 40 ms late, the rest on time: p95 sees the 40 ms.
        for k in 0..100u32 {
            let late_ms = if k % 10 == 0 { 40 } else { 0 };
            let at = t0 + Duration::from_millis(u64::from(k) * 20 + late_ms);
            if let Some(v) = e.observe(at, k * 160) {
                last = v;
            }
        }
        assert_eq!(last, 40_000);
    }

    #[test]
    fn timeline_jump_restarts_the_window() {
        let t0 = t0();
        let mut e = DelayEstimator::new(100, 8_000, 600);
        let mut last = None;
        for k in 0..100u32 {
            // Halfway the sender's timestamps leap 10 s ahead.
            let ts = k * 160 + if k >= 50 { 80_000 } else { 0 };
            last = e
                .observe(t0 + Duration::from_millis(u64::from(k) * 20), ts)
                .or(last);
        }
        assert_eq!(last, Some(0));
    }
}
