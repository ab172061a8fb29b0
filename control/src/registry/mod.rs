//! The seed guardian registry: the deployment documents' YAML, validated with
//! file/line/field errors, swapped whole on hot reload (the gatekeeper holds
//! an `Arc<Registry>`; existing calls keep running, new requests see the new
//! registry).
//!
//! ```yaml
//! guardians:
//!   - terminal_id: "if://guardian/technical"
//!     role: "Technical Guardian (T-01)"
//!     public_key_hex: "<64 hex chars>"
//!     bandwidth_quota_bps: 2500000
//! ```

mod load;

use std::collections::HashMap;
use std::path::Path;

use ed25519_dalek::VerifyingKey;

pub use load::{parse, FieldError, RegistryErrors};

/// One guardian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guardian {
    /// The terminal_id, e.g. `if://guardian/technical`; the token's generalID.
    pub terminal_id: String,
    /// Free-text role, for operators.
    pub role: String,
    /// The Ed25519 public key.
    pub public_key: VerifyingKey,
    /// Bound on the total bandwidth of the guardian's active calls, bit/s.
    pub bandwidth_quota_bps: u64,
}

/// A validated registry.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    guardians: Vec<Guardian>,
    by_id: HashMap<String, usize>,
}

/// What `engine registry check` prints on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Number of guardians.
    pub guardians: usize,
    /// Sum of all quotas, bit/s.
    pub bandwidth_quota_bps_total: u64,
    /// The terminal_ids, in file order.
    pub terminal_ids: Vec<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} guardians, total bandwidth quota {} bit/s",
            self.guardians, self.bandwidth_quota_bps_total
        )?;
        for id in &self.terminal_ids {
            writeln!(f, "  {id}")?;
        }
        Ok(())
    }
}

impl Registry {
    /// Builds a registry from validated guardians (duplicates already ruled
    /// out by [`parse`]; later duplicates would shadow earlier ones).
    #[must_use]
    pub fn from_guardians(guardians: Vec<Guardian>) -> Self {
        let by_id = guardians
            .iter()
            .enumerate()
            .map(|(i, g)| (g.terminal_id.clone(), i))
            .collect();
        Self { guardians, by_id }
    }

    /// Loads and validates a registry file.
    pub fn load(path: &Path) -> Result<Self, RegistryErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| RegistryErrors::io(path, &e))?;
        parse(path, &text)
    }

    /// The guardian with this terminal_id.
    #[must_use]
    pub fn get(&self, terminal_id: &str) -> Option<&Guardian> {
        self.by_id
            .get(terminal_id)
            .and_then(|&i| self.guardians.get(i))
    }

    /// All guardians, in file order.
    #[must_use]
    pub fn guardians(&self) -> &[Guardian] {
        &self.guardians
    }

    /// The summary `engine registry check` prints.
    #[must_use]
    pub fn summary(&self) -> Summary {
        Summary {
            guardians: self.guardians.len(),
            bandwidth_quota_bps_total: self.guardians.iter().map(|g| g.bandwidth_quota_bps).sum(),
            terminal_ids: self
                .guardians
                .iter()
                .map(|g| g.terminal_id.clone())
                .collect(),
        }
    }
}

/// `engine registry check FILE`: loads, validates and summarises, or returns
/// every error found with its file, line and field.
pub fn check(path: &Path) -> Result<Summary, RegistryErrors> {
    Registry::load(path).map(|r| r.summary())
}
