//! [`RemoteEngine`]: the gatekeeper's [`EngineApi`] over the media link.
//!
//! The gatekeeper thread must never wait on the network, so room ids are
//! allocated here, locally, and each command is handed to a link thread per
//! engine over a bounded queue; a full queue answers `Busy` (ARJ
//! `resourceUnavailable`) and is counted. The link thread connects, claims
//! the gatekeeper's epoch, applies the commands in order and pings when
//! idle; every failure is counted, none is waited on by the gatekeeper.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::client::{ClientConfig, ClientError, MediaClient};
use super::messages::{Epoch, LinkError};
use crate::engine_api::{EngineApi, EngineError, ProvisionRequest, ReleaseRequest, RoomId};

/// Commands queued per engine before `Busy`.
pub const QUEUE_MAX: usize = 256;
/// Idle time after which the link thread pings (and reconnects if needed).
pub const PING_EVERY: Duration = Duration::from_secs(5);
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

impl LinkCounters {
    fn snapshot(&self) -> LinkCountersSnapshot {
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
    thread: Option<JoinHandle<()>>,
}

/// Media engines controlled over the link.
#[derive(Debug)]
pub struct RemoteEngine {
    links: Vec<Link>,
    /// room → (engine index, participants provisioned).
    rooms: HashMap<u64, (usize, u32)>,
    next_room: u32,
    counters: Arc<LinkCounters>,
}

impl RemoteEngine {
    /// Starts one link thread per engine; they connect in the background and
    /// claim `epoch`. Never blocks on the network.
    pub fn start(engines: Vec<ClientConfig>, epoch: Epoch) -> Result<Self, String> {
        if engines.is_empty() {
            return Err("no media engine to control (give --engine ADDR)".into());
        }
        let counters = Arc::new(LinkCounters::default());
        let mut links = Vec::with_capacity(engines.len());
        for (i, config) in engines.into_iter().enumerate() {
            let (tx, rx) = mpsc::sync_channel(QUEUE_MAX);
            let c = Arc::clone(&counters);
            let thread = std::thread::Builder::new()
                .name(format!("media-link-{i}"))
                .spawn(move || link_thread(config, epoch, &rx, &c))
                .map_err(|e| format!("starting the media link thread: {e}"))?;
            links.push(Link {
                tx,
                thread: Some(thread),
            });
        }
        Ok(Self {
            links,
            rooms: HashMap::new(),
            next_room: ROOM_BASE,
            counters,
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

impl EngineApi for RemoteEngine {
    fn provision(&mut self, request: &ProvisionRequest) -> Result<RoomId, EngineError> {
        if let Some(room) = request.room {
            if let Some((_, members)) = self.rooms.get_mut(&room.0) {
                *members += 1;
                return Ok(room);
            }
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
    fn drop(&mut self) {
        for link in &mut self.links {
            // A full queue still ends: the thread exits when the sender is dropped.
            let _ = link.tx.try_send(Command::Stop);
        }
        let links = std::mem::take(&mut self.links);
        for mut link in links {
            drop(link.tx);
            if let Some(t) = link.thread.take() {
                let _ = t.join();
            }
        }
    }
}

fn link_thread(config: ClientConfig, mut epoch: Epoch, rx: &Receiver<Command>, c: &LinkCounters) {
    let mut client: Option<MediaClient> = None;
    let connect = |client: &mut Option<MediaClient>, epoch: Epoch| {
        if client.as_ref().is_some_and(MediaClient::is_connected) {
            return;
        }
        *client = None;
        if let Ok(mut cl) = MediaClient::connect(config.clone()) {
            c.connects.fetch_add(1, Ordering::Relaxed);
            match cl.claim(epoch) {
                Ok(_) => *client = Some(cl),
                Err(e) => count(c, &e),
            }
        }
    };
    // Connect and claim at once, so the epoch is raised when the gatekeeper
    // starts rather than at its first admission.
    connect(&mut client, epoch);
    loop {
        let command = match rx.recv_timeout(PING_EVERY) {
            Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(command) => command,
            Err(RecvTimeoutError::Timeout) => {
                connect(&mut client, epoch);
                if let Some(cl) = client.as_mut() {
                    let _ = cl.ping();
                }
                continue;
            }
        };
        if let Command::Claim(e) = command {
            epoch = e;
            client = None;
        }
        connect(&mut client, epoch);
        let Some(cl) = client.as_mut() else {
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
            Err(e) => count(c, &e),
        }
    }
}

fn count(c: &LinkCounters, e: &ClientError) {
    match e.refusal() {
        Some(LinkError::StaleEpoch { .. }) => c.fenced.fetch_add(1, Ordering::Relaxed),
        _ => c.failed.fetch_add(1, Ordering::Relaxed),
    };
}
