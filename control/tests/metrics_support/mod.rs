//! Shared by the metrics tests: a snapshot with every field set, a raw
//! HTTP scrape, and promtool when it is installed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use control::metrics::{HistogramSnapshot, MetricsSnapshot, ShardSnapshot};

/// A snapshot in which every metric, labelled families included, has a
/// series.
pub fn full_snapshot() -> MetricsSnapshot {
    let mut latency = HistogramSnapshot::with_bounds(&[10.0, 20.0, 50.0, 100.0, 150.0, 250.0]);
    for v in [12.0, 18.0, 40.0, 300.0] {
        latency.observe(v);
    }
    let mut tick = HistogramSnapshot::with_bounds(&[0.001, 0.005, 0.01, 0.02]);
    tick.observe(0.0025);
    let mut added = HistogramSnapshot::with_bounds(&[0.01, 0.02, 0.04, 0.08]);
    added.observe(0.03);
    MetricsSnapshot {
        instance: "gk-a".into(),
        role: "primary".into(),
        up: true,
        active_sessions: 12,
        total_admissions: 40,
        uptime_seconds: 3600.5,
        registrations: 12,
        audit_records: 80,
        audit_errors: 0,
        rejections_by_reason: vec![("quota".into(), 3), ("capacity".into(), 1)],
        rtp_latency_ms: latency.clone(),
        mcu_cpu_percent: 37.5,
        mcu_active_participants: 12,
        guardian_bandwidth_bps: vec![("if://guardian/a".into(), 64_000)],
        shards: vec![ShardSnapshot {
            shard: 0,
            tick_duration_seconds: tick,
            tick_overruns: 2,
            jitter_buffer_depth_seconds: 0.04,
            rtp_jitter_seconds_max: 0.003,
            queue_full_drops: 1,
            commands_refused: 3,
        }],
        packets_in: 1000,
        packets_out: 990,
        packets_dropped_by_reason: vec![("late".into(), 10)],
        engine_added_latency_seconds: added,
    }
}

/// Sends `request` and returns the whole response.
pub fn raw_request(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// `GET /metrics` as Prometheus does (OpenMetrics preferred): returns the
/// body after checking the status.
pub fn scrape(addr: SocketAddr) -> String {
    let response = raw_request(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: test\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n\r\n",
    );
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    body.to_owned()
}

/// Runs `promtool ARGS…` with `stdin`; `None` (after saying so) when
/// promtool is not installed (Debian: `apt-get install prometheus`).
pub fn promtool(args: &[&str], stdin: &str) -> Option<(bool, String)> {
    let Ok(mut child) = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        println!("promtool not found: skipping `promtool {}`", args.join(" "));
        return None;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success(), text))
}

/// The repository root.
#[allow(dead_code)] // used by one of the two test crates that include this
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// `GET /metrics` with no Accept header: the Prometheus 0.0.4 text format.
#[allow(dead_code)] // used by one of the two test crates that include this
pub fn scrape_classic(addr: SocketAddr) -> String {
    let response = raw_request(addr, b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    body.to_owned()
}
