//! Every `engine …` command quoted in README.md and docs/*.md exists.
//!
//! How: every line of a fenced code block that starts with `engine `,
//! `./scripts/engine.sh `, `target/release/engine ` or
//! `/usr/local/bin/engine ` (after an optional `$ ` or `sudo `; `\`
//! continuations joined) is cut at the first shell operator (`|`, `;`, `&&`,
//! `>`, `#`) and split into words. The leading lowercase words are the
//! subcommand path: the longest prefix of them that `engine help <path>`
//! accepts must be at least one word long (so `engine registry check FILE`
//! checks `registry check`, and a misspelt subcommand fails; a line with no
//! subcommand, `engine --version`, is checked against the top-level help).
//! Every `--flag`
//! of the line (brackets of `[--flag N]` stripped, `=value` cut) must then
//! appear in that help text.
//!
//! Why not parse the arguments for real: most commands would then need their
//! files to exist, and `--help` short-circuits clap's required-argument
//! checks anyway; checking the path and the flag names catches what goes
//! stale in docs (renamed subcommands and flags) without running anything.
//! Values and positional arguments are not checked.
//!
//! `engine validate` is built in `src/validate.rs`; until `main.rs` wires it
//! in, its help comes from that module's `ValidateArgs` (included below), so
//! the runbook can quote it already. The same module is smoke-tested here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../src/validate.rs"]
mod validate;

const PREFIXES: [&str; 4] = [
    "engine ",
    "./scripts/engine.sh ",
    "target/release/engine ",
    "/usr/local/bin/engine ",
];

/// One quoted command: where it is and its words after `engine`.
#[derive(Debug)]
struct Quoted {
    place: String,
    words: Vec<String>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn doc_files() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("read docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The words of `line` after the engine prefix, up to a shell operator.
fn command_words(line: &str) -> Option<Vec<String>> {
    let mut line = line.trim();
    for lead in ["$ ", "sudo "] {
        line = line.strip_prefix(lead).unwrap_or(line).trim_start();
    }
    let rest = PREFIXES.iter().find_map(|p| line.strip_prefix(p))?;
    let mut words = Vec::new();
    for word in rest.split_whitespace() {
        let stop = ["|", "||", "&&", ";", "#", "2>&1"].contains(&word)
            || word.starts_with('#')
            || word.starts_with('>')
            || word.starts_with("2>");
        if stop {
            break;
        }
        let ends = word.ends_with(';');
        let clean = word.trim_end_matches(';').replace(['[', ']'], "");
        if !clean.is_empty() && clean != "…" && clean != "..." {
            words.push(clean);
        }
        if ends {
            break;
        }
    }
    Some(words)
}

fn quoted_commands(file: &Path) -> Vec<Quoted> {
    let text = std::fs::read_to_string(file).expect("read doc");
    let name = file
        .strip_prefix(workspace_root())
        .unwrap_or(file)
        .display()
        .to_string();
    let mut found = Vec::new();
    let mut in_block = false;
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            pending = None;
            continue;
        }
        if !in_block {
            continue;
        }
        let (start, joined) = match pending.take() {
            Some((start, before)) => (start, format!("{before} {}", line.trim())),
            None => (index + 1, line.to_owned()),
        };
        if let Some(head) = joined.trim_end().strip_suffix('\\') {
            pending = Some((start, head.to_owned()));
            continue;
        }
        if let Some(words) = command_words(&joined) {
            found.push(Quoted {
                place: format!("{name}:{start}"),
                words,
            });
        }
    }
    found
}

fn is_subcommand_word(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `engine help <path>`: the help text, or `None` if the path is unknown.
fn binary_help(path: &[String]) -> Option<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_engine"))
        .arg("help")
        .args(path)
        .output()
        .expect("run engine help");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The help of `engine validate` from the module while main.rs lacks it.
fn validate_module_help() -> String {
    use clap::Args;
    validate::ValidateArgs::augment_args(clap::Command::new("validate"))
        .render_long_help()
        .to_string()
}

fn help_for(path: &[String], cache: &mut HashMap<Vec<String>, Option<String>>) -> Option<String> {
    cache
        .entry(path.to_vec())
        .or_insert_with(|| {
            binary_help(path).or_else(|| (path == ["validate"]).then(validate_module_help))
        })
        .clone()
}

fn mentions_flag(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        help[at + flag.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    })
}

#[test]
fn every_quoted_engine_command_exists() {
    let mut cache = HashMap::new();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in doc_files() {
        for quoted in quoted_commands(&file) {
            checked += 1;
            let words: Vec<String> = quoted
                .words
                .iter()
                .take_while(|w| is_subcommand_word(w))
                .cloned()
                .collect();
            // `engine --version` has no subcommand: its flags are the
            // top-level ones. Otherwise at least one word must be a
            // subcommand, so a misspelt one is not read as a value.
            let shortest = usize::from(!words.is_empty());
            let found = (shortest..=words.len())
                .rev()
                .find_map(|n| help_for(&words[..n], &mut cache).map(|h| (n, h)));
            let Some((n, help)) = found else {
                problems.push(format!(
                    "{}: `engine {}`: no such subcommand",
                    quoted.place,
                    quoted.words.join(" ")
                ));
                continue;
            };
            // A word after a command that has subcommands must be one of
            // them (a positional argument would be a value of a leaf).
            if n < words.len() && help.contains("\nCommands:") {
                problems.push(format!(
                    "{}: `engine {}`: `{}` is not a subcommand of `engine {}`",
                    quoted.place,
                    quoted.words.join(" "),
                    words[n],
                    words[..n].join(" ")
                ));
                continue;
            }
            for word in &quoted.words {
                let Some(flag) = word
                    .strip_prefix("--")
                    .map(|f| f.split('=').next().unwrap_or(f))
                else {
                    continue;
                };
                let flag = format!("--{flag}");
                if !mentions_flag(&help, &flag) {
                    problems.push(format!(
                        "{}: `engine {}`: {flag} is not an option of `engine {}`",
                        quoted.place,
                        quoted.words.join(" "),
                        words[..n].join(" ")
                    ));
                }
            }
        }
    }
    assert!(
        checked >= 10,
        "only {checked} quoted commands found: is the extraction broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn extraction_handles_brackets_operators_and_prefixes() {
    let words = command_words(
        "engine run --config config/engine.toml [--stats-secs 10] | tee log # comment",
    )
    .expect("an engine line");
    assert_eq!(
        words,
        [
            "run",
            "--config",
            "config/engine.toml",
            "--stats-secs",
            "10"
        ]
    );
    let words = command_words("$ ./scripts/engine.sh tune check --profile=low-latency; echo $?")
        .expect("a script line");
    assert_eq!(words, ["tune", "check", "--profile=low-latency"]);
    assert!(command_words("cargo run -p engine").is_none());
    assert!(mentions_flag("  --config <FILE>\n", "--config"));
    assert!(!mentions_flag("  --config-dir <DIR>\n", "--config"));
}

#[test]
fn a_misspelt_subcommand_or_flag_is_caught() {
    let mut cache = HashMap::new();
    assert!(help_for(&["tune".into(), "chek".into()], &mut cache).is_none());
    let help = help_for(&["tune".into(), "check".into()], &mut cache).expect("tune check help");
    assert!(mentions_flag(&help, "--profile"));
    assert!(!mentions_flag(&help, "--profiles"));
}

#[test]
fn validate_module_reports_a_missing_config_as_fail_and_a_bad_profile_as_usage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = validate::ValidateArgs {
        config: dir.path().join("absent.toml"),
        registry: None,
        profile: None,
        ras_listen: None,
        metrics: None,
        peer: None,
        engines: Vec::new(),
        role: validate::ValidateRole::All,
    };
    assert_eq!(validate::run(&args).expect("runs"), 2);
    let args = validate::ValidateArgs {
        profile: Some("fastest".into()),
        ..args
    };
    assert!(validate::run(&args).is_err());
}
