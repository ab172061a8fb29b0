//! The load generator behind `engine bench`: simulated guardians that are
//! admitted, stream real RTP from their own UDP sockets, receive their mixes
//! and measure them.
//!
//! - `streams`: pre-encoded talker (speech with markers) and noise loops.
//! - `guardian`: one guardian's socket, sending state, impairment and
//!   receive statistics; sampled listeners also decode and record.
//! - `runner`: the real-time send/receive loop.
//! - `measure`: turns what the guardians saw into the run's figures.
//! - `procfs`: CPU time of the engine's shard threads, RSS, pinning.

pub mod drive;
pub mod guardian;
pub mod measure;
pub mod media_admit;
pub mod media_remote;
pub mod procfs;
pub mod ras_admit;
pub mod report_build;
pub mod runner;
pub mod rx;
pub mod streams;

use std::net::SocketAddr;
use std::time::Duration;

use media_core::codec::{CodecConfig, OpusConfig};

use crate::impair::ImpairmentConfig;

/// Which codec the guardians use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodecChoice {
    /// Opus 48 kHz mono.
    Opus,
    /// G.711 μ-law.
    Pcmu,
    /// G.711 A-law.
    Pcma,
    /// Two Opus guardians for every PCMU one.
    Mixed,
}

impl CodecChoice {
    /// The codec of guardian `index`; `engine_opus` is the engine's Opus encoder setting.
    pub fn for_guardian(self, index: usize, engine_opus: OpusConfig) -> CodecConfig {
        match self {
            Self::Opus => CodecConfig::Opus(engine_opus),
            Self::Pcmu => CodecConfig::Pcmu,
            Self::Pcma => CodecConfig::Pcma,
            Self::Mixed if index % 3 == 2 => CodecConfig::Pcmu,
            Self::Mixed => CodecConfig::Opus(engine_opus),
        }
    }

    /// Name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Opus => "opus",
            Self::Pcmu => "pcmu",
            Self::Pcma => "pcma",
            Self::Mixed => "mixed",
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// Guardians in all.
    pub guardians: usize,
    /// Guardians per room.
    pub room_size: usize,
    /// Guardians talking at a time in each room.
    pub talkers: usize,
    /// Codec choice.
    pub codec: CodecChoice,
    /// The engine's Opus encoder settings for the mixes.
    pub engine_opus: OpusConfig,
    /// The guardians' own Opus encoder settings.
    pub guardian_opus: OpusConfig,
    /// Measured time.
    pub duration: Duration,
    /// Unmeasured time before it.
    pub warmup: Duration,
    /// Network impairments on the guardians' packets.
    pub impairment: ImpairmentConfig,
    /// Seed for SSRCs and impairments.
    pub seed: u64,
    /// Sampled listeners per room (decode, markers, recordings).
    pub ears_per_room: usize,
    /// Rooms whose sampled guardians are recorded to WAV.
    pub record_rooms: usize,
}

impl LoadConfig {
    /// Number of rooms.
    pub fn rooms(&self) -> usize {
        self.guardians.div_ceil(self.room_size.max(1))
    }

    /// Checks the arguments, naming the bad one.
    pub fn validate(&self) -> Result<(), String> {
        if self.guardians == 0 {
            return Err("--guardians must be at least 1".into());
        }
        if self.room_size < 2 {
            return Err(format!(
                "--rooms-of must be at least 2 (got {})",
                self.room_size
            ));
        }
        if self.room_size > 32 {
            return Err(format!(
                "--rooms-of must be at most 32, the mixer's room bound (got {})",
                self.room_size
            ));
        }
        if self.talkers > self.room_size {
            return Err(format!(
                "--talkers ({}) exceeds the room size ({})",
                self.talkers, self.room_size
            ));
        }
        if self.duration < Duration::from_secs(1) {
            return Err("--duration must be at least 1 s".into());
        }
        self.impairment.validate()
    }
}

/// Where a guardian was admitted and how long each admission step took.
#[derive(Clone, Copy, Debug, Default)]
pub struct Admitted {
    /// The engine's RTP address for this guardian.
    pub engine_rtp: Option<SocketAddr>,
    /// GRQ → GCF.
    pub grq: Option<Duration>,
    /// RRQ → RCF.
    pub rrq: Option<Duration>,
    /// ARQ → ACF.
    pub arq: Option<Duration>,
}

/// Admits guardians: RAS with the gatekeeper, then media with the engine.
pub trait Admit {
    /// Admits one guardian whose RTP socket is at `rtp`.
    fn admit(
        &mut self,
        guardian: &guardian::LoadGuardian,
        rtp: SocketAddr,
    ) -> Result<Admitted, String>;

    /// CPU time of each engine shard thread since it started: (name, time).
    /// Default: the shard threads of this process.
    fn shard_cpu(&mut self) -> Vec<(String, Duration)> {
        procfs::threads_cpu(drive::SHARD_THREAD_PREFIX)
    }

    /// Called once when the warm-up ends (before the first measured frame
    /// when there is none): the engine side takes its baseline so that the
    /// engine's own figures cover the measured window. Default: nothing.
    fn warmed_up(&mut self) {}
}
