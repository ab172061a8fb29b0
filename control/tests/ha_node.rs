//! The HA state machine of two gatekeeper nodes on a virtual clock, over an
//! in-memory network that can drop either direction, with a model media
//! engine that keeps the highest epoch and refuses commands carrying a lower
//! one (fencing). Every millisecond each primary tries to mutate the engine;
//! the simulation checks that accepted mutations never go back to an older
//! epoch and that no two nodes hold an engine-accepted primary role at once.

use control::ha::{
    Action, ClaimResult, Epoch, HaEvent, Millis, Node, NodeConfig, NodeId, NodeOutput, Position,
    Role,
};

const KEY: &[u8] = b"0123456789abcdef-ha-test-key";

fn config(id: u8) -> NodeConfig {
    NodeConfig {
        node_id: NodeId(id),
        key: KEY.to_vec(),
        ..NodeConfig::default()
    }
}

/// The media engine's epoch check.
#[derive(Default)]
struct Engine {
    epoch: Epoch,
    /// Off: the engine accepts any epoch (to show the checker can fail).
    no_fencing: bool,
    /// Accepted mutations: (time, node index, epoch).
    mutations: Vec<(u64, usize, Epoch)>,
}

impl Engine {
    fn claim(&mut self, epoch: Epoch) -> ClaimResult {
        if epoch >= self.epoch || self.no_fencing {
            self.epoch = self.epoch.max(epoch);
            ClaimResult::Accepted { epoch }
        } else {
            ClaimResult::Stale {
                epoch,
                engine_epoch: self.epoch,
            }
        }
    }
}

struct Sim {
    now: u64,
    nodes: Vec<Option<Node>>,
    /// `link[i][j]`: datagrams from node i reach node j.
    link: [[bool; 2]; 2],
    engine: Engine,
    mutate: bool,
    in_flight: Vec<(u64, usize, Vec<u8>)>,
    claim_replies: Vec<(u64, usize, ClaimResult)>,
    events: Vec<(u64, usize, HaEvent)>,
    actions: Vec<(u64, usize, Action)>,
    /// Replication position each node reports (caught up when equal).
    positions: [Option<Position>; 2],
    /// Whether each node's claims reach the engine.
    reaches_engine: [bool; 2],
}

impl Sim {
    fn new() -> Self {
        Self {
            now: 0,
            nodes: vec![
                Some(Node::new(config(1), Millis(0))),
                Some(Node::new(config(2), Millis(0))),
            ],
            link: [[true; 2]; 2],
            engine: Engine::default(),
            mutate: true,
            in_flight: Vec::new(),
            claim_replies: Vec::new(),
            events: Vec::new(),
            actions: Vec::new(),
            positions: [None; 2],
            reaches_engine: [true; 2],
        }
    }

    fn node(&self, i: usize) -> &Node {
        self.nodes[i].as_ref().expect("node is running")
    }

    fn role(&self, i: usize) -> Option<Role> {
        self.nodes[i].as_ref().map(Node::role)
    }

    fn kill(&mut self, i: usize) {
        self.nodes[i] = None;
    }

    fn restart(&mut self, i: usize, cfg: NodeConfig) {
        self.nodes[i] = Some(Node::new(cfg, Millis(self.now)));
    }

    fn partition(&mut self, cut: bool) {
        self.link[0][1] = !cut;
        self.link[1][0] = !cut;
    }

    /// Runs `ms` milliseconds, one tick each.
    fn run(&mut self, ms: u64) {
        for _ in 0..ms {
            self.now += 1;
            self.tick();
        }
    }

    fn run_until(&mut self, ms_max: u64, mut done: impl FnMut(&Self) -> bool) -> u64 {
        let start = self.now;
        while !done(self) {
            assert!(
                self.now - start < ms_max,
                "condition not reached in {ms_max} ms"
            );
            self.now += 1;
            self.tick();
        }
        self.now - start
    }

    fn tick(&mut self) {
        let now = Millis(self.now);
        let due: Vec<_> = self
            .in_flight
            .iter()
            .filter(|d| d.0 <= self.now)
            .cloned()
            .collect();
        self.in_flight.retain(|d| d.0 > self.now);
        for (_, to, bytes) in due {
            if let Some(n) = self.nodes[to].as_mut() {
                n.on_datagram(now, &bytes);
            }
        }
        let due: Vec<_> = self
            .claim_replies
            .iter()
            .filter(|d| d.0 <= self.now)
            .cloned()
            .collect();
        self.claim_replies.retain(|d| d.0 > self.now);
        for (_, i, r) in due {
            if let Some(n) = self.nodes[i].as_mut() {
                n.on_engine_claim_result(now, r);
            }
        }
        for i in 0..2 {
            let Some(n) = self.nodes[i].as_mut() else {
                continue;
            };
            n.set_position(self.positions[i]);
            n.on_timer(now);
            // A primary mutates the engine every tick; a stale-epoch refusal
            // is reported to the node like a refused claim.
            if self.mutate && n.is_primary() {
                let epoch = n.epoch();
                if epoch >= self.engine.epoch || self.engine.no_fencing {
                    self.engine.mutations.push((self.now, i, epoch));
                } else {
                    let engine_epoch = self.engine.epoch;
                    n.on_engine_claim_result(
                        now,
                        ClaimResult::Stale {
                            epoch,
                            engine_epoch,
                        },
                    );
                }
            }
            while let Some(o) = n.poll_output() {
                match o {
                    NodeOutput::Transmit(bytes) => {
                        if self.link[i][1 - i] {
                            self.in_flight.push((self.now + 1, 1 - i, bytes));
                        }
                    }
                    NodeOutput::Action(a) => {
                        if let (Action::Claim { epoch }, true) = (a, self.reaches_engine[i]) {
                            let r = self.engine.claim(epoch);
                            self.claim_replies.push((self.now + 2, i, r));
                        }
                        self.actions.push((self.now, i, a));
                    }
                    NodeOutput::Event(e) => self.events.push((self.now, i, e)),
                }
            }
        }
        self.check_invariants();
    }

    fn check_invariants(&self) {
        let holders = (0..2)
            .filter(|&i| {
                self.nodes[i]
                    .as_ref()
                    .is_some_and(|n| n.is_primary() && n.epoch() == self.engine.epoch)
            })
            .count();
        assert!(
            holders <= 1,
            "two engine-accepted primaries at {} ms",
            self.now
        );
        let m = &self.engine.mutations;
        for w in m.windows(2) {
            assert!(
                w[0].2 <= w[1].2,
                "engine accepted an older epoch after a newer one: {w:?}"
            );
            if w[0].2 == w[1].2 {
                assert_eq!(w[0].1, w[1].1, "one epoch, two nodes: {w:?}");
            }
        }
    }

    fn primary(&self) -> Option<usize> {
        let p: Vec<_> = (0..2)
            .filter(|&i| self.role(i) == Some(Role::Primary))
            .collect();
        assert!(
            p.len() <= 1 || !self.link[0][1],
            "two primaries while connected"
        );
        p.first().copied()
    }

    fn promotions(&self, i: usize) -> usize {
        self.actions
            .iter()
            .filter(|(_, n, a)| *n == i && matches!(a, Action::Promote { .. }))
            .count()
    }
}

/// Both start together: exactly one (the lower id) becomes primary, the
/// other stays standby, without flapping.
#[test]
fn cold_start_elects_one_primary() {
    let mut s = Sim::new();
    s.run_until(1000, |s| s.primary().is_some());
    assert_eq!(s.primary(), Some(0));
    s.run(3000);
    assert_eq!(s.primary(), Some(0));
    assert_eq!(s.role(1), Some(Role::Standby));
    assert_eq!(s.promotions(0), 1);
    assert_eq!(s.promotions(1), 0);
    assert!(s.events.iter().any(|(_, i, e)| *i == 0
        && matches!(
            e,
            HaEvent::Promoted {
                reason: "cold-start",
                ..
            }
        )));
}

/// The primary dies: the standby claims after interval × misses of silence
/// and is primary one engine round trip later; the failover event says so.
#[test]
fn standby_promotes_after_missed_heartbeats() {
    let mut s = Sim::new();
    s.run_until(1000, |s| s.primary() == Some(0));
    s.run(500);
    let killed_at = s.now;
    s.kill(0);
    let took = s.run_until(2000, |s| s.role(1) == Some(Role::Primary));
    let cfg = NodeConfig::default();
    // Detection waits dead_ms after the last heartbeat heard, which is at
    // most one interval before the kill.
    assert!(
        took >= cfg.dead_ms() - cfg.heartbeat_interval_ms,
        "{took} ms"
    );
    assert!(took <= cfg.dead_ms() + 10, "{took} ms");
    assert!(took < 1000, "failover within 1 s with defaults: {took} ms");
    let failover = s
        .events
        .iter()
        .find_map(|(t, i, e)| match e {
            HaEvent::Failover {
                epoch,
                previous_epoch,
                duration_ms,
            } if *i == 1 => Some((*t, *epoch, *previous_epoch, *duration_ms)),
            _ => None,
        })
        .expect("GATEKEEPER_FAILOVER event");
    assert!(failover.0 > killed_at);
    assert_eq!(failover.1.term(), failover.2.term() + 1);
    assert!(failover.3 <= cfg.dead_ms() + cfg.heartbeat_interval_ms + 10);
    assert_eq!(s.engine.epoch, failover.1);
    assert!(s
        .actions
        .iter()
        .any(|(_, i, a)| *i == 1 && *a == Action::TakeAddress));
}

/// A partition between the two gatekeepers only: the standby promotes with
/// a higher epoch; the old primary's next engine command is refused and it
/// demotes at once. After healing it stays standby.
#[test]
fn partition_fences_the_old_primary() {
    let mut s = Sim::new();
    s.run_until(1000, |s| s.primary() == Some(0));
    s.run(300);
    let old_epoch = s.node(0).epoch();
    s.partition(true);
    s.run_until(1000, |s| s.role(1) == Some(Role::Primary));
    let new_epoch = s.node(1).epoch();
    assert_eq!(new_epoch.term(), old_epoch.term() + 1);
    // The old primary learnt it from the engine within a tick or two.
    s.run(3);
    assert_eq!(s.role(0), Some(Role::Standby));
    assert!(s.events.iter().any(|(_, i, e)| *i == 0
        && matches!(
            e,
            HaEvent::Demoted {
                reason: "engine-stale-epoch",
                ..
            }
        )));
    assert!(s
        .actions
        .iter()
        .any(|(_, i, a)| *i == 0 && *a == Action::Demote { epoch: old_epoch }));
    assert!(s
        .actions
        .iter()
        .any(|(_, i, a)| *i == 0 && *a == Action::ReleaseAddress));
    // While partitioned (shorter than the hold-off) it does not take back.
    s.run(2000);
    assert_eq!(s.role(1), Some(Role::Primary));
    assert_eq!(s.role(0), Some(Role::Standby));
    s.partition(false);
    s.run(2000);
    assert_eq!(s.primary(), Some(1));
    assert_eq!(s.promotions(0), 1, "the old primary never came back");
}

/// An idle fenced primary (no RAS traffic, so no engine commands) still
/// learns within one heartbeat interval through its periodic re-claim.
#[test]
fn idle_fenced_primary_learns_from_its_reclaim() {
    let mut s = Sim::new();
    s.mutate = false;
    s.run_until(1000, |s| s.primary() == Some(0));
    s.partition(true);
    s.run_until(1000, |s| s.role(1) == Some(Role::Primary));
    let accepted_at = s.now;
    let demoted = s.run_until(1000, |s| s.role(0) == Some(Role::Standby));
    assert!(
        demoted <= NodeConfig::default().heartbeat_interval_ms + 5,
        "{demoted} ms after {accepted_at}"
    );
}

/// The peer reports a higher epoch as primary: demote at once (a paused old
/// primary that resumes after a failover).
#[test]
fn paused_primary_demotes_on_a_higher_epoch_heartbeat() {
    let mut s = Sim::new();
    s.mutate = false;
    s.run_until(1000, |s| s.primary() == Some(0));
    // "Pause" node 0: it neither sends nor receives, and the engine cannot
    // tell it anything.
    let paused = s.nodes[0].take();
    s.run_until(1000, |s| s.role(1) == Some(Role::Primary));
    s.nodes[0] = paused;
    // Its own timers fire late; the first heartbeat it hears demotes it,
    // and so would its first re-claim.
    s.run_until(200, |s| s.role(0) == Some(Role::Standby));
    assert_eq!(s.primary(), Some(1));
}

/// The old primary restarts: it hears the new primary and rejoins as
/// standby (preempt off).
#[test]
fn returning_primary_rejoins_as_standby() {
    let mut s = Sim::new();
    s.run_until(1000, |s| s.primary() == Some(0));
    s.kill(0);
    s.run_until(1000, |s| s.role(1) == Some(Role::Primary));
    s.run(1000);
    s.restart(0, config(1));
    s.run(3000);
    assert_eq!(s.primary(), Some(1));
    assert_eq!(s.role(0), Some(Role::Standby));
    assert_eq!(s.promotions(0), 1);
}

/// Preempt: the preferred node returns, catches up, asks for the role; the
/// primary stops mutating first, then the preferred node claims a higher
/// epoch. Never two mutating primaries.
#[test]
fn preempt_hands_the_role_back_cleanly() {
    let preferred = NodeConfig {
        preferred: true,
        preempt: true,
        ..config(1)
    };
    let mut s = Sim::new();
    s.nodes[0] = Some(Node::new(preferred.clone(), Millis(0)));
    s.run_until(1000, |s| s.primary() == Some(0));
    s.kill(0);
    s.run_until(1000, |s| s.role(1) == Some(Role::Primary));
    s.restart(0, preferred);
    s.run(1000);
    // Not caught up yet: no handover.
    assert_eq!(s.primary(), Some(1));
    let p = Some(Position {
        epoch: s.node(1).epoch(),
        seq: 42,
    });
    s.positions = [p, p];
    let took = s.run_until(1000, |s| s.role(0) == Some(Role::Primary));
    assert!(took < 500, "{took} ms");
    s.run(1000);
    assert_eq!(s.primary(), Some(0));
    assert_eq!(s.role(1), Some(Role::Standby));
    assert!(s.events.iter().any(|(_, i, e)| *i == 1
        && matches!(
            e,
            HaEvent::Demoted {
                reason: "handover",
                ..
            }
        )));
    assert!(s.events.iter().any(|(_, i, e)| *i == 0
        && matches!(
            e,
            HaEvent::Promoted {
                reason: "handover",
                ..
            }
        )));
}

/// Heartbeats under another key are refused: they neither keep a standby
/// from promoting nor count as a peer.
#[test]
fn forged_heartbeats_are_ignored() {
    let mut n = Node::new(config(2), Millis(0));
    let mut forger = Node::new(
        NodeConfig {
            key: b"another key entirely".to_vec(),
            ..config(1)
        },
        Millis(0),
    );
    for t in (0..=400).step_by(50) {
        forger.on_timer(Millis(t));
        while let Some(o) = forger.poll_output() {
            if let NodeOutput::Transmit(b) = o {
                n.on_datagram(Millis(t), &b);
            }
        }
        n.on_timer(Millis(t));
    }
    assert!(n.counters().rejected > 0);
    assert!(n.peer().is_none());
    assert_eq!(n.role(), Role::Candidate);
}

/// The checker can fail: with an engine that does not fence, a partition
/// lets the old primary keep mutating after the new one did.
#[test]
#[should_panic(expected = "older epoch")]
fn without_fencing_the_checker_catches_split_brain() {
    let mut s = Sim::new();
    s.engine.no_fencing = true;
    s.run_until(1000, |s| s.primary() == Some(0));
    s.partition(true);
    s.run(2000);
}

/// A heartbeat captured from the primary and replayed after it died does
/// not hold off the failover (heartbeats must be strictly newer, or from a
/// later incarnation of the peer).
#[test]
fn replayed_heartbeats_do_not_hold_off_failover() {
    let mut s = Sim::new();
    s.run_until(1000, |s| s.primary() == Some(0));
    s.run(200);
    // Capture what node 0 sends next.
    let captured: Vec<u8> = loop {
        s.run(1);
        if let Some((_, to, b)) = s.in_flight.iter().find(|d| d.1 == 1) {
            assert_eq!(*to, 1);
            break b.clone();
        }
    };
    s.kill(0);
    let start = s.now;
    while s.role(1) != Some(Role::Primary) {
        assert!(s.now - start < 2000, "replays held off the failover");
        if s.now % 20 == 0 {
            s.in_flight.push((s.now + 1, 1, captured.clone()));
        }
        s.run(1);
    }
    assert!(s.node(1).counters().reordered > 0);
    // A restarted peer (later incarnation, clock from zero) is heard again.
    let mut n = Node::new(config(2), Millis(0));
    let mut old = Node::new(
        NodeConfig {
            incarnation: 5,
            ..config(1)
        },
        Millis(10_000),
    );
    let mut new = Node::new(
        NodeConfig {
            incarnation: 6,
            ..config(1)
        },
        Millis(0),
    );
    for (src, t) in [(&mut old, 10_000), (&mut new, 1)] {
        src.on_timer(Millis(t));
        while let Some(o) = src.poll_output() {
            if let NodeOutput::Transmit(b) = o {
                n.on_datagram(Millis(t), &b);
            }
        }
    }
    assert_eq!(n.counters().heartbeats_received, 2);
}

/// The node that outranks its peer cannot reach the engine (its claims are
/// never answered): after a bounded patience the other node claims instead.
#[test]
fn peer_that_cannot_claim_does_not_block_forever() {
    let mut s = Sim::new();
    s.reaches_engine[0] = false;
    let took = s.run_until(5000, |s| s.role(1) == Some(Role::Primary));
    assert!(took < 3000, "{took} ms");
    s.run(2000);
    assert_eq!(s.primary(), Some(1));
    assert_eq!(s.role(0), Some(Role::Standby));
}
