//! Insert and pop never allocate after construction: a counting global
//! allocator watches this thread through a jittery, lossy, reordered
//! stream with duplicates, overflow, idle periods and a resync.

use std::time::{Duration, Instant};

use media_core::jitter::{JitterBuffer, JitterConfig, JitterPacket, Playout};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::count_allocations;

#[allow(clippy::disallowed_methods)] // test clock origin
fn origin() -> Instant {
    Instant::now()
}

#[test]
fn jitter_insert_and_pop_do_not_allocate() {
    let t0 = origin();
    let mut jb = JitterBuffer::new(JitterConfig::opus());
    let payload = [0x11u8; 160];
    let mut state: u64 = 9;
    let mut rand = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) as u32
    };
    let mut frames = 0u32;

    let ((), allocations) = count_allocations(|| {
        for k in 0..20_000u32 {
            // Every 2000 packets a new SSRC; every 500 a 1 s pause.
            let ssrc = 1 + k / 2_000;
            let pause_ms = u64::from(k / 500) * 1_000;
            let jitter_ms = u64::from(rand() % 60);
            let now = t0 + Duration::from_millis(u64::from(k) * 20 + pause_ms + jitter_ms);
            if rand() % 20 != 0 {
                let packet = JitterPacket {
                    ssrc,
                    seq: k as u16,
                    timestamp: k.wrapping_mul(960),
                    marker: k % 500 == 0,
                    level_dbov: Some(if rand() % 4 == 0 { 127 } else { 30 }),
                    payload: &payload[..(rand() % 160) as usize],
                };
                jb.insert(now, packet);
                if rand() % 10 == 0 {
                    jb.insert(now, packet);
                }
            }
            if matches!(jb.pop(now), Playout::Frame { .. }) {
                frames += 1;
            }
            let _ = jb.stats();
        }
    });

    assert_eq!(allocations, 0);
    assert!(frames > 10_000, "the stream did play: {frames}");
}
