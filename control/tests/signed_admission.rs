//! The Ed25519 signed-admission scheme end to end through the gatekeeper:
//! a signed RRQ/ARQ admits; flipping any single bit, a wrong key, a replay
//! from elsewhere, a stale timestamp or an unknown guardian never admits; a
//! byte-identical retransmission gets the cached reply without a second
//! admission. Datagrams handled as a batch (one Ed25519 batch verification)
//! give the same answers.

mod common;

use common::harness::*;
use control::client::GuardianClient;
use control::gatekeeper::Config;
use control::ras::types::*;
use control::ras::RasMessage;

const CONF: [u8; 16] = [7; 16];
const CALL: [u8; 16] = [9; 16];

fn harness() -> Harness {
    Harness::new(Config::default(), registry(3, 2_500_000))
}

fn is_security_denial(m: &[RasMessage]) -> bool {
    matches!(
        m,
        [RasMessage::AdmissionReject(AdmissionReject {
            reject_reason: AdmissionRejectReason::SecurityDenial(()),
            ..
        })] | [RasMessage::RegistrationReject(RegistrationReject {
            reject_reason: RegistrationRejectReason::SecurityDenial(()),
            ..
        })]
    )
}

#[test]
fn signed_rrq_then_arq_is_admitted_and_provisioned() {
    let mut h = harness();
    let mut g = h.register(1);
    let arq = g.arq(h.now_s(), CONF, CALL, 640).expect("sign");
    let replies = h.send(addr(1), &arq);
    assert_eq!(acf_units(&replies), Some(640));
    let provisioned = &h.gk.engine().provisioned;
    assert_eq!(provisioned.len(), 1);
    assert_eq!(provisioned[0].terminal_id, terminal(1));
    assert_eq!(provisioned[0].bandwidth_bps, 64_000);
    let RasMessage::AdmissionConfirm(acf) = &replies[0] else {
        unreachable!()
    };
    assert_eq!(
        acf.dest_call_signal_address.to_socket(),
        Some(Config::default().call_signal_address)
    );
    assert_eq!(acf.call_model, CallModel::GatekeeperRouted(()));
}

#[test]
fn flipping_any_bit_of_a_signed_arq_never_admits() {
    let mut h = harness();
    let mut g = h.register(1);
    let arq = g.arq(h.now_s(), CONF, CALL, 640).expect("sign");
    for bit in 0..arq.len() * 8 {
        let mut tampered = arq.clone();
        tampered[bit / 8] ^= 0x80 >> (bit % 8);
        let replies = h.send(addr(1), &tampered);
        assert!(
            !replies
                .iter()
                .any(|m| matches!(m, RasMessage::AdmissionConfirm(_))),
            "bit {bit} admitted"
        );
    }
    assert!(h.gk.engine().provisioned.is_empty());
    assert_eq!(h.gk.calls(), 0);
    // The untampered original still admits: failed checks consumed nothing.
    assert!(is_acf(&h.send(addr(1), &arq)));
}

#[test]
fn wrong_key_is_rejected_with_security_denial() {
    let mut h = harness();
    let mut impostor = GuardianClient::new(&terminal(1), key(99), 1);
    let rrq = impostor.rrq(h.now_s(), addr(9), 300).expect("sign");
    assert!(is_security_denial(&h.send(addr(9), &rrq)));
    assert_eq!(h.gk.registrations(), 0);
    assert_eq!(h.gk.counters().auth_failures, 1);
}

#[test]
fn unknown_guardian_is_rejected() {
    let mut h = harness();
    let mut stranger = GuardianClient::new("if://guardian/unknown", key(50), 1);
    let rrq = stranger.rrq(h.now_s(), addr(50), 300).expect("sign");
    assert!(is_security_denial(&h.send(addr(50), &rrq)));
    assert_eq!(h.gk.registrations(), 0);
}

#[test]
fn replay_from_another_address_is_rejected_and_retransmission_is_answered_from_cache() {
    let mut h = harness();
    let mut g = h.register(1);
    let arq = g.arq(h.now_s(), CONF, CALL, 640).expect("sign");
    let first = h.send_raw(addr(1), &arq);
    // Same bytes, same source: RAS retransmission, same reply, no new admission.
    let again = h.send_raw(addr(1), &arq);
    assert_eq!(first, again);
    assert_eq!(h.gk.counters().retransmissions, 1);
    // Same bytes from elsewhere: a replay.
    assert!(is_security_denial(&h.send(addr(2), &arq)));
    assert_eq!(h.gk.counters().replays, 1);
    assert_eq!(h.gk.engine().provisioned.len(), 1);
    assert_eq!(h.gk.calls(), 1);
}

#[test]
fn stale_and_future_timestamps_outside_the_window_are_rejected() {
    let mut h = harness();
    let mut g = h.register(1);
    let now = h.now_s();
    assert!(is_security_denial(&h.send(
        addr(1),
        &g.arq(now - 31, CONF, CALL, 640).expect("sign")
    )));
    assert!(is_security_denial(&h.send(
        addr(1),
        &g.arq(now + 31, CONF, CALL, 640).expect("sign")
    )));
    assert_eq!(h.gk.counters().stale, 2);
    assert!(is_acf(&h.send(
        addr(1),
        &g.arq(now - 29, CONF, CALL, 640).expect("sign")
    )));
}

#[test]
fn unsigned_arq_is_rejected() {
    let mut h = harness();
    let _ = h.register(1);
    let sample = control::ras::samples::all()
        .into_iter()
        .find(|s| s.name == "arq")
        .expect("arq");
    let bytes = control::ras::encode(&sample.message).expect("encode");
    assert!(is_security_denial(&h.send(addr(1), &bytes)));
}

#[test]
fn batched_datagrams_get_the_same_answers_and_a_bad_one_does_not_spoil_the_batch() {
    let mut h = harness();
    let mut g1 = h.register(1);
    let mut g2 = h.register(2);
    let now = h.now_s();
    let good1 = g1.arq(now, CONF, [1; 16], 640).expect("sign");
    let good2 = g2.arq(now, CONF, [2; 16], 640).expect("sign");
    let mut forged = g1.arq(now, CONF, [3; 16], 640).expect("sign");
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let replies = h.send_batch(&[
        (addr(1), good1.clone()),
        (addr(1), forged),
        (addr(2), good2),
    ]);
    let kinds: Vec<(std::net::SocketAddr, &str)> =
        replies.iter().map(|(to, m)| (*to, m.name())).collect();
    assert_eq!(
        kinds,
        vec![(addr(1), "ACF"), (addr(1), "ARJ"), (addr(2), "ACF")]
    );
    assert_eq!(h.gk.calls(), 2);
    // An all-good batch, including a replay of good1 from elsewhere.
    let good3 = g1.arq(now, CONF, [4; 16], 640).expect("sign");
    let good4 = g2.arq(now, CONF, [5; 16], 640).expect("sign");
    let replies = h.send_batch(&[(addr(1), good3), (addr(2), good4), (addr(3), good1)]);
    let kinds: Vec<&str> = replies.iter().map(|(_, m)| m.name()).collect();
    assert_eq!(kinds, vec!["ACF", "ACF", "ARJ"]);
    assert_eq!(h.gk.calls(), 4);
    assert_eq!(h.gk.counters().replays, 1);
}
