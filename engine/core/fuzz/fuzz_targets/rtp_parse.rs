//! Fuzzes RTP parsing: the packet, its CSRCs, extension elements and audio
//! levels; a rebuild of every packet that parsed must parse to the same
//! fields; and the input's u16 pairs drive the A.1 sequence tracker.

#![no_main]

use libfuzzer_sys::fuzz_target;
use media_core::rtp::{write_packet, ExtensionForm, RtpHeaderFields, RtpPacket, SeqTracker};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = RtpPacket::parse(data) {
        check_packet(data, &p);
    }
    let mut seq = SeqTracker::new();
    for pair in data.chunks_exact(2) {
        let outcome = seq.update(u16::from_be_bytes([pair[0], pair[1]]));
        assert_eq!(outcome.is_counted(), outcome.extended_seq().is_some());
        let _ = seq.lost();
        let _ = seq.report_fraction_lost();
    }
});

fn check_packet(data: &[u8], p: &RtpPacket<'_>) {
    let range = p.payload_range();
    assert!(p.header_len() <= range.start && range.end <= data.len());
    assert_eq!(&data[range], p.payload());
    let csrcs: Vec<u32> = p.csrcs().collect();
    assert_eq!(csrcs.len(), usize::from(p.csrc_count()));
    for id in 0..=15 {
        let _ = p.audio_level(id);
        let _ = p.csrc_audio_levels(id).map(Iterator::count);
    }
    let mut elements = Vec::new();
    for element in p.extensions() {
        match element {
            Ok(e) => elements.push(e),
            Err(_) => return,
        }
    }
    // Rebuild what parsed and check it reads back the same.
    let form = match p.extension_block() {
        None => ExtensionForm::OneByte,
        Some(block) => match block.form() {
            Some(form) => form,
            None => return,
        },
    };
    let fields = RtpHeaderFields {
        marker: p.marker(),
        payload_type: p.payload_type(),
        sequence_number: p.sequence_number(),
        timestamp: p.timestamp(),
        ssrc: p.ssrc(),
    };
    let padding = u8::try_from(p.padding_len()).expect("padding count is one byte");
    let mut out = vec![0u8; data.len() + 64];
    let n = write_packet(
        &fields,
        &csrcs,
        &elements,
        form,
        p.payload(),
        padding,
        &mut out,
    )
    .expect("parsed elements fit their form");
    let q = RtpPacket::parse(&out[..n]).expect("rebuilt packet parses");
    assert_eq!(q.marker(), fields.marker);
    assert_eq!(q.payload_type(), fields.payload_type);
    assert_eq!(q.sequence_number(), fields.sequence_number);
    assert_eq!(q.timestamp(), fields.timestamp);
    assert_eq!(q.ssrc(), fields.ssrc);
    assert!(q.csrcs().eq(csrcs.iter().copied()));
    assert!(q
        .extensions()
        .map(Result::unwrap)
        .eq(elements.iter().copied()));
    assert_eq!(q.payload(), p.payload());
}
