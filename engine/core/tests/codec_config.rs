//! Codec configuration: Opus settings are validated and can be changed live,
//! `new_encoder`/`new_decoder` build the codec a config names, and each config
//! reports the RTP clock, timestamp step, payload type and name.

use media_core::codec::{
    new_decoder, new_encoder, AnyDecoder, AnyEncoder, CodecConfig, CodecError, Decoder, Encoder,
    Frame, OpusConfig, OpusEncoder, FRAME_SAMPLES, PAYLOAD_MAX_BYTES,
};

fn tone(freq_hz: f32, amplitude: f32, frame_index: usize) -> Frame {
    let mut frame = [0i16; FRAME_SAMPLES];
    for (i, s) in frame.iter_mut().enumerate() {
        let t = (frame_index * FRAME_SAMPLES + i) as f32 / 48_000.0;
        *s = (amplitude * (2.0 * std::f32::consts::PI * freq_hz * t).sin()) as i16;
    }
    frame
}

#[test]
fn invalid_configs_are_rejected() {
    let base = OpusConfig::default();
    for (config, field) in [
        (
            OpusConfig {
                complexity: 11,
                ..base
            },
            "complexity",
        ),
        (
            OpusConfig {
                packet_loss_pct: 101,
                ..base
            },
            "packet_loss_pct",
        ),
        (
            OpusConfig {
                bitrate_bps: 100,
                ..base
            },
            "bitrate_bps",
        ),
        (
            OpusConfig {
                bitrate_bps: 1_000_000,
                ..base
            },
            "bitrate_bps",
        ),
    ] {
        match OpusEncoder::new(config) {
            Err(CodecError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{config:?}: {other:?}"),
        }
    }
    let mut encoder = OpusEncoder::new(base).unwrap();
    assert!(encoder.set_packet_loss_pct(101).is_err());
    encoder.set_packet_loss_pct(20).unwrap();
    encoder.set_bitrate_bps(24_000).unwrap();
    let expected = OpusConfig {
        packet_loss_pct: 20,
        bitrate_bps: 24_000,
        ..base
    };
    assert_eq!(encoder.config(), CodecConfig::Opus(expected));
}

#[test]
fn reset_keeps_working_and_any_dispatch_matches_config() {
    let config = CodecConfig::Opus(OpusConfig::default());
    let mut encoder = new_encoder(config).unwrap();
    let mut decoder = new_decoder(config).unwrap();
    assert!(matches!(encoder, AnyEncoder::Opus(_)) && matches!(decoder, AnyDecoder::Opus(_)));
    assert_eq!(encoder.config(), config);
    let mut payload = [0u8; PAYLOAD_MAX_BYTES];
    let mut out = [0i16; FRAME_SAMPLES];
    for i in 0..3 {
        let len = encoder
            .encode(&tone(440.0, 8_000.0, i), &mut payload)
            .unwrap();
        decoder.decode(&payload[..len], &mut out).unwrap();
    }
    encoder.reset();
    decoder.reset();
    let len = encoder
        .encode(&tone(440.0, 8_000.0, 0), &mut payload)
        .unwrap();
    decoder.decode(&payload[..len], &mut out).unwrap();
    encoder.set_packet_loss_pct(10).unwrap();
}

#[test]
fn codec_configs_report_rtp_facts() {
    let opus = CodecConfig::Opus(OpusConfig::default());
    assert_eq!((opus.clock_rate_hz(), opus.timestamp_step()), (48_000, 960));
    assert_eq!((opus.static_payload_type(), opus.name()), (None, "opus"));
    assert_eq!(
        (
            CodecConfig::Pcmu.clock_rate_hz(),
            CodecConfig::Pcmu.timestamp_step()
        ),
        (8_000, 160)
    );
    assert_eq!(
        (
            CodecConfig::Pcmu.static_payload_type(),
            CodecConfig::Pcmu.name()
        ),
        (Some(0), "pcmu")
    );
    assert_eq!(
        (
            CodecConfig::Pcma.static_payload_type(),
            CodecConfig::Pcma.name()
        ),
        (Some(8), "pcma")
    );
    assert_eq!(CodecConfig::Pcma.timestamp_step(), 160);
}
