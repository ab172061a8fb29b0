//! Room behaviour a guardian would notice: muting takes a voice out of
//! everyone's mix, a participant who leaves stops costing anything, junk from
//! one participant never costs anyone else a frame, a silent room sends
//! nothing and resumes with a marker, and every output names the frames it
//! mixed with their arrival times.

use std::time::{Duration, Instant};

use engine::sim::{NoiseSource, SignalSource, ToneSource};
use media_core::codec::{CodecConfig, OpusConfig};
use media_core::mixer::{MixerConfig, MixerError, ParticipantConfig, ParticipantId, Room};
use xtests::{tone_powers_db, Conference};

fn opus() -> CodecConfig {
    CodecConfig::Opus(OpusConfig::default())
}

fn tones(n: usize) -> Vec<(CodecConfig, SignalSource)> {
    (0..n)
        .map(|i| {
            (
                opus(),
                SignalSource::Tone(ToneSource::new(500.0 + 400.0 * i as f64, 5000)),
            )
        })
        .collect()
}

#[test]
fn muted_voice_is_heard_by_nobody() {
    let mut conf = Conference::new(MixerConfig::default(), tones(3));
    conf.room.set_muted(ParticipantId(0), true).unwrap();
    conf.run_ticks(60);
    let freqs = [500.0, 900.0, 1300.0];
    for g in 1..3 {
        let db = tone_powers_db(&conf.guardians[g].heard, &freqs, 24_000);
        assert!(db[0] < -30.0, "guardian {g} hears the muted tone: {db:?}");
    }
    // The muted guardian still hears the others.
    let db = tone_powers_db(&conf.guardians[0].heard, &freqs, 24_000);
    assert!(db[1] > -10.0 && db[2] > -10.0, "{db:?}");
}

#[test]
fn malformed_packets_from_one_guardian_cost_nobody_a_frame() {
    let mut conf = Conference::new(MixerConfig::default(), tones(3));
    conf.run_ticks(10);
    let now = conf_time(&conf);
    let junk: [&[u8]; 5] = [
        &[],
        &[0x80],
        &[0x40; 40],
        &[0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0x90; 16],
    ];
    for datagram in junk {
        let err = conf
            .room
            .handle_rtp(now, ParticipantId(1), datagram)
            .unwrap_err();
        assert_eq!(err.kind(), "malformed_rtp");
    }
    let wrong_pt = {
        let mut p = vec![0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9];
        p.extend_from_slice(&[0; 20]);
        p
    };
    assert!(matches!(
        conf.room.handle_rtp(now, ParticipantId(1), &wrong_pt),
        Err(MixerError::WrongPayloadType { got: 0 })
    ));
    let before: Vec<u32> = conf.guardians.iter().map(|g| g.packets).collect();
    conf.run_ticks(10);
    for (g, guardian) in conf.guardians.iter().enumerate() {
        assert_eq!(
            guardian.packets - before[g],
            10,
            "guardian {g} lost a frame"
        );
    }
    let counters = conf.room.participant(ParticipantId(1)).unwrap().counters();
    assert_eq!(counters.malformed, 5);
    assert_eq!(counters.wrong_payload_type, 1);
}

#[test]
fn a_silent_room_sends_nothing_and_costs_no_encodes() {
    let members = (0..4).map(|_| (opus(), SignalSource::Silence)).collect();
    let mut conf = Conference::new(MixerConfig::default(), members);
    conf.run_ticks(20);
    // Silence is still sent by these terminals (no DTX), so the room mixes
    // it; but nobody is loud enough to be a speaker.
    assert_eq!(conf.room.speakers().count(), 0);

    // A room nobody sends to is idle: no output, no encodes.
    let mut room = Room::new(MixerConfig::default());
    room.add_participant(ParticipantConfig::new(ParticipantId(7), opus(), 111, 1))
        .unwrap();
    let t0 = conf_time(&conf);
    for k in 0..10 {
        room.tick(t0 + Duration::from_millis(20 * k));
        assert_eq!(room.output_count(), 0);
    }
    assert!(room.is_idle());
    assert_eq!(room.counters().opus_encodes, 0);
    assert_eq!(room.counters().idle_ticks, 10);
}

#[test]
fn a_guardian_who_leaves_is_forgotten_and_the_rest_carry_on() {
    let mut members = tones(3);
    members.push((opus(), SignalSource::Noise(NoiseSource::new(3, 20))));
    let mut conf = Conference::new(MixerConfig::default(), members);
    conf.run_ticks(10);
    assert!(conf.room.remove_participant(ParticipantId(0)));
    assert!(!conf.room.remove_participant(ParticipantId(0)));
    assert_eq!(conf.room.len(), 3);
    // Guardian 0 keeps sending; the room rejects its packets by id.
    let now = conf_time(&conf);
    assert!(matches!(
        conf.room.handle_rtp(now, ParticipantId(0), &[0x80; 20]),
        Err(MixerError::UnknownParticipant(_))
    ));
    let speakers: Vec<_> = conf.room.speakers().collect();
    assert!(!speakers.contains(&ParticipantId(0)));
}

#[test]
fn each_output_names_the_frames_it_mixed_and_their_arrival() {
    let mut conf = Conference::new(MixerConfig::default(), tones(4));
    conf.run_ticks(30);
    let speakers: Vec<_> = conf.room.speakers().collect();
    assert_eq!(speakers.len(), 3);
    let tick_time = conf_time(&conf);
    for out in conf.room.outputs() {
        let from: Vec<_> = out.contributions.iter().map(|c| c.participant).collect();
        let expected: Vec<_> = speakers
            .iter()
            .copied()
            .filter(|&s| s != out.participant)
            .collect();
        assert_eq!(from, expected, "receiver {:?}", out.participant);
        for c in out.contributions.iter() {
            let waited = tick_time.saturating_duration_since(c.arrival);
            // Packets arrive 2 ms after capture; the jitter buffer holds them
            // for its target delay (20–150 ms) before the mix.
            assert!(
                waited >= Duration::from_millis(10) && waited <= Duration::from_millis(170),
                "{waited:?}"
            );
        }
    }
}

#[test]
fn room_limits_are_enforced() {
    let mut room = Room::new(MixerConfig {
        participants_max: 2,
        ..MixerConfig::default()
    });
    room.add_participant(ParticipantConfig::new(ParticipantId(1), opus(), 111, 1))
        .unwrap();
    assert!(matches!(
        room.add_participant(ParticipantConfig::new(ParticipantId(1), opus(), 111, 2)),
        Err(MixerError::DuplicateParticipant(_))
    ));
    room.add_participant(ParticipantConfig::new(
        ParticipantId(2),
        CodecConfig::Pcmu,
        0,
        3,
    ))
    .unwrap();
    assert!(matches!(
        room.add_participant(ParticipantConfig::new(ParticipantId(3), opus(), 111, 4)),
        Err(MixerError::RoomFull {
            participants_max: 2
        })
    ));
}

/// The virtual time of the conference's last tick.
fn conf_time(conf: &Conference) -> Instant {
    conf.last_tick_time()
}

#[test]
fn gain_changes_how_loud_a_voice_is_in_the_mix() {
    let mut conf = Conference::new(MixerConfig::default(), tones(3));
    conf.room.set_gain_db(ParticipantId(1), -12).unwrap();
    conf.run_ticks(60);
    let db = tone_powers_db(&conf.guardians[2].heard, &[500.0, 900.0], 24_000);
    // −12 dB of amplitude is −12 dB of power relative to the untouched voice.
    assert!((db[1] + 12.0).abs() < 2.0, "{db:?}");
}

#[test]
fn mixer_to_client_levels_follow_the_csrcs_when_negotiated() {
    let config = MixerConfig {
        csrc_level_ext_id: Some(3),
        ..MixerConfig::default()
    };
    let mut conf = Conference::new(config, tones(4));
    conf.run_ticks(20);
    for out in conf.room.outputs() {
        let mut datagram = out.header.to_vec();
        datagram.extend_from_slice(out.payload);
        let packet = media_core::rtp::RtpPacket::parse(&datagram).unwrap();
        let levels: Vec<u8> = packet
            .csrc_audio_levels(3)
            .expect("RFC 6465 element")
            .collect();
        assert_eq!(levels.len(), packet.csrcs().len());
        // Tones at 5000 peak are about −19 dBov.
        assert!(levels.iter().all(|&l| (15..=25).contains(&l)), "{levels:?}");
    }
}

#[test]
fn a_new_loud_voice_is_mixed_from_its_first_frame() {
    // Three steady talkers hold the mix; a fourth, louder guardian starts
    // speaking: its very first frame must reach the listener.
    let mut members = tones(3);
    members.push((opus(), SignalSource::Silence));
    members.push((opus(), SignalSource::Noise(NoiseSource::new(5, 20))));
    let mut conf = Conference::new(MixerConfig::default(), members);
    conf.run_ticks(30);
    assert!(!conf.room.speakers().any(|s| s == ParticipantId(3)));
    conf.guardians[3]
        .sender
        .set_source(SignalSource::Tone(ToneSource::new(3000.0, 20000)));
    // Packet k is captured, arrives 2 ms later and waits one jitter-buffer
    // target (20 ms on this clean clock) before the tick that mixes it.
    conf.run_ticks(3);
    assert!(
        conf.room.speakers().any(|s| s == ParticipantId(3)),
        "loud newcomer mixed"
    );
    let first = conf
        .room
        .participant(ParticipantId(3))
        .unwrap()
        .counters()
        .decoded;
    conf.run_ticks(1);
    let next = conf
        .room
        .participant(ParticipantId(3))
        .unwrap()
        .counters()
        .decoded;
    assert_eq!(next, first + 1);
}
