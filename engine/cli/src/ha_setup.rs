//! `engine run --role gatekeeper --ha primary|secondary`: the gatekeeper
//! file (`--config`, TOML with `[ha]` and `[gatekeeper]` sections) merged
//! with the command-line overrides, checked by
//! `control::ha::settings::HaSettings` (errors name `ha.<field>`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use control::gatekeeper::AlternateGatekeeper;
use control::ha::settings::{parse_key, HaSettings};
use control::service::HaConfig;

/// Which node of the pair this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HaRole {
    /// The preferred node: node id 1 unless set, wins cold-start ties.
    Primary,
    /// The other node: node id 2 unless set.
    Secondary,
}

/// HA flags of `engine run` (role gatekeeper). Each overrides the same
/// field of the `[ha]` section of `--config`.
#[derive(Debug, Args)]
pub struct HaArgs {
    /// Run as one node of an HA gatekeeper pair (docs/ha.md): starts as
    /// standby, serves RAS on the floating address only while primary.
    #[arg(long, value_enum)]
    pub ha: Option<HaRole>,
    /// The other node's peer-link UDP address (ha.peer).
    #[arg(long)]
    pub peer: Option<SocketAddr>,
    /// This node's peer-link UDP address (ha.listen).
    #[arg(long)]
    pub ha_listen: Option<SocketAddr>,
    /// The pair's shared key file, 64 hex digits (ha.key_file).
    #[arg(long)]
    pub ha_key: Option<PathBuf>,
    /// The floating RAS address terminals use (ha.floating_address).
    #[arg(long)]
    pub floating: Option<SocketAddr>,
    /// This node's id, 1..=255 (ha.node_id; default 1 for primary, 2 for
    /// secondary).
    #[arg(long)]
    pub node_id: Option<u8>,
    /// Take the primary role back through a handover when caught up
    /// (ha.preempt; only with --ha primary).
    #[arg(long)]
    pub ha_preempt: bool,
    /// An alternate gatekeeper RAS address advertised in GCF/RCF
    /// (alternateGatekeeper, needToRegister FALSE); repeatable.
    #[arg(long = "alternate-gk")]
    pub alternate_gk: Vec<SocketAddr>,
}

impl HaArgs {
    /// Whether any HA flag other than `--ha` was given.
    pub fn any_set(&self) -> bool {
        self.peer.is_some()
            || self.ha_listen.is_some()
            || self.ha_key.is_some()
            || self.floating.is_some()
            || self.node_id.is_some()
            || self.ha_preempt
    }
}

/// The `[gatekeeper]` section: what the flags of the same name give.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatekeeperFile {
    /// Guardian registry (--registry).
    pub registry: Option<PathBuf>,
    /// Media engines' control addresses (--engine).
    #[serde(default)]
    pub engines: Vec<String>,
    /// Private key file for the media link (--control-key).
    pub control_key: Option<PathBuf>,
    /// Alternate gatekeepers advertised (--alternate-gk).
    #[serde(default)]
    pub alternate_gatekeepers: Vec<SocketAddr>,
    /// Audit log root (--audit-dir).
    pub audit_dir: Option<PathBuf>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct File {
    #[serde(default)]
    ha: Option<toml::Table>,
    #[serde(default)]
    gatekeeper: Option<GatekeeperFile>,
}

/// The gatekeeper file: its `[ha]` table (unchecked) and `[gatekeeper]`.
pub fn read_file(path: &Path) -> anyhow::Result<(toml::Table, GatekeeperFile)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let file: File = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    Ok((
        file.ha.unwrap_or_default(),
        file.gatekeeper.unwrap_or_default(),
    ))
}

/// The checked HA configuration, the `[ha]` table merged with the flags.
pub fn config(
    args: &HaArgs,
    role: HaRole,
    mut table: toml::Table,
    source: &str,
) -> anyhow::Result<HaConfig> {
    let mut set = |k: &str, v: toml::Value, over: bool| {
        if over || !table.contains_key(k) {
            table.insert(k.to_owned(), v);
        }
    };
    let s = |a: &dyn ToString| toml::Value::String(a.to_string());
    let (id, preferred) = match role {
        HaRole::Primary => (1, true),
        HaRole::Secondary => (2, false),
    };
    set("node_id", toml::Value::Integer(id), false);
    set("preferred", toml::Value::Boolean(preferred), false);
    if let Some(v) = args.node_id {
        set("node_id", toml::Value::Integer(i64::from(v)), true);
    }
    if let Some(v) = args.peer {
        set("peer", s(&v), true);
    }
    if let Some(v) = args.ha_listen {
        set("listen", s(&v), true);
    }
    if let Some(v) = &args.ha_key {
        set("key_file", s(&v.display()), true);
    }
    if let Some(v) = args.floating {
        set("floating_address", s(&v), true);
    }
    if args.ha_preempt {
        set("preempt", toml::Value::Boolean(true), true);
    }
    let settings: HaSettings = toml::Value::Table(table)
        .try_into()
        .map_err(|e| anyhow::anyhow!("{source} [ha]: {e}"))?;
    settings
        .check()
        .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    let key_text = std::fs::read_to_string(&settings.key_file)
        .with_context(|| format!("ha.key_file {}", settings.key_file.display()))?;
    let key = parse_key(&key_text)
        .map_err(|e| anyhow::anyhow!("{e} ({})", settings.key_file.display()))?;
    let (link, floating) = settings.to_configs(key)?;
    Ok(HaConfig { link, floating })
}

/// alternateGatekeeper entries for an HA pair: the registration is
/// replicated, so no new registration is needed there.
pub fn alternates(addrs: &[SocketAddr], gatekeeper_id: &str) -> Vec<AlternateGatekeeper> {
    addrs
        .iter()
        .enumerate()
        .map(|(i, a)| AlternateGatekeeper {
            ras_address: *a,
            gatekeeper_id: Some(gatekeeper_id.to_owned()),
            need_to_register: false,
            priority: u8::try_from(i).unwrap_or(127).min(127),
        })
        .collect()
}

/// What the control loop last saw of the service's HA state, to move the
/// `role` label and record each failover once (metrics + audit record).
#[derive(Debug, Default)]
pub struct Seen {
    failovers: u64,
    role: &'static str,
}

impl Seen {
    /// Reads the service's HA state; reports changes to the observer.
    pub fn check(
        &mut self,
        gatekeeper: &control::service::ServiceHandle,
        observer: &mut crate::observe::Observer,
    ) {
        let Ok(Some(ha)) = gatekeeper.stats().map(|s| s.ha) else {
            return;
        };
        if ha.role != self.role {
            self.role = ha.role;
            // The metric's label: a candidate does not serve yet.
            observer.set_role(if ha.role == "primary" {
                "primary"
            } else {
                "standby"
            });
        }
        if ha.failovers > self.failovers {
            self.failovers = ha.failovers;
            let note = control::service::FailoverNote {
                duration: std::time::Duration::from_millis(ha.last_failover_ms),
                previous_primary: "peer".into(),
                new_primary: format!("epoch {}", control::ha::Epoch(ha.epoch)),
            };
            if let Err(e) = observer.record_failover(gatekeeper, note) {
                eprintln!("gatekeeper: ha: failover record: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> HaArgs {
        HaArgs {
            ha: Some(HaRole::Secondary),
            peer: None,
            ha_listen: None,
            ha_key: None,
            floating: None,
            node_id: None,
            ha_preempt: false,
            alternate_gk: Vec::new(),
        }
    }

    #[test]
    fn the_file_gives_defaults_and_flags_override_it() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("ha.key");
        std::fs::write(&key, "ab".repeat(32)).unwrap();
        let file = dir.path().join("gk.toml");
        std::fs::write(
            &file,
            format!(
                "[ha]\nlisten = \"127.0.0.1:7001\"\npeer = \"127.0.0.1:7002\"\n\
                 key_file = \"{}\"\nfloating_address = \"127.0.0.2:1719\"\n\
                 heartbeat_interval_ms = 50\n\
                 [gatekeeper]\nregistry = \"/etc/mcu/registry.yaml\"\nengines = [\"10.0.0.5:7719\"]\n",
                key.display()
            ),
        )
        .unwrap();
        let (table, gk) = read_file(&file).unwrap();
        assert_eq!(gk.engines, vec!["10.0.0.5:7719".to_owned()]);
        let mut a = args();
        a.peer = Some("127.0.0.1:7003".parse().unwrap());
        let c = config(&a, HaRole::Secondary, table.clone(), "gk.toml").unwrap();
        assert_eq!(c.link.node.node_id.0, 2, "secondary defaults to node 2");
        assert!(!c.link.node.preferred);
        assert_eq!(c.link.peer, "127.0.0.1:7003".parse().unwrap(), "flag wins");
        assert_eq!(c.link.node.heartbeat_interval_ms, 50, "file value kept");
        let c = config(&args(), HaRole::Primary, table.clone(), "gk.toml").unwrap();
        assert_eq!((c.link.node.node_id.0, c.link.node.preferred), (1, true));

        // Errors name the field.
        let mut bad = table.clone();
        bad.insert("misses_max".into(), toml::Value::Integer(1));
        let e = config(&args(), HaRole::Primary, bad, "gk.toml").unwrap_err();
        assert!(e.to_string().contains("ha.misses_max"), "{e}");
        let mut bad = table;
        bad.remove("peer");
        let e = config(&args(), HaRole::Primary, bad, "gk.toml").unwrap_err();
        assert!(e.to_string().contains("peer"), "{e}");
        let mut a = args();
        a.ha_preempt = true;
        let e = config(&a, HaRole::Secondary, toml::Table::new(), "flags").unwrap_err();
        assert!(
            e.to_string().contains("node_id") || e.to_string().contains("listen"),
            "{e}"
        );
    }
}
