//! `engine bench --failover`: the bench against a real HA pair on loopback.
//! It starts three child processes of this executable — `engine run --role
//! media` and two `engine run --role gatekeeper --ha primary|secondary`
//! sharing a floating RAS address on 127.0.3.x — admits the guardians
//! through the floating address, streams the conference and, half-way
//! through the measured time, kills the primary with SIGKILL. It measures:
//! - failover duration: the kill → the first ACF from the new primary, by
//!   a probe guardian retrying its ARQ every 100 ms (the measurement's
//!   resolution; the conference's guardians use `--ras-timeout-ms` ×
//!   `--ras-retries`, by default H323Plus's 3 s × 2 retransmissions);
//! - media lost: mix packets the guardians never received over the whole
//!   measured run (an upper bound on what the failover caused);
//! - calls dropped: a guardian's mix silent > 1 s, or its call unknown to
//!   the new primary (BRQ not confirmed);
//! - sessions preserved: keep-alive RRQs confirmed by the new primary
//!   without re-registration, of the guardians admitted.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use bench::load::drive::{self, Progress, RunOutput};
use bench::load::media_remote::RemoteProvisioner;
use bench::load::ras_admit::{identities, write_registry, Identity, RasAdmitter};
use bench::load::report_build::EngineFigures;
use bench::load::LoadConfig;
use bench::report::{self, Failover, Measured, RunReport, SloTargets};
use control::client::GuardianClient;
use control::ras::RasMessage;

use super::{build_report, window_baseline, BenchArgs};

const NOTE: &str = "failover: media engine and both gatekeepers are child processes (engine run) on loopback; media provisioned over the media link after ACF";
/// Probe ARQ retry: the resolution of the failover measurement.
const PROBE_RETRY: Duration = Duration::from_millis(100);
/// Longest wait for the new primary's first ACF.
const PROBE_BOUND: Duration = Duration::from_secs(30);

/// A child `engine run`, killed on drop; its stderr lines on a channel.
struct Child2 {
    name: &'static str,
    child: Child,
    lines: Receiver<String>,
}

impl Child2 {
    fn spawn(name: &'static str, args: &[String], live: bool) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding this executable")?;
        let mut child = Command::new(exe)
            .arg("run")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting the {name} process"))?;
        let stderr = child.stderr.take().context("child stderr")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if live && line.contains(" ha: ") {
                    eprintln!("[{name}] {line}");
                }
                if tx.send(line).is_err() {
                    // Nobody listens any more: keep draining the pipe.
                    continue;
                }
            }
        });
        Ok(Self { name, child, lines })
    }

    /// The first stderr line containing `needle`, within `bound`.
    fn wait_for(&self, needle: &str, bound: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + bound;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Ok(line),
                Ok(_) => {}
                Err(_) => bail!("{}: no {needle:?} within {bound:?}", self.name),
            }
        }
    }

    fn word_after(&self, needle: &str, bound: Duration) -> anyhow::Result<SocketAddr> {
        let line = self.wait_for(needle, bound)?;
        line.split(needle)
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|w| w.parse().ok())
            .with_context(|| format!("{}: no address in {line:?}", self.name))
    }
}

impl Drop for Child2 {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn free_udp(ip: [u8; 4]) -> anyhow::Result<SocketAddr> {
    Ok(UdpSocket::bind(SocketAddr::from((ip, 0)))?.local_addr()?)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn now_s() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

/// The probe guardian: registered before the kill, then ARQs every
/// [`PROBE_RETRY`] until one is confirmed.
struct Probe {
    socket: UdpSocket,
    client: GuardianClient,
    gk: SocketAddr,
}

impl Probe {
    fn register(id: Identity, gk: SocketAddr) -> anyhow::Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(PROBE_RETRY))?;
        let me = socket.local_addr()?;
        let mut p = Self {
            client: GuardianClient::new(&id.terminal_id, id.key, 0x5eed),
            socket,
            gk,
        };
        let grq = p.client.grq(me)?;
        p.ask_until(&grq, Duration::from_secs(5), "GCF")?;
        let rrq = p.client.rrq(now_s(), me, 600)?;
        match p.ask_until(&rrq, Duration::from_secs(5), "RCF")? {
            RasMessage::RegistrationConfirm(_) => Ok(p),
            r => bail!("probe RRQ answered {}", r.name()),
        }
    }

    fn ask_until(&mut self, req: &[u8], bound: Duration, what: &str) -> anyhow::Result<RasMessage> {
        let deadline = Instant::now() + bound;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            self.socket.send_to(req, self.gk)?;
            if let Ok((n, _)) = self.socket.recv_from(&mut buf) {
                return Ok(self.client.absorb(&buf[..n])?);
            }
        }
        bail!("probe: no {what} within {bound:?}")
    }

    /// ARQs (a new call each time) until one is confirmed: when.
    fn first_acf(&mut self) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + PROBE_BOUND;
        let mut buf = [0u8; 4096];
        let mut call = 0u32;
        while Instant::now() < deadline {
            call += 1;
            let mut id = *b"probe-call-\0\0\0\0\0";
            id[12..16].copy_from_slice(&call.to_be_bytes());
            let arq = self.client.arq(now_s(), *b"probe-conference", id, 640)?;
            self.socket.send_to(&arq, self.gk)?;
            if let Ok((n, _)) = self.socket.recv_from(&mut buf) {
                if let Ok(RasMessage::AdmissionConfirm(_)) = self.client.absorb(&buf[..n]) {
                    return Ok(Instant::now());
                }
            }
        }
        bail!("no ACF from a new primary within {PROBE_BOUND:?} of the kill")
    }
}

/// The HA pair and the media engine.
struct Pair {
    /// Kept for its drop: the media engine lives as long as the pair.
    _media: Child2,
    primary: Option<Child2>,
    secondary: Child2,
    floating: SocketAddr,
    control: SocketAddr,
}

fn start_pair(
    dir: &Path,
    config: &LoadConfig,
    registry: &Path,
    live: bool,
) -> anyhow::Result<Pair> {
    let backstop = (config.warmup + config.duration).as_secs() + 120;
    let pid = std::process::id();
    let engine_toml = dir.join("engine.toml");
    std::fs::write(
        &engine_toml,
        format!(
            "[shards]\ncount = 1\npin = false\n[media]\nport_first = {}\nports_per_shard = {}\n",
            40_000 + (pid % 50) * 400,
            400
        ),
    )?;
    let media = Child2::spawn(
        "media",
        &strings(&[
            "--role",
            "media",
            "--config",
            &engine_toml.display().to_string(),
            "--control-listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--stats-secs",
            "0",
            "--exit-after-secs",
            &backstop.to_string(),
        ]),
        live,
    )?;
    let control = media.word_after("media-link: control on ", Duration::from_secs(20))?;
    let key = dir.join("ha.key");
    let mut k = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut k))
        .context("reading /dev/urandom for the HA key")?;
    std::fs::write(
        &key,
        k.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    )?;
    let floating = free_udp([127, 0, 3, 2 + (pid % 200) as u8])?;
    let (a, b) = (free_udp([127, 0, 0, 1])?, free_udp([127, 0, 0, 1])?);
    let node = |role: &str, listen: SocketAddr, peer: SocketAddr| {
        let mut v = strings(&[
            "--role",
            "gatekeeper",
            "--ha",
            role,
            "--stats-secs",
            "0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--exit-after-secs",
            &backstop.to_string(),
        ]);
        for (flag, value) in [
            ("--registry", registry.display().to_string()),
            ("--engine", control.to_string()),
            ("--ha-listen", listen.to_string()),
            ("--peer", peer.to_string()),
            ("--ha-key", key.display().to_string()),
            ("--floating", floating.to_string()),
        ] {
            v.push(flag.into());
            v.push(value);
        }
        v
    };
    // The secondary starts once the primary serves, so which node is
    // primary does not depend on process scheduling at cold start.
    let primary = Child2::spawn("gk-primary", &node("primary", a, b), live)?;
    primary.wait_for("ha: serving RAS on", Duration::from_secs(20))?;
    let secondary = Child2::spawn("gk-secondary", &node("secondary", b, a), live)?;
    Ok(Pair {
        _media: media,
        primary: Some(primary),
        secondary,
        floating,
        control,
    })
}

/// `engine bench --failover`.
pub(super) fn run(
    args: &BenchArgs,
    config: &LoadConfig,
    targets: &SloTargets,
    live: bool,
) -> anyhow::Result<(RunReport, RunOutput)> {
    if config.guardians > 100 {
        bail!("--failover runs at most 100 guardians (the media child's port range)");
    }
    let dir = std::env::temp_dir().join(format!("engine-bench-failover-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = run_in(args, config, targets, live, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(
    args: &BenchArgs,
    config: &LoadConfig,
    targets: &SloTargets,
    live: bool,
    dir: &Path,
) -> anyhow::Result<(RunReport, RunOutput)> {
    let mut ids = identities(config.guardians + 1, config.seed);
    let registry = dir.join("registry.yaml");
    write_registry(&registry, &ids)?;
    let mut pair = start_pair(dir, config, &registry, live)?;
    let probe_id = ids.pop().context("probe identity")?;
    let probe = Probe::register(probe_id, pair.floating)?;
    let media = RemoteProvisioner::connect(control::media_link::ClientConfig::new(
        pair.control,
        "engine bench --failover",
    ))
    .map_err(anyhow::Error::msg)?;
    let machine = report::Machine::detect();
    let mut admit =
        RasAdmitter::new(pair.floating, ids, media, config.seed).with_timers(args.ras_timers());
    if live {
        let t = args.ras_timers();
        eprintln!(
            "engine bench --failover: {} guardians through floating RAS {} (RAS timer {:?} x {} tries), media engine {}; the primary is killed at {:.0} s",
            config.guardians,
            pair.floating,
            t.timeout,
            t.retries + 1,
            pair.control,
            (config.warmup + config.duration / 2).as_secs_f64()
        );
    }
    // The kill happens on the progress callback (the run's own clock); the
    // probe then runs on its own thread while the conference streams on.
    let kill_at = (config.warmup + config.duration / 2).as_secs().max(1);
    let mut primary = pair.primary.take();
    let mut prober: Option<std::thread::JoinHandle<anyhow::Result<(Instant, Instant)>>> = None;
    let mut probe_slot = Some(probe);
    let started = SystemTime::now() + config.warmup;
    let output = drive::run(config, &mut admit, |p: Progress| {
        if p.elapsed_s >= kill_at && prober.is_none() {
            let killed = Instant::now();
            if let Some(mut c) = primary.take() {
                let _ = c.child.kill();
                let _ = c.child.wait();
            }
            if let Some(mut probe) = probe_slot.take() {
                prober = Some(std::thread::spawn(move || {
                    let acf = probe.first_acf()?;
                    Ok((killed, acf))
                }));
            }
        }
        if live && p.elapsed_s % 5 == 0 {
            eprintln!(
                "  {} / {} s, {} guardians up",
                p.elapsed_s, p.total_s, p.guardians_up
            );
        }
    })
    .map_err(anyhow::Error::msg)?;
    drop(probe_slot);
    let timing = match prober {
        Some(t) => Some(
            t.join()
                .map_err(|_| anyhow::anyhow!("the failover probe panicked"))??,
        ),
        None => None,
    };
    let new_primary = pair
        .secondary
        .wait_for("ha: primary at epoch", Duration::from_secs(1))
        .ok();
    let room_size = config.room_size;
    let (registered, calls, asked) = admit.confirm_sessions(&|i| i / room_size);
    let media = admit.media();
    let snapshot = media.engine_snapshot().map_err(anyhow::Error::msg)?;
    let leftovers = media.cleanup();
    let mut notes = vec![NOTE.to_owned()];
    let baseline = window_baseline(media.baseline().cloned(), &mut notes);
    let figures = EngineFigures::from_snapshots(baseline.as_ref(), &snapshot);
    if let Some(line) = &new_primary {
        notes.push(format!("new primary: {}", line.trim()));
    }
    if leftovers > 0 {
        notes.push(format!(
            "{leftovers} participant/room removals failed at the end"
        ));
    }
    let mut report = build_report(config, &output, &figures, started, notes, machine, targets);
    let media_lost: u64 = output.figures.guardians.iter().map(|g| g.lost).sum();
    let media_drops = output.figures.call_drops;
    report.failover = timing.map(|(killed, acf)| Failover {
        duration_s: acf.duration_since(killed).as_secs_f64(),
        media_lost_ms: media_lost as f64 * 20.0,
        media_lost,
        calls_dropped: media_drops.max(asked - calls.min(asked)),
        sessions_preserved: registered,
        sessions: asked,
    });
    if let Some(f) = &report.failover {
        eprintln!(
            "failover: {:.3} s (kill -9 → first ACF at the new primary), {} media packets lost, {} calls dropped, sessions preserved {}/{}",
            f.duration_s, f.media_lost, f.calls_dropped, f.sessions_preserved, f.sessions
        );
    }
    report.slo = report::evaluate(targets, &Measured::from_report(&report));
    drop(pair);
    Ok((report, output))
}
