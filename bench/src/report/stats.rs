//! Summary statistics over latency samples, and RFC 3550 interarrival
//! jitter in milliseconds.
//!
//! Percentiles are nearest-rank: the P-th percentile of `n` sorted samples
//! is the sample at rank `ceil(P / 100 * n)` (1-based, at least 1). It is
//! always a value that was measured, never an interpolation, and P100 is the
//! maximum. This is the definition the histogram in
//! [`super::histogram`] approximates.

use std::time::Duration;

use media_core::rtcp::InterarrivalJitter;
use serde::{Deserialize, Serialize};

/// The 1-based nearest rank of percentile `p` among `n` samples (`n > 0`).
pub(crate) fn nearest_rank(p: f64, n: u64) -> u64 {
    let p = if p.is_nan() {
        100.0
    } else {
        p.clamp(0.0, 100.0)
    };
    // The product is exact enough: n is far below 2^52 for any run.
    let rank = (p / 100.0 * n as f64).ceil() as u64;
    rank.clamp(1, n)
}

/// The nearest-rank percentile `p` (0..=100) of samples already sorted in
/// ascending order; `None` when there are none.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = nearest_rank(p, sorted.len() as u64);
    sorted.get(rank as usize - 1).copied()
}

/// The nearest-rank percentile `p` (0..=100) of `samples`, sorting them in
/// place. Non-finite samples are moved to the end and ignored.
pub fn percentile(samples: &mut [f64], p: f64) -> Option<f64> {
    samples.sort_unstable_by(|a, b| finite_first(*a, *b));
    let finite = samples.iter().take_while(|v| v.is_finite()).count();
    percentile_sorted(&samples[..finite], p)
}

fn finite_first(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_finite(), b.is_finite()) {
        (true, true) => a.total_cmp(&b),
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => std::cmp::Ordering::Equal,
    }
}

/// Count, mean and nearest-rank percentiles of one measured quantity. Every
/// figure is `None` (JSON `null`) when nothing was measured, so the JSON keeps
/// its shape whether or not a measurement ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of samples behind the figures.
    #[serde(default)]
    pub count: u64,
    /// Arithmetic mean.
    #[serde(default)]
    pub avg: Option<f64>,
    /// Median.
    #[serde(default)]
    pub p50: Option<f64>,
    /// 95th percentile.
    #[serde(default)]
    pub p95: Option<f64>,
    /// 99th percentile.
    #[serde(default)]
    pub p99: Option<f64>,
    /// Largest sample.
    #[serde(default)]
    pub max: Option<f64>,
}

impl Summary {
    /// Summarises `samples` (non-finite ones are ignored). Allocates one copy
    /// to sort: meant for the end of a run, not the per-packet path.
    pub fn from_samples(samples: &[f64]) -> Self {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        if sorted.is_empty() {
            return Self::default();
        }
        let sum: f64 = sorted.iter().sum();
        Self {
            count: sorted.len() as u64,
            avg: Some(sum / sorted.len() as f64),
            p50: percentile_sorted(&sorted, 50.0),
            p95: percentile_sorted(&sorted, 95.0),
            p99: percentile_sorted(&sorted, 99.0),
            max: sorted.last().copied(),
        }
    }

    /// True when at least one sample was measured.
    pub fn is_measured(&self) -> bool {
        self.count > 0
    }
}

/// RFC 3550 interarrival jitter of one received stream, in milliseconds.
///
/// A thin adapter over [`InterarrivalJitter`] (the engine's own RTCP
/// estimator, so the generator and the engine agree to the bit): it converts
/// arrival times to the stream's RTP clock. Arrival times may have any origin
/// but must share one per stream; the conversion wraps like RTP timestamps.
#[derive(Clone, Copy, Debug)]
pub struct JitterMeter {
    estimator: InterarrivalJitter,
    clock_rate_hz: u32,
}

impl JitterMeter {
    /// A meter for a stream clocked at `clock_rate_hz` (48 000 for Opus,
    /// 8 000 for G.711).
    pub fn new(clock_rate_hz: u32) -> Self {
        Self {
            estimator: InterarrivalJitter::new(),
            clock_rate_hz,
        }
    }

    /// Feeds one packet: when it arrived and its RTP timestamp.
    pub fn update(&mut self, arrival: Duration, rtp_timestamp: u32) {
        self.estimator.update(
            arrival_rtp_units(arrival, self.clock_rate_hz),
            rtp_timestamp,
        );
    }

    /// The current estimate in milliseconds (0 before two packets).
    pub fn jitter_ms(&self) -> f64 {
        self.estimator.jitter_ms(self.clock_rate_hz)
    }
}

/// `arrival` expressed in ticks of a `clock_rate_hz` clock, modulo 2^32.
pub fn arrival_rtp_units(arrival: Duration, clock_rate_hz: u32) -> u32 {
    let ticks = arrival.as_nanos() * u128::from(clock_rate_hz) / 1_000_000_000;
    // Truncation is the point: RTP clocks wrap at 2^32.
    ticks as u32
}

/// The RFC 3550 interarrival jitter, in milliseconds, after feeding
/// `(arrival, rtp_timestamp)` pairs in arrival order.
pub fn interarrival_jitter_ms(
    packets: impl IntoIterator<Item = (Duration, u32)>,
    clock_rate_hz: u32,
) -> f64 {
    let mut meter = JitterMeter::new(clock_rate_hz);
    for (arrival, ts) in packets {
        meter.update(arrival, ts);
    }
    meter.jitter_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_matches_the_definition() {
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 0.0), Some(1.0));
        assert_eq!(percentile(&mut v, 10.0), Some(1.0));
        assert_eq!(percentile(&mut v, 11.0), Some(2.0));
        assert_eq!(percentile(&mut v, 50.0), Some(5.0));
        assert_eq!(percentile(&mut v, 95.0), Some(10.0));
        assert_eq!(percentile(&mut v, 100.0), Some(10.0));
        assert_eq!(percentile(&mut [], 50.0), None);
        assert_eq!(percentile(&mut [f64::NAN, 3.0], 100.0), Some(3.0));
    }

    #[test]
    fn summary_of_nothing_is_unmeasured() {
        let s = Summary::from_samples(&[f64::NAN]);
        assert!(!s.is_measured());
        assert_eq!(s.p95, None);
    }

    #[test]
    fn steady_stream_has_no_jitter_and_a_late_packet_shows() {
        let steady = (0..50u32).map(|i| (Duration::from_millis(u64::from(i) * 20), i * 960));
        assert_eq!(interarrival_jitter_ms(steady, 48_000), 0.0);
        // One packet 16 ms late: |D| = 16 ms twice, each adding 1/16.
        let late = (0..3u32).map(|i| {
            let extra = if i == 1 { 16 } else { 0 };
            (Duration::from_millis(u64::from(i) * 20 + extra), i * 960)
        });
        let j = interarrival_jitter_ms(late, 48_000);
        assert!((j - 1.9375).abs() < 0.05, "{j}");
    }
}
