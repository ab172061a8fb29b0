//! Proves the mix is N−1: each guardian sends a distinct tone through a real
//! encoder, RTP, the jitter buffer, the mixer and its own client decoder;
//! Goertzel filters on what each guardian hears show the mixed speakers'
//! tones and never the guardian's own — for Opus rooms, G.711 rooms and rooms
//! mixing both.

use engine::sim::{NoiseSource, SignalSource, ToneSource};
use media_core::codec::{CodecConfig, OpusConfig};
use media_core::mixer::MixerConfig;
use xtests::{tone_powers_db, Conference};

/// Distinct tones inside the G.711 band, 230 Hz apart.
fn tone_hz(i: usize) -> f32 {
    430.0 + 230.0 * i as f32
}

/// A tone this far below the loudest one counts as absent.
const ABSENT_DB: f32 = -30.0;
/// A mixed tone is at most this far below the loudest one.
const PRESENT_DB: f32 = -10.0;

fn check_n_minus_one(codecs: impl Fn(usize) -> CodecConfig, talkers: usize, label: &str) {
    let guardians = 12;
    let members = (0..guardians)
        .map(|i| {
            let signal = if i < talkers {
                SignalSource::Tone(ToneSource::new(f64::from(tone_hz(i)), 5000))
            } else {
                SignalSource::Noise(NoiseSource::new(i as u32 + 7, 20))
            };
            (codecs(i), signal)
        })
        .collect();
    let mut conf = Conference::new(MixerConfig::default(), members);
    conf.run_ticks(100);

    let speakers: Vec<usize> = conf.room.speakers().map(|id| id.0 as usize).collect();
    assert_eq!(
        speakers.len(),
        3.min(talkers),
        "{label}: top-K picks the tone senders"
    );
    let freqs: Vec<f32> = (0..talkers).map(tone_hz).collect();
    for (g, guardian) in conf.guardians.iter().enumerate() {
        assert_eq!(
            guardian.packets, 100,
            "{label}: guardian {g} gets a packet every tick"
        );
        let db = tone_powers_db(&guardian.heard, &freqs, 24_000);
        for (t, level) in db.iter().enumerate() {
            let mixed_for_me = speakers.contains(&t) && t != g;
            if mixed_for_me {
                assert!(
                    *level > PRESENT_DB,
                    "{label}: guardian {g} should hear tone {t}: {db:?}"
                );
            } else {
                assert!(
                    *level < ABSENT_DB,
                    "{label}: guardian {g} must not hear tone {t}: {db:?}"
                );
            }
        }
    }
}

#[test]
fn opus_room_of_twelve_all_sending_tones() {
    check_n_minus_one(
        |_| CodecConfig::Opus(OpusConfig::default()),
        12,
        "opus 12 tones",
    );
}

#[test]
fn opus_room_with_three_talkers_and_nine_quiet() {
    check_n_minus_one(
        |_| CodecConfig::Opus(OpusConfig::default()),
        3,
        "opus 3 talkers",
    );
}

#[test]
fn g711_room() {
    check_n_minus_one(
        |i| {
            if i % 2 == 0 {
                CodecConfig::Pcmu
            } else {
                CodecConfig::Pcma
            }
        },
        12,
        "g711",
    );
}

#[test]
fn g711_and_opus_guardians_in_one_room() {
    check_n_minus_one(
        |i| {
            if i % 3 == 0 {
                CodecConfig::Pcmu
            } else {
                CodecConfig::Opus(OpusConfig::default())
            }
        },
        12,
        "mixed",
    );
}

#[test]
fn csrcs_name_the_other_speakers() {
    let members = (0..5)
        .map(|i| {
            let signal = SignalSource::Tone(ToneSource::new(f64::from(tone_hz(i)), 5000));
            (CodecConfig::Opus(OpusConfig::default()), signal)
        })
        .collect();
    let mut conf = Conference::new(MixerConfig::default(), members);
    conf.run_ticks(20);
    let speakers: Vec<u32> = conf.room.speakers().map(|id| id.0).collect();
    for (g, guardian) in conf.guardians.iter().enumerate() {
        let expected = speakers.iter().filter(|&&s| s as usize != g).count();
        assert_eq!(guardian.last_csrcs.len(), expected, "guardian {g}");
    }
}
