//! G.711 is bit-exact with ITU-T G.191 (`g711.c`): known code points computed
//! from the standard's expansion formulas, decode→encode identity over all 256
//! codes, monotone decoding, and the 20 ms codec wrapper's size checks and
//! fade-out concealment.

use media_core::codec::g711::{alaw_encode, ulaw_encode, ALAW_DECODE, FRAME_BYTES, ULAW_DECODE};
use media_core::codec::{
    new_decoder, new_encoder, CodecConfig, CodecError, Decoder, Encoder, Frame, G711Decoder,
    G711Law, FRAME_SAMPLES,
};

#[test]
fn ulaw_known_code_points() {
    // G.191 ulaw_expand: c' = !code, e = (c' >> 4) & 7, m = c' & 15, step = 4 << (e + 1),
    // |y| = (0x80 << e) + step·m + step/2 − 132; codes below 0x80 are negative.
    // 0x00: e = 7, m = 15, step = 1024: 16384 + 15360 + 512 − 132 = 32124, negative.
    assert_eq!(ULAW_DECODE[0x00], -32124);
    // 0x80: the same magnitude, positive.
    assert_eq!(ULAW_DECODE[0x80], 32124);
    // 0xFF: e = 0, m = 0, step = 8: 128 + 0 + 4 − 132 = 0; 0x7F likewise, "negative zero".
    assert_eq!(ULAW_DECODE[0xFF], 0);
    assert_eq!(ULAW_DECODE[0x7F], 0);
    // 0xEF: c' = 0x10, e = 1, m = 0, step = 16: 256 + 0 + 8 − 132 = 132.
    assert_eq!(ULAW_DECODE[0xEF], 132);
    // Encode: 0 → 0xFF; −1 → one's complement 0 → the negative zero 0x7F (G.191, not Sun's 0x7E).
    assert_eq!(ulaw_encode(0), 0xFF);
    assert_eq!(ulaw_encode(-1), 0x7F);
    // −31612: one's complement 31611 >> 2 = 7902, +33 = 7935, segment 8, mantissa
    // (7935 >> 8) & 15 = 14 → 0x01. (Sun's g711.c negates instead and gets 0x00.)
    assert_eq!(ulaw_encode(-31612), 0x01);
    assert_eq!(ulaw_encode(i16::MAX), 0x80);
    assert_eq!(ulaw_encode(i16::MIN), 0x00);
}

#[test]
fn alaw_known_code_points() {
    // G.191 alaw_expand: x = code ^ 0x55, e = (x & 0x7F) >> 4, m = x & 15 (+16 if e > 0),
    // |y| = ((m << 4) + 8) << max(e − 1, 0); codes above 127 are positive.
    // 0xD5: x = 0x80, e = 0, m = 0: |y| = 8, positive.
    assert_eq!(ALAW_DECODE[0xD5], 8);
    // 0x55: x = 0, the same magnitude, negative.
    assert_eq!(ALAW_DECODE[0x55], -8);
    // 0x2A: x = 0x7F, e = 7, m = 31: (496 + 8) << 6 = 32256, negative.
    assert_eq!(ALAW_DECODE[0x2A], -32256);
    // 0xAA: x = 0xFF, the same magnitude, positive.
    assert_eq!(ALAW_DECODE[0xAA], 32256);
    // 0xC5: x = 0x90, e = 1, m = 16: (256 + 8) << 0 = 264.
    assert_eq!(ALAW_DECODE[0xC5], 264);
    assert_eq!(alaw_encode(0), 0xD5);
    assert_eq!(alaw_encode(-1), 0x55);
    assert_eq!(alaw_encode(i16::MAX), 0xAA);
    assert_eq!(alaw_encode(i16::MIN), 0x2A);
}

#[test]
fn ulaw_decode_then_encode_is_identity() {
    for code in 0..=255u8 {
        let back = ulaw_encode(ULAW_DECODE[usize::from(code)]);
        // 0x7F decodes to 0, whose code is the positive zero 0xFF.
        let expected = if code == 0x7F { 0xFF } else { code };
        assert_eq!(back, expected, "code {code:#04x}");
    }
}

#[test]
fn alaw_decode_then_encode_is_identity() {
    for code in 0..=255u8 {
        assert_eq!(
            alaw_encode(ALAW_DECODE[usize::from(code)]),
            code,
            "code {code:#04x}"
        );
    }
}

/// Codes in order of the value they stand for: negatives from the most
/// negative up, then positives from the smallest up.
fn ordered_codes(law: G711Law) -> Vec<u8> {
    match law {
        // μ-law magnitude grows as the low 7 bits fall.
        G711Law::Mu => (0x00..=0x7F).chain((0x80..=0xFF).rev()).collect(),
        // A-law magnitude grows with (code ^ 0x55) & 0x7F.
        G711Law::A => {
            let negative = (0..=0x7Fu8).rev().map(|x| x ^ 0x55);
            let positive = (0..=0x7Fu8).map(|x| (x | 0x80) ^ 0x55);
            negative.chain(positive).collect()
        }
    }
}

#[test]
fn decode_is_strictly_monotone() {
    for law in [G711Law::Mu, G711Law::A] {
        let values: Vec<i16> = ordered_codes(law)
            .into_iter()
            .map(|c| law.decode(c))
            .collect();
        for pair in values.windows(2) {
            // μ-law has one tie: its two zeros.
            let tie = law == G711Law::Mu && pair == [0, 0];
            assert!(
                pair[0] < pair[1] || tie,
                "{law:?}: {} then {}",
                pair[0],
                pair[1]
            );
        }
    }
}

#[test]
fn encode_is_monotone() {
    for law in [G711Law::Mu, G711Law::A] {
        let mut previous = i16::MIN;
        for x in i16::MIN..=i16::MAX {
            let y = law.decode(law.encode(x));
            assert!(y >= previous, "{law:?}: x = {x}");
            previous = y;
        }
    }
}

fn tone(freq_hz: f32, amplitude: f32, frame_index: usize) -> Frame {
    let mut frame = [0i16; FRAME_SAMPLES];
    for (i, s) in frame.iter_mut().enumerate() {
        let t = (frame_index * FRAME_SAMPLES + i) as f32 / 48_000.0;
        *s = (amplitude * (2.0 * std::f32::consts::PI * freq_hz * t).sin()) as i16;
    }
    frame
}

#[test]
fn decoder_rejects_wrong_payload_sizes() {
    let mut decoder = new_decoder(CodecConfig::Pcmu).unwrap();
    let mut out = [0i16; FRAME_SAMPLES];
    for len in [0, 1, 80, 159, 161, 320] {
        let payload = vec![0xFFu8; len];
        match decoder.decode(&payload, &mut out) {
            Err(CodecError::BadPayloadLength {
                expected: FRAME_BYTES,
                got,
            }) => assert_eq!(got, len),
            other => panic!("len {len}: {other:?}"),
        }
    }
    assert!(decoder.decode(&[0xFF; FRAME_BYTES], &mut out).is_ok());
}

#[test]
fn encoder_rejects_a_short_output_buffer() {
    let mut encoder = new_encoder(CodecConfig::Pcma).unwrap();
    let mut out = [0u8; FRAME_BYTES - 1];
    let result = encoder.encode(&[0; FRAME_SAMPLES], &mut out);
    assert!(matches!(
        result,
        Err(CodecError::OutputTooSmall {
            needed: FRAME_BYTES,
            ..
        })
    ));
}

#[test]
fn encoder_emits_160_bytes_per_frame_and_reports_its_config() {
    for config in [CodecConfig::Pcmu, CodecConfig::Pcma] {
        let mut encoder = new_encoder(config).unwrap();
        assert_eq!(encoder.config(), config);
        let mut out = [0u8; 1500];
        assert_eq!(
            encoder.encode(&tone(440.0, 8000.0, 0), &mut out).unwrap(),
            FRAME_BYTES
        );
    }
}

fn peak(frame: &Frame) -> i32 {
    frame.iter().map(|&s| i32::from(s).abs()).max().unwrap_or(0)
}

#[test]
fn concealment_fades_the_last_frame_to_silence() {
    let mut encoder = new_encoder(CodecConfig::Pcma).unwrap();
    let mut decoder = G711Decoder::new(G711Law::A);
    let mut payload = [0u8; FRAME_BYTES];
    let mut out = [0i16; FRAME_SAMPLES];
    for i in 0..5 {
        encoder
            .encode(&tone(440.0, 10_000.0, i), &mut payload)
            .unwrap();
        decoder.decode(&payload, &mut out).unwrap();
    }
    let full = peak(&out);
    let mut peaks = Vec::new();
    for _ in 0..5 {
        decoder.conceal(&mut out).unwrap();
        peaks.push(peak(&out));
    }
    // The first concealed frame still carries the signal, then it decays.
    assert!(peaks[0] > full / 2, "{full} then {peaks:?}");
    assert!(peaks.windows(2).all(|p| p[1] <= p[0]), "{peaks:?}");
    // Three ramp frames, then the filter tail, then silence.
    assert_eq!(peaks[4], 0, "{peaks:?}");
    // A payload brings the signal back at once.
    encoder
        .encode(&tone(440.0, 10_000.0, 10), &mut payload)
        .unwrap();
    decoder.decode(&payload, &mut out).unwrap();
    decoder.decode(&payload, &mut out).unwrap();
    assert!(peak(&out) > full * 9 / 10);
    // G.711 has no FEC: decode_fec conceals and says so.
    assert!(!decoder.decode_fec(&payload, &mut out).unwrap());
}

#[test]
fn tone_survives_the_g711_round_trip() {
    for config in [CodecConfig::Pcmu, CodecConfig::Pcma] {
        let mut encoder = new_encoder(config).unwrap();
        let mut decoder = new_decoder(config).unwrap();
        let mut payload = [0u8; FRAME_BYTES];
        let mut out = [0i16; FRAME_SAMPLES];
        for i in 0..10 {
            encoder
                .encode(&tone(1_000.0, 8_000.0, i), &mut payload)
                .unwrap();
            decoder.decode(&payload, &mut out).unwrap();
        }
        let tone_power = media_core::codec::goertzel_power(&out, 1_000.0, 48_000);
        let expected = 8_000.0f32 * 8_000.0 / 2.0;
        let error_db = 10.0 * (tone_power / expected).log10();
        assert!(error_db.abs() < 0.5, "{config:?}: {error_db} dB");
    }
}

#[test]
fn concealment_before_any_payload_or_after_reset_is_silence() {
    for law in [G711Law::Mu, G711Law::A] {
        let mut decoder = G711Decoder::new(law);
        let mut out = [1i16; FRAME_SAMPLES];
        decoder.conceal(&mut out).unwrap();
        assert!(out.iter().all(|&s| s == 0), "{law:?}");
        decoder
            .decode(&[law.encode(20_000); FRAME_BYTES], &mut out)
            .unwrap();
        decoder.reset();
        decoder.conceal(&mut out).unwrap();
        assert!(out.iter().all(|&s| s == 0), "{law:?} after reset");
    }
}
