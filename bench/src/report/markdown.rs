//! The Markdown report: the same tables as the HTML, with the plots linked
//! as SVG files written beside it.

use std::fmt::Write as _;

use super::html::encoder;
use super::plots::{Labelled, Plot};
use super::slo::{check_title, fmt_value};

/// Escapes the characters that would break a table cell or inline text.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn with_unit(v: Option<f64>, unit: &str) -> String {
    match v.filter(|v| v.is_finite()) {
        Some(v) if unit.is_empty() => fmt_value(v),
        Some(v) => format!("{} {unit}", fmt_value(v)),
        None => "—".into(),
    }
}

/// The whole document.
pub(crate) fn render(runs: &[Labelled<'_>], plots: &[Plot]) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# Audio MCU load test\n");
    for run in runs {
        let r = run.report;
        let _ = writeln!(
            m,
            "## {} — SLO {}\n",
            md(&run.label),
            if r.slo.pass { "PASS ✅" } else { "FAIL ❌" }
        );
        let _ = writeln!(
            m,
            "- **Load:** {} guardians in {} room(s), {} s measured",
            r.guardians,
            r.rooms,
            fmt_value(r.duration_s)
        );
        let _ = writeln!(m, "- **Codec:** {}", md(&r.codec.name));
        let _ = writeln!(m, "  - engine encoder: {}", md(&encoder(&r.codec.engine)));
        let _ = writeln!(
            m,
            "  - generator encoder: {}",
            md(&encoder(&r.codec.generator))
        );
        let _ = writeln!(m, "- **Impairment:** {}", md(&r.impairment.describe()));
        let _ = writeln!(m, "- **Started:** {}", md(&r.started_at));
        let _ = writeln!(m, "- **Machine:** {}\n", md(&r.machine.describe()));

        let _ = writeln!(
            m,
            "| Check | Target | Measured | Result |\n|---|---|---:|---|"
        );
        for c in &r.slo.checks {
            let verdict = match c.pass {
                Some(true) => "✅ pass",
                Some(false) => "❌ **FAIL**",
                None => "➖ not measured",
            };
            let _ = writeln!(
                m,
                "| {} | {} | {} | {verdict} |",
                md(check_title(&c.name)),
                md(&c.target),
                md(&c.measured_text())
            );
        }
        let _ = writeln!(m);

        let a = &r.admission_ms;
        let _ = writeln!(
            m,
            "| Figure | P50 | P95 | P99 | Average |\n|---|---:|---:|---:|---:|"
        );
        for (name, s) in [
            ("Mouth-to-ear latency", &r.mouth_to_ear_ms),
            ("Engine-added latency", &r.engine_added_ms),
            ("Jitter", &r.jitter_ms),
            ("Admission GRQ→ACF", &a.total),
            ("GRQ → GCF", &a.grq),
            ("RRQ → RCF", &a.rrq),
            ("ARQ → ACF", &a.arq),
        ] {
            let _ = writeln!(
                m,
                "| {name} | {} | {} | {} | {} |",
                with_unit(s.p50, "ms"),
                with_unit(s.p95, "ms"),
                with_unit(s.p99, "ms"),
                with_unit(s.avg, "ms")
            );
        }
        let _ = writeln!(m);
        let _ = writeln!(
            m,
            "Loss {} · late frames {} · call drops {} · busiest media core {} · {} per guardian-second · peak RSS {}\n",
            with_unit(r.loss_pct, "%"),
            with_unit(r.late_frames_pct, "%"),
            r.call_drops.map_or_else(|| "—".into(), |d| d.to_string()),
            with_unit(r.cpu.busiest_core_fraction().map(|f| f * 100.0), "%"),
            with_unit(r.cpu.us_per_guardian_s, "µs"),
            with_unit(r.rss_mib, "MiB"),
        );
        if let Some(e) = &r.engine_memory {
            let _ = writeln!(m, "Engine memory: {}.\n", e.describe());
        }
        if let Some(f) = &r.failover {
            let _ = writeln!(
                m,
                "Failover: {} s, {} media packets ({} ms) lost, {} calls dropped, {}/{} sessions preserved.\n",
                fmt_value(f.duration_s),
                f.media_lost,
                fmt_value(f.media_lost_ms),
                f.calls_dropped,
                f.sessions_preserved,
                f.sessions
            );
        }
        if let Some(sweep) = r.sweep.as_ref().filter(|s| !s.steps.is_empty()) {
            let _ = writeln!(m, "### Capacity sweep\n");
            if let Some(n) = sweep.largest_passing {
                let _ = write!(m, "Largest passing: **{n} guardians**");
                if let Some(g) = r.guardians_per_core {
                    let _ = write!(m, " ({} per media core)", fmt_value(g));
                }
                let _ = writeln!(m, ".");
            }
            if let Some(b) = &sweep.broke_at {
                let names: Vec<&str> = b.failed_checks.iter().map(|c| check_title(c)).collect();
                let _ = writeln!(
                    m,
                    "Broke at {} guardians: {}.",
                    b.guardians,
                    md(&names.join(", "))
                );
            }
            let _ = writeln!(
                m,
                "\n| Guardians | Result | M2E P95 | Busiest core | µs / guardian-s | Failed |\n|---:|---|---:|---:|---:|---|"
            );
            for s in &sweep.steps {
                let _ = writeln!(
                    m,
                    "| {} | {} | {} | {} | {} | {} |",
                    s.guardians,
                    if s.pass { "✅" } else { "❌" },
                    with_unit(s.mouth_to_ear_p95_ms, "ms"),
                    with_unit(s.engine_core_fraction.map(|f| f * 100.0), "%"),
                    with_unit(s.us_per_guardian_s, ""),
                    md(&s.failed.join(", "))
                );
            }
            let _ = writeln!(m);
        }
        if !r.notes.is_empty() {
            let _ = writeln!(m, "Notes:\n");
            for n in &r.notes {
                let _ = writeln!(m, "- {}", md(n));
            }
            let _ = writeln!(m);
        }
    }
    let _ = writeln!(m, "## Plots\n");
    for p in plots {
        if p.has_data {
            let _ = writeln!(m, "![{}]({})\n", p.title, p.file);
        } else {
            let _ = writeln!(m, "- {}: no data in these runs.", p.title);
        }
    }
    let _ = writeln!(
        m,
        "\nThe HTML report (report.html) has the same content in one self-contained file."
    );
    m
}
