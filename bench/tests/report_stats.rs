//! Statistics helpers: the log-linear histogram's percentiles stay within
//! its documented bucket error of exact nearest-rank percentiles on seeded
//! random data (several shapes), merging equals recording everything in one
//! histogram, and the jitter adapter matches the engine's RFC 3550 estimator.

mod report_fixture;

use std::time::Duration;

use bench::report::{percentile, Histogram, HistogramSnapshot, JitterMeter, Summary};
use media_core::rtcp::InterarrivalJitter;
use report_fixture::Rng;

/// |histogram − exact| allowed: half a bucket (≤ 1/128 of the value) plus
/// rounding to whole microseconds.
fn tolerance_ms(exact_ms: f64) -> f64 {
    exact_ms / 128.0 + 0.0011
}

fn check_against_exact(samples_ms: &mut [f64]) {
    let mut h = Histogram::new();
    for &v in samples_ms.iter() {
        h.record_ms(v);
    }
    // The histogram stores whole microseconds; compare with the same rounding.
    let mut rounded: Vec<f64> = samples_ms
        .iter()
        .map(|v| (v * 1000.0).round() / 1000.0)
        .collect();
    for p in [
        0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 100.0,
    ] {
        let exact = percentile(&mut rounded, p).unwrap();
        let approx = h.percentile_ms(p).unwrap();
        assert!(
            (approx - exact).abs() <= tolerance_ms(exact),
            "p{p}: histogram {approx} vs exact {exact}"
        );
    }
    let exact_mean = rounded.iter().sum::<f64>() / rounded.len() as f64;
    assert!((h.mean_ms().unwrap() - exact_mean).abs() < 1e-6);
    let max = rounded.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(h.max_ms(), Some(max));
    assert_eq!(h.percentile_ms(100.0), Some(max));
}

#[test]
fn percentiles_match_exact_on_random_latencies() {
    let mut rng = Rng::new(0x5EED);
    for shape in 0..4 {
        let mut samples: Vec<f64> = (0..20_000)
            .map(|_| match shape {
                // Uniform 0..200 ms.
                0 => rng.unit() * 200.0,
                // Normal around 30 ms.
                1 => rng.normal(30.0, 5.0).max(0.0),
                // Log-normal, microseconds to seconds.
                2 => (rng.normal(1.0, 2.0)).exp(),
                // Sub-millisecond engine timings.
                _ => rng.unit() * 0.9,
            })
            .collect();
        check_against_exact(&mut samples);
    }
}

#[test]
fn merge_equals_one_big_histogram() {
    let mut rng = Rng::new(9);
    let mut all = Histogram::new();
    let mut parts = vec![Histogram::new(), Histogram::new(), Histogram::new()];
    for i in 0..9_000 {
        let v = rng.normal(25.0, 8.0).abs();
        all.record_ms(v);
        parts[i % 3].record_ms(v);
    }
    let mut merged = Histogram::new();
    for p in &parts {
        merged.merge(p);
    }
    assert_eq!(merged.summary(), all.summary());
    assert_eq!(merged.snapshot(), all.snapshot());
}

#[test]
fn durations_and_bad_samples() {
    let mut h = Histogram::new();
    h.record(Duration::from_millis(20));
    h.record_ms(-1.0);
    h.record_ms(f64::NAN);
    h.record_ms(f64::INFINITY);
    assert_eq!(h.count(), 1);
    assert_eq!(h.percentile_ms(50.0), Some(20.0));
    h.record(Duration::from_secs(1_000_000)); // past the top bucket
    assert_eq!(h.count(), 2);
    assert_eq!(h.max_ms(), Some(1e9));
    assert_eq!(h.percentile_ms(100.0), Some(1e9));
}

#[test]
fn snapshot_cdf_reaches_one_and_is_bounded() {
    let mut rng = Rng::new(4);
    let mut h = Histogram::new();
    for _ in 0..100_000 {
        h.record_ms(rng.unit() * 10_000.0);
    }
    let snap = h.snapshot();
    assert!(snap.buckets.len() <= 2048);
    let cdf = snap.cdf();
    assert!(cdf.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
    assert!((cdf.last().unwrap().1 - 1.0).abs() < 1e-12);
    let small = HistogramSnapshot::from_samples(&[3.0, 1.0, 3.0, f64::NAN]);
    assert_eq!(small.buckets, vec![[1.0, 1.0], [3.0, 2.0]]);
    assert_eq!(small.cdf(), vec![(1.0, 1.0 / 3.0), (3.0, 1.0)]);
}

#[test]
fn summary_from_samples_uses_nearest_rank() {
    let samples: Vec<f64> = (1..=100).map(f64::from).collect();
    let s = Summary::from_samples(&samples);
    assert_eq!(
        (s.p50, s.p95, s.p99, s.max),
        (Some(50.0), Some(95.0), Some(99.0), Some(100.0))
    );
    assert_eq!(s.avg, Some(50.5));
    assert_eq!(s.count, 100);
}

#[test]
fn jitter_meter_matches_the_engine_estimator() {
    let mut rng = Rng::new(77);
    let clock = 48_000u32;
    let mut meter = JitterMeter::new(clock);
    let mut engine = InterarrivalJitter::new();
    // Start near the 32-bit wrap so the conversion's wrapping is exercised.
    let ts0 = u32::MAX - 10 * 960;
    for i in 0..500u32 {
        let arrival = Duration::from_micros(
            u64::from(i) * 20_000 + (rng.unit() * 8_000.0) as u64 + 3_600_000_000,
        );
        let ts = ts0.wrapping_add(i * 960);
        meter.update(arrival, ts);
        engine.update(
            (arrival.as_nanos() * u128::from(clock) / 1_000_000_000) as u32,
            ts,
        );
    }
    assert_eq!(meter.jitter_ms(), engine.jitter_ms(clock));
    // Uniform 0..8 ms delay: mean |D| = 8/3 ms.
    assert!(
        (1.5..4.0).contains(&meter.jitter_ms()),
        "{}",
        meter.jitter_ms()
    );
}
