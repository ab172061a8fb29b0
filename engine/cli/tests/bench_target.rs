//! `engine bench --target` against real `engine run` processes: the
//! post-deployment smoke test passes and cleans up after itself; a target
//! that does not answer ends with a clear message and a non-zero exit within
//! seconds; and the split roles (`--role media` + `--role gatekeeper`) admit
//! guardians whose media flows, with media surviving the gatekeeper's death;
//! a paused old primary is fenced by a newer gatekeeper's epoch;
//! an authenticated control port lets in only its configured controller key;
//! the port takes a bounded number of controllers; and `--role` flags that
//! do not fit fail before anything starts.

mod ha_support;
mod metrics_support;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use control::media_link::{ClientConfig, MediaClient};
use ha_support::Proc;

fn engine() -> Command {
    Command::new(env!("CARGO_BIN_EXE_engine"))
}

/// How long a daemon may take to print what a test waits for.
const WAIT: Duration = Duration::from_secs(10);

/// `engine run --role gatekeeper` with `registry`, commanding the engine at
/// `control` (plus `extra` flags), RAS on an ephemeral loopback port: the
/// process and its RAS address.
fn start_gatekeeper(registry: &Path, control: SocketAddr, extra: &[&str]) -> (Proc, SocketAddr) {
    let control = control.to_string();
    let mut args = vec![
        "--role",
        "gatekeeper",
        "--registry",
        registry.to_str().unwrap(),
        "--ras-listen",
        "127.0.0.1:0",
        "--engine",
        &control,
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--stats-secs", "0", "--exit-after-secs", "60"]);
    let gatekeeper = daemon(&args);
    let ras = gatekeeper.addr_after("gatekeeper: RAS on ", WAIT);
    (gatekeeper, ras)
}

/// An `engine run` child with `args` (stderr lines forwarded, killed on drop).
fn daemon(args: &[&str]) -> Proc {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    Proc::start("engine-run", &args)
}

/// `n` guardian keys in `dir/keys/*.key` and their registry.
fn guardians(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let mut registry = String::from("guardians:\n");
    for i in 0..n {
        let files = control::security::keygen(&format!("if://guardian/smoke-{i}"));
        std::fs::write(keys.join(format!("g{i}.key")), files.private_key_file).unwrap();
        registry.push_str(&files.registry_entry_yaml);
    }
    let path = dir.join("registry.yaml");
    std::fs::write(&path, registry).unwrap();
    (keys, path)
}

fn engine_config(dir: &Path, port_first: u16) -> PathBuf {
    let path = dir.join("engine.toml");
    std::fs::write(
        &path,
        format!("[shards]\ncount = 1\npin = false\nio_memory_kib = 512\n[media]\nport_first = {port_first}\nports_per_shard = 40\n"),
    )
    .unwrap();
    path
}

/// Loose latency and CPU targets: a debug build on a busy machine checks
/// the pipeline, not the benchmark figures (as in bench_cli.rs).
/// `engine run --role media` on `config` with the control port on an
/// ephemeral loopback port (plus `extra` flags); returns it and that port.
fn start_media(config: &Path, exit_after_secs: &str, extra: &[&str]) -> (Proc, SocketAddr) {
    let mut args = vec![
        "--role",
        "media",
        "--config",
        config.to_str().unwrap(),
        "--control-listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--stats-secs", "0", "--exit-after-secs", exit_after_secs]);
    let media = daemon(&args);
    let control = media.addr_after("media-link: control on ", WAIT);
    (media, control)
}

fn loose_slo(dir: &Path) -> PathBuf {
    let slo = dir.join("slo.toml");
    std::fs::write(
        &slo,
        "[latency]\navg_ms_max = 500.0\np95_ms_max = 1000.0\n[cpu]\nengine_pct_max = 100.0\n",
    )
    .unwrap();
    slo
}

/// A finished command that exited 0: its stdout and stderr.
fn succeeded(out: &Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    (stdout, stderr)
}

fn bench(
    target: SocketAddr,
    control: SocketAddr,
    keys: &Path,
    slo: &Path,
    guardians: u32,
) -> Output {
    engine()
        .args([
            "bench",
            "--duration",
            "3",
            "--warmup",
            "1",
            "--talkers",
            "2",
        ])
        .arg("--guardians")
        .arg(guardians.to_string())
        .arg("--target")
        .arg(target.to_string())
        .arg("--target-control")
        .arg(control.to_string())
        .arg("--keys")
        .arg(keys)
        .arg("--slo")
        .arg(slo)
        .output()
        .expect("engine bench runs")
}

fn link(control: SocketAddr) -> MediaClient {
    MediaClient::connect(ClientConfig::new(control, "test")).expect("the control port answers")
}

fn rooms(control: SocketAddr) -> u64 {
    link(control).stats(true).unwrap().engine.unwrap().rooms
}

#[test]
fn smoke_test_against_a_running_engine_run() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, registry) = guardians(dir.path(), 4);
    let config = engine_config(dir.path(), 36_700);
    let slo = loose_slo(dir.path());
    let daemon = daemon(&[
        "--config",
        config.to_str().unwrap(),
        "--registry",
        registry.to_str().unwrap(),
        "--ras-listen",
        "127.0.0.1:0",
        "--control-listen",
        "127.0.0.1:0",
        "--stats-secs",
        "0",
        "--exit-after-secs",
        "60",
    ]);
    let control = daemon.addr_after("media-link: control on ", WAIT);
    let ras = daemon.addr_after("gatekeeper: RAS on ", WAIT);

    let (stdout, stderr) = succeeded(&bench(ras, control, &keys, &slo, 4));
    assert!(stdout.contains("SLO: PASS"), "{stdout}");
    assert!(stdout.contains("Mouth-to-ear latency"), "{stdout}");
    assert!(
        stderr.contains("media control protocol right after ACF"),
        "{stderr}"
    );
    // Engine CPU came over the link's stats, not from this process.
    assert!(stdout.contains("engine CPU"), "{stdout}");
    assert!(!stdout.contains("engine CPU        — %"), "{stdout}");
    // Its engine-side figures are over the measured window: the snapshot at
    // the end of the warm-up came over the link too (else a note says
    // they are since the engine started).
    assert!(!stdout.contains("since the engine started"), "{stdout}");
    // The bench removed its rooms and participants.
    assert_eq!(rooms(control), 0);

    // More guardians than keys: refused at once, naming the limit.
    let out = bench(ras, control, &keys, &slo, 5);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds 4 guardian key(s)"));

    // A RAS address that never answers: non-zero within the RAS retries.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = Instant::now();
    let out = bench(silent.local_addr().unwrap(), control, &keys, &slo, 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("no answer from the gatekeeper"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(rooms(control), 0);

    daemon.signal("-TERM");
}

#[test]
fn a_closed_target_fails_fast_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, _) = guardians(dir.path(), 4);
    let slo = loose_slo(dir.path());
    // A port that was free a moment ago: nothing listens on it.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let started = Instant::now();
    let out = bench(closed, closed, &keys, &slo, 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot connect to the media engine's control port"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn split_roles_admit_stream_and_survive_the_gatekeeper() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, registry) = guardians(dir.path(), 3);
    let config = engine_config(dir.path(), 36_800);
    let slo = loose_slo(dir.path());
    let (media, control) = start_media(&config, "60", &[]);
    let (gatekeeper, ras) = start_gatekeeper(&registry, control, &["--epoch", "3"]);
    // The gatekeeper claims its epoch as soon as it starts.
    let deadline = Instant::now() + Duration::from_secs(10);
    while link(control).ping().unwrap() != 3 {
        assert!(
            Instant::now() < deadline,
            "the gatekeeper never claimed epoch 3"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let (stdout, stderr) = succeeded(&bench(ras, control, &keys, &slo, 3));
    assert!(stdout.contains("SLO: PASS"), "{stdout}");
    assert!(stdout.contains("(epoch 3)"), "{stdout}");
    assert!(!stdout.contains("removals failed"), "{stdout}");
    // The media engine's own memory came over the link.
    assert!(
        stdout.contains("KiB per participant (3 participants added"),
        "{stdout}"
    );

    // The gatekeeper claimed its epoch and reserved the conference's room
    // on the media engine over the link.
    let mut c = link(control);
    assert_eq!(c.ping().unwrap(), 3);
    assert_eq!(rooms(control), 1, "{stdout}\n{stderr}");

    // Killing the gatekeeper does not touch media: the room stays and the
    // engine keeps answering.
    drop(gatekeeper);
    assert_eq!(rooms(control), 1);
    assert_eq!(c.ping().unwrap(), 3);

    // A newer controller fences the old epoch out.
    assert_eq!(c.claim(4).unwrap(), 4);
    let err = c.create_room(3, 77).unwrap_err();
    assert_eq!(
        err.refusal(),
        Some(&control::media_link::LinkError::StaleEpoch { current: 4 })
    );
    media.signal("-TERM");
}

#[test]
fn role_flags_that_do_not_fit_fail_before_starting() {
    for (args, needle) in [
        (
            vec!["--role", "media", "--registry", "r.yaml"],
            "runs no gatekeeper",
        ),
        (
            vec!["--role", "gatekeeper", "--engine", "127.0.0.1:7719"],
            "needs --registry",
        ),
        (
            vec!["--role", "gatekeeper", "--registry", "r.yaml"],
            "at least one --engine",
        ),
        (vec!["--engine", "127.0.0.1:7719"], "for --role gatekeeper"),
        (vec!["--role", "bogus"], "--role"),
    ] {
        let started = Instant::now();
        let out = engine().arg("run").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(started.elapsed() < Duration::from_secs(10), "{args:?}");
    }
}

#[test]
fn the_control_port_takes_a_bounded_number_of_controllers() {
    let dir = tempfile::tempdir().unwrap();
    let config = engine_config(dir.path(), 36_900);
    let (media, control) = start_media(&config, "30", &[]);
    let clients: Vec<MediaClient> = (0..8).map(|_| link(control)).collect();
    let err = MediaClient::connect(ClientConfig::new(control, "ninth")).unwrap_err();
    assert!(
        matches!(
            err.refusal(),
            Some(control::media_link::LinkError::Busy { .. })
        ),
        "{err}"
    );
    // A controller leaving frees its place.
    drop(clients);
    let deadline = Instant::now() + Duration::from_secs(10);
    while MediaClient::connect(ClientConfig::new(control, "ninth")).is_err() {
        assert!(Instant::now() < deadline, "no place freed");
        std::thread::sleep(Duration::from_millis(100));
    }
    media.signal("-TERM");
}

#[test]
fn an_authenticated_control_port_admits_only_the_configured_controller() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, registry) = guardians(dir.path(), 3);
    let config = engine_config(dir.path(), 37_000);
    let slo = loose_slo(dir.path());
    // The gatekeeper's key pair, as an operator makes it.
    let gk_key = dir.path().join("gatekeeper.key");
    let gk = control::security::keygen("gatekeeper-a");
    std::fs::write(&gk_key, &gk.private_key_file).unwrap();
    let (_, signing) =
        control::security::keys::parse_private_key_file(&gk.private_key_file).unwrap();
    let public_hex = control::security::keys::to_hex(signing.verifying_key().as_bytes());

    let (media, control) = start_media(
        &config,
        "60",
        &[
            "--control-auth-loopback",
            "--control-allow-key",
            &public_hex,
        ],
    );

    // No key, or a key that is not allowed: refused.
    let err = MediaClient::connect(ClientConfig::new(control, "anonymous")).unwrap_err();
    assert!(
        matches!(
            err.refusal(),
            Some(control::media_link::LinkError::Unauthenticated { .. })
        ),
        "{err}"
    );
    let mut stranger = ClientConfig::new(control, "stranger");
    let other = control::security::keygen("someone-else").private_key_file;
    stranger.key = Some(
        control::security::keys::parse_private_key_file(&other)
            .unwrap()
            .1,
    );
    let err = MediaClient::connect(stranger).unwrap_err();
    assert!(err.to_string().contains("not allowed"), "{err}");

    // The gatekeeper with the allowed key claims its epoch.
    let (_gatekeeper, ras) = start_gatekeeper(
        &registry,
        control,
        &["--control-key", gk_key.to_str().unwrap()],
    );
    let mut trusted = ClientConfig::new(control, "test");
    trusted.key = Some(signing);
    let mut c = MediaClient::connect(trusted).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.ping().unwrap() != 1 {
        assert!(
            Instant::now() < deadline,
            "the gatekeeper never claimed epoch 1"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The bench authenticates with --control-key too.
    let out = engine()
        .args([
            "bench",
            "--duration",
            "2",
            "--warmup",
            "0",
            "--guardians",
            "3",
        ])
        .arg("--target")
        .arg(ras.to_string())
        .arg("--target-control")
        .arg(control.to_string())
        .arg("--keys")
        .arg(&keys)
        .arg("--control-key")
        .arg(&gk_key)
        .arg("--slo")
        .arg(&slo)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("SLO: PASS"), "{stdout}");
    media.signal("-TERM");
}

fn wait_for_epoch(control: SocketAddr, epoch: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while link(control).ping().unwrap() != epoch {
        assert!(Instant::now() < deadline, "epoch {epoch} never claimed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_paused_old_primary_is_fenced_by_the_new_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, registry) = guardians(dir.path(), 3);
    let config = engine_config(dir.path(), 37_100);
    let slo = loose_slo(dir.path());
    let (media, control) = start_media(&config, "60", &[]);
    let (old, old_ras) = start_gatekeeper(&registry, control, &["--epoch", "1"]);
    wait_for_epoch(control, 1);

    // The old primary is paused; a new one takes over with a higher epoch.
    old.signal("-STOP");
    let (new, _) = start_gatekeeper(&registry, control, &["--epoch", "2"]);
    wait_for_epoch(control, 2);
    old.signal("-CONT");

    // The old primary still answers RAS and admits, but its room commands
    // reach the engine with epoch 1 and are refused.
    let (stdout, _) = succeeded(&bench(old_ras, control, &keys, &slo, 3));
    assert!(
        stdout.contains("(epoch 2)"),
        "the bench follows the engine: {stdout}"
    );
    assert_eq!(rooms(control), 0, "the fenced room was never created");

    old.signal("-TERM");
    let line = old.wait_for("gatekeeper: media link:", WAIT);
    assert!(line.contains("fenced 1"), "{line}");
    assert!(line.contains("applied 0"), "{line}");
    media.signal("-TERM");
    let line = media.wait_for("media-link: final: epoch 2", WAIT);
    assert!(line.contains("fenced 1"), "{line}");
    drop(new);
}
