//! Minimal SVG charts: line charts (with reference lines and pass/fail
//! markers) and range bar charts, rendered as self-contained strings.
//!
//! The charts draw what they are given and nothing else: no scripts, no
//! external fonts or images. Non-finite points are dropped, empty data gives
//! a labelled empty frame, and every string is XML-escaped.

use std::fmt::Write as _;

/// Series colours (Okabe–Ito, distinguishable with common colour blindness).
pub const PALETTE: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#555555",
];
/// Colour of passing markers and verdicts.
pub const PASS: &str = "#1a7f37";
/// Colour of failing markers, verdicts and SLO target lines.
pub const FAIL: &str = "#cf222e";

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 24.0;
const BOTTOM: f64 = 52.0;
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/// The colour of series `i`.
pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Axis ticks: a "nice" step (1, 2, 2.5 or 5 × 10^k) giving about `target`
/// intervals over `lo..=hi`, and the range widened to whole steps.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, f64) {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(hi), lo.max(hi))
    } else {
        (0.0, 1.0)
    };
    if hi - lo < 1e-9 {
        let pad = if lo.abs() < 1e-9 { 1.0 } else { lo.abs() * 0.1 };
        lo -= if lo >= 0.0 && lo - pad < 0.0 { lo } else { pad };
        hi += pad;
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|s| *s >= norm - 1e-9)
        .unwrap_or(10.0);
    let step = nice * mag;
    let nlo = (lo / step + 1e-9).floor() * step;
    let nhi = (hi / step - 1e-9).ceil() * step;
    (nlo, nhi.max(nlo + step), step)
}

/// Tick values from `lo` to `hi` by `step` (bounded to 100 ticks).
fn tick_values(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    (0..=100)
        .map(|i| lo + step * i as f64)
        .take_while(|v| *v <= hi + step * 1e-6)
        .collect()
}

/// A tick label with as many decimals as the step needs.
pub fn fmt_tick(v: f64, step: f64) -> String {
    let mut decimals = (-step.log10().floor()).max(0.0) as usize;
    if (step / 10f64.powi(-(decimals as i32)) - 2.5).abs() < 1e-6 {
        decimals += 1;
    }
    let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
    let s = format!("{v:.decimals$}");
    if v.abs() >= 10_000.0 && decimals == 0 {
        // Thin-space thousands separators for big counts.
        let digits = s.trim_start_matches('-');
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push('\u{2009}');
            }
            grouped.push(c);
        }
        return if v < 0.0 {
            format!("-{grouped}")
        } else {
            grouped
        };
    }
    s
}

fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.56
}

/// How a line is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stroke {
    /// Continuous.
    Solid,
    /// Long dashes.
    Dashed,
    /// Dots.
    Dotted,
}

impl Stroke {
    fn dasharray(self) -> &'static str {
        match self {
            Stroke::Solid => "",
            Stroke::Dashed => r#" stroke-dasharray="7 4""#,
            Stroke::Dotted => r#" stroke-dasharray="2 3""#,
        }
    }
}

/// One series of a line chart.
#[derive(Clone, Debug)]
pub struct Line {
    /// Legend text.
    pub label: String,
    /// Stroke colour.
    pub colour: String,
    /// Stroke style.
    pub stroke: Stroke,
    /// `(x, y)` in data units, in x order.
    pub points: Vec<(f64, f64)>,
    /// Draw as steps (for CDFs) rather than straight segments.
    pub step: bool,
    /// Per point: `Some(true)` draws a pass dot, `Some(false)` a fail cross.
    /// Empty or shorter than `points` means no marker.
    pub marks: Vec<Option<bool>>,
}

impl Line {
    /// A solid line without markers.
    pub fn new(label: impl Into<String>, colour: &str, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            colour: colour.to_string(),
            stroke: Stroke::Solid,
            points,
            step: false,
            marks: Vec::new(),
        }
    }

    /// The same line with another stroke.
    pub fn stroke(mut self, stroke: Stroke) -> Self {
        self.stroke = stroke;
        self
    }
}

/// A labelled reference line across the plot.
#[derive(Clone, Debug)]
pub struct RefLine {
    /// Vertical (an x value) or horizontal (a y value).
    pub vertical: bool,
    /// Where, in data units.
    pub value: f64,
    /// Its label, e.g. "target < 150 ms".
    pub label: String,
    /// Its colour.
    pub colour: String,
    /// Widen the axis to show it; otherwise a line outside the data range
    /// is mentioned in a note instead of drawn.
    pub extend: bool,
}

impl RefLine {
    /// A horizontal SLO target line (red, dashed).
    pub fn target_y(value: f64, label: impl Into<String>, extend: bool) -> Self {
        Self {
            vertical: false,
            value,
            label: label.into(),
            colour: FAIL.into(),
            extend,
        }
    }

    /// A vertical SLO target line (red, dashed).
    pub fn target_x(value: f64, label: impl Into<String>, extend: bool) -> Self {
        Self {
            vertical: true,
            ..Self::target_y(value, label, extend)
        }
    }

    /// A grey guide line.
    pub fn guide(vertical: bool, value: f64, label: impl Into<String>) -> Self {
        Self {
            vertical,
            value,
            label: label.into(),
            colour: "#8a8f98".into(),
            extend: true,
        }
    }
}

/// A line chart.
#[derive(Clone, Debug, Default)]
pub struct LineChart {
    /// Unique within the page (used for clip-path ids).
    pub id: String,
    /// Heading drawn in the chart.
    pub title: String,
    /// Smaller text under the heading.
    pub subtitle: String,
    /// X axis label with unit, e.g. "time since start (s)".
    pub x_label: String,
    /// Y axis label with unit.
    pub y_label: String,
    /// The series.
    pub lines: Vec<Line>,
    /// Reference lines.
    pub refs: Vec<RefLine>,
    /// Fixed x range instead of the data's.
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range instead of the data's.
    pub y_range: Option<(f64, f64)>,
    /// Start the x axis at 0 even when the data starts later.
    pub x_from_zero: bool,
    /// Start the y axis at 0.
    pub y_from_zero: bool,
    /// Extra legend entries without a line (e.g. "● pass  ✕ fail").
    pub legend_notes: Vec<String>,
}

struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    top: f64,
    plot_w: f64,
    plot_h: f64,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x0) / (self.x1 - self.x0) * self.plot_w
    }
    fn py(&self, y: f64) -> f64 {
        self.top + self.plot_h - (y - self.y0) / (self.y1 - self.y0) * self.plot_h
    }
    fn contains_x(&self, x: f64) -> bool {
        x >= self.x0 && x <= self.x1
    }
    fn contains_y(&self, y: f64) -> bool {
        y >= self.y0 && y <= self.y1
    }
}

/// Lays out legend entries in rows; returns `(x, row)` per entry and rows.
fn legend_layout(labels: &[String], width: f64) -> (Vec<(f64, usize)>, usize) {
    let mut out = Vec::with_capacity(labels.len());
    let (mut x, mut row) = (LEFT, 0usize);
    for l in labels {
        let w = 34.0 + text_width(l, 12.0) + 18.0;
        if x + w > width - RIGHT && x > LEFT {
            x = LEFT;
            row += 1;
        }
        out.push((x, row));
        x += w;
    }
    (out, if labels.is_empty() { 0 } else { row + 1 })
}

fn svg_open(out: &mut String, height: f64, title: &str) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{t}" font-family="{FONT}" font-size="12"><title>{t}</title><rect width="{WIDTH}" height="{height}" fill="#ffffff"/>"##,
        t = escape(title)
    );
}

fn header(out: &mut String, title: &str, subtitle: &str) -> f64 {
    let _ = write!(
        out,
        r##"<text x="{LEFT}" y="24" font-size="16" font-weight="600" fill="#1f2328">{}</text>"##,
        escape(title)
    );
    if subtitle.is_empty() {
        return 36.0;
    }
    let _ = write!(
        out,
        r##"<text x="{LEFT}" y="42" font-size="12" fill="#59636e">{}</text>"##,
        escape(subtitle)
    );
    52.0
}

fn empty_frame(id: &str, title: &str, subtitle: &str, message: &str) -> String {
    let _ = id;
    let height = 140.0;
    let mut out = String::new();
    svg_open(&mut out, height, title);
    let top = header(&mut out, title, subtitle);
    let _ = write!(
        out,
        r##"<rect x="{LEFT}" y="{top}" width="{w}" height="{h}" fill="#f6f8fa" stroke="#d0d7de" rx="6"/><text x="{cx}" y="{cy}" text-anchor="middle" fill="#59636e" font-size="13">{m}</text></svg>"##,
        w = WIDTH - LEFT - RIGHT,
        h = height - top - 12.0,
        cx = LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        cy = top + (height - top - 12.0) / 2.0 + 4.0,
        m = escape(message)
    );
    out
}

fn draw_axes(out: &mut String, f: &Frame, x_step: f64, y_step: f64, x_label: &str, y_label: &str) {
    // Grid and tick labels.
    for y in tick_values(f.y0, f.y1, y_step) {
        let py = f.py(y);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{py:.1}" y2="{py:.1}" stroke="#eaeef2"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#59636e">{l}</text>"##,
            x2 = LEFT + f.plot_w,
            tx = LEFT - 8.0,
            ty = py + 4.0,
            l = escape(&fmt_tick(y, y_step))
        );
    }
    for x in tick_values(f.x0, f.x1, x_step) {
        let px = f.px(x);
        let _ = write!(
            out,
            r##"<line x1="{px:.1}" x2="{px:.1}" y1="{t}" y2="{b}" stroke="#eaeef2"/><line x1="{px:.1}" x2="{px:.1}" y1="{b}" y2="{b5}" stroke="#59636e"/><text x="{px:.1}" y="{ty}" text-anchor="middle" fill="#59636e">{l}</text>"##,
            t = f.top,
            b = f.top + f.plot_h,
            b5 = f.top + f.plot_h + 5.0,
            ty = f.top + f.plot_h + 19.0,
            l = escape(&fmt_tick(x, x_step))
        );
    }
    // Axis lines.
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{t}" y2="{b}" stroke="#59636e"/><line x1="{LEFT}" x2="{r}" y1="{b}" y2="{b}" stroke="#59636e"/>"##,
        t = f.top,
        b = f.top + f.plot_h,
        r = LEFT + f.plot_w
    );
    // Axis titles.
    let _ = write!(
        out,
        r##"<text x="{cx}" y="{y}" text-anchor="middle" fill="#1f2328" font-weight="500">{xl}</text><text transform="translate(18 {cy}) rotate(-90)" text-anchor="middle" fill="#1f2328" font-weight="500">{yl}</text>"##,
        cx = LEFT + f.plot_w / 2.0,
        y = f.top + f.plot_h + 40.0,
        cy = f.top + f.plot_h / 2.0,
        xl = escape(x_label),
        yl = escape(y_label)
    );
}

/// Names a reference line that lies outside the plotted range, top right.
fn off_chart_note(out: &mut String, i: usize, arrow: &str, r: &RefLine) {
    let _ = write!(
        out,
        r##"<text x="{x}" y="{y}" fill="{c}" font-size="11" stroke="#ffffff" stroke-width="3" paint-order="stroke" text-anchor="end">{arrow} {l}: off the chart</text>"##,
        x = WIDTH - RIGHT,
        y = 22.0 + i as f64 * 14.0,
        c = escape(&r.colour),
        l = escape(&r.label)
    );
}

fn legend_swatch(out: &mut String, x: f64, y: f64, colour: &str, stroke: Stroke, label: &str) {
    let _ = write!(
        out,
        r##"<line x1="{x}" x2="{x2}" y1="{y}" y2="{y}" stroke="{c}" stroke-width="3"{d}/><text x="{tx}" y="{ty}" fill="#1f2328">{l}</text>"##,
        x2 = x + 26.0,
        c = escape(colour),
        d = stroke.dasharray(),
        tx = x + 32.0,
        ty = y + 4.0,
        l = escape(label)
    );
}

impl LineChart {
    /// The chart as an `<svg>` element.
    pub fn render(&self) -> String {
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let has_data = self
            .lines
            .iter()
            .any(|l| l.points.iter().any(|p| finite(&p)));
        if !has_data {
            return empty_frame(
                &self.id,
                &self.title,
                &self.subtitle,
                "no data in these runs",
            );
        }
        let (mut xmin, mut xmax, mut ymin, mut ymax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in self
            .lines
            .iter()
            .flat_map(|l| l.points.iter())
            .filter(finite)
        {
            xmin = xmin.min(p.0);
            xmax = xmax.max(p.0);
            ymin = ymin.min(p.1);
            ymax = ymax.max(p.1);
        }
        for r in self.refs.iter().filter(|r| r.extend && r.value.is_finite()) {
            if r.vertical {
                xmin = xmin.min(r.value);
                xmax = xmax.max(r.value);
            } else {
                ymin = ymin.min(r.value);
                ymax = ymax.max(r.value);
            }
        }
        if self.x_from_zero {
            xmin = xmin.min(0.0);
        }
        // Room for the last marker, so it is not cut by the frame.
        if self.lines.iter().any(|l| !l.marks.is_empty()) {
            xmax += (xmax - xmin).abs() * 0.03;
        }
        if self.y_from_zero {
            ymin = ymin.min(0.0);
        }
        // Headroom above the data so the top line is not on the frame.
        if self.y_range.is_none() {
            ymax += (ymax - ymin).abs() * 0.05;
        }
        let (x0, x1, x_step) = match self.x_range {
            Some((a, b)) if a.is_finite() && b.is_finite() && b > a => {
                let (_, _, s) = nice_ticks(a, b, 8);
                (a, b, s)
            }
            _ => nice_ticks(xmin, xmax, 8),
        };
        let (y0, y1, y_step) = match self.y_range {
            Some((a, b)) if a.is_finite() && b.is_finite() && b > a => {
                let (_, _, s) = nice_ticks(a, b, 5);
                (a, b, s)
            }
            _ => nice_ticks(ymin, ymax, 5),
        };

        let mut labels: Vec<String> = self.lines.iter().map(|l| l.label.clone()).collect();
        labels.extend(self.legend_notes.iter().cloned());
        let (legend_pos, legend_rows) = legend_layout(&labels, WIDTH);
        let header_h = if self.subtitle.is_empty() { 36.0 } else { 52.0 };
        let top = header_h + legend_rows as f64 * 20.0 + 12.0;
        let plot_h = 220.0;
        let height = top + plot_h + BOTTOM;
        let f = Frame {
            x0,
            x1,
            y0,
            y1,
            top,
            plot_w: WIDTH - LEFT - RIGHT,
            plot_h,
        };

        let mut out = String::new();
        svg_open(&mut out, height, &self.title);
        header(&mut out, &self.title, &self.subtitle);
        for (i, l) in self.lines.iter().enumerate() {
            let (x, row) = legend_pos[i];
            let y = header_h + 8.0 + row as f64 * 20.0;
            legend_swatch(&mut out, x, y, &l.colour, l.stroke, &l.label);
        }
        for (j, note) in self.legend_notes.iter().enumerate() {
            let (x, row) = legend_pos[self.lines.len() + j];
            let y = header_h + 8.0 + row as f64 * 20.0;
            let _ = write!(
                out,
                r##"<text x="{x}" y="{ty}" fill="#59636e">{n}</text>"##,
                ty = y + 4.0,
                n = escape(note)
            );
        }
        draw_axes(&mut out, &f, x_step, y_step, &self.x_label, &self.y_label);

        let clip = format!("clip-{}", escape(&self.id));
        let _ = write!(
            out,
            r#"<clipPath id="{clip}"><rect x="{LEFT}" y="{t}" width="{w}" height="{h}"/></clipPath>"#,
            t = f.top - 2.0,
            w = f.plot_w + 2.0,
            h = f.plot_h + 4.0
        );

        // Reference lines, under the data.
        let mut outside = Vec::new();
        for r in &self.refs {
            if !r.value.is_finite() {
                continue;
            }
            let shown = if r.vertical {
                f.contains_x(r.value)
            } else {
                f.contains_y(r.value)
            };
            if !shown {
                outside.push(r);
                continue;
            }
            let c = escape(&r.colour);
            let l = escape(&r.label);
            if r.vertical {
                let px = f.px(r.value);
                let _ = write!(
                    out,
                    r##"<line x1="{px:.1}" x2="{px:.1}" y1="{t}" y2="{b}" stroke="{c}" stroke-width="1.5" stroke-dasharray="5 4"/><text x="{tx:.1}" y="{ty}" fill="{c}" font-size="11" stroke="#ffffff" stroke-width="3" paint-order="stroke" text-anchor="{a}">{l}</text>"##,
                    t = f.top,
                    b = f.top + f.plot_h,
                    tx = if px > LEFT + f.plot_w - 160.0 {
                        px - 5.0
                    } else {
                        px + 5.0
                    },
                    a = if px > LEFT + f.plot_w - 160.0 {
                        "end"
                    } else {
                        "start"
                    },
                    ty = f.top + 12.0,
                );
            } else {
                let py = f.py(r.value);
                let _ = write!(
                    out,
                    r##"<line x1="{LEFT}" x2="{x2}" y1="{py:.1}" y2="{py:.1}" stroke="{c}" stroke-width="1.5" stroke-dasharray="5 4"/><text x="{tx}" y="{ty:.1}" fill="{c}" font-size="11" stroke="#ffffff" stroke-width="3" paint-order="stroke" text-anchor="end">{l}</text>"##,
                    x2 = LEFT + f.plot_w,
                    tx = LEFT + f.plot_w - 4.0,
                    ty = if py - 5.0 < f.top + 10.0 {
                        py + 14.0
                    } else {
                        py - 5.0
                    },
                );
            }
        }

        // Data.
        let _ = write!(out, r#"<g clip-path="url(#{clip})" fill="none">"#);
        for l in &self.lines {
            let pts: Vec<(f64, f64)> = l.points.iter().copied().filter(|p| finite(&p)).collect();
            if pts.is_empty() {
                continue;
            }
            let mut d = String::new();
            let mut prev: Option<(f64, f64)> = None;
            for &(x, y) in &pts {
                let (px, py) = (f.px(x), f.py(y));
                match prev {
                    None => {
                        let _ = write!(d, "M{px:.1} {py:.1}");
                    }
                    Some((_, ppy)) if l.step => {
                        let _ = write!(d, "H{px:.1}V{py:.1}");
                        let _ = ppy;
                    }
                    Some(_) => {
                        let _ = write!(d, "L{px:.1} {py:.1}");
                    }
                }
                prev = Some((px, py));
            }
            if pts.len() == 1 {
                let (px, py) = (f.px(pts[0].0), f.py(pts[0].1));
                let _ = write!(
                    out,
                    r#"<circle cx="{px:.1}" cy="{py:.1}" r="3" fill="{c}"/>"#,
                    c = escape(&l.colour)
                );
            }
            let _ = write!(
                out,
                r#"<path d="{d}" stroke="{c}" stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round"{dash}/>"#,
                c = escape(&l.colour),
                dash = l.stroke.dasharray()
            );
        }
        out.push_str("</g>");
        // Markers are drawn unclipped so that edge points stay whole.
        for l in &self.lines {
            for (p, m) in l.points.iter().zip(l.marks.iter()) {
                if !finite(&p) || !f.contains_x(p.0) || !f.contains_y(p.1) {
                    continue;
                }
                let (px, py) = (f.px(p.0), f.py(p.1));
                match m {
                    Some(true) => {
                        let _ = write!(
                            out,
                            r##"<circle cx="{px:.1}" cy="{py:.1}" r="5" fill="{PASS}" stroke="#ffffff" stroke-width="1.5"/>"##
                        );
                    }
                    Some(false) => {
                        let _ = write!(
                            out,
                            r#"<path d="M{a:.1} {b:.1}L{c:.1} {e:.1}M{a:.1} {e:.1}L{c:.1} {b:.1}" stroke="{FAIL}" stroke-width="3" stroke-linecap="round"/>"#,
                            a = px - 5.0,
                            b = py - 5.0,
                            c = px + 5.0,
                            e = py + 5.0
                        );
                    }
                    None => {}
                }
            }
        }
        // Reference lines outside the range are named, not silently lost.
        for (i, r) in outside.iter().enumerate() {
            let arrow = match (r.vertical, r.value > if r.vertical { f.x1 } else { f.y1 }) {
                (true, true) => "→",
                (true, false) => "←",
                (false, true) => "↑",
                (false, false) => "↓",
            };
            off_chart_note(&mut out, i, arrow, r);
        }
        out.push_str("</svg>");
        out
    }
}

/// One category's figures in a range bar chart.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    /// Solid bar height.
    pub low: f64,
    /// Light bar height.
    pub high: f64,
    /// Tick mark.
    pub top: Option<f64>,
}

/// One series (run) of a range bar chart.
#[derive(Clone, Debug)]
pub struct BarSeries {
    /// Legend text.
    pub label: String,
    /// Colour.
    pub colour: String,
    /// One entry per category (`None` = no bar).
    pub values: Vec<Option<Range>>,
}

/// Bars per category: a solid bar to `low`, a light bar to `high`, a tick
/// at `top` (e.g. P50, P95, P99). Several series sit side by side.
#[derive(Clone, Debug, Default)]
pub struct BarChart {
    /// Unique within the page.
    pub id: String,
    /// Heading.
    pub title: String,
    /// Smaller text under the heading.
    pub subtitle: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label with unit.
    pub y_label: String,
    /// Category labels along x.
    pub categories: Vec<String>,
    /// The series.
    pub series: Vec<BarSeries>,
    /// Legend notes explaining the glyphs.
    pub legend_notes: Vec<String>,
    /// Horizontal reference lines.
    pub refs: Vec<RefLine>,
}

impl BarChart {
    /// The chart as an `<svg>` element.
    pub fn render(&self) -> String {
        let values = || {
            self.series
                .iter()
                .flat_map(|s| s.values.iter().flatten())
                .flat_map(|r| [Some(r.low), Some(r.high), r.top].into_iter().flatten())
                .filter(|v| v.is_finite())
        };
        if self.categories.is_empty() || values().next().is_none() {
            return empty_frame(
                &self.id,
                &self.title,
                &self.subtitle,
                "no data in these runs",
            );
        }
        let mut ymax = values().fold(0.0f64, f64::max);
        for r in self
            .refs
            .iter()
            .filter(|r| r.extend && !r.vertical && r.value.is_finite())
        {
            ymax = ymax.max(r.value);
        }
        let (y0, y1, y_step) = nice_ticks(0.0, ymax * 1.05, 5);
        let mut labels: Vec<String> = self.series.iter().map(|s| s.label.clone()).collect();
        labels.extend(self.legend_notes.iter().cloned());
        let (legend_pos, legend_rows) = legend_layout(&labels, WIDTH);
        let header_h = if self.subtitle.is_empty() { 36.0 } else { 52.0 };
        let top = header_h + legend_rows as f64 * 20.0 + 12.0;
        let plot_h = 220.0;
        let height = top + plot_h + BOTTOM;
        let plot_w = WIDTH - LEFT - RIGHT;
        let f = Frame {
            x0: 0.0,
            x1: self.categories.len() as f64,
            y0,
            y1,
            top,
            plot_w,
            plot_h,
        };
        let mut out = String::new();
        svg_open(&mut out, height, &self.title);
        header(&mut out, &self.title, &self.subtitle);
        for (i, s) in self.series.iter().enumerate() {
            let (x, row) = legend_pos[i];
            let y = header_h + 8.0 + row as f64 * 20.0;
            let _ = write!(
                out,
                r##"<rect x="{x}" y="{ry}" width="26" height="10" fill="{c}"/><text x="{tx}" y="{ty}" fill="#1f2328">{l}</text>"##,
                ry = y - 5.0,
                c = escape(&s.colour),
                tx = x + 32.0,
                ty = y + 4.0,
                l = escape(&s.label)
            );
        }
        for (j, note) in self.legend_notes.iter().enumerate() {
            let (x, row) = legend_pos[self.series.len() + j];
            let y = header_h + 8.0 + row as f64 * 20.0;
            let _ = write!(
                out,
                r##"<text x="{x}" y="{ty}" fill="#59636e">{n}</text>"##,
                ty = y + 4.0,
                n = escape(note)
            );
        }
        // Y grid and labels.
        for y in tick_values(y0, y1, y_step) {
            let py = f.py(y);
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" x2="{x2}" y1="{py:.1}" y2="{py:.1}" stroke="#eaeef2"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#59636e">{l}</text>"##,
                x2 = LEFT + plot_w,
                tx = LEFT - 8.0,
                ty = py + 4.0,
                l = escape(&fmt_tick(y, y_step))
            );
        }
        let n = self.categories.len();
        let slot = plot_w / n as f64;
        let label_every = ((n as f64 * 36.0 / plot_w).ceil() as usize).max(1);
        let groups = self.series.len().max(1) as f64;
        let bar_w = (slot * 0.8 / groups).max(0.5);
        for (ci, cat) in self.categories.iter().enumerate() {
            let sx = LEFT + slot * ci as f64;
            if ci % label_every == 0 {
                let _ = write!(
                    out,
                    r##"<text x="{x:.1}" y="{y}" text-anchor="middle" fill="#59636e">{l}</text>"##,
                    x = sx + slot / 2.0,
                    y = top + plot_h + 19.0,
                    l = escape(cat)
                );
            }
            for (si, s) in self.series.iter().enumerate() {
                let Some(Some(r)) = s.values.get(ci) else {
                    continue;
                };
                let bx = sx + slot * 0.1 + bar_w * si as f64;
                let c = escape(&s.colour);
                let clampy = |v: f64| f.py(v.clamp(y0, y1));
                if r.high.is_finite() {
                    let (yh, yb) = (clampy(r.high), clampy(0.0));
                    let _ = write!(
                        out,
                        r#"<rect x="{bx:.1}" y="{yh:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{c}" fill-opacity="0.3"/>"#,
                        h = (yb - yh).max(0.0)
                    );
                }
                if r.low.is_finite() {
                    let (yl, yb) = (clampy(r.low), clampy(0.0));
                    let _ = write!(
                        out,
                        r#"<rect x="{bx:.1}" y="{yl:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{c}"/>"#,
                        h = (yb - yl).max(0.0)
                    );
                }
                // Ticks on bars narrower than 3 px would only be noise.
                if let Some(t) = r.top.filter(|t| t.is_finite() && bar_w >= 3.0) {
                    let yt = clampy(t);
                    let _ = write!(
                        out,
                        r##"<line x1="{a:.1}" x2="{b:.1}" y1="{yt:.1}" y2="{yt:.1}" stroke="#1f2328" stroke-width="2"/>"##,
                        a = bx,
                        b = bx + bar_w
                    );
                }
            }
        }
        for r in self
            .refs
            .iter()
            .filter(|r| !r.vertical && r.value.is_finite())
        {
            if !f.contains_y(r.value) {
                off_chart_note(&mut out, 0, "↑", r);
                continue;
            }
            let py = f.py(r.value);
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" x2="{x2}" y1="{py:.1}" y2="{py:.1}" stroke="{c}" stroke-width="1.5" stroke-dasharray="5 4"/><text x="{tx}" y="{ty:.1}" fill="{c}" font-size="11" stroke="#ffffff" stroke-width="3" paint-order="stroke" text-anchor="end">{l}</text>"##,
                x2 = LEFT + plot_w,
                c = escape(&r.colour),
                tx = LEFT + plot_w - 4.0,
                ty = py - 5.0,
                l = escape(&r.label)
            );
        }
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{LEFT}" y1="{top}" y2="{b}" stroke="#59636e"/><line x1="{LEFT}" x2="{r}" y1="{b}" y2="{b}" stroke="#59636e"/><text x="{cx}" y="{xy}" text-anchor="middle" fill="#1f2328" font-weight="500">{xl}</text><text transform="translate(18 {cy}) rotate(-90)" text-anchor="middle" fill="#1f2328" font-weight="500">{yl}</text></svg>"##,
            b = top + plot_h,
            r = LEFT + plot_w,
            cx = LEFT + plot_w / 2.0,
            xy = top + plot_h + 40.0,
            cy = top + plot_h / 2.0,
            xl = escape(&self.x_label),
            yl = escape(&self.y_label)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        assert_eq!(nice_ticks(0.0, 97.0, 5), (0.0, 100.0, 20.0));
        assert_eq!(nice_ticks(0.0, 0.0, 5), (0.0, 1.0, 0.2));
        let (lo, hi, step) = nice_ticks(3.2, 47.9, 8);
        assert_eq!(step, 10.0);
        assert_eq!((lo, hi), (0.0, 50.0));
        assert_eq!(fmt_tick(0.25, 0.25), "0.25");
        assert_eq!(fmt_tick(2.5, 2.5), "2.5");
        assert_eq!(fmt_tick(40.0, 20.0), "40");
        assert_eq!(fmt_tick(0.4, 0.2), "0.4");
        assert_eq!(fmt_tick(20_000.0, 5000.0), "20\u{2009}000");
        let (lo, hi, step) = nice_ticks(f64::NAN, 1.0, 5);
        assert!(lo.is_finite() && hi > lo && step > 0.0);
    }

    #[test]
    fn hostile_labels_are_escaped_and_empty_charts_render() {
        let chart = LineChart {
            id: "t".into(),
            title: "<script>alert(1)</script>".into(),
            lines: vec![Line::new("a&b", "#000", vec![(0.0, f64::NAN)])],
            ..LineChart::default()
        };
        let svg = chart.render();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("no data"));
        let bars = BarChart::default().render();
        assert!(bars.starts_with("<svg") && bars.ends_with("</svg>"));
    }
}
