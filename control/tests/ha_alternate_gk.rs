//! GCF and RCF advertise the HA peer as `alternateGatekeeper` when
//! configured (and leave the field out otherwise); tshark dissects both
//! replies cleanly with the entry's fields. Skips the tshark part with a
//! message when tshark is absent.

mod common;

use std::net::SocketAddr;

use common::harness::*;
use control::gatekeeper::{AlternateGatekeeper, Config};
use control::ras::types::*;
use control::ras::{self, RasMessage};

fn config(alternates: Vec<AlternateGatekeeper>) -> Config {
    Config {
        alternate_gatekeepers: alternates,
        ..Config::default()
    }
}

fn peer() -> AlternateGatekeeper {
    AlternateGatekeeper {
        ras_address: SocketAddr::from(([192, 0, 2, 11], 1719)),
        gatekeeper_id: Some("GK".into()),
        need_to_register: false,
        priority: 1,
    }
}

/// GCF and RCF bytes from a gatekeeper with this configuration.
fn replies(config: Config) -> (Vec<u8>, Vec<u8>) {
    let mut h = Harness::new(config, registry(1, 2_500_000));
    let mut g = control::client::GuardianClient::new(&terminal(1), key(1), 1);
    let gcf = h.send_raw(addr(1), &g.grq(addr(1)).expect("grq"));
    let rcf = h.send_raw(addr(1), &g.rrq(h.now_s(), addr(1), 300).expect("sign"));
    assert_eq!((gcf.len(), rcf.len()), (1, 1));
    (gcf[0].clone(), rcf[0].clone())
}

#[test]
fn gcf_and_rcf_carry_the_alternate_gatekeeper() {
    let (gcf, rcf) = replies(config(vec![peer()]));
    let expected = vec![AlternateGk::new(
        TransportAddress::from_socket(peer().ras_address),
        Some(ras::bmp("GK")),
        false,
        1,
    )];
    match ras::decode(&gcf).expect("decode") {
        RasMessage::GatekeeperConfirm(c) => {
            assert_eq!(c.alternate_gatekeeper, Some(expected.clone()))
        }
        m => panic!("{m:?}"),
    }
    match ras::decode(&rcf).expect("decode") {
        RasMessage::RegistrationConfirm(c) => assert_eq!(c.alternate_gatekeeper, Some(expected)),
        m => panic!("{m:?}"),
    }
    let (gcf0, rcf0) = replies(config(Vec::new()));
    assert!(
        gcf0.len() < gcf.len() && rcf0.len() < rcf.len(),
        "left out when not configured"
    );
    if !common::tshark_available() {
        eprintln!("SKIPPED tshark part: tshark is not installed");
        return;
    }
    let packets = common::dissect_clean("alternate-gk", &[gcf, rcf, gcf0, rcf0]);
    for p in &packets[..2] {
        for f in [
            "alternateGatekeeper: 1 item",
            "ip: 192.0.2.11",
            "gatekeeperIdentifier: GK",
            "needToRegister: False",
            "priority: 1",
        ] {
            assert!(p.contains(f), "tshark shows no `{f}`:\n{p}");
        }
    }
    for p in &packets[2..] {
        assert!(!p.contains("alternateGatekeeper"), "{p}");
    }
}
