//! Stream discontinuities restart the buffer: a new SSRC or a timestamp
//! jump beyond four times `delay_max_ms` (either way) is `Resynced` and
//! plays from the new packet, while RTP timestamp and sequence wrap-around
//! is just another step.

mod jitter_support;

use jitter_support::{stream_packet, Arrival, Out, Sim, STEP, TICK_US};
use media_core::jitter::{InsertOutcome, JitterConfig};

fn frames_after(sim: &Sim, index: usize) -> Vec<u16> {
    sim.outs[index..]
        .iter()
        .filter_map(|(_, o)| match o {
            Out::Frame { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect()
}

#[test]
fn jitter_ssrc_change_resyncs() {
    let mut sim = Sim::new(JitterConfig::opus());
    sim.run(
        &(0..50)
            .map(|k| stream_packet(k, 0, 5_000))
            .collect::<Vec<_>>(),
        0,
        50 * TICK_US,
    );
    // The same participant's new stream: another SSRC, unrelated timeline.
    let second: Vec<_> = (0..50)
        .map(|k| Arrival {
            ssrc: 99,
            seq: 7_000 + k as u16,
            ..stream_packet(k + 51, 123_456_789, 5_000)
        })
        .collect();
    let mark = sim.outs.len();
    sim.run(&second, 51 * TICK_US, 102 * TICK_US);
    assert_eq!(sim.outcomes[50], (7_000, InsertOutcome::Resynced));
    assert_eq!(
        frames_after(&sim, mark),
        (7_000..7_050).collect::<Vec<u16>>()
    );
    let s = sim.stats();
    assert_eq!(
        (s.resyncs, s.lost, s.late, s.played),
        (1, 0, 0, 100),
        "{s:?}"
    );
}

#[test]
fn jitter_timestamp_jump_forward_resyncs() {
    let mut sim = Sim::new(JitterConfig::opus());
    let jump = 30 * STEP + 1; // just over 600 ms
    let arrivals: Vec<_> = (0..100)
        .map(|k| {
            let mut a = stream_packet(k, 0, 5_000);
            if k >= 50 {
                a.ts = a.ts.wrapping_add(jump);
            }
            a
        })
        .collect();
    sim.run(&arrivals, 0, 100 * TICK_US);
    assert_eq!(sim.outcomes[50], (50, InsertOutcome::Resynced));
    assert_eq!(sim.frames(), (0..100).collect::<Vec<u16>>());
    let s = sim.stats();
    assert_eq!(
        (s.resyncs, s.lost, s.concealed, s.skipped),
        (1, 0, 0, 0),
        "{s:?}"
    );
}

#[test]
fn jitter_timestamp_jump_backward_resyncs_but_small_steps_back_are_late() {
    let mut sim = Sim::new(JitterConfig::opus());
    let arrivals: Vec<_> = (0..100)
        .filter(|&k| k != 94)
        .map(|k| {
            let mut a = stream_packet(k, 1_000_000, 5_000);
            if k >= 50 {
                a.ts = a.ts.wrapping_sub(200 * STEP);
            }
            a
        })
        .collect();
    sim.run(&arrivals, 0, 100 * TICK_US);
    assert_eq!(sim.outcomes[50], (50, InsertOutcome::Resynced));
    let expected: Vec<u16> = (0..100).filter(|&k| k != 94).collect();
    assert_eq!(sim.frames(), expected);

    // Packets 100 ms behind the playout point are late, or copies.
    let behind = |k| Arrival {
        at_us: 100 * TICK_US + 1,
        ..stream_packet(k, 1_000_000 - 200 * STEP, 0)
    };
    assert_eq!(sim.insert(&behind(94)), InsertOutcome::Late);
    assert_eq!(sim.insert(&behind(95)), InsertOutcome::Duplicate);
    let s = sim.stats();
    assert_eq!(
        (s.resyncs, s.lost, s.late, s.duplicates),
        (1, 1, 1, 1),
        "{s:?}"
    );
}

#[test]
fn jitter_timestamp_and_sequence_wrap_is_seamless() {
    let mut sim = Sim::new(JitterConfig {
        delay_min_ms: 60,
        ..JitterConfig::opus()
    });
    let ts0 = u32::MAX - 20 * STEP + 5;
    let arrivals: Vec<_> = (0..100)
        .map(|k| Arrival {
            seq: (65_500 + k) as u16,
            ..stream_packet(k, ts0, 5_000)
        })
        .collect();
    sim.run(&arrivals, 0, 110 * TICK_US);
    let expected: Vec<u16> = (0..100).map(|k| (65_500 + k) as u16).collect();
    assert_eq!(sim.frames(), expected);
    let s = sim.stats();
    assert_eq!(
        (s.resyncs, s.lost, s.late, s.duplicates),
        (0, 0, 0, 0),
        "{s:?}"
    );
}
