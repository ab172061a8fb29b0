//! `engine audit verify`: recomputes every record's hash and checks the
//! chain, naming the file and line of the first break.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::writer::hex;
use super::GENESIS_HASH;

const HASH_HEX_LEN: usize = 64;
const PREV_KEY: &str = ", \"prev_hash\": \"";
const CONTENT_KEY: &str = ", \"content_hash\": \"";

/// A line split into what is hashed and its two hashes.
pub(super) struct LineParts<'a> {
    /// `{…, "prev_hash": "…"` (the hash input is this plus `}`).
    pub body: &'a str,
    pub prev_hash: &'a str,
    pub content_hash: &'a str,
}

/// Splits a record line (without its newline); `None` if it is not in the
/// writer's exact form.
pub(super) fn split_line(line: &str) -> Option<LineParts<'_>> {
    let rest = line.strip_suffix("\"}")?;
    let (body, content_hash) = rest.split_at_checked(rest.len().checked_sub(HASH_HEX_LEN)?)?;
    let body = body.strip_suffix(CONTENT_KEY)?;
    let before_prev = body.strip_suffix('"')?;
    let (head, prev_hash) =
        before_prev.split_at_checked(before_prev.len().checked_sub(HASH_HEX_LEN)?)?;
    let is_hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    (body.starts_with("{\"ts\": ")
        && head.ends_with(PREV_KEY)
        && is_hex(content_hash)
        && is_hex(prev_hash))
    .then_some(LineParts {
        body,
        prev_hash,
        content_hash,
    })
}

/// What one chain (one log kind) looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindSummary {
    /// The file-name prefix naming the chain (`h323_ras_`, `failover_`).
    pub chain: String,
    /// Files read, oldest first.
    pub files: Vec<PathBuf>,
    /// Records checked.
    pub records: u64,
    /// Whether the first record given is the first ever (prev_hash of
    /// zeros). `false` when older files were rotated away or not given: the
    /// records before cannot be checked.
    pub starts_at_genesis: bool,
    /// The last record's content_hash: publish it elsewhere to detect later
    /// truncation of the tail.
    pub head: String,
    /// A last line without its newline at the very end of the newest file,
    /// (file, 1-based line): a write cut short by a crash. Not counted in
    /// `records` and not an error: the writer writes a record before the
    /// reply it describes is sent, so that reply never left, and the writer
    /// cuts the line off when it next opens the log.
    pub torn_tail: Option<(PathBuf, u64)>,
}

/// A clean verification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifySummary {
    /// One entry per chain found.
    pub chains: Vec<KindSummary>,
}

/// Why verification failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A record was edited, deleted, inserted or reordered.
    #[error("{}:{line}: {problem}", path.display())]
    Tampered {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Unreadable {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Names the chain a file belongs to: its name without `YYYYMMDD.jsonl`.
fn chain_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.strip_suffix(".jsonl") {
        Some(stem) if stem.len() >= 8 && stem.is_char_boundary(stem.len() - 8) => {
            let (prefix, date) = stem.split_at(stem.len() - 8);
            if date.bytes().all(|b| b.is_ascii_digit()) {
                return prefix.to_owned();
            }
            name
        }
        _ => name,
    }
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), VerifyError> {
    let unreadable = |source| VerifyError::Unreadable {
        path: path.to_owned(),
        source,
    };
    if fs::metadata(path).map_err(unreadable)?.is_dir() {
        for entry in fs::read_dir(path).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            let p = entry.path();
            if p.is_dir() || p.extension().is_some_and(|e| e == "jsonl") {
                collect(&p, out)?;
            }
        }
    } else {
        out.push(path.to_owned());
    }
    Ok(())
}

/// Verifies the audit files (or directories of them) in `paths`. Files are
/// grouped into chains by name prefix and read oldest first; each record's
/// `content_hash` must match its content and its `prev_hash` the previous
/// record's `content_hash`, across file boundaries.
pub fn verify(paths: &[PathBuf]) -> Result<VerifySummary, VerifyError> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    let mut chains: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for f in files {
        chains.entry(chain_of(&f)).or_default().push(f);
    }
    let mut summary = VerifySummary::default();
    for (chain, mut files) in chains {
        files.sort_by_key(|f| f.file_name().map(ToOwned::to_owned));
        files.dedup();
        summary.chains.push(verify_chain(chain, files)?);
    }
    Ok(summary)
}

fn verify_chain(chain: String, files: Vec<PathBuf>) -> Result<KindSummary, VerifyError> {
    let mut prev: Option<(String, PathBuf, u64)> = None;
    let mut records = 0;
    let mut starts_at_genesis = true;
    let mut hashed = String::new();
    let mut torn_tail = None;
    let mut bytes = Vec::new();
    for (file_index, path) in files.iter().enumerate() {
        let unreadable = |source| VerifyError::Unreadable {
            path: path.clone(),
            source,
        };
        let mut reader = BufReader::new(File::open(path).map_err(unreadable)?);
        let newest = file_index + 1 == files.len();
        for line_no in 1u64.. {
            let tampered = |problem: String| VerifyError::Tampered {
                path: path.clone(),
                line: line_no,
                problem,
            };
            bytes.clear();
            if reader.read_until(b'\n', &mut bytes).map_err(unreadable)? == 0 {
                break;
            }
            if bytes.pop() != Some(b'\n') {
                if newest {
                    torn_tail = Some((path.clone(), line_no));
                    break;
                }
                return Err(tampered(
                    "last line has no newline in a file that is not the newest \
                     (truncated or edited)"
                        .into(),
                ));
            }
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| tampered("not UTF-8 (record edited or corrupted)".into()))?;
            let parts = split_line(text).ok_or_else(|| {
                tampered("not a chained audit record (edited, torn or inserted)".into())
            })?;
            hashed.clear();
            hashed.push_str(parts.body);
            hashed.push('}');
            if hex(&Sha256::digest(hashed.as_bytes())) != parts.content_hash {
                return Err(tampered(
                    "content_hash does not match the record's content (record edited)".into(),
                ));
            }
            match &prev {
                None => starts_at_genesis = parts.prev_hash == GENESIS_HASH,
                Some((hash, prev_path, prev_line)) if hash != parts.prev_hash => {
                    return Err(tampered(format!(
                        "prev_hash does not match the previous record ({}:{prev_line}): \
                         a record was deleted, inserted or reordered here",
                        prev_path.display()
                    )));
                }
                Some(_) => {}
            }
            prev = Some((parts.content_hash.to_owned(), path.clone(), line_no));
            records += 1;
        }
    }
    Ok(KindSummary {
        chain,
        files,
        records,
        starts_at_genesis,
        head: prev.map_or_else(|| GENESIS_HASH.to_owned(), |(h, _, _)| h),
        torn_tail,
    })
}

struct Report<'a>(&'a KindSummary);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = self.0;
        write!(
            f,
            "ok: {}*: {} records in {} files, head {}",
            k.chain,
            k.records,
            k.files.len(),
            k.head
        )?;
        if !k.starts_at_genesis {
            write!(
                f,
                " (chain starts mid-way: older files were rotated away or not given)"
            )?;
        }
        if let Some((path, line)) = &k.torn_tail {
            write!(
                f,
                "\nwarning: {}:{line}: torn last line (no newline): a write cut short by a \
                 crash; not a record, its reply was never sent; the gatekeeper removes it on \
                 its next start",
                path.display()
            )?;
        }
        Ok(())
    }
}

/// `engine audit verify PATH…`: prints a line per chain (or the first break)
/// and returns the exit code: 0 intact, 1 tampered, 2 unreadable.
pub fn verify_command(paths: &[PathBuf], out: &mut dyn Write) -> i32 {
    match verify(paths) {
        Ok(summary) => {
            for chain in &summary.chains {
                let _ = writeln!(out, "{}", Report(chain));
            }
            if summary.chains.is_empty() {
                let _ = writeln!(out, "ok: no audit files found");
            }
            0
        }
        Err(e @ VerifyError::Tampered { .. }) => {
            let _ = writeln!(out, "TAMPERED: {e}");
            1
        }
        Err(e @ VerifyError::Unreadable { .. }) => {
            let _ = writeln!(out, "unreadable: {e}");
            2
        }
    }
}
