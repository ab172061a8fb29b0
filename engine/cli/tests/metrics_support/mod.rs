//! Shared by the `engine run` observability tests: start a real `engine run`
//! with a guardian registry, an audit directory and /metrics on loopback;
//! drive it with signed RAS from `GuardianClient`; scrape /metrics.

#![allow(dead_code)] // each test binary uses part of it

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use control::client::GuardianClient;
use control::ras::RasMessage;
use control::security::keys::parse_private_key_file;

/// A running `engine run`; killed (SIGKILL) when dropped if still running.
pub struct Engine {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub ras: SocketAddr,
    pub metrics: SocketAddr,
    pub audit_dir: PathBuf,
    /// Private key files, one per guardian.
    pub keys: Vec<String>,
    /// The static room's one participant: its socket (the address the
    /// config names as its `remote_rtp`) and where the engine takes its RTP.
    pub rtp: UdpSocket,
    pub engine_rtp: SocketAddr,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Writes a registry of `guardians` fresh identities into `dir`; returns
/// the registry path and the private key files.
pub fn registry(dir: &Path, guardians: usize) -> (PathBuf, Vec<String>) {
    let mut entries = String::from("guardians:\n");
    let mut keys = Vec::new();
    for i in 0..guardians {
        let k = control::security::keygen(&format!("if://guardian/obs-{i}"));
        entries.push_str(&k.registry_entry_yaml);
        keys.push(k.private_key_file);
    }
    let path = dir.join("registry.yaml");
    std::fs::write(&path, entries).unwrap();
    (path, keys)
}

impl Engine {
    /// Starts `engine run` in `dir` (media ports from `port_first`, one
    /// static room with one participant), its audit log in `dir/logs`,
    /// reusing `registry` and `keys`.
    pub fn start(dir: &Path, registry: &Path, keys: &[String], port_first: u16) -> Self {
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let config = dir.join("engine.toml");
        std::fs::write(
            &config,
            format!(
                "[shards]\ncount = 1\npin = false\nio_memory_kib = 512\n\
                 [media]\nport_first = {port_first}\nports_per_shard = 20\n\
                 [[room]]\nid = 1\n[[room.participant]]\nid = 1\ncodec = \"pcmu\"\n\
                 remote_rtp = \"{}\"\n",
                rtp.local_addr().unwrap()
            ),
        )
        .unwrap();
        let audit_dir = dir.join("logs");
        let mut child = Command::new(env!("CARGO_BIN_EXE_engine"))
            .args([
                "run",
                "--stats-secs",
                "0",
                "--exit-after-secs",
                "90",
                "--ras-listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
                "--control-listen",
                "127.0.0.1:0",
                "--metrics-instance",
                "test-gk",
                "--config",
            ])
            .arg(&config)
            .arg("--registry")
            .arg(registry)
            .arg("--audit-dir")
            .arg(&audit_dir)
            .stderr(Stdio::piped())
            .spawn()
            .expect("engine run starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[engine] {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut e = Self {
            child,
            lines: rx,
            ras: "127.0.0.1:1".parse().unwrap(),
            metrics: "127.0.0.1:1".parse().unwrap(),
            audit_dir,
            keys: keys.to_vec(),
            rtp,
            engine_rtp: "127.0.0.1:1".parse().unwrap(),
        };
        // engine run starts the shards (static rooms), then the gatekeeper,
        // then the metrics endpoint, and logs in that order.
        let line = e.wait_for("send RTP to ");
        let addr = line.split("send RTP to ").nth(1).unwrap();
        e.engine_rtp = addr.split_whitespace().next().unwrap().parse().unwrap();
        let line = e.wait_for("gatekeeper: RAS on ");
        e.ras = line.split_whitespace().nth(3).unwrap().parse().unwrap();
        let line = e.wait_for("metrics: serving http://");
        let addr = line
            .split("http://")
            .nth(1)
            .unwrap()
            .trim_end_matches("/metrics");
        e.metrics = addr.parse().unwrap();
        e
    }

    /// The next stderr line containing `needle` (10 s at most).
    pub fn wait_for(&self, needle: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("no stderr line with {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// A guardian client for key `i`, bound to 127.0.0.`ip_last`.
    pub fn guardian(&self, i: usize, ip_last: u8) -> Guardian {
        Guardian::new(&self.keys[i], self.ras, ip_last)
    }

    /// SIGTERM and wait: the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        self.child.wait().unwrap()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends `n` G.711 µ-law RTP packets (20 ms of silence each) from the
/// participant's own address.
pub fn send_rtp(engine: &Engine, n: u16) {
    for seq in 0..n {
        let mut packet = vec![0x80, 0];
        packet.extend_from_slice(&seq.to_be_bytes());
        packet.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
        packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        packet.extend_from_slice(&[0xff; 160]);
        engine.rtp.send_to(&packet, engine.engine_rtp).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn now_s() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

/// One guardian on its own loopback address (the gatekeeper rate-limits
/// per source address).
pub struct Guardian {
    pub socket: UdpSocket,
    pub client: GuardianClient,
    pub me: SocketAddr,
    gk: SocketAddr,
}

impl Guardian {
    pub fn new(key_file: &str, gk: SocketAddr, ip_last: u8) -> Self {
        let socket = UdpSocket::bind(("127.0.0.".to_owned() + &ip_last.to_string(), 0)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let me = socket.local_addr().unwrap();
        let (id, key) = parse_private_key_file(key_file).unwrap();
        let client = GuardianClient::new(&id, key, u32::from(ip_last) * 7919);
        Self {
            socket,
            client,
            me,
            gk,
        }
    }

    /// Sends `request`, returns the decoded reply and its bytes, or `None`
    /// when nothing comes back within the read timeout.
    pub fn ask(&mut self, request: &[u8]) -> Option<(RasMessage, Vec<u8>)> {
        self.socket.send_to(request, self.gk).unwrap();
        let mut buf = [0u8; 2048];
        let (n, _) = self.socket.recv_from(&mut buf).ok()?;
        let reply = self.client.absorb(&buf[..n]).expect("a valid RAS reply");
        Some((reply, buf[..n].to_vec()))
    }

    /// GRQ then RRQ: registered.
    pub fn register(&mut self) {
        let grq = self.client.grq(self.me).unwrap();
        let (r, _) = self.ask(&grq).expect("GCF");
        assert!(
            matches!(r, RasMessage::GatekeeperConfirm(_)),
            "{}",
            r.name()
        );
        let rrq = self.client.rrq(now_s(), self.me, 300).unwrap();
        let (r, _) = self.ask(&rrq).expect("RCF");
        assert!(
            matches!(r, RasMessage::RegistrationConfirm(_)),
            "{}",
            r.name()
        );
    }

    /// ARQ for call `call` in `conference`: the reply.
    pub fn admit(&mut self, conference: [u8; 16], call: [u8; 16]) -> Option<(RasMessage, Vec<u8>)> {
        let arq = self.client.arq(now_s(), conference, call, 640).unwrap();
        self.ask(&arq)
    }
}

/// `GET /metrics` without an Accept header: the Prometheus text format.
pub fn scrape(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    body.to_owned()
}

/// Scrapes until `predicate` holds (10 s at most); the last scrape.
pub fn scrape_until(addr: SocketAddr, what: &str, predicate: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(addr);
        if predicate(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "never saw {what} in:\n{text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every `h323_…` identifier in `text`.
pub fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("h323_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// Runs a program if installed: `None` (after saying so loudly) if not.
pub fn run_tool(program: &str, args: &[&str], stdin: &str) -> Option<(bool, String)> {
    let Ok(mut child) = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!(
            "SKIPPED: `{program}` is not installed (Debian: apt-get install prometheus; \
             scripts/deps.sh installs it for CI)"
        );
        return None;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success(), text))
}

/// Every line of every RAS audit file under `audit_dir`, parsed.
pub fn ras_records(audit_dir: &Path) -> Vec<serde_json::Value> {
    let dir = audit_dir.join("h323_witness");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines() {
            out.push(serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")));
        }
    }
    out
}

/// `engine audit verify PATH`: (exit code, stdout).
pub fn audit_verify(path: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_engine"))
        .args(["audit", "verify"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `GET /api/v1/query?query=…` (already URL-encoded): the `data.result`
/// array, or `None` while Prometheus is not answering yet.
pub fn prometheus_query(prometheus: SocketAddr, encoded: &str) -> Option<Vec<serde_json::Value>> {
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
    // Prometheus may answer chunked; the JSON object is the part in braces.
    let json = &body[body.find('{')?..=body.rfind('}')?];
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v["data"]["result"].as_array().cloned()
}

/// Whether the `prometheus` binary is installed (tests that need it skip,
/// loudly, without it).
pub fn prometheus_installed() -> bool {
    std::process::Command::new("prometheus")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// A real Prometheus with `config`, its data in `dir/tsdb`, its web API on
/// a free loopback port; killed on drop.
pub struct Prometheus {
    child: std::process::Child,
    /// Its web API.
    pub web: SocketAddr,
}

impl Prometheus {
    pub fn start(config: &Path, dir: &Path) -> Self {
        let web = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let child = std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("prometheus starts");
        Self { child, web }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
