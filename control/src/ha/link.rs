//! The peer-link IO shell: one thread owning the [`Node`] and a UDP socket
//! (heartbeats in and out, replication in), and a [`LinkHandle`] for the
//! service thread, which owns the gatekeeper. All queues are bounded; a full
//! queue drops and counts (replication heals by resending, and a primary
//! re-claims every interval).
//!
//! The service thread's duties (docs/ha.md, "Integration"):
//! 1. drain [`LinkHandle::try_output`] and act on each [`Action`];
//! 2. report every claim's outcome with [`LinkHandle::report_claim`];
//! 3. call [`LinkHandle::sync`] with its gatekeeper after each batch of RAS
//!    datagrams and on each loop (it pushes or applies replication);
//! 4. while not primary, neither feed RAS to the gatekeeper nor call its
//!    `handle_timeout` (the primary expires registrations and replicates it).

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::node::{Action, ClaimResult, HaEvent, Node, NodeConfig, NodeOutput};
use super::replica::{self, Update};
use super::wire::{self, Message, DATAGRAM_BYTES_MAX};
use super::{Millis, NodeId, Position, Role};
use crate::engine_api::EngineApi;
use crate::gatekeeper::{Gatekeeper, UnixMillis};

/// Longest socket wait, so claim results and stop are seen promptly.
const POLL_MS_MAX: u64 = 10;

/// Peer-link settings.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// The HA state machine's settings.
    pub node: NodeConfig,
    /// This node's peer-link UDP address.
    pub listen: SocketAddr,
    /// The peer's peer-link UDP address.
    pub peer: SocketAddr,
    /// Bound on actions and events waiting for the service thread.
    pub outputs_max: usize,
    /// Bound on replication datagrams waiting for the service thread.
    pub updates_max: usize,
}

impl LinkConfig {
    /// Defaults around a node configuration and the two addresses.
    #[must_use]
    pub fn new(node: NodeConfig, listen: SocketAddr, peer: SocketAddr) -> Self {
        Self {
            node,
            listen,
            peer,
            outputs_max: 256,
            updates_max: 4096,
        }
    }
}

/// Errors starting the link.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The peer-link socket could not be bound.
    #[error("cannot bind the HA peer link on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The configuration is unusable.
    #[error("HA configuration: {0}")]
    Config(&'static str),
    /// The thread could not be started.
    #[error("cannot start the HA thread: {0}")]
    Thread(std::io::Error),
}

/// What the service thread receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutput {
    /// Do this.
    Action(Action),
    /// Record this (audit).
    Event(HaEvent),
}

/// Counters of the shell.
#[derive(Debug, Default)]
pub struct LinkCounters {
    /// Outputs dropped: the service did not drain in time.
    pub outputs_dropped: AtomicU64,
    /// Replication datagrams dropped: queue full or undecodable.
    pub updates_dropped: AtomicU64,
    /// Datagrams that failed to send.
    pub send_errors: AtomicU64,
}

#[derive(Debug, Default)]
struct Shared {
    /// This node's replication position, for its heartbeats.
    local_position: Mutex<Option<Position>>,
    /// A count of the peer's heartbeats, its last role and position.
    peer_position: Mutex<(u64, Option<Role>, Option<Position>)>,
    stop: AtomicBool,
    counters: LinkCounters,
}

/// The service thread's side of the link.
#[derive(Debug)]
pub struct LinkHandle {
    outputs: Receiver<LinkOutput>,
    claims: SyncSender<ClaimResult>,
    updates: Receiver<Update>,
    updates_max: usize,
    socket: UdpSocket,
    peer: SocketAddr,
    key: Vec<u8>,
    node_id: NodeId,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    primary: bool,
    pending_stream: Option<super::Epoch>,
    peer_beats_seen: u64,
    sender: replica::Sender,
    receiver: replica::Receiver,
}

/// Starts the peer link: binds its socket and spawns its thread. The node
/// starts as standby.
pub fn spawn_peer_link(config: LinkConfig) -> Result<LinkHandle, LinkError> {
    if config.node.node_id.0 == 0 {
        return Err(LinkError::Config("node_id must be 1..=255"));
    }
    if config.node.key.len() < 16 {
        return Err(LinkError::Config(
            "the peer-link key needs at least 16 octets",
        ));
    }
    let bind = |address: SocketAddr| {
        UdpSocket::bind(address).map_err(|source| LinkError::Bind { address, source })
    };
    let socket = bind(config.listen)?;
    let send_socket = bind(SocketAddr::new(config.listen.ip(), 0))?;
    let (out_tx, out_rx) = mpsc::sync_channel(config.outputs_max.max(1));
    let (claim_tx, claim_rx) = mpsc::sync_channel(64);
    let (upd_tx, upd_rx) = mpsc::sync_channel(config.updates_max.max(1));
    let shared = Arc::new(Shared::default());
    let thread_shared = Arc::clone(&shared);
    let peer = config.peer;
    let mut node_config = config.node.clone();
    if node_config.incarnation == 0 {
        // This run's start time tells the peer a restart from a replay.
        #[allow(clippy::disallowed_methods)]
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        node_config.incarnation = started;
    }
    let thread = std::thread::Builder::new()
        .name(format!("ha-link-{}", config.node.node_id.0))
        .spawn(move || {
            run(
                node_config,
                socket,
                peer,
                &thread_shared,
                &out_tx,
                &claim_rx,
                &upd_tx,
            );
        })
        .map_err(LinkError::Thread)?;
    Ok(LinkHandle {
        outputs: out_rx,
        claims: claim_tx,
        updates: upd_rx,
        updates_max: config.updates_max.max(1),
        socket: send_socket,
        peer,
        key: config.node.key.clone(),
        node_id: config.node.node_id,
        shared,
        thread: Some(thread),
        primary: false,
        pending_stream: None,
        peer_beats_seen: 0,
        sender: replica::Sender::default(),
        receiver: replica::Receiver::default(),
    })
}

fn run(
    config: NodeConfig,
    socket: UdpSocket,
    peer: SocketAddr,
    shared: &Shared,
    outputs: &SyncSender<LinkOutput>,
    claims: &Receiver<ClaimResult>,
    updates: &SyncSender<Update>,
) {
    // The shell owns the clock: a monotonic one, so wall-clock steps cannot
    // fake a failover.
    #[allow(clippy::disallowed_methods)]
    let origin = Instant::now();
    let now = || Millis(u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX));
    let key = config.key.clone();
    let mut node = Node::new(config, now());
    let mut buf = vec![0u8; DATAGRAM_BYTES_MAX + 1];
    while !shared.stop.load(Ordering::Relaxed) {
        while let Ok(r) = claims.try_recv() {
            node.on_engine_claim_result(now(), r);
        }
        node.set_position(*lock(&shared.local_position));
        node.on_timer(now());
        while let Some(o) = node.poll_output() {
            let out = match o {
                NodeOutput::Transmit(bytes) => {
                    if socket.send_to(&bytes, peer).is_err() {
                        shared.counters.send_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    continue;
                }
                NodeOutput::Action(a) => LinkOutput::Action(a),
                NodeOutput::Event(e) => LinkOutput::Event(e),
            };
            if let Err(TrySendError::Full(_)) = outputs.try_send(out) {
                shared
                    .counters
                    .outputs_dropped
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        let wait = node.next_deadline().since(now()).clamp(1, POLL_MS_MAX);
        let _ = socket.set_read_timeout(Some(Duration::from_millis(wait)));
        let Ok((n, _from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let bytes = &buf[..n];
        match wire::decode(&key, bytes) {
            Ok(Message::Heartbeat(hb)) => {
                // Counted before the node's own checks; the sender only
                // uses it to spot a standby that stopped advancing.
                let mut p = lock(&shared.peer_position);
                *p = (p.0 + 1, Some(hb.role), hb.position);
            }
            Ok(Message::Replication { json, .. }) => {
                let queued = serde_json::from_slice::<Update>(json)
                    .ok()
                    .is_some_and(|u| updates.try_send(u).is_ok());
                if !queued {
                    shared
                        .counters
                        .updates_dropped
                        .fetch_add(1, Ordering::Relaxed);
                }
                continue;
            }
            Err(_) => {}
        }
        // Heartbeats and bad datagrams (counted there) go to the node.
        node.on_datagram(now(), bytes);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these plain values inconsistent.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LinkHandle {
    /// The next action or event, if any. Promote/Demote also switch the
    /// handle between pushing and applying replication.
    pub fn try_output(&mut self) -> Option<LinkOutput> {
        let o = self.outputs.try_recv().ok()?;
        match o {
            LinkOutput::Action(Action::Promote { epoch }) => {
                self.primary = true;
                self.pending_stream = Some(epoch);
                self.sender.reset();
            }
            LinkOutput::Action(Action::Demote { .. }) => {
                self.primary = false;
                self.receiver.reset();
                while self.updates.try_recv().is_ok() {}
                *lock(&self.shared.local_position) = None;
            }
            _ => {}
        }
        Some(o)
    }

    /// Reports the engines' answer to an [`Action::Claim`].
    pub fn report_claim(&self, result: ClaimResult) {
        // Bounded: a full queue means many claims are unanswered; the next
        // interval's claim will be answered again.
        let _ = self.claims.try_send(result);
    }

    /// Whether this node is primary (as told by the last Promote/Demote
    /// taken from [`Self::try_output`]).
    #[must_use]
    pub fn is_primary(&self) -> bool {
        self.primary
    }

    /// Replication with the service's gatekeeper: a primary sends what the
    /// standby lacks; a standby applies what arrived (at most `updates_max`).
    pub fn sync<E: EngineApi>(&mut self, gk: &mut Gatekeeper<E>, now: UnixMillis) {
        if let Some(epoch) = self.pending_stream.take() {
            gk.begin_replication_stream(epoch);
        }
        let position = if self.primary {
            // Updates queued before the promotion are of no use now.
            while self.updates.try_recv().is_ok() {}
            let (beats, role, peer) = *lock(&self.shared.peer_position);
            if beats != self.peer_beats_seen {
                self.peer_beats_seen = beats;
                if role == Some(Role::Standby) {
                    self.sender.on_peer_position(peer);
                } else {
                    // Only a standby follows the stream.
                    self.sender.reset();
                }
            }
            for u in self.sender.poll(gk, now) {
                let Ok(json) = serde_json::to_vec(&u) else {
                    continue;
                };
                let bytes = wire::replication(&self.key, self.node_id, &json);
                if self.socket.send_to(&bytes, self.peer).is_err() {
                    self.shared
                        .counters
                        .send_errors
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(gk.replication_position())
        } else {
            for _ in 0..self.updates_max {
                let Ok(u) = self.updates.try_recv() else {
                    break;
                };
                self.receiver.on_update(gk, now, u);
            }
            self.receiver.position()
        };
        *lock(&self.shared.local_position) = position;
    }

    /// The standby side's counters.
    #[must_use]
    pub fn replica_counters(&self) -> replica::ReceiverCounters {
        self.receiver.counters()
    }

    /// The shell's counters.
    #[must_use]
    pub fn counters(&self) -> &LinkCounters {
        &self.shared.counters
    }
}

impl Drop for LinkHandle {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
