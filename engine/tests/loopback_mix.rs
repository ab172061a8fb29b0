//! Proves the engine serves real conferences over loopback UDP: guardians
//! send real Opus (and G.711) RTP with distinct tones to the ports the Engine
//! API hands out; each receives ≈ 50 mix packets/s marked DSCP 46 (read back
//! with IP_RECVTOS); decoding what each heard shows N−1 (mixed speakers
//! present, own tone absent); a spoofed source is dropped and counted —
//! with one shard, and with two rooms on two shards.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{check_n_minus_one, run, serial, test_config, tone_hz, Guardian};
use engine::core::codec::{CodecConfig, OpusConfig};
use engine::core::mixer::MixerConfig;
use engine::sim::{SignalSource, ToneSource};
use engine::{Engine, RoomId};

const TICKS: u32 = 150;
const EF_TOS: u8 = 46 << 2;

fn opus() -> CodecConfig {
    CodecConfig::Opus(OpusConfig::default())
}

fn tone(i: usize) -> SignalSource {
    SignalSource::Tone(ToneSource::new(f64::from(tone_hz(i)), 5000))
}

fn check_rates_and_dscp(label: &str, guardians: &[Guardian], start: std::time::Instant) {
    // After the jitter buffer has filled (first 0.5 s), a 2 s window: 100
    // packets, give or take a scheduling hiccup of a loaded test machine
    // (missed ticks are caught up, so the count stays close).
    let from = start + Duration::from_millis(600);
    let to = from + Duration::from_secs(2);
    for (i, g) in guardians.iter().enumerate() {
        let n = g.packets_between(from, to);
        assert!(
            (90..=110).contains(&n),
            "{label}: guardian {i} got {n} packets in 2 s, want ≈100"
        );
        assert!(
            g.arrivals.len() >= TICKS as usize * 9 / 10,
            "{label}: guardian {i} got {} packets for {TICKS} ticks",
            g.arrivals.len()
        );
        assert!(!g.tos.is_empty());
        assert!(
            g.tos.iter().all(|t| *t == Some(EF_TOS)),
            "{label}: guardian {i} saw TOS {:?}",
            g.tos.iter().find(|t| **t != Some(EF_TOS))
        );
    }
}

#[test]
fn twelve_opus_guardians_one_shard() {
    let _serial = serial();
    let mut engine = Engine::start(test_config(1, 31_000)).expect("engine starts");
    let room = RoomId(1);
    engine
        .create_room(room, MixerConfig::default())
        .expect("room");
    let mut guardians: Vec<Guardian> = (0..12)
        .map(|i| Guardian::join(&mut engine, room, i as u32, opus(), tone(i)))
        .collect();

    // A spoofer sends guardian 0's packets from another address.
    let spoofer = UdpSocket::bind("127.0.0.1:0").expect("bind spoofer");
    let target = guardians[0].admission.local_rtp;
    let mut spoof_sender = engine::sim::SimSender::new(opus(), tone(5), 0x1000_0000).expect("enc");
    let mut spoof_buf = [0u8; 1500];
    let start = run(&mut guardians, TICKS, Duration::from_millis(300), |k| {
        if k % 5 == 0 {
            let len = spoof_sender.next_packet(&mut spoof_buf).expect("packet");
            spoofer
                .send_to(&spoof_buf[..len], target)
                .expect("spoof send");
        }
    });

    check_rates_and_dscp("1 shard", &guardians, start);
    check_n_minus_one("1 shard", &guardians);

    let stats = engine.snapshot().expect("snapshot");
    let c = stats.counters();
    assert_eq!(
        c.spoofed_dropped,
        u64::from(TICKS / 5),
        "spoofed datagrams dropped and counted"
    );
    let p0 = stats
        .participant(guardians[0].id)
        .expect("participant 0 stats");
    assert_eq!(p0.spoofed_dropped, u64::from(TICKS / 5));
    assert_eq!(
        p0.mixer.packets_in,
        u64::from(guardians[0].sent),
        "only the real packets reach the mixer"
    );
    assert_eq!(c.tx_errors + c.tx_would_block, 0);
    // Tick overruns are not asserted: an unoptimised build on a shared
    // 2-core machine has them; the release load test measures them.
    assert!(stats.latency().count() > 0, "latency histogram filled");
    engine.shutdown();
}

#[test]
fn two_rooms_on_two_shards() {
    let _serial = serial();
    let mut engine = Engine::start(test_config(2, 32_000)).expect("engine starts");
    assert_eq!(engine.shard_count(), 2);
    let a = engine
        .create_room(RoomId(1), MixerConfig::default())
        .expect("room a");
    let b = engine
        .create_room(RoomId(2), MixerConfig::default())
        .expect("room b");
    assert_ne!(a, b, "rooms spread over shards");
    let per_room = 12;
    let mut guardians: Vec<Guardian> = (0..2 * per_room)
        .map(|i| {
            let room = RoomId(1 + (i / per_room) as u32);
            Guardian::join(&mut engine, room, i as u32, opus(), tone(i % per_room))
        })
        .collect();
    // Each room's ports come from its own shard's range.
    assert!(
        guardians[0].admission.local_rtp.port() / 200
            != guardians[per_room].admission.local_rtp.port() / 200
    );
    let start = run(&mut guardians, TICKS, Duration::from_millis(300), |_| {});
    let (room_a, room_b) = guardians.split_at(per_room);
    check_rates_and_dscp("2 shards, room a", room_a, start);
    check_rates_and_dscp("2 shards, room b", room_b, start);
    check_n_minus_one("2 shards, room a", room_a);
    check_n_minus_one("2 shards, room b", room_b);
    let stats = engine.snapshot().expect("snapshot");
    for r in stats.shards.iter().flatten() {
        assert_eq!(r.rooms, 1, "one room per shard");
        assert!(r.counters.tx_packets > 0, "shard {} sent", r.shard);
    }
    engine.shutdown();
}

#[test]
fn g711_and_opus_in_one_room() {
    let _serial = serial();
    let mut engine = Engine::start(test_config(1, 33_000)).expect("engine starts");
    let room = RoomId(7);
    engine
        .create_room(room, MixerConfig::default())
        .expect("room");
    // Four guardians (PCMU, PCMA, Opus, PCMU): unoptimised (debug) G.711
    // resampling is slow enough that twelve of them plus their simulated
    // terminals overload a 2-core test machine; a release build, or a dev
    // profile with media-core optimised, handles twelve with room to spare.
    let mut guardians: Vec<Guardian> = (0..4)
        .map(|i| {
            let codec = match i % 3 {
                0 => CodecConfig::Pcmu,
                1 => CodecConfig::Pcma,
                _ => opus(),
            };
            Guardian::join(&mut engine, room, i as u32, codec, tone(i))
        })
        .collect();
    let start = run(&mut guardians, TICKS, Duration::from_millis(300), |_| {});
    check_rates_and_dscp("g711+opus", &guardians, start);
    check_n_minus_one("g711+opus", &guardians);
    engine.shutdown();
}
