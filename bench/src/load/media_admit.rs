//! Media provisioning: the step that follows a successful ACF (until
//! H.225.0 call signalling exists, the generator provisions media itself
//! right after admission, as the output says). [`ProvisionMedia`] has two
//! implementations: [`MediaProvisioner`] through the Engine API of an
//! engine in this process, and [`super::media_remote::RemoteProvisioner`]
//! through the media link of an `engine run` elsewhere.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use engine::stats::EngineStats;
use engine::{Engine, ParticipantSpec, RoomId};
use media_core::mixer::MixerConfig;

use super::guardian::LoadGuardian;

/// Puts an admitted guardian's media into an engine.
pub trait ProvisionMedia {
    /// Adds `guardian` (RTP at `rtp`) to its room; returns the engine's RTP address.
    fn provision(&mut self, guardian: &LoadGuardian, rtp: SocketAddr)
        -> Result<SocketAddr, String>;

    /// CPU time of each engine shard thread since it started: (name, time).
    /// Default: the shard threads of this process.
    fn shard_cpu(&mut self) -> Vec<(String, Duration)> {
        super::procfs::threads_cpu(super::drive::SHARD_THREAD_PREFIX)
    }

    /// Called once when the warm-up ends (before the first measured frame
    /// when there is none): the engine side takes its baseline so that the
    /// engine's own figures cover the measured window. Default: nothing.
    fn warmed_up(&mut self) {}
}

/// Adds guardians to rooms of an engine, creating rooms on first use.
#[derive(Debug)]
pub struct MediaProvisioner<'a> {
    engine: &'a mut Engine,
    mixer: MixerConfig,
    rooms: HashSet<u32>,
    /// The engine's stats when the warm-up ended, or why there are none.
    baseline: Option<Result<EngineStats, String>>,
}

impl<'a> MediaProvisioner<'a> {
    /// Provisions into `engine` with rooms mixing per `mixer`.
    pub fn new(engine: &'a mut Engine, mixer: MixerConfig) -> Self {
        Self {
            engine,
            mixer,
            rooms: HashSet::new(),
            baseline: None,
        }
    }

    /// The engine.
    pub fn engine(&mut self) -> &mut Engine {
        self.engine
    }

    /// The engine's stats taken when the warm-up ended: `None` when the run
    /// never got there, an error when the snapshot failed.
    pub fn take_baseline(&mut self) -> Option<Result<EngineStats, String>> {
        self.baseline.take()
    }
}

impl ProvisionMedia for MediaProvisioner<'_> {
    fn provision(
        &mut self,
        guardian: &LoadGuardian,
        rtp: SocketAddr,
    ) -> Result<SocketAddr, String> {
        let room = RoomId(guardian.room as u32 + 1);
        if self.rooms.insert(room.0) {
            self.engine
                .create_room(room, self.mixer)
                .map_err(|e| format!("creating room {}: {e}", room.0))?;
        }
        let mut spec = ParticipantSpec::new(guardian.id, guardian.codec, rtp);
        spec.payload_type = guardian.payload_type;
        // RTCP muxed on the RTP socket (RFC 5761): the port above a
        // guardian's ephemeral RTP port may be another guardian's.
        spec.remote_rtcp = Some(rtp);
        let admission = self
            .engine
            .add_participant(room, spec)
            .map_err(|e| format!("engine: {e}"))?;
        Ok(admission.local_rtp)
    }

    fn warmed_up(&mut self) {
        // A fresh report from every shard (one round trip per shard).
        self.baseline = Some(self.engine.snapshot().cloned().map_err(|e| e.to_string()));
    }
}

impl super::Admit for MediaProvisioner<'_> {
    fn shard_cpu(&mut self) -> Vec<(String, Duration)> {
        ProvisionMedia::shard_cpu(self)
    }

    fn warmed_up(&mut self) {
        ProvisionMedia::warmed_up(self);
    }

    fn admit(
        &mut self,
        guardian: &LoadGuardian,
        rtp: SocketAddr,
    ) -> Result<super::Admitted, String> {
        Ok(super::Admitted {
            engine_rtp: Some(self.provision(guardian, rtp)?),
            ..Default::default()
        })
    }
}
