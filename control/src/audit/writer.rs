//! The append-only writer: one open file per kind, rotated by the record's
//! UTC day, hash chain continued from the newest existing file on open.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::record::{AuditRecord, LogKind, RECORD_BYTES_MAX};
use super::{AuditError, Result, GENESIS_HASH};
use crate::gatekeeper::UnixMillis;

/// When appended records are forced to stable storage. Every policy writes
/// each record with one `write(2)` before [`AuditWriter::append`] returns, so
/// a killed process (`kill -9`) never loses a record; the policies differ
/// only in what survives an OS crash or power loss. See docs/audit.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `fdatasync` after every record, before its reply is sent: nothing
    /// whose reply was sent is lost.
    EveryRecord,
    /// Group commit: `fdatasync` inside `append` once `records_max` records
    /// are unsynced, and from the shell's loop ([`AuditWriter::sync_if_due`],
    /// after the replies went out) once the oldest unsynced record is
    /// `interval_ms` old. At most `records_max` records, or `interval_ms`
    /// plus one loop turn, are lost on power failure.
    Group {
        /// Unsynced records that force a sync.
        records_max: u32,
        /// Longest time a record stays unsynced, milliseconds.
        interval_ms: u64,
    },
    /// Never fsync: the OS writes back when it likes (typically within 30 s).
    Os,
}

impl Default for FsyncPolicy {
    /// Group commit, 256 records or 200 ms: one reply in 256 pays an
    /// `fdatasync`, which keeps it out of the ARQ → ACF P99 (docs/audit.md
    /// has the measurement), and the time bound is short.
    fn default() -> Self {
        FsyncPolicy::Group {
            records_max: 256,
            interval_ms: 200,
        }
    }
}

impl std::str::FromStr for FsyncPolicy {
    type Err = String;

    /// `every`, `os`, `group` (the default window) or
    /// `group:RECORDS_MAX:INTERVAL_MS`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || {
            format!(
                "fsync policy {s:?}: expected every, os, group or group:RECORDS_MAX:INTERVAL_MS"
            )
        };
        match s {
            "every" => Ok(Self::EveryRecord),
            "os" => Ok(Self::Os),
            "group" => Ok(Self::default()),
            _ => {
                let rest = s.strip_prefix("group:").ok_or_else(bad)?;
                let (n, ms) = rest.split_once(':').ok_or_else(bad)?;
                let records_max: u32 = n.parse().map_err(|_| bad())?;
                let interval_ms: u64 = ms.parse().map_err(|_| bad())?;
                if records_max == 0 || interval_ms == 0 {
                    return Err(format!("{}: both bounds must be at least 1", bad()));
                }
                Ok(Self::Group {
                    records_max,
                    interval_ms,
                })
            }
        }
    }
}

impl std::fmt::Display for FsyncPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EveryRecord => f.write_str("every"),
            Self::Os => f.write_str("os"),
            Self::Group {
                records_max,
                interval_ms,
            } => write!(f, "group:{records_max}:{interval_ms}"),
        }
    }
}

#[derive(Debug)]
struct Open {
    name: String,
    path: PathBuf,
    file: File,
}

#[derive(Debug)]
struct Chain {
    prev_hash: String,
    /// The newest file name written (or found at open). Records never go to
    /// an older day file, even if the clock steps back, because verify
    /// orders files by name.
    newest: Option<String>,
    open: Option<Open>,
    unsynced: u32,
    /// Time of the oldest unsynced record.
    oldest_unsynced: UnixMillis,
}

/// Appends audit records. Not thread-safe by design: one owner (the
/// gatekeeper shell) appends before it replies.
#[derive(Debug)]
pub struct AuditWriter {
    root: PathBuf,
    policy: FsyncPolicy,
    chains: [Chain; 2],
    line: String,
    written: u64,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_owned(),
        source,
    }
}

impl AuditWriter {
    /// Opens (creating) the audit root and continues each kind's chain from
    /// the last record of its newest file. A torn last line (a write cut by a
    /// crash: no trailing newline) is truncated away: its reply was never
    /// sent, because the record is written first.
    pub fn open(root: impl Into<PathBuf>, policy: FsyncPolicy) -> Result<Self> {
        let root = root.into();
        let mut chains = LogKind::ALL.map(|_| Chain {
            prev_hash: GENESIS_HASH.to_owned(),
            newest: None,
            open: None,
            unsynced: 0,
            oldest_unsynced: UnixMillis(0),
        });
        for kind in LogKind::ALL {
            let dir = root.join(kind.dir());
            fs::create_dir_all(&dir).map_err(io_err(&dir))?;
            if let Some(newest) = newest_file(&dir, kind)? {
                let chain = &mut chains[kind as usize];
                if let Some(hash) = last_content_hash(&newest)? {
                    chain.prev_hash = hash;
                }
                chain.newest = newest.file_name().map(|n| n.to_string_lossy().into_owned());
            }
        }
        Ok(Self {
            root,
            policy,
            chains,
            line: String::with_capacity(RECORD_BYTES_MAX),
            written: 0,
        })
    }

    /// The `content_hash` the next record of `kind` will chain to.
    #[must_use]
    pub fn head(&self, kind: LogKind) -> &str {
        &self.chains[kind as usize].prev_hash
    }

    /// Appends one record with one `write(2)`, syncing per the policy.
    /// Returns only when the record is in the file (and on disk if the policy
    /// says so): call it before sending the reply the record describes.
    pub fn append(&mut self, record: &AuditRecord) -> Result<()> {
        let chain = &mut self.chains[record.kind as usize];
        record.write_body(&chain.prev_hash, &mut self.line);
        self.line.push('}');
        let content_hash = hex(&Sha256::digest(self.line.as_bytes()));
        self.line.pop();
        self.line.push_str(", \"content_hash\": \"");
        self.line.push_str(&content_hash);
        self.line.push_str("\"}\n");
        if self.line.len() > RECORD_BYTES_MAX {
            return Err(AuditError::TooLarge(self.line.len()));
        }

        let mut name = record.kind.file_name(record.at);
        if let Some(newest) = &chain.newest {
            if name < *newest {
                name.clone_from(newest);
            }
        }
        if chain.open.as_ref().is_none_or(|o| o.name != name) {
            if let Some(old) = chain.open.take() {
                old.file.sync_data().map_err(io_err(&old.path))?;
            }
            let path = self.root.join(record.kind.dir()).join(&name);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io_err(&path))?;
            chain.newest = Some(name.clone());
            chain.open = Some(Open { name, path, file });
        }
        let open = chain.open.as_mut().expect("opened above");
        open.file
            .write_all(self.line.as_bytes())
            .map_err(io_err(&open.path))?;
        chain.prev_hash = content_hash;
        self.written += 1;
        if chain.unsynced == 0 {
            chain.oldest_unsynced = record.at;
        }
        chain.unsynced += 1;
        let sync = match self.policy {
            FsyncPolicy::EveryRecord => true,
            FsyncPolicy::Group { records_max, .. } => chain.unsynced >= records_max,
            FsyncPolicy::Os => false,
        };
        if sync {
            open.file.sync_data().map_err(io_err(&open.path))?;
            chain.unsynced = 0;
        }
        Ok(())
    }

    /// Records appended since open.
    #[must_use]
    pub fn records_written(&self) -> u64 {
        self.written
    }

    /// The fsync policy.
    #[must_use]
    pub fn policy(&self) -> FsyncPolicy {
        self.policy
    }

    /// Under the group policy, syncs each file whose oldest unsynced record
    /// is at least `interval_ms` older than `now`. The shell calls it every
    /// loop turn, after sending replies, so the time-bound sync is never on
    /// the reply path.
    pub fn sync_if_due(&mut self, now: UnixMillis) -> Result<()> {
        let FsyncPolicy::Group { interval_ms, .. } = self.policy else {
            return Ok(());
        };
        for chain in &mut self.chains {
            if let Some(open) = &chain.open {
                if chain.unsynced > 0
                    && now.0.saturating_sub(chain.oldest_unsynced.0) >= interval_ms
                {
                    open.file.sync_data().map_err(io_err(&open.path))?;
                    chain.unsynced = 0;
                }
            }
        }
        Ok(())
    }

    /// Syncs every open file now (call from the shell's timer under the group
    /// policy, and at shutdown).
    pub fn sync(&mut self) -> Result<()> {
        for chain in &mut self.chains {
            if let Some(open) = &chain.open {
                if chain.unsynced > 0 {
                    open.file.sync_data().map_err(io_err(&open.path))?;
                    chain.unsynced = 0;
                }
            }
        }
        Ok(())
    }
}

impl Drop for AuditWriter {
    fn drop(&mut self) {
        if !matches!(self.policy, FsyncPolicy::Os) {
            let _ = self.sync();
        }
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}

/// The file of `kind` with the greatest date in `dir`.
fn newest_file(dir: &Path, kind: LogKind) -> Result<Option<PathBuf>> {
    let mut newest: Option<(String, PathBuf)> = None;
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_day_file = name
            .strip_prefix(kind.file_prefix())
            .and_then(|rest| rest.strip_suffix(".jsonl"))
            .is_some_and(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()));
        if is_day_file && newest.as_ref().is_none_or(|(n, _)| name > *n) {
            newest = Some((name, entry.path()));
        }
    }
    Ok(newest.map(|(_, p)| p))
}

/// The `content_hash` of the last complete line of `path`, truncating a torn
/// tail first. `None` for an empty file.
fn last_content_hash(path: &Path) -> Result<Option<String>> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    let len = file.metadata().map_err(io_err(path))?.len();
    // The last complete line plus a torn one fit in two records.
    let window = len.min(2 * RECORD_BYTES_MAX as u64);
    file.seek(SeekFrom::Start(len - window))
        .map_err(io_err(path))?;
    let mut tail = Vec::with_capacity(window as usize);
    // At most `window` bytes, even if the file grows or is not a regular
    // file (a special file never reaches end-of-file).
    (&mut file)
        .take(window)
        .read_to_end(&mut tail)
        .map_err(io_err(path))?;
    let complete = match tail.iter().rposition(|&b| b == b'\n') {
        Some(i) => i + 1,
        None if len > window => return Err(AuditError::BadTail { path: path.into() }),
        None => 0,
    };
    if complete < tail.len() {
        file.set_len(len - window + complete as u64)
            .map_err(io_err(path))?;
        file.sync_data().map_err(io_err(path))?;
        tail.truncate(complete);
    }
    if tail.is_empty() {
        return Ok(None);
    }
    tail.pop();
    let start = tail.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let last = std::str::from_utf8(&tail[start..]).ok();
    match last.and_then(super::verify::split_line) {
        Some(parts) => Ok(Some(parts.content_hash.to_owned())),
        None => Err(AuditError::BadTail { path: path.into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::FsyncPolicy;

    #[test]
    fn fsync_policy_names_round_trip() {
        for text in ["every", "os", "group:256:200", "group:1:1"] {
            let policy: FsyncPolicy = text.parse().unwrap();
            assert_eq!(policy.to_string(), text);
        }
        assert_eq!("group".parse::<FsyncPolicy>(), Ok(FsyncPolicy::default()));
        for bad in ["", "always", "group:0:200", "group:10", "group:x:1"] {
            assert!(bad.parse::<FsyncPolicy>().is_err(), "{bad}");
        }
    }
}
