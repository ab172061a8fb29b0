//! Proves the per-participant inbound bitrate cap: a guardian admitted with
//! a cap below its stream's rate loses the excess (dropped, counted, flagged
//! in stats) while an uncapped guardian in the same room loses nothing, and
//! lifting the cap through the Engine API stops the drops.

mod common;

use std::time::Duration;

use common::{run, serial, test_config, tone_hz, Guardian};
use engine::core::codec::CodecConfig;
use engine::core::mixer::MixerConfig;
use engine::sim::{SignalSource, ToneSource};
use engine::{Engine, RoomId};

#[test]
fn excess_over_the_cap_is_dropped_counted_and_flagged() {
    let _serial = serial();
    let mut engine = Engine::start(test_config(1, 35_000)).expect("engine starts");
    let room = RoomId(4);
    engine
        .create_room(room, MixerConfig::default())
        .expect("room");
    // G.711: 160-byte payloads + RTP/IP headers ≈ 83 kb/s at IP level.
    let tone = |i: usize| SignalSource::Tone(ToneSource::new(f64::from(tone_hz(i)), 5000));
    let mut capped =
        Guardian::join_with(&mut engine, room, 0, CodecConfig::Pcmu, tone(0), |spec| {
            spec.bitrate_cap_bps = Some(40_000);
        });
    let free = Guardian::join(&mut engine, room, 1, CodecConfig::Pcmu, tone(1));
    let capped_id = capped.id;
    let free_id = free.id;
    let mut guardians = vec![capped, free];
    run(&mut guardians, 100, Duration::from_millis(100), |_| {});

    let stats = engine.snapshot().expect("snapshot");
    let c = stats.participant(capped_id).copied().expect("capped stats");
    let f = stats.participant(free_id).copied().expect("free stats");
    assert!(c.over_cap, "flagged");
    // 40 of 83 kb/s pass, plus the initial burst (two full-size packets).
    assert!(
        (30..=55).contains(&c.over_cap_dropped),
        "about half dropped: {}",
        c.over_cap_dropped
    );
    assert_eq!(c.mixer.packets_in + c.over_cap_dropped, 100);
    assert_eq!(f.over_cap_dropped, 0);
    assert!(!f.over_cap);
    assert_eq!(stats.counters().over_cap_dropped, c.over_cap_dropped);

    engine.set_bitrate_cap(capped_id, 0).expect("lift the cap");
    let dropped = c.over_cap_dropped;
    capped = guardians.remove(0);
    let mut guardians = vec![capped];
    run(&mut guardians, 50, Duration::from_millis(100), |_| {});
    let after = engine
        .snapshot()
        .expect("snapshot")
        .participant(capped_id)
        .copied()
        .expect("stats");
    assert_eq!(
        after.over_cap_dropped, dropped,
        "no drops once the cap is lifted"
    );
    engine.shutdown();
}
