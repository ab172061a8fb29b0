//! Every message of the media link, as JSON objects inside length-prefixed
//! frames (see [`super::frame`] and docs/media-link.md).
//!
//! A request is `{"id": N, "op": "...", ...fields}`; its reply carries the
//! same `id` and either `{"ok": {...}}` or `{"err": {...}}`. Ids are chosen by
//! the controller and only echoed: the engine answers in order, one reply per
//! request.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Protocol version carried in `hello`; a different major is refused.
pub const PROTOCOL_VERSION: u32 = 1;

/// A fencing epoch: the controller's term as primary.
pub type Epoch = u64;

/// One request frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFrame {
    /// Echoed in the reply.
    pub id: u64,
    /// What to do.
    #[serde(flatten)]
    pub request: Request,
}

/// The codec a participant sends and receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkCodec {
    /// Opus 48 kHz mono with the engine's default encoder settings.
    Opus,
    /// G.711 μ-law.
    Pcmu,
    /// G.711 A-law.
    Pcma,
}

/// A participant to add to a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantParams {
    /// The room, created before with `create_room`.
    pub room: u32,
    /// Engine-wide unique participant id.
    pub participant: u32,
    /// Codec in both directions.
    pub codec: LinkCodec,
    /// RTP payload type in both directions.
    pub payload_type: u8,
    /// The terminal's RTP address (media accepted from it, mix sent to it).
    pub remote_rtp: SocketAddr,
    /// The terminal's RTCP address; `None` = RTP port + 1.
    #[serde(default)]
    pub remote_rtcp: Option<SocketAddr>,
    /// Admitted SSRC; `None` latches the first seen.
    #[serde(default)]
    pub ssrc: Option<u32>,
    /// Inbound cap, bit/s at IP level; `None` = the engine's default.
    #[serde(default)]
    pub bitrate_cap_bps: Option<u32>,
}

/// What the controller asks. Mutating requests carry the controller's epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// First message on a connection.
    Hello {
        /// [`PROTOCOL_VERSION`].
        version: u32,
        /// Free text naming the controller, for the engine's log.
        controller: String,
    },
    /// Answers the challenge of `hello`: Ed25519 over
    /// [`super::auth::challenge_message`].
    Auth {
        /// The controller's public key, 64 hex characters.
        public_key_hex: String,
        /// The signature, 128 hex characters.
        signature_hex: String,
    },
    /// Raises the engine's epoch to `epoch` (idempotent when equal).
    Claim {
        /// The controller's new epoch.
        epoch: Epoch,
    },
    /// Creates a room.
    CreateRoom {
        /// Fencing epoch.
        epoch: Epoch,
        /// The room id, chosen by the controller.
        room: u32,
    },
    /// Destroys a room and its participants.
    DestroyRoom {
        /// Fencing epoch.
        epoch: Epoch,
        /// The room.
        room: u32,
    },
    /// Adds a participant; answered with `added`.
    AddParticipant {
        /// Fencing epoch.
        epoch: Epoch,
        /// Who and where.
        #[serde(flatten)]
        params: ParticipantParams,
    },
    /// Removes a participant.
    RemoveParticipant {
        /// Fencing epoch.
        epoch: Epoch,
        /// The participant.
        participant: u32,
    },
    /// Mutes or unmutes a participant's contribution to the mix.
    SetMuted {
        /// Fencing epoch.
        epoch: Epoch,
        /// The participant.
        participant: u32,
        /// Muted or not.
        muted: bool,
    },
    /// Changes a participant's inbound bitrate cap.
    SetBitrateCap {
        /// Fencing epoch.
        epoch: Epoch,
        /// The participant.
        participant: u32,
        /// bit/s at IP level; `None` = the engine's default.
        bitrate_cap_bps: Option<u32>,
    },
    /// Reads statistics (never mutates; no epoch).
    Stats {
        /// Also take a fresh snapshot of every shard (latency, counters);
        /// without it only the per-shard CPU times are read (cheap).
        #[serde(default)]
        engine: bool,
    },
    /// Liveness; answered with the current epoch.
    Ping,
}

impl Request {
    /// The epoch a mutating request carries.
    #[must_use]
    pub fn epoch(&self) -> Option<Epoch> {
        match self {
            Self::CreateRoom { epoch, .. }
            | Self::DestroyRoom { epoch, .. }
            | Self::AddParticipant { epoch, .. }
            | Self::RemoveParticipant { epoch, .. }
            | Self::SetMuted { epoch, .. }
            | Self::SetBitrateCap { epoch, .. } => Some(*epoch),
            _ => None,
        }
    }

    /// Name as on the wire, for logs and counters.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::Auth { .. } => "auth",
            Self::Claim { .. } => "claim",
            Self::CreateRoom { .. } => "create_room",
            Self::DestroyRoom { .. } => "destroy_room",
            Self::AddParticipant { .. } => "add_participant",
            Self::RemoveParticipant { .. } => "remove_participant",
            Self::SetMuted { .. } => "set_muted",
            Self::SetBitrateCap { .. } => "set_bitrate_cap",
            Self::Stats { .. } => "stats",
            Self::Ping => "ping",
        }
    }
}

/// One reply frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyFrame {
    /// The request's id (0 when the request could not be read).
    pub id: u64,
    /// The outcome.
    #[serde(flatten)]
    pub result: ReplyResult,
}

/// `{"ok": …}` or `{"err": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyResult {
    /// Done.
    Ok(Reply),
    /// Refused.
    Err(LinkError),
}

/// Successful answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    /// Answer to `hello`.
    Hello {
        /// The engine's [`PROTOCOL_VERSION`].
        version: u32,
        /// 32 random bytes, hex, to sign in `auth`.
        challenge_hex: String,
        /// Whether `auth` must come before any other request.
        auth_required: bool,
        /// The engine's current epoch.
        epoch: Epoch,
    },
    /// Done, nothing to return.
    Done,
    /// The engine's epoch after a `claim` or a `ping`.
    Epoch {
        /// Current epoch.
        epoch: Epoch,
    },
    /// A participant was added.
    Added {
        /// Shard running the room.
        shard: u32,
        /// Where the terminal sends RTP (and receives the mix from).
        local_rtp: SocketAddr,
        /// Where it sends RTCP (RTCP muxed on `local_rtp` works too).
        local_rtcp: SocketAddr,
        /// SSRC of the mix sent to it.
        ssrc_out: u32,
    },
    /// Statistics.
    Stats(StatsReply),
}

/// The engine process's statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsReply {
    /// The engine's current epoch.
    pub epoch: Epoch,
    /// CPU time of each shard thread since it started: (thread name, µs).
    pub shard_cpu_us: Vec<(String, u64)>,
    /// Present when `engine: true` was asked.
    #[serde(default)]
    pub engine: Option<EngineSnapshot>,
    /// The engine process's resident memory now, KiB (VmRSS); absent from
    /// engines older than this field. `engine bench --target` compares it
    /// before and after adding its guardians.
    #[serde(default)]
    pub rss_kib: Option<u64>,
}

/// A snapshot of the shards' counters and latency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineSnapshot {
    /// Rooms in all shards.
    pub rooms: u64,
    /// Participants in all shards.
    pub participants: u64,
    /// Mix frames sent.
    pub frames_out: u64,
    /// Mix frames sent late.
    pub late_frames: u64,
    /// Ticks that overran 20 ms.
    pub tick_overruns: u64,
    /// Participants timed out for silence.
    pub timed_out: u64,
    /// Datagrams received.
    pub rx_datagrams: u64,
    /// Engine-added latency samples since start (including those above the
    /// histogram's range).
    pub latency_count: u64,
    /// Their mean, µs.
    pub latency_mean_us: u64,
    /// Their maximum, µs.
    pub latency_max_us: u64,
    /// Engine-added latency histogram since start: (bucket upper bound µs,
    /// count), non-empty buckets only.
    pub latency_us: Vec<(u64, u64)>,
}

/// Why a request was refused. Every variant is a value the controller can
/// act on; none closes the connection except `Unauthenticated` and
/// `BadRequest` on an unreadable frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum LinkError {
    /// The request's epoch is below the engine's: a newer controller exists.
    #[error("stale epoch: the engine is at epoch {current}")]
    StaleEpoch {
        /// The engine's epoch.
        current: Epoch,
    },
    /// The request's epoch is above the engine's without a `claim`.
    #[error("epoch not claimed: the engine is at epoch {current}; send claim first")]
    EpochNotClaimed {
        /// The engine's epoch.
        current: Epoch,
    },
    /// `auth` is required first, or it failed.
    #[error("unauthenticated: {reason}")]
    Unauthenticated {
        /// Why.
        reason: String,
    },
    /// No room for another room or participant (or admissions stopped).
    #[error("no capacity: {reason}")]
    NoCapacity {
        /// The engine's message.
        reason: String,
    },
    /// A queue is full; retry later.
    #[error("busy: {reason}")]
    Busy {
        /// Which queue.
        reason: String,
    },
    /// Unknown room/participant, duplicate id, bad field, unreadable frame.
    #[error("bad request: {reason}")]
    BadRequest {
        /// Why.
        reason: String,
    },
    /// The engine failed otherwise (shard unresponsive, socket error).
    #[error("engine: {reason}")]
    Engine {
        /// The engine's message.
        reason: String,
    },
}

impl LinkError {
    /// A `BadRequest` from anything printable.
    pub fn bad(reason: impl std::fmt::Display) -> Self {
        Self::BadRequest {
            reason: reason.to_string(),
        }
    }
}
