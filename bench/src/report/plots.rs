//! The report's plots, built from one or more runs. With one run, colour
//! tells the metrics apart; with several, colour is the run and the stroke
//! (solid, dashed, dotted) the metric, so runs overlay on the same axes.

use super::model::RunReport;
use super::svg::{colour, BarChart, BarSeries, Line, LineChart, Range, RefLine, Stroke};

/// One rendered plot.
#[derive(Clone, Debug)]
pub struct Plot {
    /// File name when written beside the Markdown, e.g. `latency-cdf.svg`.
    pub file: String,
    /// Heading.
    pub title: String,
    /// The `<svg>` element.
    pub svg: String,
    /// False when no run had data for it (the SVG then says so).
    pub has_data: bool,
}

/// A run with the name it goes by.
pub(crate) struct Labelled<'a> {
    pub label: String,
    pub report: &'a RunReport,
}

struct Styler {
    runs: usize,
}

impl Styler {
    /// Colour, stroke and legend label for metric `m` of run `r`.
    fn style(&self, r: usize, m: usize, metric: &str, run: &str) -> (String, Stroke, String) {
        const STROKES: [Stroke; 3] = [Stroke::Solid, Stroke::Dashed, Stroke::Dotted];
        if self.runs == 1 {
            (colour(m).to_string(), Stroke::Solid, metric.to_string())
        } else {
            (
                colour(r).to_string(),
                STROKES[m % STROKES.len()],
                format!("{metric} · {run}"),
            )
        }
    }

    fn line(&self, r: usize, m: usize, metric: &str, run: &str, pts: Vec<(f64, f64)>) -> Line {
        let (c, s, l) = self.style(r, m, metric, run);
        Line::new(l, &c, pts).stroke(s)
    }
}

fn limit(runs: &[Labelled<'_>], check: &str) -> Option<f64> {
    runs.iter()
        .find_map(|r| r.report.slo.check(check).map(|c| c.limit))
        .filter(|v| v.is_finite())
}

/// Builds every plot for `runs` (capacity plots only when a run has sweep
/// steps).
pub(crate) fn build(runs: &[Labelled<'_>]) -> Vec<Plot> {
    let st = Styler { runs: runs.len() };
    let mut plots = vec![latency_cdf(runs, &st)];
    plots.extend(guardian_latency_groups(runs));
    plots.extend([
        over_time(runs, &st, Metric::Jitter),
        over_time(runs, &st, Metric::Loss),
        over_time(runs, &st, Metric::Cpu),
    ]);
    if runs
        .iter()
        .any(|r| r.report.sweep.as_ref().is_some_and(|s| !s.steps.is_empty()))
    {
        plots.push(capacity(runs, &st, true));
        plots.push(capacity(runs, &st, false));
    }
    plots
}

fn has_points(lines: &[Line]) -> bool {
    lines
        .iter()
        .any(|l| l.points.iter().any(|p| p.0.is_finite() && p.1.is_finite()))
}

fn latency_cdf(runs: &[Labelled<'_>], st: &Styler) -> Plot {
    let mut lines = Vec::new();
    // The x axis ends a little past the largest P99.9 so one outlier does
    // not squeeze the body of the distribution into the left edge.
    let mut cut = 0.0f64;
    let mut max = 0.0f64;
    for (ri, run) in runs.iter().enumerate() {
        let Some(series) = &run.report.series else {
            continue;
        };
        let hists = [
            (0, "mouth-to-ear", &series.mouth_to_ear_hist),
            (1, "engine-added", &series.engine_added_hist),
        ];
        for (m, name, hist) in hists {
            let Some(h) = hist else { continue };
            let cdf = h.cdf();
            let Some(first) = cdf.first() else { continue };
            if let Some(p999) = cdf.iter().find(|p| p.1 >= 0.999) {
                cut = cut.max(p999.0);
            }
            max = max.max(cdf.last().map_or(0.0, |p| p.0));
            let mut pts = vec![(first.0, 0.0)];
            pts.extend(cdf.iter().map(|&(x, f)| (x, f * 100.0)));
            let mut line = st.line(ri, m, name, &run.label, pts);
            line.step = true;
            lines.push(line);
        }
    }
    let cut_note = cut < max;
    let x_range = (cut > 0.0).then_some((0.0, cut * 1.1));
    let mut refs = vec![
        RefLine::guide(false, 50.0, "P50"),
        RefLine::guide(false, 95.0, "P95"),
    ];
    if let Some(t) = limit(runs, "latency_p95") {
        refs.push(RefLine::target_x(t, format!("P95 target {t} ms"), false));
    }
    let mut subtitle =
        "Share of samples at or below each latency; steeper and further left is better."
            .to_string();
    if cut_note {
        subtitle.push_str(" X axis cut just past the 99.9th percentile.");
    }
    let has_data = has_points(&lines);
    let chart = LineChart {
        id: "cdf".into(),
        title: "Latency distribution (CDF): mouth-to-ear and engine-added".into(),
        subtitle,
        x_label: "latency (ms)".into(),
        y_label: "samples ≤ latency (%)".into(),
        lines,
        refs,
        x_range: x_range.map(|(a, b)| {
            let (_, hi, _) = super::svg::nice_ticks(a, b, 8);
            (a, hi)
        }),
        y_range: Some((0.0, 100.0)),
        x_from_zero: true,
        y_from_zero: true,
        legend_notes: Vec::new(),
    };
    Plot {
        file: "latency-cdf.svg".into(),
        title: "Latency distribution".into(),
        svg: chart.render(),
        has_data,
    }
}

/// Guardian IDs with latency figures in `run`, sorted.
fn guardian_ids(run: &Labelled<'_>) -> Vec<u32> {
    let mut ids: Vec<u32> = run
        .report
        .series
        .iter()
        .flat_map(|s| {
            s.per_guardian
                .iter()
                .filter(|g| g.mouth_to_ear_ms.is_measured())
        })
        .map(|g| g.guardian)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// One per-guardian chart per set of runs with the same guardians: runs of
/// equal size overlay bar by bar, while a 12-guardian run next to a
/// 350-guardian sweep would only be squeezed into a corner.
fn guardian_latency_groups(runs: &[Labelled<'_>]) -> Vec<Plot> {
    let mut groups: Vec<(Vec<u32>, Vec<usize>)> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let ids = guardian_ids(run);
        match groups.iter_mut().find(|(g, _)| *g == ids) {
            Some((_, members)) => members.push(i),
            None => groups.push((ids, vec![i])),
        }
    }
    // Runs without per-guardian data need no chart of their own when others
    // have one.
    if groups.len() > 1 {
        groups.retain(|(ids, _)| !ids.is_empty());
    }
    let several = groups.len() > 1;
    groups
        .iter()
        .enumerate()
        .map(|(n, (_, members))| {
            let mut plot = guardian_latency(runs, members);
            if several {
                plot.file = format!("guardian-latency-{}.svg", n + 1);
                let names: Vec<&str> = members.iter().map(|&i| runs[i].label.as_str()).collect();
                plot.title = format!("Latency per guardian ({})", names.join(", "));
            }
            plot
        })
        .collect()
}

fn guardian_latency(all: &[Labelled<'_>], members: &[usize]) -> Plot {
    let runs: Vec<(usize, &Labelled<'_>)> = members.iter().map(|&i| (i, &all[i])).collect();
    let ids = runs
        .first()
        .map(|(_, r)| guardian_ids(r))
        .unwrap_or_default();
    let series: Vec<BarSeries> = runs
        .iter()
        .map(|&(ri, run)| {
            let per = run
                .report
                .series
                .as_ref()
                .map(|s| s.per_guardian.as_slice())
                .unwrap_or(&[]);
            let values = ids
                .iter()
                .map(|id| {
                    per.iter().find(|g| g.guardian == *id).and_then(|g| {
                        let s = &g.mouth_to_ear_ms;
                        Some(Range {
                            low: s.p50?,
                            high: s.p95.or(s.p50)?,
                            top: s.p99,
                        })
                    })
                })
                .collect();
            BarSeries {
                label: run.label.clone(),
                colour: colour(ri).to_string(),
                values,
            }
        })
        .collect();
    let mut refs = Vec::new();
    if let Some(t) = limit(all, "latency_p95") {
        refs.push(RefLine::target_y(t, format!("P95 target {t} ms"), false));
    }
    let has_data = !ids.is_empty();
    let title = if runs.len() == 1 && all.len() > 1 {
        format!("Mouth-to-ear latency per guardian: {}", runs[0].1.label)
    } else {
        "Mouth-to-ear latency per guardian".to_string()
    };
    let chart = BarChart {
        id: "guardians".into(),
        title,
        subtitle:
            "Each listening guardian's markers; an even row means no guardian was treated worse."
                .into(),
        x_label: "guardian".into(),
        y_label: "latency (ms)".into(),
        categories: ids.iter().map(|i| i.to_string()).collect(),
        series,
        legend_notes: vec!["solid bar: P50 · light bar: P95 · black tick: P99".into()],
        refs,
    };
    Plot {
        file: "guardian-latency.svg".into(),
        title: "Latency per guardian".into(),
        svg: chart.render(),
        has_data,
    }
}

#[derive(Clone, Copy)]
enum Metric {
    Jitter,
    Loss,
    Cpu,
}

fn over_time(runs: &[Labelled<'_>], st: &Styler, metric: Metric) -> Plot {
    let mut lines = Vec::new();
    let mut refs = Vec::new();
    for (ri, run) in runs.iter().enumerate() {
        let samples = run
            .report
            .series
            .as_ref()
            .map(|s| s.per_second.as_slice())
            .unwrap_or(&[]);
        let pick = |f: &dyn Fn(&super::model::SecondSample) -> Option<f64>| -> Vec<(f64, f64)> {
            samples
                .iter()
                .filter_map(|s| Some((s.t_s, f(s)?)))
                .collect()
        };
        let metrics: Vec<(&str, Vec<(f64, f64)>)> = match metric {
            Metric::Jitter => vec![
                ("average", pick(&|s| s.jitter_avg_ms)),
                ("P95", pick(&|s| s.jitter_p95_ms)),
            ],
            Metric::Loss => vec![("mix packets lost", pick(&|s| s.loss_pct))],
            Metric::Cpu => vec![
                (
                    "engine (media core)",
                    pick(&|s| s.engine_core_fraction.map(|f| f * 100.0)),
                ),
                (
                    "generator",
                    pick(&|s| s.generator_core_fraction.map(|f| f * 100.0)),
                ),
            ],
        };
        for (m, (name, pts)) in metrics.into_iter().enumerate() {
            if !pts.is_empty() {
                lines.push(st.line(ri, m, name, &run.label, pts));
            }
        }
        if let Metric::Loss = metric {
            let configured = run.report.impairment.loss_pct;
            if configured > 0.0 && configured.is_finite() {
                let mut g = RefLine::guide(false, configured, format!("impairment {configured} %"));
                if runs.len() > 1 {
                    g.label.push_str(&format!(" ({})", run.label));
                }
                refs.push(g);
            }
        }
    }
    let (file, title, chart_title, subtitle, y_label) = match metric {
        Metric::Jitter => {
            if let Some(t) = limit(runs, "jitter_avg") {
                refs.push(RefLine::target_y(
                    t,
                    format!("average target {t} ms"),
                    false,
                ));
            }
            if let Some(t) = limit(runs, "jitter_p95") {
                refs.push(RefLine::target_y(t, format!("P95 target {t} ms"), false));
            }
            (
                "jitter.svg",
                "Jitter over time",
                "Interarrival jitter of the received mixes (RFC 3550)",
                "Across all guardians' receive streams, one point per second.",
                "jitter (ms)",
            )
        }
        Metric::Loss => {
            if let Some(t) = limit(runs, "packet_loss") {
                refs.push(RefLine::target_y(t, format!("target < {t} %"), true));
            }
            (
                "loss.svg",
                "Loss over time",
                "Packet loss of the received mixes",
                "Mix packets expected but not received, per second; grey: loss the impairment injected upstream.",
                "loss (%)",
            )
        }
        Metric::Cpu => {
            if let Some(t) = limit(runs, "engine_cpu") {
                refs.push(RefLine::target_y(t, format!("engine target < {t} %"), true));
            }
            (
                "cpu.svg",
                "CPU over time",
                "CPU use over time",
                "Engine: average media core; generator: its own threads, to show it was not the bottleneck.",
                "CPU (% of one core)",
            )
        }
    };
    let has_data = has_points(&lines);
    let chart = LineChart {
        id: file.trim_end_matches(".svg").into(),
        title: chart_title.into(),
        subtitle: subtitle.into(),
        x_label: "time since start of measurement (s)".into(),
        y_label: y_label.into(),
        lines,
        refs,
        x_range: None,
        y_range: None,
        x_from_zero: true,
        y_from_zero: true,
        legend_notes: Vec::new(),
    };
    Plot {
        file: file.into(),
        title: title.into(),
        svg: chart.render(),
        has_data,
    }
}

fn capacity(runs: &[Labelled<'_>], st: &Styler, cpu: bool) -> Plot {
    let mut lines = Vec::new();
    let mut refs = Vec::new();
    for (ri, run) in runs.iter().enumerate() {
        let Some(sweep) = &run.report.sweep else {
            continue;
        };
        let mut steps: Vec<_> = sweep.steps.iter().collect();
        steps.sort_by_key(|s| s.guardians);
        let (pts, marks): (Vec<(f64, f64)>, Vec<Option<bool>>) = steps
            .iter()
            .filter_map(|s| {
                let y = if cpu {
                    s.engine_core_fraction.map(|f| f * 100.0)
                } else {
                    s.mouth_to_ear_p95_ms
                }?;
                Some(((f64::from(s.guardians), y), Some(s.pass)))
            })
            .unzip();
        let name = if cpu {
            "busiest media core"
        } else {
            "mouth-to-ear P95"
        };
        let mut line = st.line(ri, 0, name, &run.label, pts);
        if runs.len() > 1 {
            line.label = run.label.clone();
        }
        line.marks = marks;
        lines.push(line);
        if let Some(n) = sweep.largest_passing {
            let mut label = format!("largest passing: {n}");
            if let Some(g) = run.report.guardians_per_core {
                label.push_str(&format!(" ({g:.0} per core)"));
            }
            let mut g = RefLine::guide(true, f64::from(n), label);
            g.colour = super::svg::PASS.into();
            refs.push(g);
        }
    }
    let (check, unit) = if cpu {
        ("engine_cpu", "%")
    } else {
        ("latency_p95", "ms")
    };
    if let Some(t) = limit(runs, check) {
        refs.push(RefLine::target_y(t, format!("target < {t} {unit}"), true));
    }
    let has_data = has_points(&lines);
    let chart = LineChart {
        id: if cpu { "cap-cpu" } else { "cap-lat" }.into(),
        title: if cpu {
            "Capacity: engine CPU vs guardians".into()
        } else {
            "Capacity: mouth-to-ear P95 vs guardians".into()
        },
        subtitle: "One point per sweep step; the sweep stops at the first step that fails an SLO."
            .into(),
        x_label: "guardians".into(),
        y_label: if cpu {
            "busiest media core (% of one core)".into()
        } else {
            "mouth-to-ear P95 (ms)".into()
        },
        lines,
        refs,
        x_range: None,
        y_range: None,
        x_from_zero: true,
        y_from_zero: true,
        legend_notes: vec!["● step passed   ✕ step failed".into()],
    };
    Plot {
        file: if cpu {
            "capacity-cpu.svg"
        } else {
            "capacity-latency.svg"
        }
        .into(),
        title: if cpu {
            "Capacity (CPU)"
        } else {
            "Capacity (latency)"
        }
        .into(),
        svg: chart.render(),
        has_data,
    }
}
