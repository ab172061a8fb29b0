//! Proves the shard's per-packet path (`on_datagram`: source and SSRC
//! validation, bitrate cap, RTCP stats, `Room::handle_rtp`) and its tick
//! (`run_tick`: mix, gather-send over real UDP, latency histogram) allocate
//! nothing after warm-up: a counting global allocator counts this thread's
//! allocations while a room of 12 Opus guardians runs 100 ticks.
//!
//! The second test puts the receive ring in the window too: the guardians
//! send real datagrams to the engine's sockets, the ring's drain (kernel
//! receive into provided buffers, completion walk, `on_datagram`) and the
//! tick run, and nothing on this thread allocates. glommio's per-socket
//! receive (`recv_from`, `[media] receive = "per-socket"`) stays outside:
//! it allocates an io_uring source per operation (see docs/engine.md).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use media_core::codec::{CodecConfig, OpusConfig};
use media_core::mixer::{MixerConfig, ParticipantConfig, ParticipantId};

use super::bell::LocalBell;
use super::rx::RingReceiver;
use super::state::{MemberSockets, PortKind, ShardState};
use crate::api::{ParticipantSpec, RoomId};
use crate::config::EngineConfig;
use crate::sim::{SignalSource, SimSender, ToneSource};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: delegates to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn packet_path_and_tick_do_not_allocate_after_warm_up() {
    let config = Arc::new(EngineConfig::default());
    let mut shard = ShardState::new(0, Arc::clone(&config), Rc::new(LocalBell::default()));
    let room = RoomId(1);
    shard
        .create_room(room, MixerConfig::default())
        .expect("room");

    let opus = CodecConfig::Opus(OpusConfig::default());
    // The guardians' sockets: they send (from a fixed address) and receive the mix.
    let guardians: Vec<UdpSocket> = (0..12)
        .map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let engine_sockets: Vec<UdpSocket> = (0..12)
        .map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let mut room_index = 0;
    for (i, (g, e)) in guardians.iter().zip(&engine_sockets).enumerate() {
        g.set_nonblocking(true).expect("nonblocking");
        let id = ParticipantId(i as u32);
        let remote = g.local_addr().expect("addr");
        let mut spec = ParticipantSpec::new(id, opus, remote);
        spec.ssrc = Some(0x1000_0000 + i as u32);
        let pc = ParticipantConfig::new(id, opus, spec.payload_type, 0x5000_0000 + i as u32);
        let sockets = MemberSockets {
            rtp_fd: e.as_raw_fd(),
            rtcp_fd: e.as_raw_fd(),
        };
        room_index = shard
            .add_participant(room, pc, spec, 64_000, sockets)
            .expect("add");
    }

    // Pre-encode every packet so the guardians' encoders are outside the window.
    let ticks = 200usize;
    let mut packets: Vec<Vec<(usize, Vec<u8>)>> = Vec::with_capacity(ticks);
    let mut senders: Vec<SimSender> = (0..12)
        .map(|i| {
            let tone = SignalSource::Tone(ToneSource::new(430.0 + 230.0 * f64::from(i), 5000));
            SimSender::new(opus, tone, 0x1000_0000 + i).expect("sender")
        })
        .collect();
    for _ in 0..ticks {
        let mut tick = Vec::with_capacity(12);
        for (i, s) in senders.iter_mut().enumerate() {
            let mut buf = vec![0u8; 1500];
            let n = s.next_packet(&mut buf).expect("packet");
            buf.truncate(n);
            tick.push((i, buf));
        }
        packets.push(tick);
    }
    let from: Vec<SocketAddr> = guardians
        .iter()
        .map(|g| g.local_addr().expect("addr"))
        .collect();
    let spoofer: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let mut drain = [0u8; 1500];

    let t0 = Instant::now();
    let mut run = |range: std::ops::Range<usize>, shard: &mut ShardState| {
        for k in range {
            let now = t0 + Duration::from_millis(20) * k as u32;
            for (i, p) in &packets[k] {
                shard.on_datagram(
                    now,
                    room_index,
                    ParticipantId(*i as u32),
                    PortKind::Rtp,
                    from[*i],
                    p,
                );
            }
            // A spoofed datagram each tick: dropped and counted, no allocation.
            shard.on_datagram(
                now,
                room_index,
                ParticipantId(0),
                PortKind::Rtp,
                spoofer,
                &packets[k][0].1,
            );
            shard.run_tick(now + Duration::from_millis(20));
            for g in &guardians {
                while g.recv(&mut drain).is_ok() {}
            }
        }
    };
    run(0..100, &mut shard);
    let before = allocations();
    assert!(before > 0, "the counting allocator sees this thread");
    run(100..ticks, &mut shard);
    let allocated = allocations() - before;
    assert!(
        shard.counters.tx_packets >= 12 * 90,
        "mix was sent: {:?}",
        shard.counters
    );
    assert_eq!(shard.counters.spoofed_dropped, ticks as u64);
    assert_eq!(
        allocated, 0,
        "allocations on the packet path and tick after warm-up"
    );
}

#[test]
fn ring_receive_drain_and_tick_do_not_allocate_after_warm_up() {
    let config = Arc::new(EngineConfig::default());
    let mut shard = ShardState::new(0, Arc::clone(&config), Rc::new(LocalBell::default()));
    let mut ring = RingReceiver::new(&config).expect("receive ring");
    let room = RoomId(1);
    shard
        .create_room(room, MixerConfig::default())
        .expect("room");
    let opus = CodecConfig::Opus(OpusConfig::default());
    let guardians: Vec<UdpSocket> = (0..12)
        .map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let mut targets = Vec::new();
    for (i, g) in guardians.iter().enumerate() {
        g.set_nonblocking(true).expect("nonblocking");
        let rtp = crate::net::bind_udp("127.0.0.1:0".parse().expect("addr")).expect("bind");
        let rtcp = crate::net::bind_udp("127.0.0.1:0".parse().expect("addr")).expect("bind");
        targets.push(rtp.local_addr().expect("addr"));
        let id = ParticipantId(i as u32);
        let mut spec = ParticipantSpec::new(id, opus, g.local_addr().expect("addr"));
        spec.ssrc = Some(0x1000_0000 + i as u32);
        let pc = ParticipantConfig::new(id, opus, spec.payload_type, 0x5000_0000 + i as u32);
        let sockets = MemberSockets {
            rtp_fd: rtp.as_raw_fd(),
            rtcp_fd: rtcp.as_raw_fd(),
        };
        let room_index = shard
            // No bitrate cap: arrival times are real and this loop runs
            // faster than 50 packets/s.
            .add_participant(room, pc, spec, 0, sockets)
            .expect("add");
        ring.add(room_index, id, rtp, rtcp).expect("ring add");
    }

    let ticks = 200usize;
    let mut senders: Vec<SimSender> = (0..12)
        .map(|i| {
            let tone = SignalSource::Tone(ToneSource::new(430.0 + 230.0 * f64::from(i), 5000));
            SimSender::new(opus, tone, 0x1000_0000 + i).expect("sender")
        })
        .collect();
    let packets: Vec<Vec<Vec<u8>>> = (0..ticks)
        .map(|_| {
            senders
                .iter_mut()
                .map(|s| {
                    let mut buf = vec![0u8; 1500];
                    let n = s.next_packet(&mut buf).expect("packet");
                    buf.truncate(n);
                    buf
                })
                .collect()
        })
        .collect();
    let spoofer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut drain = [0u8; 1500];

    let t0 = Instant::now();
    let mut run = |range: std::ops::Range<usize>, shard: &mut ShardState| {
        for k in range {
            for (i, p) in packets[k].iter().enumerate() {
                guardians[i].send_to(p, targets[i]).expect("send");
            }
            // A spoofed datagram each tick: dropped and counted.
            spoofer.send_to(&packets[k][0], targets[0]).expect("send");
            // Loopback delivery is done when send returns; the drain runs
            // the kernel's receive work and walks the completions.
            ring.drain(shard);
            shard.run_tick(t0 + Duration::from_millis(20) * (k as u32 + 1));
            for g in &guardians {
                while g.recv(&mut drain).is_ok() {}
            }
        }
    };
    run(0..100, &mut shard);
    let before = allocations();
    let received_before = shard.counters.rx_datagrams;
    run(100..ticks, &mut shard);
    let allocated = allocations() - before;
    let c = shard.counters;
    assert_eq!(
        c.rx_datagrams - received_before,
        13 * 100,
        "every datagram came through the ring: {c:?}"
    );
    assert!(c.tx_packets >= 12 * 90, "mix was sent: {c:?}");
    assert_eq!(c.spoofed_dropped, ticks as u64, "{c:?}");
    assert_eq!(
        allocated, 0,
        "allocations in ring drain, packet path and tick after warm-up"
    );
}
