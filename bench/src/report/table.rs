//! Terminal output: the SLO summary table and the one-line progress display.
//! Pure formatting: these return Strings and the generator prints them.

use std::io::IsTerminal;
use std::time::Duration;

use super::slo::{check_title, fmt_value, SloResult};

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31;1m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Whether to colour output on stdout: only on a terminal, and never when
/// `NO_COLOR` is set (<https://no-color.org>).
pub fn stdout_wants_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The SLO table, one row per check, columns aligned:
///
/// ```text
/// Check                            Target     Measured   Result
/// Mouth-to-ear latency, average    < 50 ms    12.3 ms    pass
/// ...
/// SLO: PASS (9 passed, 0 failed, 1 not measured)
/// ```
///
/// `colour` adds ANSI colours to the result column and verdict; pass
/// [`stdout_wants_colour`] when printing to stdout.
pub fn summary_table(result: &SloResult, colour: bool) -> String {
    let header = ["Check", "Target", "Measured", "Result"];
    let rows: Vec<[String; 4]> = result
        .checks
        .iter()
        .map(|c| {
            [
                check_title(&c.name).to_string(),
                c.target.clone(),
                c.measured_text(),
                c.verdict().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4], paint: Option<&str>| -> String {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let last = i == cells.len() - 1;
            match (paint, last) {
                (Some(p), true) => text.push_str(&format!("{p}{cell}{RESET}")),
                _ => text.push_str(cell),
            }
            if !last {
                let pad = widths[i].saturating_sub(cell.chars().count());
                text.push_str(&" ".repeat(pad + 3));
            }
        }
        text
    };
    let mut out = String::new();
    let header_line = line(header, None);
    if colour {
        out.push_str(&format!("{BOLD}{header_line}{RESET}\n"));
    } else {
        out.push_str(&header_line);
        out.push('\n');
    }
    let rule: usize = widths.iter().sum::<usize>() + 3 * (widths.len() - 1);
    out.push_str(&"─".repeat(rule));
    out.push('\n');
    for (row, c) in rows.iter().zip(&result.checks) {
        let paint = colour.then_some(match c.pass {
            Some(true) => GREEN,
            Some(false) => RED,
            None => DIM,
        });
        out.push_str(&line(row.each_ref().map(String::as_str), paint));
        out.push('\n');
    }
    let passed = result
        .checks
        .iter()
        .filter(|c| c.pass == Some(true))
        .count();
    let failed = result
        .checks
        .iter()
        .filter(|c| c.pass == Some(false))
        .count();
    let unmeasured = result.checks.len() - passed - failed;
    let verdict = if result.pass { "PASS" } else { "FAIL" };
    let verdict = match (colour, result.pass) {
        (true, true) => format!("{GREEN}{BOLD}{verdict}{RESET}"),
        (true, false) => format!("{RED}{verdict}{RESET}"),
        (false, _) => verdict.to_string(),
    };
    out.push_str(&format!(
        "SLO: {verdict} ({passed} passed, {failed} failed, {unmeasured} not measured)\n"
    ));
    out
}

/// The live figures of a running bench.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProgressLine {
    /// Time since the measured phase (or warm-up) began.
    pub elapsed: Duration,
    /// Planned length.
    pub total: Duration,
    /// Guardians admitted and streaming.
    pub guardians_up: u32,
    /// Guardians planned.
    pub guardians_total: u32,
    /// Receive loss over the last second, percent.
    pub loss_pct: Option<f64>,
    /// Mean receive jitter, ms.
    pub jitter_ms: Option<f64>,
    /// Mouth-to-ear P95 so far, ms.
    pub latency_p95_ms: Option<f64>,
    /// Still warming up (figures not yet counted).
    pub warming_up: bool,
}

impl ProgressLine {
    /// The line without control characters, at most `width` columns when
    /// `width` leaves room for the figures (the bar shrinks first):
    ///
    /// `[██████░░░░░░]  12/30 s  guardians 12/12  loss 0.00 %  jitter 1.2 ms  m2e p95 23 ms`
    pub fn text(&self, width: usize) -> String {
        let total_s = self.total.as_secs_f64();
        let elapsed_s = self.elapsed.as_secs_f64().min(total_s.max(0.0));
        let opt = |v: Option<f64>, unit: &str| match v {
            Some(v) if v.is_finite() => format!("{} {unit}", fmt_value(v)),
            _ => "–".to_string(),
        };
        let figures = format!(
            "{}{:.0}/{:.0} s  guardians {}/{}  loss {}  jitter {}  m2e p95 {}",
            if self.warming_up { "warm-up " } else { "" },
            elapsed_s.floor(),
            total_s.ceil(),
            self.guardians_up,
            self.guardians_total,
            opt(self.loss_pct, "%"),
            opt(self.jitter_ms, "ms"),
            opt(self.latency_p95_ms, "ms"),
        );
        let room = width.saturating_sub(figures.chars().count() + 4);
        let bar_len = room.min(30);
        if bar_len < 5 {
            return figures;
        }
        let frac = if total_s > 0.0 {
            elapsed_s / total_s
        } else {
            0.0
        };
        let filled = ((frac * bar_len as f64).round() as usize).min(bar_len);
        format!(
            "[{}{}]  {figures}",
            "█".repeat(filled),
            "░".repeat(bar_len - filled)
        )
    }

    /// The line for a terminal: return to column 0 and clear it first, no
    /// newline, so successive calls overwrite one line. Print a plain
    /// [`text`](Self::text) with a newline instead when not on a terminal.
    pub fn for_terminal(&self, width: usize) -> String {
        format!("\r\x1b[2K{}", self.text(width))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::slo::{evaluate, Measured, SloTargets};

    #[test]
    fn table_is_aligned_and_plain_without_colour() {
        let m = Measured {
            latency_avg_ms: Some(12.34),
            latency_p95_ms: Some(200.0),
            ..Measured::default()
        };
        let r = evaluate(&SloTargets::default(), &m);
        let t = summary_table(&r, false);
        assert!(!t.contains('\x1b'));
        let lines: Vec<&str> = t.lines().collect();
        let col = lines[0].find("Target").unwrap();
        for l in &lines[2..lines.len() - 1] {
            let chars: Vec<char> = l.chars().collect();
            let prefix: String = chars[..col].iter().collect();
            assert!(prefix.ends_with("   "), "{l:?}");
            assert!(!chars[col].is_whitespace(), "{l:?}");
        }
        assert!(t.contains("FAIL"));
        assert!(t.ends_with("SLO: FAIL (1 passed, 1 failed, 8 not measured)\n"));
        assert!(summary_table(&r, true).contains(RED));
    }

    #[test]
    fn progress_fits_and_fills() {
        let p = ProgressLine {
            elapsed: Duration::from_secs(15),
            total: Duration::from_secs(30),
            guardians_up: 12,
            guardians_total: 12,
            loss_pct: Some(0.0),
            jitter_ms: Some(1.234),
            latency_p95_ms: None,
            warming_up: false,
        };
        let t = p.text(120);
        assert!(t.chars().count() <= 120, "{t}");
        assert!(t.contains("15/30 s") && t.contains("jitter 1.23 ms") && t.contains("m2e p95 –"));
        assert!(!p.text(20).contains('['));
        assert!(p.for_terminal(80).starts_with('\r'));
    }
}
