//! The `engine` command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo;
mod run;

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
    /// config, signals (TERM/INT stop, HUP reload the registry, USR1 stop
    /// admissions).
    Run(run::RunArgs),
    /// Host tuning: shows, checks or applies a sysctl profile and checks the
    /// host against the shard layout (exit 0 PASS, 1 WARN, 2 FAIL, 3 error).
    Tune {
        #[command(subcommand)]
        cmd: tuning::TuneCommand,
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
