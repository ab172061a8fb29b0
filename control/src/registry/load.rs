//! Parsing and validation of the registry YAML with file/line/field errors.
//!
//! serde_yaml reports positions only for syntax and type errors, so the line
//! of each field of each entry is found by a small scan of the text (the
//! registry format is a flat list of mappings).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use serde::Deserialize;

use super::{Guardian, Registry};
use crate::security::keys::parse_hex;
use crate::security::token::GENERAL_ID_CHARS_MAX;

/// One problem in a registry file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// The field, e.g. `guardians[2].public_key_hex`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.field,
            self.message
        )
    }
}

/// All problems found in a registry file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct RegistryErrors {
    /// The problems, in file order.
    pub errors: Vec<FieldError>,
}

impl RegistryErrors {
    pub(super) fn io(path: &Path, e: &std::io::Error) -> Self {
        Self {
            errors: vec![FieldError {
                file: path.to_owned(),
                line: 0,
                field: "(file)".into(),
                message: e.to_string(),
            }],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    guardians: Vec<RawGuardian>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuardian {
    terminal_id: String,
    role: String,
    public_key_hex: String,
    bandwidth_quota_bps: u64,
}

/// Line numbers of each entry's start and of its fields.
fn field_lines(text: &str) -> Vec<(usize, HashMap<String, usize>)> {
    let mut entries: Vec<(usize, HashMap<String, usize>)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let (is_item, rest) = match trimmed.strip_prefix("- ") {
            Some(rest) => (true, rest.trim_start()),
            None => (false, trimmed),
        };
        if is_item {
            entries.push((i + 1, HashMap::new()));
        }
        if let (Some(entry), Some((key, _))) = (entries.last_mut(), rest.split_once(':')) {
            entry.1.entry(key.trim().to_owned()).or_insert(i + 1);
        }
    }
    entries
}

/// Parses and validates registry text; `file` is used in error messages.
pub fn parse(file: &Path, text: &str) -> Result<Registry, RegistryErrors> {
    let err = |line: usize, field: String, message: String| FieldError {
        file: file.to_owned(),
        line,
        field,
        message,
    };
    let raw: RawFile = serde_yaml::from_str(text).map_err(|e| RegistryErrors {
        errors: vec![err(
            e.location().map_or(0, |l| l.line()),
            "guardians".into(),
            e.to_string(),
        )],
    })?;
    let lines = field_lines(text);
    let line_of = |i: usize, key: &str| {
        lines.get(i).map_or(0, |(start, fields)| {
            fields.get(key).copied().unwrap_or(*start)
        })
    };
    let mut errors = Vec::new();
    let mut guardians = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut keys: HashMap<[u8; 32], usize> = HashMap::new();
    for (i, g) in raw.guardians.into_iter().enumerate() {
        let field = |k: &str| format!("guardians[{i}].{k}");
        let chars = g.terminal_id.chars().count();
        if chars == 0 || chars > GENERAL_ID_CHARS_MAX {
            errors.push(err(
                line_of(i, "terminal_id"),
                field("terminal_id"),
                format!(
                    "must be 1..={GENERAL_ID_CHARS_MAX} characters (it is the token's generalID)"
                ),
            ));
        } else if let Some(first) = ids.insert(g.terminal_id.clone(), i) {
            errors.push(err(
                line_of(i, "terminal_id"),
                field("terminal_id"),
                format!(
                    "duplicate terminal_id {:?} (first at line {})",
                    g.terminal_id,
                    line_of(first, "terminal_id")
                ),
            ));
        }
        let key = match parse_hex::<32>(g.public_key_hex.trim()) {
            None => {
                let n = g.public_key_hex.trim().len();
                let what = if n == 64 {
                    "is not hex".to_owned()
                } else {
                    format!("has {n} characters, need 64 hex (32 bytes)")
                };
                errors.push(err(
                    line_of(i, "public_key_hex"),
                    field("public_key_hex"),
                    what,
                ));
                None
            }
            Some(bytes) => match VerifyingKey::from_bytes(&bytes) {
                Ok(k) if !k.is_weak() => {
                    if let Some(first) = keys.insert(bytes, i) {
                        errors.push(err(
                            line_of(i, "public_key_hex"),
                            field("public_key_hex"),
                            format!(
                                "duplicate key (also guardians[{first}] at line {})",
                                line_of(first, "public_key_hex")
                            ),
                        ));
                    }
                    Some(k)
                }
                _ => {
                    errors.push(err(
                        line_of(i, "public_key_hex"),
                        field("public_key_hex"),
                        "not a valid (non-weak) Ed25519 public key".into(),
                    ));
                    None
                }
            },
        };
        if g.bandwidth_quota_bps < 100 {
            errors.push(err(
                line_of(i, "bandwidth_quota_bps"),
                field("bandwidth_quota_bps"),
                "must be at least 100 (one RAS bandWidth unit)".into(),
            ));
        }
        if let Some(public_key) = key {
            guardians.push(Guardian {
                terminal_id: g.terminal_id,
                role: g.role,
                public_key,
                bandwidth_quota_bps: g.bandwidth_quota_bps,
            });
        }
    }
    if errors.is_empty() {
        Ok(Registry::from_guardians(guardians))
    } else {
        Err(RegistryErrors { errors })
    }
}
