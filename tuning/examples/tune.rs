//! `engine tune` without the engine: the same subcommand and exit codes, for
//! trying the checks on a host before the `engine` binary wires them in.
//!
//! `cargo run -p tuning --example tune -- check --profile low-latency`

use clap::Parser;
use tuning::{exit_code, TuneCommand, ERROR_EXIT_CODE};

#[derive(Debug, Parser)]
#[command(name = "tune", about = "engine tune, standalone")]
struct Cli {
    #[command(subcommand)]
    command: TuneCommand,
}

fn main() -> std::process::ExitCode {
    // clap exits 2 on usage errors, which would read as FAIL: map them to 3.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return std::process::ExitCode::from(ERROR_EXIT_CODE);
        }
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::SUCCESS;
        }
    };
    let mut out = std::io::stdout().lock();
    let result = tuning::run(&cli.command, &mut out);
    if let Err(e) = &result {
        eprintln!("engine tune: {e}");
    }
    std::process::ExitCode::from(exit_code(&result))
}
