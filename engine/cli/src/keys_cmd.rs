//! `engine keygen` and `engine registry check`: the guardian registry's tools.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

/// Arguments of `engine keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The guardian's terminal_id, e.g. if://guardian/technical.
    #[arg(long)]
    id: String,
    /// Where to write the private key (mode 0600); default: print it.
    #[arg(long)]
    key_out: Option<PathBuf>,
}

/// `engine registry …`.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Validates a registry file; errors name file, line and field.
    Check {
        /// The registry YAML.
        file: PathBuf,
    },
}

/// Prints a registry entry and writes (or prints) the private key.
pub fn keygen(args: &KeygenArgs) -> anyhow::Result<()> {
    if args.id.trim().is_empty() {
        anyhow::bail!("--id must not be empty");
    }
    let files = control::security::keygen(&args.id);
    match &args.key_out {
        Some(path) => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
            f.write_all(files.private_key_file.as_bytes())?;
            eprintln!("private key written to {} (mode 0600)", path.display());
        }
        None => {
            eprintln!("# private key — keep it secret, store it with mode 0600:");
            eprint!("{}", files.private_key_file);
        }
    }
    println!("# add under `guardians:` in the registry:");
    print!("{}", files.registry_entry_yaml);
    Ok(())
}

/// Runs `engine registry …`.
pub fn registry(cmd: &RegistryCommand) -> anyhow::Result<()> {
    match cmd {
        RegistryCommand::Check { file } => match control::registry::check(file) {
            Ok(summary) => {
                println!("{summary}");
                Ok(())
            }
            Err(errors) => Err(anyhow::anyhow!("{errors}")),
        },
    }
}
