//! `engine validate --role gatekeeper`: the `config` line for a host that
//! runs only a gatekeeper (`engine run --role gatekeeper --config FILE`),
//! whose file holds `[ha]` and `[gatekeeper]` sections instead of an engine
//! config, and the facts the other checks need from it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use control::ha::settings::HaSettings;

use crate::validate::{Line, Outcome};

/// What the gatekeeper file says that other checks use.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GatekeeperFacts {
    /// `[gatekeeper] registry`.
    pub registry: Option<PathBuf>,
    /// `[gatekeeper] engines`.
    pub engines: Vec<SocketAddr>,
    /// `[ha] peer`, when the file configures an HA node.
    pub peer: Option<SocketAddr>,
    /// `[ha] floating_address`: RAS is bound there only while primary.
    pub floating: Option<SocketAddr>,
}

/// Loads the gatekeeper file as `engine run --role gatekeeper` reads it and
/// checks its `[ha]` section as the HA node would (the key file must hold
/// 64 hex digits). A missing `[ha] node_id` is taken as 1, as `--ha primary`
/// would.
pub fn check(path: &Path) -> (Line, Option<GatekeeperFacts>) {
    match load(path) {
        Ok((facts, summary)) => (
            Line::new(
                Outcome::Pass,
                "config",
                format!("{} (gatekeeper file): {summary}", path.display()),
            ),
            Some(facts),
        ),
        Err(e) => (
            Line::new(Outcome::Fail, "config", format!("{}: {e}", path.display())).hint(
                "the gatekeeper file's [ha] and [gatekeeper] fields are documented in docs/ha.md",
            ),
            None,
        ),
    }
}

fn load(path: &Path) -> Result<(GatekeeperFacts, String), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| e.to_string())?;
    for key in table.keys() {
        if key != "ha" && key != "gatekeeper" {
            return Err(format!(
                "unknown section [{key}] (a gatekeeper file has [ha] and [gatekeeper])"
            ));
        }
    }
    let mut facts = GatekeeperFacts::default();
    let mut summary = Vec::new();
    if let Some(toml::Value::Table(gk)) = table.remove("gatekeeper") {
        for (key, value) in gk {
            match (key.as_str(), value) {
                ("registry", toml::Value::String(s)) => facts.registry = Some(PathBuf::from(s)),
                ("engines", toml::Value::Array(list)) => {
                    for v in list {
                        let s = v.as_str().ok_or("gatekeeper.engines: strings HOST:PORT")?;
                        let addr = s
                            .parse()
                            .map_err(|e| format!("gatekeeper.engines: {s:?}: {e}"))?;
                        facts.engines.push(addr);
                    }
                }
                ("control_key" | "audit_dir", toml::Value::String(_))
                | ("alternate_gatekeepers", toml::Value::Array(_)) => {}
                (key, _) => return Err(format!("gatekeeper.{key}: unknown field or wrong type")),
            }
        }
        summary.push(format!("{} engine(s)", facts.engines.len()));
    }
    if let Some(toml::Value::Table(mut ha)) = table.remove("ha") {
        ha.entry("node_id").or_insert(toml::Value::Integer(1));
        let settings: HaSettings = toml::Value::Table(ha)
            .try_into()
            .map_err(|e| format!("[ha]: {e}"))?;
        settings.check().map_err(|e| e.to_string())?;
        let key = std::fs::read_to_string(&settings.key_file)
            .map_err(|e| format!("ha.key_file {}: {e}", settings.key_file.display()))?;
        let key = key.trim();
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "ha.key_file {}: not 64 hex digits",
                settings.key_file.display()
            ));
        }
        facts.peer = Some(settings.peer);
        facts.floating = Some(settings.floating_address);
        summary.push(format!(
            "HA node, peer {}, floating RAS {}",
            settings.peer, settings.floating_address
        ));
    }
    if summary.is_empty() {
        summary.push("no [ha] or [gatekeeper] section: flags give everything".into());
    }
    Ok((facts, summary.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn an_ha_gatekeeper_file_passes_and_gives_its_peer_and_engines() {
        let dir = tempfile::tempdir().unwrap();
        let key = write(dir.path(), "ha.key", &"ab".repeat(32));
        let file = write(
            dir.path(),
            "gk.toml",
            &format!(
                "[ha]\nlisten = \"127.0.0.1:7001\"\npeer = \"127.0.0.1:7002\"\n\
                 key_file = \"{}\"\nfloating_address = \"127.0.0.2:1719\"\n\
                 [gatekeeper]\nregistry = \"/etc/mcu/registry.yaml\"\nengines = [\"127.0.0.1:7719\"]\n",
                key.display()
            ),
        );
        let (line, facts) = check(&file);
        assert_eq!(line.outcome, Outcome::Pass, "{line:?}");
        let facts = facts.unwrap();
        assert_eq!(facts.peer, Some("127.0.0.1:7002".parse().unwrap()));
        assert_eq!(facts.engines, vec!["127.0.0.1:7719".parse().unwrap()]);
        assert_eq!(
            facts.registry,
            Some(PathBuf::from("/etc/mcu/registry.yaml"))
        );
    }

    #[test]
    fn a_bad_field_or_key_names_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let engine_config = write(dir.path(), "engine.toml", "[shards]\ncount = 1\n");
        let (line, _) = check(&engine_config);
        assert_eq!(line.outcome, Outcome::Fail);
        assert!(line.detail.contains("[shards]"), "{}", line.detail);

        let bad_engine = write(
            dir.path(),
            "gk.toml",
            "[gatekeeper]\nengines = [\"nowhere\"]\n",
        );
        let (line, _) = check(&bad_engine);
        assert!(
            line.detail.contains("gatekeeper.engines"),
            "{}",
            line.detail
        );

        let key = write(dir.path(), "short.key", "abcd");
        let short_key = write(
            dir.path(),
            "gk2.toml",
            &format!(
                "[ha]\nlisten = \"127.0.0.1:7001\"\npeer = \"127.0.0.1:7002\"\n\
                 key_file = \"{}\"\nfloating_address = \"127.0.0.2:1719\"\n",
                key.display()
            ),
        );
        let (line, _) = check(&short_key);
        assert_eq!(line.outcome, Outcome::Fail);
        assert!(line.detail.contains("64 hex digits"), "{}", line.detail);
    }
}
