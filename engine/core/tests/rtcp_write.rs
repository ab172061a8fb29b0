//! Proves the RTCP writers: SR/RR/SDES/BYE bytes match the hand-built RFC
//! 3550 layouts, the compound writer's output parses back strictly, and
//! impossible inputs (too many blocks, long text, small buffers) are refused.

use media_core::rtcp::{
    write_bye, write_compound, write_rr, write_sdes_cname, write_sr, ByeFields, Compound,
    FirstReport, ReportBlock, RtcpError, RtcpPacket, SenderInfo,
};

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn block() -> ReportBlock {
    ReportBlock {
        ssrc: 0x9abc_def0,
        fraction_lost: 0x40,
        cumulative_lost: -2,
        extended_highest_seq: 0x0001_0005,
        jitter: 32,
        lsr: 0xb705_2000,
        dlsr: 0x0005_4000,
    }
}

fn info() -> SenderInfo {
    SenderInfo {
        ntp: 0xe000_0000_8000_0000,
        rtp_timestamp: 16000,
        packet_count: 100,
        octet_count: 16000,
    }
}

#[test]
fn writers_match_hand_built_bytes() {
    let mut out = [0u8; 128];
    let n = write_sr(0x1234_5678, &info(), &[block()], &mut out).unwrap();
    let want = hex(
        "81c8000c 12345678 e0000000 80000000 00003e80 00000064 00003e80
         9abcdef0 40fffffe 00010005 00000020 b7052000 00054000",
    );
    assert_eq!(&out[..n], &want[..]);

    let n = write_rr(1, &[], &mut out).unwrap();
    assert_eq!(&out[..n], &hex("80c90001 00000001")[..]);

    let n = write_sdes_cname(0x1234_5678, b"user", &mut out).unwrap();
    assert_eq!(&out[..n], &hex("81ca0003 12345678 01047573 65720000")[..]);

    let n = write_bye(&[0x1234_5678], Some(b"bye"), &mut out).unwrap();
    assert_eq!(&out[..n], &hex("81cb0002 12345678 03627965")[..]);
    let n = write_bye(&[1, 2], None, &mut out).unwrap();
    assert_eq!(&out[..n], &hex("82cb0002 00000001 00000002")[..]);
}

#[test]
fn short_cname_is_null_padded_to_a_word() {
    // 4 SSRC + 2 + 2 text + 1 null = 9, padded to 12.
    let mut out = [0u8; 32];
    let n = write_sdes_cname(7, b"ab", &mut out).unwrap();
    assert_eq!(&out[..n], &hex("81ca0003 00000007 01026162 00000000")[..]);
}

#[test]
fn negative_and_saturated_cumulative_lost() {
    let mut raw = [0u8; 24];
    for (lost, wire, back) in [
        (-2, [0xff, 0xff, 0xfe], -2),
        (-10_000_000, [0x80, 0x00, 0x00], -8_388_608),
        (10_000_000, [0x7f, 0xff, 0xff], 8_388_607),
        (5, [0x00, 0x00, 0x05], 5),
    ] {
        let b = ReportBlock {
            cumulative_lost: lost,
            ..block()
        };
        b.write(&mut raw);
        assert_eq!(raw[5..8], wire);
        assert_eq!(ReportBlock::parse(&raw).cumulative_lost, back);
    }
}

#[test]
fn compound_round_trip() {
    let blocks = [block(), ReportBlock { ssrc: 5, ..block() }];
    let first = FirstReport::Sender {
        ssrc: 0x1234_5678,
        info: info(),
        blocks: &blocks,
    };
    let bye = ByeFields {
        ssrcs: &[0x1234_5678],
        reason: Some(b"room closed"),
    };
    let mut out = [0u8; 256];
    let n = write_compound(&first, b"mcu@example", Some(&bye), &mut out).unwrap();
    let compound = Compound::parse(&out[..n]).unwrap();
    let packets: Vec<_> = compound.packets().collect();
    assert_eq!(packets.len(), 3);
    let RtcpPacket::SenderReport(sr) = packets[0] else {
        panic!()
    };
    assert_eq!(sr.info, info());
    assert_eq!(sr.reports.collect::<Vec<_>>(), blocks);
    let RtcpPacket::Sdes(sdes) = packets[1] else {
        panic!()
    };
    assert_eq!(sdes.first_cname(), Some((0x1234_5678, &b"mcu@example"[..])));
    let RtcpPacket::Bye(parsed_bye) = packets[2] else {
        panic!()
    };
    assert_eq!(parsed_bye.reason, Some(&b"room closed"[..]));

    let first = FirstReport::Receiver {
        ssrc: 9,
        blocks: &[],
    };
    let n = write_compound(&first, b"x", None, &mut out).unwrap();
    let packets: Vec<_> = Compound::parse(&out[..n]).unwrap().packets().collect();
    assert_eq!(packets.len(), 2);
    assert!(matches!(packets[0], RtcpPacket::ReceiverReport(rr) if rr.ssrc == 9));
}

#[test]
fn refuses_what_cannot_be_written() {
    let mut out = [0u8; 2048];
    let many = [block(); 32];
    assert_eq!(
        write_sr(1, &info(), &many, &mut out),
        Err(RtcpError::TooMany)
    );
    assert_eq!(write_rr(1, &many, &mut out), Err(RtcpError::TooMany));
    assert_eq!(write_bye(&[0; 32], None, &mut out), Err(RtcpError::TooMany));
    assert_eq!(
        write_bye(&[1], Some(&[b'a'; 256]), &mut out),
        Err(RtcpError::TooMany)
    );
    assert_eq!(
        write_sdes_cname(1, &[b'a'; 256], &mut out),
        Err(RtcpError::TooMany)
    );
    assert!(write_rr(1, &many[..31], &mut out).is_ok());
    assert_eq!(
        write_rr(1, &[block()], &mut out[..31]),
        Err(RtcpError::BufferTooSmall { need: 32, have: 31 })
    );
    // RR (8) + SDES for "x" (12) needs 20: the error counts the whole buffer.
    let first = FirstReport::Receiver {
        ssrc: 9,
        blocks: &[],
    };
    assert_eq!(
        write_compound(&first, b"x", None, &mut out[..19]),
        Err(RtcpError::BufferTooSmall { need: 20, have: 19 })
    );
}
