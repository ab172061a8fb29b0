//! Bad and unexpected input never panics, is counted, and gets the standard
//! answer where one exists: truncations, trailing junk, oversize and random
//! datagrams, unknown CHOICE indexes, and valid messages this gatekeeper does
//! not handle (LRQ → LRJ, NonStandardMessage/IRQ/RAI → XRS, IRR → IACK).

mod common;

use common::harness::*;
use control::gatekeeper::Config;
use control::ras::types::*;
use control::ras::{encode, samples, RasMessage};
use proptest::prelude::*;

fn harness() -> Harness {
    Harness::new(Config::default(), registry(1, 2_500_000))
}

fn sample_bytes(name: &str) -> Vec<u8> {
    let s = samples::all()
        .into_iter()
        .find(|s| s.name == name)
        .expect("sample");
    encode(&s.message).expect("encode")
}

fn xrs_seq(m: &[RasMessage]) -> Option<u16> {
    match m {
        [RasMessage::UnknownMessageResponse(x)] => Some(x.request_seq_num),
        _ => None,
    }
}

#[test]
fn location_request_gets_location_reject() {
    let mut h = harness();
    let r = h.send(addr(1), &sample_bytes("lrq"));
    assert!(
        matches!(
            &r[..],
            [RasMessage::LocationReject(LocationReject {
                request_seq_num: 8,
                ..
            })]
        ),
        "{r:?}"
    );
}

#[test]
fn non_standard_message_and_irq_get_xrs() {
    let mut h = harness();
    assert_eq!(xrs_seq(&h.send(addr(1), &sample_bytes("nsm"))), Some(10));
    assert_eq!(xrs_seq(&h.send(addr(1), &sample_bytes("irq"))), Some(9));
}

#[test]
fn opaque_extension_request_gets_xrs() {
    // resourcesAvailableIndicate (extension alternative 1): index octet, open
    // type length 5, SEQUENCE preamble, requestSeqNum 5, then contents this
    // gatekeeper keeps opaque.
    let mut h = harness();
    assert_eq!(
        xrs_seq(&h.send(addr(1), &[0x81, 0x05, 0x00, 0x00, 0x04, 0xaa, 0xbb])),
        Some(5)
    );
    // serviceControlIndication (extension alternative 5): its preamble has
    // nine bits (extension + 8 optionals), so requestSeqNum 6 starts later.
    let sci = [0x85, 0x06, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00];
    assert_eq!(xrs_seq(&h.send(addr(1), &sci)), Some(6));
}

#[test]
fn irr_needing_a_response_gets_iack() {
    let mut h = harness();
    let s = samples::all()
        .into_iter()
        .find(|s| s.name == "irr")
        .expect("irr");
    let RasMessage::InfoRequestResponse(mut irr) = s.message else {
        unreachable!()
    };
    irr.need_response = Some(true);
    let bytes = encode(&RasMessage::InfoRequestResponse(irr)).expect("encode");
    let r = h.send(addr(1), &bytes);
    assert!(
        matches!(
            &r[..],
            [RasMessage::InfoRequestAck(InfoRequestAck {
                request_seq_num: 9,
                ..
            })]
        ),
        "{r:?}"
    );
}

#[test]
fn every_truncation_of_every_sample_is_counted_without_panic() {
    let mut h = harness();
    let mut expected_malformed = 0;
    for s in samples::all() {
        let bytes = encode(&s.message).expect("encode");
        for len in 0..bytes.len() {
            h.send_raw(addr(1), &bytes[..len]);
            expected_malformed += 1;
        }
    }
    assert_eq!(h.gk.counters().malformed, expected_malformed);
    assert!(
        h.gk.counters().xrs_sent > 0,
        "truncated requests with a readable header get XRS"
    );
}

#[test]
fn trailing_junk_is_malformed_and_answered_with_xrs() {
    let mut h = harness();
    let mut bytes = sample_bytes("grq");
    bytes.extend_from_slice(&[0xde, 0xad]);
    assert_eq!(xrs_seq(&h.send(addr(1), &bytes)), Some(1));
    assert_eq!(h.gk.counters().malformed, 1);
}

#[test]
fn oversize_and_unknown_choice_index_are_counted() {
    let mut h = harness();
    h.send_raw(addr(1), &vec![0u8; 5000]);
    // Extension alternative index 40: not in H.225.0 v7.
    let r = h.send_raw(addr(1), &[0x80 | 15, 0x01, 0x00]);
    assert!(r.is_empty(), "nothing to answer for an unknown alternative");
    assert_eq!(h.gk.counters().malformed, 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn random_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut h = harness();
        let replies = h.send_raw(addr(1), &bytes);
        prop_assert!(replies.len() <= 1);
        prop_assert_eq!(h.gk.calls(), 0);
    }

    #[test]
    fn mutated_samples_never_panic(idx in 0usize..27, pos in any::<usize>(), val in any::<u8>()) {
        let all = samples::all();
        let mut bytes = encode(&all[idx % all.len()].message).expect("encode");
        let p = pos % bytes.len();
        bytes[p] = val;
        let mut h = harness();
        h.send_raw(addr(1), &bytes);
        prop_assert_eq!(h.gk.calls(), 0);
    }
}
