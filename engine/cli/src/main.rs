//! The `engine` command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench_cmd;
mod demo;
mod ha_setup;
mod keys_cmd;
mod media_server;
mod observe;
mod run;
mod validate;

#[derive(Debug, Parser)]
#[command(name = "engine", version, about = "Audio MCU and H.225.0 gatekeeper")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs one room of simulated guardians through the real mixer (real Opus
    /// or G.711 frames, real RTP bytes) and prints what the mixer cost.
    Demo(demo::DemoArgs),
    /// Runs the media engine daemon: pinned shards, the static rooms of the
    /// config, the media control port, signals (TERM/INT stop, HUP reload
    /// the registry, USR1 stop admissions); `--role` splits the gatekeeper
    /// from the media engines (docs/media-link.md); `--role gatekeeper --ha
    /// primary|secondary` runs one node of an HA pair (docs/ha.md).
    Run(Box<run::RunArgs>),
    /// Gatekeeper + engine + simulated guardians on loopback: admission over
    /// signed RAS, real RTP, measured latency, jitter, loss and CPU against
    /// the SLO targets (exit 3 when an SLO fails). With `--target`, tests a
    /// running `engine run` instead (post-deployment smoke test); with
    /// `--failover`, an HA gatekeeper pair whose primary it kills mid-run.
    Bench(Box<bench_cmd::BenchArgs>),
    /// Writes a self-contained HTML (and Markdown) report with plots from
    /// one or more `engine bench --json` files.
    SloReport {
        /// A run report written by `engine bench --json`; repeat to compare runs.
        #[arg(long = "input", required = true)]
        inputs: Vec<std::path::PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Generates an Ed25519 key pair for a guardian: prints its registry
    /// entry and writes the private key.
    Keygen(keys_cmd::KeygenArgs),
    /// Guardian registry tools.
    Registry {
        #[command(subcommand)]
        cmd: keys_cmd::RegistryCommand,
    },
    /// Pre-flight before go-live: config, registry, ports, io_uring,
    /// memlock, tuning summary; one line per check (exit 0 no FAIL, 2 a
    /// FAIL, 3 usage error).
    Validate(validate::ValidateArgs),
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        cmd: AuditCommand,
    },
    /// Host tuning: shows, checks or applies a sysctl profile and checks the
    /// host against the shard layout (exit 0 PASS, 1 WARN, 2 FAIL, 3 error).
    Tune {
        #[command(subcommand)]
        cmd: tuning::TuneCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Checks the hash chain of audit files or directories; says where a
    /// record was edited, deleted, inserted or reordered (exit 0 intact,
    /// 1 tampered, 2 unreadable).
    Verify {
        /// Audit JSONL files or directories holding them.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors; usage errors exit 3 so
            // `engine tune` never reads a typo as FAIL (2).
            return if e.use_stderr() {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Bench(args) => {
            return match bench_cmd::run(&args) {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("engine bench: {e:#}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::SloReport { inputs, out } => slo_report(&inputs, &out),
        Command::Keygen(args) => keys_cmd::keygen(&args),
        Command::Audit {
            cmd: AuditCommand::Verify { paths },
        } => {
            let code = control::audit::verify_command(&paths, &mut std::io::stdout().lock());
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
        Command::Registry { cmd } => keys_cmd::registry(&cmd),
        Command::Validate(args) => {
            return match validate::run(&args) {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("engine validate: {e:#}");
                    ExitCode::from(3)
                }
            };
        }
        Command::Tune { cmd } => {
            let result = tuning::run(&cmd, &mut std::io::stdout().lock());
            if let Err(e) = &result {
                eprintln!("engine tune: {e}");
            }
            return ExitCode::from(tuning::exit_code(&result));
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("engine: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn slo_report(inputs: &[std::path::PathBuf], out: &std::path::Path) -> anyhow::Result<()> {
    let files = bench::report::write_report_from_files(inputs, out)?;
    println!("{}", files.html.display());
    println!("{}", files.markdown.display());
    Ok(())
}
