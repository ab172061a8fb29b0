//! Proves the Engine API's refusals are clear and typed: a port held by
//! another socket is skipped, an exhausted port range names the setting to
//! widen, stopped admissions and unknown rooms are refused, and a bad config
//! names its field.

mod common;

use std::net::{SocketAddr, UdpSocket};

use common::{serial, test_config};
use engine::core::codec::CodecConfig;
use engine::core::mixer::{MixerConfig, ParticipantId};
use engine::{Engine, EngineConfig, EngineError, ParticipantSpec, RoomId};

fn spec(id: u32) -> ParticipantSpec {
    let remote: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    ParticipantSpec::new(ParticipantId(id), CodecConfig::Pcmu, remote)
}

#[test]
fn taken_ports_are_skipped_then_exhaustion_names_the_limit() {
    let _serial = serial();
    let mut config = test_config(1, 35_500);
    config.media.ports_per_shard = 4; // two participants
    let squatter = UdpSocket::bind("127.0.0.1:35500").expect("take the first RTP port");
    let mut engine = Engine::start(config).expect("engine starts");
    engine
        .create_room(RoomId(1), MixerConfig::default())
        .expect("room");
    let a = engine
        .add_participant(RoomId(1), spec(1))
        .expect("second pair is free");
    assert_eq!(a.local_rtp.port(), 35_502);
    assert_eq!(a.local_rtcp.port(), 35_503);
    let err = engine
        .add_participant(RoomId(1), spec(2))
        .expect_err("range exhausted");
    assert!(
        matches!(err, EngineError::PortsExhausted { taken: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("ports_per_shard"), "{err}");
    drop(squatter);
    // The squatter left: its pair is usable again.
    let b = engine
        .add_participant(RoomId(1), spec(2))
        .expect("freed pair");
    assert_eq!(b.local_rtp.port(), 35_500);
    engine.remove_participant(ParticipantId(1)).expect("remove");
    engine.shutdown();
}

#[test]
fn admissions_can_be_stopped_and_unknown_rooms_are_refused() {
    let _serial = serial();
    let mut engine = Engine::start(test_config(1, 35_600)).expect("engine starts");
    assert!(matches!(
        engine.add_participant(RoomId(9), spec(1)),
        Err(EngineError::UnknownRoom(_))
    ));
    engine
        .create_room(RoomId(1), MixerConfig::default())
        .expect("room");
    assert!(matches!(
        engine.create_room(RoomId(1), MixerConfig::default()),
        Err(EngineError::RoomExists(_))
    ));
    engine.set_accepting(false);
    assert!(matches!(
        engine.add_participant(RoomId(1), spec(1)),
        Err(EngineError::NotAccepting)
    ));
    engine.set_accepting(true);
    engine
        .add_participant(RoomId(1), spec(1))
        .expect("accepted again");
    assert!(matches!(
        engine.add_participant(RoomId(1), spec(1)),
        Err(EngineError::DuplicateParticipant(_))
    ));
    engine.destroy_room(RoomId(1)).expect("destroy");
    assert!(matches!(
        engine.remove_participant(ParticipantId(1)),
        Err(EngineError::UnknownParticipant(_))
    ));
    engine.shutdown();
}

#[test]
fn bad_config_names_the_field() {
    let mut config = EngineConfig::default();
    config.media.port_first = 20_001;
    let err = Engine::start(config).expect_err("odd port_first");
    assert!(err.to_string().contains("media.port_first"), "{err}");
}
