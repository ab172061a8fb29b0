//! Jitter buffer playout basics on a virtual clock: a clean stream plays
//! every frame, prebuffering, a loss is one conceal (with FEC when the next
//! packet is in), duplicates, late and oversized packets are counted, and a
//! talk spurt ends after `conceal_frames_max` conceals and restarts later;
//! it starts at the target delay, not above it.

mod jitter_support;

use jitter_support::{stream_packet, Arrival, Out, Sim, STEP, TICK_US};
use media_core::jitter::{
    InsertOutcome, JitterBuffer, JitterConfig, JitterPacket, JitterStats, Playout,
};

const TS0: u32 = 1_000;

/// Frame `seq` of the stream played.
fn frame(seq: u16) -> Out {
    Out::Frame {
        ts: TS0 + u32::from(seq) * STEP,
        seq,
    }
}

fn clean(n: u32, delay_us: u64) -> Vec<Arrival> {
    (0..n).map(|k| stream_packet(k, TS0, delay_us)).collect()
}

#[test]
fn jitter_clean_stream_plays_every_frame_at_target_depth() {
    let mut sim = Sim::new(JitterConfig::opus());
    let arrivals = clean(500, 5_000);
    sim.run(&arrivals, 0, 500 * TICK_US);
    assert_eq!(sim.frames(), (0..500).collect::<Vec<u16>>());
    let s = sim.stats();
    assert_eq!(
        (s.concealed, s.lost, s.late, s.discarded),
        (0, 0, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.target_delay_ms, 20);
    // One frame buffered ahead just before each pop: depth equals target.
    assert!(sim
        .outs
        .iter()
        .skip(1)
        .all(|(_, o)| matches!(o, Out::Frame { .. } | Out::Idle)));
}

#[test]
fn jitter_prebuffers_to_target_then_plays_a_lone_packet_after_waiting() {
    let config = JitterConfig {
        delay_min_ms: 60,
        ..JitterConfig::opus()
    };
    let mut sim = Sim::new(config);
    sim.insert(&stream_packet(0, TS0, 0));
    assert_eq!(sim.pop(0), Out::Idle);
    assert_eq!(sim.pop(20_000), Out::Idle);
    assert_eq!(sim.pop(40_000), Out::Idle);
    assert_eq!(
        sim.pop(60_000),
        Out::Frame { ts: TS0, seq: 0 },
        "waited the target in wall time"
    );

    // With packets flowing, depth reaching the target starts playout.
    let mut sim = Sim::new(config);
    sim.insert(&stream_packet(0, TS0, 0));
    sim.insert(&stream_packet(1, TS0, 0));
    assert_eq!(sim.pop(25_000), Out::Idle);
    assert!(!sim.jb.is_active());
    sim.insert(&stream_packet(2, TS0, 0));
    assert_eq!(sim.pop(45_000), Out::Frame { ts: TS0, seq: 0 });
    assert!(sim.jb.is_active());
    assert_eq!(sim.jb.depth_ms(), 40);
}

#[test]
fn jitter_single_loss_is_one_conceal() {
    let mut sim = Sim::new(JitterConfig::opus());
    let arrivals: Vec<_> = clean(100, 5_000)
        .into_iter()
        .filter(|a| a.seq != 50)
        .collect();
    sim.run(&arrivals, 0, 100 * TICK_US);
    let expected: Vec<u16> = (0..100).filter(|&k| k != 50).collect();
    assert_eq!(sim.frames(), expected);
    assert_eq!(sim.conceals(), 1);
    let conceal = sim.outs.iter().find_map(|(_, o)| match o {
        Out::Conceal { ts, .. } => Some(*ts),
        _ => None,
    });
    assert_eq!(conceal, Some(TS0 + 50 * STEP));
    let s = sim.stats();
    assert_eq!((s.lost, s.concealed, s.late), (1, 1, 0), "{s:?}");
}

#[test]
fn jitter_loss_with_next_packet_buffered_offers_it_for_fec() {
    let config = JitterConfig {
        delay_min_ms: 60,
        ..JitterConfig::opus()
    };
    let mut sim = Sim::new(config);
    let arrivals: Vec<_> = clean(100, 5_000)
        .into_iter()
        .filter(|a| a.seq != 50)
        .collect();
    sim.run(&arrivals, 0, 100 * TICK_US);
    let conceals: Vec<_> = sim
        .outs
        .iter()
        .filter_map(|(_, o)| match o {
            Out::Conceal { ts, fec_seq } => Some((*ts, *fec_seq)),
            _ => None,
        })
        .collect();
    assert_eq!(conceals, vec![(TS0 + 50 * STEP, Some(51))]);
    assert_eq!(sim.stats().lost, 1);
}

#[test]
fn jitter_duplicates_are_counted_whether_buffered_or_played() {
    let mut sim = Sim::new(JitterConfig {
        delay_min_ms: 60,
        ..JitterConfig::opus()
    });
    let p = stream_packet(0, TS0, 0);
    assert_eq!(sim.insert(&p), InsertOutcome::Buffered);
    assert_eq!(sim.insert(&p), InsertOutcome::Duplicate, "already buffered");
    for k in 1..3 {
        sim.insert(&stream_packet(k, TS0, 0));
    }
    assert_eq!(sim.pop(0), Out::Frame { ts: TS0, seq: 0 });
    assert_eq!(sim.insert(&p), InsertOutcome::Duplicate, "already played");
    let s = sim.stats();
    assert_eq!((s.duplicates, s.discarded, s.late), (2, 2, 0));
}

#[test]
fn jitter_a_talk_spurt_starts_at_the_target_not_with_a_start_burst() {
    // Three frames are in by the first tick (a sender's start burst, or a
    // tick that came late): the spurt starts at the newest, one frame of
    // delay, not three for as long as it lasts.
    let mut sim = Sim::new(JitterConfig::opus());
    for k in 0..3 {
        sim.insert(&stream_packet(k, TS0, 0));
    }
    assert_eq!(sim.pop(2 * TICK_US), frame(2));
    sim.insert(&stream_packet(3, TS0, 0));
    assert_eq!(sim.pop(3 * TICK_US), frame(3));
    let s = sim.stats();
    assert_eq!((s.shed, s.discarded, s.concealed), (2, 2, 0), "{s:?}");
}

#[test]
fn jitter_an_extra_frame_early_in_a_spurt_is_dropped_later_it_waits_for_silence() {
    // Frames 0–1 arrive on time; then the tick comes late once (frames 2
    // and 3 are both in by the third pop): early in the spurt the buffer
    // settles back to one frame at once.
    let mut sim = Sim::new(JitterConfig::opus());
    sim.insert(&stream_packet(0, TS0, 0));
    sim.pop(0);
    sim.insert(&stream_packet(1, TS0, 0));
    sim.pop(TICK_US);
    sim.insert(&stream_packet(2, TS0, 0));
    sim.insert(&stream_packet(3, TS0, 0));
    assert_eq!(sim.pop(3 * TICK_US), frame(3));
    // Well into the spurt the same extra frame is kept (no silence yet).
    let mut sim = Sim::new(JitterConfig::opus());
    for k in 0..10 {
        sim.insert(&stream_packet(k, TS0, 0));
        sim.pop(u64::from(k) * TICK_US);
    }
    sim.insert(&stream_packet(10, TS0, 0));
    sim.insert(&stream_packet(11, TS0, 0));
    assert_eq!(sim.pop(11 * TICK_US), frame(10));
}

#[test]
fn jitter_late_packet_is_counted_and_dropped() {
    let mut sim = Sim::new(JitterConfig {
        delay_min_ms: 40,
        ..JitterConfig::opus()
    });
    // Packet 5 arrives 100 ms late: by then its slot was concealed.
    let arrivals: Vec<_> = clean(30, 1_000)
        .into_iter()
        .map(|mut a| {
            if a.seq == 5 {
                a.at_us += 100_000;
            }
            a
        })
        .collect();
    sim.run(&arrivals, 0, 30 * TICK_US);
    assert!(sim.outcomes.contains(&(5, InsertOutcome::Late)));
    assert!(!sim.frames().contains(&5));
    let s = sim.stats();
    assert_eq!((s.late, s.lost), (1, 1), "{s:?}");
}

#[test]
fn jitter_oversized_payload_is_discarded() {
    let config = JitterConfig {
        payload_max_bytes: 4,
        ..JitterConfig::opus()
    };
    let mut jb = JitterBuffer::new(config);
    let t0 = jitter_support::origin();
    let packet = JitterPacket {
        ssrc: 1,
        seq: 0,
        timestamp: 0,
        marker: false,
        level_dbov: None,
        payload: &[0; 5],
    };
    assert_eq!(jb.insert(t0, packet), InsertOutcome::TooLarge);
    assert_eq!(
        jb.insert(
            t0,
            JitterPacket {
                payload: &[1; 4],
                ..packet
            }
        ),
        InsertOutcome::Buffered
    );
    assert!(matches!(
        jb.pop(t0),
        Playout::Frame {
            payload: [1, 1, 1, 1],
            ..
        }
    ));
    let s = jb.stats();
    assert_eq!((s.received, s.discarded, s.played), (2, 1, 1));
}

#[test]
fn jitter_goes_idle_after_conceal_frames_max_then_restarts() {
    let config = JitterConfig::opus();
    let mut sim = Sim::new(config);
    // A talk spurt of 50 packets, 1 s of nothing, then another from the
    // sender's clock (timestamps kept running), with the marker bit.
    let mut arrivals = clean(50, 5_000);
    arrivals.extend((100..150).map(|k| Arrival {
        marker: k == 100,
        ..stream_packet(k, TS0, 5_000)
    }));
    sim.run(&arrivals[..50], 0, 99 * TICK_US);
    let last = sim
        .outs
        .iter()
        .position(|(_, o)| matches!(o, Out::Frame { seq: 49, .. }));
    let tail: Vec<_> = sim
        .outs
        .iter()
        .map(|(_, o)| o.clone())
        .skip(last.unwrap_or(0) + 1)
        .collect();
    let conceals = tail
        .iter()
        .take_while(|o| matches!(o, Out::Conceal { .. }))
        .count();
    assert_eq!(conceals as u32, config.conceal_frames_max);
    assert!(tail[conceals..].iter().all(|o| *o == Out::Idle));
    assert!(!sim.jb.is_active());
    assert_eq!(sim.stats().underruns, u64::from(config.conceal_frames_max));

    let restart = sim.outs.len();
    for a in &arrivals[50..] {
        sim.insert(a);
        sim.pop(a.at_us + 15_000);
    }
    let frames: Vec<u16> = sim.frames().into_iter().skip(50).collect();
    assert_eq!(frames, (100..150).collect::<Vec<u16>>());
    assert!(sim.outs[restart..]
        .iter()
        .all(|(_, o)| matches!(o, Out::Frame { .. })));
    let s = sim.stats();
    assert_eq!((s.lost, s.late, s.resyncs), (0, 0, 0), "{s:?}");
}

#[test]
fn jitter_reset_forgets_everything() {
    let mut sim = Sim::new(JitterConfig::opus());
    sim.run(&clean(10, 5_000), 0, 5 * TICK_US);
    sim.jb.reset();
    let expected = JitterStats {
        target_delay_ms: 20,
        ..JitterStats::default()
    };
    assert_eq!(sim.jb.stats(), expected);
    assert!(!sim.jb.is_active());
    assert_eq!(sim.jb.pop(sim.at(0)), Playout::Idle);
}
