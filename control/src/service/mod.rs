//! The UDP service shell around the sans-IO gatekeeper: one thread owning a
//! `std::net::UdpSocket` (port 1719 by default, never 1720), per-source rate
//! limiting, the wall clock, and commands from the [`ServiceHandle`] (reload
//! the registry on SIGHUP, stop admissions on SIGUSR1, shut down).
//!
//! With [`ServiceConfig::audit`] set, every reply is recorded in the audit
//! log before it is sent (docs/audit.md); a reply whose record cannot be
//! written is not sent (fail closed), and counted.

mod ha;
mod observe;
mod rate;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use ha::{HaConfig, HaStatus};
pub use observe::{FailoverNote, GateCounts};
pub use rate::{RateLimit, RateLimiter};

use crate::audit::{AuditError, AuditWriter, FsyncPolicy, RasAuditTrail};
use crate::engine_api::EngineApi;
use crate::gatekeeper::{self, Counters, Event, Gatekeeper, Output, UnixMillis};
use crate::ras::DATAGRAM_BYTES_MAX;
use crate::registry::{Registry, RegistryErrors, Summary};

/// The RAS port.
pub const RAS_PORT: u16 = 1719;
/// H.225.0 call signalling: never a RAS port.
pub const CALL_SIGNALLING_PORT: u16 = 1720;
/// Longest wait in the socket read, so commands are seen promptly.
const POLL_MS_MAX: u64 = 20;
/// Most datagrams taken from the socket at once (one signature batch).
const BATCH_MAX: usize = 32;
/// A standby's loop period: how soon it sees a claim or promotion.
const STANDBY_POLL_MS: u64 = 5;

/// Service configuration.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The guardian registry file.
    pub registry_path: PathBuf,
    /// Where RAS is received (default `0.0.0.0:1719`).
    pub ras_listen: SocketAddr,
    /// The gatekeeper's settings.
    pub gatekeeper: gatekeeper::Config,
    /// Per-source rate limits.
    pub rate_limit: RateLimit,
    /// The audit log; `None` records nothing.
    pub audit: Option<AuditConfig>,
    /// High availability (docs/ha.md): with it the service starts as a
    /// standby without a RAS socket and serves RAS on the floating address
    /// only while primary; `ras_listen` is not used. Start it with
    /// [`start_ha`].
    pub ha: Option<HaConfig>,
}

/// Where and how the audit log is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// The audit root (`logs/` in the runbook): RAS records go to
    /// `h323_witness/`, failover records to `ha/`.
    pub dir: PathBuf,
    /// When records are forced to disk.
    pub fsync: FsyncPolicy,
}

impl ServiceConfig {
    /// Defaults for a registry path: listen on 0.0.0.0:1719.
    #[must_use]
    pub fn new(registry_path: PathBuf) -> Self {
        Self {
            registry_path,
            ras_listen: SocketAddr::from(([0, 0, 0, 0], RAS_PORT)),
            gatekeeper: gatekeeper::Config::default(),
            rate_limit: RateLimit::default(),
            audit: None,
            ha: None,
        }
    }
}

/// Service errors.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The registry did not load.
    #[error("registry: {0}")]
    Registry(#[from] RegistryErrors),
    /// Port 1720 is H.225.0 call signalling, not RAS.
    #[error("{0} uses port 1720, which is H.225.0 call signalling; RAS uses 1719")]
    CallSignallingPort(SocketAddr),
    /// The audit log could not be opened or written.
    #[error("{0}")]
    Audit(#[from] AuditError),
    /// Socket errors.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The service thread is gone.
    #[error("service thread stopped")]
    Stopped,
    /// The HA configuration cannot work.
    #[error("ha: {0}")]
    Ha(String),
}

/// Service statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceStats {
    /// The gatekeeper's counters.
    pub gatekeeper: Counters,
    /// Datagrams dropped by the rate limiter.
    pub rate_limited: u64,
    /// Datagrams longer than the RAS maximum (truncated on receive).
    pub oversize: u64,
    /// Send errors.
    pub send_errors: u64,
    /// Receive errors (e.g. ICMP port unreachable reported on the socket).
    pub recv_errors: u64,
    /// Admissions (ACF for a new call) since start.
    pub admissions: u64,
    /// Rejected decisions by the gate that refused them.
    pub rejections: GateCounts,
    /// Calls admitted now.
    pub active_calls: u64,
    /// Live registrations.
    pub registrations: u64,
    /// Audit records written.
    pub audit_records: u64,
    /// Audit writes that failed; the reply concerned was not sent.
    pub audit_errors: u64,
    /// HA state, when the service runs as one node of a pair.
    pub ha: Option<HaStatus>,
}

enum Command {
    Registry(Arc<Registry>),
    Admissions(bool),
    Stats(mpsc::SyncSender<ServiceStats>),
    Bandwidth(mpsc::SyncSender<Vec<(String, u64)>>),
    Failover(FailoverNote, mpsc::SyncSender<Result<(), String>>),
    Shutdown,
}

/// Controls a running service.
#[derive(Debug)]
pub struct ServiceHandle {
    commands: mpsc::SyncSender<Command>,
    thread: Option<JoinHandle<()>>,
    local_addr: SocketAddr,
    registry_path: PathBuf,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Registry(_) => "Registry",
            Self::Admissions(_) => "Admissions",
            Self::Stats(_) => "Stats",
            Self::Bandwidth(_) => "Bandwidth",
            Self::Failover(..) => "Failover",
            Self::Shutdown => "Shutdown",
        })
    }
}

impl ServiceHandle {
    /// The bound RAS address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// SIGHUP: reloads the registry file. On error the running registry is
    /// kept and the errors are returned.
    pub fn reload_registry(&self) -> Result<Summary, ServiceError> {
        let registry = Registry::load(&self.registry_path)?;
        let summary = registry.summary();
        self.command(Command::Registry(Arc::new(registry)))?;
        Ok(summary)
    }

    /// SIGUSR1: stops (false) or resumes (true) admissions.
    pub fn set_admissions_enabled(&self, enabled: bool) -> Result<(), ServiceError> {
        self.command(Command::Admissions(enabled))
    }

    /// Current statistics.
    pub fn stats(&self) -> Result<ServiceStats, ServiceError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.command(Command::Stats(tx))?;
        rx.recv().map_err(|_| ServiceError::Stopped)
    }

    /// Bandwidth granted per guardian with calls, (terminal_id, bit/s).
    pub fn guardian_bandwidth(&self) -> Result<Vec<(String, u64)>, ServiceError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.command(Command::Bandwidth(tx))?;
        rx.recv().map_err(|_| ServiceError::Stopped)
    }

    /// HA hook: appends a `GATEKEEPER_FAILOVER` record to
    /// `ha/failover_YYYYMMDD.jsonl` through the service's single audit
    /// writer (so the chain has one writer). `Ok` without a log configured.
    pub fn record_failover(&self, note: FailoverNote) -> Result<(), ServiceError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.command(Command::Failover(note, tx))?;
        rx.recv().map_err(|_| ServiceError::Stopped)?.map_err(|e| {
            ServiceError::Audit(AuditError::Io {
                path: PathBuf::from("ha"),
                source: std::io::Error::other(e),
            })
        })
    }

    /// Stops the service thread and waits for it.
    pub fn shutdown(mut self) -> Result<(), ServiceError> {
        let sent = self.command(Command::Shutdown);
        if let Some(t) = self.thread.take() {
            t.join().map_err(|_| ServiceError::Stopped)?;
        }
        sent
    }

    fn command(&self, c: Command) -> Result<(), ServiceError> {
        self.commands.send(c).map_err(|_| ServiceError::Stopped)
    }
}

impl Drop for ServiceHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Wall-clock time for the gatekeeper.
// The shell is the one place that reads the clock: the gatekeeper core takes
// time as an argument (control/clippy.toml forbids reading it elsewhere).
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> UnixMillis {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UnixMillis(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

/// Starts the RAS service: loads the registry, binds the socket and runs the
/// gatekeeper on its own thread. `on_event` receives every gatekeeper event
/// (audit log, metrics) on that thread and must not block.
pub fn start<E, F>(
    config: ServiceConfig,
    engine: E,
    on_event: F,
) -> Result<ServiceHandle, ServiceError>
where
    E: EngineApi + Send + 'static,
    F: FnMut(&Event) + Send + 'static,
{
    if config.ha.is_some() {
        return Err(ServiceError::Ha(
            "an HA node needs the engines' fencing handle: use service::start_ha".into(),
        ));
    }
    start_inner(config, engine, None, on_event)
}

/// Starts the RAS service as one node of an HA pair (`config.ha` set):
/// a standby until the peer link promotes it; `fencing` claims the engines
/// (from [`crate::media_link::RemoteEngine::take_fencing`] of `engine`).
pub fn start_ha<E, F>(
    config: ServiceConfig,
    engine: E,
    fencing: crate::media_link::Fencing,
    on_event: F,
) -> Result<ServiceHandle, ServiceError>
where
    E: EngineApi + Send + 'static,
    F: FnMut(&Event) + Send + 'static,
{
    if config.ha.is_none() {
        return Err(ServiceError::Ha(
            "start_ha without an HA configuration".into(),
        ));
    }
    start_inner(config, engine, Some(fencing), on_event)
}

fn start_inner<E, F>(
    config: ServiceConfig,
    engine: E,
    fencing: Option<crate::media_link::Fencing>,
    on_event: F,
) -> Result<ServiceHandle, ServiceError>
where
    E: EngineApi + Send + 'static,
    F: FnMut(&Event) + Send + 'static,
{
    let ras = config
        .ha
        .as_ref()
        .map_or(config.ras_listen, |h| h.floating.address);
    if ras.port() == CALL_SIGNALLING_PORT {
        return Err(ServiceError::CallSignallingPort(ras));
    }
    let registry = Arc::new(Registry::load(&config.registry_path)?);
    let audit = match &config.audit {
        Some(a) => Some(RasAuditTrail::new(AuditWriter::open(&a.dir, a.fsync)?)),
        None => None,
    };
    // An HA node starts as a standby: no RAS socket until promoted.
    let (socket, local_addr, ha) = match (config.ha.clone(), fencing) {
        (Some(h), Some(f)) => {
            let shell = ha::HaShell::start(h, f).map_err(|e| ServiceError::Ha(e.to_string()))?;
            (None, ras, Some(shell))
        }
        _ => {
            let socket = UdpSocket::bind(config.ras_listen)?;
            socket.set_read_timeout(Some(Duration::from_millis(POLL_MS_MAX)))?;
            let local_addr = socket.local_addr()?;
            (Some(socket), local_addr, None)
        }
    };
    let (tx, rx) = mpsc::sync_channel(16);
    let gk = Gatekeeper::new(config.gatekeeper.clone(), registry, engine);
    let limiter = RateLimiter::new(config.rate_limit);
    let thread = std::thread::Builder::new()
        .name("ras-gatekeeper".into())
        .spawn(move || run(socket, ha, gk, limiter, &rx, audit, on_event))?;
    Ok(ServiceHandle {
        commands: tx,
        thread: Some(thread),
        local_addr,
        registry_path: config.registry_path,
    })
}

/// Waits (bounded) for one datagram, then takes whatever else is already
/// queued, up to BATCH_MAX, so their signatures verify as one batch.
fn receive(
    socket: &UdpSocket,
    bufs: &mut [Vec<u8>],
    received: &mut Vec<(SocketAddr, usize)>,
    stats: &mut ServiceStats,
) {
    match socket.recv_from(&mut bufs[0]) {
        Ok((n, from)) => {
            received.push((from, n));
            if socket.set_nonblocking(true).is_ok() {
                while received.len() < BATCH_MAX {
                    match socket.recv_from(&mut bufs[received.len()]) {
                        Ok((n, from)) => received.push((from, n)),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(_) => {
                            stats.recv_errors += 1;
                            break;
                        }
                    }
                }
                let _ = socket.set_nonblocking(false);
            }
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        Err(_) => stats.recv_errors += 1,
    }
}

#[allow(clippy::too_many_lines)]
fn run<E: EngineApi, F: FnMut(&Event)>(
    mut socket: Option<UdpSocket>,
    mut ha: Option<ha::HaShell>,
    mut gk: Gatekeeper<E>,
    mut limiter: RateLimiter,
    commands: &mpsc::Receiver<Command>,
    mut audit: Option<RasAuditTrail>,
    mut on_event: F,
) {
    let mut stats = ServiceStats::default();
    let mut observed = observe::Observed::default();
    // One byte more than the maximum, to detect oversize datagrams.
    let mut bufs = vec![vec![0u8; DATAGRAM_BYTES_MAX + 1]; BATCH_MAX];
    let mut received: Vec<(SocketAddr, usize)> = Vec::with_capacity(BATCH_MAX);
    let mut next_timeout: Option<UnixMillis> = None;
    loop {
        received.clear();
        if let Some(h) = &mut ha {
            h.poll(&mut socket);
        }
        // Not primary: no RAS is read and no timeout runs (the primary
        // expires registrations and replicates that).
        let serving = ha.as_ref().is_none_or(ha::HaShell::is_primary);
        match socket.as_ref().filter(|_| serving) {
            Some(s) => receive(s, &mut bufs, &mut received, &mut stats),
            None => std::thread::sleep(Duration::from_millis(STANDBY_POLL_MS)),
        }
        // Commands are applied after the wait and before the datagrams, so a
        // command acknowledged to its sender governs every later datagram.
        loop {
            match commands.try_recv() {
                Ok(Command::Registry(r)) => gk.replace_registry(r),
                Ok(Command::Admissions(on)) => gk.set_admissions_enabled(on),
                Ok(Command::Stats(reply)) => {
                    stats.gatekeeper = gk.counters();
                    stats.active_calls = gk.calls() as u64;
                    stats.registrations = gk.registrations() as u64;
                    observed.fill(&mut stats);
                    stats.ha = ha.as_ref().map(|h| h.status);
                    let _ = reply.try_send(stats);
                }
                Ok(Command::Bandwidth(reply)) => {
                    let _ = reply.try_send(observed.bandwidth(&gk));
                }
                Ok(Command::Failover(note, reply)) => {
                    let result = match &mut audit {
                        Some(trail) => {
                            let record = note.record(wall_clock());
                            trail.writer().append(&record).map_err(|e| e.to_string())
                        }
                        None => Ok(()),
                    };
                    let _ = reply.try_send(result);
                }
                Ok(Command::Shutdown) | Err(mpsc::TryRecvError::Disconnected) => return,
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        if !received.is_empty() {
            let now = wall_clock();
            let mut batch: Vec<(SocketAddr, &[u8])> = Vec::with_capacity(received.len());
            for (&(from, n), buf) in received.iter().zip(&bufs) {
                if !limiter.allow(from.ip(), now) {
                    stats.rate_limited += 1;
                    continue;
                }
                if n > DATAGRAM_BYTES_MAX {
                    stats.oversize += 1;
                }
                // An oversize datagram is passed truncated to one byte over
                // the limit, so the gatekeeper counts it as malformed.
                batch.push((from, &buf[..n]));
            }
            gk.handle_datagrams(now, &batch);
        }
        let now = wall_clock();
        if serving && next_timeout.is_some_and(|t| t <= now) {
            gk.handle_timeout(now);
        }
        // Replicate before replying (docs/ha.md): the standby knows what
        // the terminal is about to be told.
        if let Some(h) = &mut ha {
            h.sync(&mut gk, now);
        }
        let serving = ha.as_ref().is_none_or(ha::HaShell::is_primary);
        loop {
            match gk.poll_output() {
                Output::Transmit(t) => {
                    let Some(socket) = socket.as_ref().filter(|_| serving) else {
                        continue;
                    };
                    // The record goes to the file before the reply leaves.
                    if let Some(trail) = &mut audit {
                        let written = trail.before_send(now, &t);
                        if !observed.audited(written, &mut stats) {
                            continue;
                        }
                    }
                    if socket.send_to(&t.bytes, t.to).is_err() {
                        stats.send_errors += 1;
                    }
                }
                Output::Event(e) => {
                    observed.on_event(&e);
                    if let Some(trail) = &mut audit {
                        let written = trail.on_event(now, &e);
                        observed.audited(written, &mut stats);
                    }
                    on_event(&e);
                }
                Output::Timeout(t) => {
                    next_timeout = t;
                    break;
                }
            }
        }
        if let Some(trail) = &mut audit {
            let written = trail.flush(now);
            observed.audited(written, &mut stats);
            // Group commit's time bound, after the replies went out.
            let synced = trail.writer().sync_if_due(now);
            observed.audited(synced, &mut stats);
            stats.audit_records = trail.writer().records_written();
        }
    }
}
