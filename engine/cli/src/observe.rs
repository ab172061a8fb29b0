//! Observability for `engine run`: the `/metrics` endpoint, fed on the
//! control thread (never a shard) from `Engine::snapshot()` and the RAS
//! service's counters, and the audit-log options handed to the service.
//! docs/metrics.md lists every metric; docs/audit.md the audit options.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use control::audit::FsyncPolicy;
use control::metrics::http::MetricsServer;
use control::metrics::{HistogramSnapshot, Metrics, MetricsSnapshot, ShardSnapshot};
use control::service::{AuditConfig, ServiceHandle};
use engine::stats::{EngineStats, LatencyHistogram};
use engine::Engine;

/// Upper bounds of `h323_rtp_latency_ms`, milliseconds.
const RTP_LATENCY_MS_BOUNDS: [f64; 10] =
    [1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 150.0, 200.0, 400.0];
/// Upper bounds of `h323_engine_added_latency_seconds`.
const ADDED_LATENCY_S_BOUNDS: [f64; 9] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.2];
/// Upper bounds of `h323_engine_tick_duration_seconds` (the period is 20 ms).
const TICK_S_BOUNDS: [f64; 9] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05];
/// After a snapshot times out (a stuck shard), use the periodic reports for
/// this long before asking again, so signals keep being handled promptly.
const SNAPSHOT_BACKOFF: Duration = Duration::from_secs(30);
/// Linux reports process CPU time in USER_HZ ticks, 100 per second on every
/// architecture's user ABI.
const USER_HZ: f64 = 100.0;

/// Metrics and audit options of `engine run`.
#[derive(Debug, Args)]
pub struct ObserveArgs {
    /// Where `GET /metrics` is served (Prometheus text format), or `off`.
    /// 9464 avoids Prometheus' own 9090.
    #[arg(long, default_value = "0.0.0.0:9464")]
    metrics_listen: String,
    /// The `instance` label of `h323_gatekeeper_up` (default: the host name).
    #[arg(long)]
    metrics_instance: Option<String>,
    /// How often /metrics is refreshed from the engine, milliseconds.
    #[arg(long, default_value_t = 1000)]
    metrics_interval_ms: u64,
    /// Audit log root (the runbook's `logs/`): RAS records go to
    /// `h323_witness/h323_ras_YYYYMMDD.jsonl`, failovers to
    /// `ha/failover_YYYYMMDD.jsonl`. Without it RAS decisions are not
    /// audited.
    #[arg(long)]
    audit_dir: Option<PathBuf>,
    /// When audit records reach the disk: `every` (fdatasync per record),
    /// `group` (= group:256:200, at most 256 records or 200 ms unsynced) or
    /// `group:RECORDS:MS`, `os` (kernel writeback). Every policy survives
    /// kill -9; they differ on power loss (docs/audit.md).
    #[arg(long, default_value = "group")]
    audit_fsync: FsyncPolicy,
}

impl ObserveArgs {
    /// The service's audit configuration, if a directory was given.
    pub fn audit(&self) -> Option<AuditConfig> {
        self.audit_dir.as_ref().map(|dir| AuditConfig {
            dir: dir.clone(),
            fsync: self.audit_fsync,
        })
    }

    /// As [`Self::audit`], with `file_dir` (the gatekeeper file's
    /// `audit_dir`) when the flag is absent.
    pub fn audit_or(&self, file_dir: Option<&PathBuf>) -> Option<AuditConfig> {
        self.audit().or_else(|| {
            file_dir.map(|dir| AuditConfig {
                dir: dir.clone(),
                fsync: self.audit_fsync,
            })
        })
    }
}

/// Feeds `/metrics` from the control thread.
#[derive(Debug)]
pub struct Observer {
    metrics: Arc<Metrics>,
    _server: Option<MetricsServer>,
    instance: String,
    role: &'static str,
    interval: Duration,
    started: Instant,
    last: Option<Instant>,
    snapshot_failed: Option<Instant>,
    cpu: Option<(Instant, u64)>,
    drops: JitterDrops,
}

/// Starts the endpoint. A port already in use is reported and metrics are
/// skipped: media and admissions matter more than the scrape.
pub fn start(args: &ObserveArgs) -> anyhow::Result<Observer> {
    let metrics = Arc::new(Metrics::new());
    let server = if args.metrics_listen == "off" {
        None
    } else {
        let addr: SocketAddr = args
            .metrics_listen
            .parse()
            .map_err(|e| anyhow::anyhow!("--metrics-listen {:?}: {e}", args.metrics_listen))?;
        match MetricsServer::start(addr, Arc::clone(&metrics)) {
            Ok(server) => {
                eprintln!("metrics: serving http://{}/metrics", server.local_addr());
                Some(server)
            }
            Err(e) => {
                eprintln!(
                    "metrics: WARNING: cannot listen on {addr} ({e}); /metrics is not served"
                );
                None
            }
        }
    };
    let instance = args.metrics_instance.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "localhost".into())
    });
    Ok(Observer {
        metrics,
        _server: server,
        instance,
        role: "primary",
        interval: Duration::from_millis(args.metrics_interval_ms.max(100)),
        started: Instant::now(),
        last: None,
        snapshot_failed: None,
        cpu: None,
        drops: JitterDrops::default(),
    })
}

impl Observer {
    /// The registry, for the HA hook (`metrics().record_failover(d)`).
    #[allow(dead_code)] // called by the HA code once it lands
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// HA hook: a failover completed. Moves `h323_gatekeeper_failover_total`
    /// and `…_duration_seconds`, and appends the `GATEKEEPER_FAILOVER` record
    /// to `ha/failover_YYYYMMDD.jsonl` through the gatekeeper's audit writer.
    #[allow(dead_code)] // called by the HA code once it lands
    pub fn record_failover(
        &self,
        gatekeeper: &ServiceHandle,
        note: control::service::FailoverNote,
    ) -> Result<(), control::service::ServiceError> {
        self.metrics.record_failover(note.duration);
        gatekeeper.record_failover(note)
    }

    /// HA hook: the `role` label of `h323_gatekeeper_up` (`primary`,
    /// `standby`).
    #[allow(dead_code)] // called by the HA code once it lands
    pub fn set_role(&mut self, role: &'static str) {
        self.role = role;
    }

    /// Refreshes the metrics if the interval has passed. Call from the
    /// control loop.
    pub fn tick(&mut self, engine: Option<&mut Engine>, gatekeeper: Option<&ServiceHandle>) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < self.interval)
        {
            return;
        }
        self.last = Some(now);
        let fresh = self
            .snapshot_failed
            .is_none_or(|t| now.duration_since(t) >= SNAPSHOT_BACKOFF);
        let stats = match engine {
            // A gatekeeper-only process has no shards to report.
            None => EngineStats::default(),
            Some(engine) if fresh => match engine.snapshot() {
                Ok(s) => s.clone(),
                Err(e) => {
                    eprintln!("metrics: engine snapshot failed ({e}); using periodic reports");
                    self.snapshot_failed = Some(now);
                    engine.stats().clone()
                }
            },
            Some(engine) => engine.stats().clone(),
        };
        let mut s = self.engine_snapshot(&stats, now);
        s.instance.clone_from(&self.instance);
        s.uptime_seconds = self.started.elapsed().as_secs_f64();
        match gatekeeper.map(|g| (g.stats(), g.guardian_bandwidth())) {
            Some((Ok(gs), Ok(bandwidth))) => {
                s.role = self.role.into();
                s.up = true;
                s.active_sessions = gs.active_calls;
                s.registrations = gs.registrations;
                s.total_admissions = gs.admissions;
                s.rejections_by_reason = gs
                    .rejections
                    .by_name()
                    .iter()
                    .map(|(gate, n)| ((*gate).to_owned(), *n))
                    .collect();
                s.audit_records = gs.audit_records;
                s.audit_errors = gs.audit_errors;
                s.guardian_bandwidth_bps = bandwidth;
            }
            // The service thread is gone: say so rather than vanish.
            Some(_) => {
                s.role = self.role.into();
                s.up = false;
            }
            None => {
                s.role = "media".into();
                s.up = false;
            }
        }
        self.metrics.update(&s);
    }

    fn engine_snapshot(&mut self, stats: &EngineStats, now: Instant) -> MetricsSnapshot {
        let c = stats.counters();
        let latency = stats.latency();
        let mut participants = 0;
        let mut shards = Vec::with_capacity(stats.shards.len());
        for (i, report) in stats.shards.iter().enumerate() {
            let Some(r) = report else { continue };
            participants += r.participants.len() as u64;
            let n = r.participants.len().max(1) as f64;
            let depth_ms: f64 = r
                .participants
                .iter()
                .map(|p| f64::from(p.jitter_depth_ms))
                .fold(0.0, |a, b| a + b);
            let jitter_ms = r
                .participants
                .iter()
                .map(|p| p.arrival_jitter_ms)
                .fold(0.0, f64::max);
            shards.push(ShardSnapshot {
                shard: u32::try_from(i).unwrap_or(u32::MAX),
                tick_duration_seconds: buckets(&r.tick_work, &TICK_S_BOUNDS, 1e-6),
                tick_overruns: r.counters.tick_overruns,
                jitter_buffer_depth_seconds: depth_ms / n / 1000.0,
                rtp_jitter_seconds_max: jitter_ms / 1000.0,
                queue_full_drops: r.counters.reports_dropped,
                commands_refused: stats.commands_refused.get(i).copied().unwrap_or(0),
            });
        }
        let (late, duplicate, discarded) = self.drops.update(stats);
        MetricsSnapshot {
            rtp_latency_ms: buckets(&latency, &RTP_LATENCY_MS_BOUNDS, 1e-3),
            engine_added_latency_seconds: buckets(&latency, &ADDED_LATENCY_S_BOUNDS, 1e-6),
            mcu_cpu_percent: self.cpu_percent(now),
            mcu_active_participants: participants,
            shards,
            packets_in: c.rx_datagrams,
            packets_out: c.tx_packets,
            packets_dropped_by_reason: vec![
                ("spoofed_source".into(), c.spoofed_dropped),
                ("wrong_ssrc".into(), c.wrong_ssrc_dropped),
                ("over_bitrate_cap".into(), c.over_cap_dropped),
                ("rejected_rtp".into(), c.rtp_rejected),
                ("malformed_rtcp".into(), c.rtcp_malformed),
                ("receive_error".into(), c.rx_errors),
                ("send_buffer_full".into(), c.tx_would_block),
                ("send_error".into(), c.tx_errors),
                ("jitter_late".into(), late),
                ("jitter_duplicate".into(), duplicate),
                ("jitter_discarded".into(), discarded),
            ],
            ..MetricsSnapshot::default()
        }
    }

    /// Process CPU since the previous call, percent of the CPUs this
    /// process may run on (0 on the first call or without /proc).
    fn cpu_percent(&mut self, now: Instant) -> f64 {
        let Some(ticks) = process_cpu_ticks() else {
            return 0.0;
        };
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let percent = match self.cpu.replace((now, ticks)) {
            Some((then, before)) => {
                let wall = now.duration_since(then).as_secs_f64();
                if wall > 0.0 {
                    ticks.saturating_sub(before) as f64 / USER_HZ / wall / cpus * 100.0
                } else {
                    0.0
                }
            }
            None => 0.0,
        };
        percent.clamp(0.0, 100.0)
    }
}

/// utime + stime of this process from /proc/self/stat.
fn process_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which may itself contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Regroups the engine's 250 µs buckets into `bounds`; `scale` converts
/// microseconds to the bounds' unit (1e-3 for ms, 1e-6 for seconds). The
/// sum is mean × count, the mean being kept to the microsecond.
fn buckets(h: &LatencyHistogram, bounds: &[f64], scale: f64) -> HistogramSnapshot {
    let mut out = HistogramSnapshot::with_bounds(bounds);
    let mut in_buckets = 0;
    for (edge, count) in h.nonzero_buckets() {
        let edge = edge.as_micros() as f64 * scale;
        let i = bounds.partition_point(|b| *b < edge);
        out.counts[i] += count;
        in_buckets += count;
    }
    // Samples past the engine's last bucket (200 ms).
    out.counts[bounds.len()] += h.count().saturating_sub(in_buckets);
    out.sum = h.mean().as_micros() as f64 * scale * h.count() as f64;
    out
}

/// Jitter-buffer drops summed over participants that come and go: each
/// poll adds what every participant gained since the previous poll, so a
/// departure does not make the total go down.
#[derive(Debug, Default)]
struct JitterDrops {
    last: HashMap<u32, [u64; 3]>,
    total: [u64; 3],
}

impl JitterDrops {
    fn update(&mut self, stats: &EngineStats) -> (u64, u64, u64) {
        let mut now = HashMap::with_capacity(self.last.len());
        for p in stats.shards.iter().flatten().flat_map(|r| &r.participants) {
            let j = &p.jitter;
            let v = [
                j.late,
                j.duplicates,
                j.discarded.saturating_sub(j.duplicates),
            ];
            let before = self.last.get(&p.id.0).copied().unwrap_or_default();
            for k in 0..3 {
                self.total[k] += v[k].saturating_sub(before[k]);
            }
            now.insert(p.id.0, v);
        }
        self.last = now;
        (self.total[0], self.total[1], self.total[2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_buckets_regroup_into_prometheus_bounds() {
        let mut h = LatencyHistogram::default();
        for ms in [0.3, 3.0, 3.0, 30.0, 500.0] {
            h.record(Duration::from_secs_f64(ms / 1000.0));
        }
        let b = buckets(&h, &RTP_LATENCY_MS_BOUNDS, 1e-3);
        // 0.3 ms → ≤1; 3 ms → ≤5; 30 ms → ≤40; 500 ms → +Inf.
        assert_eq!(b.counts, vec![1, 0, 2, 0, 0, 1, 0, 0, 0, 0, 1]);
        assert_eq!(b.counts.iter().sum::<u64>(), 5);
    }
}
