//! The load generator against a real engine on loopback: 12 guardians in one
//! room stream real Opus for a few seconds; the generator must hear every
//! mix, find the talkers' markers in its sampled listeners' decoded audio at
//! a plausible mouth-to-ear latency, and see no loss on a clean network — and
//! see the loss it injects when told to.

use std::time::Duration;

use bench::impair::ImpairmentConfig;
use bench::load::drive;
use bench::load::media_admit::MediaProvisioner;
use bench::load::{CodecChoice, LoadConfig};
use engine::{Engine, EngineConfig};
use media_core::codec::OpusConfig;
use media_core::mixer::MixerConfig;

fn config(impairment: ImpairmentConfig) -> LoadConfig {
    LoadConfig {
        guardians: 12,
        room_size: 12,
        talkers: 3,
        codec: CodecChoice::Opus,
        engine_opus: OpusConfig::default(),
        guardian_opus: OpusConfig::default(),
        duration: Duration::from_secs(3),
        warmup: Duration::from_secs(1),
        impairment,
        seed: 7,
        ears_per_room: 2,
        record_rooms: 1,
    }
}

fn engine() -> Engine {
    let mut c = EngineConfig::default();
    c.shards.count = 1;
    c.shards.pin = false;
    // A port range of its own so tests running in parallel do not collide.
    c.media.port_first = 31_000;
    c.media.ports_per_shard = 200;
    Engine::start(c).expect("engine starts")
}

#[test]
fn twelve_guardians_on_a_clean_network() {
    let mut engine = engine();
    let mut admit = MediaProvisioner::new(&mut engine, MixerConfig::default());
    let out = drive::run(&config(ImpairmentConfig::default()), &mut admit, |_| {}).expect("run");
    let f = &out.figures;
    assert_eq!(f.admitted, 12);
    assert_eq!(f.call_drops, 0);
    for g in &f.guardians {
        assert!(
            g.packets >= 140,
            "guardian {} heard {} packets in 3 s",
            g.guardian,
            g.packets
        );
        assert!(
            g.loss_pct < 0.5,
            "guardian {} loss {}",
            g.guardian,
            g.loss_pct
        );
    }
    assert!(
        f.markers_expected >= 4,
        "markers expected {}",
        f.markers_expected
    );
    assert!(
        f.mouth_to_ear_ms.len() as u64 * 10 >= f.markers_expected * 8,
        "found {} of {}",
        f.mouth_to_ear_ms.len(),
        f.markers_expected
    );
    // Packetisation (20) + codec (2 × 6.5) + jitter buffer (≥ 20) + tick wait:
    // at least ~40 ms, and on a clean loopback nowhere near 200 ms.
    for &m in &f.mouth_to_ear_ms {
        assert!((30.0..200.0).contains(&m), "mouth-to-ear {m} ms");
    }
    assert!(out
        .shard_cpu
        .iter()
        .any(|(name, cpu)| name.starts_with("shard-") && *cpu > 0.0));
    assert!(!out.recordings.is_empty());
    engine.shutdown();
}

#[test]
fn injected_loss_is_seen_by_the_engine_not_as_mix_loss() {
    // 10 % of the guardians' packets are lost on the way in: the engine
    // conceals them, so the mixes going out stay complete.
    let mut engine = engine_on(31_400);
    let mut admit = MediaProvisioner::new(&mut engine, MixerConfig::default());
    let impairment = ImpairmentConfig {
        loss_pct: 10.0,
        ..ImpairmentConfig::default()
    };
    let out = drive::run(&config(impairment), &mut admit, |_| {}).expect("run");
    assert_eq!(out.figures.call_drops, 0);
    for g in &out.figures.guardians {
        assert!(
            g.loss_pct < 0.5,
            "mix to guardian {} lost {} %",
            g.guardian,
            g.loss_pct
        );
    }
    let stats = engine.snapshot().expect("snapshot");
    let lost: i64 = stats
        .shards
        .iter()
        .flatten()
        .flat_map(|r| r.participants.iter())
        .map(|p| p.lost)
        .sum();
    assert!(lost > 0, "the engine saw the injected loss");
    engine.shutdown();
}

fn engine_on(port_first: u16) -> Engine {
    let mut c = EngineConfig::default();
    c.shards.count = 1;
    c.shards.pin = false;
    c.media.port_first = port_first;
    c.media.ports_per_shard = 200;
    Engine::start(c).expect("engine starts")
}
