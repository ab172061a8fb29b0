//! [`RemoteEngine`]: the gatekeeper's [`EngineApi`] over the media link.
//!
//! The gatekeeper thread must never wait on the network, so room ids are
//! allocated here, locally, and each command is handed to a link thread per
//! engine over a bounded queue; a full queue answers `Busy` (ARJ
//! `resourceUnavailable`) and is counted. The link thread connects, claims
//! the gatekeeper's epoch, applies the commands in order and pings when
//! idle; every failure is counted, none is waited on by the gatekeeper.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::{ClientConfig, ClientError, MediaClient};
use super::messages::{Epoch, LinkError};
use crate::engine_api::{EngineApi, EngineError, ProvisionRequest, ReleaseRequest, RoomId};

/// Commands queued per engine before `Busy`.
pub const QUEUE_MAX: usize = 256;
/// Idle time after which the link thread pings (and reconnects if needed).
pub const PING_EVERY: Duration = Duration::from_secs(5);
/// After a failed connect, commands fail at once for this long instead of
/// each waiting on an unreachable engine, so a backlog drains quickly.
pub const RECONNECT_BACKOFF: Duration = Duration::from_secs(1);
/// Rooms allocated by a gatekeeper start here, above any static room id of
/// an engine config, below the ids `engine bench --target` uses.
pub const ROOM_BASE: u32 = 1_000_000_000;

/// Counters of the link, shared with the link threads.
#[derive(Debug, Default)]
pub struct LinkCounters {
    /// Commands queued.
    pub queued: AtomicU64,
    /// Commands refused because the queue was full.
    pub busy: AtomicU64,
    /// Commands the engine applied.
    pub applied: AtomicU64,
    /// Commands that failed (connection, refusal other than fencing).
    pub failed: AtomicU64,
    /// Commands refused for a stale epoch: a newer controller exists.
    pub fenced: AtomicU64,
    /// Connections made (first connect and reconnects).
    pub connects: AtomicU64,
}

/// A plain copy of [`LinkCounters`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LinkCountersSnapshot {
    /// See [`LinkCounters`].
    pub queued: u64,
    /// See [`LinkCounters`].
    pub busy: u64,
    /// See [`LinkCounters`].
    pub applied: u64,
    /// See [`LinkCounters`].
    pub failed: u64,
    /// See [`LinkCounters`].
    pub fenced: u64,
    /// See [`LinkCounters`].
    pub connects: u64,
}

impl std::fmt::Display for LinkCountersSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "queued {} applied {} busy {} failed {} fenced {} connects {}",
            self.queued, self.applied, self.busy, self.failed, self.fenced, self.connects
        )
    }
}

impl LinkCounters {
    /// A plain copy.
    pub fn snapshot(&self) -> LinkCountersSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LinkCountersSnapshot {
            queued: g(&self.queued),
            busy: g(&self.busy),
            applied: g(&self.applied),
            failed: g(&self.failed),
            fenced: g(&self.fenced),
            connects: g(&self.connects),
        }
    }
}

#[derive(Debug)]
enum Command {
    CreateRoom(u32),
    DestroyRoom(u32),
    Claim(Epoch),
    Stop,
}

#[derive(Debug)]
struct Link {
    tx: SyncSender<Command>,
    stop: Arc<AtomicBool>,
}

/// An engine's answer to a claim, or a command refused as stale, sent by a
/// link thread to the [`Fencing`] handle.
#[derive(Debug, Clone, Copy)]
struct ClaimReport {
    engine: usize,
    epoch: Epoch,
    /// `Err(engine epoch)`: refused as stale.
    outcome: Result<(), Epoch>,
}

/// What the link threads share with the HA shell.
#[derive(Debug)]
struct Ha {
    /// Demoted or not yet primary: no command reaches an engine.
    suspended: AtomicBool,
    /// The last epoch claimed through [`Fencing`], for room allocation.
    epoch: AtomicU64,
    reports: SyncSender<ClaimReport>,
}

/// Media engines controlled over the link.
#[derive(Debug)]
pub struct RemoteEngine {
    links: Vec<Link>,
    /// room → (engine index, participants provisioned).
    rooms: HashMap<u64, (usize, u32)>,
    next_room: u32,
    /// The epoch `next_room` was chosen for.
    room_epoch: Epoch,
    counters: Arc<LinkCounters>,
    ha: Arc<Ha>,
    fencing: Option<Fencing>,
}

/// The HA shell's handle on the engines' epoch (docs/ha.md): claims an
/// epoch on every engine, stops commands at once when demoted, and reports
/// the aggregated answers as [`crate::ha::ClaimResult`]s.
#[derive(Debug)]
pub struct Fencing {
    links: Vec<SyncSender<Command>>,
    ha: Arc<Ha>,
    reports: Receiver<ClaimReport>,
    /// The epoch being claimed and the engines that accepted it.
    pending: Option<(Epoch, Vec<bool>)>,
}

impl Fencing {
    /// Claims `epoch` on every engine and lets commands through again.
    pub fn claim(&mut self, epoch: Epoch) {
        self.ha.suspended.store(false, Ordering::Relaxed);
        self.ha.epoch.store(epoch, Ordering::Relaxed);
        if self.pending.as_ref().is_none_or(|(e, _)| *e != epoch) {
            self.pending = Some((epoch, vec![false; self.links.len()]));
        }
        for tx in &self.links {
            // A full queue: this interval's claim is skipped; the node
            // re-claims every heartbeat interval (or times the claim out).
            let _ = tx.try_send(Command::Claim(epoch));
        }
    }

    /// Stops every engine command now (demoted): queued ones are dropped.
    pub fn suspend(&mut self) {
        self.ha.suspended.store(true, Ordering::Relaxed);
        self.pending = None;
    }

    /// The next aggregated answer: `Accepted` once every engine accepted
    /// the pending epoch, `Stale` as soon as one engine refused an epoch.
    pub fn poll(&mut self) -> Option<crate::ha::ClaimResult> {
        use crate::ha::{ClaimResult, Epoch as HaEpoch};
        while let Ok(r) = self.reports.try_recv() {
            match r.outcome {
                Err(engine_epoch) => {
                    return Some(ClaimResult::Stale {
                        epoch: HaEpoch(r.epoch),
                        engine_epoch: HaEpoch(engine_epoch),
                    })
                }
                Ok(()) => {
                    let Some((epoch, accepted)) = self.pending.as_mut() else {
                        continue;
                    };
                    if *epoch != r.epoch || r.engine >= accepted.len() {
                        continue;
                    }
                    accepted[r.engine] = true;
                    if accepted.iter().all(|a| *a) {
                        let epoch = *epoch;
                        // The next re-claim is counted afresh.
                        accepted.iter_mut().for_each(|a| *a = false);
                        return Some(ClaimResult::Accepted {
                            epoch: HaEpoch(epoch),
                        });
                    }
                }
            }
        }
        None
    }
}

impl RemoteEngine {
    /// Starts one link thread per engine; they connect in the background and
    /// claim `epoch`. Never blocks on the network.
    pub fn start(engines: Vec<ClientConfig>, epoch: Epoch) -> Result<Self, String> {
        Self::start_with(engines, epoch, false)
    }

    /// For an HA node: starts the link threads suspended (no connection, no
    /// claim, no command) until [`Fencing::claim`] on the handle taken with
    /// [`Self::take_fencing`]: a standby must never touch the engines.
    pub fn start_fenced(engines: Vec<ClientConfig>) -> Result<Self, String> {
        Self::start_with(engines, 0, true)
    }

    /// The HA handle (once).
    pub fn take_fencing(&mut self) -> Option<Fencing> {
        self.fencing.take()
    }

    fn start_with(
        engines: Vec<ClientConfig>,
        epoch: Epoch,
        suspended: bool,
    ) -> Result<Self, String> {
        if engines.is_empty() {
            return Err("no media engine to control (give --engine ADDR)".into());
        }
        let counters = Arc::new(LinkCounters::default());
        let (reports_tx, reports) = mpsc::sync_channel(QUEUE_MAX);
        let ha = Arc::new(Ha {
            suspended: AtomicBool::new(suspended),
            epoch: AtomicU64::new(epoch),
            reports: reports_tx,
        });
        let mut links = Vec::with_capacity(engines.len());
        for (i, config) in engines.into_iter().enumerate() {
            let (tx, rx) = mpsc::sync_channel(QUEUE_MAX);
            let c = Arc::clone(&counters);
            let stop = Arc::new(AtomicBool::new(false));
            let s = Arc::clone(&stop);
            let h = Arc::clone(&ha);
            std::thread::Builder::new()
                .name(format!("media-link-{i}"))
                .spawn(move || link_thread(i, config, epoch, &rx, &c, &s, &h))
                .map_err(|e| format!("starting the media link thread: {e}"))?;
            links.push(Link { tx, stop });
        }
        let fencing = Fencing {
            links: links.iter().map(|l| l.tx.clone()).collect(),
            ha: Arc::clone(&ha),
            reports,
            pending: None,
        };
        Ok(Self {
            links,
            rooms: HashMap::new(),
            next_room: ROOM_BASE,
            room_epoch: epoch,
            counters,
            ha,
            fencing: Some(fencing),
        })
    }

    /// The link's counters.
    #[must_use]
    pub fn counters(&self) -> LinkCountersSnapshot {
        self.counters.snapshot()
    }

    /// A handle on the counters that outlives a move into the gatekeeper.
    #[must_use]
    pub fn counters_handle(&self) -> Arc<LinkCounters> {
        Arc::clone(&self.counters)
    }

    /// Raises the epoch on every engine (after an HA promotion).
    pub fn claim(&mut self, epoch: Epoch) -> Result<(), EngineError> {
        self.ha.suspended.store(false, Ordering::Relaxed);
        self.ha.epoch.store(epoch, Ordering::Relaxed);
        for i in 0..self.links.len() {
            self.send(i, Command::Claim(epoch))?;
        }
        Ok(())
    }

    fn send(&self, engine: usize, command: Command) -> Result<(), EngineError> {
        match self.links[engine].tx.try_send(command) {
            Ok(()) => {
                self.counters.queued.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => {
                self.counters.busy.fetch_add(1, Ordering::Relaxed);
                Err(EngineError::Busy)
            }
            Err(TrySendError::Disconnected(_)) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                Err(EngineError::NoCapacity)
            }
        }
    }
}

/// Where a primary of `epoch` starts allocating rooms: a slice of a million
/// ids per epoch (3000 slices, reused only after 3000 epochs), so a new
/// primary does not pick ids its predecessor's conferences still use.
fn room_base_for(epoch: Epoch) -> u32 {
    ROOM_BASE + u32::try_from(epoch % 3000).unwrap_or(0) * 1_000_000
}

impl EngineApi for RemoteEngine {
    fn provision(&mut self, request: &ProvisionRequest) -> Result<RoomId, EngineError> {
        if let Some(room) = request.room {
            if let Some((_, members)) = self.rooms.get_mut(&room.0) {
                *members += 1;
                return Ok(room);
            }
            // A room made by a previous primary (its calls were replicated
            // to us): it exists on the engine that id maps to.
            if let Ok(id) = u32::try_from(room.0) {
                if id >= ROOM_BASE {
                    self.rooms
                        .insert(room.0, (id as usize % self.links.len(), 1));
                    return Ok(room);
                }
            }
        }
        let epoch = self.ha.epoch.load(Ordering::Relaxed);
        if epoch != self.room_epoch {
            self.room_epoch = epoch;
            self.next_room = room_base_for(epoch);
        }
        // Ids are reused only after 2^32 - ROOM_BASE rooms; a clash with a
        // room still open is skipped.
        let mut id = self.next_room;
        while self.rooms.contains_key(&u64::from(id)) {
            id = id.checked_add(1).unwrap_or(ROOM_BASE);
        }
        let engine = id as usize % self.links.len();
        self.send(engine, Command::CreateRoom(id))?;
        self.next_room = id.checked_add(1).unwrap_or(ROOM_BASE);
        self.rooms.insert(u64::from(id), (engine, 1));
        Ok(RoomId(u64::from(id)))
    }

    fn release(&mut self, request: &ReleaseRequest) {
        let Some((engine, members)) = self.rooms.get_mut(&request.room.0) else {
            return;
        };
        *members = members.saturating_sub(1);
        if *members == 0 {
            let engine = *engine;
            self.rooms.remove(&request.room.0);
            // Best effort: a full queue is counted; the room stays until the
            // engine restarts or is destroyed by hand.
            let _ = self.send(engine, Command::DestroyRoom(request.room.0 as u32));
        }
    }
}

impl Drop for RemoteEngine {
    /// Tells the link threads to stop and does not wait: a thread inside a
    /// network call ends by itself within its timeouts (at most connect +
    /// two request timeouts), and a gatekeeper shutting down must not wait
    /// on an unreachable engine.
    fn drop(&mut self) {
        for link in &self.links {
            link.stop.store(true, Ordering::Relaxed);
            let _ = link.tx.try_send(Command::Stop);
        }
    }
}

/// One engine's connection with its reconnect back-off.
#[derive(Debug)]
struct Conn {
    config: ClientConfig,
    client: Option<MediaClient>,
    retry_at: Option<Instant>,
}

impl Conn {
    /// Connects and claims `epoch` unless connected or backing off. The
    /// claim's answer, if any.
    // The link thread is an IO shell: it reads the clock for its reconnect
    // back-off, as the UDP service shell does.
    #[allow(clippy::disallowed_methods)]
    fn ensure(&mut self, epoch: Epoch, c: &LinkCounters) -> Option<Result<(), Epoch>> {
        if self.client.as_ref().is_some_and(MediaClient::is_connected) {
            return None;
        }
        self.client = None;
        if self.retry_at.is_some_and(|t| Instant::now() < t) {
            return None;
        }
        self.retry_at = Some(Instant::now() + RECONNECT_BACKOFF);
        let Ok(cl) = MediaClient::connect(self.config.clone()) else {
            return None;
        };
        c.connects.fetch_add(1, Ordering::Relaxed);
        self.client = Some(cl);
        let outcome = self.claim(epoch, c);
        if outcome == Some(Ok(())) {
            self.retry_at = None;
        }
        outcome
    }

    /// Claims `epoch` on the open connection (None: not connected, or the
    /// connection failed and was dropped).
    fn claim(&mut self, epoch: Epoch, c: &LinkCounters) -> Option<Result<(), Epoch>> {
        let cl = self.client.as_mut()?;
        match cl.claim(epoch) {
            Ok(_) => Some(Ok(())),
            Err(e) => {
                count(c, &e);
                if let Some(LinkError::StaleEpoch { current }) = e.refusal() {
                    return Some(Err(*current));
                }
                self.client = None;
                None
            }
        }
    }
}

fn link_thread(
    engine: usize,
    config: ClientConfig,
    mut epoch: Epoch,
    rx: &Receiver<Command>,
    c: &LinkCounters,
    stop: &AtomicBool,
    ha: &Ha,
) {
    let report = |epoch: Epoch, outcome: Option<Result<(), Epoch>>| {
        if let Some(outcome) = outcome {
            // Bounded: a lost report is a claim the node re-sends or times out.
            let _ = ha.reports.try_send(ClaimReport {
                engine,
                epoch,
                outcome,
            });
        }
    };
    let mut link = Conn {
        config,
        client: None,
        retry_at: None,
    };
    // Connect and claim at once, so the epoch is raised when the gatekeeper
    // starts rather than at its first admission (not for an HA standby).
    if !ha.suspended.load(Ordering::Relaxed) {
        link.ensure(epoch, c);
    }
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let command = match rx.recv_timeout(PING_EVERY) {
            Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(command) => command,
            Err(RecvTimeoutError::Timeout) => {
                if !ha.suspended.load(Ordering::Relaxed) {
                    let outcome = link.ensure(epoch, c);
                    report(epoch, outcome.filter(Result::is_err));
                    if let Some(cl) = link.client.as_mut() {
                        let _ = cl.ping();
                    }
                }
                continue;
            }
        };
        if let Command::Claim(e) = command {
            // On the open connection when there is one: a primary re-claims
            // every heartbeat interval, which must not cost a reconnect.
            epoch = e;
            link.retry_at = None;
            let outcome = match link.claim(epoch, c) {
                Some(o) => Some(o),
                None => link.ensure(epoch, c),
            };
            report(epoch, outcome);
            continue;
        }
        if ha.suspended.load(Ordering::Relaxed) {
            // Demoted: a command queued before the demotion is not sent.
            c.fenced.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let outcome = link.ensure(epoch, c);
        report(epoch, outcome.filter(Result::is_err));
        let Some(cl) = link.client.as_mut() else {
            c.failed.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let result = match command {
            Command::CreateRoom(room) => cl.create_room(epoch, room),
            Command::DestroyRoom(room) => cl.destroy_room(epoch, room),
            Command::Claim(_) | Command::Stop => Ok(()),
        };
        match result {
            Ok(()) => {
                c.applied.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                count(c, &e);
                if let Some(LinkError::StaleEpoch { current }) = e.refusal() {
                    report(epoch, Some(Err(*current)));
                }
            }
        }
    }
}

fn count(c: &LinkCounters, e: &ClientError) {
    match e.refusal() {
        Some(LinkError::StaleEpoch { .. }) => c.fenced.fetch_add(1, Ordering::Relaxed),
        _ => c.failed.fetch_add(1, Ordering::Relaxed),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine_api::ProvisionRequest;

    /// An HA standby's engine link neither connects nor sends until the
    /// node claims; a claim then connects (and, against a listener that
    /// never answers, reports nothing, so the node's claim times out).
    #[test]
    #[allow(clippy::disallowed_methods)] // A test of the IO shell uses the real clock.
    fn a_fenced_link_stays_silent_until_claimed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let mut config = ClientConfig::new(listener.local_addr().unwrap(), "test");
        config.io_timeout = Duration::from_millis(200);
        let mut remote = RemoteEngine::start_fenced(vec![config]).unwrap();
        let mut fencing = remote.take_fencing().unwrap();
        assert!(remote.take_fencing().is_none(), "one handle");
        let request = ProvisionRequest {
            conference_id: [1; 16],
            room: None,
            terminal_id: "t".into(),
            call_id: [2; 16],
            bandwidth_bps: 64_000,
            endpoint_ras: "127.0.0.1:1".parse().unwrap(),
        };
        assert!(
            remote.provision(&request).is_ok(),
            "queued, never waited on"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while remote.counters().fenced == 0 {
            assert!(
                Instant::now() < deadline,
                "the queued command was not dropped"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            listener.accept().is_err(),
            "a standby connected to an engine"
        );
        assert_eq!(remote.counters().connects, 0);
        fencing.claim(7);
        let deadline = Instant::now() + Duration::from_secs(5);
        while listener.accept().is_err() {
            assert!(Instant::now() < deadline, "the claim did not connect");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(fencing.poll(), None, "no answer, no result");
        fencing.suspend();
    }
}
