//! The run report's JSON: every key the Output section requires is
//! present (checked by path on the parsed `serde_json::Value`), unmeasured
//! figures stay as `null` keys, the report round-trips, and malformed input
//! is refused with the file and position named.

mod report_fixture;

use bench::report::{load_run, parse_run, Impairment, ReportError, RunReport};
use serde_json::Value;

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(v, |v, key| match key.parse::<usize>() {
            Ok(i) => v.get(i),
            Err(_) => v.get(key),
        })
}

/// The issue's `--json` keys, plus the ones the brief adds.
const REQUIRED: &[&str] = &[
    "guardians",
    "rooms",
    "duration_s",
    "codec.name",
    "codec.engine.application",
    "codec.engine.bitrate_bps",
    "codec.engine.complexity",
    "codec.engine.fec",
    "codec.engine.dtx",
    "codec.generator.application",
    "codec.generator.bitrate_bps",
    "codec.generator.complexity",
    "codec.generator.fec",
    "codec.generator.dtx",
    "impairment.loss_pct",
    "impairment.jitter_ms",
    "impairment.reorder_pct",
    "impairment.burst_loss",
    "impairment.seed",
    "admission_ms.p50",
    "admission_ms.p95",
    "admission_ms.p99",
    "admission_ms.grq.p95",
    "admission_ms.rrq.p95",
    "admission_ms.arq.p95",
    "mouth_to_ear_ms.avg",
    "mouth_to_ear_ms.p50",
    "mouth_to_ear_ms.p95",
    "mouth_to_ear_ms.p99",
    "engine_added_ms.p50",
    "engine_added_ms.p95",
    "engine_added_ms.p99",
    "jitter_ms.avg",
    "jitter_ms.p95",
    "loss_pct",
    "late_frames_pct",
    "call_drops",
    "cpu.engine_core_fraction",
    "cpu.us_per_guardian_s",
    "cpu.shards.0.core_fraction",
    "cpu.generator_core_fraction",
    "rss_mib",
    "slo.pass",
    "slo.checks.0.name",
    "slo.checks.0.target",
    "slo.checks.0.measured",
    "slo.checks.0.pass",
    "machine.cores",
    "machine.cpu_model",
    "machine.kernel",
    "started_at",
    "notes",
];

#[test]
fn every_required_key_is_present_with_a_value() {
    let report = report_fixture::run(7, 12, 25.0, 0.0);
    let v: Value = serde_json::from_str(&report.to_json()).unwrap();
    for path in REQUIRED {
        let found = at(&v, path).unwrap_or_else(|| panic!("missing key {path}"));
        assert!(!found.is_null(), "{path} is null in a fully measured run");
    }
    assert!(v["guardians"].is_u64() && v["duration_s"].is_number());
    assert!(v["slo"]["pass"].is_boolean());
    assert_eq!(v["slo"]["checks"].as_array().unwrap().len(), 10);
    assert!(v["codec"].is_object() && v["impairment"].is_object());
    assert!(v["notes"][0]
        .as_str()
        .unwrap()
        .contains("engine API after ACF"));
}

#[test]
fn sweep_keys_are_present_for_sweeps_and_absent_otherwise() {
    let sweep: Value = serde_json::from_str(&report_fixture::sweep(3).to_json()).unwrap();
    for path in [
        "guardians_per_core",
        "sweep.largest_passing",
        "sweep.broke_at.guardians",
        "sweep.broke_at.failed_checks.0",
        "sweep.steps.0.guardians",
        "sweep.steps.0.pass",
        "sweep.steps.0.mouth_to_ear_p95_ms",
        "series.per_second.0.t_s",
        "series.per_guardian.0.mouth_to_ear_ms.p95",
        "series.mouth_to_ear_hist.buckets",
    ] {
        assert!(
            at(&sweep, path).is_some_and(|v| !v.is_null()),
            "missing {path}"
        );
    }
    assert_eq!(sweep["sweep"]["broke_at"]["failed_checks"][0], "engine_cpu");
    let plain: Value =
        serde_json::from_str(&report_fixture::run(1, 12, 25.0, 0.0).to_json()).unwrap();
    assert!(plain.get("guardians_per_core").is_none());
    assert!(plain.get("sweep").is_none());
    assert!(plain.get("failover").is_none());
}

#[test]
fn an_unmeasured_run_keeps_every_key_as_null() {
    let report = RunReport::default();
    let v: Value = serde_json::from_str(&report.to_json()).unwrap();
    for path in REQUIRED.iter().filter(|p| !p.contains(".0")) {
        assert!(
            at(&v, path).is_some(),
            "key {path} missing from an empty report"
        );
    }
    assert!(v["mouth_to_ear_ms"]["p95"].is_null());
    assert!(v["loss_pct"].is_null());
    assert_eq!(v["impairment"]["burst_loss"], 1.0);
}

#[test]
fn report_round_trips() {
    let mut report = report_fixture::sweep(11);
    report.failover = Some(bench::report::Failover {
        duration_s: 1.5,
        media_lost_ms: 420.0,
        media_lost: 21,
        calls_dropped: 0,
        sessions_preserved: 12,
        sessions: 12,
    });
    let back = parse_run(&report.to_json(), "mem").unwrap();
    assert_eq!(back, report);
}

#[test]
fn impairment_states_the_generator_settings() {
    let cfg = bench::impair::ImpairmentConfig {
        loss_pct: 2.0,
        burst_len_mean: 3.0,
        jitter_ms: 20.0,
        reorder_pct: 1.0,
        seed: 42,
    };
    let i = Impairment::from(&cfg);
    assert_eq!(
        (i.loss_pct, i.burst_loss, i.jitter_ms, i.reorder_pct, i.seed),
        (2.0, 3.0, 20.0, 1.0, 42)
    );
    assert_eq!(
        i.describe(),
        "loss 2 % in bursts of 3 packets, jitter 0–20 ms, reorder 1 % (seed 42)"
    );
}

#[test]
fn malformed_input_names_the_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\n  \"guardians\": 12,\n  \"rooms\": oops\n}").unwrap();
    let err = load_run(&path).unwrap_err();
    match &err {
        ReportError::Json { path: p, line, .. } => {
            assert!(p.ends_with("broken.json"));
            assert_eq!(*line, 3);
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
    assert!(err.to_string().contains("broken.json:3:"), "{err}");

    // Valid JSON that is not a run report names the missing key.
    std::fs::write(&path, "{\"guardians\": 12}").unwrap();
    let err = load_run(&path).unwrap_err().to_string();
    assert!(
        err.contains("broken.json") && err.contains("missing field"),
        "{err}"
    );

    let err = load_run(&dir.path().join("absent.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("absent.json"), "{err}");
}

#[test]
fn loaded_runs_are_labelled_by_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baseline-12.json");
    std::fs::write(&path, report_fixture::run(2, 12, 25.0, 0.0).to_json()).unwrap();
    assert_eq!(
        load_run(&path).unwrap().label.as_deref(),
        Some("baseline-12")
    );
}
