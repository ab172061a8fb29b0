//! Simulated guardians: signal sources and the client side of a terminal
//! (encode a 20 ms frame, put the RFC 6464 level in an RTP header extension,
//! number and timestamp the packet). Used by `engine demo`, the benchmarks
//! and the tests, so all of them feed the mixer the same real bytes a
//! terminal would send.

mod signal;

pub use signal::{speech_fixture, NoiseSource, SignalSource, SpeechSource, ToneSource};

use media_core::codec::{self, AnyEncoder, CodecConfig, CodecError, Encoder as _, Frame};
use media_core::mixer::frame_level_dbov;
use media_core::rtp::{self, AudioLevel, ExtensionForm, RtpHeaderFields};

/// Header extension id the simulated terminals use for RFC 6464 levels.
pub const AUDIO_LEVEL_EXT_ID: u8 = 1;
/// Dynamic payload type used for Opus (RFC 7587 leaves it to signalling).
pub const OPUS_PAYLOAD_TYPE: u8 = 111;

/// The RTP payload type a simulated terminal uses for `codec`.
pub fn payload_type(codec: CodecConfig) -> u8 {
    codec.static_payload_type().unwrap_or(OPUS_PAYLOAD_TYPE)
}

/// One simulated terminal's sending side.
#[derive(Debug)]
pub struct SimSender {
    codec: CodecConfig,
    encoder: AnyEncoder,
    source: SignalSource,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    frame: Frame,
    payload: [u8; codec::PAYLOAD_MAX_BYTES],
    started: bool,
}

impl SimSender {
    /// A sender of `source`, encoded with `codec`, from `ssrc`.
    pub fn new(codec: CodecConfig, source: SignalSource, ssrc: u32) -> Result<Self, CodecError> {
        Ok(Self {
            codec,
            encoder: codec::new_encoder(codec)?,
            source,
            ssrc,
            seq: (ssrc >> 16) as u16,
            timestamp: ssrc.rotate_left(7),
            frame: [0; codec::FRAME_SAMPLES],
            payload: [0; codec::PAYLOAD_MAX_BYTES],
            started: false,
        })
    }

    /// The sender's SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Changes what the terminal says from the next frame on.
    pub fn set_source(&mut self, source: SignalSource) {
        self.source = source;
    }

    /// The PCM of the last frame produced (what the terminal "said").
    pub fn last_frame(&self) -> &Frame {
        &self.frame
    }

    /// Produces the next 20 ms packet into `out`, returning its length.
    pub fn next_packet(&mut self, out: &mut [u8]) -> Result<usize, SimError> {
        self.source.fill(&mut self.frame);
        let level_dbov = frame_level_dbov(&self.frame);
        let len = self.encoder.encode(&self.frame, &mut self.payload)?;
        // RFC 6464: V flags voice; the simulated VAD calls anything louder than −50 dBov voice.
        let level = [AudioLevel::new(level_dbov < 50, level_dbov).to_byte()];
        let fields = RtpHeaderFields {
            marker: !self.started,
            payload_type: payload_type(self.codec),
            sequence_number: self.seq,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        };
        let n = rtp::write_packet(
            &fields,
            &[],
            &[(AUDIO_LEVEL_EXT_ID, &level)],
            ExtensionForm::OneByte,
            &self.payload[..len],
            0,
            out,
        )?;
        self.started = true;
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(self.codec.timestamp_step());
        Ok(n)
    }
}

/// Why a simulated terminal could not produce a packet.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Encoding failed.
    #[error("encode: {0}")]
    Codec(#[from] CodecError),
    /// The packet did not fit.
    #[error("rtp: {0}")]
    Rtp(#[from] rtp::RtpError),
}
