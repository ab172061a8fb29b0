//! Gatekeeper failover end to end with real processes on loopback: one
//! `engine run --role media` (a static room of two participants whose RTP
//! the test sends and receives) and two `engine run --role gatekeeper --ha
//! …` nodes sharing a floating RAS address on 127.0.2.x. Twelve guardians
//! register and are admitted through the floating address; the primary is
//! killed with SIGKILL; the standby answers the same guardians' keep-alive
//! RRQ, BRQ and DRQ without re-registration and a new ARQ; the media engine
//! kept mixing without a gap; the old primary restarts as a standby. Then a
//! partition: the primary is paused (SIGSTOP) past the detection time, the
//! standby takes the engines with a higher epoch, and the resumed node is
//! fenced and steps down — the engine's epoch never goes back, so only one
//! node's commands are ever accepted; the same with both nodes running and
//! only their peer link cut (a relay). With `--ha-preempt` the restarted
//! preferred node takes the role back. (Prometheus: ha_prometheus.rs;
//! `engine bench --failover`: ha_bench.rs.)
//! Bounds are generous (seconds); the measured figures are printed.

mod ha_support;
mod metrics_support;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use control::ras::RasMessage;
use ha_support::{
    ask_until, engine_epoch, epoch_in, floating_ip, keep_alive_confirmed, metrics_addr,
    spawn_media, start_media_only, Pair, Proc,
};
use metrics_support::{now_s, registry, Guardian};

const GUARDIANS: usize = 12;
const CONF: [u8; 16] = [0x4a; 16];

/// One participant of the static room: sends a 20 ms RTP packet each tick
/// and records the sequence numbers of the mix it receives.
struct Talker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<(Instant, u16)>>>,
}

impl Talker {
    fn start(socket: UdpSocket, engine: SocketAddr, ssrc: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            socket
                .set_read_timeout(Some(Duration::from_millis(2)))
                .unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 2048];
            let start = Instant::now();
            let mut seq: u16 = 0;
            // Bounded: the test stops it; 120 s is a backstop.
            while !s.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(120) {
                if start.elapsed() >= Duration::from_millis(20) * u32::from(seq) {
                    let mut p = vec![0x80, 0];
                    p.extend_from_slice(&seq.to_be_bytes());
                    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
                    p.extend_from_slice(&ssrc.to_be_bytes());
                    p.extend_from_slice(&[0xff; 160]);
                    let _ = socket.send_to(&p, engine);
                    seq = seq.wrapping_add(1);
                }
                if let Ok((n, _)) = socket.recv_from(&mut buf) {
                    if n >= 12 {
                        got.push((Instant::now(), u16::from_be_bytes([buf[2], buf[3]])));
                    }
                }
            }
            got
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Vec<(Instant, u16)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// Mix packets missing (sequence gaps) among those received between `from`
/// and `to`, and how many were received.
fn lost_between(got: &[(Instant, u16)], from: Instant, to: Instant) -> (u64, usize) {
    let window: Vec<u16> = got
        .iter()
        .filter(|(t, _)| *t >= from && *t <= to)
        .map(|(_, s)| *s)
        .collect();
    let lost = window
        .windows(2)
        .map(|w| u64::from(w[1].wrapping_sub(w[0]).saturating_sub(1)))
        .sum();
    (lost, window.len())
}

fn media_config(dir: &Path, a: SocketAddr, b: SocketAddr) -> String {
    let path = dir.join("engine.toml");
    std::fs::write(
        &path,
        format!(
            "[shards]\ncount = 1\npin = false\nio_memory_kib = 512\n\
             [media]\nport_first = 37200\nports_per_shard = 40\n\
             [[room]]\nid = 1\n\
             [[room.participant]]\nid = 1\ncodec = \"pcmu\"\nremote_rtp = \"{a}\"\nssrc = 1111\n\
             [[room.participant]]\nid = 2\ncodec = \"pcmu\"\nremote_rtp = \"{b}\"\nssrc = 2222\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn killed_primary_fails_over_and_a_paused_one_is_fenced() {
    let dir = tempfile::tempdir().unwrap();
    let (registry_path, keys) = registry(dir.path(), GUARDIANS + 1);
    let (sock_a, sock_b) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    let config = media_config(
        dir.path(),
        sock_a.local_addr().unwrap(),
        sock_b.local_addr().unwrap(),
    );
    let media = spawn_media(&config);
    let rtp_a = media.addr_after("send RTP to ", Duration::from_secs(20));
    let rtp_b = media.addr_after("send RTP to ", Duration::from_secs(10));
    let control = media.addr_after("media-link: control on ", Duration::from_secs(10));

    let floating = floating_ip(2);
    let pair = Pair::new(dir.path(), &registry_path, control, floating);
    // B starts once A is primary, so the cold start does not depend on
    // which process a busy machine schedules first.
    let gk_a = Proc::start("gk-a", &pair.args[0]);
    let epoch_a = epoch_in(&gk_a.wait_for("ha: primary at epoch", Duration::from_secs(20)));
    let gk_b = Proc::start("gk-b", &pair.args[1]);
    let m_b = metrics_addr(&gk_b);
    gk_a.wait_for("serving RAS on", Duration::from_secs(10));
    assert_eq!(engine_epoch(control), epoch_a);

    // Twelve guardians register and join one conference.
    let mut gs: Vec<Guardian> = (0..GUARDIANS)
        .map(|i| {
            let mut g = Guardian::new(&keys[i], floating, 10 + u8::try_from(i).unwrap());
            g.register();
            let (r, _) = g
                .admit(CONF, [u8::try_from(i).unwrap() + 1; 16])
                .expect("ACF");
            assert!(matches!(r, RasMessage::AdmissionConfirm(_)), "{}", r.name());
            g.socket
                .set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            g
        })
        .collect();
    let talker_a = Talker::start(sock_a, rtp_a, 1111);
    let talker_b = Talker::start(sock_b, rtp_b, 2222);
    // The standby has every registration and call (replicated), and the
    // mix has settled.
    metrics_support::scrape_until(m_b, "replicated registrations and calls", |t| {
        t.contains(&format!("h323_gatekeeper_registrations {GUARDIANS}\n"))
            && t.contains(&format!("h323_gatekeeper_active_sessions {GUARDIANS}\n"))
    });
    std::thread::sleep(Duration::from_secs(1));

    // kill -9 the primary.
    let killed = Instant::now();
    let mut gk_a = gk_a;
    gk_a.child.kill().unwrap();
    gk_a.child.wait().unwrap();
    let answered = keep_alive_confirmed(&mut gs[0], Duration::from_secs(15));
    let epoch_b = epoch_in(&gk_b.wait_for("ha: primary at epoch", Duration::from_secs(5)));
    assert!(epoch_b > epoch_a);
    println!(
        "failover: kill -9 → keep-alive RCF from the new primary in {} ms",
        answered.duration_since(killed).as_millis()
    );
    // Existing calls continue without re-registration; a new ARQ works.
    for (i, g) in gs.iter_mut().enumerate().skip(1) {
        let call = [u8::try_from(i).unwrap() + 1; 16];
        keep_alive_confirmed(g, Duration::from_secs(5));
        if i == 1 {
            let (r, _) = ask_until(g, Duration::from_secs(5), |g| {
                g.client.brq(now_s(), CONF, call, 1280).unwrap()
            });
            assert!(
                matches!(r, RasMessage::BandwidthConfirm(_)),
                "BRQ: {}",
                r.name()
            );
        }
        if i == 2 {
            let (r, _) = ask_until(g, Duration::from_secs(5), |g| {
                g.client.drq(now_s(), CONF, call).unwrap()
            });
            assert!(
                matches!(r, RasMessage::DisengageConfirm(_)),
                "DRQ: {}",
                r.name()
            );
            let (r, _) = ask_until(g, Duration::from_secs(5), |g| {
                g.client.arq(now_s(), CONF, [0xee; 16], 640).unwrap()
            });
            assert!(
                matches!(r, RasMessage::AdmissionConfirm(_)),
                "new ARQ: {}",
                r.name()
            );
        }
    }
    assert_eq!(engine_epoch(control), epoch_b);

    // The old primary returns: a standby, no claim (the engine keeps B's epoch).
    let gk_a = Proc::start("gk-a2", &pair.args[0]);
    assert!(
        !gk_a.sees("ha: primary at epoch", Duration::from_secs(3)),
        "the returning node took the role without preempt"
    );
    assert_eq!(engine_epoch(control), epoch_b);

    // Media through the failover: no gap in either participant's mix.
    let after = Instant::now();
    let (got_a, got_b) = (talker_a.finish(), talker_b.finish());
    for (name, got) in [("a", &got_a), ("b", &got_b)] {
        let (lost, n) = lost_between(got, killed - Duration::from_secs(1), after);
        println!(
            "media: participant {name}: {n} mix packets from 1 s before the kill, {lost} missing"
        );
        assert!(n > 50, "{name}: the mix stopped ({n} packets)");
        assert_eq!(lost, 0, "{name}: mix packets lost across the failover");
    }

    // Partition: pause B past the detection time; A takes the engines.
    gk_b.signal("-STOP");
    let epoch_a2 = epoch_in(&gk_a.wait_for("ha: primary at epoch", Duration::from_secs(10)));
    assert!(epoch_a2 > epoch_b);
    assert_eq!(engine_epoch(control), epoch_a2);
    gk_b.signal("-CONT");
    // B learns it was fenced and steps down; the engine keeps A's epoch.
    gk_b.wait_for("ha: standby (was primary", Duration::from_secs(10));
    gk_a.wait_for("serving RAS on", Duration::from_secs(10));
    assert_eq!(engine_epoch(control), epoch_a2);
    keep_alive_confirmed(&mut gs[0], Duration::from_secs(10));
    // Still one primary a while later: B does not claim back.
    assert!(!gk_b.sees("ha: primary at epoch", Duration::from_secs(2)));
    assert_eq!(engine_epoch(control), epoch_a2);
    media.signal("-TERM");
}

/// `--ha-preempt`: the preferred node, killed and restarted, catches up
/// and takes the role back through a clean handover; the other node steps
/// down ("handover") and the guardian's keep-alive is answered on the same
/// floating address without re-registration.
#[test]
fn preferred_node_with_preempt_takes_the_role_back() {
    let dir = tempfile::tempdir().unwrap();
    let (registry_path, keys) = registry(dir.path(), 1);
    let (media, control) = start_media_only(dir.path(), 37400);
    let floating = floating_ip(5);
    let mut pair = Pair::new(dir.path(), &registry_path, control, floating);
    pair.args[0].push("--ha-preempt".into());
    let mut gk_a = Proc::start("gk-a", &pair.args[0]);
    gk_a.wait_for("ha: serving RAS on", Duration::from_secs(20));
    let gk_b = Proc::start("gk-b", &pair.args[1]);
    let mut g = Guardian::new(&keys[0], floating, 60);
    g.register();
    g.socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();

    gk_a.child.kill().unwrap();
    gk_a.child.wait().unwrap();
    let epoch_b = epoch_in(&gk_b.wait_for("ha: primary at epoch", Duration::from_secs(10)));
    let gk_a = Proc::start("gk-a2", &pair.args[0]);
    let epoch_a = epoch_in(&gk_a.wait_for("ha: primary at epoch", Duration::from_secs(20)));
    assert!(epoch_a > epoch_b);
    let demoted = gk_b.wait_for("GATEKEEPER_DEMOTED", Duration::from_secs(10));
    assert!(demoted.contains("handover"), "{demoted}");
    gk_a.wait_for("ha: serving RAS on", Duration::from_secs(10));
    assert_eq!(engine_epoch(control), epoch_a);
    keep_alive_confirmed(&mut g, Duration::from_secs(10));
    media.signal("-TERM");
}

/// A partition between the two gatekeepers only (their peer link cut by a
/// relay; both still reach the media engine): the standby claims a higher
/// epoch, the engine fences the old primary, which steps down on its next
/// re-claim ("engine-stale-epoch") — so at any instant only one epoch is
/// accepted. The engine's epoch, sampled every 20 ms, never goes back.
/// After the link heals within the fenced hold-off, the old primary stays
/// standby and the guardian is served on the floating address.
#[test]
fn a_partition_between_the_gatekeepers_never_gives_two_mutators() {
    let dir = tempfile::tempdir().unwrap();
    let (registry_path, keys) = registry(dir.path(), 1);
    let (media, control) = start_media_only(dir.path(), 37500);
    let floating = floating_ip(6);
    let (pair, relay) = Pair::relayed(dir.path(), &registry_path, control, floating);
    let gk_a = Proc::start("gk-a", &pair.args[0]);
    let epoch_a = epoch_in(&gk_a.wait_for("ha: primary at epoch", Duration::from_secs(20)));
    gk_a.wait_for("ha: serving RAS on", Duration::from_secs(10));
    let gk_b = Proc::start("gk-b", &pair.args[1]);
    let mut g = Guardian::new(&keys[0], floating, 61);
    g.register();
    g.socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    // B has the registration before the cut.
    let m_b = metrics_addr(&gk_b);
    metrics_support::scrape_until(m_b, "the replicated registration", |t| {
        t.contains("h323_gatekeeper_registrations 1\n")
    });

    // Sample the engine's epoch throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    let sampler = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut c = control::media_link::MediaClient::connect(
            control::media_link::ClientConfig::new(control, "sampler"),
        )
        .unwrap();
        let started = Instant::now();
        while !s.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
            if let Ok(e) = c.ping() {
                seen.push(e);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        seen
    });

    relay.set_open(false);
    let epoch_b = epoch_in(&gk_b.wait_for("ha: primary at epoch", Duration::from_secs(10)));
    assert!(epoch_b > epoch_a);
    let demoted = gk_a.wait_for("GATEKEEPER_DEMOTED", Duration::from_secs(10));
    assert!(demoted.contains("engine-stale-epoch"), "{demoted}");
    gk_b.wait_for("ha: serving RAS on", Duration::from_secs(10));
    relay.set_open(true);

    keep_alive_confirmed(&mut g, Duration::from_secs(10));
    // Healed: A hears B as primary and stays standby.
    assert!(!gk_a.sees("ha: primary at epoch", Duration::from_secs(2)));
    stop.store(true, Ordering::Relaxed);
    let seen = sampler.join().unwrap();
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "the engine's epoch went back: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&epoch_b), "{seen:?}");
    assert_eq!(engine_epoch(control), epoch_b);
    media.signal("-TERM");
}
