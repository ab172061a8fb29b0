//! Host tuning for the media engine: sysctl profiles and the checks behind
//! `engine tune`.
//!
//! The `engine` binary embeds [`TuneCommand`] as its `tune` subcommand and
//! calls [`run`]:
//!
//! - `show --profile P [--sysctl]` prints every setting of a profile, its
//!   value and why (or, with `--sysctl`, the sysctl.d file for the sizing);
//! - `check --profile P [--config engine.toml] [--guardians N]
//!   [--media-cores LIST]` compares the live host with the profile and the
//!   shard layout, one PASS/WARN/FAIL line per item;
//! - `apply --profile P [--dry-run]` writes the profile to `/proc/sys` (as
//!   root), reporting every write, or prints the `sysctl -w` lines.
//!
//! Exit status ([`ExitStatus`], [`exit_code`]): 0 all PASS, 1 a WARN and no
//! FAIL, 2 a FAIL (for `apply`: a write failed), 3 usage or I/O error
//! ([`TuneError`]). Scripts that accept warnings test `[ $? -le 1 ]`.
//!
//! The profiles (`tuning/profiles/*.conf`, sysctl.d files with annotations,
//! see [`profile`]) are compiled in. Pure logic (parsing, comparing, sizing,
//! deciding) is separate from reading the host ([`host::Host`]), so tests run
//! against a fake `/proc` and `/sys` tree and never write the real one.

use std::io::Write;
use std::path::PathBuf;

pub mod check;
mod commands;
pub mod config;
pub mod cpus;
pub mod gatekeeper_file;
pub mod host;
pub mod profile;
pub mod reach;
pub mod sizing;
mod sys;
pub mod validate;

pub use check::Item;
pub use host::Host;
pub use profile::{Profile, Status};

/// `engine tune …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TuneCommand {
    /// Prints what a profile sets, the values and why.
    Show(ShowArgs),
    /// Compares the live host with a profile and the shard layout
    /// (exit 0 all PASS, 1 WARN, 2 FAIL, 3 error).
    Check(CheckArgs),
    /// Writes a profile's values to /proc/sys (root), reporting each write.
    Apply(ApplyArgs),
}

/// How many guardians the buffers are sized for.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SizingArgs {
    /// Engine config (TOML): media cores and guardian capacity come from
    /// its [shards] table.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Guardians to size the buffers for (default: the config's capacity,
    /// else the profile's reference count).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub guardians: Option<u64>,
}

/// `engine tune show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// Profile: low-latency, balanced or throughput.
    #[arg(long, value_name = "P")]
    pub profile: String,
    #[command(flatten)]
    pub sizing: SizingArgs,
    /// Print the profile as a sysctl.d file with the values sized for
    /// --guardians/--config (for /etc/sysctl.d/60-mcu.conf).
    #[arg(long)]
    pub sysctl: bool,
}

/// `engine tune check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Profile: low-latency, balanced or throughput.
    #[arg(long, value_name = "P")]
    pub profile: String,
    #[command(flatten)]
    pub sizing: SizingArgs,
    /// Media cores as a CPU list (`1-3`), overriding the config's
    /// [shards] cpus; default: the config's, else every online CPU.
    #[arg(long, value_name = "LIST")]
    pub media_cores: Option<String>,
}

/// `engine tune apply`.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplyArgs {
    /// Profile: low-latency, balanced or throughput.
    #[arg(long, value_name = "P")]
    pub profile: String,
    #[command(flatten)]
    pub sizing: SizingArgs,
    /// Print the `sysctl -w` lines instead of writing.
    #[arg(long)]
    pub dry_run: bool,
}

/// How a command ended, as an exit status for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Everything passed (exit 0).
    Pass,
    /// At least one warning, no failure (exit 1).
    Warn,
    /// At least one failure, or a failed write (exit 2).
    Fail,
}

impl ExitStatus {
    /// The process exit code: 0, 1 or 2.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Pass => 0,
            ExitStatus::Warn => 1,
            ExitStatus::Fail => 2,
        }
    }

    /// The status for the worst item.
    pub fn from_worst(worst: Status) -> ExitStatus {
        match worst {
            Status::Pass => ExitStatus::Pass,
            Status::Warn => ExitStatus::Warn,
            Status::Fail => ExitStatus::Fail,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}

/// Exit code of usage and I/O errors.
pub const ERROR_EXIT_CODE: u8 = 3;

/// The exit code for a [`run`] result: 0/1/2, or 3 for an error.
pub fn exit_code(result: &Result<ExitStatus, TuneError>) -> u8 {
    match result {
        Ok(status) => status.code(),
        Err(_) => ERROR_EXIT_CODE,
    }
}

/// Why `engine tune` could not do its job (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// Unknown profile name or a malformed built-in profile.
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
    /// The engine config could not be read.
    #[error("cannot read the engine config {path}: {source}")]
    ConfigRead {
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The engine config is not usable.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// `--media-cores` is not a CPU list.
    #[error("--media-cores {text:?}: {why}")]
    MediaCores {
        /// What was given.
        text: String,
        /// What is wrong.
        why: String,
    },
    /// Writing the report failed (closed pipe, full disk).
    #[error("cannot write the report: {0}")]
    Output(#[from] std::io::Error),
}

/// Runs `engine tune …` against this host, writing the report to `out`.
pub fn run(cmd: &TuneCommand, out: &mut dyn Write) -> Result<ExitStatus, TuneError> {
    run_on(cmd, &Host::real(), out)
}

/// Runs `engine tune …` against `host` (a fake tree in tests).
pub fn run_on(
    cmd: &TuneCommand,
    host: &Host,
    out: &mut dyn Write,
) -> Result<ExitStatus, TuneError> {
    match cmd {
        TuneCommand::Show(args) => commands::show(args, host, out),
        TuneCommand::Check(args) => commands::check(args, host, out),
        TuneCommand::Apply(args) => commands::apply(args, host, out),
    }
}
