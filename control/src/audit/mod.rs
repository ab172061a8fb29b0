//! Tamper-evident audit log: append-only JSONL, one file per day and kind,
//! in the layout the operators' runbook greps:
//!
//! - `<dir>/h323_witness/h323_ras_YYYYMMDD.jsonl`: every RAS request and
//!   decision (`msg_type` ARQ/ACF/ARJ/…, `terminal_id`, `reason`, `gate`,
//!   `bandwidth_bps`);
//! - `<dir>/ha/failover_YYYYMMDD.jsonl`: `GATEKEEPER_FAILOVER` events with
//!   `failover_duration_sec`.
//!
//! Each line is one JSON object written as `{"key": value, ...}` (a space
//! after each colon, so `grep '"msg_type": "ARJ"'` matches) and ends with
//! `prev_hash` and `content_hash`. The hashes chain the records of one kind
//! across files and restarts; [`verify`] finds any edited, deleted, inserted
//! or reordered record and names its file and line. Operators read
//! docs/audit.md.
//!
//! The writer is synchronous on purpose: the service shell feeds every
//! gatekeeper output through [`RasAuditTrail`], which appends the record of a
//! reply before the reply is sent, so `kill -9` cannot lose the record of a
//! reply that was sent. HA writes failover records through
//! [`AuditRecord::failover`] on the same writer (the service's
//! `record_failover`), so each chain has one writer. Time is an argument (each record carries its own
//! timestamp, which also picks the day file); nothing here reads the clock.

mod record;
mod trail;
mod verify;
mod writer;

pub use record::{AuditRecord, Field, LogKind, RECORD_BYTES_MAX};
pub use trail::{gate_name, RasAuditTrail};
pub use verify::{verify, verify_command, KindSummary, VerifyError, VerifySummary};
pub use writer::{AuditWriter, FsyncPolicy};

/// The `prev_hash` of the first record of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Errors of the audit writer.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A file could not be created, read, written or synced.
    #[error("audit log {path}: {source}")]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A serialised record exceeds [`RECORD_BYTES_MAX`].
    #[error("audit record of {0} bytes exceeds the {RECORD_BYTES_MAX}-byte bound")]
    TooLarge(usize),
    /// The newest existing file ends in a record that does not parse, so the
    /// chain cannot be continued safely.
    #[error(
        "audit log {path}: last record is not a valid chained record; run `engine audit verify`"
    )]
    BadTail {
        /// The file.
        path: std::path::PathBuf,
    },
}

/// Shorthand for audit results.
pub type Result<T> = std::result::Result<T, AuditError>;
