//! Prometheus metrics: a [`Metrics`] registry holding the runbook's names
//! (`h323_gatekeeper_up`, `h323_rtp_latency_ms`, …) and the engine's
//! internals, updated from a plain [`MetricsSnapshot`] the `engine` binary
//! fills from its stats, and a small [`http::MetricsServer`] serving
//! `GET /metrics` (default port [`http::DEFAULT_PORT`], 9464).
//!
//! Nothing here is on the media path: the engine copies its counters into a
//! snapshot on its low-priority stats queue and calls [`Metrics::update`];
//! the scrape thread only reads atomics.
//!
//! Naming: prometheus-client appends `_total` to counters, so counters are
//! registered without it. `h323_gatekeeper_total_admissions` is a gauge
//! holding a monotonic count, because the runbook's name has no `_total`
//! suffix and a counter would be exposed as `…_total_admissions_total`.

mod histogram;
pub mod http;
mod snapshot;
mod text;

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, PoisonError};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

pub use histogram::SnapshotHistogram;
pub use snapshot::{HistogramSnapshot, MetricsSnapshot, ShardSnapshot};
pub use text::{openmetrics_to_prometheus, PROMETHEUS_CONTENT_TYPE};

type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// Every metric name the endpoint exposes (as written in the exposition,
/// counters with `_total`, histograms as their base name).
pub const METRIC_NAMES: &[&str] = &[
    "h323_gatekeeper_up",
    "h323_gatekeeper_active_sessions",
    "h323_gatekeeper_total_admissions",
    "h323_gatekeeper_uptime_seconds",
    "h323_gatekeeper_failover_total",
    "h323_gatekeeper_failover_duration_seconds",
    "h323_gatekeeper_rejections_total",
    "h323_rtp_latency_ms",
    "h323_mcu_cpu_percent",
    "h323_mcu_active_participants",
    "h323_guardian_bandwidth_bps",
    "h323_engine_tick_duration_seconds",
    "h323_engine_tick_overruns_total",
    "h323_engine_jitter_buffer_depth_seconds",
    "h323_rtp_jitter_seconds",
    "h323_engine_queue_full_drops_total",
    "h323_engine_packets_in_total",
    "h323_engine_packets_out_total",
    "h323_engine_packets_dropped_total",
    "h323_engine_added_latency_seconds",
    "h323_gatekeeper_registrations",
    "h323_audit_records_total",
    "h323_audit_errors_total",
];

/// The registry and handles to every metric.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    up: Family<Labels, Gauge>,
    active_sessions: Gauge,
    total_admissions: Gauge,
    uptime_seconds: FloatGauge,
    failover: Counter,
    failover_duration_seconds: FloatGauge,
    rejections: Family<Labels, Counter>,
    rtp_latency_ms: SnapshotHistogram,
    mcu_cpu_percent: FloatGauge,
    mcu_active_participants: Gauge,
    guardian_bandwidth_bps: Family<Labels, Gauge>,
    tick_duration_seconds: Family<Labels, SnapshotHistogram>,
    tick_overruns: Family<Labels, Counter>,
    jitter_buffer_depth: Family<Labels, FloatGauge>,
    rtp_jitter_seconds: Family<Labels, FloatGauge>,
    queue_full_drops: Family<Labels, Counter>,
    packets_in: Counter,
    packets_out: Counter,
    packets_dropped: Family<Labels, Counter>,
    engine_added_latency_seconds: SnapshotHistogram,
    registrations: Gauge,
    audit_records: Counter,
    audit_errors: Counter,
    /// Label sets set by the last update, so vanished ones can be removed
    /// without clearing (a scrape between clear and set would miss a series).
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    up: Option<Labels>,
    guardians: HashSet<String>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Advances a counter to an absolute value read from the engine's stats. A
/// smaller value (the source restarted) is ignored: counters only go up and
/// Prometheus' `rate()` handles the jump when this process restarts too.
fn set_counter(counter: &Counter, value: u64) {
    let current = counter.get();
    if value > current {
        counter.inc_by(value - current);
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Metrics {
    /// Registers every metric, at zero.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let m = Self {
            registry: Registry::default(),
            up: Family::default(),
            active_sessions: Gauge::default(),
            total_admissions: Gauge::default(),
            uptime_seconds: FloatGauge::default(),
            failover: Counter::default(),
            failover_duration_seconds: FloatGauge::default(),
            rejections: Family::default(),
            rtp_latency_ms: SnapshotHistogram::default(),
            mcu_cpu_percent: FloatGauge::default(),
            mcu_active_participants: Gauge::default(),
            guardian_bandwidth_bps: Family::default(),
            tick_duration_seconds: Family::default(),
            tick_overruns: Family::default(),
            jitter_buffer_depth: Family::default(),
            rtp_jitter_seconds: Family::default(),
            queue_full_drops: Family::default(),
            packets_in: Counter::default(),
            packets_out: Counter::default(),
            packets_dropped: Family::default(),
            engine_added_latency_seconds: SnapshotHistogram::default(),
            registrations: Gauge::default(),
            audit_records: Counter::default(),
            audit_errors: Counter::default(),
            seen: Mutex::default(),
        };
        let r = &mut registry;
        r.register(
            "h323_gatekeeper_up",
            "1 while this gatekeeper serves in the given role",
            m.up.clone(),
        );
        r.register(
            "h323_gatekeeper_active_sessions",
            "Calls currently admitted",
            m.active_sessions.clone(),
        );
        r.register(
            "h323_gatekeeper_total_admissions",
            "Admissions (ACF) since start; monotonic",
            m.total_admissions.clone(),
        );
        r.register(
            "h323_gatekeeper_uptime_seconds",
            "Seconds since the gatekeeper started",
            m.uptime_seconds.clone(),
        );
        r.register(
            "h323_gatekeeper_failover",
            "Failovers (promotions of a standby)",
            m.failover.clone(),
        );
        r.register(
            "h323_gatekeeper_failover_duration_seconds",
            "Duration of the last failover: primary death to first ACF",
            m.failover_duration_seconds.clone(),
        );
        r.register(
            "h323_gatekeeper_rejections",
            "Rejected RAS requests by reason",
            m.rejections.clone(),
        );
        r.register(
            "h323_rtp_latency_ms",
            "RTP one-way latency, milliseconds",
            m.rtp_latency_ms.clone(),
        );
        r.register(
            "h323_mcu_cpu_percent",
            "CPU used by the media engine, percent of the CPUs it may run on (0-100)",
            m.mcu_cpu_percent.clone(),
        );
        r.register(
            "h323_mcu_active_participants",
            "Participants in conferences",
            m.mcu_active_participants.clone(),
        );
        r.register(
            "h323_guardian_bandwidth_bps",
            "Bandwidth granted per guardian, bit/s",
            m.guardian_bandwidth_bps.clone(),
        );
        r.register(
            "h323_engine_tick_duration_seconds",
            "Mixing tick duration per shard, seconds",
            m.tick_duration_seconds.clone(),
        );
        r.register(
            "h323_engine_tick_overruns",
            "Ticks that overran their period, per shard",
            m.tick_overruns.clone(),
        );
        r.register(
            "h323_engine_jitter_buffer_depth_seconds",
            "Jitter-buffer depth per shard (mean over its participants), seconds",
            m.jitter_buffer_depth.clone(),
        );
        r.register(
            "h323_rtp_jitter_seconds",
            "Worst RTP interarrival jitter (RFC 3550) among the shard's participants, seconds",
            m.rtp_jitter_seconds.clone(),
        );
        r.register(
            "h323_engine_queue_full_drops",
            "Items a full bounded queue did not take, per shard and queue (report: stats dropped, command: Engine API call refused)",
            m.queue_full_drops.clone(),
        );
        r.register(
            "h323_engine_packets_in",
            "RTP packets received",
            m.packets_in.clone(),
        );
        r.register(
            "h323_engine_packets_out",
            "RTP packets sent",
            m.packets_out.clone(),
        );
        r.register(
            "h323_engine_packets_dropped",
            "RTP packets dropped, by reason",
            m.packets_dropped.clone(),
        );
        r.register(
            "h323_engine_added_latency_seconds",
            "Latency the engine adds (jitter buffer + mixing), seconds",
            m.engine_added_latency_seconds.clone(),
        );
        r.register(
            "h323_gatekeeper_registrations",
            "Live guardian registrations",
            m.registrations.clone(),
        );
        r.register(
            "h323_audit_records",
            "Audit records written",
            m.audit_records.clone(),
        );
        r.register(
            "h323_audit_errors",
            "Audit writes that failed; the reply concerned was withheld",
            m.audit_errors.clone(),
        );
        Self { registry, ..m }
    }

    /// HA hook: a failover completed in `duration` (primary death to first
    /// ACF). Increments `h323_gatekeeper_failover_total` and sets
    /// `h323_gatekeeper_failover_duration_seconds`.
    pub fn record_failover(&self, duration: std::time::Duration) {
        self.failover.inc();
        self.failover_duration_seconds.set(duration.as_secs_f64());
    }

    /// Copies a snapshot into the metrics. Label sets that vanished from the
    /// snapshot (departed guardians, roles left) are removed.
    pub fn update(&self, s: &MetricsSnapshot) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let up_labels = vec![("instance", s.instance.clone()), ("role", s.role.clone())];
        self.up.get_or_create(&up_labels).set(i64::from(s.up));
        if let Some(old) = seen.up.replace(up_labels.clone()) {
            if old != up_labels {
                self.up.remove(&old);
            }
        }
        self.active_sessions.set(to_i64(s.active_sessions));
        self.total_admissions.set(to_i64(s.total_admissions));
        self.uptime_seconds.set(s.uptime_seconds);
        self.registrations.set(to_i64(s.registrations));
        set_counter(&self.audit_records, s.audit_records);
        set_counter(&self.audit_errors, s.audit_errors);
        for (reason, n) in &s.rejections_by_reason {
            set_counter(
                &self
                    .rejections
                    .get_or_create(&vec![("reason", reason.clone())]),
                *n,
            );
        }
        self.rtp_latency_ms.set(&s.rtp_latency_ms);
        self.mcu_cpu_percent.set(s.mcu_cpu_percent);
        self.mcu_active_participants
            .set(to_i64(s.mcu_active_participants));
        let mut guardians = HashSet::with_capacity(s.guardian_bandwidth_bps.len());
        for (terminal_id, bps) in &s.guardian_bandwidth_bps {
            self.guardian_bandwidth_bps
                .get_or_create(&vec![("terminal_id", terminal_id.clone())])
                .set(to_i64(*bps));
            guardians.insert(terminal_id.clone());
        }
        for gone in seen.guardians.difference(&guardians) {
            self.guardian_bandwidth_bps
                .remove(&vec![("terminal_id", gone.clone())]);
        }
        seen.guardians = guardians;
        for shard in &s.shards {
            let labels = vec![("shard", shard.shard.to_string())];
            self.tick_duration_seconds
                .get_or_create(&labels)
                .set(&shard.tick_duration_seconds);
            set_counter(
                &self.tick_overruns.get_or_create(&labels),
                shard.tick_overruns,
            );
            self.jitter_buffer_depth
                .get_or_create(&labels)
                .set(shard.jitter_buffer_depth_seconds);
            self.rtp_jitter_seconds
                .get_or_create(&labels)
                .set(shard.rtp_jitter_seconds_max);
            for (queue, n) in [
                ("report", shard.queue_full_drops),
                ("command", shard.commands_refused),
            ] {
                let mut labels = labels.clone();
                labels.push(("queue", queue.to_owned()));
                set_counter(&self.queue_full_drops.get_or_create(&labels), n);
            }
        }
        set_counter(&self.packets_in, s.packets_in);
        set_counter(&self.packets_out, s.packets_out);
        for (reason, n) in &s.packets_dropped_by_reason {
            set_counter(
                &self
                    .packets_dropped
                    .get_or_create(&vec![("reason", reason.clone())]),
                *n,
            );
        }
        self.engine_added_latency_seconds
            .set(&s.engine_added_latency_seconds);
    }

    /// The OpenMetrics text exposition (ends with `# EOF`).
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail; an encoder error would be a bug in
        // a metric, and an empty scrape is the least harmful answer to it.
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
