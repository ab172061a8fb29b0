//! Converts prometheus-client's OpenMetrics text into the Prometheus text
//! format 0.0.4, for scrapers and tools (`promtool check metrics`) that ask
//! for the classic format. The two differ, for what this registry emits, in
//! three ways: a counter family is named without `_total` in OpenMetrics and
//! with it in 0.0.4, `# UNIT` lines do not exist in 0.0.4, and 0.0.4 has no
//! `# EOF`.

/// The Prometheus 0.0.4 content type.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Rewrites OpenMetrics `text` as Prometheus 0.0.4 text.
#[must_use]
pub fn openmetrics_to_prometheus(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut help: Option<&str> = None;
    for line in text.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            // Held back until the TYPE line says whether the name changes.
            if let Some(h) = help.replace(rest) {
                push_line(&mut out, &["# HELP ", h]);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let suffix = if kind == "counter" && !name.ends_with("_total") {
                "_total"
            } else {
                ""
            };
            if let Some(h) = help.take() {
                let (help_name, help_text) = h.split_once(' ').unwrap_or((h, ""));
                if help_name == name {
                    push_line(&mut out, &["# HELP ", name, suffix, " ", help_text]);
                } else {
                    push_line(&mut out, &["# HELP ", h]);
                }
            }
            push_line(&mut out, &["# TYPE ", name, suffix, " ", kind]);
            continue;
        }
        if let Some(h) = help.take() {
            push_line(&mut out, &["# HELP ", h]);
        }
        push_line(&mut out, &[line]);
    }
    if let Some(h) = help {
        push_line(&mut out, &["# HELP ", h]);
    }
    out
}

fn push_line(out: &mut String, parts: &[&str]) {
    for p in parts {
        out.push_str(p);
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::openmetrics_to_prometheus;

    #[test]
    fn counters_gain_total_and_om_only_lines_go() {
        let om = "# HELP a_b Things.\n# TYPE a_b counter\na_b_total 3\n\
                  # HELP g A gauge.\n# TYPE g gauge\n# UNIT g seconds\ng 1\n# EOF\n";
        assert_eq!(
            openmetrics_to_prometheus(om),
            "# HELP a_b_total Things.\n# TYPE a_b_total counter\na_b_total 3\n\
             # HELP g A gauge.\n# TYPE g gauge\ng 1\n"
        );
    }
}
