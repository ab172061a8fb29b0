//! The self-contained HTML report: inline CSS, inline SVG, no script, no
//! network. Sections: comparison (several runs), one card per run (verdict,
//! key figures, SLO table, setup, admission, sweep, notes), then the plots.

use std::fmt::Write as _;

use super::model::RunReport;
use super::plots::{Labelled, Plot};
use super::slo::{check_title, fmt_value};
use super::svg::{colour, escape};

const CSS: &str = r#"
:root{--fg:#1f2328;--muted:#59636e;--line:#d0d7de;--soft:#eaeef2;--pass:#1a7f37;--fail:#cf222e;--passbg:#dafbe1;--failbg:#ffebe9;}
*{box-sizing:border-box}
body{margin:0;background:#f3f5f8;color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:28px 24px 40px}
h1{font-size:26px;margin:0 0 2px;letter-spacing:-.01em}
h2{font-size:19px;margin:0}
h3{font-size:13px;margin:18px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.sub{color:var(--muted);margin:0}
.card{background:#fff;border:1px solid var(--line);border-radius:12px;padding:20px 24px;margin:18px 0;box-shadow:0 1px 3px rgba(31,35,40,.06)}
.head{display:flex;align-items:center;gap:12px;flex-wrap:wrap}
.swatch{width:12px;height:12px;border-radius:3px;display:inline-block}
.badge{font-size:12px;font-weight:700;padding:3px 11px;border-radius:999px;letter-spacing:.06em}
.badge.pass{background:var(--passbg);color:var(--pass)}
.badge.fail{background:var(--failbg);color:var(--fail)}
.badge.big{font-size:15px;padding:5px 16px}
.meta{color:var(--muted);margin:6px 0 0}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:10px;margin:16px 0 4px}
.tile{border:1px solid var(--soft);border-radius:9px;padding:9px 13px;background:#fafbfc}
.tile .k{color:var(--muted);font-size:12px}
.tile .v{font-size:23px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.25}
.tile .u{font-size:13px;color:var(--muted);font-weight:400;margin-left:3px}
.tile .t{font-size:11px;color:var(--muted)}
.tile.pass{border-left:4px solid var(--pass)}
.tile.fail{border-left:4px solid var(--fail);background:var(--failbg)}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--soft);vertical-align:top}
th{font-size:11.5px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em;border-bottom:1px solid var(--line)}
td.n,th.n{text-align:right}
td.verdict{font-weight:650;white-space:nowrap}
tr.pass td.verdict{color:var(--pass)}
tr.fail{background:var(--failbg)}
tr.fail td.verdict{color:var(--fail)}
tr.nm td{color:var(--muted)}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:8px 28px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0}
ul.notes{margin:4px 0 0;padding-left:20px;color:var(--muted)}
figure{margin:0}
figure svg{width:100%;height:auto;display:block}
.plots .card{padding:12px 14px}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:28px}
@media (max-width:760px){.tiles{grid-template-columns:repeat(2,1fr)}.grid2{grid-template-columns:1fr}}
"#;

fn opt(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "—".into(), fmt_value)
}

fn with_unit(v: Option<f64>, unit: &str) -> String {
    match v.filter(|v| v.is_finite()) {
        Some(v) if unit.is_empty() => fmt_value(v),
        Some(v) => format!("{} {unit}", fmt_value(v)),
        None => "—".into(),
    }
}

/// The whole page.
pub(crate) fn render(runs: &[Labelled<'_>], plots: &[Plot]) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let all_pass = runs.iter().all(|r| r.report.slo.pass);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body><main>",
        escape(&page_title(runs))
    );
    let machines: Vec<String> = {
        let mut m: Vec<String> = runs.iter().map(|r| r.report.machine.describe()).collect();
        m.dedup();
        m
    };
    let _ = write!(
        h,
        "<header class=\"head\"><div style=\"flex:1\"><h1>Audio MCU load test</h1><p class=\"sub\">{} · {}</p></div><span class=\"badge big {}\">{}</span></header>",
        escape(&runs_summary(runs)),
        escape(&machines.join("; ")),
        if all_pass { "pass" } else { "fail" },
        if all_pass {
            if runs.len() > 1 { "ALL RUNS PASS" } else { "SLO PASS" }
        } else if runs.len() > 1 {
            "SOME RUNS FAIL"
        } else {
            "SLO FAIL"
        }
    );
    if runs.len() > 1 {
        comparison(&mut h, runs);
    }
    for (i, run) in runs.iter().enumerate() {
        run_card(&mut h, i, run, runs.len() > 1);
    }
    h.push_str("<section class=\"plots\">");
    for p in plots {
        let _ = write!(h, "<div class=\"card\"><figure>{}</figure></div>", p.svg);
    }
    h.push_str("</section>");
    h.push_str("<footer>Written by <code>engine slo-report</code> from the runs' JSON. Self-contained: no scripts, no network. SLO definitions: docs/slo.md.</footer>");
    h.push_str("</main></body></html>\n");
    h
}

fn page_title(runs: &[Labelled<'_>]) -> String {
    match runs {
        [one] => format!("Load test: {}", one.label),
        _ => format!("Load test: {} runs compared", runs.len()),
    }
}

fn runs_summary(runs: &[Labelled<'_>]) -> String {
    match runs {
        [one] => format!(
            "{} guardians in {} room{} · started {}",
            one.report.guardians,
            one.report.rooms,
            if one.report.rooms == 1 { "" } else { "s" },
            one.report.started_at
        ),
        _ => format!(
            "{} runs compared · {}",
            runs.len(),
            runs.iter()
                .map(|r| r.label.as_str())
                .collect::<Vec<_>>()
                .join(" vs ")
        ),
    }
}

fn comparison(h: &mut String, runs: &[Labelled<'_>]) {
    h.push_str("<section class=\"card\"><h2>Comparison</h2><table><tr><th>Figure</th>");
    for (i, r) in runs.iter().enumerate() {
        let _ = write!(
            h,
            "<th class=\"n\"><span class=\"swatch\" style=\"background:{}\"></span> {}</th>",
            colour(i),
            escape(&r.label)
        );
    }
    h.push_str("</tr>");
    type Row = (&'static str, fn(&RunReport) -> String);
    let rows: [Row; 12] = [
        ("SLO", |r| {
            if r.slo.pass {
                "PASS".into()
            } else {
                "FAIL".into()
            }
        }),
        ("Guardians / rooms", |r| {
            format!("{} / {}", r.guardians, r.rooms)
        }),
        ("Codec", |r| r.codec.name.clone()),
        ("Impairment", |r| r.impairment.describe()),
        ("Mouth-to-ear P50 / P95", |r| {
            format!(
                "{} / {} ms",
                opt(r.mouth_to_ear_ms.p50),
                opt(r.mouth_to_ear_ms.p95)
            )
        }),
        ("Engine-added P95", |r| {
            with_unit(r.engine_added_ms.p95, "ms")
        }),
        ("Jitter avg / P95", |r| {
            format!("{} / {} ms", opt(r.jitter_ms.avg), opt(r.jitter_ms.p95))
        }),
        ("Loss", |r| with_unit(r.loss_pct, "%")),
        ("Late frames", |r| with_unit(r.late_frames_pct, "%")),
        ("Busiest media core", |r| {
            with_unit(r.cpu.busiest_core_fraction().map(|f| f * 100.0), "%")
        }),
        ("CPU per guardian-second", |r| {
            with_unit(r.cpu.us_per_guardian_s, "µs")
        }),
        ("Admission P95", |r| {
            with_unit(r.admission_ms.total.p95, "ms")
        }),
    ];
    for (name, f) in rows {
        let _ = write!(h, "<tr><td>{name}</td>");
        for r in runs {
            let text = f(r.report);
            let style = match text.as_str() {
                "PASS" => " style=\"color:var(--pass);font-weight:700\"",
                "FAIL" => " style=\"color:var(--fail);font-weight:700\"",
                _ => "",
            };
            let _ = write!(h, "<td class=\"n\"{style}>{}</td>", escape(&text));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></section>");
}

fn tile(
    h: &mut String,
    r: &RunReport,
    name: &str,
    v: Option<f64>,
    unit: &str,
    check: Option<&str>,
) {
    let c = check.and_then(|c| r.slo.check(c));
    let class = match c.and_then(|c| c.pass) {
        Some(true) => " pass",
        Some(false) => " fail",
        None => "",
    };
    let target = c
        .map(|c| format!("target {}", c.target))
        .unwrap_or_default();
    let value = v.filter(|v| v.is_finite());
    let _ = write!(
        h,
        "<div class=\"tile{class}\"><div class=\"k\">{}</div><div class=\"v\">{}{}</div><div class=\"t\">{}</div></div>",
        escape(name),
        value.map_or_else(|| "—".into(), fmt_value),
        if value.is_some() && !unit.is_empty() {
            format!("<span class=\"u\">{}</span>", escape(unit))
        } else {
            String::new()
        },
        escape(&target)
    );
}

fn run_card(h: &mut String, i: usize, run: &Labelled<'_>, several: bool) {
    let r = run.report;
    let _ = write!(h, "<section class=\"card\"><div class=\"head\">");
    if several {
        let _ = write!(
            h,
            "<span class=\"swatch\" style=\"background:{}\"></span>",
            colour(i)
        );
    }
    let _ = write!(
        h,
        "<h2>{}</h2><span class=\"badge {}\">{}</span></div>",
        escape(&run.label),
        if r.slo.pass { "pass" } else { "fail" },
        if r.slo.pass { "SLO PASS" } else { "SLO FAIL" }
    );
    let _ = write!(
        h,
        "<p class=\"meta\">{} guardians in {} room{} · {} s measured · {} · {} · started {} · {}</p>",
        r.guardians,
        r.rooms,
        if r.rooms == 1 { "" } else { "s" },
        escape(&fmt_value(r.duration_s)),
        escape(&r.codec.name),
        escape(&r.impairment.describe()),
        escape(&r.started_at),
        escape(&r.machine.describe())
    );

    h.push_str("<div class=\"tiles\">");
    tile(
        h,
        r,
        "Mouth-to-ear P95",
        r.mouth_to_ear_ms.p95,
        "ms",
        Some("latency_p95"),
    );
    tile(
        h,
        r,
        "Mouth-to-ear average",
        r.mouth_to_ear_ms.avg,
        "ms",
        Some("latency_avg"),
    );
    tile(h, r, "Engine-added P95", r.engine_added_ms.p95, "ms", None);
    tile(
        h,
        r,
        "Jitter average",
        r.jitter_ms.avg,
        "ms",
        Some("jitter_avg"),
    );
    tile(h, r, "Packet loss", r.loss_pct, "%", Some("packet_loss"));
    tile(
        h,
        r,
        "Busiest media core",
        r.cpu.busiest_core_fraction().map(|f| f * 100.0),
        "%",
        Some("engine_cpu"),
    );
    tile(
        h,
        r,
        "CPU per guardian-second",
        r.cpu.us_per_guardian_s,
        "µs",
        None,
    );
    tile(
        h,
        r,
        "Admission, slowest guardian",
        r.admission_ms.total.max,
        "ms",
        Some("admission"),
    );
    h.push_str("</div>");

    h.push_str("<h3>Service-level objectives</h3><table><tr><th>Check</th><th>Target</th><th class=\"n\">Measured</th><th>Result</th></tr>");
    for c in &r.slo.checks {
        let (class, mark) = match c.pass {
            Some(true) => ("pass", "✓ pass"),
            Some(false) => ("fail", "✗ FAIL"),
            None => ("nm", "– not measured"),
        };
        let _ = write!(
            h,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"verdict\">{mark}</td></tr>",
            escape(check_title(&c.name)),
            escape(&c.target),
            escape(&c.measured_text())
        );
    }
    h.push_str("</table>");

    h.push_str("<div class=\"grid2\"><div><h3>Setup</h3><dl class=\"kv\">");
    let kv = |h: &mut String, k: &str, v: &str| {
        let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    };
    let codec = match (r.codec.clock_rate_hz, r.codec.ptime_ms) {
        (0, _) | (_, 0) => r.codec.name.clone(),
        (hz, p) => format!("{} · {} Hz · {} ms frames", r.codec.name, hz, p),
    };
    kv(h, "Codec", &codec);
    kv(h, "Engine encoder", &encoder(&r.codec.engine));
    kv(h, "Generator encoder", &encoder(&r.codec.generator));
    kv(h, "Impairment", &r.impairment.describe());
    kv(h, "Duration", &format!("{} s", fmt_value(r.duration_s)));
    kv(h, "Started", &r.started_at);
    kv(h, "Machine", &r.machine.describe());
    if let Some(g) = r.cpu.generator_core_fraction {
        kv(
            h,
            "Generator CPU",
            &format!("{} % of a core", fmt_value(g * 100.0)),
        );
    }
    if !r.cpu.shards.is_empty() {
        let shards: Vec<String> = r
            .cpu
            .shards
            .iter()
            .map(|s| format!("#{} {} %", s.shard, fmt_value(s.core_fraction * 100.0)))
            .collect();
        kv(h, "Media shards", &shards.join(", "));
    }
    kv(h, "Peak RSS", &with_unit(r.rss_mib, "MiB"));
    if let Some(m) = &r.engine_memory {
        kv(h, "Engine memory", &m.describe());
    }
    kv(h, "Late frames", &with_unit(r.late_frames_pct, "%"));
    kv(
        h,
        "Call drops",
        &r.call_drops.map_or_else(|| "—".into(), |d| d.to_string()),
    );
    h.push_str("</dl></div><div><h3>Admission (RAS)</h3><table><tr><th>Exchange</th><th class=\"n\">P50</th><th class=\"n\">P95</th><th class=\"n\">P99</th><th class=\"n\">n</th></tr>");
    let a = &r.admission_ms;
    for (name, s) in [
        ("GRQ → GCF", &a.grq),
        ("RRQ → RCF", &a.rrq),
        ("ARQ → ACF", &a.arq),
        ("Whole admission", &a.total),
    ] {
        let _ = write!(
            h,
            "<tr><td>{name}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            with_unit(s.p50, "ms"),
            with_unit(s.p95, "ms"),
            with_unit(s.p99, "ms"),
            s.count
        );
    }
    h.push_str("</table>");
    if let Some(f) = &r.failover {
        h.push_str("<h3>Failover</h3><dl class=\"kv\">");
        kv(h, "Duration", &format!("{} s", fmt_value(f.duration_s)));
        kv(
            h,
            "Media lost",
            &format!(
                "{} packets ({} ms)",
                f.media_lost,
                fmt_value(f.media_lost_ms)
            ),
        );
        kv(h, "Calls dropped", &f.calls_dropped.to_string());
        kv(
            h,
            "Sessions preserved",
            &format!("{}/{}", f.sessions_preserved, f.sessions),
        );
        h.push_str("</dl>");
    }
    h.push_str("</div></div>");

    if let Some(sweep) = r.sweep.as_ref().filter(|s| !s.steps.is_empty()) {
        h.push_str("<h3>Capacity sweep</h3><p class=\"meta\">");
        let largest = sweep.largest_passing.map_or_else(
            || "no step passed".to_string(),
            |n| format!("largest passing: {n} guardians"),
        );
        let _ = write!(h, "{}", escape(&largest));
        if let Some(g) = r.guardians_per_core {
            let _ = write!(
                h,
                " · <b>{} guardians per media core</b>",
                escape(&fmt_value(g))
            );
        }
        if let Some(b) = &sweep.broke_at {
            let names: Vec<&str> = b.failed_checks.iter().map(|c| check_title(c)).collect();
            let _ = write!(
                h,
                " · broke at {} guardians: {}",
                b.guardians,
                escape(&names.join(", "))
            );
        }
        h.push_str("</p><table><tr><th class=\"n\">Guardians</th><th>Result</th><th class=\"n\">M2E P95</th><th class=\"n\">Jitter P95</th><th class=\"n\">Loss</th><th class=\"n\">Busiest core</th><th class=\"n\">µs / guardian-s</th><th>Failed checks</th></tr>");
        for s in &sweep.steps {
            let _ = write!(
                h,
                "<tr class=\"{}\"><td class=\"n\">{}</td><td class=\"verdict\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                if s.pass { "pass" } else { "fail" },
                s.guardians,
                if s.pass { "✓ pass" } else { "✗ FAIL" },
                with_unit(s.mouth_to_ear_p95_ms, "ms"),
                with_unit(s.jitter_p95_ms, "ms"),
                with_unit(s.loss_pct, "%"),
                with_unit(s.engine_core_fraction.map(|f| f * 100.0), "%"),
                opt(s.us_per_guardian_s),
                escape(&s.failed.iter().map(|c| check_title(c)).collect::<Vec<_>>().join(", "))
            );
        }
        h.push_str("</table>");
    }

    if !r.notes.is_empty() {
        h.push_str("<h3>Notes</h3><ul class=\"notes\">");
        for n in &r.notes {
            let _ = write!(h, "<li>{}</li>", escape(n));
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");
}

/// "voip · 32 kb/s · complexity 4 · FEC off · DTX off", or "—" for G.711.
pub(crate) fn encoder(e: &super::model::EncoderSettings) -> String {
    let mut parts = Vec::new();
    if let Some(a) = &e.application {
        parts.push(a.clone());
    }
    if let Some(b) = e.bitrate_bps {
        parts.push(format!("{} kb/s", fmt_value(f64::from(b) / 1000.0)));
    }
    if let Some(c) = e.complexity {
        parts.push(format!("complexity {c}"));
    }
    if parts.is_empty() {
        return "default (no tunable settings)".into();
    }
    parts.push(format!("FEC {}", if e.fec { "on" } else { "off" }));
    parts.push(format!("DTX {}", if e.dtx { "on" } else { "off" }));
    parts.join(" · ")
}
