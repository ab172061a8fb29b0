//! `engine validate --config FILE [--registry FILE] [--profile P]
//! [--ras-listen ADDR] [--metrics ADDR] [--peer ADDR] [--engine ADDR]…
//! [--role all|media|gatekeeper]`: the pre-flight before go-live, taking the same
//! `--config`, `--registry` and `--ras-listen` as `engine run`.
//!
//! The checks live in `tuning::validate` (so they are tested as a library);
//! this prints their report. Exit status: 0 no FAIL, 2 a FAIL; a usage error
//! (unknown profile) is returned as `Err` and exits 3.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Arguments of `engine validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Engine configuration (TOML), loaded as `engine run` loads it.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Guardian registry (YAML) of the gatekeeper on this host.
    #[arg(long, value_name = "FILE")]
    pub registry: Option<PathBuf>,
    /// Tuning profile to summarise `engine tune check` for: low-latency,
    /// balanced or throughput.
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Address the gatekeeper will receive RAS on (`engine run
    /// --ras-listen`); checked to be free. Default with --registry:
    /// 0.0.0.0:1719; without either, the RAS check is skipped.
    #[arg(long, value_name = "ADDR")]
    pub ras_listen: Option<SocketAddr>,
    /// A running `engine run`'s metrics endpoint (its `--metrics-listen`):
    /// GET /metrics must answer with the h323_* metrics.
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics: Option<SocketAddr>,
    /// The other gatekeeper's HA link address (`engine run --peer`): routable
    /// and not refused.
    #[arg(long, value_name = "HOST:PORT")]
    pub peer: Option<SocketAddr>,
    /// A media engine's control port this gatekeeper commands (`engine run
    /// --engine`); repeatable. Each must accept a TCP connection.
    #[arg(long = "engine", value_name = "HOST:PORT")]
    pub engines: Vec<SocketAddr>,
    /// What this host runs, as `engine run --role`: with `gatekeeper`,
    /// `--config` is the gatekeeper file ([ha], [gatekeeper]) and the shard
    /// checks are skipped.
    #[arg(long, value_enum, default_value_t = ValidateRole::All)]
    pub role: ValidateRole,
}

/// `engine validate --role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateRole {
    /// Shards and gatekeeper.
    All,
    /// Shards only.
    Media,
    /// The gatekeeper only.
    Gatekeeper,
}

/// Runs every check, prints one line per check and the total, and returns
/// the exit code (0 or 2).
pub fn run(args: &ValidateArgs) -> anyhow::Result<u8> {
    let options = tuning::validate::Options {
        config: args.config.clone(),
        registry: args.registry.clone(),
        profile: args.profile.clone(),
        ras_listen: args.ras_listen,
        metrics: args.metrics,
        peer: args.peer,
        engines: args.engines.clone(),
        gatekeeper_only: args.role == ValidateRole::Gatekeeper,
    };
    let report = tuning::validate::validate(&options, &tuning::Host::real())?;
    report.write_to(&mut std::io::stdout().lock())?;
    Ok(report.exit_code())
}
