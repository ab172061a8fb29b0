//! One audit record and its one-line JSON form.

use std::fmt::Write as _;

use crate::gatekeeper::UnixMillis;
use crate::policy::pii;

/// Upper bound on one serialised line, hashes included. The writer rejects
/// larger records, and the restart scan reads at most this much of a file's
/// tail.
pub const RECORD_BYTES_MAX: usize = 16 * 1024;

/// Which log a record belongs to: each kind has its own directory, daily
/// files and hash chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogKind {
    /// RAS requests and decisions.
    Ras,
    /// Gatekeeper HA events.
    Failover,
}

impl LogKind {
    /// Both kinds.
    pub const ALL: [LogKind; 2] = [LogKind::Ras, LogKind::Failover];

    /// The directory under the audit root.
    #[must_use]
    pub fn dir(self) -> &'static str {
        match self {
            LogKind::Ras => "h323_witness",
            LogKind::Failover => "ha",
        }
    }

    /// The file-name prefix before `YYYYMMDD.jsonl`.
    #[must_use]
    pub fn file_prefix(self) -> &'static str {
        match self {
            LogKind::Ras => "h323_ras_",
            LogKind::Failover => "failover_",
        }
    }

    /// The file name for the UTC day of `at`.
    #[must_use]
    pub fn file_name(self, at: UnixMillis) -> String {
        let (y, m, d) = civil_date(at);
        format!("{}{y:04}{m:02}{d:02}.jsonl", self.file_prefix())
    }
}

/// A field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// A string (already PII-filtered where it is free text).
    Str(String),
    /// An unsigned integer.
    U64(u64),
    /// A number with a fraction; non-finite values are written as `null`.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// A list of strings.
    List(Vec<String>),
}

/// One audit record: a timestamp, a kind and ordered fields. Build it with
/// [`AuditRecord::ras`] or [`AuditRecord::failover`] and the `with_*`
/// methods; hashes are added by the writer.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// When it happened (also picks the day file, UTC).
    pub at: UnixMillis,
    /// Which log.
    pub kind: LogKind,
    fields: Vec<(&'static str, Field)>,
}

/// Keys the writer owns.
const RESERVED_KEYS: [&str; 3] = ["ts", "prev_hash", "content_hash"];

impl AuditRecord {
    /// A RAS record with its `msg_type` (ARQ, ACF, ARJ, …).
    #[must_use]
    pub fn ras(at: UnixMillis, msg_type: &'static str) -> Self {
        Self {
            at,
            kind: LogKind::Ras,
            fields: Vec::new(),
        }
        .with_code("msg_type", msg_type)
    }

    /// A `GATEKEEPER_FAILOVER` record.
    #[must_use]
    pub fn failover(at: UnixMillis, failover_duration_sec: f64) -> Self {
        Self {
            at,
            kind: LogKind::Failover,
            fields: Vec::new(),
        }
        .with_code("event", "GATEKEEPER_FAILOVER")
        .with_f64("failover_duration_sec", failover_duration_sec)
    }

    fn push(mut self, key: &'static str, value: Field) -> Self {
        assert!(
            !RESERVED_KEYS.contains(&key) && !self.fields.iter().any(|(k, _)| *k == key),
            "audit key {key:?} is reserved or repeated"
        );
        assert!(
            key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "audit keys are plain identifiers"
        );
        self.fields.push((key, value));
        self
    }

    /// A fixed code (message type, gate name): written as is.
    #[must_use]
    pub fn with_code(self, key: &'static str, value: &'static str) -> Self {
        self.push(key, Field::Str(value.to_owned()))
    }

    /// An identifier (terminal_id, endpoint_id, transport address): written
    /// as is, because redacting digits would break lookups by identifier.
    #[must_use]
    pub fn with_id(self, key: &'static str, value: impl Into<String>) -> Self {
        self.push(key, Field::Str(value.into()))
    }

    /// Free text (reasons, aliases, notes): passes the PII filter.
    #[must_use]
    pub fn with_text(self, key: &'static str, value: &str) -> Self {
        self.push(key, Field::Str(pii::redact(value)))
    }

    /// A list of free-text strings: each passes the PII filter.
    #[must_use]
    pub fn with_text_list(self, key: &'static str, values: &[String]) -> Self {
        let list = values.iter().map(|v| pii::redact(v)).collect();
        self.push(key, Field::List(list))
    }

    /// An unsigned integer.
    #[must_use]
    pub fn with_u64(self, key: &'static str, value: u64) -> Self {
        self.push(key, Field::U64(value))
    }

    /// A number with a fraction.
    #[must_use]
    pub fn with_f64(self, key: &'static str, value: f64) -> Self {
        self.push(key, Field::F64(value))
    }

    /// A boolean.
    #[must_use]
    pub fn with_bool(self, key: &'static str, value: bool) -> Self {
        self.push(key, Field::Bool(value))
    }

    /// The fields in order (without `ts` and the hashes).
    #[must_use]
    pub fn fields(&self) -> &[(&'static str, Field)] {
        &self.fields
    }

    /// Writes `{"ts": "…", fields…, "prev_hash": "…"` into `out` (cleared
    /// first): the hashed prefix of the line, without the closing brace.
    pub(super) fn write_body(&self, prev_hash: &str, out: &mut String) {
        out.clear();
        out.push_str("{\"ts\": ");
        write_str(out, &timestamp(self.at));
        for (key, value) in &self.fields {
            let _ = write!(out, ", \"{key}\": ");
            match value {
                Field::Str(s) => write_str(out, s),
                Field::U64(n) => {
                    let _ = write!(out, "{n}");
                }
                Field::F64(x) if x.is_finite() => {
                    let _ = write!(out, "{x:?}");
                }
                Field::F64(_) => out.push_str("null"),
                Field::Bool(b) => {
                    let _ = write!(out, "{b}");
                }
                Field::List(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        write_str(out, item);
                    }
                    out.push(']');
                }
            }
        }
        let _ = write!(out, ", \"prev_hash\": \"{prev_hash}\"");
    }
}

/// A JSON string literal.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// RFC 3339 UTC with milliseconds.
fn timestamp(at: UnixMillis) -> String {
    let (y, mo, d) = civil_date(at);
    let ms_of_day = at.0 % 86_400_000;
    let (h, mi, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// The UTC (year, month, day) of `at` (Howard Hinnant's civil_from_days).
fn civil_date(at: UnixMillis) -> (u64, u64, u64) {
    let z = at.0 / 86_400_000 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_escapes() {
        // 2026-11-23T13:59:27.123Z
        let at = UnixMillis(1_795_442_367_123);
        assert_eq!(timestamp(at), "2026-11-23T13:59:27.123Z");
        assert_eq!(LogKind::Ras.file_name(at), "h323_ras_20261123.jsonl");
        assert_eq!(
            timestamp(UnixMillis(951_782_400_000)),
            "2000-02-29T00:00:00.000Z"
        );
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\nd\u{1}");
        assert_eq!(s, r#""a\"b\\c\nd\u0001""#);
    }
}
