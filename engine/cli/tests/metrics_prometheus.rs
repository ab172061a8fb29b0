//! A real Prometheus server (Debian `prometheus`) scrapes a running
//! `engine run --registry` every second; its HTTP query API then returns
//! `h323_gatekeeper_up == 1` with role="primary" and
//! `h323_mcu_active_participants == 1` (the static room's participant). Bounded: 30 s of polling at most;
//! both processes are stopped at the end. Skipped, loudly, when the
//! `prometheus` binary is missing (scripts/deps.sh installs it for CI).
//!
//! The failover counter is checked at 0 here; a real Prometheus seeing it
//! move after a failover of the HA pair is in ha_prometheus.rs
//! (`prometheus_sees_the_standby_and_the_failover_counter_move`).

mod metrics_support;

use std::time::{Duration, Instant};

use metrics_support::{prometheus_installed, prometheus_query, registry, Engine, Prometheus};

#[test]
fn prometheus_scrapes_the_running_engine() {
    if !prometheus_installed() {
        eprintln!(
            "SKIPPED prometheus_scrapes_the_running_engine: no `prometheus` binary \
             (Debian: apt-get install prometheus; scripts/deps.sh installs it)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (registry, keys) = registry(dir.path(), 1);
    let engine = Engine::start(dir.path(), &registry, &keys, 36_660);

    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: mcu\n    static_configs:\n      - targets: ['{}']\n",
            engine.metrics
        ),
    )
    .unwrap();
    let prometheus = Prometheus::start(&config, dir.path());
    let web = prometheus.web;

    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut up, mut participants, mut failovers) = (None, None, None);
    while Instant::now() < deadline && (up.is_none() || participants.is_none()) {
        std::thread::sleep(Duration::from_millis(500));
        // h323_gatekeeper_up == 1
        up = up.or_else(|| {
            prometheus_query(web, "h323_gatekeeper_up%20%3D%3D%201").filter(|r| !r.is_empty())
        });
        // The static room's one participant.
        participants = participants.or_else(|| {
            prometheus_query(web, "h323_mcu_active_participants%20%3D%3D%201")
                .filter(|r| !r.is_empty())
        });
        failovers =
            prometheus_query(web, "h323_gatekeeper_failover_total").filter(|r| !r.is_empty());
    }
    let up = up.expect("Prometheus never saw h323_gatekeeper_up == 1 within 30 s");
    assert_eq!(up[0]["metric"]["role"], "primary", "{up:?}");
    assert_eq!(up[0]["value"][1], "1", "{up:?}");
    assert!(
        participants.is_some(),
        "Prometheus never saw h323_mcu_active_participants == 1 within 30 s"
    );
    let failovers = failovers.expect("h323_gatekeeper_failover_total is scraped");
    assert_eq!(failovers[0]["value"][1], "0", "{failovers:?}");
    let status = engine.stop();
    assert!(status.success(), "{status:?}");
}
