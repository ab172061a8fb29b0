//! The receive ring inside a shard, over real loopback UDP: removal frees
//! the ports and turns queued completions stale, and running out of
//! provided buffers ends a multishot that the next drain re-arms.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::Arc;

use media_core::codec::{CodecConfig, OpusConfig};
use media_core::mixer::{MixerConfig, ParticipantConfig, ParticipantId};

use super::RingReceiver;
use crate::api::{ParticipantSpec, RoomId};
use crate::config::EngineConfig;
use crate::shard::bell::LocalBell;
use crate::shard::state::{MemberSockets, ShardState};

struct Fixture {
    st: ShardState,
    rx: RingReceiver,
    room: RoomId,
    guardian: UdpSocket,
}

/// A shard for 4 participants (so the ring has its minimum of 64 buffers)
/// with one room and one guardian socket.
fn fixture() -> Fixture {
    fixture_for(4)
}

fn fixture_for(participants: usize) -> Fixture {
    let mut config = EngineConfig::default();
    config.shards.rooms_max = 1;
    config.shards.room_participants_max = participants;
    let config = Arc::new(config);
    let mut st = ShardState::new(0, Arc::clone(&config), Rc::new(LocalBell::default()));
    let room = RoomId(1);
    st.create_room(room, MixerConfig::default()).expect("room");
    let rx = RingReceiver::new(&config).expect("receive ring");
    let guardian = UdpSocket::bind("127.0.0.1:0").expect("bind");
    Fixture {
        st,
        rx,
        room,
        guardian,
    }
}

/// Adds participant `id` on two fresh engine sockets; returns their addresses.
fn join(f: &mut Fixture, id: u32) -> (usize, SocketAddr, SocketAddr) {
    let rtp = crate::net::bind_udp("127.0.0.1:0".parse().unwrap()).expect("bind");
    let rtcp = crate::net::bind_udp("127.0.0.1:0".parse().unwrap()).expect("bind");
    let (rtp_addr, rtcp_addr) = (rtp.local_addr().unwrap(), rtcp.local_addr().unwrap());
    let opus = CodecConfig::Opus(OpusConfig::default());
    let id = ParticipantId(id);
    let spec = ParticipantSpec::new(id, opus, f.guardian.local_addr().unwrap());
    let pc = ParticipantConfig::new(id, opus, spec.payload_type, 0x5000_0000 + id.0);
    let sockets = MemberSockets {
        rtp_fd: rtp.as_raw_fd(),
        rtcp_fd: rtcp.as_raw_fd(),
    };
    let slot =
        f.st.add_participant(f.room, pc, spec, 0, sockets)
            .expect("add");
    f.rx.add(slot, id, rtp, rtcp).expect("ring add");
    (slot, rtp_addr, rtcp_addr)
}

#[test]
fn one_drain_reaps_every_busy_socket() {
    // The kernel runs about 20 sockets' deferred receive work per
    // io_uring_enter; a drain must go on until none is left, or packets of
    // the remaining sockets would wait a whole tick.
    let mut f = fixture_for(24);
    let targets: Vec<(SocketAddr, SocketAddr)> = (0..24)
        .map(|i| {
            let (_, rtp, rtcp) = join(&mut f, i);
            (rtp, rtcp)
        })
        .collect();
    for &(rtp, rtcp) in &targets {
        send(&f, rtp, 1);
        send(&f, rtcp, 1);
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    f.rx.drain(&mut f.st);
    let c = f.st.counters;
    assert_eq!(c.rx_datagrams, 48, "{c:?}");
    assert!(c.rx_enters >= 2, "more than one enter was needed: {c:?}");
}

#[test]
fn removal_frees_the_port_behind_other_sockets_pending_work() {
    // 30 other sockets with datagrams waiting put more deferred work in
    // front of the cancel than one enter runs (about 20 items). On Linux
    // 6.18 the cancelled receive lets go of its socket even then; the
    // cancel also enters until no work is left, in case a kernel does not.
    let mut f = fixture_for(32);
    let others: Vec<SocketAddr> = (0..30).map(|i| join(&mut f, i).1).collect();
    let (slot, rtp, rtcp) = join(&mut f, 99);
    for &to in &others {
        send(&f, to, 1);
    }
    send(&f, rtp, 1);
    f.st.remove_participant(f.room, ParticipantId(99))
        .expect("remove");
    f.rx.remove(slot, ParticipantId(99));
    UdpSocket::bind(rtp).expect("RTP port is free after removal");
    UdpSocket::bind(rtcp).expect("RTCP port is free after removal");
    f.rx.drain(&mut f.st);
    assert_eq!(f.st.counters.rx_datagrams, 30, "{:?}", f.st.counters);
}

fn send(f: &Fixture, to: SocketAddr, n: usize) {
    for i in 0..n {
        // Not valid RTP: the shard counts and refuses it, which is enough
        // to see it arrive.
        f.guardian
            .send_to(&[0x80, 0, 0, i as u8], to)
            .expect("send");
    }
}

#[test]
fn removal_frees_the_ports_and_queued_completions_turn_stale() {
    let mut f = fixture();
    let (slot, rtp, rtcp) = join(&mut f, 7);
    send(&f, rtp, 3);
    // Bounded wait for loopback delivery; normally the first drain has all.
    for _ in 0..50 {
        f.rx.drain(&mut f.st);
        if f.st.counters.rx_datagrams == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(f.st.counters.rx_datagrams, 3, "{:?}", f.st.counters);

    // Three more land in the completion queue, then the participant goes.
    send(&f, rtp, 3);
    std::thread::sleep(std::time::Duration::from_millis(10));
    f.rx.run_work();
    f.st.remove_participant(f.room, ParticipantId(7))
        .expect("remove");
    f.rx.remove(slot, ParticipantId(7));
    assert_eq!(f.rx.members(), 0);

    // The kernel dropped its socket references: both ports bind again.
    let again_rtp = UdpSocket::bind(rtp).expect("RTP port is free after removal");
    let again_rtcp = UdpSocket::bind(rtcp).expect("RTCP port is free after removal");
    drop((again_rtp, again_rtcp));

    // Its queued datagrams and the two final ECANCELED completions are
    // recognised as stale: nothing reaches the shard.
    f.rx.drain(&mut f.st);
    assert_eq!(f.st.counters.rx_datagrams, 3, "{:?}", f.st.counters);
    assert_eq!(f.st.counters.rx_stale, 3 + 2, "{:?}", f.st.counters);

    // The slot is reused under a new generation and receives normally.
    let (slot2, rtp2, _) = join(&mut f, 8);
    assert_eq!(slot2, slot);
    send(&f, rtp2, 2);
    for _ in 0..50 {
        f.rx.drain(&mut f.st);
        if f.st.counters.rx_datagrams == 5 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(f.st.counters.rx_datagrams, 5, "{:?}", f.st.counters);
    assert_eq!(f.st.counters.rx_errors, 0, "{:?}", f.st.counters);
}

#[test]
fn running_out_of_buffers_rearms_and_loses_nothing() {
    let mut f = fixture();
    // The kernel moves at most a few dozen datagrams per socket per drain,
    // so several busy sockets are needed to empty 64 buffers at once.
    let targets: Vec<SocketAddr> = (0..4).map(|i| join(&mut f, i).1).collect();
    let per_socket = f.rx.buffers() / 2;
    for &to in &targets {
        send(&f, to, per_socket);
    }
    let n = per_socket * targets.len();
    std::thread::sleep(std::time::Duration::from_millis(10));
    // The socket buffers keep what the ring had no buffer for; each drain
    // recycles the buffers and re-arms the ended multishots.
    for _ in 0..50 {
        f.rx.drain(&mut f.st);
        if f.st.counters.rx_datagrams as usize == n {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let c = f.st.counters;
    assert_eq!(c.rx_datagrams as usize, n, "{c:?}");
    assert!(c.rx_no_buffers >= 1, "the ring ran dry: {c:?}");
    assert!(c.rx_rearms >= c.rx_no_buffers, "and was re-armed: {c:?}");
    assert_eq!(c.rx_errors, 0, "{c:?}");
}
