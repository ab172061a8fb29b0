//! G.711 as a mixer codec: 48 kHz frames are downsampled to 8 kHz and
//! companded on the way out, expanded and upsampled on the way in.
//!
//! G.711 has no loss concealment of its own. A lost frame repeats the last
//! good one under a gain that ramps down sample by sample (1 → ½ → ¼ → 0 over
//! three frames), then stays silent; the ramp avoids the clicks of a hard
//! mute, and the fade keeps a repeated 20 ms buzz from lingering.

use super::g711::{self, G711Law, FRAME_BYTES};
use super::resample::{Downsampler, NarrowFrame, Upsampler, NARROW_FRAME_SAMPLES};
use super::{CodecConfig, CodecError, Decoder, Encoder, Frame};

const _: () = assert!(FRAME_BYTES == NARROW_FRAME_SAMPLES);

/// Gain at the end of the n-th consecutive lost frame; silence after the last.
const FADE_GAINS: [f32; 3] = [0.5, 0.25, 0.0];

fn config_for(law: G711Law) -> CodecConfig {
    match law {
        G711Law::Mu => CodecConfig::Pcmu,
        G711Law::A => CodecConfig::Pcma,
    }
}

/// G.711 encoder: 48 kHz frame → 8 kHz → 160 code bytes.
#[derive(Debug)]
pub struct G711Encoder {
    law: G711Law,
    downsampler: Downsampler,
}

impl G711Encoder {
    /// An encoder for `law` with silent filter history.
    pub fn new(law: G711Law) -> Self {
        Self {
            law,
            downsampler: Downsampler::new(),
        }
    }
}

impl Encoder for G711Encoder {
    fn encode(&mut self, pcm: &Frame, out: &mut [u8]) -> Result<usize, CodecError> {
        let Some(payload) = out.get_mut(..FRAME_BYTES) else {
            return Err(CodecError::OutputTooSmall {
                needed: FRAME_BYTES,
                got: out.len(),
            });
        };
        let mut narrow: NarrowFrame = [0; NARROW_FRAME_SAMPLES];
        self.downsampler.process(pcm, &mut narrow);
        g711::encode_slice(self.law, &narrow, payload);
        Ok(FRAME_BYTES)
    }

    fn reset(&mut self) {
        self.downsampler.reset();
    }

    fn config(&self) -> CodecConfig {
        config_for(self.law)
    }
}

/// G.711 decoder: 160 code bytes → 8 kHz → 48 kHz frame, with fade-out concealment.
#[derive(Debug)]
pub struct G711Decoder {
    law: G711Law,
    upsampler: Upsampler,
    /// The last payload received, the source of concealment (kept as codes:
    /// half the size of samples, which keeps [`super::AnyDecoder`] small).
    last: [u8; FRAME_BYTES],
    /// Consecutive frames concealed since the last payload.
    lost_frames: usize,
}

impl G711Decoder {
    /// A decoder for `law` with silent history.
    pub fn new(law: G711Law) -> Self {
        Self {
            law,
            upsampler: Upsampler::new(),
            last: [law.encode(0); FRAME_BYTES],
            // Before any payload there is nothing to repeat: conceal is silence.
            lost_frames: FADE_GAINS.len(),
        }
    }

    /// The configuration this decoder was built for.
    pub fn config(&self) -> CodecConfig {
        config_for(self.law)
    }
}

impl Decoder for G711Decoder {
    fn decode(&mut self, payload: &[u8], out: &mut Frame) -> Result<(), CodecError> {
        if payload.len() != FRAME_BYTES {
            return Err(CodecError::BadPayloadLength {
                expected: FRAME_BYTES,
                got: payload.len(),
            });
        }
        self.last.copy_from_slice(payload);
        self.lost_frames = 0;
        let mut narrow: NarrowFrame = [0; NARROW_FRAME_SAMPLES];
        g711::decode_slice(self.law, payload, &mut narrow);
        self.upsampler.process(&narrow, out);
        Ok(())
    }

    fn conceal(&mut self, out: &mut Frame) -> Result<(), CodecError> {
        let index = self.lost_frames;
        self.lost_frames = self.lost_frames.saturating_add(1);
        let mut narrow: NarrowFrame = [0; NARROW_FRAME_SAMPLES];
        if let Some(&end) = FADE_GAINS.get(index) {
            let start = index.checked_sub(1).map_or(1.0, |i| FADE_GAINS[i]);
            let step = (end - start) / NARROW_FRAME_SAMPLES as f32;
            for (i, (dst, &code)) in narrow.iter_mut().zip(&self.last).enumerate() {
                let gain = start + step * (i + 1) as f32;
                *dst = (f32::from(self.law.decode(code)) * gain).round() as i16;
            }
        }
        // Through the upsampler, so the filter history stays continuous.
        self.upsampler.process(&narrow, out);
        Ok(())
    }

    fn decode_fec(&mut self, _next_payload: &[u8], out: &mut Frame) -> Result<bool, CodecError> {
        // G.711 carries no redundancy.
        self.conceal(out)?;
        Ok(false)
    }

    fn reset(&mut self) {
        self.upsampler.reset();
        self.last.fill(self.law.encode(0));
        self.lost_frames = FADE_GAINS.len();
    }
}
