//! `engine bench --failover` end to end (docs/ha.md, "Measuring a
//! failover").

use std::process::Command;

use media_core::mixer::MixerConfig;

/// `engine bench --failover`: the bench starts the media engine and the HA
/// pair as child processes, kills the primary half-way and passes the
/// failover check (target from a loose SLO file: a debug build on a busy
/// machine checks the pipeline, the failover bound is the default 5 s).
#[test]
fn bench_failover_passes_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let slo = dir.path().join("slo.toml");
    std::fs::write(
        &slo,
        "[latency]\navg_ms_max = 500.0\np95_ms_max = 1000.0\n[cpu]\nengine_pct_max = 100.0\n\
         [admission]\nper_guardian_ms_max = 2000.0\n[failover]\nduration_s_max = 5.0\n",
    )
    .unwrap();
    let json = dir.path().join("run.json");
    let out = Command::new(env!("CARGO_BIN_EXE_engine"))
        .args([
            "bench",
            "--failover",
            "--guardians",
            "4",
            "--duration",
            "6",
            "--warmup",
            "1",
            "--talkers",
            "2",
            "--slo",
        ])
        .arg(&slo)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("engine bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n{stderr}");
    assert!(out.status.success(), "exit {:?}", out.status);
    let failover_row = stdout
        .lines()
        .find(|l| l.starts_with("Failover"))
        .expect("a failover row in the SLO table");
    assert!(failover_row.ends_with("pass"), "{failover_row}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let f = &v["failover"];
    assert!(f["duration_s"].as_f64().unwrap() < 5.0, "{f}");
    assert_eq!(f["media_lost"], 0, "{f}");
    assert_eq!(f["calls_dropped"], 0, "{f}");
    assert_eq!(f["sessions_preserved"], 4, "{f}");
    assert_eq!(f["sessions"], 4, "{f}");
    // The media engine's own figures are over the measured 6 s (the
    // warm-up snapshot came over the media link): one sample per mixed
    // frame, at most `speakers_max` of the room's 4 per 20 ms frame.
    let notes = v["notes"].to_string();
    assert!(!notes.contains("since the engine started"), "{notes}");
    let mixed = MixerConfig::default().speakers_max.min(4) as u64;
    let window_max = mixed * 50 * 6;
    let engine_added = v["engine_added_ms"]["count"].as_u64().unwrap();
    assert!(
        engine_added > 0 && engine_added <= window_max + window_max / 5,
        "engine_added_ms.count {engine_added}, at most {window_max} in the window"
    );
}
