//! Room and participant settings for the mixer.

use crate::codec::CodecConfig;
use crate::jitter::JitterConfig;

/// Identifies a participant within the engine; chosen by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub u32);

/// Per-room mixer settings.
#[derive(Clone, Copy, Debug)]
pub struct MixerConfig {
    /// How many of the loudest active speakers are mixed (top-K).
    pub speakers_max: usize,
    /// A challenger must be this much louder than the quietest mixed speaker
    /// to take its place, so two similar voices do not flap in and out.
    pub hysteresis_db: u8,
    /// Inputs quieter than this (RFC 6464 dBov, 0 = loudest, 127 = silence)
    /// are never mixed: background noise should not take a speaker slot.
    pub active_level_dbov_max: u8,
    /// Participants a room may hold; state is allocated up to this bound.
    pub participants_max: usize,
    /// Distinct listener codec configurations a room may encode for.
    pub listener_configs_max: usize,
    /// Write RFC 6465 mixer-to-client levels with this extension id.
    pub csrc_level_ext_id: Option<u8>,
}

impl Default for MixerConfig {
    fn default() -> Self {
        Self {
            speakers_max: 3,
            hysteresis_db: 6,
            active_level_dbov_max: 55,
            participants_max: 32,
            listener_configs_max: 8,
            csrc_level_ext_id: None,
        }
    }
}

/// Everything the room needs to know about a participant when it joins.
#[derive(Clone, Copy, Debug)]
pub struct ParticipantConfig {
    /// The caller's identifier for this participant.
    pub id: ParticipantId,
    /// Codec used in both directions.
    pub codec: CodecConfig,
    /// RTP payload type of the participant's stream (both directions).
    pub payload_type: u8,
    /// SSRC the room uses for the mix it sends to this participant (injected
    /// randomness: the caller draws it).
    pub ssrc_out: u32,
    /// First RTP sequence number sent to this participant.
    pub seq_out_initial: u16,
    /// First RTP timestamp sent to this participant.
    pub timestamp_out_initial: u32,
    /// Header extension id of the RFC 6464 client-to-mixer audio level, if negotiated.
    pub audio_level_ext_id: Option<u8>,
    /// Gain applied to this participant's voice, in dB (0 = unchanged).
    pub gain_db: i8,
    /// Jitter buffer settings for this participant's input.
    pub jitter: JitterConfig,
}

impl ParticipantConfig {
    /// A participant with defaults for everything but identity and codec.
    pub fn new(id: ParticipantId, codec: CodecConfig, payload_type: u8, ssrc_out: u32) -> Self {
        let jitter = match codec {
            CodecConfig::Opus(_) => JitterConfig::opus(),
            CodecConfig::Pcmu | CodecConfig::Pcma => JitterConfig::g711(),
        };
        Self {
            id,
            codec,
            payload_type,
            ssrc_out,
            seq_out_initial: 0,
            timestamp_out_initial: 0,
            audio_level_ext_id: Some(1),
            gain_db: 0,
            jitter,
        }
    }
}
