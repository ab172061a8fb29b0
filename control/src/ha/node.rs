//! The HA state machine of one gatekeeper node.
//!
//! Safety does not rest on heartbeats: a node acts as primary (answers RAS,
//! mutates engines) only after every media engine accepted its epoch, and an
//! engine rejects commands carrying a lower epoch than the highest it has
//! accepted. Heartbeats only decide *when* to claim; the engines decide *who*
//! wins. A fenced primary (an engine answered "stale epoch", or the peer
//! reports a higher epoch as primary) demotes itself at once.

use std::collections::VecDeque;

use super::wire::{self, Heartbeat, Message};
use super::{Epoch, Millis, NodeId, Position, Role};

/// Bound on queued outputs; a full queue drops and counts.
const OUTPUTS_MAX: usize = 256;

/// Node settings. Defaults: heartbeats every 100 ms, the primary is declared
/// lost after 3 missed ones (300 ms), so a failover completes in about
/// 300 ms + one engine round trip — well inside 1 s. (The design documents'
/// 2 s × 3 = 6 s detection alone exceeds their own 5 s failover target.)
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// This node (1..=255); the peer must have another id.
    pub node_id: NodeId,
    /// Heartbeat period, ms.
    pub heartbeat_interval_ms: u64,
    /// Consecutive missed heartbeats after which the primary is lost.
    pub misses_max: u32,
    /// How long to wait for the engines' answer to a claim, ms.
    pub claim_timeout_ms: u64,
    /// After being fenced without hearing the peer (a partition between the
    /// gatekeepers only), wait this long before claiming again, ms, so the
    /// two nodes do not take the engines from each other every 300 ms.
    pub fenced_holdoff_ms: u64,
    /// This node is the preferred primary: it wins cold-start ties and, with
    /// `preempt`, takes the role back through a clean handover.
    pub preferred: bool,
    /// Take the primary role back (handover) once caught up. Default off.
    pub preempt: bool,
    /// Shared HMAC-SHA-256 key of the pair.
    pub key: Vec<u8>,
    /// This run of the process, e.g. its start time in UNIX ms: must grow
    /// across restarts so the peer can tell a restart from a replay.
    pub incarnation: u64,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            node_id: NodeId(1),
            heartbeat_interval_ms: 100,
            misses_max: 3,
            claim_timeout_ms: 500,
            fenced_holdoff_ms: 3000,
            preferred: false,
            preempt: false,
            key: Vec::new(),
            incarnation: 0,
        }
    }
}

impl NodeConfig {
    /// Silence after which the primary is lost, ms.
    #[must_use]
    pub fn dead_ms(&self) -> u64 {
        self.heartbeat_interval_ms
            .saturating_mul(u64::from(self.misses_max.max(1)))
    }
}

/// What the shell must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Claim every media engine with this epoch, then report the outcome
    /// with [`Node::on_engine_claim_result`]. A primary repeats its claim
    /// every heartbeat interval: it is how an idle fenced primary learns.
    Claim {
        /// The epoch to claim.
        epoch: Epoch,
    },
    /// The engines accepted: answer RAS as primary, tag engine commands
    /// with this epoch, stream replication.
    Promote {
        /// The accepted epoch.
        epoch: Epoch,
    },
    /// Take the floating RAS address (after `Promote`).
    TakeAddress,
    /// Stop at once: no more engine commands or RAS answers; discard local
    /// gatekeeper state and resynchronise from the primary (snapshot).
    Demote {
        /// The epoch this node held.
        epoch: Epoch,
    },
    /// Release the floating RAS address (after `Demote`).
    ReleaseAddress,
}

/// The engines' answer to a claim (aggregated by the shell over all engines:
/// `Accepted` only if every engine accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimResult {
    /// Every engine accepted `epoch`.
    Accepted {
        /// The claimed epoch.
        epoch: Epoch,
    },
    /// An engine holds a higher epoch (`engine_epoch`): this node is fenced.
    Stale {
        /// The claimed epoch.
        epoch: Epoch,
        /// The engine's epoch.
        engine_epoch: Epoch,
    },
}

/// Events for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaEvent {
    /// GATEKEEPER_FAILOVER: this node became primary after losing the peer
    /// primary. `duration_ms` runs from the last heartbeat heard from the old
    /// primary to the engines' acceptance (an upper bound on the outage).
    Failover {
        /// The new epoch.
        epoch: Epoch,
        /// The old primary's epoch.
        previous_epoch: Epoch,
        /// Last heartbeat of the old primary → engines accepted, ms.
        duration_ms: u64,
    },
    /// This node became primary without a previous primary (cold start) or
    /// through a handover.
    Promoted {
        /// The new epoch.
        epoch: Epoch,
        /// "cold-start" or "handover".
        reason: &'static str,
    },
    /// This node stopped being primary or candidate.
    Demoted {
        /// The epoch it held.
        epoch: Epoch,
        /// The higher epoch that fenced it (its own for a handover).
        by_epoch: Epoch,
        /// "engine-stale-epoch", "peer-higher-epoch", "handover",
        /// "claim-timeout".
        reason: &'static str,
    },
}

impl HaEvent {
    /// The audit record name.
    #[must_use]
    pub fn audit_name(&self) -> &'static str {
        match self {
            Self::Failover { .. } => "GATEKEEPER_FAILOVER",
            Self::Promoted { .. } => "GATEKEEPER_PROMOTED",
            Self::Demoted { .. } => "GATEKEEPER_DEMOTED",
        }
    }
}

/// What [`Node::poll_output`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeOutput {
    /// Send these bytes to the peer.
    Transmit(Vec<u8>),
    /// Do this.
    Action(Action),
    /// Record this.
    Event(HaEvent),
}

/// Counters for operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeCounters {
    /// Heartbeats sent.
    pub heartbeats_sent: u64,
    /// Valid heartbeats received.
    pub heartbeats_received: u64,
    /// Datagrams dropped: bad tag, version or format.
    pub rejected: u64,
    /// Heartbeats not newer than one already seen (reordered or replayed).
    pub reordered: u64,
    /// Outputs dropped because the queue was full.
    pub outputs_dropped: u64,
    /// Claims sent (including a primary's periodic re-claims).
    pub claims: u64,
}

#[derive(Debug, Clone, Copy)]
struct Peer {
    hb: Heartbeat,
    heard: Millis,
}

/// One gatekeeper's HA state machine.
#[derive(Debug)]
pub struct Node {
    config: NodeConfig,
    role: Role,
    /// This node's epoch while candidate or primary.
    epoch: Epoch,
    /// The highest epoch seen anywhere.
    epoch_seen: Epoch,
    peer: Option<Peer>,
    /// When a primary (the peer) was last heard, or when waiting restarted.
    primary_heard: Millis,
    /// The primary's epoch last heard (for the failover event).
    primary_epoch: Option<Epoch>,
    /// No claim before this time.
    holdoff_until: Millis,
    next_heartbeat: Millis,
    claim_deadline: Option<Millis>,
    /// Why the current candidacy began.
    candidacy: &'static str,
    /// The silence that started the candidacy began here.
    lost_at: Millis,
    position: Option<Position>,
    granting_handover: bool,
    outputs: VecDeque<NodeOutput>,
    counters: NodeCounters,
}

impl Node {
    /// A node starting as standby at `now`. It claims the engines only after
    /// hearing no primary for `dead_ms`.
    #[must_use]
    pub fn new(config: NodeConfig, now: Millis) -> Self {
        Self {
            config,
            role: Role::Standby,
            epoch: Epoch(0),
            epoch_seen: Epoch(0),
            peer: None,
            primary_heard: now,
            primary_epoch: None,
            holdoff_until: now,
            next_heartbeat: now,
            claim_deadline: None,
            candidacy: "cold-start",
            lost_at: now,
            position: None,
            granting_handover: false,
            outputs: VecDeque::new(),
            counters: NodeCounters::default(),
        }
    }

    /// The current role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// This node's epoch (meaningful while candidate or primary).
    #[must_use]
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The highest epoch seen.
    #[must_use]
    pub fn epoch_seen(&self) -> Epoch {
        self.epoch_seen
    }

    /// Whether this node may mutate engines and answer RAS.
    #[must_use]
    pub fn is_primary(&self) -> bool {
        self.role == Role::Primary
    }

    /// The counters.
    #[must_use]
    pub fn counters(&self) -> NodeCounters {
        self.counters
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The peer's last heartbeat, if any.
    #[must_use]
    pub fn peer(&self) -> Option<Heartbeat> {
        self.peer.map(|p| p.hb)
    }

    /// The local replication position (a primary's stream head, a standby's
    /// applied position, `None` while it has nothing), sent in heartbeats.
    pub fn set_position(&mut self, position: Option<Position>) {
        self.position = position;
    }

    /// The next output, `None` once drained.
    pub fn poll_output(&mut self) -> Option<NodeOutput> {
        self.outputs.pop_front()
    }

    /// When to call [`Self::on_timer`] next.
    #[must_use]
    pub fn next_deadline(&self) -> Millis {
        let mut t = self.next_heartbeat;
        if let Some(c) = self.claim_deadline {
            t = t.min(c);
        }
        if self.role == Role::Standby {
            t = t.min(self.claim_time());
        }
        t
    }

    fn claim_time(&self) -> Millis {
        self.primary_heard
            .plus(self.config.dead_ms())
            .max(self.holdoff_until)
    }

    fn emit(&mut self, o: NodeOutput) {
        if self.outputs.len() >= OUTPUTS_MAX {
            self.counters.outputs_dropped += 1;
        } else {
            self.outputs.push_back(o);
        }
    }

    /// Timers: heartbeats, primary loss, claim timeout.
    pub fn on_timer(&mut self, now: Millis) {
        if now >= self.next_heartbeat {
            self.next_heartbeat = now.plus(self.config.heartbeat_interval_ms.max(1));
            self.send_heartbeat(now);
            if self.role == Role::Primary {
                // Re-claim as a lease check: a fenced primary with no RAS
                // traffic still learns within one interval.
                self.claim(self.epoch);
            }
        }
        match self.role {
            Role::Candidate => {
                if self.claim_deadline.is_some_and(|d| now >= d) {
                    self.step_down(now, self.epoch, "claim-timeout");
                }
            }
            Role::Standby => {
                if now >= self.claim_time() && self.may_claim(now) {
                    self.begin_candidacy(now, "cold-start");
                }
            }
            Role::Primary => {}
        }
    }

    /// Whether a standby that heard no primary for `dead_ms` should claim:
    /// yes if the peer is silent too; if the peer is alive (a standby, e.g.
    /// both just started) only the node that outranks it claims.
    fn may_claim(&self, now: Millis) -> bool {
        let dead = self.config.dead_ms();
        match self.peer {
            None => true,
            Some(p) if now.since(p.heard) >= dead => true,
            Some(p) => match p.hb.role {
                Role::Primary | Role::Candidate => false,
                Role::Standby => {
                    // The peer does not say whether it is preferred; ties
                    // between two non-preferred nodes go to the lower id. If
                    // the outranking peer has not become primary for a long
                    // while (its claims fail, e.g. it cannot reach an
                    // engine), claim anyway.
                    let patience = dead
                        .saturating_mul(4)
                        .saturating_add(self.config.claim_timeout_ms);
                    self.config.preferred
                        || self.config.node_id < p.hb.node
                        || now.since(self.primary_heard) >= patience
                }
            },
        }
    }

    fn begin_candidacy(&mut self, now: Millis, reason: &'static str) {
        self.lost_at = self.primary_heard;
        self.candidacy = if self.primary_epoch.is_some() && reason == "cold-start" {
            "failover"
        } else {
            reason
        };
        self.epoch = Epoch::next(self.epoch_seen, self.config.node_id);
        self.epoch_seen = self.epoch;
        self.role = Role::Candidate;
        self.claim_deadline = Some(now.plus(self.config.claim_timeout_ms));
        self.claim(self.epoch);
        self.send_heartbeat(now);
    }

    fn claim(&mut self, epoch: Epoch) {
        self.counters.claims += 1;
        self.emit(NodeOutput::Action(Action::Claim { epoch }));
    }

    /// The engines' answer to a claim.
    pub fn on_engine_claim_result(&mut self, now: Millis, result: ClaimResult) {
        match result {
            ClaimResult::Accepted { epoch } => {
                if self.role != Role::Candidate || epoch != self.epoch {
                    return;
                }
                self.role = Role::Primary;
                self.claim_deadline = None;
                self.granting_handover = false;
                self.emit(NodeOutput::Action(Action::Promote { epoch }));
                self.emit(NodeOutput::Action(Action::TakeAddress));
                let event = match (self.candidacy, self.primary_epoch) {
                    ("failover", Some(previous_epoch)) => HaEvent::Failover {
                        epoch,
                        previous_epoch,
                        duration_ms: now.since(self.lost_at),
                    },
                    (reason, _) => HaEvent::Promoted { epoch, reason },
                };
                self.emit(NodeOutput::Event(event));
                self.send_heartbeat(now);
            }
            ClaimResult::Stale {
                epoch,
                engine_epoch,
            } => {
                self.epoch_seen = self.epoch_seen.max(engine_epoch);
                if self.role == Role::Standby || epoch != self.epoch {
                    return;
                }
                // Fenced: some other node holds a higher epoch. If we do not
                // hear it (partition), hold off before claiming again.
                self.holdoff_until = now.plus(self.config.fenced_holdoff_ms);
                self.step_down(now, engine_epoch, "engine-stale-epoch");
            }
        }
    }

    /// Leaves the candidate or primary role at once.
    fn step_down(&mut self, now: Millis, by_epoch: Epoch, reason: &'static str) {
        let was_primary = self.role == Role::Primary;
        let epoch = self.epoch;
        self.role = Role::Standby;
        self.claim_deadline = None;
        self.primary_heard = now;
        if was_primary {
            // Our state may hold changes the new primary never saw.
            self.position = None;
            self.emit(NodeOutput::Action(Action::Demote { epoch }));
            self.emit(NodeOutput::Action(Action::ReleaseAddress));
        }
        self.emit(NodeOutput::Event(HaEvent::Demoted {
            epoch,
            by_epoch,
            reason,
        }));
        self.send_heartbeat(now);
    }

    /// A datagram from the peer link (heartbeats; replication datagrams are
    /// ignored here and handled by [`super::replica`]).
    pub fn on_datagram(&mut self, now: Millis, bytes: &[u8]) {
        let hb = match wire::decode(&self.config.key, bytes) {
            Ok(Message::Heartbeat(hb)) => hb,
            Ok(Message::Replication { .. }) => return,
            Err(_) => {
                self.counters.rejected += 1;
                return;
            }
        };
        if hb.node == self.config.node_id {
            self.counters.rejected += 1;
            return;
        }
        if let Some(p) = self.peer {
            // Strictly newer than the last one, or from a later run of the
            // peer: a captured heartbeat replayed after the primary died
            // must not hold off the failover.
            if (hb.incarnation, hb.sent_ms) <= (p.hb.incarnation, p.hb.sent_ms) {
                self.counters.reordered += 1;
                return;
            }
        }
        self.counters.heartbeats_received += 1;
        self.peer = Some(Peer { hb, heard: now });
        // A primary with an epoch older than one already seen is fenced and
        // about to learn it: it does not count as a live primary.
        if hb.role == Role::Primary && hb.epoch >= self.epoch_seen {
            self.primary_heard = now;
            self.primary_epoch = Some(hb.epoch);
        }
        self.epoch_seen = self.epoch_seen.max(hb.epoch);
        match self.role {
            Role::Primary | Role::Candidate
                if hb.role == Role::Primary && hb.epoch > self.epoch =>
            {
                self.step_down(now, hb.epoch, "peer-higher-epoch");
            }
            Role::Primary if hb.handover_request && self.caught_up(&hb) => {
                // Clean handover: stop mutating first, then let the peer
                // claim with a higher epoch.
                self.step_down(now, self.epoch, "handover");
                self.granting_handover = true;
                self.send_heartbeat(now);
            }
            Role::Standby if hb.handover_grant && self.wants_role() => {
                self.begin_candidacy(now, "handover");
            }
            _ => {}
        }
        if hb.role == Role::Primary && self.role == Role::Standby {
            self.granting_handover = false;
        }
    }

    fn caught_up(&self, hb: &Heartbeat) -> bool {
        hb.position.is_some() && hb.position == self.position
    }

    /// A preferred node with `preempt` wants the role back.
    fn wants_role(&self) -> bool {
        self.config.preempt && self.config.preferred
    }

    fn send_heartbeat(&mut self, now: Millis) {
        let handover_request = self.role == Role::Standby
            && self.wants_role()
            && self
                .peer
                .is_some_and(|p| p.hb.role == Role::Primary && self.caught_up(&p.hb));
        let hb = Heartbeat {
            node: self.config.node_id,
            role: self.role,
            epoch: if self.role == Role::Standby {
                self.epoch_seen
            } else {
                self.epoch
            },
            position: self.position,
            handover_request,
            handover_grant: self.granting_handover,
            incarnation: self.config.incarnation,
            sent_ms: now.0,
        };
        self.counters.heartbeats_sent += 1;
        let bytes = wire::heartbeat(&self.config.key, &hb);
        self.emit(NodeOutput::Transmit(bytes));
    }
}
