//! A frame of delay that no packet needs is given back at once at the start
//! of a talk spurt, and later at the next silence (or quiet frame), even
//! when sub-millisecond arrival variation keeps the target at two frames; a stream whose packets arrive right at the pop keeps its frame
//! and does not oscillate between shedding and underruns.

mod jitter_support;

use jitter_support::{stream_packet, Lcg, Sim, TICK_US};
use media_core::jitter::JitterConfig;

const TS0: u32 = 0x1234_5678;

/// 10 s of packets `base_us` after their slot, ± `jitter_us` (uniform);
/// one frame in five is silent (level 127).
fn stream(base_us: i64, jitter_us: i64, seed: u64) -> Vec<jitter_support::Arrival> {
    let mut rng = Lcg(seed);
    (0..500u32)
        .map(|k| {
            let delay = base_us + rng.range(-jitter_us, jitter_us);
            let mut a = stream_packet(k, TS0, delay as u64);
            if k % 5 == 4 {
                a.level = Some(127);
            }
            a
        })
        .collect()
}

/// Runs `arrivals` with pops 9 ms after the packets' slots, then makes the
/// mixer skip one tick after 20 pops (well past the start of the talk
/// spurt, where an extra frame is dropped at once): from then on the
/// buffer is one frame deeper than needed. Returns the depth before each
/// pop from the skip on.
fn skip_one_tick(sim: &mut Sim, arrivals: &[jitter_support::Arrival]) -> Vec<u32> {
    sim.schedule(arrivals);
    sim.next_pop_us = 10_000;
    sim.run_until(10_000 + 19 * TICK_US, |_, _| {});
    sim.next_pop_us += TICK_US;
    let mut depth_before_pop = Vec::new();
    sim.run_until(10_000 + 498 * TICK_US, |sim, _| {
        depth_before_pop.push(sim.jb.depth_ms());
    });
    depth_before_pop
}

#[test]
fn jitter_spare_frame_is_given_back_despite_sub_ms_variation() {
    let config = JitterConfig::opus();
    let mut sim = Sim::new(config);
    // Packets come 1 ms ± 0.3 ms after their slot; the mixer skips a tick
    // mid-spurt: the buffer is one frame deeper than needed, and the 0.6 ms
    // of variation makes the target two frames, so `depth ≥ target + frame`
    // never holds.
    let depth_before_pop = skip_one_tick(&mut sim, &stream(1_000, 300, 3));
    let s = sim.stats();
    assert_eq!(s.target_delay_ms, 40, "sub-ms variation: {s:?}");
    assert_eq!(depth_before_pop[0], 40, "one frame too deep after the skip");
    // Within a window (100 packets) and the next silence, one frame goes.
    assert_eq!(s.shed, 1, "{s:?}");
    assert!(
        depth_before_pop[200..470].iter().all(|&d| d == 20),
        "each packet is played at the first pop after it arrived: {:?}",
        &depth_before_pop[200..470]
    );
    assert_eq!((s.lost, s.late, s.underruns), (0, 0, 0), "{s:?}");
    assert_eq!(s.discarded, s.shed, "only the silent frame dropped: {s:?}");
}

#[test]
fn jitter_an_extra_frame_at_the_start_goes_at_once() {
    let config = JitterConfig::opus();
    let mut sim = Sim::new(config);
    // The first pop comes 29 ms after the first packet (say the mixer woke
    // late), by when the second packet is in too: the spurt settles at one
    // frame right away instead of waiting for a silence.
    sim.schedule(&stream(1_000, 300, 3));
    sim.next_pop_us = 30_000;
    let mut depth_before_pop = Vec::new();
    sim.run_until(30_000 + 100 * TICK_US, |sim, _| {
        depth_before_pop.push(sim.jb.depth_ms());
    });
    let s = sim.stats();
    assert_eq!(depth_before_pop[0], 40, "one frame too deep at first");
    assert!(
        depth_before_pop[1..].iter().all(|&d| d == 20),
        "{depth_before_pop:?}"
    );
    assert_eq!((s.shed, s.lost, s.underruns), (1, 0, 0), "{s:?}");
}

#[test]
fn jitter_packets_at_the_pop_keep_their_frame_without_oscillating() {
    let config = JitterConfig::opus();
    let mut sim = Sim::new(config);
    // Packets land 0.5 ms ± 1 ms before the pop: some after it.
    sim.schedule(&stream(19_500, 1_000, 5));
    sim.next_pop_us = 20_000;
    sim.run_until(20_000 + 520 * TICK_US, |_, _| {});
    let s = sim.stats();
    // One underrun gives the stream its frame; the 10 at the end close the
    // stream. No spare frame is ever found, so nothing is shed but, at most,
    // a frame two packets brought in by the same early pop at the start.
    assert!(s.underruns <= 10 + 2, "{s:?}");
    assert!(s.shed <= 1, "{s:?}");
    assert_eq!((s.lost, s.late), (0, 0), "{s:?}");
    assert_eq!(s.played + s.shed, 500, "{s:?}");
}

#[test]
fn jitter_spare_frame_is_given_back_at_quiet_background_noise() {
    let config = JitterConfig::opus();
    let mut sim = Sim::new(config);
    // A listener's stream: low noise at −63 dBov, never silent.
    let arrivals: Vec<_> = stream(1_000, 300, 9)
        .into_iter()
        .map(|mut a| {
            a.level = Some(63);
            a
        })
        .collect();
    let depth_before_pop = skip_one_tick(&mut sim, &arrivals);
    let s = sim.stats();
    assert_eq!(depth_before_pop[0], 40, "one frame too deep after the skip");
    assert_eq!(s.shed, 1, "{s:?}");
    assert!(depth_before_pop[200..470].iter().all(|&d| d == 20));
    assert_eq!((s.lost, s.late, s.underruns), (0, 0, 0), "{s:?}");
}

#[test]
fn jitter_without_spare_frame_quiet_frames_are_kept() {
    // Depth a frame above a two-frame target (jitter ±5 ms, so the target
    // covers it) but the frames only waited about a frame: nothing spare,
    // and quiet (not silent) frames are not dropped by the depth rule.
    let config = JitterConfig::opus();
    let mut sim = Sim::new(config);
    let arrivals: Vec<_> = stream(15_000, 5_000, 11)
        .into_iter()
        .map(|mut a| {
            a.level = Some(63);
            a
        })
        .collect();
    sim.schedule(&arrivals);
    sim.next_pop_us = 20_000;
    sim.run_until(20_000 + 498 * TICK_US, |_, _| {});
    let s = sim.stats();
    assert_eq!(s.shed, 0, "{s:?}");
}
