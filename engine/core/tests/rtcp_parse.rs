//! Proves RTCP parsing against a compound packet written out byte by byte
//! from the RFC 3550 6.4–6.6 layouts, and that lying lengths, overflowing
//! counts, bad padding and misplaced packets each give their typed error.

use media_core::rtcp::{Compound, CompoundIter, ReportBlock, RtcpError, RtcpPacket};

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// SR (RC=1, 13 words): SSRC 0x12345678, NTP 0xe0000000.80000000, RTP ts
/// 16000, 100 packets, 16000 octets; one block about 0x9abcdef0 with
/// fraction 0x40, cumulative lost -2 (0xfffffe), highest seq 0x00010005,
/// jitter 32, LSR 0xb7052000, DLSR 0x00054000.
const SR: &str = "81c8000c 12345678 e0000000 80000000 00003e80 00000064 00003e80
                  9abcdef0 40fffffe 00010005 00000020 b7052000 00054000";
/// SDES (SC=1, 4 words): chunk for 0x12345678, CNAME "user", two nulls.
const SDES: &str = "81ca0003 12345678 01047573 65720000";
/// BYE (SC=1, 3 words): 0x12345678, reason "bye".
const BYE: &str = "81cb0002 12345678 03627965";

fn compound() -> Vec<u8> {
    hex(&format!("{SR} {SDES} {BYE}"))
}

#[test]
fn parses_the_hand_built_compound() {
    let buf = compound();
    let compound = Compound::parse(&buf).unwrap();
    let packets: Vec<_> = compound.packets().collect();
    assert_eq!(packets.len(), 3);

    let RtcpPacket::SenderReport(sr) = packets[0] else {
        panic!("not SR")
    };
    assert_eq!(sr.ssrc, 0x1234_5678);
    assert_eq!(sr.info.ntp, 0xe000_0000_8000_0000);
    assert_eq!(sr.info.rtp_timestamp, 16000);
    assert_eq!(sr.info.packet_count, 100);
    assert_eq!(sr.info.octet_count, 16000);
    assert!(sr.profile_extension.is_empty());
    let blocks: Vec<_> = sr.reports.collect();
    assert_eq!(
        blocks,
        vec![ReportBlock {
            ssrc: 0x9abc_def0,
            fraction_lost: 0x40,
            cumulative_lost: -2,
            extended_highest_seq: 0x0001_0005,
            jitter: 32,
            lsr: 0xb705_2000,
            dlsr: 0x0005_4000,
        }]
    );

    let RtcpPacket::Sdes(sdes) = packets[1] else {
        panic!("not SDES")
    };
    assert_eq!(sdes.first_cname(), Some((0x1234_5678, &b"user"[..])));
    let chunk = sdes.chunks().next().unwrap();
    assert_eq!(chunk.items().count(), 1);

    let RtcpPacket::Bye(bye) = packets[2] else {
        panic!("not BYE")
    };
    assert_eq!(bye.ssrcs().collect::<Vec<_>>(), vec![0x1234_5678]);
    assert_eq!(bye.reason, Some(&b"bye"[..]));
}

#[test]
fn cumulative_lost_is_signed_24_bit() {
    let mut raw = [0u8; 24];
    raw[5..8].copy_from_slice(&[0x80, 0x00, 0x00]);
    assert_eq!(ReportBlock::parse(&raw).cumulative_lost, -8_388_608);
    raw[5..8].copy_from_slice(&[0x7f, 0xff, 0xff]);
    assert_eq!(ReportBlock::parse(&raw).cumulative_lost, 8_388_607);
    raw[5..8].copy_from_slice(&[0xff, 0xff, 0xff]);
    assert_eq!(ReportBlock::parse(&raw).cumulative_lost, -1);
}

#[test]
fn rr_sdes_with_two_chunks_and_unknown_app() {
    // RR with no blocks; SDES SC=2: chunk 1 has NAME "a" then CNAME "bc",
    // whose terminating null lands on a word boundary; chunk 2 is empty.
    // APP (204) subtype 3, name "TEST", 4 data bytes.
    let buf = hex("80c90001 00000001
         82ca0005 00000001 02016101 02626300 00000002 00000000
         83cc0003 00000001 54455354 01020304");
    let packets: Vec<_> = Compound::parse(&buf).unwrap().packets().collect();
    let RtcpPacket::ReceiverReport(rr) = packets[0] else {
        panic!()
    };
    assert_eq!((rr.ssrc, rr.reports.len()), (1, 0));
    let RtcpPacket::Sdes(sdes) = packets[1] else {
        panic!()
    };
    let chunks: Vec<_> = sdes.chunks().collect();
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].cname(), Some(&b"bc"[..]));
    let kinds: Vec<u8> = chunks[0].items().map(|i| i.kind).collect();
    assert_eq!(kinds, vec![2, 1]);
    assert_eq!((chunks[1].ssrc, chunks[1].cname()), (2, None));
    let RtcpPacket::Unknown(app) = packets[2] else {
        panic!()
    };
    assert_eq!((app.packet_type, app.count), (204, 3));
    assert_eq!(app.body, &hex("00000001 54455354 01020304")[..]);
}

#[test]
fn padding_on_last_packet_is_stripped() {
    // BYE with no SSRCs (SC=0) and P=1: 4 bytes padding, count 4.
    let buf = hex("80c90001 00000001 a0cb0001 00000004");
    let packets: Vec<_> = Compound::parse(&buf).unwrap().packets().collect();
    let RtcpPacket::Bye(bye) = packets[1] else {
        panic!()
    };
    assert_eq!((bye.ssrcs().count(), bye.reason), (0, None));
}

#[test]
fn strict_rules_and_lenient_iteration() {
    // SDES first: strict refuses (RFC 3550 6.1), lenient reads it.
    let buf = hex(SDES);
    assert_eq!(
        Compound::parse(&buf),
        Err(RtcpError::NotReportFirst { packet_type: 202 })
    );
    assert_eq!(CompoundIter::new(&buf).filter(Result::is_ok).count(), 1);
    assert!(RtcpPacket::parse(&buf).is_ok());
    // Padding on the first of two packets.
    let buf = hex(&format!("a0c90002 00000001 00000004 {SDES}"));
    assert_eq!(Compound::parse(&buf), Err(RtcpError::PaddingNotLast));
    assert_eq!(CompoundIter::new(&buf).filter(Result::is_ok).count(), 2);
    // Nothing at all.
    assert_eq!(Compound::parse(&[]), Err(RtcpError::TooShort { len: 0 }));
    assert_eq!(CompoundIter::new(&[]).count(), 0);
}

#[test]
fn malformed_packets_give_typed_errors() {
    let cases: &[(&str, RtcpError)] = &[
        ("80c9", RtcpError::TooShort { len: 2 }),
        ("40c90001 00000001", RtcpError::BadVersion(1)),
        // Length field claims 256 words.
        (
            "80c900ff 00000001",
            RtcpError::BadLength { len: 1024, have: 8 },
        ),
        // RC=2 but room for one block only.
        (
            "82c90007 00000001 000000000000000000000000000000000000000000000000",
            RtcpError::ReportOverflow,
        ),
        // SR body shorter than SSRC + sender info.
        ("80c80001 00000001", RtcpError::TooShort { len: 8 }),
        // RR without its SSRC.
        ("80c90000", RtcpError::TooShort { len: 4 }),
        // Padding count 0, and larger than the body.
        ("a0c90001 00000000", RtcpError::BadPadding { count: 0 }),
        ("a0c90001 00000009", RtcpError::BadPadding { count: 9 }),
        // SDES item length runs past the packet.
        ("81ca0002 00000001 01ff0000", RtcpError::SdesOverflow),
        // SDES chunk with no terminating null.
        ("81ca0002 00000001 01026162", RtcpError::SdesOverflow),
        // SDES claims two chunks, has one.
        ("82ca0002 00000001 00000000", RtcpError::SdesOverflow),
        // BYE claims 2 SSRCs, has 1.
        ("82cb0001 00000001", RtcpError::ByeOverflow),
        // BYE reason longer than the packet.
        ("81cb0002 00000001 09616263", RtcpError::ByeOverflow),
    ];
    for (input, want) in cases {
        let buf = hex(input);
        assert_eq!(RtcpPacket::parse(&buf), Err(*want), "input {input}");
        let first = CompoundIter::new(&buf).next().unwrap();
        assert_eq!(first, Err(*want), "input {input}");
    }
}

#[test]
fn lenient_iteration_stops_after_first_error() {
    let buf = hex(&format!("{SR} 80ca00ff {SDES}"));
    let items: Vec<_> = CompoundIter::new(&buf).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert!(matches!(items[1], Err(RtcpError::BadLength { .. })));
    assert!(Compound::parse(&buf).is_err());
}

#[test]
fn truncated_at_every_length() {
    let full = compound();
    let boundaries = [52, 68, 80];
    for len in 0..full.len() {
        let got = Compound::parse(&full[..len]);
        if boundaries.contains(&len) {
            assert!(got.is_ok(), "length {len}");
        } else {
            let err = got.unwrap_err();
            assert!(
                matches!(
                    err,
                    RtcpError::TooShort { .. } | RtcpError::BadLength { .. }
                ),
                "length {len}: {err:?}"
            );
        }
    }
}

#[test]
fn error_kinds_are_distinct_labels() {
    let errors = [
        RtcpError::TooShort { len: 0 },
        RtcpError::BadVersion(0),
        RtcpError::BadLength { len: 0, have: 0 },
        RtcpError::BadPadding { count: 0 },
        RtcpError::PaddingNotLast,
        RtcpError::NotReportFirst { packet_type: 0 },
        RtcpError::ReportOverflow,
        RtcpError::SdesOverflow,
        RtcpError::ByeOverflow,
        RtcpError::TooMany,
        RtcpError::BufferTooSmall { need: 0, have: 0 },
    ];
    let mut kinds: Vec<_> = errors.iter().map(RtcpError::kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), errors.len());
    assert!(kinds.iter().all(|k| k.starts_with("rtcp_")));
}
