//! Reporting for `engine bench`: SLO targets and their evaluation, the run
//! report's JSON model, latency statistics, terminal output, and the
//! HTML/Markdown report of `engine slo-report`.
//!
//! Everything here is pure data and formatting except [`machine::Machine::detect`],
//! the loaders ([`load_run`], [`slo::SloTargets::from_file`]) and
//! [`write_report`]. The generator measures, fills a [`RunReport`], calls
//! [`evaluate`], prints [`summary_table`] and writes [`RunReport::to_json`].
//! What the SLOs mean and how to read the report: `docs/slo.md`.

pub mod histogram;
mod html;
pub mod machine;
mod markdown;
pub mod model;
mod plots;
pub mod slo;
pub mod stats;
pub mod svg;
pub mod table;

use std::path::{Path, PathBuf};

pub use histogram::{Histogram, HistogramSnapshot};
pub use machine::Machine;
pub use model::{
    Admission, BrokeAt, Calls, Codec, Cpu, EncoderSettings, EngineMemory, Failover, GuardianSample,
    Impairment, RunReport, SchemaVersion, SecondSample, Series, ShardCpu, Sweep, SweepStep,
    SCHEMA_VERSION,
};
pub use plots::Plot;
pub use slo::{
    evaluate, Check, Measured, SloConfigError, SloResult, SloTargets, SLO_FAILED_EXIT_CODE,
};
pub use stats::{interarrival_jitter_ms, percentile, percentile_sorted, JitterMeter, Summary};
pub use table::{stdout_wants_colour, summary_table, ProgressLine};

/// Name of the HTML report in the output directory.
pub const HTML_FILE: &str = "report.html";
/// Name of the Markdown report in the output directory.
pub const MARKDOWN_FILE: &str = "report.md";

/// Why a report could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// `write_report` was given no run.
    #[error("no run report given: pass at least one --input run.json")]
    NoInputs,
    /// An input cannot be read.
    #[error("cannot read run report {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// An input is not a run report (bad JSON or a missing key).
    #[error("{path}:{line}:{column}: not a run report: {message}")]
    Json {
        /// The path given.
        path: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json found.
        message: String,
    },
    /// An output cannot be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The files [`write_report`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFiles {
    /// The self-contained HTML report.
    pub html: PathBuf,
    /// The Markdown report (it links the SVGs below).
    pub markdown: PathBuf,
    /// One SVG per plot, beside the Markdown.
    pub svgs: Vec<PathBuf>,
}

/// Parses a run report; `origin` names it in errors.
pub fn parse_run(text: &str, origin: &str) -> Result<RunReport, ReportError> {
    serde_json::from_str(text).map_err(|e| ReportError::Json {
        path: origin.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Reads a run report written by `engine bench --json`. A report without a
/// label is labelled with its file name (without `.json`).
pub fn load_run(path: &Path) -> Result<RunReport, ReportError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: name.clone(),
        source,
    })?;
    let mut run = parse_run(&text, &name)?;
    if run.label.as_deref().is_none_or(|l| l.trim().is_empty()) {
        run.label = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty());
    }
    Ok(run)
}

/// Reads several run reports, stopping at the first bad one.
pub fn load_runs<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<RunReport>, ReportError> {
    paths.iter().map(|p| load_run(p.as_ref())).collect()
}

/// Writes `report.html` (self-contained: inline CSS and SVG, no script, no
/// network), `report.md` and one SVG per plot into `out_dir`, creating it.
/// Several runs are compared side by side and overlaid in the plots.
pub fn write_report(inputs: &[RunReport], out_dir: &Path) -> Result<ReportFiles, ReportError> {
    if inputs.is_empty() {
        return Err(ReportError::NoInputs);
    }
    let runs = labelled(inputs);
    let plots = plots::build(&runs);
    std::fs::create_dir_all(out_dir).map_err(|source| ReportError::Write {
        path: out_dir.display().to_string(),
        source,
    })?;
    let write = |name: &str, text: &str| -> Result<PathBuf, ReportError> {
        let path = out_dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(path)
    };
    let mut svgs = Vec::with_capacity(plots.len());
    for p in &plots {
        svgs.push(write(&p.file, &p.svg)?);
    }
    let html = write(HTML_FILE, &html::render(&runs, &plots))?;
    let markdown = write(MARKDOWN_FILE, &markdown::render(&runs, &plots))?;
    Ok(ReportFiles {
        html,
        markdown,
        svgs,
    })
}

/// [`load_runs`] then [`write_report`]: what `engine slo-report` does.
pub fn write_report_from_files<P: AsRef<Path>>(
    inputs: &[P],
    out_dir: &Path,
) -> Result<ReportFiles, ReportError> {
    write_report(&load_runs(inputs)?, out_dir)
}

/// Gives each run a unique display label.
fn labelled(inputs: &[RunReport]) -> Vec<plots::Labelled<'_>> {
    let mut seen: Vec<String> = Vec::with_capacity(inputs.len());
    inputs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let base = r.display_label(i);
            let mut label = base.clone();
            let mut n = 2;
            while seen.contains(&label) {
                label = format!("{base} ({n})");
                n += 1;
            }
            seen.push(label.clone());
            plots::Labelled { label, report: r }
        })
        .collect()
}
