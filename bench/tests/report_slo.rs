//! SLO targets and evaluation: the committed `config/slo.toml` equals the
//! built-in defaults and comments every field; bad files are refused with
//! the file, line and field named; checks flip exactly at their targets;
//! unmeasured checks do not fail a run; the exit code follows the verdict.

use bench::report::{evaluate, Measured, SloConfigError, SloTargets, SLO_FAILED_EXIT_CODE};

const COMMITTED: &str = include_str!("../../config/slo.toml");

fn all_measured_passing() -> Measured {
    Measured {
        latency_avg_ms: Some(20.0),
        latency_p95_ms: Some(40.0),
        jitter_avg_ms: Some(1.0),
        jitter_p95_ms: Some(2.0),
        loss_pct: Some(0.0),
        admission_max_ms: Some(10.0),
        call_success_pct: Some(100.0),
        call_drops: Some(0),
        engine_cpu_pct: Some(20.0),
        failover_s: Some(1.0),
    }
}

#[test]
fn committed_file_equals_the_defaults() {
    let from_file =
        SloTargets::from_toml(COMMITTED, "config/slo.toml").expect("committed file parses");
    assert_eq!(from_file, SloTargets::default());
    assert_eq!(SloTargets::load(None).unwrap(), SloTargets::default());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/slo.toml");
    assert_eq!(SloTargets::from_file(&path).unwrap(), SloTargets::default());
}

#[test]
fn every_field_in_the_committed_file_has_a_comment_above_it() {
    let lines: Vec<&str> = COMMITTED.lines().collect();
    let mut fields = 0;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with('#') || t.starts_with('[') || t.is_empty() {
            continue;
        }
        fields += 1;
        assert!(
            i > 0 && lines[i - 1].trim().starts_with('#'),
            "field on line {} has no comment: {t}",
            i + 1
        );
    }
    assert_eq!(fields, 10, "one field per target");
}

#[test]
fn partial_files_keep_the_other_defaults() {
    let t = SloTargets::from_toml("[latency]\np95_ms_max = 80.0\n", "x.toml").unwrap();
    assert_eq!(t.latency.p95_ms_max, 80.0);
    assert_eq!(t.latency.avg_ms_max, 50.0);
    assert_eq!(t.cpu, SloTargets::default().cpu);
}

#[test]
fn wrong_type_names_file_line_and_field() {
    let text = "[latency]\navg_ms_max = 50.0\np95_ms_max = \"fast\"\n";
    let err = SloTargets::from_toml(text, "my/slo.toml").unwrap_err();
    match &err {
        SloConfigError::Parse {
            path, line, field, ..
        } => {
            assert_eq!(path, "my/slo.toml");
            assert_eq!(*line, 3);
            assert_eq!(field.as_deref(), Some("latency.p95_ms_max"));
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.starts_with("my/slo.toml:3:"), "{text}");
    assert!(text.contains("latency.p95_ms_max"), "{text}");
}

#[test]
fn unknown_field_names_file_line_and_field() {
    let text = "[loss]\npct_max = 0.5\n\n[cpu]\nengine_percent = 70\n";
    let err = SloTargets::from_toml(text, "slo.toml").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("slo.toml:5:"), "{msg}");
    assert!(msg.contains("cpu.engine_percent"), "{msg}");
    assert!(msg.contains("unknown field"), "{msg}");
}

#[test]
fn unknown_table_and_syntax_errors_are_located() {
    let err = SloTargets::from_toml("[latancy]\navg_ms_max = 1\n", "a.toml").unwrap_err();
    assert!(err.to_string().starts_with("a.toml:1:"), "{err}");
    let err = SloTargets::from_toml("[jitter]\navg_ms_max = = 3\n", "b.toml").unwrap_err();
    assert!(err.to_string().starts_with("b.toml:2:"), "{err}");
}

#[test]
fn out_of_range_values_name_file_line_and_field() {
    let text = "# c\n[loss]\n# c\npct_max = 150.0\n";
    let err = SloTargets::from_toml(text, "slo.toml").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("slo.toml:4: field `loss.pct_max`"), "{msg}");
    let err = SloTargets::from_toml("[latency]\navg_ms_max = -1.0\n", "s.toml").unwrap_err();
    assert!(err.to_string().contains("latency.avg_ms_max"), "{err}");
    let err = SloTargets::from_toml("[failover]\nduration_s_max = nan\n", "s.toml").unwrap_err();
    assert!(err.to_string().starts_with("s.toml:2:"), "{err}");
}

#[test]
fn missing_file_is_named() {
    let err = SloTargets::from_file(std::path::Path::new("/nonexistent/slo.toml")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/slo.toml"), "{err}");
}

#[test]
fn all_checks_pass_comfortably() {
    let r = evaluate(&SloTargets::default(), &all_measured_passing());
    assert!(r.pass);
    assert_eq!(r.exit_code(), 0);
    assert_eq!(r.checks.len(), 10);
    assert!(r.checks.iter().all(|c| c.pass == Some(true)));
    let names: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "latency_avg",
            "latency_p95",
            "jitter_avg",
            "jitter_p95",
            "packet_loss",
            "admission",
            "call_success",
            "call_drops",
            "engine_cpu",
            "failover"
        ]
    );
    let target = |n: &str| r.check(n).unwrap().target.clone();
    assert_eq!(target("latency_avg"), "< 50 ms");
    assert_eq!(target("latency_p95"), "< 150 ms");
    assert_eq!(target("packet_loss"), "< 0.5 %");
    assert_eq!(target("call_success"), "> 99 %");
    assert_eq!(target("call_drops"), "= 0");
    assert_eq!(target("failover"), "< 5 s");
}

/// Sets one figure and returns that check's verdict.
fn verdict(set: impl Fn(&mut Measured), name: &str) -> Option<bool> {
    let mut m = all_measured_passing();
    set(&mut m);
    let r = evaluate(&SloTargets::default(), &m);
    let c = r.check(name).unwrap().pass;
    // The run's verdict follows the single changed check.
    assert_eq!(r.pass, c != Some(false));
    assert_eq!(r.exit_code() == SLO_FAILED_EXIT_CODE, c == Some(false));
    c
}

#[test]
fn strict_targets_flip_exactly_at_the_boundary() {
    let below = |x: f64| x - 1e-9;
    type Setter = fn(&mut Measured, f64);
    let cases: [(&str, f64, Setter); 8] = [
        ("latency_avg", 50.0, |m, v| m.latency_avg_ms = Some(v)),
        ("latency_p95", 150.0, |m, v| m.latency_p95_ms = Some(v)),
        ("jitter_avg", 10.0, |m, v| m.jitter_avg_ms = Some(v)),
        ("jitter_p95", 20.0, |m, v| m.jitter_p95_ms = Some(v)),
        ("packet_loss", 0.5, |m, v| m.loss_pct = Some(v)),
        ("admission", 200.0, |m, v| m.admission_max_ms = Some(v)),
        ("engine_cpu", 75.0, |m, v| m.engine_cpu_pct = Some(v)),
        ("failover", 5.0, |m, v| m.failover_s = Some(v)),
    ];
    for (name, limit, set) in cases {
        assert_eq!(
            verdict(|m| set(m, below(limit)), name),
            Some(true),
            "{name} just below"
        );
        assert_eq!(
            verdict(|m| set(m, limit), name),
            Some(false),
            "{name} at the target"
        );
        assert_eq!(
            verdict(|m| set(m, limit + 1e-9), name),
            Some(false),
            "{name} above"
        );
    }
}

#[test]
fn call_success_must_exceed_and_drops_must_not() {
    assert_eq!(
        verdict(|m| m.call_success_pct = Some(99.0 + 1e-9), "call_success"),
        Some(true)
    );
    assert_eq!(
        verdict(|m| m.call_success_pct = Some(99.0), "call_success"),
        Some(false)
    );
    assert_eq!(
        verdict(|m| m.call_drops = Some(0), "call_drops"),
        Some(true)
    );
    assert_eq!(
        verdict(|m| m.call_drops = Some(1), "call_drops"),
        Some(false)
    );
    let mut t = SloTargets::default();
    t.calls.drops_max = 2;
    let m = Measured {
        call_drops: Some(2),
        ..all_measured_passing()
    };
    let r = evaluate(&t, &m);
    assert_eq!(r.check("call_drops").unwrap().target, "≤ 2");
    assert!(r.pass);
}

#[test]
fn unmeasured_checks_are_reported_but_do_not_fail() {
    let r = evaluate(&SloTargets::default(), &Measured::default());
    assert!(r.pass, "nothing measured, nothing failed");
    assert_eq!(r.exit_code(), 0);
    assert!(r
        .checks
        .iter()
        .all(|c| c.pass.is_none() && c.measured.is_none()));
    assert_eq!(r.checks[0].measured_text(), "not measured");
    assert_eq!(r.checks[0].verdict(), "not measured");
    assert_eq!(verdict(|m| m.failover_s = None, "failover"), None);
}

#[test]
fn a_nan_measurement_fails_rather_than_passes() {
    assert_eq!(
        verdict(|m| m.latency_p95_ms = Some(f64::NAN), "latency_p95"),
        Some(false)
    );
}

#[test]
fn failed_names_list_the_failures() {
    let m = Measured {
        engine_cpu_pct: Some(90.0),
        loss_pct: Some(3.0),
        ..all_measured_passing()
    };
    let r = evaluate(&SloTargets::default(), &m);
    assert_eq!(r.failed_names(), ["packet_loss", "engine_cpu"]);
}
