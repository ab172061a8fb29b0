//! One participant's state inside a room: input (jitter buffer, decoder,
//! level), the encoder used when they are a mixed speaker, and the RTP
//! sequence/timestamp state of the stream sent back to them.

use std::time::Instant;

use super::config::{ParticipantConfig, ParticipantId, SpeakerMixEncoding};
use super::level::SmoothedLoudness;
use super::limiter::Limiter;
use crate::codec::{self, AnyDecoder, AnyEncoder, CodecConfig, CodecError, Frame, FRAME_SAMPLES};
use crate::jitter::JitterBuffer;

/// What this tick's jitter-buffer pop gave for a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputState {
    /// No input this tick (idle or prebuffering).
    Idle,
    /// A packet: its payload sits in `Participant::payload`.
    Frame,
    /// A missing packet to conceal; `fec` when the next packet is buffered
    /// and its payload was copied for in-band FEC.
    Conceal {
        /// The next packet's payload is in `Participant::payload`.
        fec: bool,
    },
}

/// Per-participant counters, read by the shell for stats snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParticipantCounters {
    /// RTP packets accepted into the jitter buffer.
    pub packets_in: u64,
    /// Datagrams that failed to parse as RTP.
    pub malformed: u64,
    /// Packets with a payload type other than the negotiated one.
    pub wrong_payload_type: u64,
    /// Frames decoded for the mix.
    pub decoded: u64,
    /// Frames not decoded because the input was not mixed.
    pub decode_skipped: u64,
    /// Frames concealed (PLC) or recovered from FEC.
    pub concealed: u64,
    /// Frames recovered from in-band FEC.
    pub fec_recovered: u64,
    /// Decoder errors (bad payloads); the frame is concealed instead.
    pub decode_errors: u64,
    /// Mix packets produced for this participant.
    pub packets_out: u64,
}

/// A participant and everything the room keeps for them.
#[derive(Debug)]
pub struct Participant {
    pub(crate) config: ParticipantConfig,
    pub(crate) jitter: JitterBuffer,
    pub(crate) decoder: AnyDecoder,
    /// Set when frames were skipped: the decoder state no longer follows
    /// the stream and must be reset before the next decode.
    pub(crate) decoder_stale: bool,
    /// Encoder for this participant's own mix while they are a speaker.
    pub(crate) encoder: AnyEncoder,
    pub(crate) limiter: Limiter,
    pub(crate) loudness: SmoothedLoudness,
    pub(crate) muted: bool,
    pub(crate) gain_q12: i32,
    // This tick's input.
    pub(crate) input: InputState,
    pub(crate) payload: [u8; codec::PAYLOAD_MAX_BYTES],
    pub(crate) payload_len: usize,
    pub(crate) input_seq: u16,
    pub(crate) input_timestamp: u32,
    pub(crate) input_arrival: Option<Instant>,
    pub(crate) input_level_dbov: Option<u8>,
    pub(crate) pcm: Frame,
    pub(crate) pcm_valid: bool,
    // Output stream state.
    pub(crate) mix_payload: [u8; codec::PAYLOAD_MAX_BYTES],
    pub(crate) mix_len: usize,
    pub(crate) seq_out: u16,
    pub(crate) was_sending: bool,
    pub(crate) counters: ParticipantCounters,
}

impl Participant {
    /// Builds the participant, allocating its codec state and buffers.
    pub(crate) fn new(
        config: ParticipantConfig,
        speaker_mix: SpeakerMixEncoding,
    ) -> Result<Self, CodecError> {
        Ok(Self {
            decoder: codec::new_decoder(config.codec)?,
            encoder: codec::new_encoder(speaker_mix.codec_for(config.codec))?,
            jitter: JitterBuffer::new(config.jitter),
            decoder_stale: false,
            limiter: Limiter::default(),
            loudness: SmoothedLoudness::default(),
            muted: false,
            gain_q12: gain_db_to_q12(config.gain_db),
            input: InputState::Idle,
            payload: [0; codec::PAYLOAD_MAX_BYTES],
            payload_len: 0,
            input_seq: 0,
            input_timestamp: 0,
            input_arrival: None,
            input_level_dbov: None,
            pcm: [0; FRAME_SAMPLES],
            pcm_valid: false,
            mix_payload: [0; codec::PAYLOAD_MAX_BYTES],
            mix_len: 0,
            seq_out: config.seq_out_initial,
            was_sending: false,
            counters: ParticipantCounters::default(),
            config,
        })
    }

    /// The caller's identifier.
    pub fn id(&self) -> ParticipantId {
        self.config.id
    }

    /// Negotiated codec.
    pub fn codec(&self) -> CodecConfig {
        self.config.codec
    }

    /// Whether the participant is muted (heard by nobody).
    pub fn is_muted(&self) -> bool {
        self.muted
    }

    /// Gain applied to this participant's voice, in dB.
    pub fn gain_db(&self) -> i8 {
        self.config.gain_db
    }

    pub(crate) fn set_gain_db(&mut self, gain_db: i8) {
        self.config.gain_db = gain_db;
        self.gain_q12 = gain_db_to_q12(gain_db);
    }

    /// Counters since the participant joined.
    pub fn counters(&self) -> ParticipantCounters {
        self.counters
    }

    /// The participant's jitter buffer (depth, target, counters).
    pub fn jitter(&self) -> &JitterBuffer {
        &self.jitter
    }

    /// Decodes (or conceals) this tick's input into `pcm`.
    pub(crate) fn decode_input(&mut self) {
        use codec::Decoder as _;
        if self.decoder_stale {
            self.decoder.reset();
            self.decoder_stale = false;
        }
        let result = match self.input {
            InputState::Idle => {
                self.pcm_valid = false;
                return;
            }
            InputState::Frame => self
                .decoder
                .decode(&self.payload[..self.payload_len], &mut self.pcm)
                .map(|()| false),
            InputState::Conceal { fec: true } => self
                .decoder
                .decode_fec(&self.payload[..self.payload_len], &mut self.pcm),
            InputState::Conceal { fec: false } => {
                self.decoder.conceal(&mut self.pcm).map(|()| false)
            }
        };
        match result {
            Ok(recovered) => {
                match self.input {
                    InputState::Frame => self.counters.decoded += 1,
                    _ => self.counters.concealed += 1,
                }
                if recovered {
                    self.counters.fec_recovered += 1;
                }
                self.pcm_valid = true;
            }
            Err(_) => {
                // A bad payload costs this participant one concealed frame,
                // nobody else anything.
                self.counters.decode_errors += 1;
                self.pcm_valid = self.decoder.conceal(&mut self.pcm).is_ok();
            }
        }
    }

    /// Notes that this tick's input was not decoded.
    pub(crate) fn skip_input(&mut self) {
        if self.input != InputState::Idle {
            self.counters.decode_skipped += 1;
            self.decoder_stale = true;
        }
        self.pcm_valid = false;
    }
}

/// dB to a Q12 linear factor (4096 = unity).
fn gain_db_to_q12(gain_db: i8) -> i32 {
    (4096.0 * 10f32.powf(f32::from(gain_db) / 20.0)).round() as i32
}

#[cfg(test)]
mod tests {
    use super::gain_db_to_q12;

    #[test]
    fn gain_conversion() {
        assert_eq!(gain_db_to_q12(0), 4096);
        assert_eq!(gain_db_to_q12(-6), 2053);
        assert_eq!(gain_db_to_q12(6), 8173);
    }
}
