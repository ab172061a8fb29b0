//! `engine validate`'s checks on a temp dir: a valid config and registry pass
//! the config, registry and port checks; a port held by a test socket fails
//! the port check by name; a bad registry fails naming file:line; the checks
//! that cannot run yet are SKIP lines, and only a FAIL makes exit 2. The host
//! (io_uring, memlock) is a fake tree with fixed system-call answers.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};

use tuning::host::FakeProbe;
use tuning::validate::{validate, Options, Outcome, Report, ValidateError};
use tuning::Host;

/// An even port whose pair (port, port + 1) was free on 127.0.0.1 a moment
/// ago. Another process may take it in between; the tests bind it right away.
fn free_pair() -> u16 {
    for _ in 0..200 {
        let probe = UdpSocket::bind("127.0.0.1:0").expect("ephemeral bind");
        let port = probe.local_addr().expect("addr").port() & !1;
        drop(probe);
        if port < 1024 {
            continue;
        }
        let rtp = UdpSocket::bind(("127.0.0.1", port));
        let rtcp = UdpSocket::bind(("127.0.0.1", port + 1));
        if rtp.is_ok() && rtcp.is_ok() {
            return port;
        }
    }
    panic!("no free even/odd UDP port pair on 127.0.0.1");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// One shard of one port pair at `port_first`, so the sample is that pair.
fn config_text(port_first: u16) -> String {
    format!(
        "[shards]\ncount = 1\npin = false\n\n[media]\nbind_ip = \"127.0.0.1\"\n\
         port_first = {port_first}\nports_per_shard = 2\n"
    )
}

fn registry_text() -> String {
    let mut text = String::from("guardians:\n");
    for id in ["if://guardian/technical", "if://guardian/legal"] {
        text += &control::security::keygen(id).registry_entry_yaml;
    }
    text
}

fn fake_host(dir: &Path) -> Host {
    let root = dir.join("host");
    std::fs::create_dir_all(root.join("proc/sys/kernel")).expect("mkdir");
    std::fs::write(root.join("proc/sys/kernel/io_uring_disabled"), "0\n").expect("write");
    Host::at(
        root,
        Box::new(FakeProbe {
            memlock: Ok(Some(64 << 20)),
            io_uring: Ok(()),
            root: false,
        }),
    )
}

fn run(options: &Options, host: &Host) -> Report {
    validate(options, host).expect("validate runs")
}

fn outcome(report: &Report, name: &str) -> Outcome {
    report
        .line(name)
        .unwrap_or_else(|| panic!("no {name} line in {report:?}"))
        .outcome
}

#[test]
fn valid_config_and_registry_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_pair();
    let ras = SocketAddr::from(([127, 0, 0, 1], free_pair()));
    let options = Options {
        config: write(dir.path(), "engine.toml", &config_text(port)),
        registry: Some(write(dir.path(), "registry.yaml", &registry_text())),
        profile: None,
        ras_listen: Some(ras),
        ..Options::default()
    };
    let report = run(&options, &fake_host(dir.path()));
    for name in [
        "config",
        "registry",
        "media ports",
        "ras port",
        "io_uring",
        "memlock",
    ] {
        assert_eq!(outcome(&report, name), Outcome::Pass, "{name}: {report:?}");
    }
    assert!(
        report
            .line("registry")
            .unwrap()
            .detail
            .contains("2 guardian(s)"),
        "{report:?}"
    );
    for name in ["metrics", "ha peers", "tuning"] {
        assert_eq!(outcome(&report, name), Outcome::Skip, "{name}: {report:?}");
    }
    assert!(
        report.line("metrics").unwrap().detail.contains("--metrics"),
        "{report:?}"
    );
    assert_eq!(report.exit_code(), 0);

    let mut printed = Vec::new();
    report.write_to(&mut printed).expect("write");
    let printed = String::from_utf8(printed).expect("utf8");
    assert_eq!(printed.lines().count(), report.lines.len() + 1, "{printed}");
    assert!(
        printed.ends_with("total: 6 PASS, 0 WARN, 0 FAIL, 3 SKIP -> exit 0\n"),
        "{printed}"
    );
}

#[test]
fn a_held_media_port_fails_naming_the_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_pair();
    let _held = UdpSocket::bind(("127.0.0.1", port + 1)).expect("hold the RTCP port");
    let options = Options {
        config: write(dir.path(), "engine.toml", &config_text(port)),
        ..Options::default()
    };
    let report = run(&options, &fake_host(dir.path()));
    let line = report.line("media ports").expect("media ports line");
    assert_eq!(line.outcome, Outcome::Fail, "{line:?}");
    assert!(
        line.detail
            .contains(&format!("127.0.0.1:{} (shard 0)", port + 1)),
        "{line:?}"
    );
    assert!(
        !line.detail.contains(&format!("127.0.0.1:{port} ")),
        "{line:?}"
    );
    assert_eq!(report.exit_code(), 2);
}

#[test]
fn a_held_ras_port_fails_and_a_free_one_passes() {
    let held = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr: SocketAddr = held.local_addr().expect("addr");
    let line = tuning::validate::check_ras_port(Some(addr));
    assert_eq!(line.outcome, Outcome::Fail, "{line:?}");
    assert!(line.detail.contains(&addr.to_string()), "{line:?}");
    drop(held);
    let line = tuning::validate::check_ras_port(Some(addr));
    assert_eq!(line.outcome, Outcome::Pass, "{line:?}");
    let line = tuning::validate::check_ras_port(None);
    assert_eq!(line.outcome, Outcome::Skip, "{line:?}");
    let line = tuning::validate::check_ras_port(Some("127.0.0.1:1720".parse().unwrap()));
    assert_eq!(line.outcome, Outcome::Fail, "{line:?}");
    assert!(line.detail.contains("call signalling"), "{line:?}");
}

#[test]
fn a_registry_means_the_gatekeeper_binds_the_default_ras_port() {
    let with_registry = Options {
        registry: Some("registry.yaml".into()),
        ..Options::default()
    };
    assert_eq!(
        tuning::validate::ras_listen(&with_registry),
        Some("0.0.0.0:1719".parse().unwrap())
    );
    let explicit: SocketAddr = "127.0.0.1:11719".parse().unwrap();
    let options = Options {
        ras_listen: Some(explicit),
        ..with_registry
    };
    assert_eq!(tuning::validate::ras_listen(&options), Some(explicit));
    assert_eq!(tuning::validate::ras_listen(&Options::default()), None);
}

#[test]
fn a_bad_registry_fails_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = registry_text();
    // Line 1 is `guardians:`, 2-5 the first entry (4 its key), 6-9 the
    // second (8 its key).
    text = text.replacen("public_key_hex: \"", "public_key_hex: \"zz", 2);
    let registry = write(dir.path(), "registry.yaml", &text);
    let line = tuning::validate::check_registry(Some(&registry));
    assert_eq!(line.outcome, Outcome::Fail, "{line:?}");
    let wanted = format!("{}:4: guardians[0].public_key_hex", registry.display());
    assert!(line.detail.contains(&wanted), "{wanted} not in {line:?}");
    let wanted = format!("{}:8: guardians[1].public_key_hex", registry.display());
    assert!(line.detail.contains(&wanted), "{wanted} not in {line:?}");
}

#[test]
fn a_bad_config_fails_and_skips_what_depends_on_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = Options {
        config: write(dir.path(), "engine.toml", "[media]\nport_first = 20001\n"),
        ..Options::default()
    };
    let report = run(&options, &fake_host(dir.path()));
    let line = report.line("config").expect("config line");
    assert_eq!(line.outcome, Outcome::Fail);
    assert!(line.detail.contains("media.port_first"), "{line:?}");
    assert_eq!(outcome(&report, "media ports"), Outcome::Skip);
    assert_eq!(outcome(&report, "memlock"), Outcome::Skip);
    assert_eq!(report.exit_code(), 2);

    let missing = Options {
        config: dir.path().join("absent.toml"),
        ..Options::default()
    };
    let report = run(&missing, &fake_host(dir.path()));
    assert!(
        report
            .line("config")
            .unwrap()
            .detail
            .contains("absent.toml"),
        "{report:?}"
    );
}

#[test]
fn low_memlock_and_blocked_io_uring_fail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_pair();
    let root = dir.path().join("host");
    std::fs::create_dir_all(root.join("proc/sys/kernel")).expect("mkdir");
    let host = Host::at(
        root,
        Box::new(FakeProbe {
            memlock: Ok(Some(64 << 10)),
            io_uring: Err(libc_eperm()),
            root: false,
        }),
    );
    let options = Options {
        config: write(dir.path(), "engine.toml", &config_text(port)),
        ..Options::default()
    };
    let report = run(&options, &host);
    assert_eq!(outcome(&report, "memlock"), Outcome::Fail, "{report:?}");
    assert_eq!(outcome(&report, "io_uring"), Outcome::Fail, "{report:?}");
}

/// EPERM, as a blocked `io_uring_setup` returns it under seccomp.
fn libc_eperm() -> i32 {
    1
}

#[test]
fn an_unknown_profile_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = Options {
        config: write(dir.path(), "engine.toml", &config_text(free_pair())),
        profile: Some("fastest".into()),
        ..Options::default()
    };
    match validate(&options, &fake_host(dir.path())) {
        Err(ValidateError::Profile(e)) => assert!(e.to_string().contains("fastest"), "{e}"),
        other => panic!("expected a profile error, got {other:?}"),
    }
}

#[test]
fn the_tuning_line_summarises_tune_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = Options {
        config: write(dir.path(), "engine.toml", &config_text(free_pair())),
        profile: Some("balanced".into()),
        ..Options::default()
    };
    let report = run(&options, &fake_host(dir.path()));
    let line = report.line("tuning").expect("tuning line");
    assert_ne!(line.outcome, Outcome::Skip, "{line:?}");
    assert!(line.detail.starts_with("profile balanced: "), "{line:?}");
    assert!(line.detail.contains(" PASS, "), "{line:?}");
    assert!(
        line.hint
            .contains("engine tune check --profile balanced --config "),
        "{line:?}"
    );
}
