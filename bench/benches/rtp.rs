//! `rtp/parse_header`: zero-copy parse of a typical audio packet (fixed
//! header, one-byte extension block with an RFC 6464 level, Opus payload).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use media_core::rtp::{self, AudioLevel, ExtensionForm, RtpHeaderFields, RtpPacket};

fn parse(c: &mut Criterion) {
    let fields = RtpHeaderFields {
        marker: false,
        payload_type: 111,
        sequence_number: 4242,
        timestamp: 960 * 1000,
        ssrc: 0xdead_beef,
    };
    let level = [AudioLevel::new(true, 30).to_byte()];
    let mut buf = [0u8; 200];
    let len = rtp::write_packet(
        &fields,
        &[],
        &[(1, &level)],
        ExtensionForm::OneByte,
        &[0x55; 80],
        0,
        &mut buf,
    )
    .expect("fits");
    let packet = &buf[..len];
    let mut group = c.benchmark_group("rtp");
    group.bench_function("parse_header", |b| {
        b.iter(|| {
            let p = RtpPacket::parse(black_box(packet)).expect("valid");
            (
                p.sequence_number(),
                p.timestamp(),
                p.ssrc(),
                p.payload().len(),
            )
        })
    });
    group.bench_function("parse_header_and_level", |b| {
        b.iter(|| {
            RtpPacket::parse(black_box(packet))
                .expect("valid")
                .audio_level(1)
        })
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
