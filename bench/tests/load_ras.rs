//! Guardians admitted the way real terminals are: signed GRQ/RRQ/ARQ over
//! H.225.0 RAS to the embedded gatekeeper, then media through the engine.
//! Every guardian must be admitted, each step timed, and the media must flow.

use std::time::Duration;

use bench::impair::ImpairmentConfig;
use bench::load::media_admit::MediaProvisioner;
use bench::load::ras_admit::{identities, start_gatekeeper, RasAdmitter};
use bench::load::{drive, CodecChoice, LoadConfig};
use engine::{Engine, EngineConfig};
use media_core::codec::OpusConfig;
use media_core::mixer::MixerConfig;

#[test]
fn twelve_guardians_admitted_over_signed_ras() {
    let dir = tempfile::tempdir().unwrap();
    let ids = identities(12, 3);
    let gatekeeper = start_gatekeeper(dir.path(), &ids).expect("gatekeeper starts");
    let mut c = EngineConfig::default();
    c.shards.count = 1;
    c.shards.pin = false;
    c.media.port_first = 31_800;
    c.media.ports_per_shard = 100;
    let mut engine = Engine::start(c).expect("engine");
    let media = MediaProvisioner::new(&mut engine, MixerConfig::default());
    let mut admit = RasAdmitter::new(gatekeeper.local_addr(), ids, media, 3);
    let config = LoadConfig {
        guardians: 12,
        room_size: 12,
        talkers: 3,
        codec: CodecChoice::Opus,
        engine_opus: OpusConfig::default(),
        guardian_opus: OpusConfig::default(),
        duration: Duration::from_secs(2),
        warmup: Duration::from_millis(500),
        impairment: ImpairmentConfig::default(),
        seed: 3,
        ears_per_room: 1,
        record_rooms: 0,
    };
    let out = drive::run(&config, &mut admit, |_| {}).expect("run");
    let f = &out.figures;
    assert_eq!(f.admitted, 12, "failures: {}", f.admission_failures);
    for step in &f.admission_by_step_ms {
        assert_eq!(step.len(), 12);
        assert!(step.iter().all(|&ms| ms > 0.0 && ms < 1000.0), "{step:?}");
    }
    assert_eq!(f.call_drops, 0);
    let gk = gatekeeper.stats().expect("stats").gatekeeper;
    // 12 × (GRQ, RRQ, ARQ), each answered, none rejected.
    assert_eq!(gk.datagrams, 36);
    assert_eq!(gk.replies, 36);
    assert_eq!(gk.rejected + gk.auth_failures, 0);
    gatekeeper.shutdown().unwrap();
    engine.shutdown();
}

#[test]
fn an_unknown_guardian_is_refused_and_the_run_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let registered = identities(2, 5);
    let gatekeeper = start_gatekeeper(dir.path(), &registered).expect("gatekeeper starts");
    let mut c = EngineConfig::default();
    c.shards.count = 1;
    c.shards.pin = false;
    c.media.port_first = 31_900;
    c.media.ports_per_shard = 50;
    let mut engine = Engine::start(c).expect("engine");
    let media = MediaProvisioner::new(&mut engine, MixerConfig::default());
    // The generator's keys differ from the registry's: every request fails authenticity.
    let mut admit = RasAdmitter::new(gatekeeper.local_addr(), identities(2, 6), media, 5);
    let config = LoadConfig {
        guardians: 2,
        room_size: 2,
        talkers: 1,
        codec: CodecChoice::Pcmu,
        engine_opus: OpusConfig::default(),
        guardian_opus: OpusConfig::default(),
        duration: Duration::from_secs(1),
        warmup: Duration::ZERO,
        impairment: ImpairmentConfig::default(),
        seed: 5,
        ears_per_room: 0,
        record_rooms: 0,
    };
    let err = drive::run(&config, &mut admit, |_| {}).unwrap_err();
    assert!(
        err.contains("no guardian was admitted") && err.contains("RRQ answered with"),
        "{err}"
    );
    gatekeeper.shutdown().unwrap();
    engine.shutdown();
}
