//! Property tests: a packet stream with random bounded reordering, loss,
//! duplication, silence, markers and sender clock skew, delivered on a
//! virtual clock with a pop every 20 ms, never makes the jitter buffer play
//! out of order, exceed `delay_max_ms + frame_ms` of depth, or skip a slot
//! without a `Conceal` or a counted discard (checked after every call by
//! `jitter_support::Checker`). Frames carry their own sequence number, so
//! each one is also checked against the timestamp it was sent with.

mod jitter_support;

use jitter_support::{Arrival, Out, Sim, STEP, TICK_US};
use media_core::jitter::JitterConfig;
use proptest::prelude::*;
use std::collections::HashMap;

#[derive(Clone, Debug)]
struct Network {
    packets: u32,
    ts0: u32,
    seq0: u16,
    base_delay_ms: u64,
    displacement_ms: u64,
    loss_pct: u32,
    dup_pct: u32,
    skew_ppm: i64,
    pop_phase_us: u64,
    seed: u64,
    /// From this packet on the sender switches SSRC and timeline.
    switch: Option<(u32, u32)>,
}

fn network() -> impl Strategy<Value = Network> {
    (
        (50u32..400, any::<u32>(), any::<u16>()),
        (0u64..60, 0u64..200, 0u32..25, 0u32..15),
        (-5_000i64..5_000, 0u64..20_000, any::<u64>()),
        proptest::option::weighted(0.2, (0u32..400, any::<u32>())),
    )
        .prop_map(
            |((packets, ts0, seq0), (base, disp, loss, dup), (skew, phase, seed), switch)| {
                Network {
                    packets,
                    ts0,
                    seq0,
                    base_delay_ms: base,
                    displacement_ms: disp,
                    loss_pct: loss,
                    dup_pct: dup,
                    skew_ppm: skew,
                    pop_phase_us: phase,
                    seed,
                    switch,
                }
            },
        )
}

fn config() -> impl Strategy<Value = JitterConfig> {
    (1u32..4, 3u32..12, 1u32..15, 1usize..200).prop_map(
        |(min_frames, max_frames, conceal, window)| JitterConfig {
            delay_min_ms: 20 * min_frames,
            delay_max_ms: 20 * max_frames.max(min_frames) + 10,
            conceal_frames_max: conceal,
            window_packets: window,
            ..JitterConfig::opus()
        },
    )
}

fn arrivals(net: &Network) -> Vec<Arrival> {
    let mut rng = jitter_support::Lcg(net.seed);
    let period_us = 20_000 * (1_000_000 - net.skew_ppm) / 1_000_000;
    let mut out = Vec::new();
    for k in 0..net.packets {
        let roll = rng.next_u32() % 100;
        if roll < net.loss_pct {
            continue;
        }
        let copies = if rng.next_u32() % 100 < net.dup_pct {
            2
        } else {
            1
        };
        let (ssrc, ts_offset) = match net.switch {
            Some((at, offset)) if k >= at => (43, offset),
            _ => (42, 0),
        };
        for _ in 0..copies {
            let displacement_us = u64::from(rng.next_u32()) % (net.displacement_ms * 1_000 + 1);
            out.push(Arrival {
                at_us: (i64::from(k) * period_us) as u64
                    + net.base_delay_ms * 1_000
                    + displacement_us,
                ssrc,
                seq: net.seq0.wrapping_add(k as u16),
                ts: net
                    .ts0
                    .wrapping_add(k.wrapping_mul(STEP))
                    .wrapping_add(ts_offset),
                marker: k == 0 || rng.next_u32() % 50 == 0,
                level: match rng.next_u32() % 4 {
                    0 => None,
                    1 => Some(127),
                    _ => Some(30),
                },
            });
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn jitter_playout_is_ordered_bounded_and_accounted(net in network(), config in config()) {
        let mut sim = Sim::new(config);
        let script = arrivals(&net);
        let end_us = u64::from(net.packets) * TICK_US + 1_500_000;
        // The checker asserts ordering, depth and gap accounting on every call.
        sim.run(&script, net.pop_phase_us, end_us);

        let sent: HashMap<u16, u32> = script.iter().map(|a| (a.seq, a.ts)).collect();
        for (_, out) in &sim.outs {
            if let Out::Frame { ts, seq } = *out {
                prop_assert_eq!(Some(&ts), sent.get(&seq));
            }
        }
        let s = sim.stats();
        // Long after the last arrival everything has been played or dropped.
        prop_assert_eq!(sim.jb.buffered_packets(), 0);
        prop_assert!(!sim.jb.is_active());
        prop_assert_eq!(s.received as usize, script.len());
        prop_assert_eq!(s.received, s.played + s.late + s.discarded);
        prop_assert!(s.target_delay_ms >= config.delay_min_ms && s.target_delay_ms <= config.delay_max_ms);
    }

    #[test]
    fn jitter_gentle_network_loses_nothing(net in network(), config in config()) {
        // Reordering within what the buffer may hold, no loss, no skew.
        let net = Network {
            switch: None,
            displacement_ms: net.displacement_ms % 40,
            loss_pct: 0,
            skew_ppm: 0,
            ..net
        };
        let config = JitterConfig { delay_max_ms: config.delay_max_ms.max(100), ..config };
        let mut sim = Sim::new(config);
        let script: Vec<_> = arrivals(&net).into_iter().map(|a| Arrival { marker: false, ..a }).collect();
        sim.run(&script, net.pop_phase_us, u64::from(net.packets) * TICK_US + 1_000_000);
        let s = sim.stats();
        // Reordering can only cost packets before the delay has grown to cover it.
        prop_assert!(s.late + s.lost <= 12, "{:?}", s);
        // Copies of a late packet are late too, so count frames instead.
        prop_assert!(s.played + s.shed + 12 >= u64::from(net.packets), "{:?}", s);
        prop_assert!(s.played <= u64::from(net.packets));
    }
}
