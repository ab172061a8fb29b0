//! `jitter/insert_pop`: one packet in and one frame out of a jitter buffer in
//! steady state (the per-participant cost of every 20 ms tick).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use media_core::jitter::{JitterBuffer, JitterConfig, JitterPacket};

#[allow(clippy::disallowed_methods)] // benchmark clock origin
fn origin() -> Instant {
    Instant::now()
}

fn insert_pop(c: &mut Criterion) {
    let t0 = origin();
    let mut jb = JitterBuffer::new(JitterConfig::opus());
    let payload = [0x42u8; 80];
    let frame = Duration::from_millis(20);
    let mut k: u32 = 0;
    let mut step = |jb: &mut JitterBuffer| {
        let now = t0 + frame * k;
        jb.insert(
            now,
            JitterPacket {
                ssrc: 1,
                seq: k as u16,
                timestamp: k.wrapping_mul(960),
                marker: false,
                level_dbov: Some(30),
                payload: &payload,
            },
        );
        let out = matches!(
            jb.pop(now + Duration::from_millis(1)),
            media_core::jitter::Playout::Frame { .. }
        );
        k += 1;
        out
    };
    for _ in 0..200 {
        step(&mut jb);
    }
    let mut group = c.benchmark_group("jitter");
    group.bench_function("insert_pop", |b| b.iter(|| black_box(step(&mut jb))));
    group.finish();
}

criterion_group!(benches, insert_pop);
criterion_main!(benches);
