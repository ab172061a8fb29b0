//! Media provisioning through the media link (docs/media-link.md), for
//! `engine bench --target`: the same step as [`super::media_admit`], against
//! an `engine run` in another process, plus the engine's CPU and latency
//! read with the link's `stats` request.
//!
//! The bench is a tester, not a controller: it uses the engine's current
//! epoch as announced in `hello` and follows it when a gatekeeper claims a
//! newer one (one retry on `stale_epoch`), but never claims one itself, so
//! it cannot fence out the deployment's gatekeeper. Its rooms and participants use ids from
//! [`ID_BASE`] up, away from static rooms and gatekeeper-allocated rooms,
//! and are removed at the end of the run.

use std::net::SocketAddr;
use std::time::Duration;

use control::media_link::messages::EngineSnapshot;
use control::media_link::{
    ClientConfig, ClientError, Epoch, LinkCodec, LinkError, MediaClient, ParticipantParams,
};
use media_core::codec::CodecConfig;

use crate::report::EngineMemory;

use super::guardian::LoadGuardian;
use super::media_admit::ProvisionMedia;

/// First room and participant id the bench uses on a remote engine.
pub const ID_BASE: u32 = 2_000_000_000;
/// Ids reserved per run (guardians and rooms of one run stay below it).
pub const IDS_PER_RUN: u32 = 10_000;

/// Provisions guardians on a remote engine over the media link.
#[derive(Debug)]
pub struct RemoteProvisioner {
    client: MediaClient,
    epoch: Epoch,
    first_id: u32,
    rooms: Vec<u32>,
    participants: Vec<u32>,
    stats_failures: u64,
    /// The engine's RSS (KiB) and participants when we connected, before
    /// adding any, for the memory per guardian.
    before: Option<(u64, u64)>,
    /// Its RSS (KiB) in the last engine snapshot's reply.
    rss_kib: Option<u64>,
    /// The engine's snapshot when the warm-up ended, or why there is none.
    baseline: Option<Result<EngineSnapshot, String>>,
}

impl RemoteProvisioner {
    /// Connects (bounded by the client's timeouts) and reads the epoch.
    pub fn connect(config: ClientConfig) -> Result<Self, String> {
        let mut client = MediaClient::connect(config).map_err(|e| e.to_string())?;
        let epoch = client.engine_epoch();
        // An engine too old to report its RSS leaves the memory figure out.
        let before = client.stats(true).ok().and_then(|s| {
            let participants = s.engine.map(|e| e.participants)?;
            Some((s.rss_kib?, participants))
        });
        // Distinct ids per run so a run left over from a crash (whose
        // rooms remain until the engine restarts) does not collide.
        let first_id = ID_BASE + (std::process::id() % 200_000) * IDS_PER_RUN;
        Ok(Self {
            client,
            epoch,
            first_id,
            rooms: Vec::new(),
            participants: Vec::new(),
            stats_failures: 0,
            before,
            rss_kib: None,
            baseline: None,
        })
    }

    /// The engine's epoch the commands carry.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// Stats requests that failed (CPU samples missing from the report).
    pub fn stats_failures(&self) -> u64 {
        self.stats_failures
    }

    /// Runs `f` with the engine's epoch; when a controller raised it
    /// meanwhile, follows and retries once.
    fn fenced<T>(
        &mut self,
        f: impl Fn(&mut MediaClient, Epoch) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        match f(&mut self.client, self.epoch) {
            Err(e) => match e.refusal() {
                Some(
                    LinkError::StaleEpoch { current } | LinkError::EpochNotClaimed { current },
                ) => {
                    self.epoch = *current;
                    f(&mut self.client, self.epoch)
                }
                _ => Err(e),
            },
            ok => ok,
        }
    }

    /// The engine's memory growth from when we connected to the last
    /// [`engine_snapshot`](Self::engine_snapshot), which reported
    /// `participants` (`None` from an engine that does not report its RSS).
    pub fn engine_memory(&self, participants: u64) -> Option<EngineMemory> {
        let (rss_before, participants_before) = self.before?;
        EngineMemory::from_kib(
            self.rss_kib,
            Some(rss_before),
            participants.saturating_sub(participants_before),
        )
    }

    /// A fresh snapshot of the engine's counters and latency.
    pub fn engine_snapshot(&mut self) -> Result<EngineSnapshot, String> {
        let stats = self.client.stats(true).map_err(|e| e.to_string())?;
        self.rss_kib = stats.rss_kib;
        stats
            .engine
            .ok_or_else(|| "the engine's stats reply has no snapshot".to_owned())
    }

    /// The engine's snapshot taken when the warm-up ended: `None` when the
    /// run never got there, an error when the stats request failed.
    pub fn baseline(&self) -> Option<&Result<EngineSnapshot, String>> {
        self.baseline.as_ref()
    }

    /// Removes the run's participants and rooms (best effort; returns how
    /// many removals failed).
    pub fn cleanup(&mut self) -> usize {
        let mut failed = 0;
        for p in std::mem::take(&mut self.participants) {
            failed += usize::from(
                self.fenced(|c, epoch| c.remove_participant(epoch, p))
                    .is_err(),
            );
        }
        for r in std::mem::take(&mut self.rooms) {
            failed += usize::from(self.fenced(|c, epoch| c.destroy_room(epoch, r)).is_err());
        }
        failed
    }
}

impl ProvisionMedia for RemoteProvisioner {
    fn provision(
        &mut self,
        guardian: &LoadGuardian,
        rtp: SocketAddr,
    ) -> Result<SocketAddr, String> {
        if guardian.index as u32 >= IDS_PER_RUN {
            return Err(format!("a remote run has at most {IDS_PER_RUN} guardians"));
        }
        let room = self.first_id + guardian.room as u32;
        if !self.rooms.contains(&room) {
            self.fenced(|c, epoch| c.create_room(epoch, room))
                .map_err(|e| format!("creating room {room}: {e}"))?;
            self.rooms.push(room);
        }
        let participant = self.first_id + guardian.index as u32;
        let params = ParticipantParams {
            room,
            participant,
            codec: match guardian.codec {
                CodecConfig::Opus(_) => LinkCodec::Opus,
                CodecConfig::Pcmu => LinkCodec::Pcmu,
                CodecConfig::Pcma => LinkCodec::Pcma,
            },
            payload_type: guardian.payload_type,
            remote_rtp: rtp,
            // RTCP muxed on the RTP socket, as in embedded mode.
            remote_rtcp: Some(rtp),
            ssrc: None,
            bitrate_cap_bps: None,
        };
        let (local_rtp, _, _) = self
            .fenced(|c, epoch| c.add_participant(epoch, params))
            .map_err(|e| format!("engine: {e}"))?;
        self.participants.push(participant);
        Ok(local_rtp)
    }

    fn shard_cpu(&mut self) -> Vec<(String, Duration)> {
        match self.client.stats(false) {
            Ok(s) => s
                .shard_cpu_us
                .into_iter()
                .map(|(name, us)| (name, Duration::from_micros(us)))
                .collect(),
            Err(_) => {
                self.stats_failures += 1;
                Vec::new()
            }
        }
    }

    fn warmed_up(&mut self) {
        self.baseline = Some(self.engine_snapshot());
    }
}
