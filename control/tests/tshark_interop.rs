//! Every sample RAS message (the ones the gatekeeper sends and the requests it
//! accepts) encoded by this crate is dissected by tshark with the fields set
//! and no malformed/expert report. Skips with a message when tshark is absent.

mod common;

use control::ras::{encode, samples};

#[test]
fn tshark_dissects_every_sample_cleanly() {
    if !common::tshark_available() {
        eprintln!("SKIPPED: tshark is not installed (apt-get install tshark)");
        return;
    }
    let all = samples::all();
    let datagrams: Vec<Vec<u8>> = all
        .iter()
        .map(|s| encode(&s.message).expect(s.name))
        .collect();
    let packets = common::dissect_clean("samples", &datagrams);
    // Fields each sample sets, as tshark names them.
    let expect: &[(&str, &[&str])] = &[
        (
            "grq",
            &[
                "gatekeeperRequest",
                "requestSeqNum: 1",
                "h323-ID: gk-test",
                "port: 1719",
            ],
        ),
        ("gcf", &["gatekeeperConfirm", "gatekeeperIdentifier: GK"]),
        ("grj", &["gatekeeperReject", "securityDenial"]),
        (
            "rrq",
            &[
                "registrationRequest",
                "timeToLive: 300",
                "discoveryComplete: True",
                "h323-ID: guardian",
            ],
        ),
        (
            "rrq_keepalive",
            &[
                "keepAlive: True",
                "endpointIdentifier: EP1",
                "timeToLive: 300",
            ],
        ),
        (
            "rcf",
            &[
                "registrationConfirm",
                "endpointIdentifier: EP1",
                "timeToLive: 300",
            ],
        ),
        ("rrj", &["registrationReject", "securityDenial"]),
        ("urq", &["unregistrationRequest", "ttlExpired"]),
        ("ucf", &["unregistrationConfirm", "requestSeqNum: 4"]),
        ("urj", &["unregistrationReject", "notCurrentlyRegistered"]),
        (
            "arq",
            &[
                "admissionRequest",
                "bandWidth: 640",
                "callReferenceValue: 7",
                "nToN",
            ],
        ),
        (
            "acf",
            &[
                "admissionConfirm",
                "bandWidth: 640",
                "gatekeeperRouted",
                "irrFrequency: 30",
                "port: 1720",
            ],
        ),
        ("arj", &["admissionReject", "resourceUnavailable"]),
        ("arj_security", &["securityDenial"]),
        ("brq", &["bandwidthRequest", "bandWidth: 1280"]),
        ("bcf", &["bandwidthConfirm", "bandWidth: 1280"]),
        (
            "brj",
            &[
                "bandwidthReject",
                "insufficientResources",
                "allowedBandWidth: 100",
            ],
        ),
        ("drq", &["disengageRequest", "normalDrop"]),
        ("dcf", &["disengageConfirm"]),
        ("drj", &["disengageReject", "notRegistered"]),
        ("lrq", &["locationRequest", "dialledDigits: 1234"]),
        ("lrj", &["locationReject", "requestDenied"]),
        ("irq", &["infoRequest", "requestSeqNum: 9"]),
        ("irr", &["infoRequestResponse", "unsolicited: True"]),
        ("nsm", &["nonStandardMessage", "t35CountryCode"]),
        (
            "xrs",
            &["unknownMessageResponse", "messageNotUnderstood: 616263"],
        ),
        ("rip", &["requestInProgress", "delay: 5000"]),
    ];
    assert_eq!(expect.len(), all.len());
    for ((name, fields), (sample, packet)) in expect.iter().zip(all.iter().zip(&packets)) {
        assert_eq!(*name, sample.name);
        for f in *fields {
            assert!(
                packet.contains(f),
                "{name}: tshark shows no `{f}`:\n{packet}"
            );
        }
    }
}

/// The checker itself must be able to fail: pycrate's ARQ bytes, which carry
/// an extra octet after the extension bitmap, are reported as malformed.
#[test]
fn tshark_check_flags_known_malformed_bytes() {
    if !common::tshark_available() {
        eprintln!("SKIPPED: tshark is not installed (apt-get install tshark)");
        return;
    }
    let pycrate_arq = samples::from_hex(
        "2600000460800045005000310140070067007500610072006400690061006e4002800007000102030405060708090a0b0c0d0e0f096020100001001100101112131415161718191a1b1c1d1e1f01000100",
    );
    let result = std::panic::catch_unwind(|| common::dissect_clean("malformed", &[pycrate_arq]));
    assert!(result.is_err(), "tshark check accepted malformed bytes");
}

/// Everything the gatekeeper sends in a session (GCF, RCF, RRJ, ACF, ARJ,
/// BRJ, BCF, DCF, UCF, LRJ, XRS, IACK and its own URQ on expiry) dissects
/// cleanly; so do a signed ARQ with its cryptoTokens removed and its
/// ClearToken (carried in an RRQ's `tokens`, since Wireshark 4.0 does not
/// dissect `SIGNED{}.toBeSigned`).
#[test]
fn tshark_dissects_gatekeeper_output_and_signed_request_parts() {
    use common::harness::*;
    use control::gatekeeper::Config;
    use control::ras::types::{ClearToken, CryptoH323Token, CryptoToken};
    use control::ras::{decode, RasMessage};

    if !common::tshark_available() {
        eprintln!("SKIPPED: tshark is not installed (apt-get install tshark)");
        return;
    }
    let conf = [7u8; 16];
    let mut h = Harness::new(Config::default(), registry(2, 100_000));
    let mut sent: Vec<Vec<u8>> = Vec::new();
    let mut g = control::client::GuardianClient::new(&terminal(1), key(1), 5);
    let rrq = g.rrq(h.now_s(), addr(1), 300).expect("sign");
    let rcf = h.send_raw(addr(1), &rrq);
    g.absorb(&rcf[0]).expect("decode");
    sent.extend(rcf);
    let signed_arq = g.arq(h.now_s(), conf, [1; 16], 640).expect("sign");
    sent.extend(h.send_raw(addr(1), &signed_arq));
    sent.extend(h.send_raw(
        addr(1),
        &g.arq(h.now_s(), conf, [2; 16], 640).expect("sign"),
    ));
    sent.extend(h.send_raw(
        addr(1),
        &g.arq(h.now_s(), conf, [3; 16], 640).expect("sign"),
    ));
    sent.extend(h.send_raw(
        addr(1),
        &g.brq(h.now_s(), conf, [1; 16], 5000).expect("sign"),
    ));
    sent.extend(h.send_raw(
        addr(1),
        &g.brq(h.now_s(), conf, [1; 16], 100).expect("sign"),
    ));
    sent.extend(h.send_raw(addr(1), &g.drq(h.now_s(), conf, [1; 16]).expect("sign")));
    for name in ["grq", "lrq", "nsm"] {
        let s = samples::all()
            .into_iter()
            .find(|s| s.name == name)
            .expect("sample");
        sent.extend(h.send_raw(addr(1), &encode(&s.message).expect("encode")));
    }
    let s = samples::all()
        .into_iter()
        .find(|s| s.name == "irr")
        .expect("irr");
    let RasMessage::InfoRequestResponse(mut irr) = s.message else {
        unreachable!()
    };
    irr.need_response = Some(true);
    sent.extend(h.send_raw(
        addr(1),
        &encode(&RasMessage::InfoRequestResponse(irr)).expect("encode"),
    ));
    let mut impostor = control::client::GuardianClient::new(&terminal(2), key(9), 5);
    sent.extend(h.send_raw(
        addr(2),
        &impostor.rrq(h.now_s(), addr(2), 60).expect("sign"),
    ));
    sent.extend(h.send_raw(addr(1), &g.urq(h.now_s(), addr(1)).expect("sign")));
    let mut g2 = h.register(2);
    let _ = &mut g2;
    sent.extend(h.advance_s(301).into_iter().map(|(_, b)| b));
    let kinds: Vec<&str> = sent
        .iter()
        .map(|b| decode(b).expect("decode").name())
        .collect();
    for k in [
        "RCF", "ACF", "ARJ", "BRJ", "BCF", "DCF", "GCF", "LRJ", "XRS", "IACK", "RRJ", "UCF", "URQ",
    ] {
        assert!(kinds.contains(&k), "scenario produced no {k}: {kinds:?}");
    }
    let packets = common::dissect_clean("gatekeeper", &sent);
    assert!(packets
        .iter()
        .any(|p| p.contains("admissionConfirm") && p.contains("bandWidth: 640")));
    assert!(packets
        .iter()
        .any(|p| p.contains("admissionConfirm") && p.contains("bandWidth: 360")));
    assert!(packets
        .iter()
        .any(|p| p.contains("unregistrationRequest") && p.contains("ttlExpired")));

    // The signed ARQ, unsigned form.
    let mut arq = decode(&signed_arq).expect("decode");
    let tokens = arq
        .crypto_tokens_mut()
        .expect("has cryptoTokens")
        .take()
        .expect("signed");
    let unsigned = encode(&arq).expect("encode");
    let p = common::dissect_clean("unsigned-arq", &[unsigned]);
    assert!(p[0].contains("admissionRequest") && p[0].contains("bandWidth: 640"));

    // Its ClearToken, carried as a plain token of an RRQ.
    let [CryptoH323Token::NestedCryptoToken(CryptoToken::CryptoSignedToken(st))] = &tokens[..]
    else {
        panic!("unexpected token layout: {tokens:?}");
    };
    let clear: ClearToken =
        rasn::aper::decode(st.token.to_be_signed.as_bytes()).expect("ClearToken");
    let s = samples::all()
        .into_iter()
        .find(|s| s.name == "rrq")
        .expect("rrq");
    let RasMessage::RegistrationRequest(mut rrq) = s.message else {
        unreachable!()
    };
    rrq.tokens = Some(vec![clear]);
    let p = common::dissect_clean(
        "cleartoken",
        &[encode(&RasMessage::RegistrationRequest(rrq)).expect("encode")],
    );
    for f in [
        "tokenOID: 1.3.101.112",
        "timeStamp:",
        "random: ",
        "generalID: if://guardian/g1",
    ] {
        assert!(
            p[0].contains(f),
            "ClearToken dissection lacks {f}:\n{}",
            p[0]
        );
    }
}
