//! A conference room: its participants, and the packets going in.
//!
//! The room is driven from outside: [`Room::handle_rtp`] for every datagram a
//! participant sends, [`Room::tick`] every 20 ms (see `tick.rs`), then
//! [`Room::outputs`] drains the packets to send. All state is allocated when
//! the room is created or a participant joins; the per-packet and per-tick
//! paths do not allocate.

use std::time::Instant;

use super::config::{MixerConfig, ParticipantConfig, ParticipantId};
use super::output::{ListenerEncoder, OutputPacket};
use super::participant::Participant;
use super::selection::{Candidate, SpeakerSelector};
use super::MixerError;
use crate::codec::{Frame, FRAME_SAMPLES};
use crate::jitter::{InsertOutcome, JitterPacket};
use crate::rtp::RtpPacket;

/// Room-wide counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoomCounters {
    /// Ticks run.
    pub ticks: u64,
    /// Ticks where nobody was sending, so nothing was mixed or sent.
    pub idle_ticks: u64,
    /// Opus frames encoded (shared listener mixes plus speakers' own mixes).
    pub opus_encodes: u64,
    /// G.711 frames encoded.
    pub g711_encodes: u64,
    /// Input frames decoded (including concealment).
    pub decodes: u64,
    /// Encoder failures; the affected participants get no packet this tick.
    pub encode_errors: u64,
}

/// One conference room on one shard.
#[derive(Debug)]
pub struct Room {
    pub(crate) config: MixerConfig,
    pub(crate) participants: Vec<Participant>,
    pub(crate) selector: SpeakerSelector,
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) sum: Box<[i32; FRAME_SAMPLES]>,
    pub(crate) own_sum: Box<[i32; FRAME_SAMPLES]>,
    pub(crate) listener_pcm: Box<Frame>,
    pub(crate) listener_limiter: super::limiter::Limiter,
    pub(crate) listener_encoders: Vec<ListenerEncoder>,
    pub(crate) outputs: Vec<OutputPacket>,
    pub(crate) contributions: Vec<super::Contribution>,
    pub(crate) epoch: Option<Instant>,
    pub(crate) counters: RoomCounters,
}

impl Room {
    /// An empty room; allocates everything up to `config.participants_max`.
    pub fn new(mut config: MixerConfig) -> Self {
        // RFC 8285 one-byte ids are 1..=14; anything else cannot be written.
        config.csrc_level_ext_id = config.csrc_level_ext_id.filter(|id| (1..=14).contains(id));
        config.speakers_max = config
            .speakers_max
            .clamp(1, super::selection::SPEAKERS_LIMIT);
        Self {
            selector: SpeakerSelector::new(config.speakers_max, config.hysteresis_db),
            participants: Vec::with_capacity(config.participants_max),
            candidates: Vec::with_capacity(config.participants_max),
            sum: Box::new([0; FRAME_SAMPLES]),
            own_sum: Box::new([0; FRAME_SAMPLES]),
            listener_pcm: Box::new([0; FRAME_SAMPLES]),
            listener_limiter: Default::default(),
            listener_encoders: Vec::with_capacity(config.listener_configs_max),
            outputs: Vec::with_capacity(config.participants_max),
            contributions: Vec::with_capacity(super::selection::SPEAKERS_LIMIT),
            epoch: None,
            counters: RoomCounters::default(),
            config,
        }
    }

    /// The room's settings.
    pub fn config(&self) -> &MixerConfig {
        &self.config
    }

    /// Adds a participant; fails when the room is full, the id is taken or
    /// the codec cannot be set up.
    pub fn add_participant(&mut self, config: ParticipantConfig) -> Result<(), MixerError> {
        if self.participants.len() >= self.config.participants_max {
            return Err(MixerError::RoomFull {
                participants_max: self.config.participants_max,
            });
        }
        if config.payload_type > 127 {
            return Err(MixerError::BadPayloadType(config.payload_type));
        }
        if self.slot(config.id).is_some() {
            return Err(MixerError::DuplicateParticipant(config.id));
        }
        if !self
            .listener_encoders
            .iter()
            .any(|l| l.config == config.codec)
        {
            if self.listener_encoders.len() >= self.config.listener_configs_max {
                return Err(MixerError::TooManyCodecConfigs {
                    listener_configs_max: self.config.listener_configs_max,
                });
            }
            self.listener_encoders
                .push(ListenerEncoder::new(config.codec)?);
        }
        self.participants
            .push(Participant::new(config, self.config.speaker_mix)?);
        Ok(())
    }

    /// Removes a participant; returns whether they were present.
    pub fn remove_participant(&mut self, id: ParticipantId) -> bool {
        let Some(slot) = self.slot(id) else {
            return false;
        };
        let last = self.participants.len() - 1;
        self.selector.remove(slot);
        self.participants.swap_remove(slot);
        if slot != last {
            self.selector.rename(last, slot);
        }
        true
    }

    /// Mutes or unmutes a participant's voice in everyone's mix.
    pub fn set_muted(&mut self, id: ParticipantId, muted: bool) -> Result<(), MixerError> {
        let slot = self.slot(id).ok_or(MixerError::UnknownParticipant(id))?;
        self.participants[slot].muted = muted;
        if muted {
            self.selector.remove(slot);
        }
        Ok(())
    }

    /// Sets the gain applied to a participant's voice in everyone's mix.
    pub fn set_gain_db(&mut self, id: ParticipantId, gain_db: i8) -> Result<(), MixerError> {
        let slot = self.slot(id).ok_or(MixerError::UnknownParticipant(id))?;
        self.participants[slot].set_gain_db(gain_db);
        Ok(())
    }

    /// Number of participants.
    pub fn len(&self) -> usize {
        self.participants.len()
    }

    /// True when nobody is in the room.
    pub fn is_empty(&self) -> bool {
        self.participants.is_empty()
    }

    /// A participant's state, for stats.
    pub fn participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.slot(id).map(|s| &self.participants[s])
    }

    /// All participants, for stats.
    pub fn participants(&self) -> impl Iterator<Item = &Participant> {
        self.participants.iter()
    }

    /// The participants mixed in the last tick.
    pub fn speakers(&self) -> impl Iterator<Item = ParticipantId> + '_ {
        self.selector.speakers().map(|s| self.participants[s].id())
    }

    /// Room-wide counters.
    pub fn counters(&self) -> RoomCounters {
        self.counters
    }

    /// True when no input is buffered or playing: the shell may stop ticking
    /// this room until the next packet arrives, so idle rooms cost nothing.
    pub fn is_idle(&self) -> bool {
        self.participants
            .iter()
            .all(|p| !p.jitter.is_active() && p.jitter.depth_ms() == 0)
    }

    /// Takes one RTP datagram from a participant. Errors are counted on the
    /// participant and never affect anyone else.
    pub fn handle_rtp(
        &mut self,
        now: Instant,
        id: ParticipantId,
        datagram: &[u8],
    ) -> Result<InsertOutcome, MixerError> {
        let slot = self.slot(id).ok_or(MixerError::UnknownParticipant(id))?;
        let p = &mut self.participants[slot];
        let packet = match RtpPacket::parse(datagram) {
            Ok(packet) => packet,
            Err(e) => {
                p.counters.malformed += 1;
                return Err(MixerError::Rtp(e));
            }
        };
        if packet.payload_type() != p.config.payload_type {
            p.counters.wrong_payload_type += 1;
            return Err(MixerError::WrongPayloadType {
                got: packet.payload_type(),
            });
        }
        let level_dbov = p
            .config
            .audio_level_ext_id
            .and_then(|ext_id| packet.audio_level(ext_id))
            .map(|level| level.level_dbov);
        p.counters.packets_in += 1;
        Ok(p.jitter.insert(
            now,
            JitterPacket {
                ssrc: packet.ssrc(),
                seq: packet.sequence_number(),
                timestamp: packet.timestamp(),
                marker: packet.marker(),
                level_dbov,
                payload: packet.payload(),
            },
        ))
    }

    pub(crate) fn slot(&self, id: ParticipantId) -> Option<usize> {
        self.participants.iter().position(|p| p.id() == id)
    }
}
