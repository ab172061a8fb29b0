//! Peer-link datagrams: a versioned header, a body, and an HMAC-SHA-256 tag
//! over everything before it.
//!
//! ```text
//! "IFHA" | version u8 = 1 | kind u8 | body … | tag [32]
//! heartbeat body (44 octets): node u8 | role u8 | flags u8 | 0 u8 |
//!     epoch u64 | position epoch u64 | position seq u64 | incarnation u64 |
//!     sent_ms u64
//! replication body: node u8 | JSON of a `replicate::Update`
//! ```
//! Integers are big-endian. A datagram that fails any check is dropped and
//! counted by the caller; nothing here panics on outside bytes.

use super::hmac::{self, TAG_BYTES};
use super::{Epoch, NodeId, Position, Role};

const MAGIC: &[u8; 4] = b"IFHA";
/// Wire version; a peer with another version is refused, not guessed at.
pub const VERSION: u8 = 1;
const KIND_HEARTBEAT: u8 = 1;
const KIND_REPLICATION: u8 = 2;
const HEADER_BYTES: usize = 6;
const HEARTBEAT_BODY_BYTES: usize = 44;
/// Largest datagram the link sends or accepts.
pub const DATAGRAM_BYTES_MAX: usize = 60_000;

const FLAG_POSITION: u8 = 1;
const FLAG_HANDOVER_REQUEST: u8 = 2;
const FLAG_HANDOVER_GRANT: u8 = 4;

/// One heartbeat: who the sender is and what it believes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// The sender.
    pub node: NodeId,
    /// The sender's role.
    pub role: Role,
    /// The highest epoch the sender has seen or holds.
    pub epoch: Epoch,
    /// Replication: a primary's stream head, a standby's applied position.
    pub position: Option<Position>,
    /// A standby with `preempt` asks the primary to hand the role over.
    pub handover_request: bool,
    /// The primary has stopped mutating and yields to the requester.
    pub handover_grant: bool,
    /// Which run of the sender process (its start time, UNIX ms): a
    /// restarted peer has a higher one.
    pub incarnation: u64,
    /// The sender's clock, milliseconds: with `incarnation`, drops reordered
    /// and replayed heartbeats.
    pub sent_ms: u64,
}

/// A verified datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// A heartbeat.
    Heartbeat(Heartbeat),
    /// A replication payload (JSON) from `node`.
    Replication {
        /// The sender.
        node: NodeId,
        /// The JSON body.
        json: &'a [u8],
    },
}

/// Why a datagram was dropped.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// Too short, too long or not ours.
    #[error("not a peer-link datagram")]
    Malformed,
    /// Another wire version.
    #[error("peer-link version {0}, this node speaks {VERSION}")]
    Version(u8),
    /// The tag does not verify (wrong key or altered).
    #[error("peer-link tag does not verify")]
    BadTag,
}

fn seal(key: &[u8], mut bytes: Vec<u8>) -> Vec<u8> {
    let t = hmac::tag(key, &bytes);
    bytes.extend_from_slice(&t);
    bytes
}

fn header(kind: u8) -> Vec<u8> {
    let mut b = Vec::with_capacity(HEADER_BYTES + HEARTBEAT_BODY_BYTES + TAG_BYTES);
    b.extend_from_slice(MAGIC);
    b.push(VERSION);
    b.push(kind);
    b
}

/// Encodes and authenticates a heartbeat.
#[must_use]
pub fn heartbeat(key: &[u8], hb: &Heartbeat) -> Vec<u8> {
    let mut b = header(KIND_HEARTBEAT);
    let mut flags = 0;
    if hb.position.is_some() {
        flags |= FLAG_POSITION;
    }
    if hb.handover_request {
        flags |= FLAG_HANDOVER_REQUEST;
    }
    if hb.handover_grant {
        flags |= FLAG_HANDOVER_GRANT;
    }
    b.extend_from_slice(&[hb.node.0, hb.role.code(), flags, 0]);
    b.extend_from_slice(&hb.epoch.0.to_be_bytes());
    let p = hb.position.unwrap_or_default();
    b.extend_from_slice(&p.epoch.0.to_be_bytes());
    b.extend_from_slice(&p.seq.to_be_bytes());
    b.extend_from_slice(&hb.incarnation.to_be_bytes());
    b.extend_from_slice(&hb.sent_ms.to_be_bytes());
    seal(key, b)
}

/// Encodes and authenticates a replication payload.
#[must_use]
pub fn replication(key: &[u8], node: NodeId, json: &[u8]) -> Vec<u8> {
    let mut b = header(KIND_REPLICATION);
    b.push(node.0);
    b.extend_from_slice(json);
    seal(key, b)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(a)
}

/// Verifies and decodes a datagram.
pub fn decode<'a>(key: &[u8], bytes: &'a [u8]) -> Result<Message<'a>, WireError> {
    if bytes.len() < HEADER_BYTES + 1 + TAG_BYTES
        || bytes.len() > DATAGRAM_BYTES_MAX
        || &bytes[..4] != MAGIC
    {
        return Err(WireError::Malformed);
    }
    if bytes[4] != VERSION {
        return Err(WireError::Version(bytes[4]));
    }
    let (signed, tag) = bytes.split_at(bytes.len() - TAG_BYTES);
    if !hmac::verify(key, signed, tag) {
        return Err(WireError::BadTag);
    }
    let body = &signed[HEADER_BYTES..];
    match signed[5] {
        KIND_HEARTBEAT if body.len() == HEARTBEAT_BODY_BYTES => {
            let role = Role::from_code(body[1]).ok_or(WireError::Malformed)?;
            let flags = body[2];
            let position = (flags & FLAG_POSITION != 0).then(|| Position {
                epoch: Epoch(u64_at(body, 12)),
                seq: u64_at(body, 20),
            });
            Ok(Message::Heartbeat(Heartbeat {
                node: NodeId(body[0]),
                role,
                epoch: Epoch(u64_at(body, 4)),
                position,
                handover_request: flags & FLAG_HANDOVER_REQUEST != 0,
                handover_grant: flags & FLAG_HANDOVER_GRANT != 0,
                incarnation: u64_at(body, 28),
                sent_ms: u64_at(body, 36),
            }))
        }
        KIND_REPLICATION => Ok(Message::Replication {
            node: NodeId(body[0]),
            json: &body[1..],
        }),
        _ => Err(WireError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_round_trips_and_rejects_tampering() {
        let hb = Heartbeat {
            node: NodeId(2),
            role: Role::Primary,
            epoch: Epoch(0x0302),
            position: Some(Position {
                epoch: Epoch(0x0302),
                seq: 77,
            }),
            handover_request: false,
            handover_grant: true,
            incarnation: 1_700_000_000_000,
            sent_ms: 123_456,
        };
        let bytes = heartbeat(b"key", &hb);
        assert_eq!(bytes.len(), 6 + 44 + 32);
        assert_eq!(decode(b"key", &bytes), Ok(Message::Heartbeat(hb)));
        assert_eq!(decode(b"other", &bytes), Err(WireError::BadTag));
        let mut bad = bytes.clone();
        bad[10] ^= 1;
        assert_eq!(decode(b"key", &bad), Err(WireError::BadTag));
        let mut v2 = bytes.clone();
        v2[4] = 2;
        assert_eq!(decode(b"key", &v2), Err(WireError::Version(2)));
        assert_eq!(decode(b"key", &bytes[..20]), Err(WireError::Malformed));
        assert_eq!(decode(b"key", b""), Err(WireError::Malformed));
        let r = replication(b"key", NodeId(1), b"{}");
        assert_eq!(
            decode(b"key", &r),
            Ok(Message::Replication {
                node: NodeId(1),
                json: b"{}"
            })
        );
    }
}
