//! Opus through the codec traits: tones keep their frequency, loss is covered
//! by PLC and by in-band FEC when the next packet carries it, DTX shrinks
//! silence, and malformed or random payloads give typed errors, never panics.

use media_core::codec::{
    goertzel_power, new_decoder, new_encoder, opus_packet_has_fec, CodecConfig, CodecError,
    Decoder, Encoder, Frame, OpusApplication, OpusConfig, OpusDecoder, OpusEncoder, FRAME_SAMPLES,
    PAYLOAD_MAX_BYTES,
};
use proptest::prelude::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../bench/fixtures/speech_48k_mono.s16"
);

fn speech_frames() -> Vec<Frame> {
    let bytes = std::fs::read(FIXTURE).expect("bench/fixtures/speech_48k_mono.s16");
    let pcm: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    pcm.chunks_exact(FRAME_SAMPLES)
        .map(|c| c.try_into().unwrap())
        .collect()
}

fn tone(freq_hz: f32, amplitude: f32, frame_index: usize) -> Frame {
    let mut frame = [0i16; FRAME_SAMPLES];
    for (i, s) in frame.iter_mut().enumerate() {
        let t = (frame_index * FRAME_SAMPLES + i) as f32 / 48_000.0;
        *s = (amplitude * (2.0 * std::f32::consts::PI * freq_hz * t).sin()) as i16;
    }
    frame
}

fn encode_all(config: OpusConfig, frames: &[Frame]) -> Vec<Vec<u8>> {
    let mut encoder = OpusEncoder::new(config).unwrap();
    let mut out = [0u8; PAYLOAD_MAX_BYTES];
    frames
        .iter()
        .map(|f| {
            let len = encoder.encode(f, &mut out).unwrap();
            out[..len].to_vec()
        })
        .collect()
}

fn power_db(frame: &Frame, freq_hz: f32) -> f32 {
    10.0 * goertzel_power(frame, freq_hz, 48_000).max(1e-3).log10()
}

#[test]
fn tone_keeps_its_frequency_in_every_mode() {
    let amplitude = 8_000.0f32;
    let input_db = 10.0 * (amplitude * amplitude / 2.0).log10();
    for application in [
        OpusApplication::Voip,
        OpusApplication::Audio,
        OpusApplication::RestrictedLowDelay,
    ] {
        for complexity in [0, 5, 10] {
            let config = OpusConfig {
                application,
                complexity,
                ..OpusConfig::default()
            };
            let mut encoder = new_encoder(CodecConfig::Opus(config)).unwrap();
            let mut decoder = new_decoder(CodecConfig::Opus(config)).unwrap();
            let mut payload = [0u8; PAYLOAD_MAX_BYTES];
            let mut out = [0i16; FRAME_SAMPLES];
            for i in 0..25 {
                let len = encoder
                    .encode(&tone(1_000.0, amplitude, i), &mut payload)
                    .unwrap();
                decoder.decode(&payload[..len], &mut out).unwrap();
            }
            let at_tone = power_db(&out, 1_000.0);
            let label = format!("{application:?}/{complexity}");
            assert!(
                (at_tone - input_db).abs() < 3.0,
                "{label}: {at_tone} vs {input_db} dB"
            );
            for other_hz in [500.0, 1_500.0, 2_000.0, 3_000.0] {
                let leak = power_db(&out, other_hz);
                assert!(
                    at_tone - leak > 25.0,
                    "{label}: {other_hz} Hz at {leak} dB vs {at_tone} dB"
                );
            }
        }
    }
}

#[test]
fn concealment_runs_for_many_frames_and_decays() {
    let mut encoder = OpusEncoder::new(OpusConfig::default()).unwrap();
    let mut decoder = OpusDecoder::new().unwrap();
    let mut payload = [0u8; PAYLOAD_MAX_BYTES];
    let mut out = [0i16; FRAME_SAMPLES];
    for i in 0..10 {
        let len = encoder
            .encode(&tone(440.0, 8_000.0, i), &mut payload)
            .unwrap();
        decoder.decode(&payload[..len], &mut out).unwrap();
    }
    decoder.conceal(&mut out).unwrap();
    let first = power_db(&out, 440.0);
    assert!(
        first > 50.0,
        "PLC keeps the tone going at first: {first} dB"
    );
    for _ in 0..20 {
        decoder.conceal(&mut out).unwrap();
    }
    assert!(power_db(&out, 440.0) < first - 20.0, "PLC fades out");
    // The stream picks up again after the loss.
    let len = encoder
        .encode(&tone(440.0, 8_000.0, 40), &mut payload)
        .unwrap();
    decoder.decode(&payload[..len], &mut out).unwrap();
}

#[test]
fn fec_recovers_a_lost_frame_from_the_next_packet() {
    // At 32 kb/s libopus 1.3.1 emits LBRR only for expected loss above 5 %.
    let config = OpusConfig {
        packet_loss_pct: 10,
        ..OpusConfig::default()
    };
    let packets = encode_all(config, &speech_frames());
    let with_fec = packets.iter().filter(|p| opus_packet_has_fec(p)).count();
    assert!(
        with_fec > packets.len() / 2,
        "{with_fec} of {} packets carry FEC",
        packets.len()
    );

    let lost = (10..packets.len() - 1)
        .find(|&i| opus_packet_has_fec(&packets[i + 1]))
        .unwrap();
    let mut recovering = OpusDecoder::new().unwrap();
    let mut concealing = OpusDecoder::new().unwrap();
    let mut out = [0i16; FRAME_SAMPLES];
    for packet in &packets[..lost] {
        recovering.decode(packet, &mut out).unwrap();
        concealing.decode(packet, &mut out).unwrap();
    }
    let mut recovered = [0i16; FRAME_SAMPLES];
    let mut concealed = [0i16; FRAME_SAMPLES];
    assert!(recovering
        .decode_fec(&packets[lost + 1], &mut recovered)
        .unwrap());
    concealing.conceal(&mut concealed).unwrap();
    assert_ne!(recovered, concealed, "FEC output is not just PLC");
    // And the next packet then decodes normally.
    recovering.decode(&packets[lost + 1], &mut out).unwrap();
}

#[test]
fn decode_fec_conceals_when_the_next_packet_has_no_fec() {
    // Without expected loss no LBRR is sent; CELT-only modes never carry it.
    for config in [
        OpusConfig {
            fec: false,
            ..OpusConfig::default()
        },
        OpusConfig {
            application: OpusApplication::RestrictedLowDelay,
            ..OpusConfig::default()
        },
    ] {
        let packets = encode_all(config, &speech_frames()[..20]);
        let mut decoder = new_decoder(CodecConfig::Opus(config)).unwrap();
        let mut out = [0i16; FRAME_SAMPLES];
        for packet in &packets[..10] {
            decoder.decode(packet, &mut out).unwrap();
        }
        assert!(!opus_packet_has_fec(&packets[11]));
        assert!(!decoder.decode_fec(&packets[11], &mut out).unwrap());
        // Unusable "next" payloads conceal too.
        assert!(!decoder.decode_fec(&[], &mut out).unwrap());
        assert!(!decoder.decode_fec(&[0xFF, 0xFF, 0xFF], &mut out).unwrap());
    }
}

#[test]
fn fec_flag_is_read_from_the_silk_header_bits() {
    // TOC config 1 (SILK NB 20 ms), code 0: VAD flag is bit 7, LBRR flag bit 6.
    let silk_20ms = 1 << 3;
    assert!(opus_packet_has_fec(&[silk_20ms, 0x40]));
    assert!(opus_packet_has_fec(&[silk_20ms, 0xC0]));
    assert!(!opus_packet_has_fec(&[silk_20ms, 0x80]));
    // SILK 40 ms (config 2): two VAD flags, so LBRR is bit 5.
    assert!(opus_packet_has_fec(&[2 << 3, 0x20]));
    assert!(!opus_packet_has_fec(&[2 << 3, 0x40]));
    // CELT-only, multi-frame codes, DTX (no frame data) and empty: no FEC.
    assert!(!opus_packet_has_fec(&[16 << 3, 0xFF]));
    assert!(!opus_packet_has_fec(&[silk_20ms | 1, 0x40, 0x40]));
    assert!(!opus_packet_has_fec(&[silk_20ms]));
    assert!(!opus_packet_has_fec(&[]));
}

#[test]
fn malformed_payloads_are_typed_errors() {
    let mut decoder = OpusDecoder::new().unwrap();
    let mut out = [0i16; FRAME_SAMPLES];
    assert!(matches!(
        decoder.decode(&[], &mut out),
        Err(CodecError::EmptyPayload)
    ));
    // Code 3 with a frame count of zero is invalid (RFC 6716 §3.2.5): no audio at all.
    let zero_frames = decoder.decode(&[0x0B, 0x00], &mut out);
    assert!(
        matches!(
            zero_frames,
            Err(CodecError::BadFrameDuration { got: 0, .. })
        ),
        "{zero_frames:?}"
    );
    // Code 3 without its frame-count byte.
    assert!(matches!(
        decoder.decode(&[0x0B], &mut out),
        Err(CodecError::Opus { .. })
    ));
    // Code 1 (two equal 10 ms frames) with an odd number of frame bytes.
    let odd = decoder.decode(&[0x01, 1, 2, 3], &mut out);
    assert!(matches!(odd, Err(CodecError::Opus { .. })), "{odd:?}");
    // Code 2 whose first frame claims more bytes than there are.
    let overlong = decoder.decode(&[0x02, 200, 1, 2], &mut out);
    assert!(
        matches!(overlong, Err(CodecError::Opus { .. })),
        "{overlong:?}"
    );
    // A 40 ms packet is well formed but not one frame.
    match decoder.decode(&[2 << 3, 0x00, 0x00], &mut out) {
        Err(CodecError::BadFrameDuration {
            expected: 960,
            got: 1920,
        }) => {}
        other => panic!("{other:?}"),
    }
    // A 10 ms packet likewise.
    assert!(matches!(
        decoder.decode(&[0, 0], &mut out),
        Err(CodecError::BadFrameDuration { .. })
    ));
    // After all that the decoder still works.
    let packets = encode_all(OpusConfig::default(), &speech_frames()[..3]);
    decoder.decode(&packets[0], &mut out).unwrap();
}

proptest! {
    #[test]
    fn random_payloads_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut decoder = OpusDecoder::new().unwrap();
        let mut out = [0i16; FRAME_SAMPLES];
        // Many random byte strings are valid Opus; the rest must be errors.
        let _ = decoder.decode(&payload, &mut out);
        let _ = decoder.decode_fec(&payload, &mut out);
        decoder.conceal(&mut out).unwrap();
        let _ = opus_packet_has_fec(&payload);
    }
}

#[test]
fn encoder_output_buffer_too_small_is_an_error() {
    let mut encoder = new_encoder(CodecConfig::default()).unwrap();
    assert!(matches!(
        encoder.encode(&tone(440.0, 8_000.0, 0), &mut []),
        Err(CodecError::Opus { .. })
    ));
    let mut payload = [0u8; PAYLOAD_MAX_BYTES];
    assert!(
        encoder
            .encode(&tone(440.0, 8_000.0, 1), &mut payload)
            .unwrap()
            > 2
    );
}

#[test]
fn dtx_sends_tiny_packets_in_silence() {
    let config = OpusConfig {
        dtx: true,
        ..OpusConfig::default()
    };
    let packets = encode_all(config, &[[0i16; FRAME_SAMPLES]; 50]);
    assert!(
        packets[40..].iter().all(|p| p.len() <= 2),
        "{:?}",
        packets[40].len()
    );
    let mut decoder = OpusDecoder::new().unwrap();
    let mut out = [0i16; FRAME_SAMPLES];
    for packet in packets.iter().filter(|p| !p.is_empty()) {
        decoder.decode(packet, &mut out).unwrap();
    }
    assert!(out.iter().all(|&s| s.abs() < 50));
}
