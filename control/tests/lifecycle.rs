//! Registration lifecycle on a virtual clock: TTL expiry (URQ sent, calls
//! released in the engine), keep-alive refresh, URQ, hot reload of the
//! registry (existing calls continue, removed guardians are refused), and
//! stopping admissions.

mod common;

use std::sync::Arc;

use common::harness::*;
use control::gatekeeper::{Config, Output};
use control::ras::types::*;
use control::ras::{self, RasMessage};

const CONF: [u8; 16] = [7; 16];

#[test]
fn registration_expires_sends_urq_and_releases_calls() {
    let mut h = Harness::new(Config::default(), registry(1, 2_500_000));
    let mut g = h.register(1);
    assert!(is_acf(&h.send(
        addr(1),
        &g.arq(h.now_s(), CONF, [1; 16], 640).expect("sign")
    )));
    assert!(
        matches!(h.gk.poll_output(), Output::Timeout(Some(t)) if t > h.now && t <= h.now.plus_secs(300))
    );
    assert!(h.advance_s(299).is_empty());
    assert_eq!(h.gk.registrations(), 1);
    let sent = h.advance_s(1);
    assert_eq!(h.gk.registrations(), 0);
    assert_eq!(h.gk.calls(), 0);
    assert_eq!(h.gk.engine().released.len(), 1);
    assert_eq!(h.gk.bandwidth_units_used(&terminal(1)), 0);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, addr(1));
    let urq = ras::decode(&sent[0].1).expect("decode");
    assert!(
        matches!(
            urq,
            RasMessage::UnregistrationRequest(UnregistrationRequest {
                reason: Some(UnregRequestReason::TtlExpired(())),
                ..
            })
        ),
        "{urq:?}"
    );
    // The expired endpoint can no longer be admitted.
    let r = h.send(
        addr(1),
        &g.arq(h.now_s(), CONF, [2; 16], 640).expect("sign"),
    );
    assert!(matches!(
        &r[..],
        [RasMessage::AdmissionReject(AdmissionReject {
            reject_reason: AdmissionRejectReason::CallerNotRegistered(()),
            ..
        })]
    ));
}

#[test]
fn keep_alive_extends_and_urq_ends_registration() {
    let mut h = Harness::new(Config::default(), registry(1, 2_500_000));
    let mut g = h.register(1);
    h.advance_s(200);
    let r = h.send(addr(1), &g.keep_alive(h.now_s(), 300).expect("sign"));
    assert!(
        matches!(&r[..], [RasMessage::RegistrationConfirm(_)]),
        "{r:?}"
    );
    h.advance_s(200);
    assert_eq!(h.gk.registrations(), 1, "keep-alive extended the TTL");
    let r = h.send(addr(1), &g.urq(h.now_s(), addr(1)).expect("sign"));
    assert!(
        matches!(&r[..], [RasMessage::UnregistrationConfirm(_)]),
        "{r:?}"
    );
    assert_eq!(h.gk.registrations(), 0);
    // A keep-alive now needs a full registration.
    let r = h.send(addr(1), &g.keep_alive(h.now_s(), 300).expect("sign"));
    assert!(
        matches!(
            &r[..],
            [RasMessage::RegistrationReject(RegistrationReject {
                reject_reason: RegistrationRejectReason::FullRegistrationRequired(()),
                ..
            })]
        ),
        "{r:?}"
    );
}

#[test]
fn hot_reload_keeps_calls_and_refuses_removed_guardians() {
    let mut h = Harness::new(Config::default(), registry(2, 2_500_000));
    let mut g1 = h.register(1);
    let mut g2 = h.register(2);
    assert!(is_acf(&h.send(
        addr(1),
        &g1.arq(h.now_s(), CONF, [1; 16], 640).expect("sign")
    )));
    // Reload with guardian 1 removed.
    let remaining = registry(2, 2_500_000).guardians()[1..].to_vec();
    h.gk.replace_registry(Arc::new(control::registry::Registry::from_guardians(
        remaining,
    )));
    assert_eq!(h.gk.calls(), 1, "existing call continues");
    let r = h.send(
        addr(1),
        &g1.arq(h.now_s(), CONF, [3; 16], 640).expect("sign"),
    );
    assert!(
        matches!(
            &r[..],
            [RasMessage::AdmissionReject(AdmissionReject {
                reject_reason: AdmissionRejectReason::SecurityDenial(()),
                ..
            })]
        ),
        "{r:?}"
    );
    assert!(is_acf(&h.send(
        addr(2),
        &g2.arq(h.now_s(), CONF, [2; 16], 640).expect("sign")
    )));
    assert_eq!(h.gk.calls(), 2);
}

#[test]
fn stopped_admissions_refuse_arq_but_keep_alives_work() {
    let mut h = Harness::new(Config::default(), registry(1, 2_500_000));
    let mut g = h.register(1);
    h.gk.set_admissions_enabled(false);
    let r = h.send(
        addr(1),
        &g.arq(h.now_s(), CONF, [1; 16], 640).expect("sign"),
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
    assert!(matches!(
        &h.send(addr(1), &g.keep_alive(h.now_s(), 300).expect("sign"))[..],
        [RasMessage::RegistrationConfirm(_)]
    ));
    h.gk.set_admissions_enabled(true);
    assert!(is_acf(&h.send(
        addr(1),
        &g.arq(h.now_s(), CONF, [1; 16], 640).expect("sign")
    )));
}
