//! SLO targets (`config/slo.toml`) and their evaluation against a run.
//!
//! Every target becomes one check. Continuous figures must be strictly below
//! (or, for call success, strictly above) their target, as the SLA's "<" and
//! ">" say: a measurement equal to the target fails. Call drops must be at
//! most `drops_max` (0 by default). A check whose figure was not measured
//! (failover before the HA pair exists, latency when no marker was detected)
//! is reported as "not measured" with `pass: null` and does not fail the
//! run: the table shows the gap plainly, and a run is not failed for a
//! capability the build under test does not have yet. A check that must be
//! measured for the run to count belongs in the generator, which can refuse
//! to finish without it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::model::RunReport;

/// Exit code for a run that completed but failed an SLO check (distinct from
/// 1 for errors and 2 for bad arguments, so CI can tell them apart).
pub const SLO_FAILED_EXIT_CODE: i32 = 3;

/// All SLO targets. Missing tables and fields take the defaults, which are
/// the deployment documents' SLA and equal `config/slo.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SloTargets {
    /// Mouth-to-ear latency.
    pub latency: LatencyTargets,
    /// Interarrival jitter.
    pub jitter: JitterTargets,
    /// Packet loss.
    pub loss: LossTargets,
    /// RAS admission.
    pub admission: AdmissionTargets,
    /// Call success and drops.
    pub calls: CallTargets,
    /// Engine CPU.
    pub cpu: CpuTargets,
    /// HA failover.
    pub failover: FailoverTargets,
}

/// Mouth-to-ear latency targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyTargets {
    /// Average must be below this.
    pub avg_ms_max: f64,
    /// P95 must be below this.
    pub p95_ms_max: f64,
}

impl Default for LatencyTargets {
    fn default() -> Self {
        Self {
            avg_ms_max: 50.0,
            p95_ms_max: 150.0,
        }
    }
}

/// Interarrival jitter targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JitterTargets {
    /// Average must be below this.
    pub avg_ms_max: f64,
    /// P95 must be below this.
    pub p95_ms_max: f64,
}

impl Default for JitterTargets {
    fn default() -> Self {
        Self {
            avg_ms_max: 10.0,
            p95_ms_max: 20.0,
        }
    }
}

/// Packet loss target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossTargets {
    /// Loss must be below this, in percent.
    pub pct_max: f64,
}

impl Default for LossTargets {
    fn default() -> Self {
        Self { pct_max: 0.5 }
    }
}

/// Admission target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdmissionTargets {
    /// Every guardian's GRQ-to-ACF time must be below this.
    pub per_guardian_ms_max: f64,
}

impl Default for AdmissionTargets {
    fn default() -> Self {
        Self {
            per_guardian_ms_max: 200.0,
        }
    }
}

/// Call targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallTargets {
    /// Call success must be above this, in percent.
    pub success_pct_min: f64,
    /// Call drops must be at most this.
    pub drops_max: u64,
}

impl Default for CallTargets {
    fn default() -> Self {
        Self {
            success_pct_min: 99.0,
            drops_max: 0,
        }
    }
}

/// Engine CPU target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CpuTargets {
    /// The busiest media core's load must be below this, in percent.
    pub engine_pct_max: f64,
}

impl Default for CpuTargets {
    fn default() -> Self {
        Self {
            engine_pct_max: 75.0,
        }
    }
}

/// Failover target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailoverTargets {
    /// Failover must complete in less than this, in seconds.
    pub duration_s_max: f64,
}

impl Default for FailoverTargets {
    fn default() -> Self {
        Self {
            duration_s_max: 5.0,
        }
    }
}

/// Why the SLO file was refused. Every variant names the file; parse and
/// range errors also name the line and the field.
#[derive(Debug, thiserror::Error)]
pub enum SloConfigError {
    /// The file cannot be read.
    #[error("cannot read SLO targets {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TOML does not parse, has an unknown field or a value of the wrong
    /// type.
    #[error("{path}:{line}:{column}: {}{message}", field_prefix(.field))]
    Parse {
        /// The path given.
        path: String,
        /// 1-based line (0 when the parser gave no position).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// The TOML path of the offending field, e.g. `latency.p95_ms_max`.
        field: Option<String>,
        /// The parser's message.
        message: String,
    },
    /// A value parses but is out of range.
    #[error("{path}:{line}: field `{field}`: {why}")]
    Invalid {
        /// The path given.
        path: String,
        /// 1-based line of the field (0 when it came from the defaults).
        line: usize,
        /// The TOML path of the field.
        field: &'static str,
        /// What is wrong and what is allowed.
        why: String,
    },
}

fn field_prefix(field: &Option<String>) -> String {
    field
        .as_ref()
        .map(|f| format!("field `{f}`: "))
        .unwrap_or_default()
}

impl SloTargets {
    /// The targets in `path`, or the built-in defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Self, SloConfigError> {
        match path {
            Some(p) => Self::from_file(p),
            None => Ok(Self::default()),
        }
    }

    /// Reads and validates a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, SloConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SloConfigError::Read {
            path: name.clone(),
            source,
        })?;
        Self::from_toml(&text, &name)
    }

    /// Parses and validates TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, SloConfigError> {
        let targets: Self = toml::from_str(text).map_err(|e| {
            let (line, column, field) = match e.span() {
                Some(span) => locate_span(text, span.start),
                None => (0, 0, None),
            };
            SloConfigError::Parse {
                path: origin.to_string(),
                line,
                column,
                field,
                message: e.message().trim().to_string(),
            }
        })?;
        targets.validate(text, origin)?;
        Ok(targets)
    }

    fn validate(&self, text: &str, origin: &str) -> Result<(), SloConfigError> {
        let limits: [(&'static str, f64, f64); 9] = [
            ("latency.avg_ms_max", self.latency.avg_ms_max, 1e6),
            ("latency.p95_ms_max", self.latency.p95_ms_max, 1e6),
            ("jitter.avg_ms_max", self.jitter.avg_ms_max, 1e6),
            ("jitter.p95_ms_max", self.jitter.p95_ms_max, 1e6),
            ("loss.pct_max", self.loss.pct_max, 100.0),
            (
                "admission.per_guardian_ms_max",
                self.admission.per_guardian_ms_max,
                1e6,
            ),
            ("calls.success_pct_min", self.calls.success_pct_min, 100.0),
            (
                "cpu.engine_pct_max",
                self.cpu.engine_pct_max,
                100.0 * 1024.0,
            ),
            ("failover.duration_s_max", self.failover.duration_s_max, 1e6),
        ];
        for (field, value, max) in limits {
            if !(value.is_finite() && (0.0..=max).contains(&value)) {
                let (table, key) = field.split_once('.').unwrap_or(("", field));
                return Err(SloConfigError::Invalid {
                    path: origin.to_string(),
                    line: find_key_line(text, table, key).unwrap_or(0),
                    field,
                    why: format!("{value} is out of range; allowed 0..={max}"),
                });
            }
        }
        Ok(())
    }
}

/// Line, column (both 1-based) and the dotted TOML field at byte `offset`.
fn locate_span(text: &str, offset: usize) -> (usize, usize, Option<String>) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let this_line = text[line_start..].lines().next().unwrap_or("");
    let mut table = String::new();
    for l in before[..line_start].lines() {
        if let Some(h) = table_header(l) {
            table = h;
        }
    }
    let field = if let Some(h) = table_header(this_line) {
        Some(h)
    } else {
        key_of(this_line).map(|k| {
            if table.is_empty() {
                k
            } else {
                format!("{table}.{k}")
            }
        })
    };
    (line, column, field)
}

fn table_header(line: &str) -> Option<String> {
    let t = strip_comment(line).trim();
    let inner = t.strip_prefix('[')?.strip_suffix(']')?;
    Some(
        inner
            .trim_matches(|c| c == '[' || c == ']')
            .trim()
            .to_string(),
    )
}

fn key_of(line: &str) -> Option<String> {
    let (key, _) = strip_comment(line).split_once('=')?;
    let key = key.trim().trim_matches('"').trim();
    (!key.is_empty()).then(|| key.to_string())
}

fn strip_comment(line: &str) -> &str {
    // Good enough for locating keys: SLO values hold no '#' in strings.
    line.split('#').next().unwrap_or("")
}

/// The 1-based line of `key` in `[table]`, if the text sets it.
fn find_key_line(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = table_header(line) {
            current = h;
        } else if current == table && key_of(line).as_deref() == Some(key) {
            return Some(i + 1);
        }
    }
    None
}

/// The figures the checks compare, each `None` when not measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Measured {
    /// Mouth-to-ear average, ms.
    pub latency_avg_ms: Option<f64>,
    /// Mouth-to-ear P95, ms.
    pub latency_p95_ms: Option<f64>,
    /// Jitter average, ms.
    pub jitter_avg_ms: Option<f64>,
    /// Jitter P95, ms.
    pub jitter_p95_ms: Option<f64>,
    /// Loss, percent.
    pub loss_pct: Option<f64>,
    /// The slowest guardian's admission, ms.
    pub admission_max_ms: Option<f64>,
    /// Call success, percent.
    pub call_success_pct: Option<f64>,
    /// Call drops.
    pub call_drops: Option<u64>,
    /// The busiest media core's load, percent.
    pub engine_cpu_pct: Option<f64>,
    /// Failover time, s.
    pub failover_s: Option<f64>,
}

impl Measured {
    /// The figures of a run report.
    pub fn from_report(r: &RunReport) -> Self {
        Self {
            latency_avg_ms: r.mouth_to_ear_ms.avg,
            latency_p95_ms: r.mouth_to_ear_ms.p95,
            jitter_avg_ms: r.jitter_ms.avg,
            jitter_p95_ms: r.jitter_ms.p95,
            loss_pct: r.loss_pct,
            // "Per guardian": the slowest one must make it.
            admission_max_ms: r.admission_ms.total.max.or(r.admission_ms.total.p99),
            call_success_pct: r.calls.and_then(|c| c.success_pct()),
            call_drops: r.call_drops,
            engine_cpu_pct: r.cpu.busiest_core_fraction().map(|f| f * 100.0),
            failover_s: r.failover.as_ref().map(|f| f.duration_s),
        }
    }
}

/// One check's outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Stable identifier, e.g. `latency_p95` (see [`check_title`]).
    pub name: String,
    /// The target as text, e.g. `< 150 ms`.
    pub target: String,
    /// The target's number in `unit` (the figure `target` compares with).
    #[serde(default)]
    pub limit: f64,
    /// The measured figure in `unit`; `null` when not measured.
    pub measured: Option<f64>,
    /// Unit of `measured`: `ms`, `%`, `s` or empty for counts.
    #[serde(default)]
    pub unit: String,
    /// `true`/`false`; `null` when not measured (does not fail the run).
    pub pass: Option<bool>,
}

impl Check {
    /// The measurement as text: "23.4 ms", "0 drops" or "not measured".
    pub fn measured_text(&self) -> String {
        match self.measured {
            Some(v) => with_unit(&fmt_value(v), &self.unit),
            None => "not measured".into(),
        }
    }

    /// "pass", "FAIL" or "not measured".
    pub fn verdict(&self) -> &'static str {
        match self.pass {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "not measured",
        }
    }
}

/// The checks of one run and the overall verdict.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SloResult {
    /// No measured check failed.
    pub pass: bool,
    /// One per target, in the order of `config/slo.toml`.
    pub checks: Vec<Check>,
}

impl SloResult {
    /// 0 when every measured check passed, else [`SLO_FAILED_EXIT_CODE`].
    pub fn exit_code(&self) -> i32 {
        if self.pass {
            0
        } else {
            SLO_FAILED_EXIT_CODE
        }
    }

    /// Names of the failed checks (for a sweep's `broke_at`).
    pub fn failed_names(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| c.pass == Some(false))
            .map(|c| c.name.clone())
            .collect()
    }
}

impl SloResult {
    /// The check called `name`, if evaluated.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// A human title for a check name (the name itself when unknown).
pub fn check_title(name: &str) -> &str {
    match name {
        "latency_avg" => "Mouth-to-ear latency, average",
        "latency_p95" => "Mouth-to-ear latency, P95",
        "jitter_avg" => "Jitter, average",
        "jitter_p95" => "Jitter, P95",
        "packet_loss" => "Packet loss",
        "admission" => "Admission per guardian (GRQ→ACF)",
        "call_success" => "Call success",
        "call_drops" => "Call drops",
        "engine_cpu" => "Engine CPU (busiest media core)",
        "failover" => "Failover",
        other => other,
    }
}

#[derive(Clone, Copy)]
enum Bound {
    Below(f64),
    Above(f64),
    AtMost(f64),
}

fn check(name: &str, bound: Bound, unit: &str, measured: Option<f64>) -> Check {
    let (target, pass): (String, fn(f64, f64) -> bool) = match bound {
        Bound::Below(t) => (format!("< {}", with_unit(&fmt_target(t), unit)), |m, t| {
            m < t
        }),
        Bound::Above(t) => (format!("> {}", with_unit(&fmt_target(t), unit)), |m, t| {
            m > t
        }),
        Bound::AtMost(0.0) => (format!("= {}", with_unit("0", unit)), |m, t| m <= t),
        Bound::AtMost(t) => (
            format!("≤ {}", with_unit(&fmt_target(t), unit)),
            |m, t| m <= t,
        ),
    };
    let limit = match bound {
        Bound::Below(t) | Bound::Above(t) | Bound::AtMost(t) => t,
    };
    // A NaN measurement is a broken measurement: it fails rather than passes.
    let measured = measured.map(|m| if m.is_finite() { m } else { f64::NAN });
    Check {
        name: name.to_string(),
        target,
        limit,
        measured: measured.filter(|m| m.is_finite()),
        unit: unit.to_string(),
        pass: measured.map(|m| m.is_finite() && pass(m, limit)),
    }
}

/// Evaluates every target against the measurements.
pub fn evaluate(targets: &SloTargets, measured: &Measured) -> SloResult {
    let m = measured;
    let checks = vec![
        check(
            "latency_avg",
            Bound::Below(targets.latency.avg_ms_max),
            "ms",
            m.latency_avg_ms,
        ),
        check(
            "latency_p95",
            Bound::Below(targets.latency.p95_ms_max),
            "ms",
            m.latency_p95_ms,
        ),
        check(
            "jitter_avg",
            Bound::Below(targets.jitter.avg_ms_max),
            "ms",
            m.jitter_avg_ms,
        ),
        check(
            "jitter_p95",
            Bound::Below(targets.jitter.p95_ms_max),
            "ms",
            m.jitter_p95_ms,
        ),
        check(
            "packet_loss",
            Bound::Below(targets.loss.pct_max),
            "%",
            m.loss_pct,
        ),
        check(
            "admission",
            Bound::Below(targets.admission.per_guardian_ms_max),
            "ms",
            m.admission_max_ms,
        ),
        check(
            "call_success",
            Bound::Above(targets.calls.success_pct_min),
            "%",
            m.call_success_pct,
        ),
        check(
            "call_drops",
            Bound::AtMost(targets.calls.drops_max as f64),
            "",
            m.call_drops.map(|d| d as f64),
        ),
        check(
            "engine_cpu",
            Bound::Below(targets.cpu.engine_pct_max),
            "%",
            m.engine_cpu_pct,
        ),
        check(
            "failover",
            Bound::Below(targets.failover.duration_s_max),
            "s",
            m.failover_s,
        ),
    ];
    SloResult {
        pass: checks.iter().all(|c| c.pass != Some(false)),
        checks,
    }
}

fn with_unit(value: &str, unit: &str) -> String {
    match unit {
        "" => value.to_string(),
        "%" => format!("{value} %"),
        u => format!("{value} {u}"),
    }
}

/// A target as written: shortest exact form (50, 0.5).
fn fmt_target(v: f64) -> String {
    format!("{v}")
}

/// A measurement with three significant-ish digits: 153, 23.4, 1.94, 0.00.
pub fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let a = v.abs();
    if a >= 100.0 || (a == a.trunc() && a < 1e15) {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
