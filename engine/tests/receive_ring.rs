//! Proves the shard's receive paths through the Engine API over real
//! loopback: with the ring, removing a participant frees its ports at once
//! and a shard whose participants are gone stops peeking at the ring (no
//! drains, no timer); the older per-socket path still mixes when chosen.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{run, serial, test_config, tone_hz, Guardian};
use engine::config::ReceiveMode;
use engine::core::codec::{CodecConfig, OpusConfig};
use engine::core::mixer::{MixerConfig, ParticipantId};
use engine::sim::{SignalSource, ToneSource};
use engine::{Engine, RoomId};

fn tone(i: usize) -> SignalSource {
    SignalSource::Tone(ToneSource::new(f64::from(tone_hz(i)), 5000))
}

#[test]
fn removal_frees_ports_and_an_empty_shard_stops_draining() {
    let _serial = serial();
    let mut engine = Engine::start(test_config(1, 36_000)).expect("engine starts");
    let room = RoomId(5);
    engine
        .create_room(room, MixerConfig::default())
        .expect("room");
    let opus = CodecConfig::Opus(OpusConfig::default());
    let mut guardians: Vec<Guardian> = (0..3)
        .map(|i| Guardian::join(&mut engine, room, i as u32, opus, tone(i)))
        .collect();
    run(&mut guardians, 25, Duration::from_millis(100), |_| {});
    let c = engine.snapshot().expect("snapshot").counters();
    assert!(c.rx_datagrams >= 60, "media came through the ring: {c:?}");
    assert!(c.rx_drains >= 20, "drained before ticks: {c:?}");

    // Packets still in flight when the participants leave.
    let mut scratch = [0u8; 1500];
    for g in guardians.iter_mut() {
        g.send_next(&mut scratch);
    }
    for g in &guardians {
        engine.remove_participant(g.id).expect("removed");
    }
    // The kernel let go of the sockets: every port binds again right away.
    let rebound: Vec<UdpSocket> = guardians
        .iter()
        .flat_map(|g| [g.admission.local_rtp, g.admission.local_rtcp])
        .map(|addr| UdpSocket::bind(addr).unwrap_or_else(|e| panic!("{addr} still held: {e}")))
        .collect();
    drop(rebound);
    assert!(
        engine.remove_participant(ParticipantId(0)).is_err(),
        "already gone"
    );

    // Rooms idle and no participants: the tick task parks, nothing drains.
    std::thread::sleep(Duration::from_millis(600));
    let c1 = engine.snapshot().expect("snapshot").counters();
    std::thread::sleep(Duration::from_millis(400));
    let c2 = engine.snapshot().expect("snapshot").counters();
    assert_eq!(c2.rx_drains, c1.rx_drains, "no drains with no participants");
    assert_eq!(c2.ticks, c1.ticks, "no ticks either");
    engine.shutdown();
}

#[test]
fn per_socket_receive_still_mixes() {
    let _serial = serial();
    let mut config = test_config(1, 36_400);
    config.media.receive = ReceiveMode::PerSocket;
    let mut engine = Engine::start(config).expect("engine starts");
    let room = RoomId(6);
    engine
        .create_room(room, MixerConfig::default())
        .expect("room");
    let opus = CodecConfig::Opus(OpusConfig::default());
    let mut guardians: Vec<Guardian> = (0..3)
        .map(|i| Guardian::join(&mut engine, room, i as u32, opus, tone(i)))
        .collect();
    run(&mut guardians, 50, Duration::from_millis(200), |_| {});
    let c = engine.snapshot().expect("snapshot").counters();
    assert!(c.rx_datagrams >= 120, "{c:?}");
    assert_eq!(c.rx_drains, 0, "the ring is not used: {c:?}");
    for g in &guardians {
        assert!(
            g.arrivals.len() >= 30,
            "guardian {} heard the mix: {} packets",
            g.id.0,
            g.arrivals.len()
        );
    }
    engine.shutdown();
}
