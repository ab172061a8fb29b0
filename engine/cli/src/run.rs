//! `engine run --config config/engine.toml`: the media daemon.
//!
//! Starts the shards, creates the static rooms of the config (the registry),
//! then waits for signals on the main thread (the control thread; shards
//! never see a signal because the mask is set before they start):
//! - SIGTERM / SIGINT: stop admitting, take a final snapshot, stop the shards,
//!   print the final stats, exit 0;
//! - SIGHUP: re-read the config's registry and apply the difference (new
//!   rooms and participants are added, missing ones removed; engine settings
//!   other than the registry need a restart);
//! - SIGUSR1: stop accepting new admissions (running rooms continue).
//!
//! With `--registry` the H.225.0 RAS gatekeeper runs too, on its own thread:
//! SIGHUP also reloads the guardian registry (existing calls continue) and
//! SIGUSR1 also stops it admitting.
//!
//! A stats line is printed every `--stats-secs`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use engine::config::{EngineConfig, StaticRoom};
use engine::core::mixer::{MixerConfig, ParticipantId};
use engine::net::{self, Signal};
use engine::{Engine, ParticipantSpec, RoomId};

/// Arguments of `engine run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Engine configuration (TOML); without it, config/engine.toml when
    /// present, else the built-in defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Guardian registry (YAML): starts the H.225.0 RAS gatekeeper.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Where the gatekeeper receives RAS (never port 1720, which is H.225.0
    /// call signalling).
    #[arg(long, default_value = "0.0.0.0:1719")]
    ras_listen: std::net::SocketAddr,
    /// Seconds between stats lines (0 = only the final one).
    #[arg(long, default_value_t = 10)]
    stats_secs: u64,
    /// Stop by itself after this many seconds (tests, demos).
    #[arg(long)]
    exit_after_secs: Option<u64>,
    #[command(flatten)]
    observe: crate::observe::ObserveArgs,
}

/// Runs the daemon until SIGTERM/SIGINT.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let default_path = PathBuf::from("config/engine.toml");
    let config_path = args
        .config
        .clone()
        .or_else(|| default_path.exists().then_some(default_path));
    let config = match &config_path {
        Some(path) => EngineConfig::from_file(path)?,
        None => {
            eprintln!("engine: no --config and no config/engine.toml: built-in defaults");
            EngineConfig::default()
        }
    };
    net::block_signals().context("blocking signals")?;
    let mut engine = Engine::start(config.clone())?;
    let gatekeeper = match &args.registry {
        Some(path) => {
            let mut service = control::service::ServiceConfig::new(path.clone());
            service.ras_listen = args.ras_listen;
            service.audit = args.observe.audit();
            // Until H.225.0 call signalling exists the gatekeeper reserves a
            // room per conference; media is added through the Engine API.
            let handle =
                control::service::start(service, bench::load::ras_admit::ConferenceRooms, |_| {})
                    .with_context(|| {
                    format!("starting the gatekeeper with registry {}", path.display())
                })?;
            eprintln!(
                "gatekeeper: RAS on {} with registry {}",
                handle.local_addr(),
                path.display()
            );
            Some(handle)
        }
        None => None,
    };
    eprintln!(
        "engine: {} shard(s) on CPUs {:?}, media ports {}:{}.. ({} per shard), DSCP audio {}",
        engine.shard_count(),
        (0..engine.shard_count())
            .map(|s| config.shard_cpu(s))
            .collect::<Vec<_>>(),
        config.media.bind_ip,
        config.media.port_first,
        config.media.ports_per_shard,
        config.media.dscp_audio,
    );
    let mut registry = Registry::default();
    registry.apply(&mut engine, &config.rooms);
    let mut observer = crate::observe::start(&args.observe)?;

    let started = Instant::now();
    let mut last_stats = Instant::now();
    loop {
        if let Some(limit) = args.exit_after_secs {
            if started.elapsed() >= Duration::from_secs(limit) {
                eprintln!("engine: --exit-after-secs reached; stopping");
                break;
            }
        }
        match net::wait_signal(Duration::from_millis(200)) {
            Some(Signal::Stop) => {
                eprintln!("engine: stop signal; draining");
                break;
            }
            Some(Signal::Reload) => {
                if let Some(path) = &config_path {
                    match reload(path) {
                        Ok(rooms) => {
                            eprintln!(
                                "engine: SIGHUP: reloading the rooms from {}",
                                path.display()
                            );
                            registry.apply(&mut engine, &rooms);
                        }
                        Err(e) => eprintln!("engine: SIGHUP: keeping the old rooms: {e:#}"),
                    }
                }
                if let Some(gk) = &gatekeeper {
                    match gk.reload_registry() {
                        Ok(summary) => {
                            eprintln!("gatekeeper: SIGHUP: registry reloaded: {summary}")
                        }
                        Err(e) => eprintln!("gatekeeper: SIGHUP: keeping the old registry: {e}"),
                    }
                }
            }
            Some(Signal::StopAdmissions) => {
                engine.set_accepting(false);
                if let Some(gk) = &gatekeeper {
                    if let Err(e) = gk.set_admissions_enabled(false) {
                        eprintln!("gatekeeper: {e}");
                    }
                }
                eprintln!("engine: SIGUSR1: no longer accepting new admissions");
            }
            None => {}
        }
        observer.tick(&mut engine, gatekeeper.as_ref());
        if args.stats_secs > 0 && last_stats.elapsed() >= Duration::from_secs(args.stats_secs) {
            last_stats = Instant::now();
            eprintln!("engine: {}", engine.stats().summary());
        }
    }
    engine.set_accepting(false);
    if let Some(gk) = gatekeeper {
        if let Ok(stats) = gk.stats() {
            eprintln!("gatekeeper: final: {:?}", stats.gatekeeper);
        }
        let _ = gk.shutdown();
    }
    let final_stats = engine.shutdown();
    eprintln!("engine: final: {}", final_stats.summary());
    let latency = final_stats.latency();
    if latency.count() > 0 {
        eprintln!(
            "engine: engine-added latency p50 {:?} p90 {:?} p99 {:?} max {:?} over {} frames",
            latency.quantile(0.5),
            latency.quantile(0.9),
            latency.quantile(0.99),
            latency.max(),
            latency.count()
        );
    }
    Ok(())
}

fn reload(path: &Path) -> anyhow::Result<Vec<StaticRoom>> {
    Ok(EngineConfig::from_file(path)?.rooms)
}

/// The rooms and participants created from the config, for SIGHUP diffs.
#[derive(Debug, Default)]
struct Registry {
    rooms: HashMap<u32, HashSet<u32>>,
}

impl Registry {
    /// Makes the engine's static rooms match `rooms`; reports each change.
    fn apply(&mut self, engine: &mut Engine, rooms: &[StaticRoom]) {
        let wanted: HashMap<u32, &StaticRoom> = rooms.iter().map(|r| (r.id, r)).collect();
        let gone: Vec<u32> = self
            .rooms
            .keys()
            .filter(|id| !wanted.contains_key(id))
            .copied()
            .collect();
        for id in gone {
            match engine.destroy_room(RoomId(id)) {
                Ok(()) => eprintln!("engine: room {id} removed"),
                Err(e) => eprintln!("engine: room {id}: {e}"),
            }
            self.rooms.remove(&id);
        }
        for room in rooms {
            if let std::collections::hash_map::Entry::Vacant(slot) = self.rooms.entry(room.id) {
                match engine.create_room(RoomId(room.id), MixerConfig::default()) {
                    Ok(shard) => {
                        eprintln!("engine: room {} on shard {shard}", room.id);
                        slot.insert(HashSet::new());
                    }
                    Err(e) => {
                        eprintln!("engine: room {}: {e}", room.id);
                        continue;
                    }
                }
            }
            let Some(members) = self.rooms.get_mut(&room.id) else {
                continue;
            };
            let want: HashSet<u32> = room.participants.iter().map(|p| p.id).collect();
            for id in members
                .iter()
                .filter(|id| !want.contains(id))
                .copied()
                .collect::<Vec<_>>()
            {
                if let Err(e) = engine.remove_participant(ParticipantId(id)) {
                    eprintln!("engine: participant {id}: {e}");
                }
                members.remove(&id);
            }
            for p in &room.participants {
                if members.contains(&p.id) {
                    continue;
                }
                let Ok(codec) = p.codec_config() else {
                    continue;
                };
                let mut spec = ParticipantSpec::new(ParticipantId(p.id), codec, p.remote_rtp);
                if let Some(pt) = p.payload_type {
                    spec.payload_type = pt;
                }
                spec.remote_rtcp = p.remote_rtcp;
                spec.ssrc = p.ssrc;
                spec.bitrate_cap_bps = p.bitrate_cap_bps;
                match engine.add_participant(RoomId(room.id), spec) {
                    Ok(a) => {
                        eprintln!(
                            "engine: participant {} in room {}: send RTP to {} (RTCP {}), mix from SSRC {:#010x}",
                            p.id, room.id, a.local_rtp, a.local_rtcp, a.ssrc_out
                        );
                        members.insert(p.id);
                    }
                    Err(e) => eprintln!("engine: participant {} in room {}: {e}", p.id, room.id),
                }
            }
        }
    }
}
