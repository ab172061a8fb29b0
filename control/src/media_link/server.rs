//! The engine side of the link, sans-IO: a [`Session`] per connection turns
//! request bytes into reply frames, checking authentication and the epoch
//! against a [`Fence`] shared by every connection, and applies commands to
//! a [`MediaBackend`] (the shard engine in `engine run`). The caller holds
//! the fence and the backend under one lock, so "check the epoch, apply"
//! is atomic across connections.

use std::net::SocketAddr;

use ed25519_dalek::VerifyingKey;

use super::auth;
use super::frame;
use super::messages::{
    Epoch, LinkError, ParticipantParams, Reply, ReplyFrame, ReplyResult, Request, StatsReply,
    PROTOCOL_VERSION,
};
use crate::security::keys::to_hex;

/// What a media engine does for the link.
pub trait MediaBackend {
    /// Creates a room.
    fn create_room(&mut self, room: u32) -> Result<(), LinkError>;
    /// Destroys a room and its participants.
    fn destroy_room(&mut self, room: u32) -> Result<(), LinkError>;
    /// Adds a participant; returns `Reply::Added`.
    fn add_participant(&mut self, params: &ParticipantParams) -> Result<Reply, LinkError>;
    /// Removes a participant.
    fn remove_participant(&mut self, participant: u32) -> Result<(), LinkError>;
    /// Mutes or unmutes.
    fn set_muted(&mut self, participant: u32, muted: bool) -> Result<(), LinkError>;
    /// Changes the inbound cap.
    fn set_bitrate_cap(&mut self, participant: u32, cap_bps: Option<u32>) -> Result<(), LinkError>;
    /// Statistics (the epoch is filled in by the session).
    fn stats(&mut self, engine: bool) -> Result<StatsReply, LinkError>;
}

/// The engine's epoch: the highest one claimed, for the life of the process.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    current: Epoch,
}

impl Fence {
    /// The current epoch.
    #[must_use]
    pub fn current(&self) -> Epoch {
        self.current
    }

    /// Raises the epoch to `epoch`; equal is accepted (a reconnecting
    /// controller), lower is `StaleEpoch`.
    pub fn claim(&mut self, epoch: Epoch) -> Result<Epoch, LinkError> {
        if epoch < self.current {
            return Err(LinkError::StaleEpoch {
                current: self.current,
            });
        }
        self.current = epoch;
        Ok(epoch)
    }

    /// Checks a mutating request's epoch: it must equal the current one.
    pub fn check(&self, epoch: Epoch) -> Result<(), LinkError> {
        match epoch.cmp(&self.current) {
            std::cmp::Ordering::Less => Err(LinkError::StaleEpoch {
                current: self.current,
            }),
            std::cmp::Ordering::Greater => Err(LinkError::EpochNotClaimed {
                current: self.current,
            }),
            std::cmp::Ordering::Equal => Ok(()),
        }
    }
}

/// Who may control the engine.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// Controller public keys accepted by `auth`.
    pub allowed_keys: Vec<VerifyingKey>,
    /// Loopback peers may skip `auth`.
    pub loopback_without_auth: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitHello,
    AwaitAuth,
    Ready,
}

/// Counters a server keeps across sessions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SessionCounters {
    /// Requests applied.
    pub applied: u64,
    /// Requests refused for a stale or unclaimed epoch.
    pub fenced: u64,
    /// Failed or missing authentication.
    pub unauthenticated: u64,
    /// Unreadable or out-of-order requests.
    pub bad: u64,
}

/// One connection's state.
#[derive(Debug)]
pub struct Session {
    state: State,
    challenge: [u8; 32],
    auth_required: bool,
    allowed: Vec<VerifyingKey>,
    controller: String,
}

/// What the shell does after sending a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Keep reading.
    Continue,
    /// Close the connection (authentication failed or protocol broken).
    Close,
}

impl Session {
    /// A new connection from `peer`; `challenge` comes from the OS random source.
    #[must_use]
    pub fn new(config: &ServerConfig, peer: SocketAddr, challenge: [u8; 32]) -> Self {
        let loopback = peer.ip().is_loopback();
        Self {
            state: State::AwaitHello,
            challenge,
            auth_required: !(loopback && config.loopback_without_auth),
            allowed: config.allowed_keys.clone(),
            controller: String::new(),
        }
    }

    /// The name the controller gave in `hello`.
    #[must_use]
    pub fn controller(&self) -> &str {
        &self.controller
    }

    /// Handles one frame body; returns the reply and whether to close.
    pub fn handle(
        &mut self,
        body: &[u8],
        fence: &mut Fence,
        backend: &mut dyn MediaBackend,
        counters: &mut SessionCounters,
    ) -> (ReplyFrame, After) {
        let frame = match frame::decode_request(body) {
            Ok(f) => f,
            Err(e) => {
                counters.bad += 1;
                return (
                    ReplyFrame {
                        id: 0,
                        result: ReplyResult::Err(e),
                    },
                    After::Close,
                );
            }
        };
        let (result, after) = self.apply(frame.request, fence, backend, counters);
        (
            ReplyFrame {
                id: frame.id,
                result: match result {
                    Ok(r) => ReplyResult::Ok(r),
                    Err(e) => ReplyResult::Err(e),
                },
            },
            after,
        )
    }

    fn apply(
        &mut self,
        request: Request,
        fence: &mut Fence,
        backend: &mut dyn MediaBackend,
        counters: &mut SessionCounters,
    ) -> (Result<Reply, LinkError>, After) {
        let unauth = |reason: &str, counters: &mut SessionCounters| {
            counters.unauthenticated += 1;
            (
                Err(LinkError::Unauthenticated {
                    reason: reason.to_owned(),
                }),
                After::Close,
            )
        };
        match (self.state, request) {
            (
                State::AwaitHello,
                Request::Hello {
                    version,
                    controller,
                },
            ) => {
                if version != PROTOCOL_VERSION {
                    counters.bad += 1;
                    return (
                        Err(LinkError::bad(format!(
                            "protocol version {version} not supported (engine speaks {PROTOCOL_VERSION})"
                        ))),
                        After::Close,
                    );
                }
                self.controller = controller.chars().take(128).collect();
                self.state = if self.auth_required {
                    State::AwaitAuth
                } else {
                    State::Ready
                };
                (
                    Ok(Reply::Hello {
                        version: PROTOCOL_VERSION,
                        challenge_hex: to_hex(&self.challenge),
                        auth_required: self.auth_required,
                        epoch: fence.current(),
                    }),
                    After::Continue,
                )
            }
            (State::AwaitHello, _) => {
                counters.bad += 1;
                (
                    Err(LinkError::bad("the first request must be hello")),
                    After::Close,
                )
            }
            (
                State::AwaitAuth,
                Request::Auth {
                    public_key_hex,
                    signature_hex,
                },
            ) => match auth::verify(
                &self.allowed,
                &self.challenge,
                &public_key_hex,
                &signature_hex,
            ) {
                Ok(()) => {
                    self.state = State::Ready;
                    (Ok(Reply::Done), After::Continue)
                }
                Err(reason) => unauth(&reason, counters),
            },
            (State::AwaitAuth, _) => unauth("auth required before any other request", counters),
            (State::Ready, Request::Hello { .. } | Request::Auth { .. }) => {
                counters.bad += 1;
                (
                    Err(LinkError::bad("hello/auth sent twice")),
                    After::Continue,
                )
            }
            (State::Ready, request) => {
                let result = Self::command(request, fence, backend);
                match &result {
                    Err(LinkError::StaleEpoch { .. } | LinkError::EpochNotClaimed { .. }) => {
                        counters.fenced += 1;
                    }
                    Ok(_) => counters.applied += 1,
                    Err(_) => {}
                }
                (result, After::Continue)
            }
        }
    }

    fn command(
        request: Request,
        fence: &mut Fence,
        backend: &mut dyn MediaBackend,
    ) -> Result<Reply, LinkError> {
        if let Some(epoch) = request.epoch() {
            fence.check(epoch)?;
        }
        let done = |r: Result<(), LinkError>| r.map(|()| Reply::Done);
        match request {
            Request::Claim { epoch } => fence.claim(epoch).map(|epoch| Reply::Epoch { epoch }),
            Request::Ping => Ok(Reply::Epoch {
                epoch: fence.current(),
            }),
            Request::Stats { engine } => {
                let mut stats = backend.stats(engine)?;
                stats.epoch = fence.current();
                Ok(Reply::Stats(stats))
            }
            Request::CreateRoom { room, .. } => done(backend.create_room(room)),
            Request::DestroyRoom { room, .. } => done(backend.destroy_room(room)),
            Request::AddParticipant { params, .. } => backend.add_participant(&params),
            Request::RemoveParticipant { participant, .. } => {
                done(backend.remove_participant(participant))
            }
            Request::SetMuted {
                participant, muted, ..
            } => done(backend.set_muted(participant, muted)),
            Request::SetBitrateCap {
                participant,
                bitrate_cap_bps,
                ..
            } => done(backend.set_bitrate_cap(participant, bitrate_cap_bps)),
            Request::Hello { .. } | Request::Auth { .. } => Err(LinkError::bad("out of order")),
        }
    }
}
