//! Room and participant settings for the mixer.

use crate::codec::{CodecConfig, OpusApplication, OpusConfig};
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
    /// How each speaker's own (N−1) mix is encoded for Opus participants.
    pub speaker_mix: SpeakerMixEncoding,
}

/// Encoder settings for the mixes only a speaker hears.
///
/// The shared listener mix reaches every listener, so it gets the
/// participant's full encoder settings (the default VOIP, complexity 5:
/// PESQ-WB 3.75 on speech). Each speaker's own mix reaches one person, who is
/// talking at the time, and costs one encode per speaker per tick: encoding
/// it with AUDIO at complexity 0 (CELT only) costs about 17 µs instead of
/// about 140 µs and scores PESQ-WB 3.01 (docs/performance.md). With K = 3
/// that is a 12-guardian room tick of ≈ 0.3 ms instead of ≈ 0.65 ms, which is
/// what lets one core carry 300 guardians.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpeakerMixEncoding {
    /// Speakers' mixes use the participant's own encoder settings.
    SameAsListeners,
    /// Speakers' mixes use this application and complexity (bitrate, FEC and
    /// DTX stay the participant's).
    Opus {
        /// Opus application mode.
        application: OpusApplication,
        /// Opus complexity 0..=10.
        complexity: u8,
    },
}

impl SpeakerMixEncoding {
    /// The codec a speaker's own mix is encoded with.
    pub fn codec_for(self, codec: CodecConfig) -> CodecConfig {
        match (self, codec) {
            (
                Self::Opus {
                    application,
                    complexity,
                },
                CodecConfig::Opus(opus),
            ) => CodecConfig::Opus(OpusConfig {
                application,
                complexity,
                ..opus
            }),
            _ => codec,
        }
    }
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
            speaker_mix: SpeakerMixEncoding::Opus {
                application: OpusApplication::Audio,
                complexity: 0,
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaker_mixes_default_to_cheap_celt_and_leave_g711_alone() {
        let opus = CodecConfig::Opus(OpusConfig {
            bitrate_bps: 24_000,
            ..OpusConfig::default()
        });
        let speaker = MixerConfig::default().speaker_mix.codec_for(opus);
        let CodecConfig::Opus(s) = speaker else {
            panic!("still Opus")
        };
        assert_eq!(
            (s.application, s.complexity, s.bitrate_bps),
            (OpusApplication::Audio, 0, 24_000)
        );
        assert_eq!(
            MixerConfig::default()
                .speaker_mix
                .codec_for(CodecConfig::Pcmu),
            CodecConfig::Pcmu
        );
        assert_eq!(SpeakerMixEncoding::SameAsListeners.codec_for(opus), opus);
    }
}
