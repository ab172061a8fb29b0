//! The plain values the engine binary copies out of its stats.

/// A histogram as the engine keeps it: bucket upper bounds and per-bucket
/// (not cumulative) counts, with one extra count for the `+Inf` bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// Upper bounds, ascending.
    pub bounds: Vec<f64>,
    /// Observations per bucket: `bounds.len() + 1` entries, the last for
    /// observations above every bound.
    pub counts: Vec<u64>,
    /// Sum of all observations.
    pub sum: f64,
}

impl HistogramSnapshot {
    /// Empty buckets at `bounds`.
    #[must_use]
    pub fn with_bounds(bounds: &[f64]) -> Self {
        Self {
            bounds: bounds.to_vec(),
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    /// Records one observation (for tests and simple producers).
    pub fn observe(&mut self, value: f64) {
        let i = self.bounds.partition_point(|b| *b < value);
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.sum += value;
    }
}

/// One media shard's internals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardSnapshot {
    /// Shard index.
    pub shard: u32,
    /// Mixing tick durations, seconds.
    pub tick_duration_seconds: HistogramSnapshot,
    /// Ticks that overran their period since start.
    pub tick_overruns: u64,
    /// Jitter-buffer depth (mean over the shard's participants), seconds.
    pub jitter_buffer_depth_seconds: f64,
    /// Worst interarrival jitter among the shard's participants, seconds.
    pub rtp_jitter_seconds_max: f64,
    /// Stats reports dropped on the full shard → control queue since start
    /// (`queue="report"`).
    pub queue_full_drops: u64,
    /// Engine API calls refused on the full control → shard command queue
    /// since start (`queue="command"`).
    pub commands_refused: u64,
}

/// Everything `/metrics` shows, as plain values. Counts are totals since
/// start (the registry turns them into counters); the rest are current
/// values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    /// The `instance` label of `h323_gatekeeper_up` (host or node name).
    pub instance: String,
    /// The `role` label: `primary` (serving RAS), `standby` (HA), or
    /// `media` (no gatekeeper in this process).
    pub role: String,
    /// Whether this gatekeeper serves RAS.
    pub up: bool,
    /// Calls currently admitted.
    pub active_sessions: u64,
    /// ACFs sent since start.
    pub total_admissions: u64,
    /// Seconds since start.
    pub uptime_seconds: f64,
    /// Live registrations.
    pub registrations: u64,
    /// Audit records written since start.
    pub audit_records: u64,
    /// Audit writes that failed since start.
    pub audit_errors: u64,
    /// Rejected requests by reason (`quota`, `capacity`, …), totals.
    pub rejections_by_reason: Vec<(String, u64)>,
    /// RTP one-way latency, milliseconds.
    pub rtp_latency_ms: HistogramSnapshot,
    /// Media engine CPU, percent of the CPUs it may run on (0–100).
    pub mcu_cpu_percent: f64,
    /// Participants in conferences.
    pub mcu_active_participants: u64,
    /// Granted bandwidth per guardian (terminal_id, bit/s).
    pub guardian_bandwidth_bps: Vec<(String, u64)>,
    /// Per-shard internals.
    pub shards: Vec<ShardSnapshot>,
    /// RTP packets received since start.
    pub packets_in: u64,
    /// RTP packets sent since start.
    pub packets_out: u64,
    /// RTP packets dropped by reason (`late`, `duplicate`, `malformed`, …).
    pub packets_dropped_by_reason: Vec<(String, u64)>,
    /// Latency the engine adds, seconds.
    pub engine_added_latency_seconds: HistogramSnapshot,
}
