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
//!
//! `--role` splits the daemon (docs/media-link.md): `all` (default) runs
//! shards, gatekeeper and the media control port; `media` runs the shards
//! and the control port only, controlled by a remote gatekeeper;
//! `gatekeeper` runs no shard and controls the engines given with
//! `--engine` over the media link. Stopping a gatekeeper never touches the
//! media engines: their rooms continue.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use control::media_link::remote::LinkCounters;
use engine::config::{EngineConfig, StaticRoom};
use engine::core::mixer::{MixerConfig, ParticipantId};
use engine::net::{self, Signal};
use engine::{Engine, ParticipantSpec, RoomId};

use crate::media_server::{self, lock, Controlled, MediaServer};

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
    /// What this process runs: shards + gatekeeper (all), shards controlled
    /// remotely (media), or a gatekeeper controlling remote engines.
    #[arg(long, value_enum, default_value_t = Role::All)]
    role: Role,
    /// Where the media control protocol listens (roles all and media).
    #[arg(long, default_value_t = SocketAddr::from(([127, 0, 0, 1], control::media_link::DEFAULT_PORT)))]
    control_listen: SocketAddr,
    /// A controller public key (64 hex) allowed on the control port;
    /// repeatable. Needed for any controller not on loopback.
    #[arg(long = "control-allow-key")]
    control_allow_keys: Vec<String>,
    /// Require authentication on loopback too.
    #[arg(long)]
    control_auth_loopback: bool,
    /// Role gatekeeper: a media engine's control address; repeatable.
    #[arg(long = "engine")]
    engines: Vec<String>,
    /// Role gatekeeper: the private key file (`engine keygen --key-out`)
    /// it authenticates to the engines with.
    #[arg(long)]
    control_key: Option<PathBuf>,
    /// Role gatekeeper: the epoch it claims on the engines (raise it on
    /// every failover; see docs/media-link.md).
    #[arg(long, default_value_t = 1)]
    epoch: u64,
    #[command(flatten)]
    ha: crate::ha_setup::HaArgs,
    #[command(flatten)]
    observe: crate::observe::ObserveArgs,
}

/// The gatekeeper's inputs: flags, else the `[gatekeeper]` section of the
/// gatekeeper file (role gatekeeper's `--config`).
#[derive(Debug, Default)]
struct GkInputs {
    registry: Option<PathBuf>,
    engines: Vec<String>,
    control_key: Option<PathBuf>,
    alternates: Vec<SocketAddr>,
    audit_dir: Option<PathBuf>,
    ha_table: toml::Table,
}

fn gk_inputs(args: &RunArgs) -> anyhow::Result<GkInputs> {
    let (ha_table, file) = match (&args.config, args.role) {
        (Some(path), Role::Gatekeeper) => crate::ha_setup::read_file(path)?,
        _ => Default::default(),
    };
    let pick = |flag: &Vec<String>, file: Vec<String>| {
        if flag.is_empty() {
            file
        } else {
            flag.clone()
        }
    };
    Ok(GkInputs {
        registry: args.registry.clone().or(file.registry),
        engines: pick(&args.engines, file.engines),
        control_key: args.control_key.clone().or(file.control_key),
        alternates: if args.ha.alternate_gk.is_empty() {
            file.alternate_gatekeepers
        } else {
            args.ha.alternate_gk.clone()
        },
        audit_dir: file.audit_dir,
        ha_table,
    })
}

/// What `engine run` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// Shards, gatekeeper (with --registry) and the control port.
    All,
    /// Shards and the control port only.
    Media,
    /// The gatekeeper only, controlling --engine ADDR.
    Gatekeeper,
}

/// The media side of the daemon: shards, static rooms, control port.
struct Media {
    shared: media_server::Shared,
    server: MediaServer,
    registry: Registry,
}

/// Runs the daemon until SIGTERM/SIGINT.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let inputs = gk_inputs(args)?;
    check_role(args, &inputs)?;
    let default_path = PathBuf::from("config/engine.toml");
    // Role gatekeeper's --config is the gatekeeper file, read above.
    let config_path = args
        .config
        .clone()
        .or_else(|| default_path.exists().then_some(default_path))
        .filter(|_| args.role != Role::Gatekeeper);
    let config = match &config_path {
        Some(path) => EngineConfig::from_file(path)?,
        // A gatekeeper runs no shard: no engine settings to read.
        None if args.role == Role::Gatekeeper => EngineConfig::default(),
        None => {
            eprintln!("engine: no --config and no config/engine.toml: built-in defaults");
            EngineConfig::default()
        }
    };
    net::block_signals().context("blocking signals")?;
    let mut media = match args.role {
        Role::All | Role::Media => Some(start_media(args, &config)?),
        Role::Gatekeeper => None,
    };
    let mut link_counters = None;
    let gatekeeper = match &inputs.registry {
        Some(path) => {
            let mut service = control::service::ServiceConfig::new(path.clone());
            service.ras_listen = args.ras_listen;
            service.audit = args.observe.audit_or(inputs.audit_dir.as_ref());
            if service.audit.is_none() {
                eprintln!(
                    "audit: no --audit-dir (or audit_dir in the gatekeeper file): RAS decisions are not written to an audit log"
                );
            }
            service.gatekeeper.alternate_gatekeepers =
                crate::ha_setup::alternates(&inputs.alternates, &service.gatekeeper.gatekeeper_id);
            let source = args
                .config
                .as_ref()
                .map_or_else(|| "flags".to_owned(), |p| p.display().to_string());
            if let Some(role) = args.ha.ha {
                let ha = crate::ha_setup::config(&args.ha, role, inputs.ha_table.clone(), &source)?;
                service.gatekeeper.ras_address = ha.floating.address;
                eprintln!(
                    "gatekeeper: ha: node {} ({role:?}), peer link {} -> {}, floating RAS {}",
                    ha.link.node.node_id.0, ha.link.listen, ha.link.peer, ha.floating.address
                );
                service.ha = Some(ha);
            }
            let (api, counters) = engine_api(args, &inputs)?;
            link_counters = counters.as_ref().map(|(c, _)| Arc::clone(c));
            let handle = match counters.and_then(|(_, f)| f) {
                Some(fencing) if service.ha.is_some() => {
                    control::service::start_ha(service, api, fencing, |_| {})
                }
                _ => control::service::start(service, api, |_| {}),
            }
            .with_context(|| format!("starting the gatekeeper with registry {}", path.display()))?;
            eprintln!(
                "gatekeeper: RAS on {} with registry {}{}",
                handle.local_addr(),
                path.display(),
                if args.ha.ha.is_some() {
                    " (ha: standby until promoted)"
                } else {
                    ""
                }
            );
            Some(handle)
        }
        None => None,
    };
    let mut observer = crate::observe::start(&args.observe)?;
    let mut ha_seen = crate::ha_setup::Seen::default();

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
                if let Some(path) = config_path.as_ref().filter(|_| media.is_some()) {
                    match reload(path) {
                        Ok(rooms) => {
                            eprintln!(
                                "engine: SIGHUP: reloading the rooms from {}",
                                path.display()
                            );
                            if let Some(m) = &mut media {
                                m.registry.apply(&mut lock(&m.shared).engine, &rooms);
                            }
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
                if let Some(m) = &media {
                    lock(&m.shared).engine.set_accepting(false);
                }
                if let Some(gk) = &gatekeeper {
                    if let Err(e) = gk.set_admissions_enabled(false) {
                        eprintln!("gatekeeper: {e}");
                    }
                }
                eprintln!("engine: SIGUSR1: no longer accepting new admissions");
            }
            None => {}
        }
        if let Some(gk) = &gatekeeper {
            ha_seen.check(gk, &mut observer);
        }
        match &media {
            Some(m) => observer.tick(Some(&mut lock(&m.shared).engine), gatekeeper.as_ref()),
            None => observer.tick(None, gatekeeper.as_ref()),
        }
        if args.stats_secs > 0 && last_stats.elapsed() >= Duration::from_secs(args.stats_secs) {
            last_stats = Instant::now();
            if let Some(m) = &media {
                let mut c = lock(&m.shared);
                eprintln!("engine: {}", c.engine.stats().summary());
                eprintln!("media-link: {}", c.link_summary());
            }
            if let Some(counters) = &link_counters {
                eprintln!("gatekeeper: media link: {}", counters.snapshot());
            }
            if let Some(Ok(Some(ha))) = gatekeeper.as_ref().map(|g| g.stats().map(|s| s.ha)) {
                eprintln!(
                    "gatekeeper: ha: role {} epoch {} failovers {} promotions {} demotions {} address errors {}",
                    ha.role,
                    control::ha::Epoch(ha.epoch),
                    ha.failovers,
                    ha.promotions,
                    ha.demotions,
                    ha.address_errors
                );
            }
        }
    }
    if let Some(m) = &media {
        lock(&m.shared).engine.set_accepting(false);
    }
    if let Some(gk) = gatekeeper {
        if let Ok(stats) = gk.stats() {
            eprintln!("gatekeeper: final: {:?}", stats.gatekeeper);
        }
        if let Some(counters) = &link_counters {
            eprintln!("gatekeeper: media link: {}", counters.snapshot());
        }
        let _ = gk.shutdown();
    }
    let Some(media) = media else {
        return Ok(());
    };
    media.server.stop();
    eprintln!("media-link: final: {}", lock(&media.shared).link_summary());
    let Ok(controlled) = Arc::try_unwrap(media.shared) else {
        anyhow::bail!("the media link still holds the engine after stopping");
    };
    let controlled = controlled.into_inner().unwrap_or_else(|p| p.into_inner());
    let final_stats = controlled.engine.shutdown();
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

/// Refuses flags that do not belong to the role, before anything starts.
fn check_role(args: &RunArgs, inputs: &GkInputs) -> anyhow::Result<()> {
    match args.role {
        Role::Media if args.registry.is_some() => {
            anyhow::bail!("--role media runs no gatekeeper: drop --registry, or use --role all")
        }
        Role::All | Role::Media if args.ha.ha.is_some() => {
            anyhow::bail!(
                "--ha is for --role gatekeeper (the media engines are shared by the pair)"
            )
        }
        _ if args.ha.ha.is_none() && args.ha.any_set() => {
            anyhow::bail!("--peer, --ha-listen, --ha-key, --floating, --node-id and --ha-preempt need --ha primary|secondary")
        }
        Role::Gatekeeper if inputs.registry.is_none() => {
            anyhow::bail!("--role gatekeeper needs --registry FILE")
        }
        Role::Gatekeeper if inputs.engines.is_empty() => {
            anyhow::bail!("--role gatekeeper needs at least one --engine HOST:PORT (a media engine's --control-listen)")
        }
        Role::Gatekeeper if !args.control_allow_keys.is_empty() || args.control_auth_loopback => {
            anyhow::bail!("--control-allow-key and --control-auth-loopback configure a media engine's control port: use them with --role media or all")
        }
        Role::All | Role::Media if !args.engines.is_empty() || args.control_key.is_some() => {
            anyhow::bail!("--engine and --control-key are for --role gatekeeper")
        }
        _ => Ok(()),
    }
}

/// Starts the shards, the static rooms and the control port.
fn start_media(args: &RunArgs, config: &EngineConfig) -> anyhow::Result<Media> {
    let mut engine = Engine::start(config.clone())?;
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
    let mut link = control::media_link::ServerConfig {
        allowed_keys: Vec::new(),
        loopback_without_auth: !args.control_auth_loopback,
    };
    for hex in &args.control_allow_keys {
        link.allowed_keys.push(
            control::media_link::auth::parse_public_key(hex)
                .map_err(|e| anyhow::anyhow!("--control-allow-key {hex}: {e}"))?,
        );
    }
    let shared = Arc::new(std::sync::Mutex::new(Controlled::new(engine)));
    let server = media_server::start(args.control_listen, link, Arc::clone(&shared))
        .with_context(|| format!("--control-listen {}", args.control_listen))?;
    eprintln!(
        "media-link: control on {} ({} controller key(s); loopback {})",
        server.local_addr(),
        args.control_allow_keys.len(),
        if args.control_auth_loopback {
            "authenticated"
        } else {
            "unauthenticated"
        }
    );
    Ok(Media {
        shared,
        server,
        registry,
    })
}

/// The gatekeeper's engine side: remote engines in role gatekeeper; in role
/// all, until H.225.0 call signalling exists, a room id per conference
/// (media is added through the Engine API or the control port). Also
/// returns the link's counters in role gatekeeper.
fn engine_api(args: &RunArgs, inputs: &GkInputs) -> anyhow::Result<(EngineApiBox, Links)> {
    if args.role != Role::Gatekeeper {
        return Ok((Box::new(bench::load::ras_admit::ConferenceRooms), None));
    }
    let key = match &inputs.control_key {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--control-key {}", path.display()))?;
            let (_, key) = control::security::keys::parse_private_key_file(&text)
                .with_context(|| format!("--control-key {}", path.display()))?;
            Some(key)
        }
        None => None,
    };
    let mut configs = Vec::new();
    for target in &inputs.engines {
        let addr = control::media_link::MediaClient::resolve(target)
            .map_err(|e| anyhow::anyhow!("--engine {e}"))?;
        let mut c = control::media_link::ClientConfig::new(addr, "engine run --role gatekeeper");
        c.key = key.clone();
        configs.push(c);
    }
    let mut remote = if args.ha.ha.is_some() {
        // An HA node claims the engines only when the peer link says so.
        eprintln!(
            "gatekeeper: controlling media engine(s) {} once primary",
            inputs.engines.join(", ")
        );
        control::media_link::RemoteEngine::start_fenced(configs)
    } else {
        eprintln!(
            "gatekeeper: controlling media engine(s) {} at epoch {}",
            inputs.engines.join(", "),
            args.epoch
        );
        control::media_link::RemoteEngine::start(configs, args.epoch)
    }
    .map_err(anyhow::Error::msg)?;
    let counters = remote.counters_handle();
    let fencing = remote.take_fencing();
    Ok((Box::new(remote), Some((counters, fencing))))
}

type EngineApiBox = Box<dyn control::engine_api::EngineApi + Send>;
/// The media link's counters and, for an HA node, its fencing handle.
type Links = Option<(Arc<LinkCounters>, Option<control::media_link::Fencing>)>;

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
