//! Shared by the HA process tests: `engine run` children with their stderr
//! lines, the pair's command lines, the engine's epoch, RAS retries.

#![allow(dead_code)] // each test binary uses part of it

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use control::media_link::{ClientConfig, MediaClient};
use control::ras::RasMessage;

use crate::metrics_support::Guardian;

/// An `engine run` child whose stderr lines are forwarded, killed on drop.
pub struct Proc {
    pub name: &'static str,
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
}

impl Proc {
    pub fn start(name: &'static str, args: &[String]) -> Self {
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
    pub fn wait_for(&self, needle: &str, bound: Duration) -> String {
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

    /// The address printed right after `needle` (the next word) in the next
    /// line containing it, within `bound`.
    pub fn addr_after(&self, needle: &str, bound: Duration) -> SocketAddr {
        let line = self.wait_for(needle, bound);
        let rest = line.split(needle).nth(1).unwrap_or_default();
        rest.split_whitespace()
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("{}: no address after {needle:?} in {line:?}", self.name))
    }

    /// Whether a line containing `needle` comes within `window`.
    pub fn sees(&self, needle: &str, window: Duration) -> bool {
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

    pub fn signal(&self, signal: &str) {
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

pub fn free_udp(ip: [u8; 4]) -> SocketAddr {
    UdpSocket::bind(SocketAddr::from((ip, 0)))
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The /metrics address a process printed.
pub fn metrics_addr(p: &Proc) -> SocketAddr {
    let line = p.wait_for("metrics: serving http://", Duration::from_secs(20));
    line.split("http://")
        .nth(1)
        .unwrap()
        .trim_end_matches("/metrics")
        .parse()
        .unwrap()
}

pub fn epoch_in(line: &str) -> u64 {
    // "gatekeeper: ha: primary at epoch T.N"
    let e = line.rsplit(' ').next().unwrap();
    let (term, node) = e.split_once('.').unwrap();
    (term.parse::<u64>().unwrap() << 8) | node.parse::<u64>().unwrap()
}

pub fn engine_epoch(control: SocketAddr) -> u64 {
    MediaClient::connect(ClientConfig::new(control, "ha-test"))
        .unwrap()
        .ping()
        .unwrap()
}

pub struct Pair {
    pub args: [Vec<String>; 2],
}

impl Pair {
    pub fn new(dir: &Path, registry: &Path, control: SocketAddr, floating: SocketAddr) -> Self {
        let (a, b) = (free_udp([127, 0, 0, 1]), free_udp([127, 0, 0, 1]));
        Self::links(dir, registry, control, floating, [(a, b), (b, a)])
    }

    /// The pair with its peer links through a [`Relay`] the test can cut.
    pub fn relayed(
        dir: &Path,
        registry: &Path,
        control: SocketAddr,
        floating: SocketAddr,
    ) -> (Self, Relay) {
        let (a, b) = (free_udp([127, 0, 0, 1]), free_udp([127, 0, 0, 1]));
        let relay = Relay::start(a, b);
        let pair = Self::links(
            dir,
            registry,
            control,
            floating,
            [(a, relay.to_b), (b, relay.to_a)],
        );
        (pair, relay)
    }

    /// Node A and B with (listen, peer) each.
    fn links(
        dir: &Path,
        registry: &Path,
        control: SocketAddr,
        floating: SocketAddr,
        [(a, a_peer), (b, b_peer)]: [(SocketAddr, SocketAddr); 2],
    ) -> Self {
        let key = dir.join("ha.key");
        std::fs::write(&key, "5a".repeat(32)).unwrap();
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
            args: [
                node("primary", a, a_peer, 0),
                node("secondary", b, b_peer, 1),
            ],
        }
    }
}

/// Asks until a reply comes (a terminal's retransmission), within `bound`:
/// the reply and when it came.
pub fn ask_until(
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

/// Keeps sending a keep-alive RRQ (a terminal's retransmissions) until the
/// gatekeeper answers within `bound`, which must be an RCF; when it came.
pub fn keep_alive_confirmed(g: &mut Guardian, bound: Duration) -> Instant {
    let (r, answered) = ask_until(g, bound, |g| {
        g.client
            .keep_alive(crate::metrics_support::now_s(), 300)
            .unwrap()
    });
    assert!(
        matches!(r, RasMessage::RegistrationConfirm(_)),
        "keep-alive answered with {}",
        r.name()
    );
    answered
}

/// A free UDP address on 127.0.`subnet`.x for a floating RAS address: x
/// from the process id, so parallel test binaries do not collide.
pub fn floating_ip(subnet: u8) -> SocketAddr {
    free_udp([
        127,
        0,
        subnet,
        2 + u8::try_from(std::process::id() % 200).unwrap(),
    ])
}

/// A one-shard media engine with ports from `port_first`, configured in
/// `dir`: the process and its control address.
pub fn start_media_only(dir: &Path, port_first: u16) -> (Proc, SocketAddr) {
    let engine_toml = dir.join("engine.toml");
    std::fs::write(
        &engine_toml,
        format!(
            "[shards]\ncount = 1\npin = false\nio_memory_kib = 512\n\
             [media]\nport_first = {port_first}\nports_per_shard = 20\n"
        ),
    )
    .unwrap();
    start_media(&engine_toml)
}

/// `engine run --role media` with `config`, its control and metrics ports
/// on ephemeral loopback ports, stopping by itself after 110 s.
pub fn spawn_media(config: &str) -> Proc {
    Proc::start(
        "media",
        &[
            "--role",
            "media",
            "--config",
            config,
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
    )
}

/// [`spawn_media`] with `engine_toml`: the process and its control address.
pub fn start_media(engine_toml: &Path) -> (Proc, SocketAddr) {
    let media = spawn_media(engine_toml.to_str().unwrap());
    let control = media.addr_after("media-link: control on ", Duration::from_secs(20));
    (media, control)
}

/// A UDP relay on the peer link: each node sends to the relay, which
/// forwards to the other node while open. Cutting it is a partition
/// between the two gatekeepers only (both still reach the engines).
pub struct Relay {
    /// Where node A sends (forwarded to B).
    pub to_b: SocketAddr,
    /// Where node B sends (forwarded to A).
    pub to_a: SocketAddr,
    open: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    fn start(a: SocketAddr, b: SocketAddr) -> Self {
        let open = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let mut ends = [(SocketAddr::from(([0, 0, 0, 0], 0))); 2];
        for (i, target) in [b, a].into_iter().enumerate() {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket
                .set_read_timeout(Some(Duration::from_millis(10)))
                .unwrap();
            ends[i] = socket.local_addr().unwrap();
            let (open, stop) = (Arc::clone(&open), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65_536];
                let started = Instant::now();
                // Bounded: stopped on drop; 120 s is a backstop.
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(120)
                {
                    if let Ok((n, _)) = socket.recv_from(&mut buf) {
                        if open.load(Ordering::Relaxed) {
                            let _ = socket.send_to(&buf[..n], target);
                        }
                    }
                }
            });
        }
        Self {
            to_b: ends[0],
            to_a: ends[1],
            open,
            stop,
        }
    }

    /// Forwards (true) or drops (false) every datagram from now on.
    pub fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::Relaxed);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
