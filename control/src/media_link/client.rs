//! The blocking controller side: one TCP connection to one media engine,
//! every wait bounded by a timeout. A broken connection is dropped and the
//! next call reconnects (once); a request is never resent after it may have
//! reached the engine, so a retry cannot apply a command twice.

use std::io::{BufReader, BufWriter};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use ed25519_dalek::SigningKey;

use super::auth;
use super::frame::{self, FrameError};
use super::messages::{
    Epoch, LinkError, ParticipantParams, Reply, ReplyResult, Request, RequestFrame, StatsReply,
    PROTOCOL_VERSION,
};
use crate::security::keys::parse_hex;

/// Default TCP connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default read/write timeout: above the engine's own 5 s shard timeout.
pub const IO_TIMEOUT: Duration = Duration::from_secs(7);

/// How to reach and authenticate to an engine.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The engine's control address.
    pub addr: SocketAddr,
    /// Name sent in `hello` (logged by the engine).
    pub controller: String,
    /// Key for `auth` when the engine asks for it.
    pub key: Option<SigningKey>,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Read and write timeout of every request.
    pub io_timeout: Duration,
}

impl ClientConfig {
    /// Defaults for `addr`.
    #[must_use]
    pub fn new(addr: SocketAddr, controller: &str) -> Self {
        Self {
            addr,
            controller: controller.to_owned(),
            key: None,
            connect_timeout: CONNECT_TIMEOUT,
            io_timeout: IO_TIMEOUT,
        }
    }
}

/// Client errors.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No TCP connection (refused, unreachable, timed out).
    #[error("cannot connect to the media engine's control port {addr}: {reason}")]
    Connect {
        /// Where.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// The connection broke or timed out mid-request.
    #[error("media link to {addr}: {reason}")]
    Io {
        /// Where.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// The engine refused the request.
    #[error("media engine {addr} refused {op}: {error}")]
    Refused {
        /// Where.
        addr: SocketAddr,
        /// The request's name.
        op: &'static str,
        /// The typed refusal.
        error: LinkError,
    },
    /// The engine answered something that does not fit the request.
    #[error("media link to {addr}: unexpected reply: {reason}")]
    Protocol {
        /// Where.
        addr: SocketAddr,
        /// What.
        reason: String,
    },
}

impl ClientError {
    /// The engine's typed refusal, when that is what happened.
    #[must_use]
    pub fn refusal(&self) -> Option<&LinkError> {
        match self {
            Self::Refused { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Conn {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
}

/// A connection to one media engine.
#[derive(Debug)]
pub struct MediaClient {
    config: ClientConfig,
    conn: Option<Conn>,
    next_id: u64,
    engine_epoch: Epoch,
    connects: u64,
}

impl MediaClient {
    /// Connects, says hello and authenticates when asked.
    pub fn connect(config: ClientConfig) -> Result<Self, ClientError> {
        let mut client = Self {
            config,
            conn: None,
            next_id: 1,
            engine_epoch: 0,
            connects: 0,
        };
        client.reconnect()?;
        Ok(client)
    }

    /// Resolves `host:port` (first address) for [`ClientConfig::new`].
    pub fn resolve(target: &str) -> Result<SocketAddr, String> {
        target
            .to_socket_addrs()
            .map_err(|e| format!("{target}: {e}"))?
            .next()
            .ok_or_else(|| format!("{target}: no address"))
    }

    /// The engine's epoch as of the last hello, claim, ping or stats.
    #[must_use]
    pub fn engine_epoch(&self) -> Epoch {
        self.engine_epoch
    }

    /// Connections made so far (1 + reconnects).
    #[must_use]
    pub fn connects(&self) -> u64 {
        self.connects
    }

    /// Whether a connection is up (as far as we know).
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    fn reconnect(&mut self) -> Result<(), ClientError> {
        let addr = self.config.addr;
        self.conn = None;
        let stream =
            TcpStream::connect_timeout(&addr, self.config.connect_timeout).map_err(|e| {
                ClientError::Connect {
                    addr,
                    reason: e.to_string(),
                }
            })?;
        let io = |e: std::io::Error| ClientError::Connect {
            addr,
            reason: e.to_string(),
        };
        stream
            .set_read_timeout(Some(self.config.io_timeout))
            .map_err(io)?;
        stream
            .set_write_timeout(Some(self.config.io_timeout))
            .map_err(io)?;
        let _ = stream.set_nodelay(true);
        let reader = BufReader::new(stream.try_clone().map_err(io)?);
        self.conn = Some(Conn {
            reader,
            writer: BufWriter::new(stream),
        });
        self.connects += 1;
        let hello = self.exchange(Request::Hello {
            version: PROTOCOL_VERSION,
            controller: self.config.controller.clone(),
        })?;
        let Reply::Hello {
            challenge_hex,
            auth_required,
            epoch,
            ..
        } = hello
        else {
            return Err(self.protocol("hello answered without a challenge"));
        };
        self.engine_epoch = epoch;
        if auth_required {
            let Some(key) = self.config.key.clone() else {
                self.conn = None;
                return Err(ClientError::Refused {
                    addr,
                    op: "hello",
                    error: LinkError::Unauthenticated {
                        reason: "the engine requires auth and no controller key was given".into(),
                    },
                });
            };
            let challenge =
                parse_hex::<32>(&challenge_hex).ok_or_else(|| self.protocol("bad challenge"))?;
            let (public_key_hex, signature_hex) = auth::respond(&key, &challenge);
            self.exchange(Request::Auth {
                public_key_hex,
                signature_hex,
            })?;
        }
        Ok(())
    }

    fn protocol(&mut self, reason: &str) -> ClientError {
        self.conn = None;
        ClientError::Protocol {
            addr: self.config.addr,
            reason: reason.to_owned(),
        }
    }

    /// One request/reply on the current connection; any I/O failure drops it.
    fn exchange(&mut self, request: Request) -> Result<Reply, ClientError> {
        let addr = self.config.addr;
        let op = request.name();
        let id = self.next_id;
        self.next_id += 1;
        let Some(conn) = self.conn.as_mut() else {
            return Err(ClientError::Io {
                addr,
                reason: "not connected".into(),
            });
        };
        let sent = frame::write_frame(&mut conn.writer, &RequestFrame { id, request })
            .and_then(|()| frame::read_frame(&mut conn.reader));
        let body = match sent {
            Ok(b) => b,
            Err(e) => {
                self.conn = None;
                let reason = match e {
                    FrameError::Io(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        format!("no reply within {:?}", self.config.io_timeout)
                    }
                    other => other.to_string(),
                };
                return Err(ClientError::Io { addr, reason });
            }
        };
        let reply = frame::decode_reply(&body).map_err(|e| self.protocol(&e.to_string()))?;
        // Id 0 is the engine refusing something it could not tie to a
        // request (too many controllers, unreadable frame): still a refusal.
        let unmatched_refusal = reply.id == 0 && matches!(reply.result, ReplyResult::Err(_));
        if reply.id != id && !unmatched_refusal {
            return Err(self.protocol(&format!("reply id {} for request {id}", reply.id)));
        }
        match reply.result {
            ReplyResult::Ok(r) => {
                match &r {
                    Reply::Epoch { epoch } => self.engine_epoch = *epoch,
                    Reply::Stats(s) => self.engine_epoch = s.epoch,
                    _ => {}
                }
                Ok(r)
            }
            ReplyResult::Err(error) => {
                if let LinkError::StaleEpoch { current } | LinkError::EpochNotClaimed { current } =
                    error
                {
                    self.engine_epoch = current;
                }
                if matches!(error, LinkError::Unauthenticated { .. }) {
                    self.conn = None;
                }
                Err(ClientError::Refused { addr, op, error })
            }
        }
    }

    /// Sends `request`, reconnecting first if the last connection broke.
    pub fn call(&mut self, request: Request) -> Result<Reply, ClientError> {
        if self.conn.is_none() {
            self.reconnect()?;
        }
        self.exchange(request)
    }

    /// `claim(epoch)`.
    pub fn claim(&mut self, epoch: Epoch) -> Result<Epoch, ClientError> {
        match self.call(Request::Claim { epoch })? {
            Reply::Epoch { epoch } => Ok(epoch),
            _ => Err(self.protocol("claim answered without an epoch")),
        }
    }

    /// `ping`: the engine's epoch.
    pub fn ping(&mut self) -> Result<Epoch, ClientError> {
        match self.call(Request::Ping)? {
            Reply::Epoch { epoch } => Ok(epoch),
            _ => Err(self.protocol("ping answered without an epoch")),
        }
    }

    /// `create_room`.
    pub fn create_room(&mut self, epoch: Epoch, room: u32) -> Result<(), ClientError> {
        self.call(Request::CreateRoom { epoch, room }).map(drop)
    }

    /// `destroy_room`.
    pub fn destroy_room(&mut self, epoch: Epoch, room: u32) -> Result<(), ClientError> {
        self.call(Request::DestroyRoom { epoch, room }).map(drop)
    }

    /// `add_participant`: `(local_rtp, local_rtcp, ssrc_out)`.
    pub fn add_participant(
        &mut self,
        epoch: Epoch,
        params: ParticipantParams,
    ) -> Result<(SocketAddr, SocketAddr, u32), ClientError> {
        match self.call(Request::AddParticipant { epoch, params })? {
            Reply::Added {
                local_rtp,
                local_rtcp,
                ssrc_out,
                ..
            } => Ok((local_rtp, local_rtcp, ssrc_out)),
            _ => Err(self.protocol("add_participant answered without addresses")),
        }
    }

    /// `remove_participant`.
    pub fn remove_participant(
        &mut self,
        epoch: Epoch,
        participant: u32,
    ) -> Result<(), ClientError> {
        self.call(Request::RemoveParticipant { epoch, participant })
            .map(drop)
    }

    /// `stats`.
    pub fn stats(&mut self, engine: bool) -> Result<StatsReply, ClientError> {
        match self.call(Request::Stats { engine })? {
            Reply::Stats(s) => Ok(s),
            _ => Err(self.protocol("stats answered without stats")),
        }
    }
}
