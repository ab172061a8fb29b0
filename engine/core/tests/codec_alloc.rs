//! Encode, decode, conceal, FEC decode and reset never allocate after
//! construction: a counting global allocator watches this thread while every
//! codec runs a stretch of speech with losses. (libopus's own buffers live on
//! the C stack or in the state made at construction.)

use media_core::codec::{
    new_decoder, new_encoder, CodecConfig, Decoder, Encoder, Frame, OpusConfig, FRAME_SAMPLES,
    PAYLOAD_MAX_BYTES,
};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::count_allocations;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../bench/fixtures/speech_48k_mono.s16"
);

#[test]
fn codecs_do_not_allocate_per_frame() {
    let bytes = std::fs::read(FIXTURE).expect("bench/fixtures/speech_48k_mono.s16");
    let pcm: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let frames: Vec<&Frame> = pcm
        .chunks_exact(FRAME_SAMPLES)
        .map(|c| c.try_into().unwrap())
        .collect();
    let lossy_opus = OpusConfig {
        packet_loss_pct: 10,
        ..OpusConfig::default()
    };
    for config in [
        CodecConfig::Opus(OpusConfig::default()),
        CodecConfig::Opus(lossy_opus),
        CodecConfig::Pcmu,
        CodecConfig::Pcma,
    ] {
        let mut encoder = new_encoder(config).unwrap();
        let mut decoder = new_decoder(config).unwrap();
        let mut payload = [0u8; PAYLOAD_MAX_BYTES];
        let mut next = [0u8; PAYLOAD_MAX_BYTES];
        let mut out: Frame = [0; FRAME_SAMPLES];

        let ((), allocations) = count_allocations(|| {
            let mut len = encoder.encode(frames[0], &mut payload).unwrap();
            for (i, pair) in frames.windows(2).enumerate() {
                let next_len = encoder.encode(pair[1], &mut next).unwrap();
                match i % 10 {
                    // One frame in ten is lost and rebuilt from the next packet.
                    3 => {
                        decoder.decode_fec(&next[..next_len], &mut out).unwrap();
                    }
                    7 => decoder.conceal(&mut out).unwrap(),
                    _ => decoder.decode(&payload[..len], &mut out).unwrap(),
                }
                payload[..next_len].copy_from_slice(&next[..next_len]);
                len = next_len;
            }
            let _ = decoder.decode(&[0xFF; 3], &mut out);
            encoder.reset();
            decoder.reset();
        });

        assert_eq!(allocations, 0, "{config:?}");
    }
}
