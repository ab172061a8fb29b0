//! Proves with generated inputs that RTCP parsing (strict and lenient) never
//! panics on arbitrary bytes while every field is read, and that arbitrary
//! report blocks, CNAMEs and BYEs survive write-then-parse unchanged.

use media_core::rtcp::{
    write_compound, ByeFields, Compound, CompoundIter, FirstReport, ReportBlock, RtcpPacket,
    SenderInfo,
};
use proptest::prelude::*;

/// Reads every field of a packet, as a consumer would.
fn touch(packet: &RtcpPacket<'_>) -> usize {
    match packet {
        RtcpPacket::SenderReport(sr) => sr.reports.count() + sr.profile_extension.len(),
        RtcpPacket::ReceiverReport(rr) => rr.reports.count() + rr.profile_extension.len(),
        RtcpPacket::Sdes(sdes) => sdes
            .chunks()
            .map(|c| {
                c.items().map(|i| i.text.len()).sum::<usize>() + c.cname().map_or(0, <[u8]>::len)
            })
            .sum(),
        RtcpPacket::Bye(bye) => bye.ssrcs().count() + bye.reason.map_or(0, <[u8]>::len),
        RtcpPacket::Unknown(u) => u.body.len(),
    }
}

fn block() -> impl Strategy<Value = ReportBlock> {
    (
        any::<u32>(),
        any::<u8>(),
        -0x80_0000i32..=0x7f_ffff,
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(ssrc, fraction_lost, cumulative_lost, extended_highest_seq, jitter, lsr, dlsr)| {
                ReportBlock {
                    ssrc,
                    fraction_lost,
                    cumulative_lost,
                    extended_highest_seq,
                    jitter,
                    lsr,
                    dlsr,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics(buf in prop::collection::vec(any::<u8>(), 0..300)) {
        for packet in CompoundIter::new(&buf).flatten() {
            touch(&packet);
        }
        if let Ok(compound) = Compound::parse(&buf) {
            for packet in compound.packets() {
                touch(&packet);
            }
        }
    }

    #[test]
    fn parse_never_panics_on_plausible_headers(
        headers in prop::collection::vec((0x80u8..=0xbf, 200u8..=204, 0u8..8), 1..4),
        bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 4),
    ) {
        // Version-2 headers of the known types, lengths near the body size.
        let mut buf = Vec::new();
        for ((b0, pt, words), body) in headers.iter().zip(&bodies) {
            buf.extend_from_slice(&[*b0, *pt, 0, *words]);
            buf.extend_from_slice(body);
        }
        for packet in CompoundIter::new(&buf).flatten() {
            touch(&packet);
        }
        let _ = Compound::parse(&buf).map(|c| c.packets().map(|p| touch(&p)).sum::<usize>());
    }

    #[test]
    fn write_then_parse_round_trips(
        sender in any::<bool>(),
        ssrc in any::<u32>(),
        ntp in any::<u64>(),
        blocks in prop::collection::vec(block(), 0..=31),
        cname in prop::collection::vec(any::<u8>(), 0..=255),
        bye_ssrcs in prop::collection::vec(any::<u32>(), 0..=31),
        reason in prop::option::of(prop::collection::vec(any::<u8>(), 0..=255)),
    ) {
        let info = SenderInfo { ntp, rtp_timestamp: 1, packet_count: 2, octet_count: 3 };
        let first = if sender {
            FirstReport::Sender { ssrc, info, blocks: &blocks }
        } else {
            FirstReport::Receiver { ssrc, blocks: &blocks }
        };
        let bye = ByeFields { ssrcs: &bye_ssrcs, reason: reason.as_deref() };
        let mut out = vec![0u8; 2048];
        let n = write_compound(&first, &cname, Some(&bye), &mut out).unwrap();
        let packets: Vec<_> = Compound::parse(&out[..n]).unwrap().packets().collect();
        prop_assert_eq!(packets.len(), 3);
        let got_blocks: Vec<ReportBlock> = match packets[0] {
            RtcpPacket::SenderReport(sr) => {
                prop_assert!(sender);
                prop_assert_eq!((sr.ssrc, sr.info), (ssrc, info));
                sr.reports.collect()
            }
            RtcpPacket::ReceiverReport(rr) => {
                prop_assert!(!sender);
                prop_assert_eq!(rr.ssrc, ssrc);
                rr.reports.collect()
            }
            _ => return Err(TestCaseError::fail("first packet not a report")),
        };
        prop_assert_eq!(got_blocks, blocks);
        let RtcpPacket::Sdes(sdes) = packets[1] else {
            return Err(TestCaseError::fail("second packet not SDES"));
        };
        prop_assert_eq!(sdes.first_cname(), Some((ssrc, &cname[..])));
        let RtcpPacket::Bye(got_bye) = packets[2] else {
            return Err(TestCaseError::fail("third packet not BYE"));
        };
        prop_assert_eq!(got_bye.ssrcs().collect::<Vec<_>>(), bye_ssrcs);
        prop_assert_eq!(got_bye.reason, reason.as_deref());
    }
}
