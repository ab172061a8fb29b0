//! Proves the RTP writer: its bytes match hand-built RFC 3550/8285 layouts,
//! build-then-parse returns every field (CSRCs, both extension forms, RFC
//! 6464/6465 levels, padding), and impossible inputs are refused with errors.

use media_core::rtp::{
    header_len, write_header, write_packet, AudioLevel, ExtensionForm, MixerLevels, RtpError,
    RtpHeaderFields, RtpPacket,
};

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn fields() -> RtpHeaderFields {
    RtpHeaderFields {
        marker: true,
        payload_type: 96,
        sequence_number: 1,
        timestamp: 16,
        ssrc: 0x1122_3344,
    }
}

#[test]
fn writes_the_hand_built_one_byte_layout() {
    let level = [AudioLevel::new(true, 127).to_byte()];
    let mut out = [0u8; 64];
    let n = write_header(
        &fields(),
        &[1, 2],
        &[(1, &level)],
        ExtensionForm::OneByte,
        &mut out,
    )
    .unwrap();
    let want = hex("92 e0 0001 00000010 11223344 00000001 00000002 bede0001 10ff0000");
    assert_eq!(&out[..n], &want[..]);
}

#[test]
fn plain_header_is_twelve_bytes() {
    let f = RtpHeaderFields {
        marker: false,
        payload_type: 8,
        sequence_number: 8000,
        timestamp: 800,
        ssrc: 0xdead_beef,
    };
    let mut out = [0u8; 12];
    assert_eq!(header_len(0, &[], ExtensionForm::OneByte), Ok(12));
    let n = write_header(&f, &[], &[], ExtensionForm::OneByte, &mut out).unwrap();
    assert_eq!(&out[..n], &hex("80 08 1f40 00000320 deadbeef")[..]);
}

#[test]
fn round_trip_with_csrcs_extensions_and_padding() {
    let csrcs = [7, 8, 9];
    let exts: [(u8, &[u8]); 3] = [(1, &[0x85]), (3, &[1, 2, 3]), (14, &[0xee; 16])];
    let payload = [0x42u8; 20];
    let mut out = [0u8; 256];
    let n = write_packet(
        &fields(),
        &csrcs,
        &exts,
        ExtensionForm::OneByte,
        &payload,
        5,
        &mut out,
    )
    .unwrap();
    let p = RtpPacket::parse(&out[..n]).unwrap();
    assert!(p.marker() && p.has_padding() && p.has_extension());
    assert_eq!(p.payload_type(), 96);
    assert_eq!(p.sequence_number(), 1);
    assert_eq!(p.timestamp(), 16);
    assert_eq!(p.ssrc(), 0x1122_3344);
    assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs);
    let got: Vec<_> = p.extensions().map(Result::unwrap).collect();
    assert_eq!(got, exts);
    assert_eq!(p.audio_level(1), Some(AudioLevel::new(true, 5)));
    assert_eq!(p.payload(), &payload);
    assert_eq!(p.padding_len(), 5);
}

#[test]
fn round_trip_two_byte_form() {
    let long = [0x5a; 255];
    let exts: [(u8, &[u8]); 3] = [(200, &[]), (1, &[9]), (255, &long)];
    let mut out = [0u8; 512];
    let n = write_packet(
        &fields(),
        &[],
        &exts,
        ExtensionForm::TwoByte,
        b"opus",
        0,
        &mut out,
    )
    .unwrap();
    let p = RtpPacket::parse(&out[..n]).unwrap();
    assert_eq!(p.extension_block().unwrap().profile, 0x1000);
    let got: Vec<_> = p.extensions().map(Result::unwrap).collect();
    assert_eq!(got, exts);
    assert!(!p.has_padding());
    assert_eq!(p.payload(), b"opus");
}

#[test]
fn mixer_to_client_levels_round_trip() {
    let levels = MixerLevels::new(&[0, 50, 200]).unwrap();
    // 200 clamps to 127; the reserved top bit stays clear.
    assert_eq!(levels.as_bytes(), &[0, 50, 127]);
    let mut out = [0u8; 64];
    let n = write_header(
        &fields(),
        &[10, 20, 30],
        &[(2, levels.as_bytes())],
        ExtensionForm::OneByte,
        &mut out,
    )
    .unwrap();
    let p = RtpPacket::parse(&out[..n]).unwrap();
    let got: Vec<u8> = p.csrc_audio_levels(2).unwrap().collect();
    assert_eq!(got, vec![0, 50, 127]);
    assert!(MixerLevels::new(&[0; 16]).is_err());
    assert_eq!(MixerLevels::new(&[]).unwrap().as_bytes(), &[] as &[u8]);
}

#[test]
fn refuses_what_cannot_be_written() {
    let mut out = [0u8; 128];
    let form = ExtensionForm::OneByte;
    let bad_pt = RtpHeaderFields {
        payload_type: 128,
        ..fields()
    };
    assert_eq!(
        write_header(&bad_pt, &[], &[], form, &mut out),
        Err(RtpError::BadPayloadType(128))
    );
    assert_eq!(
        write_header(&fields(), &[0; 16], &[], form, &mut out),
        Err(RtpError::TooMany)
    );
    let cases: [(u8, &[u8], ExtensionForm); 5] = [
        (15, &[1], ExtensionForm::OneByte),
        (0, &[1], ExtensionForm::OneByte),
        (1, &[], ExtensionForm::OneByte),
        (1, &[0; 17], ExtensionForm::OneByte),
        (0, &[1], ExtensionForm::TwoByte),
    ];
    for (id, data, form) in cases {
        assert_eq!(
            write_header(&fields(), &[], &[(id, data)], form, &mut out),
            Err(RtpError::BadExtension {
                id,
                len: data.len()
            })
        );
    }
    let long = [0u8; 256];
    assert_eq!(
        write_header(
            &fields(),
            &[],
            &[(1, &long)],
            ExtensionForm::TwoByte,
            &mut out
        ),
        Err(RtpError::BadExtension { id: 1, len: 256 })
    );
    assert_eq!(
        write_header(&fields(), &[1], &[], form, &mut out[..15]),
        Err(RtpError::BufferTooSmall { need: 16, have: 15 })
    );
    assert_eq!(
        write_packet(&fields(), &[], &[], form, &[0; 10], 4, &mut out[..25]),
        Err(RtpError::BufferTooSmall { need: 26, have: 25 })
    );
}
