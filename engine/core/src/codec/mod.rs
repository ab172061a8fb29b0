//! Audio codecs behind one trait pair: Opus (RFC 6716/7587) and G.711 μ-law
//! and A-law (RFC 3551 PCMU/PCMA), all seen from the mixer as 20 ms frames of
//! 48 kHz mono 16-bit PCM.
//!
//! Encoders and decoders are built once per stream ([`new_encoder`],
//! [`new_decoder`]) and then called once per frame with caller-owned buffers;
//! nothing here allocates per frame. Dispatch goes through the [`AnyEncoder`]
//! and [`AnyDecoder`] enums rather than boxed trait objects. G.711 runs at
//! 8 kHz, so its encoder and decoder carry a polyphase resampler
//! ([`resample`]) whose state joins consecutive frames seamlessly.

mod config;
pub mod g711;
mod g711_codec;
mod opus;
pub mod resample;
pub mod signal;

pub use config::{CodecConfig, OpusApplication, OpusConfig};
pub use g711::G711Law;
pub use g711_codec::{G711Decoder, G711Encoder};
pub use opus::{opus_packet_has_fec, OpusDecoder, OpusEncoder};
pub use signal::goertzel_power;

/// The mixer's sample rate: everything inside the MCU is 48 kHz mono.
pub const SAMPLE_RATE_HZ: u32 = 48_000;
/// Duration of one frame, the mixer's tick.
pub const FRAME_MS: u32 = 20;
/// Samples in one frame at [`SAMPLE_RATE_HZ`].
pub const FRAME_SAMPLES: usize = 960;
/// One 20 ms frame of 48 kHz mono PCM.
pub type Frame = [i16; FRAME_SAMPLES];
/// Size of the payload buffer callers hand to [`Encoder::encode`].
pub const PAYLOAD_MAX_BYTES: usize = 1500;

const _: () = assert!(FRAME_SAMPLES as u32 == SAMPLE_RATE_HZ / 1000 * FRAME_MS);
// The largest Opus packet (RFC 6716 §3.2.1: 1275 bytes per frame) and a
// G.711 frame must both fit the caller's buffer.
const _: () = assert!(PAYLOAD_MAX_BYTES >= 1275 && PAYLOAD_MAX_BYTES >= g711::FRAME_BYTES);

/// Why a codec could not be built, or a frame could not be coded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// libopus refused a call; `op` names the call.
    #[error("opus {op} failed: {source}")]
    Opus {
        /// Which operation failed (`"encode"`, `"decode"`, `"create encoder"`, ...).
        op: &'static str,
        /// The error as audiopus reported it.
        #[source]
        source: audiopus::Error,
    },
    /// A configuration value is outside what the codec accepts.
    #[error("invalid codec config: {field} = {value}")]
    InvalidConfig {
        /// The offending field of the config.
        field: &'static str,
        /// Its value.
        value: u32,
    },
    /// A payload had no bytes at all.
    #[error("empty payload")]
    EmptyPayload,
    /// A fixed-size payload (G.711) had the wrong length.
    #[error("payload is {got} bytes, expected {expected}")]
    BadPayloadLength {
        /// Bytes a 20 ms payload must have.
        expected: usize,
        /// Bytes it had.
        got: usize,
    },
    /// A payload decodes to something other than one 20 ms frame.
    #[error("payload holds {got} samples at 48 kHz, expected {expected}")]
    BadFrameDuration {
        /// Samples per 20 ms frame.
        expected: usize,
        /// Samples the payload holds.
        got: usize,
    },
    /// The caller's output buffer cannot hold the payload.
    #[error("output buffer is {got} bytes, need {needed}")]
    OutputTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes offered.
        got: usize,
    },
}

impl CodecError {
    pub(crate) fn opus(op: &'static str) -> impl FnOnce(audiopus::Error) -> Self {
        move |source| Self::Opus { op, source }
    }
}

/// Turns 20 ms frames of 48 kHz mono PCM into payloads.
pub trait Encoder {
    /// Encodes one 20 ms 48 kHz mono frame into `out`, returning the payload length.
    fn encode(&mut self, pcm: &Frame, out: &mut [u8]) -> Result<usize, CodecError>;
    /// Forgets all history, as if newly built (e.g. after a stream restart).
    fn reset(&mut self);
    /// The configuration this encoder was built with.
    fn config(&self) -> CodecConfig;
}

/// Turns payloads (or their absence) into 20 ms frames of 48 kHz mono PCM.
pub trait Decoder {
    /// Decodes one payload to one 20 ms 48 kHz mono frame.
    fn decode(&mut self, payload: &[u8], out: &mut Frame) -> Result<(), CodecError>;
    /// Fills `out` for a lost frame (Opus PLC; G.711: fade out the last frame / comfort silence).
    fn conceal(&mut self, out: &mut Frame) -> Result<(), CodecError>;
    /// Recovers the lost frame from the in-band FEC of the *next* packet when it carries it
    /// (Opus decode with decode_fec=1); returns Ok(false) and conceals when it cannot.
    ///
    /// The next packet must still be passed to [`Decoder::decode`] afterwards.
    fn decode_fec(&mut self, next_payload: &[u8], out: &mut Frame) -> Result<bool, CodecError>;
    /// Forgets all history, as if newly built.
    fn reset(&mut self);
}

/// Any encoder, dispatched by `match` (no box, no allocation per frame).
#[derive(Debug)]
pub enum AnyEncoder {
    /// Opus at 48 kHz.
    Opus(OpusEncoder),
    /// G.711 μ-law or A-law at 8 kHz.
    G711(G711Encoder),
}

/// Any decoder, dispatched by `match` (no box, no allocation per frame).
#[derive(Debug)]
pub enum AnyDecoder {
    /// Opus at 48 kHz.
    Opus(OpusDecoder),
    /// G.711 μ-law or A-law at 8 kHz.
    G711(G711Decoder),
}

/// Builds the encoder for `config`.
pub fn new_encoder(config: CodecConfig) -> Result<AnyEncoder, CodecError> {
    Ok(match config {
        CodecConfig::Opus(opus) => AnyEncoder::Opus(OpusEncoder::new(opus)?),
        CodecConfig::Pcmu => AnyEncoder::G711(G711Encoder::new(G711Law::Mu)),
        CodecConfig::Pcma => AnyEncoder::G711(G711Encoder::new(G711Law::A)),
    })
}

/// Builds the decoder for `config`.
pub fn new_decoder(config: CodecConfig) -> Result<AnyDecoder, CodecError> {
    Ok(match config {
        CodecConfig::Opus(_) => AnyDecoder::Opus(OpusDecoder::new()?),
        CodecConfig::Pcmu => AnyDecoder::G711(G711Decoder::new(G711Law::Mu)),
        CodecConfig::Pcma => AnyDecoder::G711(G711Decoder::new(G711Law::A)),
    })
}

impl AnyEncoder {
    /// Passes the expected loss to Opus ([`OpusEncoder::set_packet_loss_pct`]); G.711 ignores it.
    pub fn set_packet_loss_pct(&mut self, packet_loss_pct: u8) -> Result<(), CodecError> {
        match self {
            Self::Opus(e) => e.set_packet_loss_pct(packet_loss_pct),
            Self::G711(_) => Ok(()),
        }
    }
}

impl Encoder for AnyEncoder {
    fn encode(&mut self, pcm: &Frame, out: &mut [u8]) -> Result<usize, CodecError> {
        match self {
            Self::Opus(e) => e.encode(pcm, out),
            Self::G711(e) => e.encode(pcm, out),
        }
    }

    fn reset(&mut self) {
        match self {
            Self::Opus(e) => e.reset(),
            Self::G711(e) => e.reset(),
        }
    }

    fn config(&self) -> CodecConfig {
        match self {
            Self::Opus(e) => e.config(),
            Self::G711(e) => e.config(),
        }
    }
}

impl Decoder for AnyDecoder {
    fn decode(&mut self, payload: &[u8], out: &mut Frame) -> Result<(), CodecError> {
        match self {
            Self::Opus(d) => d.decode(payload, out),
            Self::G711(d) => d.decode(payload, out),
        }
    }

    fn conceal(&mut self, out: &mut Frame) -> Result<(), CodecError> {
        match self {
            Self::Opus(d) => d.conceal(out),
            Self::G711(d) => d.conceal(out),
        }
    }

    fn decode_fec(&mut self, next_payload: &[u8], out: &mut Frame) -> Result<bool, CodecError> {
        match self {
            Self::Opus(d) => d.decode_fec(next_payload, out),
            Self::G711(d) => d.decode_fec(next_payload, out),
        }
    }

    fn reset(&mut self) {
        match self {
            Self::Opus(d) => d.reset(),
            Self::G711(d) => d.reset(),
        }
    }
}
