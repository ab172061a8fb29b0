//! `mixer/opus_room_12_k3` and `mixer/g711_room_12`: one 20 ms tick of a
//! 12-guardian room with 3 talkers (real speech), including RTP parsing and
//! jitter-buffer insertion of the 12 incoming packets, decode of the mixed
//! speakers, N−1 mixing, the shared listener encode and the speakers' encodes.

use std::time::Instant;

use bench::room_fixture::RoomFixture;
use criterion::{criterion_group, criterion_main, Criterion};
use media_core::codec::{CodecConfig, OpusConfig};

#[allow(clippy::disallowed_methods)] // benchmark clock origin
fn origin() -> Instant {
    Instant::now()
}

fn mixer(c: &mut Criterion) {
    let mut group = c.benchmark_group("mixer");
    let mut opus = RoomFixture::new(12, 3, CodecConfig::Opus(OpusConfig::default()), origin());
    for _ in 0..50 {
        opus.step();
    }
    group.bench_function("opus_room_12_k3", |b| b.iter(|| opus.step()));

    let mut g711 = RoomFixture::new(12, 3, CodecConfig::Pcmu, origin());
    for _ in 0..50 {
        g711.step();
    }
    group.bench_function("g711_room_12", |b| b.iter(|| g711.step()));
    group.finish();
}

criterion_group!(benches, mixer);
criterion_main!(benches);
