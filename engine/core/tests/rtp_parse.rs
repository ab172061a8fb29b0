//! Proves RTP parsing against hand-built wire bytes (RFC 3550 5.1 and RFC 8285
//! layouts written out byte by byte) and that every kind of malformed input
//! yields its own typed error rather than a panic.

use bytes::Bytes;
use media_core::rtp::{AudioLevel, ExtensionForm, RtpError, RtpPacket};

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// V=2, no P/X/CC, PT 8 (PCMA), seq 8000, ts 800, SSRC 0xdeadbeef, 4 bytes.
const PLAIN: &str = "80 08 1f40 00000320 deadbeef d5d5d5d5";

/// X=1, CC=2, M=1, PT 96, seq 1, ts 16, SSRC 0x11223344, CSRCs 1 and 2, a
/// one-byte block of one word: id 1 len 1 data 0xff (RFC 6464: voice, 127),
/// two padding zeros; payload abcd.
const ONE_BYTE: &str = "92 e0 0001 00000010 11223344 00000001 00000002 bede0001 10ff0000 abcd";

/// A two-byte (0x1000) block of two words: id 5 len 2 data aabb, a padding
/// zero, id 7 len 0, a padding zero; payload 01.
const TWO_BYTE: &str = "90 60 0002 00000020 11223344 10000002 0502aabb 00070000 01";

#[test]
fn plain_packet_fields() {
    let buf = hex(PLAIN);
    let p = RtpPacket::parse(&buf).unwrap();
    assert_eq!(p.version(), 2);
    assert!(!p.has_padding() && !p.has_extension() && !p.marker());
    assert_eq!(p.payload_type(), 8);
    assert_eq!(p.sequence_number(), 8000);
    assert_eq!(p.timestamp(), 800);
    assert_eq!(p.ssrc(), 0xdead_beef);
    assert_eq!(p.csrc_count(), 0);
    assert_eq!(p.csrcs().count(), 0);
    assert_eq!(p.header_len(), 12);
    assert_eq!(p.payload(), &[0xd5; 4]);
    assert_eq!(p.padding_len(), 0);
    assert_eq!(p.extensions().count(), 0);
    assert_eq!(p.extension(1), None);
    assert_eq!(p.audio_level(1), None);
}

#[test]
fn csrcs_and_one_byte_extension() {
    let buf = hex(ONE_BYTE);
    let p = RtpPacket::parse(&buf).unwrap();
    assert!(p.marker());
    assert_eq!(p.payload_type(), 96);
    assert_eq!(p.csrcs().collect::<Vec<_>>(), vec![1, 2]);
    let block = p.extension_block().unwrap();
    assert_eq!(block.profile, 0xbede);
    assert_eq!(block.form(), Some(ExtensionForm::OneByte));
    let elements: Vec<_> = p.extensions().collect();
    assert_eq!(elements, vec![Ok((1, &[0xff][..]))]);
    assert_eq!(p.audio_level(1), Some(AudioLevel::new(true, 127)));
    assert_eq!(p.audio_level(2), None);
    assert_eq!(p.header_len(), 12 + 8 + 8);
    assert_eq!(p.payload(), &[0xab, 0xcd]);
}

#[test]
fn two_byte_extension_with_padding_and_empty_element() {
    let buf = hex(TWO_BYTE);
    let p = RtpPacket::parse(&buf).unwrap();
    assert_eq!(
        p.extension_block().unwrap().form(),
        Some(ExtensionForm::TwoByte)
    );
    let elements: Vec<_> = p.extensions().map(Result::unwrap).collect();
    assert_eq!(elements, vec![(5, &[0xaa, 0xbb][..]), (7, &[][..])]);
    assert_eq!(p.extension(7), Some(&[][..]));
    assert_eq!(p.payload(), &[0x01]);
}

#[test]
fn appbits_still_mean_two_byte_form() {
    assert_eq!(
        ExtensionForm::from_profile(0x100f),
        Some(ExtensionForm::TwoByte)
    );
    assert_eq!(ExtensionForm::from_profile(0x1010), None);
}

#[test]
fn unknown_profile_is_kept_opaque() {
    let buf = hex("90 00 0000 00000000 00000000 abcd0001 01020304 ff");
    let p = RtpPacket::parse(&buf).unwrap();
    let block = p.extension_block().unwrap();
    assert_eq!((block.profile, block.data), (0xabcd, &[1, 2, 3, 4][..]));
    assert_eq!(block.form(), None);
    assert_eq!(p.extensions().count(), 0);
    assert_eq!(p.payload(), &[0xff]);
}

#[test]
fn one_byte_id_15_ends_the_block() {
    // id 2 len 1 "aa", then id 15 (whose length is ignored), then id 3.
    let buf = hex("90 00 0000 00000000 00000000 bede0002 20aaf030 aa000000");
    let p = RtpPacket::parse(&buf).unwrap();
    let elements: Vec<_> = p.extensions().collect();
    assert_eq!(elements, vec![Ok((2, &[0xaa][..]))]);
    assert_eq!(p.extension(3), None);
}

#[test]
fn element_longer_than_block_is_an_error_then_ends() {
    // id 1 with L=15 claims 16 data bytes in a 4-byte block.
    let buf = hex("90 00 0000 00000000 00000000 bede0001 1f000000");
    let p = RtpPacket::parse(&buf).unwrap();
    let elements: Vec<_> = p.extensions().collect();
    assert_eq!(elements, vec![Err(RtpError::BadExtensionElement)]);
    assert_eq!(p.extension(1), None);
    // Two-byte form: the length byte itself missing.
    let buf = hex("90 00 0000 00000000 00000000 10000001 00000005");
    let p = RtpPacket::parse(&buf).unwrap();
    let elements: Vec<_> = p.extensions().collect();
    assert_eq!(elements, vec![Err(RtpError::BadExtensionElement)]);
}

#[test]
fn padding_is_removed_from_payload() {
    // P=1: payload 0102, then 3 padding bytes, the last counting them.
    let buf = hex("a0 00 0000 00000000 00000000 0102 000003");
    let p = RtpPacket::parse(&buf).unwrap();
    assert!(p.has_padding());
    assert_eq!(p.payload(), &[1, 2]);
    assert_eq!(p.padding_len(), 3);
    // All of the body may be padding.
    let buf = hex("a0 00 0000 00000000 00000000 00000004");
    assert_eq!(RtpPacket::parse(&buf).unwrap().payload(), &[] as &[u8]);
}

#[test]
fn payload_range_slices_bytes_without_copy() {
    let bytes = Bytes::from(hex(ONE_BYTE));
    let p = RtpPacket::parse(&bytes).unwrap();
    let payload = bytes.slice(p.payload_range());
    assert_eq!(&payload[..], p.payload());
    assert_eq!(payload.as_ptr(), p.payload().as_ptr());
}

#[test]
fn rfc6464_byte_encoding() {
    assert_eq!(AudioLevel::from_byte(0xaa), AudioLevel::new(true, 42));
    assert_eq!(AudioLevel::new(true, 42).to_byte(), 0xaa);
    assert_eq!(AudioLevel::new(false, 200), AudioLevel::SILENCE);
    assert_eq!(AudioLevel::SILENCE.to_byte(), 0x7f);
}

#[test]
fn malformed_inputs_give_typed_errors() {
    let cases: &[(&str, RtpError)] = &[
        ("", RtpError::TooShort { len: 0 }),
        ("80 00 0000 00000000 000000", RtpError::TooShort { len: 11 }),
        ("40 00 0000 00000000 00000000", RtpError::BadVersion(1)),
        ("00 00 0000 00000000 00000000", RtpError::BadVersion(0)),
        ("c0 00 0000 00000000 00000000", RtpError::BadVersion(3)),
        // CC=15 with no CSRCs present.
        ("8f 00 0000 00000000 00000000", RtpError::CsrcOverflow),
        (
            "82 00 0000 00000000 00000000 00000001",
            RtpError::CsrcOverflow,
        ),
        // X=1 but no room for the extension preamble.
        (
            "90 00 0000 00000000 00000000 bede",
            RtpError::ExtensionOverflow,
        ),
        // Extension length word lies: 0xffff words.
        (
            "90 00 0000 00000000 00000000 bedeffff 00000000",
            RtpError::ExtensionOverflow,
        ),
        (
            "90 00 0000 00000000 00000000 bede0002 00000000",
            RtpError::ExtensionOverflow,
        ),
        // Padding count larger than what follows the header.
        (
            "a0 00 0000 00000000 00000000 01ff",
            RtpError::BadPadding { count: 0xff },
        ),
        (
            "a0 00 0000 00000000 00000000 0003",
            RtpError::BadPadding { count: 3 },
        ),
        // Padding count of zero.
        (
            "a0 00 0000 00000000 00000000 0100",
            RtpError::BadPadding { count: 0 },
        ),
        // P bit on a packet with nothing after the header.
        (
            "a0 00 0000 00000000 00000001",
            RtpError::BadPadding { count: 1 },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(RtpPacket::parse(&hex(input)), Err(*want), "input {input}");
    }
}

#[test]
fn truncated_at_every_length() {
    let full = hex(ONE_BYTE);
    let csrc_end = 12 + 8;
    let ext_end = csrc_end + 8;
    for len in 0..full.len() {
        let got = RtpPacket::parse(&full[..len]);
        let want = if len < 12 {
            Err(RtpError::TooShort { len })
        } else if len < csrc_end {
            Err(RtpError::CsrcOverflow)
        } else if len < ext_end {
            Err(RtpError::ExtensionOverflow)
        } else {
            // Past the header a shorter packet is just a shorter payload.
            assert_eq!(got.unwrap().payload(), &full[ext_end..len]);
            continue;
        };
        assert_eq!(got, want, "length {len}");
    }
}

#[test]
fn error_kinds_are_distinct_labels() {
    let errors = [
        RtpError::TooShort { len: 0 },
        RtpError::BadVersion(0),
        RtpError::CsrcOverflow,
        RtpError::ExtensionOverflow,
        RtpError::BadPadding { count: 0 },
        RtpError::BadExtensionElement,
        RtpError::BadExtension { id: 0, len: 0 },
        RtpError::TooMany,
        RtpError::BadPayloadType(128),
        RtpError::BufferTooSmall { need: 1, have: 0 },
    ];
    let mut kinds: Vec<_> = errors.iter().map(RtpError::kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), errors.len());
    assert!(kinds.iter().all(|k| k.starts_with("rtp_")));
}
