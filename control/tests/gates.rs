//! The policy gates through the gatekeeper: fairness (quota: reduced grant,
//! denial, BRQ over quota, DRQ freeing bandwidth), capacity (the 26th
//! guardian of a 25-endpoint conference), anti-sybil (one registration per
//! terminal, one terminal per address), and the decisions as events.

mod common;

use common::harness::*;
use control::gatekeeper::{Config, Event};
use control::policy::Gate;
use control::ras::types::*;
use control::ras::RasMessage;

const CONF: [u8; 16] = [7; 16];

fn call(n: u8) -> [u8; 16] {
    [n; 16]
}

#[test]
fn over_quota_arq_is_granted_reduced_then_denied_and_drq_frees_it() {
    // 100 kbit/s quota = 1000 units.
    let mut h = Harness::new(Config::default(), registry(1, 100_000));
    let mut g = h.register(1);
    assert_eq!(
        acf_units(&h.send(
            addr(1),
            &g.arq(h.now_s(), CONF, call(1), 640).expect("sign")
        )),
        Some(640)
    );
    // 360 units left: a 640-unit ARQ is granted reduced to 360.
    assert_eq!(
        acf_units(&h.send(
            addr(1),
            &g.arq(h.now_s(), CONF, call(2), 640).expect("sign")
        )),
        Some(360)
    );
    assert_eq!(h.gk.bandwidth_units_used(&terminal(1)), 1000);
    assert!(h
        .events
        .iter()
        .any(|e| matches!(e, Event::Admitted { reduced: true, .. })));
    // Nothing left: ARJ resourceUnavailable.
    let r = h.send(
        addr(1),
        &g.arq(h.now_s(), CONF, call(3), 640).expect("sign"),
    );
    assert!(
        matches!(
            &r[..],
            [RasMessage::AdmissionReject(AdmissionReject {
                reject_reason: AdmissionRejectReason::ResourceUnavailable(()),
                ..
            })]
        ),
        "{r:?}"
    );
    // DRQ of the first call frees its 640 units, and the ARQ now fits.
    assert!(matches!(
        &h.send(addr(1), &g.drq(h.now_s(), CONF, call(1)).expect("sign"))[..],
        [RasMessage::DisengageConfirm(_)]
    ));
    assert_eq!(h.gk.bandwidth_units_used(&terminal(1)), 360);
    assert_eq!(h.gk.engine().released.len(), 1);
    assert_eq!(
        acf_units(&h.send(
            addr(1),
            &g.arq(h.now_s(), CONF, call(3), 640).expect("sign")
        )),
        Some(640)
    );
}

#[test]
fn brq_over_quota_is_rejected_with_the_allowed_bandwidth() {
    let mut h = Harness::new(Config::default(), registry(1, 100_000));
    let mut g = h.register(1);
    assert!(is_acf(&h.send(
        addr(1),
        &g.arq(h.now_s(), CONF, call(1), 400).expect("sign")
    )));
    let r = h.send(
        addr(1),
        &g.brq(h.now_s(), CONF, call(1), 1200).expect("sign"),
    );
    assert!(
        matches!(
            &r[..],
            [RasMessage::BandwidthReject(BandwidthReject {
                allowed_band_width: 1000,
                reject_reason: BandRejectReason::InsufficientResources(()),
                ..
            })]
        ),
        "{r:?}"
    );
    let r = h.send(
        addr(1),
        &g.brq(h.now_s(), CONF, call(1), 900).expect("sign"),
    );
    assert!(
        matches!(
            &r[..],
            [RasMessage::BandwidthConfirm(BandwidthConfirm {
                band_width: 900,
                ..
            })]
        ),
        "{r:?}"
    );
    assert_eq!(h.gk.bandwidth_units_used(&terminal(1)), 900);
}

#[test]
fn twenty_sixth_guardian_of_a_25_endpoint_conference_is_rejected() {
    let mut h = Harness::new(Config::default(), registry(26, 2_500_000));
    let mut clients: Vec<_> = (1..=26).map(|n| h.register(n)).collect();
    for (i, c) in clients.iter_mut().enumerate().take(25) {
        let n = u8::try_from(i + 1).expect("small");
        assert!(
            is_acf(&h.send(
                addr(n),
                &c.arq(h.now_s(), CONF, call(n), 640).expect("sign")
            )),
            "guardian {n}"
        );
    }
    let r = h.send(
        addr(26),
        &clients[25]
            .arq(h.now_s(), CONF, call(26), 640)
            .expect("sign"),
    );
    assert!(
        matches!(
            &r[..],
            [RasMessage::AdmissionReject(AdmissionReject {
                reject_reason: AdmissionRejectReason::ExceedsCallCapacity(()),
                ..
            })]
        ),
        "{r:?}"
    );
    assert!(h.events.iter().any(|e| matches!(e, Event::Gate { decision, .. } if decision.gate == Gate::Capacity && !decision.passed)));
    // A member's second call does not count as a new endpoint.
    assert!(is_acf(
        &h.send(
            addr(1),
            &clients[0]
                .arq(h.now_s(), CONF, call(100), 640)
                .expect("sign")
        )
    ));
    // Another conference is unaffected.
    assert!(is_acf(
        &h.send(
            addr(26),
            &clients[25]
                .arq(h.now_s(), [8; 16], call(26), 640)
                .expect("sign")
        )
    ));
}

#[test]
fn one_registration_per_terminal_and_per_address() {
    let mut h = Harness::new(Config::default(), registry(2, 2_500_000));
    let mut g1 = h.register(1);
    // Guardian 1 again from another address while registered: duplicateAlias.
    let r = h.send(addr(5), &g1.rrq(h.now_s(), addr(5), 300).expect("sign"));
    assert!(
        matches!(
            &r[..],
            [RasMessage::RegistrationReject(RegistrationReject {
                reject_reason: RegistrationRejectReason::DuplicateAlias(_),
                ..
            })]
        ),
        "{r:?}"
    );
    // Guardian 2 from guardian 1's address: rejected too.
    let mut g2 = control::client::GuardianClient::new(&terminal(2), key(2), 7);
    let r = h.send(addr(1), &g2.rrq(h.now_s(), addr(1), 300).expect("sign"));
    assert!(
        matches!(&r[..], [RasMessage::RegistrationReject(_)]),
        "{r:?}"
    );
    // Re-registering from the same address keeps the endpointIdentifier.
    let before = g1.endpoint_id().map(str::to_owned);
    let rrq = g1.rrq(h.now_s(), addr(1), 300).expect("sign");
    let reply = h.send_raw(addr(1), &rrq);
    g1.absorb(&reply[0]).expect("decode");
    assert_eq!(g1.endpoint_id().map(str::to_owned), before);
    assert_eq!(h.gk.registrations(), 1);
}

#[test]
fn arq_with_another_guardians_endpoint_identifier_is_rejected() {
    let mut h = Harness::new(Config::default(), registry(2, 2_500_000));
    let g1 = h.register(1);
    let mut g2 = h.register(2);
    g2.set_endpoint_id(g1.endpoint_id().expect("registered"));
    let r = h.send(
        addr(2),
        &g2.arq(h.now_s(), CONF, call(2), 640).expect("sign"),
    );
    assert!(
        matches!(
            &r[..],
            [RasMessage::AdmissionReject(AdmissionReject {
                reject_reason: AdmissionRejectReason::InvalidEndpointIdentifier(()),
                ..
            })]
        ),
        "{r:?}"
    );
}
