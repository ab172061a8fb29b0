//! Gatekeeper failover end to end with real processes on loopback: one
//! `engine run --role media` (a static room of two participants whose RTP
//! the test sends and receives) and two `engine run --role gatekeeper --ha
//! …` nodes sharing a floating RAS address on 127.0.2.x. Twelve guardians
//! register and are admitted through the floating address; the primary is
//! killed with SIGKILL; the standby answers the same guardians' keep-alive
//! RRQ, BRQ and DRQ without re-registration and a new ARQ; the media engine
//! kept mixing without a gap; the old primary restarts as a standby. Then a
//! partition: the primary is paused (SIGSTOP) past the detection time, the
//! standby takes the engines with a higher epoch, and the resumed node is
//! fenced and steps down — the engine's epoch never goes back, so only one
//! node's commands are ever accepted.
//! Also: a real Prometheus sees the standby's role label and the failover
//! counter move; `engine bench --failover` passes its failover check; with
//! `--ha-preempt` the restarted preferred node takes the role back.
//! Bounds are generous (seconds); the measured figures are printed.

mod metrics_support;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use control::media_link::{ClientConfig, MediaClient};
use control::ras::RasMessage;
use metrics_support::{now_s, registry, Guardian};

const GUARDIANS: usize = 12;
const CONF: [u8; 16] = [0x4a; 16];

/// An `engine run` child whose stderr lines are forwarded, killed on drop.
struct Proc {
    name: &'static str,
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Proc {
    fn start(name: &'static str, args: &[String]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_engine"))
            .arg("run")
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .expect("engine run starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[{name}] {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { name, child, lines }
    }

    /// The next stderr line containing `needle`, within `bound`.
    fn wait_for(&self, needle: &str, bound: Duration) -> String {
        let deadline = Instant::now() + bound;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("{}: no line with {needle:?} in {bound:?}", self.name));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Whether a line containing `needle` comes within `window`.
    fn sees(&self, needle: &str, window: Duration) -> bool {
        let deadline = Instant::now() + window;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-CONT", &self.child.id().to_string()])
                .status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn free_udp(ip: [u8; 4]) -> SocketAddr {
    UdpSocket::bind(SocketAddr::from((ip, 0)))
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The /metrics address a process printed.
fn metrics_addr(p: &Proc) -> SocketAddr {
    let line = p.wait_for("metrics: serving http://", Duration::from_secs(20));
    line.split("http://")
        .nth(1)
        .unwrap()
        .trim_end_matches("/metrics")
        .parse()
        .unwrap()
}

fn epoch_in(line: &str) -> u64 {
    // "gatekeeper: ha: primary at epoch T.N"
    let e = line.rsplit(' ').next().unwrap();
    let (term, node) = e.split_once('.').unwrap();
    (term.parse::<u64>().unwrap() << 8) | node.parse::<u64>().unwrap()
}

fn engine_epoch(control: SocketAddr) -> u64 {
    MediaClient::connect(ClientConfig::new(control, "ha-test"))
        .unwrap()
        .ping()
        .unwrap()
}

/// One participant of the static room: sends a 20 ms RTP packet each tick
/// and records the sequence numbers of the mix it receives.
struct Talker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<(Instant, u16)>>>,
}

impl Talker {
    fn start(socket: UdpSocket, engine: SocketAddr, ssrc: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            socket
                .set_read_timeout(Some(Duration::from_millis(2)))
                .unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 2048];
            let start = Instant::now();
            let mut seq: u16 = 0;
            // Bounded: the test stops it; 120 s is a backstop.
            while !s.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(120) {
                if start.elapsed() >= Duration::from_millis(20) * u32::from(seq) {
                    let mut p = vec![0x80, 0];
                    p.extend_from_slice(&seq.to_be_bytes());
                    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
                    p.extend_from_slice(&ssrc.to_be_bytes());
                    p.extend_from_slice(&[0xff; 160]);
                    let _ = socket.send_to(&p, engine);
                    seq = seq.wrapping_add(1);
                }
                if let Ok((n, _)) = socket.recv_from(&mut buf) {
                    if n >= 12 {
                        got.push((Instant::now(), u16::from_be_bytes([buf[2], buf[3]])));
                    }
                }
            }
            got
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Vec<(Instant, u16)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// Mix packets missing (sequence gaps) among those received between `from`
/// and `to`, and how many were received.
fn lost_between(got: &[(Instant, u16)], from: Instant, to: Instant) -> (u64, usize) {
    let window: Vec<u16> = got
        .iter()
        .filter(|(t, _)| *t >= from && *t <= to)
        .map(|(_, s)| *s)
        .collect();
    let lost = window
        .windows(2)
        .map(|w| u64::from(w[1].wrapping_sub(w[0]).saturating_sub(1)))
        .sum();
    (lost, window.len())
}

fn media_config(dir: &Path, a: SocketAddr, b: SocketAddr) -> String {
    let path = dir.join("engine.toml");
    std::fs::write(
        &path,
        format!(
            "[shards]\ncount = 1\npin = false\nio_memory_kib = 512\n\
             [media]\nport_first = 37200\nports_per_shard = 40\n\
             [[room]]\nid = 1\n\
             [[room.participant]]\nid = 1\ncodec = \"pcmu\"\nremote_rtp = \"{a}\"\nssrc = 1111\n\
             [[room.participant]]\nid = 2\ncodec = \"pcmu\"\nremote_rtp = \"{b}\"\nssrc = 2222\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

struct Pair {
    args: [Vec<String>; 2],
}

impl Pair {
    fn new(dir: &Path, registry: &Path, control: SocketAddr, floating: SocketAddr) -> Self {
        let key = dir.join("ha.key");
        std::fs::write(&key, "5a".repeat(32)).unwrap();
        let (a, b) = (free_udp([127, 0, 0, 1]), free_udp([127, 0, 0, 1]));
        let node = |role: &str, listen: SocketAddr, peer: SocketAddr, i: usize| {
            let mut v: Vec<String> = [
                "--role",
                "gatekeeper",
                "--ha",
                role,
                "--stats-secs",
                "0",
                "--exit-after-secs",
                "110",
                "--control-listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            for (flag, value) in [
                ("--registry", registry.display().to_string()),
                ("--engine", control.to_string()),
                ("--ha-listen", listen.to_string()),
                ("--peer", peer.to_string()),
                ("--ha-key", key.display().to_string()),
                ("--floating", floating.to_string()),
                (
                    "--audit-dir",
                    dir.join(format!("logs-{i}")).display().to_string(),
                ),
            ] {
                v.push(flag.into());
                v.push(value);
            }
            v
        };
        Self {
            args: [node("primary", a, b, 0), node("secondary", b, a, 1)],
        }
    }
}

/// Asks until a reply comes (a terminal's retransmission), within `bound`:
/// the reply and when it came.
fn ask_until(
    g: &mut Guardian,
    bound: Duration,
    mut make: impl FnMut(&mut Guardian) -> Vec<u8>,
) -> (RasMessage, Instant) {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        let request = make(g);
        if let Some((r, _)) = g.ask(&request) {
            return (r, Instant::now());
        }
    }
    panic!("no reply within {bound:?}");
}

#[test]
fn killed_primary_fails_over_and_a_paused_one_is_fenced() {
    let dir = tempfile::tempdir().unwrap();
    let (registry_path, keys) = registry(dir.path(), GUARDIANS + 1);
    let (sock_a, sock_b) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    let config = media_config(
        dir.path(),
        sock_a.local_addr().unwrap(),
        sock_b.local_addr().unwrap(),
    );
    let media = Proc::start(
        "media",
        &[
            "--role",
            "media",
            "--config",
            &config,
            "--control-listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--stats-secs",
            "0",
            "--exit-after-secs",
            "110",
        ]
        .map(str::to_owned),
    );
    let rtp_a: SocketAddr = media
        .wait_for("send RTP to ", Duration::from_secs(20))
        .split("send RTP to ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let rtp_b: SocketAddr = media
        .wait_for("send RTP to ", Duration::from_secs(10))
        .split("send RTP to ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let control: SocketAddr = media
        .wait_for("media-link: control on ", Duration::from_secs(10))
        .split("control on ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let ip = [
        127,
        0,
        2,
        2 + u8::try_from(std::process::id() % 200).unwrap(),
    ];
    let floating = free_udp(ip);
    let pair = Pair::new(dir.path(), &registry_path, control, floating);
    // B starts once A is primary, so the cold start does not depend on
    // which process a busy machine schedules first.
    let gk_a = Proc::start("gk-a", &pair.args[0]);
    let epoch_a = epoch_in(&gk_a.wait_for("ha: primary at epoch", Duration::from_secs(20)));
    let gk_b = Proc::start("gk-b", &pair.args[1]);
    let m_b = metrics_addr(&gk_b);
    gk_a.wait_for("serving RAS on", Duration::from_secs(10));
    assert_eq!(engine_epoch(control), epoch_a);

    // Twelve guardians register and join one conference.
    let mut gs: Vec<Guardian> = (0..GUARDIANS)
        .map(|i| {
            let mut g = Guardian::new(&keys[i], floating, 10 + u8::try_from(i).unwrap());
            g.register();
            let (r, _) = g
                .admit(CONF, [u8::try_from(i).unwrap() + 1; 16])
                .expect("ACF");
            assert!(matches!(r, RasMessage::AdmissionConfirm(_)), "{}", r.name());
            g.socket
                .set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            g
        })
        .collect();
    let talker_a = Talker::start(sock_a, rtp_a, 1111);
    let talker_b = Talker::start(sock_b, rtp_b, 2222);
    // The standby has every registration and call (replicated), and the
    // mix has settled.
    metrics_support::scrape_until(m_b, "replicated registrations and calls", |t| {
        t.contains(&format!("h323_gatekeeper_registrations {GUARDIANS}\n"))
            && t.contains(&format!("h323_gatekeeper_active_sessions {GUARDIANS}\n"))
    });
    std::thread::sleep(Duration::from_secs(1));

    // kill -9 the primary.
    let killed = Instant::now();
    let mut gk_a = gk_a;
    gk_a.child.kill().unwrap();
    gk_a.child.wait().unwrap();
    let (r, answered) = ask_until(&mut gs[0], Duration::from_secs(15), |g| {
        g.client.keep_alive(now_s(), 300).unwrap()
    });
    assert!(
        matches!(r, RasMessage::RegistrationConfirm(_)),
        "keep-alive: {}",
        r.name()
    );
    let epoch_b = epoch_in(&gk_b.wait_for("ha: primary at epoch", Duration::from_secs(5)));
    assert!(epoch_b > epoch_a);
    println!(
        "failover: kill -9 → keep-alive RCF from the new primary in {} ms",
        answered.duration_since(killed).as_millis()
    );
    // Existing calls continue without re-registration; a new ARQ works.
    for (i, g) in gs.iter_mut().enumerate().skip(1) {
        let call = [u8::try_from(i).unwrap() + 1; 16];
        let (r, _) = ask_until(g, Duration::from_secs(5), |g| {
            g.client.keep_alive(now_s(), 300).unwrap()
        });
        assert!(
            matches!(r, RasMessage::RegistrationConfirm(_)),
            "{i}: {}",
            r.name()
        );
        if i == 1 {
            let (r, _) = ask_until(g, Duration::from_secs(5), |g| {
                g.client.brq(now_s(), CONF, call, 1280).unwrap()
            });
            assert!(
                matches!(r, RasMessage::BandwidthConfirm(_)),
                "BRQ: {}",
                r.name()
            );
        }
        if i == 2 {
            let (r, _) = ask_until(g, Duration::from_secs(5), |g| {
                g.client.drq(now_s(), CONF, call).unwrap()
            });
            assert!(
                matches!(r, RasMessage::DisengageConfirm(_)),
                "DRQ: {}",
                r.name()
            );
            let (r, _) = ask_until(g, Duration::from_secs(5), |g| {
                g.client.arq(now_s(), CONF, [0xee; 16], 640).unwrap()
            });
            assert!(
                matches!(r, RasMessage::AdmissionConfirm(_)),
                "new ARQ: {}",
                r.name()
            );
        }
    }
    assert_eq!(engine_epoch(control), epoch_b);

    // The old primary returns: a standby, no claim (the engine keeps B's epoch).
    let gk_a = Proc::start("gk-a2", &pair.args[0]);
    assert!(
        !gk_a.sees("ha: primary at epoch", Duration::from_secs(3)),
        "the returning node took the role without preempt"
    );
    assert_eq!(engine_epoch(control), epoch_b);

    // Media through the failover: no gap in either participant's mix.
    let after = Instant::now();
    let (got_a, got_b) = (talker_a.finish(), talker_b.finish());
    for (name, got) in [("a", &got_a), ("b", &got_b)] {
        let (lost, n) = lost_between(got, killed - Duration::from_secs(1), after);
        println!(
            "media: participant {name}: {n} mix packets from 1 s before the kill, {lost} missing"
        );
        assert!(n > 50, "{name}: the mix stopped ({n} packets)");
        assert_eq!(lost, 0, "{name}: mix packets lost across the failover");
    }

    // Partition: pause B past the detection time; A takes the engines.
    gk_b.signal("-STOP");
    let epoch_a2 = epoch_in(&gk_a.wait_for("ha: primary at epoch", Duration::from_secs(10)));
    assert!(epoch_a2 > epoch_b);
    assert_eq!(engine_epoch(control), epoch_a2);
    gk_b.signal("-CONT");
    // B learns it was fenced and steps down; the engine keeps A's epoch.
    gk_b.wait_for("ha: standby (was primary", Duration::from_secs(10));
    gk_a.wait_for("serving RAS on", Duration::from_secs(10));
    assert_eq!(engine_epoch(control), epoch_a2);
    let (r, _) = ask_until(&mut gs[0], Duration::from_secs(10), |g| {
        g.client.keep_alive(now_s(), 300).unwrap()
    });
    assert!(
        matches!(r, RasMessage::RegistrationConfirm(_)),
        "{}",
        r.name()
    );
    // Still one primary a while later: B does not claim back.
    assert!(!gk_b.sees("ha: primary at epoch", Duration::from_secs(2)));
    assert_eq!(engine_epoch(control), epoch_a2);
    media.signal("-TERM");
}

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
}

/// `GET /api/v1/query?query=…` (URL-encoded) on Prometheus: `data.result`,
/// or `None` while it is not answering yet.
fn prom_query(prometheus: SocketAddr, encoded: &str) -> Option<Vec<serde_json::Value>> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&prometheus, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET /api/v1/query?query={encoded} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let out = String::from_utf8_lossy(&out);
    let (_, body) = out.split_once("\r\n\r\n")?;
    let json = &body[body.find('{')?..=body.rfind('}')?];
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v["data"]["result"].as_array().cloned()
}

/// Polls Prometheus (30 s at most) until `encoded` returns a series.
fn prom_until(prometheus: SocketAddr, encoded: &str) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(r) = prom_query(prometheus, encoded).filter(|r| !r.is_empty()) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never returned {encoded} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A real Prometheus scrapes both gatekeepers of the pair: it sees
/// `h323_gatekeeper_up == 1` with role="primary" on one and "standby" on
/// the other; after kill -9 of the primary, the survivor's
/// `h323_gatekeeper_failover_total` moves to 1 with role="primary", and its
/// audit log holds the GATEKEEPER_FAILOVER record. Skipped, loudly, without
/// the `prometheus` binary.
#[test]
fn prometheus_sees_the_standby_and_the_failover_counter_move() {
    if Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("SKIPPED: no `prometheus` binary (scripts/deps.sh installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (registry_path, _keys) = registry(dir.path(), 1);
    let engine_toml = dir.path().join("engine.toml");
    std::fs::write(
        &engine_toml,
        "[shards]\ncount = 1\npin = false\nio_memory_kib = 512\n[media]\nport_first = 37300\nports_per_shard = 20\n",
    )
    .unwrap();
    let media = Proc::start(
        "media",
        &[
            "--role",
            "media",
            "--config",
            engine_toml.to_str().unwrap(),
            "--control-listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--stats-secs",
            "0",
            "--exit-after-secs",
            "110",
        ]
        .map(str::to_owned),
    );
    let control: SocketAddr = media
        .wait_for("media-link: control on ", Duration::from_secs(20))
        .split("control on ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let ip = [
        127,
        0,
        4,
        2 + u8::try_from(std::process::id() % 200).unwrap(),
    ];
    let pair = Pair::new(dir.path(), &registry_path, control, free_udp(ip));
    let metrics = metrics_addr;
    let mut gk_a = Proc::start("gk-a", &pair.args[0]);
    let m_a = metrics(&gk_a);
    gk_a.wait_for("ha: primary at epoch", Duration::from_secs(20));
    let gk_b = Proc::start("gk-b", &pair.args[1]);
    let m_b = metrics(&gk_b);

    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: gk-a\n    static_configs:\n      - targets: ['{m_a}']\n\
             \x20 - job_name: gk-b\n    static_configs:\n      - targets: ['{m_b}']\n"
        ),
    )
    .unwrap();
    let web = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut prometheus = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={web}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");

    // h323_gatekeeper_up{job="gk-b",role="standby"} == 1, and the primary.
    let standby = prom_until(
        web,
        "h323_gatekeeper_up%7Bjob%3D%22gk-b%22%2Crole%3D%22standby%22%7D%20%3D%3D%201",
    );
    assert_eq!(standby[0]["value"][1], "1", "{standby:?}");
    prom_until(
        web,
        "h323_gatekeeper_up%7Bjob%3D%22gk-a%22%2Crole%3D%22primary%22%7D%20%3D%3D%201",
    );

    gk_a.child.kill().unwrap();
    gk_a.child.wait().unwrap();
    gk_b.wait_for("ha: primary at epoch", Duration::from_secs(10));
    // h323_gatekeeper_failover_total{job="gk-b"} == 1 and B is primary.
    let moved = prom_until(
        web,
        "h323_gatekeeper_failover_total%7Bjob%3D%22gk-b%22%7D%20%3D%3D%201",
    );
    assert_eq!(moved[0]["value"][1], "1", "{moved:?}");
    prom_until(
        web,
        "h323_gatekeeper_up%7Bjob%3D%22gk-b%22%2Crole%3D%22primary%22%7D%20%3D%3D%201",
    );
    let _ = prometheus.kill();
    let _ = prometheus.wait();

    // The failover record, with its duration, in B's audit log.
    let ha_dir = dir.path().join("logs-1").join("ha");
    let record = std::fs::read_dir(&ha_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", ha_dir.display()))
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect::<String>();
    assert!(record.contains("GATEKEEPER_FAILOVER"), "{record}");
    assert!(record.contains("failover_duration_sec"), "{record}");
    media.signal("-TERM");
}

/// `--ha-preempt`: the preferred node, killed and restarted, catches up
/// and takes the role back through a clean handover; the other node steps
/// down ("handover") and the guardian's keep-alive is answered on the same
/// floating address without re-registration.
#[test]
fn preferred_node_with_preempt_takes_the_role_back() {
    let dir = tempfile::tempdir().unwrap();
    let (registry_path, keys) = registry(dir.path(), 1);
    let engine_toml = dir.path().join("engine.toml");
    std::fs::write(
        &engine_toml,
        "[shards]\ncount = 1\npin = false\nio_memory_kib = 512\n[media]\nport_first = 37400\nports_per_shard = 20\n",
    )
    .unwrap();
    let media = Proc::start(
        "media",
        &[
            "--role",
            "media",
            "--config",
            engine_toml.to_str().unwrap(),
            "--control-listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--stats-secs",
            "0",
            "--exit-after-secs",
            "110",
        ]
        .map(str::to_owned),
    );
    let control: SocketAddr = media
        .wait_for("media-link: control on ", Duration::from_secs(20))
        .split("control on ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let ip = [
        127,
        0,
        5,
        2 + u8::try_from(std::process::id() % 200).unwrap(),
    ];
    let floating = free_udp(ip);
    let mut pair = Pair::new(dir.path(), &registry_path, control, floating);
    pair.args[0].push("--ha-preempt".into());
    let mut gk_a = Proc::start("gk-a", &pair.args[0]);
    gk_a.wait_for("ha: serving RAS on", Duration::from_secs(20));
    let gk_b = Proc::start("gk-b", &pair.args[1]);
    let mut g = Guardian::new(&keys[0], floating, 60);
    g.register();
    g.socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();

    gk_a.child.kill().unwrap();
    gk_a.child.wait().unwrap();
    let epoch_b = epoch_in(&gk_b.wait_for("ha: primary at epoch", Duration::from_secs(10)));
    let gk_a = Proc::start("gk-a2", &pair.args[0]);
    let epoch_a = epoch_in(&gk_a.wait_for("ha: primary at epoch", Duration::from_secs(20)));
    assert!(epoch_a > epoch_b);
    let demoted = gk_b.wait_for("GATEKEEPER_DEMOTED", Duration::from_secs(10));
    assert!(demoted.contains("handover"), "{demoted}");
    gk_a.wait_for("ha: serving RAS on", Duration::from_secs(10));
    assert_eq!(engine_epoch(control), epoch_a);
    let (r, _) = ask_until(&mut g, Duration::from_secs(10), |g| {
        g.client.keep_alive(now_s(), 300).unwrap()
    });
    assert!(
        matches!(r, RasMessage::RegistrationConfirm(_)),
        "{}",
        r.name()
    );
    media.signal("-TERM");
}
