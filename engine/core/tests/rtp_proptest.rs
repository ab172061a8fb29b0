//! Proves with generated inputs that RTP parsing never panics or reads out of
//! bounds on arbitrary bytes, that build-then-parse returns arbitrary headers
//! unchanged, and that the sequence tracker never panics on any sequence.

use media_core::rtp::{write_packet, ExtensionForm, RtpHeaderFields, RtpPacket, SeqTracker};
use proptest::prelude::*;

fn fields() -> impl Strategy<Value = RtpHeaderFields> {
    (
        any::<bool>(),
        0u8..=127,
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(marker, payload_type, sequence_number, timestamp, ssrc)| RtpHeaderFields {
                marker,
                payload_type,
                sequence_number,
                timestamp,
                ssrc,
            },
        )
}

fn extensions() -> impl Strategy<Value = (ExtensionForm, Vec<(u8, Vec<u8>)>)> {
    let one = prop::collection::vec((1u8..=14, prop::collection::vec(any::<u8>(), 1..=16)), 0..8)
        .prop_map(|e| (ExtensionForm::OneByte, e));
    let two = prop::collection::vec(
        (1u8..=255, prop::collection::vec(any::<u8>(), 0..=40)),
        0..8,
    )
    .prop_map(|e| (ExtensionForm::TwoByte, e));
    prop_oneof![one, two]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics(buf in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = RtpPacket::parse(&buf) {
            prop_assert!(p.payload_range().end <= buf.len());
            prop_assert_eq!(&buf[p.payload_range()], p.payload());
            prop_assert_eq!(p.csrcs().len(), usize::from(p.csrc_count()));
            for element in p.extensions() {
                let _ = element;
            }
            for id in 0..=15 {
                let _ = p.audio_level(id);
                let _ = p.csrc_audio_levels(id).map(Iterator::count);
            }
        }
    }

    #[test]
    fn parse_never_panics_on_plausible_headers(
        b0 in 0x80u8..=0xbf,
        rest in prop::collection::vec(any::<u8>(), 11..120),
    ) {
        // Version 2 with every P/X/CC combination reaches the deeper checks.
        let mut buf = vec![b0];
        buf.extend_from_slice(&rest);
        if let Ok(p) = RtpPacket::parse(&buf) {
            prop_assert!(p.header_len() <= p.payload_range().end);
            prop_assert_eq!(p.extensions().filter(Result::is_err).count() <= 1, true);
        }
    }

    #[test]
    fn build_then_parse_round_trips(
        f in fields(),
        csrcs in prop::collection::vec(any::<u32>(), 0..=15),
        (form, exts) in extensions(),
        payload in prop::collection::vec(any::<u8>(), 0..100),
        padding in any::<u8>(),
    ) {
        let ext_refs: Vec<(u8, &[u8])> = exts.iter().map(|(id, d)| (*id, d.as_slice())).collect();
        let mut out = vec![0u8; 2048];
        let n = write_packet(&f, &csrcs, &ext_refs, form, &payload, padding, &mut out).unwrap();
        let p = RtpPacket::parse(&out[..n]).unwrap();
        prop_assert_eq!(p.marker(), f.marker);
        prop_assert_eq!(p.payload_type(), f.payload_type);
        prop_assert_eq!(p.sequence_number(), f.sequence_number);
        prop_assert_eq!(p.timestamp(), f.timestamp);
        prop_assert_eq!(p.ssrc(), f.ssrc);
        prop_assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs);
        let got: Vec<(u8, &[u8])> = p.extensions().map(Result::unwrap).collect();
        prop_assert_eq!(got, ext_refs);
        prop_assert_eq!(p.payload(), &payload[..]);
        prop_assert_eq!(p.padding_len(), usize::from(padding));
    }

    #[test]
    fn seq_tracker_never_panics(seqs in prop::collection::vec(any::<u16>(), 0..300)) {
        let mut t = SeqTracker::new();
        for s in seqs {
            let outcome = t.update(s);
            prop_assert_eq!(outcome.is_counted(), outcome.extended_seq().is_some());
            let _ = t.report_fraction_lost();
            let _ = t.lost();
        }
    }
}
