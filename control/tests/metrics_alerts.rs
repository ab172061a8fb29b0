//! Proves config/alerts.yml is valid (`promtool check rules`, skipped when
//! promtool is absent), that the example config/prometheus.yml loading it is
//! valid (`promtool check config`), and that the rules reference only
//! metrics that `/metrics` serves.

mod metrics_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use control::metrics::http::MetricsServer;
use control::metrics::Metrics;
use metrics_support::{full_snapshot, promtool, repo_root, scrape};

fn alerts_path() -> std::path::PathBuf {
    repo_root().join("config/alerts.yml")
}

/// Every `h323_…` identifier in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("h323_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

#[test]
fn promtool_accepts_the_rules() {
    let path = alerts_path();
    if let Some((ok, out)) = promtool(&["check", "rules", path.to_str().unwrap()], "") {
        assert!(ok, "promtool check rules failed:\n{out}");
    }
}

#[test]
fn promtool_accepts_the_example_scrape_config() {
    let path = repo_root().join("config/prometheus.yml");
    if let Some((ok, out)) = promtool(&["check", "config", path.to_str().unwrap()], "") {
        assert!(ok, "promtool check config failed:\n{out}");
        assert!(out.contains("10 rules found"), "{out}");
    }
}

#[test]
fn rules_use_only_exposed_metrics() {
    let rules = std::fs::read_to_string(alerts_path()).unwrap();
    for alert in [
        "GatekeeperDown",
        "FailoverTooSlow",
        "HighLatency",
        "HighCPU",
        "TickOverruns",
        "AuditWriteFailing",
    ] {
        assert!(
            rules.contains(&format!("alert: {alert}\n")),
            "{alert} missing"
        );
    }
    let metrics = Arc::new(Metrics::new());
    metrics.update(&full_snapshot());
    let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), metrics).unwrap();
    let scraped = metric_names(&scrape(server.local_addr()));
    let used = metric_names(&rules);
    assert!(used.len() >= 8, "{used:?}");
    let missing: Vec<_> = used.difference(&scraped).collect();
    assert!(
        missing.is_empty(),
        "rules use metrics the endpoint lacks: {missing:?}"
    );
}
