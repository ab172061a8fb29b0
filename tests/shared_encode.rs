//! Proves listeners share encodes: with 12 guardians and K = 3, each tick
//! runs exactly K + 1 Opus encodes (one per speaker's own mix, one shared by
//! every listener), all listeners receive byte-identical payloads, and each
//! extra listener codec configuration costs exactly one more encode.

use engine::sim::{NoiseSource, SignalSource, ToneSource};
use media_core::codec::{CodecConfig, OpusConfig};
use media_core::mixer::MixerConfig;
use xtests::Conference;

fn members(codecs: impl Fn(usize) -> CodecConfig) -> Vec<(CodecConfig, SignalSource)> {
    (0..12)
        .map(|i| {
            let signal = if i < 5 {
                SignalSource::Tone(ToneSource::new(500.0 + 300.0 * i as f64, 4000))
            } else {
                SignalSource::Noise(NoiseSource::new(i as u32 + 1, 20))
            };
            (codecs(i), signal)
        })
        .collect()
}

#[test]
fn twelve_opus_guardians_cost_k_plus_one_encodes_per_tick() {
    let config = MixerConfig::default();
    let k = config.speakers_max as u64;
    let mut conf = Conference::new(
        config,
        members(|_| CodecConfig::Opus(OpusConfig::default())),
    );
    conf.run_ticks(10);
    for _ in 0..50 {
        let before = conf.room.counters().opus_encodes;
        conf.run_ticks(1);
        assert_eq!(conf.room.counters().opus_encodes - before, k + 1);
    }

    let speakers: Vec<_> = conf.room.speakers().collect();
    assert_eq!(speakers.len() as u64, k);
    let mut listener_payloads = Vec::new();
    let mut speaker_payloads = Vec::new();
    for out in conf.room.outputs() {
        if speakers.contains(&out.participant) {
            speaker_payloads.push(out.payload.to_vec());
        } else {
            listener_payloads.push((out.payload.as_ptr(), out.payload.to_vec()));
        }
    }
    assert_eq!(listener_payloads.len(), 9);
    assert!(
        listener_payloads.windows(2).all(|w| w[0] == w[1]),
        "one shared buffer, same bytes"
    );
    speaker_payloads.sort();
    speaker_payloads.dedup();
    assert_eq!(
        speaker_payloads.len() as u64,
        k,
        "each speaker has a mix of their own"
    );
}

#[test]
fn each_listener_codec_configuration_costs_one_encode() {
    let config = MixerConfig::default();
    let k = config.speakers_max as u64;
    let low_bitrate = OpusConfig {
        bitrate_bps: 16_000,
        ..OpusConfig::default()
    };
    // Speakers (0..3) are Opus; listeners use Opus, Opus at 16 kb/s, PCMU and PCMA.
    let mut conf = Conference::new(
        config,
        members(|i| match i {
            0..=5 => CodecConfig::Opus(OpusConfig::default()),
            6 | 7 => CodecConfig::Opus(low_bitrate),
            8 | 9 => CodecConfig::Pcmu,
            _ => CodecConfig::Pcma,
        }),
    );
    conf.run_ticks(10);
    let before = conf.room.counters();
    conf.run_ticks(10);
    let after = conf.room.counters();
    assert_eq!(after.opus_encodes - before.opus_encodes, 10 * (k + 2));
    assert_eq!(after.g711_encodes - before.g711_encodes, 10 * 2);
}
