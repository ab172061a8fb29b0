//! `write_report` writes a self-contained HTML report (inline SVG plots, no
//! script, no external resource), a Markdown report and the SVGs; several
//! runs are compared and overlaid; bad inputs give typed errors naming the
//! file; and the HTML renders to a non-blank page in headless Chromium
//! (through scripts/render-report.sh; skipped with a message when Chromium
//! is not installed). Set BENCH_REPORT_OUT=DIR to keep the rendered sample.

mod report_fixture;

use std::path::{Path, PathBuf};
use std::process::Command;

use bench::report::{write_report, write_report_from_files, ReportError, RunReport};

fn sample_runs() -> Vec<RunReport> {
    let mut clean = report_fixture::run(1, 12, 24.0, 0.0);
    clean.label = Some("clean loopback".into());
    let mut lossy = report_fixture::run(2, 12, 31.0, 1.0);
    lossy.label = Some("1 % loss".into());
    lossy.impairment.jitter_ms = 10.0;
    lossy.slo = bench::report::evaluate(
        &bench::report::SloTargets::default(),
        &bench::report::Measured::from_report(&lossy),
    );
    vec![clean, lossy, report_fixture::sweep(3)]
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn single_run_report_is_written_and_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let run = report_fixture::run(5, 12, 25.0, 0.0);
    let files = write_report(std::slice::from_ref(&run), dir.path()).unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        count(&html, "<svg") >= 5,
        "latency CDF, per guardian, jitter, loss, CPU"
    );
    assert_eq!(count(&html, "<svg"), count(&html, "</svg>"));
    for forbidden in ["<script", "<link", "<img", "@import", "https://", "src="] {
        assert!(
            !html.contains(forbidden),
            "HTML must be self-contained: found {forbidden}"
        );
    }
    for text in [
        "Latency distribution",
        "per guardian",
        "Interarrival jitter",
        "Packet loss",
        "CPU use over time",
        "SLO PASS",
        "clean network (seed 5)",
        "engine API after ACF",
        "Test CPU @ 2.0GHz",
        "2025-06-01T10:00:00Z",
    ] {
        assert!(html.contains(text), "HTML lacks {text:?}");
    }
    assert!(!html.contains("Capacity"), "no sweep, no capacity plot");
    assert!(
        !html.contains("Engine memory"),
        "embedded run: no remote RSS"
    );

    let md = std::fs::read_to_string(&files.markdown).unwrap();
    assert!(md.contains("| Check | Target | Measured | Result |"));
    assert!(md.contains("![Latency distribution](latency-cdf.svg)"));
    assert_eq!(files.svgs.len(), 5);
    for svg in &files.svgs {
        let text = std::fs::read_to_string(svg).unwrap();
        assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(md.contains(svg.file_name().unwrap().to_str().unwrap()));
    }
}

#[test]
fn a_target_runs_engine_memory_is_in_both_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = report_fixture::run(6, 24, 25.0, 0.0);
    run.engine_memory = bench::report::EngineMemory::from_kib(Some(20_480), Some(17_408), 24);
    let files = write_report(std::slice::from_ref(&run), dir.path()).unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap();
    let md = std::fs::read_to_string(&files.markdown).unwrap();
    let line = "128.0 KiB per guardian (24 added: RSS 17.0 → 20.0 MiB)";
    assert!(
        html.contains("Engine memory"),
        "HTML lacks the engine memory"
    );
    assert!(html.contains(line), "HTML lacks {line:?}");
    assert!(md.contains(&format!("Engine memory: {line}.")), "{md}");
}

#[test]
fn several_runs_are_compared_and_overlaid() {
    let dir = tempfile::tempdir().unwrap();
    let runs = sample_runs();
    let files = write_report(&runs, dir.path()).unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap();
    assert!(html.contains("Comparison"));
    for label in ["clean loopback", "1 % loss", "capacity sweep"] {
        assert!(html.contains(label), "{label}");
    }
    assert!(html.contains("Capacity: engine CPU vs guardians"));
    assert!(html.contains("350 guardians per media core"));
    // Two per-guardian charts: the 12-guardian runs together, the sweep apart.
    assert_eq!(files.svgs.len(), 8);
    assert!(html.contains("Mouth-to-ear latency per guardian: capacity sweep"));
    // Two latency curves (mouth-to-ear, engine-added) per run in one CDF.
    let cdf = std::fs::read_to_string(dir.path().join("latency-cdf.svg")).unwrap();
    assert_eq!(count(&cdf, "<path d=\"M"), 6);
}

#[test]
fn runs_without_series_still_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = report_fixture::run(5, 12, 25.0, 0.0);
    run.series = None;
    let files = write_report(&[run], dir.path()).unwrap();
    let html = std::fs::read_to_string(files.html).unwrap();
    assert!(html.contains("no data in these runs"));
    let md = std::fs::read_to_string(files.markdown).unwrap();
    assert!(md.contains("no data in these runs"));
}

#[test]
fn hostile_text_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = report_fixture::run(5, 12, 25.0, 0.0);
    run.label = Some("<script>alert(1)</script>".into());
    run.notes.push("a & b <i>".into());
    let files = write_report(&[run], dir.path()).unwrap();
    let html = std::fs::read_to_string(files.html).unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;") && html.contains("a &amp; b &lt;i&gt;"));
}

#[test]
fn bad_inputs_are_typed_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        write_report(&[], dir.path()),
        Err(ReportError::NoInputs)
    ));
    let good = dir.path().join("good.json");
    std::fs::write(&good, report_fixture::run(1, 12, 25.0, 0.0).to_json()).unwrap();
    let bad = dir.path().join("truncated.json");
    let text = report_fixture::run(1, 12, 25.0, 0.0).to_json();
    std::fs::write(&bad, &text[..text.len() / 2]).unwrap();
    let err = write_report_from_files(&[good.clone(), bad], &dir.path().join("out")).unwrap_err();
    assert!(matches!(err, ReportError::Json { .. }));
    assert!(err.to_string().contains("truncated.json"), "{err}");
    // An output directory that cannot be created is named too.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let err = write_report_from_files(&[good], &blocker.join("out")).unwrap_err();
    assert!(matches!(err, ReportError::Write { .. }), "{err:?}");
    assert!(err.to_string().contains("file/out"), "{err}");
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() < 24 || &bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    Some((w, h))
}

#[test]
fn report_renders_in_headless_chromium() {
    if !Path::new("/usr/bin/chromium").exists() {
        println!(
            "SKIPPED report_renders_in_headless_chromium: /usr/bin/chromium is not installed \
             (apt-get install -y chromium)"
        );
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let dir: PathBuf = std::env::var_os("BENCH_REPORT_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    write_report(&sample_runs(), &dir).unwrap();
    let png = dir.join("report.png");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/render-report.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .arg(&png)
        .env("RENDER_TIMEOUT_S", "90")
        .output()
        .expect("run render-report.sh");
    assert!(
        out.status.success(),
        "render-report.sh failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert_eq!(
        png_size(&bytes),
        Some((1200, 2400)),
        "a PNG of the window size"
    );
    // A blank 1200×2400 page compresses to a few KB; the report's text,
    // tables and plots make it far larger.
    assert!(
        bytes.len() > 60_000,
        "screenshot looks blank: {} bytes",
        bytes.len()
    );
}
