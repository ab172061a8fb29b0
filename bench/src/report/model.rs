//! The run report: what one `engine bench` run measured, as written to
//! `--json PATH` and read back by `engine slo-report`.
//!
//! Every key the Output section lists is always present; a figure
//! that was not measured is JSON `null` rather than a missing key, so a
//! reader can tell "not measured" from "schema changed". Optional sections
//! (`series`, `sweep`, `failover`, `guardians_per_core`) are left out when
//! the run did not produce them. All latencies are milliseconds, all shares
//! percent unless the name says `fraction`.

use serde::{Deserialize, Serialize};

use super::histogram::HistogramSnapshot;
use super::machine::Machine;
use super::slo::SloResult;
use super::stats::Summary;
use crate::impair::ImpairmentConfig;

/// Version of this JSON layout; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// One run of `engine bench` (or one capacity sweep).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Layout version ([`SCHEMA_VERSION`]).
    #[serde(default)]
    pub schema_version: SchemaVersion,
    /// Short name for the run in reports; `engine slo-report` uses the file
    /// name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// When the measured phase began, RFC 3339 (e.g. `2025-01-31T12:00:00Z`).
    pub started_at: String,
    /// Simulated guardians (terminals).
    pub guardians: u32,
    /// Conference rooms they were split into.
    pub rooms: u32,
    /// Length of the measured phase (warm-up excluded), in seconds.
    pub duration_s: f64,
    /// Codec and encoder settings on both sides.
    pub codec: Codec,
    /// Network impairments the generator applied.
    pub impairment: Impairment,
    /// RAS admission latency.
    pub admission_ms: Admission,
    /// Mouth-to-ear latency through the engine, from injected markers.
    pub mouth_to_ear_ms: Summary,
    /// Latency the engine itself adds (receive to send), from its histogram.
    pub engine_added_ms: Summary,
    /// RFC 3550 interarrival jitter of the mixes the guardians received:
    /// `avg` over all receive streams, `p95` over the per-second estimates.
    pub jitter_ms: Summary,
    /// Mix packets the guardians expected but did not receive, in percent.
    pub loss_pct: Option<f64>,
    /// Output frames the engine sent after their tick deadline, in percent.
    pub late_frames_pct: Option<f64>,
    /// Calls that ended without being asked to.
    pub call_drops: Option<u64>,
    /// Calls attempted and established (for the call-success check).
    #[serde(default)]
    pub calls: Option<Calls>,
    /// CPU spent by the engine's threads (and, apart, the generator's).
    pub cpu: Cpu,
    /// Peak resident memory of the engine, in MiB.
    pub rss_mib: Option<f64>,
    /// With `--target`: the remote engine's own memory, from its stats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_memory: Option<EngineMemory>,
    /// The SLO verdict.
    pub slo: SloResult,
    /// Failover measurement, when the HA pair was exercised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<Failover>,
    /// Time series and distributions for the report's plots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Series>,
    /// Steps of a capacity sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
    /// Largest passing guardian count divided by the media cores it ran on
    /// (sweeps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardians_per_core: Option<f64>,
    /// The machine that ran the test.
    pub machine: Machine,
    /// Free-form remarks, e.g. "media provisioned through the engine API
    /// after ACF".
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A remote engine's resident memory, read over its media link at the end
/// of the measured phase (`engine bench --target`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineMemory {
    /// Its RSS then, MiB.
    pub rss_mib: f64,
    /// Its RSS when the bench connected, before adding its guardians, MiB.
    pub rss_before_mib: f64,
    /// Participants the bench added (the engine's count then and before).
    pub participants: u64,
    /// `(rss - rss_before) / participants`, KiB: what one guardian costs
    /// the engine. On an engine that held more participants earlier, heap
    /// they freed is reused and hides growth: start it fresh for the run.
    pub kib_per_participant: Option<f64>,
}

impl EngineMemory {
    /// From the engine's RSS (KiB) before and after adding `participants`,
    /// when both are known.
    pub fn from_kib(
        rss_kib: Option<u64>,
        rss_before_kib: Option<u64>,
        participants: u64,
    ) -> Option<Self> {
        let (rss, before) = (rss_kib? as f64, rss_before_kib? as f64);
        Some(Self {
            rss_mib: rss / 1024.0,
            rss_before_mib: before / 1024.0,
            participants,
            kib_per_participant: (participants > 0).then(|| (rss - before) / participants as f64),
        })
    }

    /// One line for the reports: what a guardian costs the engine.
    pub fn describe(&self) -> String {
        let per = self
            .kib_per_participant
            .map_or_else(|| "—".to_owned(), |k| format!("{k:.1} KiB"));
        format!(
            "{per} per guardian ({} added: RSS {:.1} → {:.1} MiB)",
            self.participants, self.rss_before_mib, self.rss_mib
        )
    }
}

/// The JSON layout version; defaults to [`SCHEMA_VERSION`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SchemaVersion(pub u32);

impl Default for SchemaVersion {
    fn default() -> Self {
        Self(SCHEMA_VERSION)
    }
}

impl RunReport {
    /// The JSON text for `--json PATH` (pretty-printed, newline-terminated).
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The name this run goes by in reports.
    pub fn display_label(&self, index: usize) -> String {
        match &self.label {
            Some(l) if !l.trim().is_empty() => l.trim().to_string(),
            _ => format!("run {} · {} guardians", index + 1, self.guardians),
        }
    }
}

/// Codec and encoder settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Codec {
    /// `opus`, `pcmu`, `pcma` or `mixed`.
    pub name: String,
    /// RTP clock rate, in Hz.
    #[serde(default)]
    pub clock_rate_hz: u32,
    /// Packetisation interval, in milliseconds.
    #[serde(default)]
    pub ptime_ms: u32,
    /// The engine's encoder (the mixes).
    pub engine: EncoderSettings,
    /// The generator's encoder (the guardians' voices).
    pub generator: EncoderSettings,
}

/// One encoder's settings; Opus-only fields are `null` for G.711.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderSettings {
    /// Opus application: `voip`, `audio` or `lowdelay`.
    pub application: Option<String>,
    /// Target bitrate, in bits per second.
    pub bitrate_bps: Option<u32>,
    /// Opus complexity 0..=10.
    pub complexity: Option<u8>,
    /// In-band forward error correction.
    #[serde(default)]
    pub fec: bool,
    /// Discontinuous transmission.
    #[serde(default)]
    pub dtx: bool,
}

/// The seeded impairments, as the report states them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Impairment {
    /// Share of packets dropped, in percent.
    pub loss_pct: f64,
    /// Extra one-way delay drawn from 0..=jitter_ms.
    pub jitter_ms: f64,
    /// Share of packets reordered, in percent.
    pub reorder_pct: f64,
    /// Mean length of a loss burst, in packets (1 = independent losses).
    pub burst_loss: f64,
    /// Seed of the impairment choices.
    pub seed: u64,
}

impl Default for Impairment {
    fn default() -> Self {
        Self::from(&ImpairmentConfig::default())
    }
}

impl From<&ImpairmentConfig> for Impairment {
    fn from(c: &ImpairmentConfig) -> Self {
        Self {
            loss_pct: c.loss_pct,
            jitter_ms: c.jitter_ms,
            reorder_pct: c.reorder_pct,
            burst_loss: c.burst_len_mean,
            seed: c.seed,
        }
    }
}

impl Impairment {
    /// True when packets passed untouched.
    pub fn is_clean(&self) -> bool {
        self.loss_pct <= 0.0 && self.jitter_ms <= 0.0 && self.reorder_pct <= 0.0
    }

    /// "clean network" or "loss 1 % (bursts of 3), jitter 20 ms, …".
    pub fn describe(&self) -> String {
        if self.is_clean() {
            return format!("clean network (seed {})", self.seed);
        }
        let mut parts = Vec::new();
        if self.loss_pct > 0.0 {
            if self.burst_loss > 1.0 {
                parts.push(format!(
                    "loss {} % in bursts of {} packets",
                    self.loss_pct, self.burst_loss
                ));
            } else {
                parts.push(format!("loss {} %", self.loss_pct));
            }
        }
        if self.jitter_ms > 0.0 {
            parts.push(format!("jitter 0–{} ms", self.jitter_ms));
        }
        if self.reorder_pct > 0.0 {
            parts.push(format!("reorder {} %", self.reorder_pct));
        }
        format!("{} (seed {})", parts.join(", "), self.seed)
    }
}

/// Admission latency. The top-level figures are per guardian, from its GRQ
/// leaving to its ACF arriving (the whole admission a terminal waits for);
/// `grq`, `rrq` and `arq` are each request to its confirm.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Admission {
    /// Per-guardian admission, GRQ sent to ACF received.
    #[serde(flatten)]
    pub total: Summary,
    /// GRQ → GCF.
    #[serde(default)]
    pub grq: Summary,
    /// RRQ → RCF.
    #[serde(default)]
    pub rrq: Summary,
    /// ARQ → ACF.
    #[serde(default)]
    pub arq: Summary,
}

/// Calls attempted and established.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calls {
    /// Calls the guardians tried to set up.
    pub attempted: u64,
    /// Calls admitted with media flowing both ways.
    pub succeeded: u64,
}

impl Calls {
    /// Share of attempts that succeeded, in percent (`None` with no attempt).
    pub fn success_pct(&self) -> Option<f64> {
        (self.attempted > 0).then(|| self.succeeded as f64 * 100.0 / self.attempted as f64)
    }
}

/// CPU use.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cpu {
    /// Engine threads' CPU time over wall time, divided by the media shards:
    /// the average load of one media core (1.0 = saturated).
    pub engine_core_fraction: Option<f64>,
    /// Engine CPU time per guardian-second, in microseconds.
    pub us_per_guardian_s: Option<f64>,
    /// Each media shard's load.
    #[serde(default)]
    pub shards: Vec<ShardCpu>,
    /// The generator's own CPU time over wall time, in cores (to show it
    /// measured the engine, not itself).
    #[serde(default)]
    pub generator_core_fraction: Option<f64>,
}

impl Cpu {
    /// The busiest media core's load: the worst shard when shards are
    /// listed, else the average.
    pub fn busiest_core_fraction(&self) -> Option<f64> {
        self.shards
            .iter()
            .map(|s| s.core_fraction)
            .filter(|f| f.is_finite())
            .reduce(f64::max)
            .or(self.engine_core_fraction)
    }
}

/// One media shard's CPU.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardCpu {
    /// Shard index.
    pub shard: u32,
    /// CPU it was pinned to.
    #[serde(default)]
    pub cpu: Option<u32>,
    /// CPU time over wall time.
    pub core_fraction: f64,
}

/// Failover of the HA pair.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Failover {
    /// From the primary's failure to media flowing through the standby, in
    /// seconds.
    pub duration_s: f64,
    /// Audio the guardians did not receive meanwhile, in milliseconds.
    pub media_lost_ms: f64,
    /// Mix packets the guardians did not receive, summed over guardians
    /// (`engine bench --failover` counts the whole measured run, an upper
    /// bound on what the failover caused).
    #[serde(default)]
    pub media_lost: u64,
    /// Calls that did not survive.
    pub calls_dropped: u64,
    /// Registrations and calls the standby carried on.
    pub sessions_preserved: u64,
    /// Sessions there were before the failover.
    #[serde(default)]
    pub sessions: u64,
}

/// Time series and distributions behind the plots.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// One sample per second of the measured phase.
    #[serde(default)]
    pub per_second: Vec<SecondSample>,
    /// One entry per guardian that measured latency.
    #[serde(default)]
    pub per_guardian: Vec<GuardianSample>,
    /// Mouth-to-ear latency distribution.
    #[serde(default)]
    pub mouth_to_ear_hist: Option<HistogramSnapshot>,
    /// Engine-added latency distribution.
    #[serde(default)]
    pub engine_added_hist: Option<HistogramSnapshot>,
}

/// Figures for one second of the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SecondSample {
    /// Seconds since the measured phase began (end of the interval).
    pub t_s: f64,
    /// Guardians admitted and streaming.
    #[serde(default)]
    pub guardians_up: u32,
    /// Mean interarrival jitter over receive streams.
    #[serde(default)]
    pub jitter_avg_ms: Option<f64>,
    /// 95th percentile of interarrival jitter over receive streams.
    #[serde(default)]
    pub jitter_p95_ms: Option<f64>,
    /// Mix packets lost in this second, in percent.
    #[serde(default)]
    pub loss_pct: Option<f64>,
    /// Average media-core load of the engine.
    #[serde(default)]
    pub engine_core_fraction: Option<f64>,
    /// The generator's load, in cores.
    #[serde(default)]
    pub generator_core_fraction: Option<f64>,
    /// Mouth-to-ear P95 of markers detected in this second.
    #[serde(default)]
    pub mouth_to_ear_p95_ms: Option<f64>,
}

/// One guardian's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GuardianSample {
    /// Guardian index.
    pub guardian: u32,
    /// Its room.
    #[serde(default)]
    pub room: u32,
    /// Mouth-to-ear latency of markers it heard.
    pub mouth_to_ear_ms: Summary,
    /// Its mean receive jitter.
    #[serde(default)]
    pub jitter_ms: Option<f64>,
    /// Its receive loss, in percent.
    #[serde(default)]
    pub loss_pct: Option<f64>,
}

/// A capacity sweep.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// Every step run, in order.
    pub steps: Vec<SweepStep>,
    /// The largest guardian count that passed every check.
    pub largest_passing: Option<u32>,
    /// The first step that failed, if any.
    pub broke_at: Option<BrokeAt>,
    /// Media cores the engine ran on during the sweep.
    #[serde(default)]
    pub media_cores: Option<u32>,
}

/// One step of a sweep.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepStep {
    /// Guardians in this step.
    pub guardians: u32,
    /// Every check passed.
    pub pass: bool,
    /// Mouth-to-ear P95.
    #[serde(default)]
    pub mouth_to_ear_p95_ms: Option<f64>,
    /// Jitter P95.
    #[serde(default)]
    pub jitter_p95_ms: Option<f64>,
    /// Loss, in percent.
    #[serde(default)]
    pub loss_pct: Option<f64>,
    /// Busiest media core's load.
    #[serde(default)]
    pub engine_core_fraction: Option<f64>,
    /// Engine CPU per guardian-second, in microseconds.
    #[serde(default)]
    pub us_per_guardian_s: Option<f64>,
    /// Names of the checks that failed.
    #[serde(default)]
    pub failed: Vec<String>,
}

/// Where a sweep broke.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BrokeAt {
    /// Guardian count of the first failing step.
    pub guardians: u32,
    /// The checks it failed.
    pub failed_checks: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::EngineMemory;

    #[test]
    fn engine_memory_per_participant_is_the_growth_since_start() {
        let m = EngineMemory::from_kib(Some(20_480), Some(17_408), 24).unwrap();
        assert_eq!(m.kib_per_participant, Some(128.0));
        assert_eq!((m.rss_mib, m.rss_before_mib), (20.0, 17.0));
        // An engine that does not report its RSS, or holds nobody.
        assert_eq!(EngineMemory::from_kib(None, Some(1), 3), None);
        assert_eq!(EngineMemory::from_kib(Some(9), None, 3), None);
        let idle = EngineMemory::from_kib(Some(2048), Some(1024), 0).unwrap();
        assert_eq!(idle.kib_per_participant, None);
    }
}
