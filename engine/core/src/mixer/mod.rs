//! The per-room N−1 conference mixer.
//!
//! Each 20 ms tick a [`Room`] pops one frame per participant from its jitter
//! buffer, ranks inputs by loudness (the RFC 6464 level when the packet
//! carries one, else the decoded frame's level) and mixes only the top-K
//! (default 3) active speakers, with hysteresis. Listeners — everyone not
//! mixed — hear the same mix, so it is encoded **once per codec
//! configuration** and the same payload goes to all of them; each mixed
//! speaker gets their own encode of the mix without their own voice. Inputs
//! that are not mixed are not decoded (their decoder is reset when they are
//! mixed again). Sums are `i32`, brought back to 16 bits by a limiter and soft
//! clip. Every output records which input frames it contains and when they
//! arrived, which is what the engine-added latency histogram is built from.
//!
//! Shape: `handle_rtp(now, id, datagram)` for input, `tick(now)` every 20 ms,
//! then `outputs()` for the packets to send.

mod config;
mod header;
mod level;
mod limiter;
mod output;
mod participant;
mod room;
mod selection;
mod tick;

pub use config::{MixerConfig, ParticipantConfig, ParticipantId, SpeakerMixEncoding};
pub use level::{frame_level_dbov, SmoothedLoudness, SILENCE_DBOV};
pub use limiter::Limiter;
pub use output::{Contribution, Contributions, Output, OUTPUT_HEADER_MAX_BYTES};
pub use participant::{Participant, ParticipantCounters};
pub use room::{Room, RoomCounters};
pub use selection::{Candidate, SpeakerSelector, SPEAKERS_LIMIT};

use crate::codec::CodecError;
use crate::rtp::RtpError;

/// Why the mixer refused a request or a packet.
#[derive(Debug, thiserror::Error)]
pub enum MixerError {
    /// The room holds `participants_max` participants already.
    #[error("room is full ({participants_max} participants)")]
    RoomFull {
        /// The room's bound.
        participants_max: usize,
    },
    /// A participant with this id is already in the room.
    #[error("participant {0:?} is already in the room")]
    DuplicateParticipant(ParticipantId),
    /// No participant with this id.
    #[error("no participant {0:?} in the room")]
    UnknownParticipant(ParticipantId),
    /// The room already encodes for `listener_configs_max` codec configurations.
    #[error("too many distinct codec configurations (max {listener_configs_max})")]
    TooManyCodecConfigs {
        /// The room's bound.
        listener_configs_max: usize,
    },
    /// The codec could not be set up.
    #[error("codec: {0}")]
    Codec(#[from] CodecError),
    /// RTP payload types are 7 bits.
    #[error("payload type {0} is not 0..=127")]
    BadPayloadType(u8),
    /// The datagram is not valid RTP.
    #[error("rtp: {0}")]
    Rtp(#[from] RtpError),
    /// The packet's payload type is not the participant's.
    #[error("unexpected payload type {got}")]
    WrongPayloadType {
        /// What the packet carried.
        got: u8,
    },
}

impl MixerError {
    /// A stable label for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RoomFull { .. } => "room_full",
            Self::DuplicateParticipant(_) => "duplicate_participant",
            Self::UnknownParticipant(_) => "unknown_participant",
            Self::TooManyCodecConfigs { .. } => "too_many_codec_configs",
            Self::Codec(_) => "codec",
            Self::BadPayloadType(_) => "bad_payload_type",
            Self::Rtp(_) => "malformed_rtp",
            Self::WrongPayloadType { .. } => "wrong_payload_type",
        }
    }
}
