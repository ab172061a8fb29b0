//! Sender clock drift of ±0.5 % over a minute stays bounded: a fast sender
//! makes the depth creep up and the buffer sheds silent frames to hold it
//! near target; a slow sender drains the buffer and the occasional held
//! conceal restores it. Talk spurts of 3 s alternate with 1 s of silence
//! (level 127) on a continuous packet stream.

mod jitter_support;

use jitter_support::{Arrival, Sim, STEP, TICK_US};
use media_core::jitter::{JitterConfig, JitterStats};

/// 60 s of packets from a sender whose 20 ms is `ppm_fast` parts per
/// million shorter (or longer, if negative) than ours.
fn skewed(ppm_fast: i64) -> Vec<Arrival> {
    let period_us = 20_000 * (1_000_000 - ppm_fast) / 1_000_000;
    (0..3_000u32)
        .map(|k| Arrival {
            at_us: (i64::from(k) * period_us + 10_000) as u64,
            ssrc: 3,
            seq: k as u16,
            ts: 77u32.wrapping_add(k * STEP),
            marker: k == 0,
            level: Some(if k % 200 >= 150 { 127 } else { 35 }),
        })
        .collect()
}

/// Runs 62 s of pops; returns the depth seen before each pop and the stats.
fn run(ppm_fast: i64) -> (Vec<u32>, JitterStats) {
    let mut sim = Sim::new(JitterConfig::opus());
    sim.schedule(&skewed(ppm_fast));
    let mut depths = Vec::new();
    sim.run_until(3_100 * TICK_US, |sim, _| depths.push(sim.jb.depth_ms()));
    (depths, sim.stats())
}

#[test]
fn jitter_fast_sender_depth_is_shed_at_silence() {
    let config = JitterConfig::opus();
    let (depths, s) = run(5_000);
    // 0.5 % of 60 s is 300 ms of surplus media: without shedding the depth
    // would sit at the maximum (and overflow) after ~30 s.
    assert!(s.shed >= 10, "{s:?}");
    assert_eq!(s.discarded, s.shed, "only silent frames dropped: {s:?}");
    assert!(depths
        .iter()
        .all(|&d| d <= config.delay_max_ms + config.frame_ms));
    let late_half = &depths[1_500..2_900];
    let worst = late_half.iter().copied().max().unwrap_or(0);
    assert!(
        worst <= s.target_delay_ms + 3 * config.frame_ms,
        "depth {worst} ms: {s:?}"
    );
    assert_eq!((s.lost, s.late), (0, 0), "{s:?}");
}

#[test]
fn jitter_slow_sender_underruns_are_bounded() {
    let config = JitterConfig::opus();
    let (depths, s) = run(-5_000);
    // One frame drains every 4 s: about 15 held conceals in a minute, each
    // waiting for a packet that then plays, plus the 10 that end the stream.
    assert!(s.underruns >= 5 && s.underruns <= 30, "{s:?}");
    assert_eq!((s.lost, s.late, s.discarded), (0, 0, 0), "{s:?}");
    assert_eq!(s.played, 3_000, "{s:?}");
    assert!(s.target_delay_ms <= 60, "{s:?}");
    assert!(depths
        .iter()
        .all(|&d| d <= config.delay_max_ms + config.frame_ms));
    assert!(
        depths[1_000..2_900].iter().all(|&d| d <= 60),
        "no unbounded growth"
    );
}
