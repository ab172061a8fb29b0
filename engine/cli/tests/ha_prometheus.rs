//! A real Prometheus (Debian `prometheus`) scrapes both gatekeepers of an
//! HA pair (real processes on loopback) and sees the standby's role label
//! and the survivor's failover counter move. Skipped, loudly, without the
//! `prometheus` binary (scripts/deps.sh installs it).

mod ha_support;
mod metrics_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ha_support::{free_udp, metrics_addr, start_media, Pair, Proc};
use metrics_support::{prometheus_installed, prometheus_query, registry, Prometheus};

/// Polls Prometheus (30 s at most) until `encoded` returns a series.
fn prom_until(prometheus: SocketAddr, encoded: &str) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(r) = prometheus_query(prometheus, encoded).filter(|r| !r.is_empty()) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never returned {encoded} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A real Prometheus scrapes both gatekeepers of the pair: it sees
/// `h323_gatekeeper_up == 1` with role="primary" on one and "standby" on
/// the other; after kill -9 of the primary, the survivor's
/// `h323_gatekeeper_failover_total` moves to 1 with role="primary", and its
/// audit log holds the GATEKEEPER_FAILOVER record. Skipped, loudly, without
/// the `prometheus` binary.
#[test]
fn prometheus_sees_the_standby_and_the_failover_counter_move() {
    if !prometheus_installed() {
        eprintln!("SKIPPED: no `prometheus` binary (scripts/deps.sh installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (registry_path, _keys) = registry(dir.path(), 1);
    let engine_toml = dir.path().join("engine.toml");
    std::fs::write(
        &engine_toml,
        "[shards]\ncount = 1\npin = false\nio_memory_kib = 512\n[media]\nport_first = 37300\nports_per_shard = 20\n",
    )
    .unwrap();
    let (media, control) = start_media(&engine_toml);
    let ip = [
        127,
        0,
        4,
        2 + u8::try_from(std::process::id() % 200).unwrap(),
    ];
    let pair = Pair::new(dir.path(), &registry_path, control, free_udp(ip));
    let metrics = metrics_addr;
    let mut gk_a = Proc::start("gk-a", &pair.args[0]);
    let m_a = metrics(&gk_a);
    gk_a.wait_for("ha: primary at epoch", Duration::from_secs(20));
    let gk_b = Proc::start("gk-b", &pair.args[1]);
    let m_b = metrics(&gk_b);

    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: gk-a\n    static_configs:\n      - targets: ['{m_a}']\n\
             \x20 - job_name: gk-b\n    static_configs:\n      - targets: ['{m_b}']\n"
        ),
    )
    .unwrap();
    let prometheus = Prometheus::start(&config, dir.path());
    let web = prometheus.web;

    // h323_gatekeeper_up{job="gk-b",role="standby"} == 1, and the primary.
    let standby = prom_until(
        web,
        "h323_gatekeeper_up%7Bjob%3D%22gk-b%22%2Crole%3D%22standby%22%7D%20%3D%3D%201",
    );
    assert_eq!(standby[0]["value"][1], "1", "{standby:?}");
    prom_until(
        web,
        "h323_gatekeeper_up%7Bjob%3D%22gk-a%22%2Crole%3D%22primary%22%7D%20%3D%3D%201",
    );

    gk_a.child.kill().unwrap();
    gk_a.child.wait().unwrap();
    gk_b.wait_for("ha: primary at epoch", Duration::from_secs(10));
    // h323_gatekeeper_failover_total{job="gk-b"} == 1 and B is primary.
    let moved = prom_until(
        web,
        "h323_gatekeeper_failover_total%7Bjob%3D%22gk-b%22%7D%20%3D%3D%201",
    );
    assert_eq!(moved[0]["value"][1], "1", "{moved:?}");
    prom_until(
        web,
        "h323_gatekeeper_up%7Bjob%3D%22gk-b%22%2Crole%3D%22primary%22%7D%20%3D%3D%201",
    );
    drop(prometheus);

    // The failover record, with its duration, in B's audit log.
    let ha_dir = dir.path().join("logs-1").join("ha");
    let record = std::fs::read_dir(&ha_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", ha_dir.display()))
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect::<String>();
    assert!(record.contains("GATEKEEPER_FAILOVER"), "{record}");
    assert!(record.contains("failover_duration_sec"), "{record}");
    media.signal("-TERM");
}
