//! State replication primary → standby through the peer link's sans-IO
//! replica sender and receiver (updates pass through JSON as on the wire):
//! the first join gets a snapshot, later changes flow as numbered records, a
//! lost datagram is detected as a gap and healed by a resend, and after a
//! failover to the replica the existing guardians' keep-alive RRQ, BRQ and
//! DRQ (real encoded, signed RAS) are confirmed without re-registration.

mod common;

use std::sync::Arc;

use common::harness::*;
use control::engine_api::StubEngine;
use control::gatekeeper::{Config, Gatekeeper, UnixMillis};
use control::ha::replica::{Receiver, Sender, Update};
use control::ha::{Epoch, Position};
use control::ras::RasMessage;

const CONF: [u8; 16] = [7; 16];
const EPOCH: Epoch = Epoch(0x101);

/// A standby gatekeeper fed by a replica sender and receiver.
struct Replica {
    sender: Sender,
    receiver: Receiver,
    standby: Gatekeeper<StubEngine>,
}

impl Replica {
    fn new() -> Self {
        Self {
            sender: Sender::default(),
            receiver: Receiver::default(),
            standby: standby_gk(),
        }
    }

    /// One replication round: the standby's heartbeat position goes to the
    /// sender, the sender's updates go through JSON to the receiver, unless
    /// their index is in `lose`. Returns how many updates were sent.
    fn round(
        &mut self,
        primary: &Gatekeeper<StubEngine>,
        now: UnixMillis,
        standby_now: UnixMillis,
        lose: &[usize],
    ) -> usize {
        self.sender.on_peer_position(self.receiver.position());
        let updates = self.sender.poll(primary, now);
        let n = updates.len();
        for (i, u) in updates.into_iter().enumerate() {
            let json = serde_json::to_vec(&u).expect("encode");
            if lose.contains(&i) {
                continue;
            }
            let u: Update = serde_json::from_slice(&json).expect("decode");
            self.receiver.on_update(&mut self.standby, standby_now, u);
        }
        n
    }
}

fn standby_gk() -> Gatekeeper<StubEngine> {
    Gatekeeper::new(
        Config::default(),
        Arc::new(registry(3, 2_500_000)),
        StubEngine::default(),
    )
}

#[test]
fn failover_to_the_replica_keeps_registrations_calls_and_bandwidth() {
    let mut h = Harness::new(Config::default(), registry(3, 2_500_000));
    h.gk.begin_replication_stream(EPOCH);
    let mut g1 = h.register(1);
    let mut g2 = h.register(2);
    assert!(is_acf(&h.send(
        addr(1),
        &g1.arq(h.now_s(), CONF, [1; 16], 640).expect("sign")
    )));
    assert!(is_acf(&h.send(
        addr(2),
        &g2.arq(h.now_s(), CONF, [2; 16], 640).expect("sign")
    )));

    // First join: the standby has nothing, so it gets a snapshot. Its clock
    // runs 2 s ahead of the primary's: TTLs are re-based on it.
    let mut replica = Replica::new();
    let skew = 2;
    replica.round(&h.gk, h.now, h.now.plus_secs(skew), &[]);
    replica.round(&h.gk, h.now, h.now.plus_secs(skew), &[]);
    assert_eq!(replica.receiver.counters().snapshots, 1);
    assert_eq!(
        replica.receiver.position(),
        Some(h.gk.replication_position())
    );
    assert_eq!(replica.standby.registrations(), 2);
    assert_eq!(replica.standby.calls(), 2);

    // Later changes flow as records: a BRQ, a third guardian, a keep-alive.
    h.advance_s(10);
    let r = h.send(
        addr(1),
        &g1.brq(h.now_s(), CONF, [1; 16], 1280).expect("sign"),
    );
    assert!(matches!(&r[..], [RasMessage::BandwidthConfirm(_)]), "{r:?}");
    let mut g3 = h.register(3);
    assert!(is_acf(&h.send(
        addr(3),
        &g3.arq(h.now_s(), CONF, [3; 16], 320).expect("sign")
    )));
    // One record datagram is lost: a gap, healed after the standby's
    // position stops advancing.
    let mut sent = replica.round(&h.gk, h.now, h.now.plus_secs(skew), &[0]);
    assert!(sent >= 1);
    assert_ne!(
        replica.receiver.position(),
        Some(h.gk.replication_position())
    );
    for _ in 0..3 {
        sent = replica.round(&h.gk, h.now, h.now.plus_secs(skew), &[]);
    }
    assert_eq!(sent, 0, "caught up, nothing left to send");
    assert_eq!(
        replica.receiver.position(),
        Some(h.gk.replication_position())
    );
    assert_eq!(
        replica.receiver.counters().snapshots,
        1,
        "records, not another snapshot"
    );
    assert_eq!(replica.receiver.counters().applied, 3, "BRQ, RRQ, ARQ");

    // The replica matches: registrations, calls, bandwidth, membership.
    assert_eq!(replica.standby.registrations(), 3);
    assert_eq!(replica.standby.calls(), 3);
    assert_eq!(replica.standby.conference_members(&CONF), 3);
    for n in 1..=3 {
        assert_eq!(
            replica.standby.bandwidth_units_used(&terminal(n)),
            h.gk.bandwidth_units_used(&terminal(n)),
            "guardian {n}"
        );
    }
    assert_eq!(replica.standby.bandwidth_units_used(&terminal(1)), 1280);
    assert_eq!(
        replica
            .standby
            .snapshot(h.now.plus_secs(skew))
            .registrations,
        h.gk.snapshot(h.now).registrations
    );

    // Failover: the replica becomes the primary (a new stream), with the
    // existing guardians' clients unchanged.
    let primary_events = h.events.len();
    replica.standby.begin_replication_stream(Epoch(0x202));
    let mut h2 = Harness {
        gk: replica.standby,
        now: h.now.plus_secs(skew + 1),
        events: Vec::new(),
    };
    let r = h2.send(addr(1), &g1.keep_alive(h2.now_s(), 300).expect("sign"));
    assert!(
        matches!(&r[..], [RasMessage::RegistrationConfirm(_)]),
        "keep-alive: {r:?}"
    );
    let r = h2.send(
        addr(1),
        &g1.brq(h2.now_s(), CONF, [1; 16], 960).expect("sign"),
    );
    assert!(
        matches!(&r[..], [RasMessage::BandwidthConfirm(_)]),
        "BRQ: {r:?}"
    );
    assert_eq!(h2.gk.bandwidth_units_used(&terminal(1)), 960);
    let r = h2.send(addr(2), &g2.drq(h2.now_s(), CONF, [2; 16]).expect("sign"));
    assert!(
        matches!(&r[..], [RasMessage::DisengageConfirm(_)]),
        "DRQ: {r:?}"
    );
    assert_eq!(h2.gk.calls(), 2);
    assert_eq!(
        h2.gk.engine().released.len(),
        1,
        "the DRQ released the call in the engine"
    );
    assert_eq!(h2.gk.conference_members(&CONF), 2);
    // No re-registration happened.
    assert!(!h2
        .events
        .iter()
        .any(|e| matches!(e, control::gatekeeper::Event::Registered { .. })));
    assert!(primary_events > 0);
    // A new guardian gets a fresh endpointIdentifier, never a replicated one.
    let r = h2.send(addr(3), &g3.urq(h2.now_s(), addr(3)).expect("sign"));
    assert!(
        matches!(&r[..], [RasMessage::UnregistrationConfirm(_)]),
        "{r:?}"
    );
    let c = h2.register(3);
    assert_eq!(c.endpoint_id(), Some("EP4"));
}

/// TTLs travel as time remaining: a registration with 100 s left on the
/// primary expires 100 s after the standby applied it, by the standby's
/// clock, whatever the two clocks read.
#[test]
fn ttls_are_rebased_on_the_standby_clock() {
    let mut h = Harness::new(Config::default(), registry(1, 2_500_000));
    h.gk.begin_replication_stream(EPOCH);
    h.register(1);
    h.advance_s(200);
    let mut replica = Replica::new();
    // The standby's clock reads an hour earlier.
    let standby_now = UnixMillis(h.now.0 - 3_600_000);
    replica.round(&h.gk, h.now, standby_now, &[]);
    assert_eq!(replica.standby.registrations(), 1);
    let s = replica.standby.snapshot(standby_now);
    assert_eq!(s.registrations[0].ttl_remaining_ms, 100_000);
}

/// A standby too far behind for the journal, or following another stream,
/// gets a snapshot again.
#[test]
fn behind_the_journal_or_another_stream_means_a_snapshot() {
    let config = Config {
        replication_journal_max: 2,
        ..Config::default()
    };
    let mut h = Harness::new(config, registry(3, 2_500_000));
    h.gk.begin_replication_stream(EPOCH);
    h.register(1);
    let mut replica = Replica::new();
    replica.round(&h.gk, h.now, h.now, &[]);
    let before = replica.receiver.position().expect("synced");
    let mut g2 = h.register(2);
    h.register(3);
    assert!(is_acf(&h.send(
        addr(2),
        &g2.arq(h.now_s(), CONF, [2; 16], 640).expect("sign")
    )));
    assert!(
        h.gk.changes_since(h.now, before).is_none(),
        "journal of 2 no longer covers it"
    );
    // Lose everything once; then the standby heals through a snapshot.
    replica.round(&h.gk, h.now, h.now, &[0, 1, 2, 3, 4]);
    for _ in 0..3 {
        replica.round(&h.gk, h.now, h.now, &[]);
    }
    assert_eq!(
        replica.receiver.position(),
        Some(h.gk.replication_position())
    );
    assert_eq!(replica.standby.registrations(), 3);
    assert_eq!(replica.standby.calls(), 1);
    assert_eq!(replica.receiver.counters().snapshots, 2);
    // A new stream (another primary) is refused record by record.
    let other = Position {
        epoch: Epoch(0x302),
        seq: 1,
    };
    assert!(h.gk.changes_since(h.now, other).is_none());
}

/// The check above can fail: a gatekeeper that did not receive the replica
/// refuses the same keep-alive (the terminal would have to re-register).
#[test]
fn without_the_replica_a_keep_alive_is_refused() {
    let mut h = Harness::new(Config::default(), registry(1, 2_500_000));
    let mut g1 = h.register(1);
    let mut h2 = Harness {
        gk: standby_gk(),
        now: h.now,
        events: Vec::new(),
    };
    let r = h2.send(addr(1), &g1.keep_alive(h2.now_s(), 300).expect("sign"));
    assert!(
        matches!(&r[..], [RasMessage::RegistrationReject(_)]),
        "{r:?}"
    );
}
