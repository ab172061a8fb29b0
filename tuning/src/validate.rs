//! `engine validate`: the pre-flight before a deployment goes live.
//!
//! One [`Line`] per check, each PASS, WARN, FAIL or SKIP with a detail, and a
//! total. The checks load the engine config exactly as `engine run` does
//! ([`engine::config::EngineConfig::from_file`]) and the registry exactly as
//! `engine registry check` does ([`control::registry::check`]); io_uring,
//! locked memory and the profile summary are the `engine tune check` items
//! ([`crate::check`]), not a second implementation of them.
//!
//! What is not asked for says so as a SKIP line rather than passing
//! silently: the metrics endpoint (without `--metrics`: it answers only once
//! `engine run` is up), HA peers (without `--peer`/`--engine`; see
//! [`crate::reach`]) and, on a host without a gatekeeper (neither
//! `--registry` nor `--ras-listen`), the RAS port. With `--registry`
//! the RAS port is the one `engine run --registry` binds: `--ras-listen`, by
//! default `0.0.0.0:1719`.
//!
//! Exit status ([`Report::exit_code`]): 0 when nothing FAILs, 2 when something
//! does; usage errors (an unknown profile) are a [`ValidateError`], exit 3.

use std::fmt;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};

use engine::config::EngineConfig;

use crate::check::{self, Item};
use crate::host::Host;
use crate::profile::{self, Status};
use crate::{CheckArgs, ExitStatus, SizingArgs, TuneCommand};

/// Port pairs bound per shard to sample its range: the first, the last and
/// evenly spaced ones between. Binding every port of a 256-shard layout would
/// take half a million sockets; a held port in the range shows up as well in
/// the sample as the usual culprits (another engine, an old instance) do.
pub const PORT_PAIRS_SAMPLED_PER_SHARD_MAX: u32 = 8;

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Not checked, with the reason in the detail.
    Skip,
    /// As wanted.
    Pass,
    /// Works, but look at it.
    Warn,
    /// The deployment will not start or not work as configured.
    Fail,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Skip => "SKIP",
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
        })
    }
}

impl From<Status> for Outcome {
    fn from(status: Status) -> Self {
        match status {
            Status::Pass => Outcome::Pass,
            Status::Warn => Outcome::Warn,
            Status::Fail => Outcome::Fail,
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The result.
    pub outcome: Outcome,
    /// What was checked (`config`, `registry`, `media ports`, …).
    pub name: String,
    /// What was found.
    pub detail: String,
    /// How to fix it; printed under WARN and FAIL lines.
    pub hint: String,
}

impl Line {
    pub(crate) fn new(outcome: Outcome, name: &str, detail: impl Into<String>) -> Line {
        Line {
            outcome,
            name: name.to_owned(),
            detail: detail.into(),
            hint: String::new(),
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Line {
        self.hint = hint.into();
        self
    }

    fn from_item(name: &str, item: Item) -> Line {
        Line::new(item.status.into(), name, item.detail).hint(item.why)
    }
}

/// What to validate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The engine config (`engine run --config`).
    pub config: PathBuf,
    /// The guardian registry of the gatekeeper, if this host runs one.
    pub registry: Option<PathBuf>,
    /// A tuning profile to summarise `engine tune check` for.
    pub profile: Option<String>,
    /// Where the gatekeeper will receive RAS; with a registry and no
    /// address, `engine run`'s default `0.0.0.0:1719`.
    pub ras_listen: Option<SocketAddr>,
    /// A running `engine run`'s metrics endpoint (`--metrics`), probed with
    /// GET /metrics.
    pub metrics: Option<SocketAddr>,
    /// The other gatekeeper's HA link address (`--peer`).
    pub peer: Option<SocketAddr>,
    /// Media engines' control ports this gatekeeper will command
    /// (`--engine`, repeatable).
    pub engines: Vec<SocketAddr>,
    /// This host runs only a gatekeeper (`engine run --role gatekeeper`):
    /// `config` is its gatekeeper file, and the shard checks are skipped.
    pub gatekeeper_only: bool,
}

/// Why validation could not run at all (a usage error, exit 3).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// `--profile` names no built-in profile.
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
    /// Writing the report failed.
    #[error("cannot write the report: {0}")]
    Output(#[from] io::Error),
}

/// Every line, in report order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The checks.
    pub lines: Vec<Line>,
}

impl Report {
    /// The line of the check called `name`.
    #[must_use]
    pub fn line(&self, name: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.name == name)
    }

    /// How many lines have this outcome.
    #[must_use]
    pub fn count(&self, outcome: Outcome) -> usize {
        self.lines.iter().filter(|l| l.outcome == outcome).count()
    }

    /// 0 when no check failed, 2 when one did.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        if self.count(Outcome::Fail) > 0 {
            ExitStatus::Fail.code()
        } else {
            ExitStatus::Pass.code()
        }
    }

    /// Prints one line per check, hints indented under WARN/FAIL, and the
    /// total.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        for line in &self.lines {
            writeln!(out, "{}  {:<16} {}", line.outcome, line.name, line.detail)?;
            if matches!(line.outcome, Outcome::Warn | Outcome::Fail) {
                for hint in line.hint.lines().filter(|h| !h.trim().is_empty()) {
                    writeln!(out, "      {hint}")?;
                }
            }
        }
        writeln!(
            out,
            "total: {} PASS, {} WARN, {} FAIL, {} SKIP -> exit {}",
            self.count(Outcome::Pass),
            self.count(Outcome::Warn),
            self.count(Outcome::Fail),
            self.count(Outcome::Skip),
            self.exit_code()
        )
    }
}

/// Runs every check against `host` (`Host::real()` outside tests).
pub fn validate(options: &Options, host: &Host) -> Result<Report, ValidateError> {
    // An unknown profile is a typo on the command line: refuse before
    // checking anything, as `engine tune` does.
    if let Some(name) = &options.profile {
        profile::builtin(name)?;
    }
    if options.gatekeeper_only {
        return validate_gatekeeper(options, host);
    }
    let mut lines = Vec::new();
    let (config_line, config) = check_config(&options.config);
    lines.push(config_line);
    lines.push(check_registry(options.registry.as_deref()));
    lines.push(match &config {
        Some(c) => check_media_ports(c),
        None => skipped_for_config("media ports"),
    });
    lines.push(check_ras_port(ras_listen(options)));
    lines.push(check_io_uring(host));
    lines.push(match &config {
        Some(c) => check_memlock(host, c),
        None => skipped_for_config("memlock"),
    });
    lines.push(crate::reach::check_metrics(options.metrics));
    lines.push(crate::reach::check_ha_peers(options.peer, &options.engines));
    lines.push(check_tuning(
        host,
        options.profile.as_deref(),
        config.as_ref().map(|_| options.config.as_path()),
    )?);
    Ok(Report { lines })
}

/// A gatekeeper-only host: the gatekeeper file instead of an engine config,
/// its registry, peer and engines unless flags name them, no shard checks.
/// With `[ha]` the RAS address is the floating one, bound only while
/// primary, so it is not bound here.
fn validate_gatekeeper(options: &Options, host: &Host) -> Result<Report, ValidateError> {
    let no_shards = |name: &str| {
        Line::new(
            Outcome::Skip,
            name,
            "gatekeeper host (--role gatekeeper): no shards here",
        )
    };
    let (config_line, facts) = crate::gatekeeper_file::check(&options.config);
    let facts = facts.unwrap_or_default();
    let registry = options.registry.clone().or(facts.registry);
    let peer = options.peer.or(facts.peer);
    let engines = if options.engines.is_empty() {
        facts.engines
    } else {
        options.engines.clone()
    };
    let mut lines = vec![
        config_line,
        check_registry(registry.as_deref()),
        no_shards("media ports"),
    ];
    lines.push(match (facts.floating, options.ras_listen) {
        (Some(floating), None) => Line::new(
            Outcome::Skip,
            "ras port",
            format!("HA: the floating RAS address {floating} is bound by the primary on promotion"),
        ),
        (_, listen) => check_ras_port(listen.or_else(|| {
            registry
                .is_some()
                .then(|| SocketAddr::from(([0, 0, 0, 0], 1719)))
        })),
    });
    lines.push(no_shards("io_uring"));
    lines.push(no_shards("memlock"));
    lines.push(crate::reach::check_metrics(options.metrics));
    lines.push(crate::reach::check_ha_peers(peer, &engines));
    lines.push(check_tuning(host, options.profile.as_deref(), None)?);
    Ok(Report { lines })
}

/// The RAS address `engine run` would bind with these options, if it runs
/// the gatekeeper at all.
#[must_use]
pub fn ras_listen(options: &Options) -> Option<SocketAddr> {
    options.ras_listen.or_else(|| {
        options
            .registry
            .as_ref()
            .map(|_| SocketAddr::from(([0, 0, 0, 0], control::service::RAS_PORT)))
    })
}

fn skipped_for_config(name: &str) -> Line {
    Line::new(Outcome::Skip, name, "the config did not load; fix it first")
}

/// Loads the engine config as `engine run` does.
pub fn check_config(path: &Path) -> (Line, Option<EngineConfig>) {
    match EngineConfig::from_file(path) {
        Ok(config) => {
            let shards = config.shard_count();
            let line = Line::new(
                Outcome::Pass,
                "config",
                format!(
                    "{}: {shards} shard(s), media {}:{}.. ({} ports per shard), {} static room(s)",
                    path.display(),
                    config.media.bind_ip,
                    config.media.port_first,
                    config.media.ports_per_shard,
                    config.rooms.len()
                ),
            );
            (line, Some(config))
        }
        Err(e) => (
            Line::new(Outcome::Fail, "config", e.to_string()).hint(
                "every field is documented in config/engine.toml; unknown fields are refused",
            ),
            None,
        ),
    }
}

/// Loads the guardian registry as `engine registry check` does.
pub fn check_registry(path: Option<&Path>) -> Line {
    let Some(path) = path else {
        return Line::new(
            Outcome::Skip,
            "registry",
            "no --registry given (needed on a host that runs the gatekeeper)",
        );
    };
    match control::registry::check(path) {
        Ok(summary) => Line::new(
            Outcome::Pass,
            "registry",
            format!(
                "{}: {} guardian(s), total bandwidth quota {} bit/s",
                path.display(),
                summary.guardians,
                summary.bandwidth_quota_bps_total
            ),
        ),
        Err(errors) => {
            let all: Vec<String> = errors.errors.iter().map(ToString::to_string).collect();
            Line::new(Outcome::Fail, "registry", all.join("; ")).hint(format!(
                "engine registry check {} lists every error",
                path.display()
            ))
        }
    }
}

/// The even (RTP) ports sampled in shard `shard`'s range.
#[must_use]
pub fn sampled_rtp_ports(config: &EngineConfig, shard: usize) -> Vec<u16> {
    let pairs = u32::from(config.media.ports_per_shard) / 2;
    let first =
        u32::from(config.media.port_first) + shard as u32 * u32::from(config.media.ports_per_shard);
    let samples = pairs.clamp(1, PORT_PAIRS_SAMPLED_PER_SHARD_MAX);
    let mut ports: Vec<u16> = (0..samples)
        .map(|i| {
            // Spread the samples from the first pair to the last.
            let pair = if samples == 1 {
                0
            } else {
                i * (pairs - 1) / (samples - 1)
            };
            first + 2 * pair
        })
        .filter_map(|p| u16::try_from(p).ok())
        .collect();
    ports.dedup();
    ports
}

/// Binds a sample of every shard's RTP/RTCP pairs on `bind_ip`, without
/// `SO_REUSEPORT` (as the engine does), and releases them at once.
pub fn check_media_ports(config: &EngineConfig) -> Line {
    let ip = config.media.bind_ip;
    let mut held = Vec::new();
    let mut other = Vec::new();
    let mut bound = 0usize;
    for shard in 0..config.shard_count() {
        for rtp in sampled_rtp_ports(config, shard) {
            for port in [rtp, rtp.saturating_add(1)] {
                match UdpSocket::bind(SocketAddr::new(ip, port)) {
                    Ok(_) => bound += 1,
                    Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                        held.push(format!("{ip}:{port} (shard {shard})"));
                    }
                    Err(e) => other.push(format!("{ip}:{port}: {e}")),
                }
            }
        }
    }
    let range = port_range(config);
    if !other.is_empty() {
        return Line::new(
            Outcome::Fail,
            "media ports",
            format!("cannot bind {}", other.join("; ")),
        )
        .hint(bind_hint(ip));
    }
    if !held.is_empty() {
        return Line::new(
            Outcome::Fail,
            "media ports",
            format!("in use: {} (range {range})", held.join(", ")),
        )
        .hint(
            "find the holder with `ss -uanp 'sport = :PORT'` (an old engine instance?), or move \
             [media] port_first / ports_per_shard",
        );
    }
    Line::new(
        Outcome::Pass,
        "media ports",
        format!("{bound} sampled ports free on {ip}, range {range}"),
    )
}

fn port_range(config: &EngineConfig) -> String {
    let first = u32::from(config.media.port_first);
    let last = first + config.shard_count() as u32 * u32::from(config.media.ports_per_shard) - 1;
    format!("{first}-{last}")
}

fn bind_hint(ip: IpAddr) -> String {
    format!("is {ip} an address of this host? ([media] bind_ip; `ip -br addr`)")
}

/// Binds the RAS address the gatekeeper will use.
pub fn check_ras_port(listen: Option<SocketAddr>) -> Line {
    let Some(addr) = listen else {
        return Line::new(
            Outcome::Skip,
            "ras port",
            "no --registry or --ras-listen: no gatekeeper on this host",
        );
    };
    if addr.port() == control::service::CALL_SIGNALLING_PORT {
        return Line::new(
            Outcome::Fail,
            "ras port",
            format!("{addr}: port 1720 is H.225.0 call signalling; RAS is 1719"),
        );
    }
    match UdpSocket::bind(addr) {
        Ok(_) => Line::new(Outcome::Pass, "ras port", format!("{addr} free")),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
            Line::new(Outcome::Fail, "ras port", format!("{addr} in use")).hint(format!(
                "find the holder with `ss -uanp 'sport = :{}'`",
                addr.port()
            ))
        }
        Err(e) => Line::new(
            Outcome::Fail,
            "ras port",
            format!("cannot bind {addr}: {e}"),
        )
        .hint(bind_hint(addr.ip())),
    }
}

/// `kernel.io_uring_disabled` and a real `io_uring_setup`, as `engine tune
/// check` decides them; the worse of the two.
pub fn check_io_uring(host: &Host) -> Line {
    let switch = check::decide_io_uring_switch(
        host.read_sysctl("kernel.io_uring_disabled"),
        host.read_sysctl("kernel.io_uring_group"),
    );
    let probe = check::decide_io_uring_probe(host.probe().io_uring_probe(), host.probe().is_root());
    let worst = switch.status.max(probe.status);
    let hint = [&switch, &probe]
        .iter()
        .filter(|i| i.status != Status::Pass)
        .map(|i| i.why.clone())
        .collect::<Vec<_>>()
        .join("\n");
    Line::new(
        worst.into(),
        "io_uring",
        format!("{}; {}", switch.detail, probe.detail),
    )
    .hint(hint)
}

/// `RLIMIT_MEMLOCK` of this shell against the config's shards, as `engine
/// tune check` decides it.
pub fn check_memlock(host: &Host, config: &EngineConfig) -> Line {
    Line::from_item(
        "memlock",
        check::decide_memlock(
            host.probe().memlock_soft_limit(),
            config.shard_count() as u64,
            config.shards.io_memory_kib as u64,
        ),
    )
}

/// Runs `engine tune check --profile P [--config FILE]` and keeps its
/// summary; the details are that command's output.
pub fn check_tuning(
    host: &Host,
    profile: Option<&str>,
    config: Option<&Path>,
) -> Result<Line, ValidateError> {
    let Some(profile) = profile else {
        return Ok(Line::new(
            Outcome::Skip,
            "tuning",
            "no --profile given (low-latency, balanced or throughput)",
        ));
    };
    let command = TuneCommand::Check(CheckArgs {
        profile: profile.to_owned(),
        sizing: SizingArgs {
            config: config.map(Path::to_path_buf),
            guardians: None,
        },
        media_cores: None,
    });
    let mut output = Vec::new();
    let status = match crate::run_on(&command, host, &mut output) {
        Ok(status) => status,
        Err(crate::TuneError::Profile(e)) => return Err(e.into()),
        Err(e) => {
            return Ok(Line::new(Outcome::Fail, "tuning", e.to_string()));
        }
    };
    let output = String::from_utf8_lossy(&output);
    let summary = output
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("summary: "))
        .and_then(|s| s.split(" -> ").next())
        .unwrap_or("no summary")
        .to_owned();
    let config_arg = config
        .map(|c| format!(" --config {}", c.display()))
        .unwrap_or_default();
    let outcome = match status {
        ExitStatus::Pass => Outcome::Pass,
        ExitStatus::Warn => Outcome::Warn,
        ExitStatus::Fail => Outcome::Fail,
    };
    Ok(
        Line::new(outcome, "tuning", format!("profile {profile}: {summary}")).hint(format!(
            "details: engine tune check --profile {profile}{config_arg}"
        )),
    )
}
