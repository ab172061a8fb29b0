//! Proves an idle room costs no CPU: once its guardians stop sending and the
//! jitter buffers have drained, the shard's tick timer stops (no more ticks
//! counted), and the first packet after that wakes the room up again.

mod common;

use std::time::Duration;

use common::{run, serial, test_config, tone_hz, Guardian};
use engine::core::codec::{CodecConfig, OpusConfig};
use engine::core::mixer::MixerConfig;
use engine::sim::{SignalSource, ToneSource};
use engine::{Engine, RoomId};

#[test]
fn tick_timer_stops_when_rooms_go_idle_and_restarts_on_media() {
    let _serial = serial();
    let mut engine = Engine::start(test_config(1, 34_000)).expect("engine starts");
    let room = RoomId(3);
    engine
        .create_room(room, MixerConfig::default())
        .expect("room");
    let opus = CodecConfig::Opus(OpusConfig::default());
    let mut guardians: Vec<Guardian> = (0..3)
        .map(|i| {
            let tone = SignalSource::Tone(ToneSource::new(f64::from(tone_hz(i)), 5000));
            Guardian::join(&mut engine, room, i as u32, opus, tone)
        })
        .collect();

    let before = engine.snapshot().expect("snapshot").counters();
    assert_eq!(before.ticks, 0, "a room nobody has sent to is never ticked");

    run(&mut guardians, 50, Duration::from_millis(600), |_| {});
    let idle = engine.snapshot().expect("snapshot").clone();
    let c1 = idle.counters();
    assert!(c1.ticks >= 45, "the room ticked while media flowed: {c1:?}");
    assert!(c1.idle_parks >= 1, "the tick timer parked: {c1:?}");
    assert_eq!(idle.shards[0].as_ref().map(|r| r.active_rooms), Some(0));

    std::thread::sleep(Duration::from_millis(500));
    let c2 = engine.snapshot().expect("snapshot").counters();
    assert_eq!(c2.ticks, c1.ticks, "no ticks while idle");

    let received_before = guardians[0].arrivals.len();
    run(&mut guardians, 20, Duration::from_millis(200), |_| {});
    assert!(
        guardians[0].arrivals.len() >= received_before + 15,
        "the room woke up on media"
    );
    engine.shutdown();
}
