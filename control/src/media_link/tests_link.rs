//! The client and [`RemoteEngine`] against a real TCP engine on 127.0.0.1
//! (an in-test shell around [`Session`] and a recording backend): rooms are
//! created and destroyed per conference at the claimed epoch, `provision`
//! never waits on the network, a stuck engine fills the bounded queue and
//! answers `Busy`, and the client reconnects after the engine drops it.

// Real sockets and threads: these tests bound their waits with the clock.
#![allow(clippy::disallowed_methods)]

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;

use super::client::{ClientConfig, MediaClient};
use super::frame;
use super::messages::{LinkError, ParticipantParams, Reply, StatsReply};
use super::remote::{RemoteEngine, QUEUE_MAX, ROOM_BASE};
use super::server::{After, Fence, MediaBackend, ServerConfig, Session, SessionCounters};
use crate::engine_api::{EngineApi, EngineError, ProvisionRequest, ReleaseRequest, RoomId};

#[derive(Debug, Default)]
struct Log {
    fence: Fence,
    events: Vec<String>,
    counters: SessionCounters,
}

struct Backend<'a>(&'a mut Vec<String>);

impl MediaBackend for Backend<'_> {
    fn create_room(&mut self, room: u32) -> Result<(), LinkError> {
        self.0.push(format!("create {room}"));
        Ok(())
    }
    fn destroy_room(&mut self, room: u32) -> Result<(), LinkError> {
        self.0.push(format!("destroy {room}"));
        Ok(())
    }
    fn add_participant(&mut self, _: &ParticipantParams) -> Result<Reply, LinkError> {
        Err(LinkError::bad("not in this test"))
    }
    fn remove_participant(&mut self, _: u32) -> Result<(), LinkError> {
        Ok(())
    }
    fn set_muted(&mut self, _: u32, _: bool) -> Result<(), LinkError> {
        Ok(())
    }
    fn set_bitrate_cap(&mut self, _: u32, _: Option<u32>) -> Result<(), LinkError> {
        Ok(())
    }
    fn stats(&mut self, _: bool) -> Result<StatsReply, LinkError> {
        Ok(StatsReply::default())
    }
}

/// Serves `connections` connections one after the other, then stops; each
/// connection is closed after `requests_max` requests (to test reconnects).
fn engine(
    config: ServerConfig,
    connections: usize,
    requests_max: usize,
) -> (SocketAddr, Arc<Mutex<Log>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let shared = Arc::clone(&log);
    std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((stream, peer)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut session = Session::new(&config, peer, [9; 32]);
            let mut reader = stream.try_clone().unwrap();
            let mut writer = stream;
            for _ in 0..requests_max {
                let Ok(body) = frame::read_frame(&mut reader) else {
                    break;
                };
                let (reply, after) = {
                    let mut g = shared.lock().unwrap();
                    let l = &mut *g;
                    session.handle(
                        &body,
                        &mut l.fence,
                        &mut Backend(&mut l.events),
                        &mut l.counters,
                    )
                };
                if frame::write_frame(&mut writer, &reply).is_err() || after == After::Close {
                    break;
                }
            }
        }
    });
    (addr, log)
}

fn open() -> ServerConfig {
    ServerConfig {
        allowed_keys: Vec::new(),
        loopback_without_auth: true,
    }
}

fn request(conference: u8, room: Option<RoomId>) -> ProvisionRequest {
    ProvisionRequest {
        conference_id: [conference; 16],
        room,
        terminal_id: "if://guardian/t".into(),
        call_id: [1; 16],
        bandwidth_bps: 64_000,
        endpoint_ras: "127.0.0.1:1719".parse().unwrap(),
    }
}

fn wait_until(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn remote_engine_reserves_rooms_per_conference_at_its_epoch() {
    let (addr, log) = engine(open(), 1, usize::MAX);
    let mut remote = RemoteEngine::start(vec![ClientConfig::new(addr, "gk")], 5).unwrap();
    let room = remote.provision(&request(1, None)).unwrap();
    assert_eq!(room, RoomId(u64::from(ROOM_BASE)));
    assert_eq!(remote.provision(&request(1, Some(room))).unwrap(), room);
    let other = remote.provision(&request(2, None)).unwrap();
    assert_ne!(other, room);
    let release = |room| ReleaseRequest {
        room,
        terminal_id: "if://guardian/t".into(),
        call_id: [1; 16],
    };
    // The room is destroyed when its last participant is released.
    remote.release(&release(room));
    remote.release(&release(room));
    wait_until(|| remote.counters().applied == 3);
    let l = log.lock().unwrap();
    assert_eq!(l.fence.current(), 5, "claimed at start");
    assert_eq!(
        l.events,
        [
            format!("create {ROOM_BASE}"),
            format!("create {}", ROOM_BASE + 1),
            format!("destroy {ROOM_BASE}")
        ]
    );
    assert_eq!(remote.counters().busy, 0);
}

#[test]
fn a_stuck_engine_fills_the_queue_and_provision_never_waits() {
    // Accepts connections (the kernel's backlog) but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut remote = RemoteEngine::start(vec![ClientConfig::new(addr, "gk")], 1).unwrap();
    let started = Instant::now();
    let mut busy = 0;
    for i in 0..(QUEUE_MAX + 10) {
        match remote.provision(&request((i % 200) as u8, None)) {
            Ok(_) => {}
            Err(EngineError::Busy) => busy += 1,
            Err(e) => panic!("{e}"),
        }
    }
    // Generous bound: the point is that no call waited on the 7 s timeout.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(busy >= 10, "{busy}");
    assert_eq!(remote.counters().busy, busy);
    drop(remote);
    drop(listener);
}

#[test]
fn client_reconnects_and_authenticates_after_the_engine_drops_it() {
    let key = SigningKey::from_bytes(&[4; 32]);
    let config = ServerConfig {
        allowed_keys: vec![key.verifying_key()],
        loopback_without_auth: false,
    };
    // Each connection serves hello, auth and one request, then closes.
    let (addr, _log) = engine(config, 3, 3);
    let mut c = ClientConfig::new(addr, "test");
    c.key = Some(key);
    let mut client = MediaClient::connect(c).unwrap();
    assert_eq!(client.claim(2).unwrap(), 2);
    // The engine closed the connection: this call fails, and is not resent.
    assert!(client.ping().is_err());
    assert!(!client.is_connected());
    // The next call reconnects (hello + auth) first.
    assert_eq!(client.ping().unwrap(), 2);
    assert_eq!(client.connects(), 2);
}

#[test]
fn client_without_a_key_is_told_auth_is_required() {
    let config = ServerConfig {
        allowed_keys: Vec::new(),
        loopback_without_auth: false,
    };
    let (addr, _log) = engine(config, 1, 3);
    let err = MediaClient::connect(ClientConfig::new(addr, "test")).unwrap_err();
    assert!(
        matches!(err.refusal(), Some(LinkError::Unauthenticated { .. })),
        "{err}"
    );
}

#[test]
fn connecting_to_a_closed_port_fails_at_once() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let started = Instant::now();
    let err = MediaClient::connect(ClientConfig::new(addr, "test")).unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}
