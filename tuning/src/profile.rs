//! Tuning profiles: sysctl.d files with machine-readable annotations.
//!
//! A profile is a plain sysctl.d file (`sysctl --system` reads it as it is).
//! The comment lines right above a key annotate it:
//!
//! ```text
//! # reason: why the key is set (required, one line)
//! # source: where the value comes from (optional, repeatable)
//! # check: exact | min | max        (default exact)
//! # severity: warn | fail           (default warn)
//! # absent: ok | warn | fail        (default warn)
//! net.core.rmem_max = 5251072
//! ```
//!
//! `# require: key = value` in place of the key line makes a check-only
//! requirement: `check` compares it, `apply` and sysctl never write it.
//! Header lines `# profile: …` form the summary and `# param: name = value`
//! set the sizing and host-check parameters. Other comments are free text.
//! A key without a reason, or an annotation not followed by a key, is an
//! error: no setting without a reason.

use std::fmt;

use crate::sizing::Sizing;

/// The profiles built into the binary: name and file text.
pub const BUILTIN: [(&str, &str); 3] = [
    ("low-latency", include_str!("../profiles/low-latency.conf")),
    ("balanced", include_str!("../profiles/balanced.conf")),
    ("throughput", include_str!("../profiles/throughput.conf")),
];

/// The names of the built-in profiles, in order.
pub fn known_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, _)| *name).collect()
}

/// How a live value is compared with the profile's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Every field equal.
    Exact,
    /// Every field at least the profile's (more is fine: sizes).
    Min,
    /// Every field at most the profile's (less is fine).
    Max,
}

impl Compare {
    /// The operator as printed: `=`, `>=`, `<=`.
    pub fn symbol(self) -> &'static str {
        match self {
            Compare::Exact => "=",
            Compare::Min => ">=",
            Compare::Max => "<=",
        }
    }
}

/// How bad a check that does not pass is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// As wanted.
    Pass,
    /// Works, but not as tuned; look at it.
    Warn,
    /// Will cost packets, latency or start-up.
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        })
    }
}

/// A sysctl value: whitespace-separated fields (`udp_mem` has three).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value(pub Vec<String>);

impl Value {
    /// Splits on whitespace; quotes around the whole value are dropped.
    pub fn parse(text: &str) -> Value {
        let text = text.trim();
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        Value(text.split_whitespace().map(str::to_owned).collect())
    }

    /// A value from numbers.
    pub fn from_numbers(fields: &[u64]) -> Value {
        Value(fields.iter().map(u64::to_string).collect())
    }

    /// The fields as numbers, if all are.
    pub fn numbers(&self) -> Option<Vec<i128>> {
        self.0.iter().map(|f| f.parse::<i128>().ok()).collect()
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// One key of a profile with its annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Dotted sysctl key.
    pub key: String,
    /// The value the file holds (for the profile's reference guardian count).
    pub value: Value,
    /// Why it is set.
    pub reason: String,
    /// Where the value comes from.
    pub sources: Vec<String>,
    /// How a live value is compared.
    pub compare: Compare,
    /// What a live value that does not pass counts as.
    pub severity: Status,
    /// What a key missing from this kernel counts as.
    pub absent: Status,
    /// Checked only, never written (`# require:`).
    pub check_only: bool,
}

/// A parsed profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Its name (`low-latency`, …).
    pub name: String,
    /// The `# profile:` lines joined.
    pub summary: String,
    /// Sizing for the reference guardian count of the file.
    pub sizing: Sizing,
    /// Whether missing `isolcpus`/`nohz_full`/`rcu_nocbs` for the media cores
    /// is a warning (`host_isolation = warn`) or not checked (`ignore`).
    pub isolation_matters: bool,
    /// Whether transparent huge pages set to `always` is a warning.
    pub thp_always_warns: bool,
    /// The keys in file order.
    pub settings: Vec<Setting>,
}

/// Why a profile was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// No built-in profile has this name.
    #[error("unknown profile {name:?}; known profiles: {}", known.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: Vec<String>,
    },
    /// The file does not follow the annotation format.
    #[error("profile {profile}, line {line}: {why}")]
    Syntax {
        /// The profile's name.
        profile: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: String,
    },
}

/// The built-in profile called `name`.
pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
    let text = BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .ok_or_else(|| ProfileError::Unknown {
            name: name.to_owned(),
            known: known_names().into_iter().map(str::to_owned).collect(),
        })?;
    parse(name, text)
}

#[derive(Default)]
struct Pending {
    reason: Option<String>,
    sources: Vec<String>,
    compare: Option<Compare>,
    severity: Option<Status>,
    absent: Option<Status>,
    first_line: usize,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.reason.is_none()
            && self.sources.is_empty()
            && self.compare.is_none()
            && self.severity.is_none()
            && self.absent.is_none()
    }
}

/// Parses a profile's text.
pub fn parse(name: &str, text: &str) -> Result<Profile, ProfileError> {
    let err = |line: usize, why: String| ProfileError::Syntax {
        profile: name.to_owned(),
        line,
        why,
    };
    let mut summary = Vec::new();
    let mut params: Vec<(String, String, usize)> = Vec::new();
    let mut settings: Vec<Setting> = Vec::new();
    let mut pending = Pending::default();

    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            if !pending.is_empty() {
                return Err(err(
                    pending.first_line,
                    "annotation not followed by a key (blank line in between)".into(),
                ));
            }
            continue;
        }
        if let Some(comment) = line.strip_prefix('#').or_else(|| line.strip_prefix(';')) {
            // A tag is `# tag: …` with exactly one space: indented text in a
            // header that mentions a tag stays free text.
            let comment = comment.strip_prefix(' ').unwrap_or(comment);
            let Some((tag, rest)) = comment.split_once(':') else {
                continue;
            };
            let rest = rest.trim();
            if pending.is_empty() {
                pending.first_line = line_no;
            }
            match tag {
                "profile" => summary.push(rest.to_owned()),
                "param" => {
                    let (k, v) = rest
                        .split_once('=')
                        .ok_or_else(|| err(line_no, "param needs `name = value`".into()))?;
                    params.push((k.trim().to_owned(), v.trim().to_owned(), line_no));
                }
                "reason" => {
                    if pending.reason.is_some() {
                        return Err(err(line_no, "two reasons for one key".into()));
                    }
                    if rest.is_empty() {
                        return Err(err(line_no, "empty reason".into()));
                    }
                    pending.reason = Some(rest.to_owned());
                }
                "source" => pending.sources.push(rest.to_owned()),
                "check" => {
                    pending.compare = Some(match rest {
                        "exact" => Compare::Exact,
                        "min" => Compare::Min,
                        "max" => Compare::Max,
                        other => {
                            return Err(err(
                                line_no,
                                format!("check {other:?}: use exact, min or max"),
                            ))
                        }
                    })
                }
                "severity" | "absent" => {
                    let status = match (tag, rest) {
                        ("absent", "ok") => Status::Pass,
                        (_, "warn") => Status::Warn,
                        (_, "fail") => Status::Fail,
                        (_, other) => {
                            return Err(err(line_no, format!("{tag} {other:?} is not allowed")))
                        }
                    };
                    if tag == "severity" {
                        pending.severity = Some(status);
                    } else {
                        pending.absent = Some(status);
                    }
                }
                "require" => {
                    let setting =
                        finish(&mut pending, rest, true).map_err(|why| err(line_no, why))?;
                    settings.push(setting);
                }
                // Free text that happens to contain a colon.
                _ => {
                    if pending.is_empty() {
                        pending.first_line = 0;
                    }
                }
            }
            continue;
        }
        let setting = finish(&mut pending, line, false).map_err(|why| err(line_no, why))?;
        settings.push(setting);
    }
    if !pending.is_empty() {
        return Err(err(
            pending.first_line,
            "annotation at the end of the file without a key".into(),
        ));
    }
    for (i, s) in settings.iter().enumerate() {
        if settings[..i].iter().any(|earlier| earlier.key == s.key) {
            return Err(err(0, format!("{} is set twice", s.key)));
        }
    }

    let param = |key: &str| params.iter().find(|(k, _, _)| k == key);
    let number = |key: &str| -> Result<u64, ProfileError> {
        let (_, v, line) = param(key).ok_or_else(|| err(0, format!("missing `# param: {key}`")))?;
        v.parse::<u64>()
            .map_err(|_| err(*line, format!("param {key}: {v:?} is not a whole number")))
    };
    let choice = |key: &str, yes: &str, no: &str| -> Result<bool, ProfileError> {
        let (_, v, line) = param(key).ok_or_else(|| err(0, format!("missing `# param: {key}`")))?;
        if v == yes {
            Ok(true)
        } else if v == no {
            Ok(false)
        } else {
            Err(err(*line, format!("param {key}: use {yes} or {no}")))
        }
    };
    let sizing = Sizing {
        guardians: number("guardians_ref")?,
        media_burst_ms: number("media_burst_ms")?,
        backlog_burst_ms: number("backlog_burst_ms")?,
        ras_in_rmem_default: choice("ras_in_rmem_default", "yes", "no")?,
    };
    Ok(Profile {
        name: name.to_owned(),
        summary: summary.join(" "),
        sizing,
        isolation_matters: choice("host_isolation", "warn", "ignore")?,
        thp_always_warns: choice("thp_always", "warn", "ok")?,
        settings,
    })
}

/// Closes the pending annotations with the `key = value` line.
fn finish(pending: &mut Pending, line: &str, check_only: bool) -> Result<Setting, String> {
    let (key, value) = line
        .split_once('=')
        .ok_or_else(|| format!("expected `key = value`, got {line:?}"))?;
    let key = key.trim().trim_start_matches('-').to_owned();
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
    {
        return Err(format!("{key:?} is not a sysctl key"));
    }
    let value = Value::parse(value);
    if value.0.is_empty() {
        return Err(format!("{key} has no value"));
    }
    let taken = std::mem::take(pending);
    let reason = taken
        .reason
        .ok_or_else(|| format!("{key} has no `# reason:` line (no setting without a reason)"))?;
    Ok(Setting {
        key,
        value,
        reason,
        sources: taken.sources,
        compare: taken.compare.unwrap_or(Compare::Exact),
        severity: taken.severity.unwrap_or(Status::Warn),
        absent: taken.absent.unwrap_or(Status::Warn),
        check_only,
    })
}

/// How a live value compares with the wanted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Passes the comparison.
    Ok,
    /// Does not pass; the first field that does not, 0-based.
    Differs {
        /// The field index.
        field: usize,
    },
    /// The live value has another number of fields, or is not a number where
    /// the profile's is.
    Malformed(String),
}

/// Compares `live` with `want` field by field: numerically when both are
/// numbers, as text otherwise (text only compares for equality).
pub fn compare(compare: Compare, want: &Value, live: &Value) -> Verdict {
    if want.0.len() != live.0.len() {
        return Verdict::Malformed(format!(
            "{} field(s), expected {}",
            live.0.len(),
            want.0.len()
        ));
    }
    for (field, (w, l)) in want.0.iter().zip(&live.0).enumerate() {
        let ok = match (w.parse::<i128>(), l.parse::<i128>()) {
            (Ok(w), Ok(l)) => match compare {
                Compare::Exact => l == w,
                Compare::Min => l >= w,
                Compare::Max => l <= w,
            },
            (Ok(_), Err(_)) => return Verdict::Malformed(format!("{l:?} is not a number")),
            _ => l == w,
        };
        if !ok {
            return Verdict::Differs { field };
        }
    }
    Verdict::Ok
}

/// The value `setting` should have for `sizing`: the planned size when the
/// key is sized and the plan is larger (min keys only), else the file's.
pub fn resolve(setting: &Setting, sizing: &Sizing) -> Value {
    if setting.compare != Compare::Min {
        return setting.value.clone();
    }
    let Some(planned) = sizing.plan().value_for(&setting.key) else {
        return setting.value.clone();
    };
    let Some(file) = setting.value.numbers() else {
        return setting.value.clone();
    };
    if file.len() != planned.len() {
        return setting.value.clone();
    }
    let fields: Vec<String> = file
        .iter()
        .zip(&planned)
        .map(|(f, p)| (*f).max(i128::from(*p)).to_string())
        .collect();
    Value(fields)
}

/// The profile file's text with every sized value resolved for `sizing`,
/// annotations kept: a sysctl.d file for that guardian count.
pub fn render_sized(profile: &Profile, text: &str, sizing: &Sizing) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim();
        let (prefix, body) = match trimmed.strip_prefix("# require:") {
            Some(rest) => ("# require: ", rest.trim()),
            None if !trimmed.starts_with('#') && !trimmed.starts_with(';') => ("", trimmed),
            None => ("", ""),
        };
        let key = body.split_once('=').map(|(k, _)| k.trim());
        match key.and_then(|k| profile.settings.iter().find(|s| s.key == k)) {
            Some(setting) => {
                out.push_str(&format!(
                    "{prefix}{} = {}",
                    setting.key,
                    resolve(setting, sizing)
                ));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    if sizing.guardians != profile.sizing.guardians {
        out = out.replacen(
            &format!("# param: guardians_ref = {}", profile.sizing.guardians),
            &format!(
                "# param: guardians_ref = {}",
                sizing.guardians.max(profile.sizing.guardians)
            ),
            1,
        );
    }
    out
}

/// The text of a built-in profile.
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "# profile: test\n# param: guardians_ref = 10\n# param: media_burst_ms = 200\n# param: backlog_burst_ms = 40\n# param: ras_in_rmem_default = no\n# param: host_isolation = warn\n# param: thp_always = ok\n\n";

    fn parse_body(body: &str) -> Result<Profile, ProfileError> {
        parse("t", &format!("{HEADER}{body}"))
    }

    #[test]
    fn every_builtin_profile_parses_and_every_key_has_a_reason() {
        for name in known_names() {
            let profile = builtin(name).unwrap_or_else(|e| panic!("{e}"));
            assert!(!profile.settings.is_empty(), "{name}");
            assert!(!profile.summary.is_empty(), "{name}");
            for s in &profile.settings {
                assert!(!s.reason.is_empty(), "{name}: {}", s.key);
            }
        }
    }

    #[test]
    fn builtin_sized_values_match_the_formulas() {
        // The files carry the arithmetic of sizing.rs for their reference
        // guardian count: no hand-edited number drifts from the formula.
        for name in known_names() {
            let profile = builtin(name).expect("parses");
            let plan = profile.sizing.plan();
            for s in &profile.settings {
                if let Some(planned) = plan.value_for(&s.key) {
                    assert_eq!(
                        s.value,
                        Value::from_numbers(&planned),
                        "{name}: {} does not match the formula",
                        s.key
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_profile_lists_the_known_ones() {
        let e = builtin("fast").unwrap_err().to_string();
        assert!(e.contains("low-latency, balanced, throughput"), "{e}");
    }

    #[test]
    fn annotations_attach_to_the_next_key() {
        let p = parse_body(
            "# reason: because\n# source: a\n# source: b\n# check: min\n# severity: fail\n# absent: ok\nnet.core.rmem_max = 5\n",
        )
        .expect("parses");
        let s = &p.settings[0];
        assert_eq!(s.key, "net.core.rmem_max");
        assert_eq!(s.value, Value(vec!["5".into()]));
        assert_eq!(s.sources, vec!["a", "b"]);
        assert_eq!(s.compare, Compare::Min);
        assert_eq!(s.severity, Status::Fail);
        assert_eq!(s.absent, Status::Pass);
        assert!(!s.check_only);
    }

    #[test]
    fn require_is_check_only() {
        let p = parse_body("# reason: r\n# require: net.ipv4.udp_mem = 1 2 3\n").expect("parses");
        assert!(p.settings[0].check_only);
        assert_eq!(p.settings[0].value.0.len(), 3);
    }

    #[test]
    fn a_key_without_reason_is_refused() {
        let e = parse_body("vm.swappiness = 10\n").unwrap_err().to_string();
        assert!(e.contains("no `# reason:`"), "{e}");
    }

    #[test]
    fn a_dangling_annotation_is_refused() {
        assert!(parse_body("# reason: r\n\nvm.swappiness = 10\n").is_err());
        assert!(parse_body("# reason: r\n").is_err());
    }

    #[test]
    fn bad_annotation_values_are_refused() {
        assert!(parse_body("# reason: r\n# check: more\nvm.x = 1\n").is_err());
        assert!(parse_body("# reason: r\n# severity: ok\nvm.x = 1\n").is_err());
        assert!(parse_body("# reason: r\nvm.x =\n").is_err());
        assert!(parse_body("# reason: r\n# reason: again\nvm.x = 1\n").is_err());
        assert!(parse_body("# reason: r\nvm.x = 1\n# reason: r\nvm.x = 2\n").is_err());
        assert!(parse("t", "# param: guardians_ref = many\n").is_err());
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            "",
            "=",
            "#",
            "# :",
            "a=b=c",
            "\u{0}",
            "# require: =",
            "  = 1",
        ] {
            let _ = parse("t", text);
        }
    }

    #[test]
    fn compare_numbers_by_field() {
        let want = Value::parse("10 20 30");
        assert_eq!(
            compare(Compare::Min, &want, &Value::parse("10\t25 30")),
            Verdict::Ok
        );
        assert_eq!(
            compare(Compare::Min, &want, &Value::parse("10 19 99")),
            Verdict::Differs { field: 1 }
        );
        assert_eq!(
            compare(Compare::Max, &want, &Value::parse("1 2 3")),
            Verdict::Ok
        );
        assert!(matches!(
            compare(Compare::Exact, &want, &Value::parse("10 20")),
            Verdict::Malformed(_)
        ));
        assert!(matches!(
            compare(Compare::Exact, &Value::parse("1"), &Value::parse("x")),
            Verdict::Malformed(_)
        ));
        assert_eq!(
            compare(
                Compare::Exact,
                &Value::parse("never"),
                &Value::parse("never")
            ),
            Verdict::Ok
        );
        assert_eq!(
            compare(Compare::Exact, &Value::parse("-1"), &Value::parse("-1")),
            Verdict::Ok
        );
    }

    #[test]
    fn render_for_the_reference_count_is_the_file_itself() {
        for (name, text) in BUILTIN {
            let p = parse(name, text).expect("parses");
            assert_eq!(render_sized(&p, text, &p.sizing), text, "{name}");
        }
    }

    #[test]
    fn render_for_more_guardians_parses_back_with_the_new_values() {
        let p = builtin("throughput").expect("parses");
        let text = builtin_text("throughput").expect("exists");
        let more = Sizing {
            guardians: 4_000,
            ..p.sizing
        };
        let rendered = render_sized(&p, text, &more);
        let back = parse("throughput", &rendered).expect("parses");
        assert_eq!(back.sizing, more);
        for s in &back.settings {
            assert_eq!(s.value, resolve(s, &more), "{}", s.key);
        }
        assert!(
            rendered.contains("net.core.rmem_default = 10498048"),
            "{rendered}"
        );
        assert!(
            rendered.contains("# require: net.ipv4.udp_mem = "),
            "{rendered}"
        );
    }

    #[test]
    fn resolve_raises_sized_keys_only() {
        let p = builtin("low-latency").expect("parses");
        let more = Sizing {
            guardians: 10_000,
            ..p.sizing
        };
        let fewer = Sizing {
            guardians: 10,
            ..p.sizing
        };
        let rmem_max = p
            .settings
            .iter()
            .find(|s| s.key == "net.core.rmem_max")
            .expect("set");
        assert_eq!(resolve(rmem_max, &more), Value::parse("26243072"));
        assert_eq!(resolve(rmem_max, &fewer), rmem_max.value);
        let swappiness = p
            .settings
            .iter()
            .find(|s| s.key == "vm.swappiness")
            .expect("set");
        assert_eq!(resolve(swappiness, &more), swappiness.value);
    }
}
