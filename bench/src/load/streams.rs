//! Pre-encoded guardian streams. The generator must measure the engine, not
//! itself, so talker and noise frames are encoded once before the run and
//! replayed; only the RTP header (SSRC, sequence, timestamp) is written per
//! packet.

use std::sync::Arc;

use engine::sim::{self, NoiseSource, SignalSource, SpeechSource};
use media_core::codec::{self, CodecConfig, CodecError, Encoder as _, Frame, FRAME_SAMPLES};
use media_core::mixer::frame_level_dbov;

use crate::marker;

/// One pre-encoded 20 ms frame.
#[derive(Clone, Debug)]
pub struct EncodedFrame {
    /// Codec payload.
    pub payload: Vec<u8>,
    /// RFC 6464 level of the PCM it came from.
    pub level_dbov: u8,
    /// The frame is a mouth-to-ear marker.
    pub marker: bool,
}

/// A looped stream: its frames and the PCM they were encoded from.
#[derive(Debug)]
pub struct Stream {
    /// Encoded frames, replayed in a loop.
    pub frames: Vec<EncodedFrame>,
    /// The PCM each frame was encoded from (for recordings of what was sent).
    pub pcm: Vec<Frame>,
}

impl Stream {
    /// Frame `index` of the loop.
    pub fn frame(&self, index: u64) -> (&EncodedFrame, &Frame) {
        let i = (index % self.frames.len() as u64) as usize;
        (&self.frames[i], &self.pcm[i])
    }
}

/// Speech and noise streams for one codec.
#[derive(Debug, Clone)]
pub struct Streams {
    /// Speech with a marker every `marker_interval_frames`.
    pub speech: Arc<Stream>,
    /// Low-level noise (a guardian that is not talking still sends).
    pub noise: Arc<Stream>,
}

/// Frames between two markers in the speech loop (1 s).
pub const MARKER_INTERVAL_FRAMES: u64 = 50;
/// Length of the pre-encoded loops (10 s).
const LOOP_FRAMES: usize = 500;

impl Streams {
    /// Encodes the loops for `codec`.
    pub fn encode(codec: CodecConfig) -> Result<Self, CodecError> {
        let speech_pcm: Arc<[i16]> = sim::speech_fixture().into();
        let chirp = marker::chirp();
        let mut speech = SignalSource::Speech(SpeechSource::new(speech_pcm, 0));
        let speech = encode_loop(codec, |i, frame| {
            if i as u64 % MARKER_INTERVAL_FRAMES == MARKER_INTERVAL_FRAMES / 2 {
                *frame = chirp;
                true
            } else {
                speech.fill(frame);
                false
            }
        })?;
        let mut noise = SignalSource::Noise(NoiseSource::new(0x5eed, 40));
        let noise = encode_loop(codec, |_, frame| {
            noise.fill(frame);
            false
        })?;
        Ok(Self {
            speech: Arc::new(speech),
            noise: Arc::new(noise),
        })
    }
}

fn encode_loop(
    codec: CodecConfig,
    mut fill: impl FnMut(usize, &mut Frame) -> bool,
) -> Result<Stream, CodecError> {
    let mut encoder = codec::new_encoder(codec)?;
    let mut frames = Vec::with_capacity(LOOP_FRAMES);
    let mut pcm = Vec::with_capacity(LOOP_FRAMES);
    let mut buf = [0u8; codec::PAYLOAD_MAX_BYTES];
    for i in 0..LOOP_FRAMES {
        let mut frame = [0i16; FRAME_SAMPLES];
        let marker = fill(i, &mut frame);
        let n = encoder.encode(&frame, &mut buf)?;
        frames.push(EncodedFrame {
            payload: buf[..n].to_vec(),
            level_dbov: frame_level_dbov(&frame),
            marker,
        });
        pcm.push(frame);
    }
    Ok(Stream { frames, pcm })
}
