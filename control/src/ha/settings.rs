//! Operator settings for the HA pair, as a serde section the `engine run`
//! configuration can embed (e.g. `[ha]` in engine.toml), checked with
//! field-named errors and turned into a [`LinkConfig`] and a
//! [`FloatingConfig`].

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::floating::FloatingConfig;
use super::link::LinkConfig;
use super::node::NodeConfig;
use super::NodeId;

/// The `[ha]` section. Every field but the addresses, the id and the key file
/// has a default (docs/ha.md explains them).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaSettings {
    /// This node, 1..=255, different from the peer's.
    pub node_id: u8,
    /// Peer-link UDP address of this node.
    pub listen: SocketAddr,
    /// Peer-link UDP address of the other node.
    pub peer: SocketAddr,
    /// File holding the pair's shared key: 64 hex digits (32 octets).
    pub key_file: PathBuf,
    /// Floating RAS address (the one terminals use).
    pub floating_address: SocketAddr,
    /// Command putting the floating address on an interface (needs
    /// CAP_NET_ADMIN); absent on loopback.
    #[serde(default)]
    pub take_command: Option<Vec<String>>,
    /// Command removing it.
    #[serde(default)]
    pub release_command: Option<Vec<String>>,
    /// Heartbeat period, ms.
    #[serde(default = "default_interval")]
    pub heartbeat_interval_ms: u64,
    /// Missed heartbeats before the primary is lost.
    #[serde(default = "default_misses")]
    pub misses_max: u32,
    /// Claim timeout, ms.
    #[serde(default = "default_claim_timeout")]
    pub claim_timeout_ms: u64,
    /// Hold-off after being fenced, ms.
    #[serde(default = "default_holdoff")]
    pub fenced_holdoff_ms: u64,
    /// This node is the preferred primary.
    #[serde(default)]
    pub preferred: bool,
    /// Take the role back through a handover when caught up.
    #[serde(default)]
    pub preempt: bool,
}

fn default_interval() -> u64 {
    NodeConfig::default().heartbeat_interval_ms
}
fn default_misses() -> u32 {
    NodeConfig::default().misses_max
}
fn default_claim_timeout() -> u64 {
    NodeConfig::default().claim_timeout_ms
}
fn default_holdoff() -> u64 {
    NodeConfig::default().fenced_holdoff_ms
}

/// A setting that cannot work, named by its field.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// A field's value is out of range.
    #[error("ha.{field}: {why}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
}

fn field(field: &'static str, why: impl Into<String>) -> SettingsError {
    SettingsError::Field {
        field,
        why: why.into(),
    }
}

impl HaSettings {
    /// Checks the ranges (not the key file).
    pub fn check(&self) -> Result<(), SettingsError> {
        if self.node_id == 0 {
            return Err(field("node_id", "must be 1..=255"));
        }
        if self.listen == self.peer {
            return Err(field("peer", "must differ from ha.listen"));
        }
        if !(10..=10_000).contains(&self.heartbeat_interval_ms) {
            return Err(field("heartbeat_interval_ms", "must be 10..=10000"));
        }
        if !(2..=20).contains(&self.misses_max) {
            return Err(field(
                "misses_max",
                "must be 2..=20 (1 fails over on one lost datagram)",
            ));
        }
        if self.claim_timeout_ms == 0 {
            return Err(field("claim_timeout_ms", "must be > 0"));
        }
        if self.preempt && !self.preferred {
            return Err(field(
                "preempt",
                "only the preferred node may preempt (set ha.preferred)",
            ));
        }
        for (name, c) in [
            ("take_command", &self.take_command),
            ("release_command", &self.release_command),
        ] {
            if c.as_ref().is_some_and(Vec::is_empty) {
                return Err(field(name, "an empty command; leave it out instead"));
            }
        }
        Ok(())
    }

    /// The peer-link and floating-address configurations, with the key
    /// `key` (read by the caller from `key_file`, see [`parse_key`]).
    pub fn to_configs(&self, key: [u8; 32]) -> Result<(LinkConfig, FloatingConfig), SettingsError> {
        self.check()?;
        let node = NodeConfig {
            node_id: NodeId(self.node_id),
            heartbeat_interval_ms: self.heartbeat_interval_ms,
            misses_max: self.misses_max,
            claim_timeout_ms: self.claim_timeout_ms,
            fenced_holdoff_ms: self.fenced_holdoff_ms,
            preferred: self.preferred,
            preempt: self.preempt,
            key: key.to_vec(),
            incarnation: 0,
        };
        let mut floating = FloatingConfig::loopback(self.floating_address);
        floating.take_command.clone_from(&self.take_command);
        floating.release_command.clone_from(&self.release_command);
        Ok((LinkConfig::new(node, self.listen, self.peer), floating))
    }
}

/// Parses the key file's text: 64 hex digits, surrounding whitespace
/// ignored.
pub fn parse_key(text: &str) -> Result<[u8; 32], SettingsError> {
    crate::security::keys::parse_hex::<32>(text.trim())
        .ok_or_else(|| field("key_file", "must hold 64 hex digits (32 octets)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(extra: &str) -> Result<HaSettings, serde_yaml::Error> {
        serde_yaml::from_str(&format!(
            "node_id: 1\nlisten: 127.0.0.1:7001\npeer: 127.0.0.1:7002\n\
             key_file: /etc/mcu/ha.key\nfloating_address: 127.0.0.2:1719\n{extra}"
        ))
    }

    #[test]
    fn defaults_checks_and_conversion() {
        let s = yaml("").expect("parse");
        assert_eq!((s.heartbeat_interval_ms, s.misses_max), (100, 3));
        let (link, floating) = s.to_configs([7; 32]).expect("valid");
        assert_eq!(link.node.dead_ms(), 300);
        assert_eq!(floating.address, "127.0.0.2:1719".parse().expect("addr"));
        assert!(yaml("bogus: 1").is_err(), "unknown fields are refused");
        let bad = yaml("misses_max: 1").expect("parse");
        assert_eq!(
            bad.check().map_err(|e| e.to_string()),
            Err("ha.misses_max: must be 2..=20 (1 fails over on one lost datagram)".into())
        );
        assert!(yaml("preempt: true").expect("parse").check().is_err());
        assert!(yaml("preempt: true\npreferred: true")
            .expect("parse")
            .check()
            .is_ok());
        assert!(parse_key(&"ab".repeat(32)).is_ok());
        assert!(parse_key("abc").is_err());
    }
}
