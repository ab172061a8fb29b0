//! The systemd units in config/systemd load cleanly: `systemd-analyze verify`
//! on copies in a temp dir, plus plain-text checks of what the deployment
//! depends on (ExecStart, limits, hardening, the io_uring syscalls).
//!
//! `systemd-analyze verify` refuses a unit whose ExecStart binary does not
//! exist, and the engine is not installed where the units expect it
//! (/usr/local/bin/engine). So the units are copied to a temp dir with that
//! path replaced by this test's own executable, which always exists. The
//! template `mcu-gatekeeper@.service` is verified through instance symlinks
//! (`mcu-gatekeeper@primary.service` → the template), as systemd loads it.
//! verify exits 0 even for unknown keys and unparsable values (it only logs
//! them), so any line of its output that names a copied unit fails the test.
//! Without `systemd-analyze` (no systemd package) the verify test is skipped
//! with a message; install it with `apt-get install -y systemd`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const ENGINE_PATH: &str = "/usr/local/bin/engine";

fn units_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/systemd")
}

fn unit(name: &str) -> String {
    fs::read_to_string(units_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn systemd_analyze() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("systemd-analyze"))
        .find(|p| p.is_file())
}

/// Copies the units into `dir` with a runnable ExecStart, adds the instance
/// links, and returns the unit names to verify.
fn stage(dir: &Path, extra_line: Option<&str>) -> Vec<String> {
    let exe = std::env::current_exe().expect("test executable path");
    let exe = exe.to_str().expect("utf-8 test path");
    for name in ["mcu-media.service", "mcu-gatekeeper@.service"] {
        let mut text = unit(name).replace(ENGINE_PATH, exe);
        if let Some(line) = extra_line {
            text = text.replace("[Install]", &format!("{line}\n\n[Install]"));
        }
        fs::write(dir.join(name), text).expect("write unit");
    }
    for instance in ["primary", "secondary"] {
        std::os::unix::fs::symlink(
            "mcu-gatekeeper@.service",
            dir.join(format!("mcu-gatekeeper@{instance}.service")),
        )
        .expect("instance link");
    }
    vec![
        "mcu-media.service".into(),
        "mcu-gatekeeper@primary.service".into(),
        "mcu-gatekeeper@secondary.service".into(),
    ]
}

/// Runs verify; returns (exit ok, lines of output that name our units).
fn verify(analyze: &Path, dir: &Path, units: &[String]) -> (bool, Vec<String>) {
    let output = Command::new(analyze)
        .arg("verify")
        .args(units.iter().map(|u| format!("./{u}")))
        .current_dir(dir)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .expect("run systemd-analyze");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let dir_text = dir.display().to_string();
    let complaints = text
        .lines()
        .filter(|l| l.contains(&dir_text) || l.contains("mcu-"))
        .map(str::to_owned)
        .collect();
    (output.status.success(), complaints)
}

#[test]
fn systemd_analyze_verify_passes() {
    let Some(analyze) = systemd_analyze() else {
        eprintln!(
            "skipping systemd_analyze_verify_passes: systemd-analyze is not installed \
             (apt-get install -y systemd)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let units = stage(dir.path(), None);
    let (ok, complaints) = verify(&analyze, dir.path(), &units);
    assert!(
        ok && complaints.is_empty(),
        "systemd-analyze verify: {complaints:#?}"
    );
}

#[test]
fn systemd_analyze_complaints_are_caught() {
    // The check above must not pass just because verify exits 0: a unit with
    // an unknown key has to show up as a complaint.
    let Some(analyze) = systemd_analyze() else {
        eprintln!("skipping systemd_analyze_complaints_are_caught: no systemd-analyze");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let units = stage(dir.path(), Some("[Service]\nNoSuchSetting=1"));
    let (_, complaints) = verify(&analyze, dir.path(), &units);
    assert!(
        complaints.iter().any(|l| l.contains("NoSuchSetting")),
        "{complaints:#?}"
    );
}

fn values<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

#[test]
fn media_unit_runs_the_engine_as_documented() {
    let text = unit("mcu-media.service");
    assert_eq!(
        values(&text, "ExecStart"),
        [format!(
            "{ENGINE_PATH} run --role media --config /etc/mcu/engine.toml"
        )]
    );
    assert_eq!(values(&text, "ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    assert_eq!(values(&text, "KillSignal"), ["SIGTERM"]);
    assert_eq!(values(&text, "Restart"), ["on-failure"]);
    assert_eq!(values(&text, "User"), ["mcu"]);
    assert_eq!(values(&text, "LimitMEMLOCK"), ["64M"]);
    assert_eq!(
        values(&text, "CapabilityBoundingSet"),
        [""],
        "the media engine needs no capability"
    );
    let filter = values(&text, "SystemCallFilter").join(" ");
    for call in [
        "@system-service",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
    ] {
        assert!(filter.contains(call), "{filter}");
    }
    assert_eq!(
        values(&text, "RestrictAddressFamilies"),
        ["AF_INET AF_INET6 AF_UNIX AF_NETLINK"]
    );
    for key in [
        "NoNewPrivileges",
        "PrivateTmp",
        "ProtectHome",
        "ProtectKernelTunables",
    ] {
        assert_eq!(values(&text, key), ["yes"], "{key}");
    }
    assert_eq!(values(&text, "ProtectSystem"), ["strict"]);
}

#[test]
fn gatekeeper_runs_off_the_media_cores_with_net_admin_only() {
    let media = unit("mcu-media.service");
    let gk = unit("mcu-gatekeeper@.service");
    assert_eq!(
        values(&gk, "ExecStart"),
        [format!(
            "{ENGINE_PATH} run --role gatekeeper --ha %i --config /etc/mcu/gatekeeper-%i.toml"
        )]
    );
    assert_eq!(values(&gk, "CapabilityBoundingSet"), ["CAP_NET_ADMIN"]);
    assert_eq!(values(&gk, "AmbientCapabilities"), ["CAP_NET_ADMIN"]);
    let cpus = |text: &str| -> Vec<u32> {
        values(text, "CPUAffinity")
            .iter()
            .flat_map(|v| v.split_whitespace())
            .map(|c| c.parse().expect("CPU number"))
            .collect()
    };
    let (media_cpus, gk_cpus) = (cpus(&media), cpus(&gk));
    assert!(!media_cpus.is_empty() && !gk_cpus.is_empty());
    assert!(
        gk_cpus.iter().all(|c| !media_cpus.contains(c)),
        "gatekeeper CPUs {gk_cpus:?} overlap media CPUs {media_cpus:?}"
    );
}
