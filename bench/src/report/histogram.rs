//! A fixed-bucket log-linear latency histogram: bounded memory, no
//! allocation per sample, mergeable across guardians and threads.
//!
//! Values are recorded in whole microseconds. Below 128 µs every value has
//! its own bucket; above, each power of two is split into 64 equal buckets,
//! so a bucket is at most 1/64 of its lower bound wide. Percentiles report
//! the bucket's midpoint (clamped to the exact minimum and maximum seen), so
//! a reported percentile is within 1/128 of the exact nearest-rank value
//! plus 1 µs of rounding. Values past [`Histogram::VALUE_MAX_US`] (about 38
//! hours) are counted in the last bucket; the exact maximum is kept apart.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::stats::{nearest_rank, Summary};

/// Buckets below this value are one microsecond wide.
const LINEAR_BUCKETS: usize = 128;
/// log2 of the buckets per power of two above the linear range.
const SUB_BITS: u32 = 6;
const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// Highest power of two covered (values below 2^37 µs).
const TOP_BIT: u32 = 37;
const BUCKETS: usize = LINEAR_BUCKETS + (TOP_BIT as usize - 7) * SUB_BUCKETS;
const _: () = assert!(LINEAR_BUCKETS == 2 * SUB_BUCKETS);
const _: () = assert!(BUCKETS == 2048);

/// Latency histogram (16 KiB of counters, allocated once).
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    sum_us: u128,
    min_us: u64,
    max_us: u64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count)
            .field("min_us", &self.min_us)
            .field("max_us", &self.max_us)
            .finish_non_exhaustive()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    /// Largest value with its own bucket, in microseconds.
    pub const VALUE_MAX_US: u64 = (1 << TOP_BIT) - 1;

    /// An empty histogram.
    pub fn new() -> Self {
        Self {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            sum_us: 0,
            min_us: u64::MAX,
            max_us: 0,
        }
    }

    fn index(value_us: u64) -> usize {
        let v = value_us.min(Self::VALUE_MAX_US);
        if v < LINEAR_BUCKETS as u64 {
            return v as usize;
        }
        let msb = 63 - v.leading_zeros(); // 7..TOP_BIT
        let shift = msb - SUB_BITS;
        let sub = (v >> shift) as usize - SUB_BUCKETS; // 0..64
        LINEAR_BUCKETS + (msb as usize - 7) * SUB_BUCKETS + sub
    }

    /// The lowest value and the width of bucket `index`, in microseconds.
    fn bucket_range(index: usize) -> (u64, u64) {
        if index < LINEAR_BUCKETS {
            return (index as u64, 1);
        }
        let octave = (index - LINEAR_BUCKETS) / SUB_BUCKETS; // msb - 7
        let sub = ((index - LINEAR_BUCKETS) % SUB_BUCKETS + SUB_BUCKETS) as u64;
        let shift = octave as u32 + 7 - SUB_BITS;
        (sub << shift, 1 << shift)
    }

    /// Records one value in microseconds.
    pub fn record_us(&mut self, value_us: u64) {
        let i = Self::index(value_us);
        self.counts[i] += 1;
        self.count += 1;
        self.sum_us += u128::from(value_us);
        self.min_us = self.min_us.min(value_us);
        self.max_us = self.max_us.max(value_us);
    }

    /// Records one duration (saturating at `u64::MAX` µs).
    pub fn record(&mut self, value: Duration) {
        self.record_us(u64::try_from(value.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records one value in milliseconds; negative and non-finite values are
    /// dropped (a latency cannot be negative: such a sample is a clock bug).
    pub fn record_ms(&mut self, value_ms: f64) {
        if value_ms.is_finite() && value_ms >= 0.0 {
            // Saturating float-to-int cast.
            self.record_us((value_ms * 1000.0).round() as u64);
        }
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.count += other.count;
        self.sum_us += other.sum_us;
        self.min_us = self.min_us.min(other.min_us);
        self.max_us = self.max_us.max(other.max_us);
    }

    /// Number of recorded samples.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean in milliseconds (exact).
    pub fn mean_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_us as f64 / self.count as f64 / 1000.0)
    }

    /// Largest recorded value in milliseconds (exact).
    pub fn max_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.max_us as f64 / 1000.0)
    }

    /// Smallest recorded value in milliseconds (exact).
    pub fn min_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.min_us as f64 / 1000.0)
    }

    /// Nearest-rank percentile `p` (0..=100) in milliseconds, as the
    /// midpoint of the bucket holding that rank.
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = nearest_rank(p, self.count);
        // The extremes are kept exactly; no need to approximate them.
        if rank == self.count {
            return self.max_ms();
        }
        if rank == 1 {
            return self.min_ms();
        }
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (low, width) = Self::bucket_range(i);
                let mid = low as f64 + (width - 1) as f64 / 2.0;
                let clamped = mid.clamp(self.min_us as f64, self.max_us as f64);
                return Some(clamped / 1000.0);
            }
        }
        self.max_ms()
    }

    /// Count, mean, P50/P95/P99 and maximum, all in milliseconds.
    pub fn summary(&self) -> Summary {
        Summary {
            count: self.count,
            avg: self.mean_ms(),
            p50: self.percentile_ms(50.0),
            p95: self.percentile_ms(95.0),
            p99: self.percentile_ms(99.0),
            max: self.max_ms(),
        }
    }

    /// The non-empty buckets, for the report's CDF plots.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let buckets = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| {
                let (low, width) = Self::bucket_range(i);
                // The bucket's upper edge, but never past the true maximum.
                let upper = (low + width - 1).min(self.max_us);
                [upper as f64 / 1000.0, c as f64]
            })
            .collect();
        HistogramSnapshot { buckets }
    }
}

/// A serialised latency distribution: `[upper_bound_ms, count]` for each
/// non-empty bucket in ascending order. At most 2048 entries whatever the
/// run length.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistogramSnapshot {
    /// `[upper_bound_ms, count]` pairs, ascending.
    pub buckets: Vec<[f64; 2]>,
}

impl HistogramSnapshot {
    /// A snapshot with one bucket per distinct sample (for small sample sets
    /// that never went through a [`Histogram`]).
    pub fn from_samples(samples: &[f64]) -> Self {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        let mut buckets: Vec<[f64; 2]> = Vec::new();
        for v in sorted {
            match buckets.last_mut() {
                Some(last) if last[0] == v => last[1] += 1.0,
                _ => buckets.push([v, 1.0]),
            }
        }
        Self { buckets }
    }

    /// The cumulative distribution: `(value_ms, fraction ≤ value)` points,
    /// ascending, ignoring malformed entries. Empty when there is no sample.
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        let valid = |b: &&[f64; 2]| b[0].is_finite() && b[1].is_finite() && b[1] > 0.0;
        let total: f64 = self.buckets.iter().filter(valid).map(|b| b[1]).sum();
        if total <= 0.0 {
            return Vec::new();
        }
        let mut sorted: Vec<[f64; 2]> = self.buckets.iter().filter(valid).copied().collect();
        sorted.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let mut seen = 0.0;
        sorted
            .iter()
            .map(|b| {
                seen += b[1];
                (b[0], seen / total)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_range_without_gaps() {
        let mut next = 0u64;
        for i in 0..BUCKETS {
            let (low, width) = Histogram::bucket_range(i);
            assert_eq!(low, next, "bucket {i}");
            assert_eq!(Histogram::index(low), i);
            assert_eq!(Histogram::index(low + width - 1), i);
            next = low + width;
        }
        assert_eq!(next, Histogram::VALUE_MAX_US + 1);
        assert_eq!(Histogram::index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = Histogram::new();
        for v in [5u64, 7, 9] {
            h.record_us(v);
        }
        assert_eq!(h.percentile_ms(50.0), Some(0.007));
        assert_eq!(h.mean_ms(), Some(0.007));
    }

    #[test]
    fn empty_histogram_has_no_figures() {
        let h = Histogram::new();
        assert_eq!(h.summary(), Summary::default());
        assert!(h.snapshot().cdf().is_empty());
    }
}
