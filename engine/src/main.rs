//! The `engine` command.

use clap::{Parser, Subcommand};

mod demo;

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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("engine: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
