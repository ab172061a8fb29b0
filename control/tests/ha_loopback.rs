//! Two HA nodes in one process over real UDP on loopback, each with a small
//! service loop standing in for `engine run` (the integration the lead will
//! do in control::service): a model media engine shared by both keeps the
//! highest epoch; the primary serves RAS on a floating 127.0.0.x address.
//! A guardian registers and is admitted through the floating address; the
//! call is replicated; the primary is killed (its threads and sockets
//! dropped); the standby promotes, takes the floating address and answers
//! the same guardian's keep-alive RRQ, BRQ and DRQ without re-registration.
//! Bounds are generous (seconds) so a busy 2-core machine cannot flake it;
//! the measured failover time is printed.

#![allow(clippy::disallowed_methods)] // A test of the IO shell uses the real clock.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::harness::{key, registry, terminal};
use control::client::GuardianClient;
use control::engine_api::StubEngine;
use control::gatekeeper::{Config, Gatekeeper, Output, UnixMillis};
use control::ha::floating::{self, FloatingConfig};
use control::ha::link::LinkOutput;
use control::ha::{
    spawn_peer_link, Action, ClaimResult, Epoch, HaEvent, LinkConfig, NodeConfig, NodeId,
};
use control::ras::RasMessage;

const CONF: [u8; 16] = [9; 16];

fn unix_now() -> UnixMillis {
    UnixMillis(
        u64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock")
                .as_millis(),
        )
        .expect("fits"),
    )
}

fn free_port(ip: [u8; 4]) -> SocketAddr {
    let s = UdpSocket::bind(SocketAddr::from((ip, 0))).expect("bind");
    s.local_addr().expect("addr")
}

/// A free port on 127.0.`subnet`.x for the floating address: x from the
/// process id, so test binaries run side by side do not collide.
fn floating_port(subnet: u8) -> SocketAddr {
    free_port([
        127,
        0,
        subnet,
        2 + u8::try_from(std::process::id() % 200).expect("fits"),
    ])
}

/// What a node's service loop shows the test.
#[derive(Default)]
struct Status {
    primary: AtomicBool,
    registrations: AtomicUsize,
    calls: AtomicUsize,
    events: Mutex<Vec<(Instant, HaEvent)>>,
    promoted_at: Mutex<Option<Instant>>,
}

struct NodeRun {
    stop: Arc<AtomicBool>,
    status: Arc<Status>,
    thread: Option<JoinHandle<()>>,
}

impl NodeRun {
    fn kill(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("service loop");
        }
    }
}

impl Drop for NodeRun {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A minimal service loop: acts on the link's actions, serves RAS on the
/// floating address while primary, syncs replication.
fn start(link: LinkConfig, floating: FloatingConfig, engine: Arc<Mutex<Epoch>>) -> NodeRun {
    let stop = Arc::new(AtomicBool::new(false));
    let status = Arc::new(Status::default());
    let (stop2, status2) = (Arc::clone(&stop), Arc::clone(&status));
    let thread = std::thread::spawn(move || {
        let mut link = spawn_peer_link(link).expect("peer link");
        let config = Config {
            ras_address: floating.address,
            ..Config::default()
        };
        let mut gk = Gatekeeper::new(
            config,
            Arc::new(registry(1, 2_500_000)),
            StubEngine::default(),
        );
        let mut ras: Option<UdpSocket> = None;
        let mut buf = [0u8; 4096];
        // Bounded: the test stops it; 120 s is a backstop.
        let deadline = Instant::now() + Duration::from_secs(120);
        while !stop2.load(Ordering::Relaxed) && Instant::now() < deadline {
            while let Some(o) = link.try_output() {
                match o {
                    LinkOutput::Action(Action::Claim { epoch }) => {
                        let mut e = engine.lock().expect("engine");
                        let r = if epoch >= *e {
                            *e = epoch;
                            ClaimResult::Accepted { epoch }
                        } else {
                            ClaimResult::Stale {
                                epoch,
                                engine_epoch: *e,
                            }
                        };
                        link.report_claim(r);
                    }
                    LinkOutput::Action(Action::Promote { .. }) => {
                        *status2.promoted_at.lock().expect("lock") = Some(Instant::now());
                    }
                    LinkOutput::Action(Action::TakeAddress) => {
                        let s = floating::take(&floating).expect("floating address");
                        s.set_read_timeout(Some(Duration::from_millis(5)))
                            .expect("timeout");
                        ras = Some(s);
                    }
                    LinkOutput::Action(Action::ReleaseAddress) => {
                        if let Some(s) = ras.take() {
                            floating::release(&floating, s).expect("release");
                        }
                    }
                    LinkOutput::Action(Action::Demote { .. }) => {}
                    LinkOutput::Event(e) => status2
                        .events
                        .lock()
                        .expect("lock")
                        .push((Instant::now(), e)),
                }
            }
            status2.primary.store(link.is_primary(), Ordering::Relaxed);
            match (&ras, link.is_primary()) {
                (Some(sock), true) => {
                    if let Ok((n, from)) = sock.recv_from(&mut buf) {
                        gk.handle_datagram(unix_now(), from, &buf[..n]);
                    }
                    gk.handle_timeout(unix_now());
                    // Replicate before replying (docs/ha.md).
                    link.sync(&mut gk, unix_now());
                    loop {
                        match gk.poll_output() {
                            Output::Transmit(t) => {
                                let _ = sock.send_to(&t.bytes, t.to);
                            }
                            Output::Event(_) => {}
                            Output::Timeout(_) => break,
                        }
                    }
                }
                _ => {
                    std::thread::sleep(Duration::from_millis(5));
                    link.sync(&mut gk, unix_now());
                }
            }
            status2
                .registrations
                .store(gk.registrations(), Ordering::Relaxed);
            status2.calls.store(gk.calls(), Ordering::Relaxed);
        }
        // Dropping `link` joins the peer-link thread; `ras` closes: killed.
    });
    NodeRun {
        stop,
        status,
        thread: Some(thread),
    }
}

fn wait_for(what: &str, bound: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
    start.elapsed()
}

/// Sends a request until a reply comes (the terminal's retransmission), at
/// most 40 × 250 ms.
fn exchange(sock: &UdpSocket, to: SocketAddr, mut make: impl FnMut() -> Vec<u8>) -> RasMessage {
    let mut buf = [0u8; 4096];
    for _ in 0..40 {
        sock.send_to(&make(), to).expect("send");
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            return control::ras::decode(&buf[..n]).expect("decode");
        }
    }
    panic!("no reply from {to}");
}

fn now_s() -> u32 {
    u32::try_from(unix_now().secs()).expect("fits")
}

#[test]
fn killed_primary_fails_over_to_the_standby_on_the_floating_address() {
    let key_bytes = b"loopback-ha-test-key-0123456789".to_vec();
    let (a, b) = (free_port([127, 0, 0, 1]), free_port([127, 0, 0, 1]));
    let float = FloatingConfig::loopback(floating_port(0));
    let engine = Arc::new(Mutex::new(Epoch(0)));
    let node = |id: u8| NodeConfig {
        node_id: NodeId(id),
        key: key_bytes.clone(),
        ..NodeConfig::default()
    };
    let mut n1 = start(
        LinkConfig::new(node(1), a, b),
        float.clone(),
        Arc::clone(&engine),
    );
    let n2 = start(
        LinkConfig::new(node(2), b, a),
        float.clone(),
        Arc::clone(&engine),
    );
    wait_for("a primary", Duration::from_secs(10), || {
        n1.status.primary.load(Ordering::Relaxed)
    });
    assert!(!n2.status.primary.load(Ordering::Relaxed));

    // A guardian registers and is admitted through the floating address.
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(250)))
        .expect("timeout");
    let me = sock.local_addr().expect("addr");
    let mut g = GuardianClient::new(&terminal(1), key(1), 1);
    let rrq = g.rrq(now_s(), me, 300).expect("sign");
    let r = exchange(&sock, float.address, || rrq.clone());
    assert!(matches!(r, RasMessage::RegistrationConfirm(_)), "{r:?}");
    if let RasMessage::RegistrationConfirm(c) = &r {
        g.set_endpoint_id(&control::ras::bmp_to_string(&c.endpoint_identifier));
    }
    let arq = g.arq(now_s(), CONF, [1; 16], 640).expect("sign");
    let r = exchange(&sock, float.address, || arq.clone());
    assert!(matches!(r, RasMessage::AdmissionConfirm(_)), "{r:?}");
    wait_for(
        "replication to the standby",
        Duration::from_secs(10),
        || {
            n2.status.registrations.load(Ordering::Relaxed) == 1
                && n2.status.calls.load(Ordering::Relaxed) == 1
        },
    );

    // Kill the primary.
    let killed_at = Instant::now();
    n1.kill();
    wait_for("promotion", Duration::from_secs(10), || {
        n2.status.primary.load(Ordering::Relaxed)
    });
    let promoted_at = n2
        .status
        .promoted_at
        .lock()
        .expect("lock")
        .expect("promoted");
    let took = promoted_at.duration_since(killed_at);
    println!(
        "failover: primary killed → standby promoted in {} ms",
        took.as_millis()
    );
    let failover = n2
        .status
        .events
        .lock()
        .expect("lock")
        .iter()
        .find_map(|(_, e)| match e {
            HaEvent::Failover { duration_ms, .. } => Some(*duration_ms),
            _ => None,
        })
        .expect("GATEKEEPER_FAILOVER event");
    println!("GATEKEEPER_FAILOVER duration_ms = {failover}");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // The same guardian, no re-registration: keep-alive, BRQ, DRQ.
    let r = exchange(&sock, float.address, || {
        g.keep_alive(now_s(), 300).expect("sign")
    });
    assert!(
        matches!(r, RasMessage::RegistrationConfirm(_)),
        "keep-alive: {r:?}"
    );
    let r = exchange(&sock, float.address, || {
        g.brq(now_s(), CONF, [1; 16], 1280).expect("sign")
    });
    assert!(matches!(r, RasMessage::BandwidthConfirm(_)), "BRQ: {r:?}");
    let r = exchange(&sock, float.address, || {
        g.drq(now_s(), CONF, [1; 16]).expect("sign")
    });
    assert!(matches!(r, RasMessage::DisengageConfirm(_)), "DRQ: {r:?}");
    wait_for("the call ended", Duration::from_secs(5), || {
        n2.status.calls.load(Ordering::Relaxed) == 0
    });
    assert!(engine.lock().expect("engine").term() >= 2);
}

/// Preempt over real UDP: the preferred node is killed, the other takes
/// over; the preferred node restarts, catches up through a snapshot and
/// takes the role back through a clean handover; the guardian's keep-alive
/// is then answered by it on the same floating address.
#[test]
fn preferred_node_returns_and_takes_the_role_back() {
    let key_bytes = b"loopback-ha-handover-key-0123456".to_vec();
    let (a, b) = (free_port([127, 0, 0, 1]), free_port([127, 0, 0, 1]));
    let float = FloatingConfig::loopback(floating_port(1));
    let engine = Arc::new(Mutex::new(Epoch(0)));
    let node = |id: u8| NodeConfig {
        node_id: NodeId(id),
        key: key_bytes.clone(),
        preferred: id == 1,
        preempt: id == 1,
        ..NodeConfig::default()
    };
    let mut n1 = start(
        LinkConfig::new(node(1), a, b),
        float.clone(),
        Arc::clone(&engine),
    );
    let n2 = start(
        LinkConfig::new(node(2), b, a),
        float.clone(),
        Arc::clone(&engine),
    );
    wait_for("node 1 primary", Duration::from_secs(10), || {
        n1.status.primary.load(Ordering::Relaxed)
    });
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(250)))
        .expect("timeout");
    let me = sock.local_addr().expect("addr");
    let mut g = GuardianClient::new(&terminal(1), key(1), 1);
    let rrq = g.rrq(now_s(), me, 300).expect("sign");
    match exchange(&sock, float.address, || rrq.clone()) {
        RasMessage::RegistrationConfirm(c) => {
            g.set_endpoint_id(&control::ras::bmp_to_string(&c.endpoint_identifier));
        }
        r => panic!("{r:?}"),
    }
    n1.kill();
    wait_for("node 2 primary", Duration::from_secs(10), || {
        n2.status.primary.load(Ordering::Relaxed)
    });
    let n1 = start(
        LinkConfig::new(node(1), a, b),
        float.clone(),
        Arc::clone(&engine),
    );
    let took = wait_for("handover to node 1", Duration::from_secs(20), || {
        n1.status.primary.load(Ordering::Relaxed) && !n2.status.primary.load(Ordering::Relaxed)
    });
    println!("restart → handover complete in {} ms", took.as_millis());
    assert_eq!(n1.status.registrations.load(Ordering::Relaxed), 1);
    let r = exchange(&sock, float.address, || {
        g.keep_alive(now_s(), 300).expect("sign")
    });
    assert!(
        matches!(r, RasMessage::RegistrationConfirm(_)),
        "keep-alive: {r:?}"
    );
    let events = n2.status.events.lock().expect("lock");
    assert!(events.iter().any(|(_, e)| matches!(
        e,
        HaEvent::Demoted {
            reason: "handover",
            ..
        }
    )));
    assert!(engine.lock().expect("engine").term() >= 3);
}
