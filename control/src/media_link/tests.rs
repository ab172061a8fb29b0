//! The engine side's rules, driven through [`Session`] with a fake backend:
//! epoch fencing (stale commands refused, `claim` the only way up) and
//! authentication (wrong key refused, loopback bypass only when configured).

use std::net::SocketAddr;

use ed25519_dalek::SigningKey;

use super::auth;
use super::frame;
use super::messages::{
    LinkCodec, LinkError, ParticipantParams, Reply, ReplyResult, Request, RequestFrame, StatsReply,
    PROTOCOL_VERSION,
};
use super::server::{After, Fence, MediaBackend, ServerConfig, Session, SessionCounters};
use crate::security::keys::parse_hex;

#[derive(Debug, Default)]
struct Fake {
    rooms: Vec<u32>,
}

impl MediaBackend for Fake {
    fn create_room(&mut self, room: u32) -> Result<(), LinkError> {
        if self.rooms.contains(&room) {
            return Err(LinkError::bad("room exists"));
        }
        self.rooms.push(room);
        Ok(())
    }
    fn destroy_room(&mut self, room: u32) -> Result<(), LinkError> {
        self.rooms.retain(|r| *r != room);
        Ok(())
    }
    fn add_participant(&mut self, p: &ParticipantParams) -> Result<Reply, LinkError> {
        Ok(Reply::Added {
            shard: 0,
            local_rtp: "127.0.0.1:20000".parse().unwrap(),
            local_rtcp: "127.0.0.1:20001".parse().unwrap(),
            ssrc_out: p.participant,
        })
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

struct Engine {
    fence: Fence,
    backend: Fake,
    counters: SessionCounters,
    config: ServerConfig,
}

impl Engine {
    fn new(config: ServerConfig) -> Self {
        Self {
            fence: Fence::default(),
            backend: Fake::default(),
            counters: SessionCounters::default(),
            config,
        }
    }
    fn session(&self, peer: &str) -> Session {
        Session::new(&self.config, peer.parse::<SocketAddr>().unwrap(), [7; 32])
    }
    fn ask(&mut self, s: &mut Session, request: Request) -> (Result<Reply, LinkError>, After) {
        let bytes = frame::encode(&RequestFrame { id: 5, request }).unwrap();
        let (reply, after) = s.handle(
            &bytes[4..],
            &mut self.fence,
            &mut self.backend,
            &mut self.counters,
        );
        assert_eq!(reply.id, 5);
        let r = match reply.result {
            ReplyResult::Ok(r) => Ok(r),
            ReplyResult::Err(e) => Err(e),
        };
        (r, after)
    }
    fn hello(&mut self, s: &mut Session) -> Reply {
        self.ask(
            s,
            Request::Hello {
                version: PROTOCOL_VERSION,
                controller: "test".into(),
            },
        )
        .0
        .unwrap()
    }
}

fn open() -> ServerConfig {
    ServerConfig {
        allowed_keys: Vec::new(),
        loopback_without_auth: true,
    }
}

#[test]
fn stale_epoch_is_refused_and_claim_raises() {
    let mut e = Engine::new(open());
    let mut old = e.session("127.0.0.1:4000");
    let mut new = e.session("127.0.0.1:4001");
    e.hello(&mut old);
    e.hello(&mut new);
    assert_eq!(
        e.ask(&mut old, Request::Claim { epoch: 1 }).0,
        Ok(Reply::Epoch { epoch: 1 })
    );
    assert_eq!(
        e.ask(&mut old, Request::CreateRoom { epoch: 1, room: 1 }).0,
        Ok(Reply::Done)
    );
    // A command above the epoch does not raise it: only claim does.
    assert_eq!(
        e.ask(&mut new, Request::CreateRoom { epoch: 2, room: 2 }).0,
        Err(LinkError::EpochNotClaimed { current: 1 })
    );
    assert_eq!(e.fence.current(), 1);
    assert_eq!(
        e.ask(&mut new, Request::Claim { epoch: 2 }).0,
        Ok(Reply::Epoch { epoch: 2 })
    );
    // The old primary is fenced on every mutating command and cannot claim back.
    for request in [
        Request::CreateRoom { epoch: 1, room: 3 },
        Request::DestroyRoom { epoch: 1, room: 1 },
        Request::RemoveParticipant {
            epoch: 1,
            participant: 1,
        },
        Request::SetMuted {
            epoch: 1,
            participant: 1,
            muted: true,
        },
        Request::SetBitrateCap {
            epoch: 1,
            participant: 1,
            bitrate_cap_bps: None,
        },
        Request::Claim { epoch: 1 },
    ] {
        let (r, after) = e.ask(&mut old, request);
        assert_eq!(r, Err(LinkError::StaleEpoch { current: 2 }));
        assert_eq!(after, After::Continue);
    }
    assert_eq!(
        e.backend.rooms,
        vec![1],
        "no stale command reached the engine"
    );
    assert_eq!(e.counters.fenced, 7);
    // Reads carry no epoch and still work for the old primary.
    assert_eq!(
        e.ask(&mut old, Request::Ping).0,
        Ok(Reply::Epoch { epoch: 2 })
    );
    // Re-claiming the current epoch is idempotent (a reconnecting primary).
    assert_eq!(
        e.ask(&mut new, Request::Claim { epoch: 2 }).0,
        Ok(Reply::Epoch { epoch: 2 })
    );
    assert_eq!(
        e.ask(&mut new, Request::CreateRoom { epoch: 2, room: 2 }).0,
        Ok(Reply::Done)
    );
}

fn signed_auth(key: &SigningKey, hello: &Reply) -> Request {
    let Reply::Hello { challenge_hex, .. } = hello else {
        panic!("hello reply expected, got {hello:?}");
    };
    let challenge = parse_hex::<32>(challenge_hex).unwrap();
    let (public_key_hex, signature_hex) = auth::respond(key, &challenge);
    Request::Auth {
        public_key_hex,
        signature_hex,
    }
}

#[test]
fn auth_accepts_only_allowed_keys() {
    let good = SigningKey::from_bytes(&[1; 32]);
    let bad = SigningKey::from_bytes(&[2; 32]);
    let config = ServerConfig {
        allowed_keys: vec![good.verifying_key()],
        loopback_without_auth: true,
    };
    let mut e = Engine::new(config);

    // Not loopback: auth is required before anything else.
    let mut s = e.session("192.0.2.10:5000");
    let hello = e.hello(&mut s);
    assert!(matches!(
        hello,
        Reply::Hello {
            auth_required: true,
            ..
        }
    ));
    let (r, after) = e.ask(&mut s, Request::Claim { epoch: 1 });
    assert!(matches!(r, Err(LinkError::Unauthenticated { .. })));
    assert_eq!(after, After::Close);

    // A key not in the list is refused.
    let mut s = e.session("192.0.2.10:5001");
    let hello = e.hello(&mut s);
    let (r, after) = e.ask(&mut s, signed_auth(&bad, &hello));
    assert!(
        matches!(r, Err(LinkError::Unauthenticated { ref reason }) if reason.contains("not allowed"))
    );
    assert_eq!(after, After::Close);

    // An allowed key signing another challenge is refused.
    let mut s = e.session("192.0.2.10:5002");
    let hello = e.hello(&mut s);
    let other_hello = Reply::Hello {
        version: 1,
        challenge_hex: "00".repeat(32),
        auth_required: true,
        epoch: 0,
    };
    let (r, _) = e.ask(&mut s, signed_auth(&good, &other_hello));
    assert!(
        matches!(r, Err(LinkError::Unauthenticated { ref reason }) if reason.contains("verify"))
    );
    drop(hello);

    // The allowed key signing this challenge gets in.
    let mut s = e.session("192.0.2.10:5003");
    let hello = e.hello(&mut s);
    assert_eq!(e.ask(&mut s, signed_auth(&good, &hello)).0, Ok(Reply::Done));
    assert_eq!(
        e.ask(&mut s, Request::Claim { epoch: 1 }).0,
        Ok(Reply::Epoch { epoch: 1 })
    );
    assert_eq!(e.counters.unauthenticated, 3);
}

#[test]
fn loopback_skips_auth_only_when_configured() {
    let mut e = Engine::new(open());
    let mut s = e.session("127.0.0.1:6000");
    assert!(matches!(
        e.hello(&mut s),
        Reply::Hello {
            auth_required: false,
            ..
        }
    ));
    assert!(e.ask(&mut s, Request::Ping).0.is_ok());

    let mut e = Engine::new(ServerConfig {
        allowed_keys: Vec::new(),
        loopback_without_auth: false,
    });
    let mut s = e.session("127.0.0.1:6001");
    assert!(matches!(
        e.hello(&mut s),
        Reply::Hello {
            auth_required: true,
            ..
        }
    ));
    assert!(matches!(
        e.ask(&mut s, Request::Ping).0,
        Err(LinkError::Unauthenticated { .. })
    ));
    // IPv6 loopback counts as loopback too.
    let mut e = Engine::new(open());
    let mut s = e.session("[::1]:6002");
    assert!(matches!(
        e.hello(&mut s),
        Reply::Hello {
            auth_required: false,
            ..
        }
    ));
}

#[test]
fn protocol_order_and_garbage() {
    let mut e = Engine::new(open());
    let mut s = e.session("127.0.0.1:7000");
    // Anything before hello closes the connection.
    let (r, after) = e.ask(&mut s, Request::Ping);
    assert!(matches!(r, Err(LinkError::BadRequest { .. })));
    assert_eq!(after, After::Close);
    // A wrong version is refused.
    let mut s = e.session("127.0.0.1:7001");
    let (r, _) = e.ask(
        &mut s,
        Request::Hello {
            version: 99,
            controller: String::new(),
        },
    );
    assert!(matches!(r, Err(LinkError::BadRequest { ref reason }) if reason.contains("99")));
    // Garbage bytes: a typed error with id 0, and the connection closes.
    let mut s = e.session("127.0.0.1:7002");
    let (reply, after) = s.handle(
        b"\x00garbage",
        &mut e.fence,
        &mut e.backend,
        &mut e.counters,
    );
    assert_eq!(reply.id, 0);
    assert!(matches!(
        reply.result,
        ReplyResult::Err(LinkError::BadRequest { .. })
    ));
    assert_eq!(after, After::Close);
    // An added participant answers with the engine's addresses.
    let mut s = e.session("127.0.0.1:7003");
    e.hello(&mut s);
    let params = ParticipantParams {
        room: 1,
        participant: 42,
        codec: LinkCodec::Pcmu,
        payload_type: 0,
        remote_rtp: "127.0.0.1:9".parse().unwrap(),
        remote_rtcp: None,
        ssrc: None,
        bitrate_cap_bps: None,
    };
    let (r, _) = e.ask(&mut s, Request::AddParticipant { epoch: 0, params });
    assert!(matches!(r, Ok(Reply::Added { ssrc_out: 42, .. })));
}
