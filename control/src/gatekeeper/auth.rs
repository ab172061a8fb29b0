//! The authenticity gate (token, signature, timestamp, replay) and the cache
//! that answers byte-identical retransmissions without a second admission.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use super::{Counters, UnixMillis};
use crate::ras::RasMessage;
use crate::registry::Registry;
use crate::security::{token, ReplayError, ReplayWindow, TokenError};

/// Why a request failed authenticity (recorded in the event; the reply says
/// only `securityDenial`, so it is no oracle for attackers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AuthFailure {
    Token(TokenError),
    UnknownGuardian,
    Replay(ReplayError),
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token(e) => write!(f, "token: {e}"),
            Self::UnknownGuardian => write!(f, "unknown guardian"),
            Self::Replay(e) => write!(f, "replay: {e}"),
        }
    }
}

/// Checks a signed request. On success returns the guardian's terminal_id.
/// The order (parse, key lookup, time window, signature, then replay record)
/// makes forged or stale tokens cost no memory.
pub(super) fn authenticate(
    registry: &Registry,
    replay: &mut ReplayWindow,
    counters: &mut Counters,
    now: UnixMillis,
    datagram: &[u8],
    message: &RasMessage,
    preverified: bool,
) -> Result<String, (Option<String>, AuthFailure)> {
    let fail = |counters: &mut Counters, id: Option<String>, f: AuthFailure| {
        counters.auth_failures += 1;
        match &f {
            AuthFailure::Replay(ReplayError::Replayed) => counters.replays += 1,
            AuthFailure::Replay(ReplayError::Stale { .. }) => counters.stale += 1,
            _ => {}
        }
        Err((id, f))
    };
    let signed = match token::extract(message) {
        Ok(t) => t,
        Err(e) => return fail(counters, None, AuthFailure::Token(e)),
    };
    let id = signed.claims.general_id.clone();
    let Some(guardian) = registry.get(&id) else {
        return fail(counters, Some(id), AuthFailure::UnknownGuardian);
    };
    if let Err(e) = replay.check_time(signed.claims.timestamp_s, now.secs()) {
        return fail(counters, Some(id), AuthFailure::Replay(e));
    }
    // A batch verification (see `batch_item`) already covered these bytes
    // with this registry's key.
    let verified = if preverified {
        Ok(())
    } else {
        token::verify(datagram, &signed, &guardian.public_key)
    };
    if let Err(e) = verified {
        return fail(counters, Some(id), AuthFailure::Token(e));
    }
    if let Err(e) = replay.check_and_record(
        &id,
        signed.claims.random,
        signed.claims.timestamp_s,
        now.secs(),
    ) {
        return fail(counters, Some(id), AuthFailure::Replay(e));
    }
    Ok(id)
}

/// The signature check of a signed request, for batch verification: `None`
/// when the request would fail before the signature (no token, unknown
/// guardian, stale) or is a cached retransmission; those take the normal path.
pub(super) fn batch_item(
    registry: &Registry,
    replay: &ReplayWindow,
    cache: &RetransmitCache,
    now: UnixMillis,
    from: SocketAddr,
    datagram: &[u8],
    message: &RasMessage,
) -> Option<token::BatchItem> {
    if !matches!(message.kind_index(), 3 | 6 | 9 | 12 | 15) {
        return None;
    }
    if cache
        .lookup(from, message.request_seq_num()?, datagram)
        .is_some()
    {
        return None;
    }
    let signed = token::extract(message).ok()?;
    let guardian = registry.get(&signed.claims.general_id)?;
    replay
        .check_time(signed.claims.timestamp_s, now.secs())
        .ok()?;
    let message = token::signed_bytes(datagram, &signed).ok()?;
    Some(token::BatchItem {
        message,
        signature: signed.signature,
        key: guardian.public_key,
    })
}

#[derive(Debug)]
struct Cached {
    request: Vec<u8>,
    reply: Vec<u8>,
    at: UnixMillis,
}

/// Replies to signed requests, keyed by source and `requestSeqNum`, so that a
/// byte-identical retransmission gets the same answer and never a second
/// admission. Bounded: the oldest entries are evicted first.
#[derive(Debug)]
pub(super) struct RetransmitCache {
    entries: HashMap<(SocketAddr, u16), Cached>,
    order: VecDeque<(SocketAddr, u16, UnixMillis)>,
    entries_max: usize,
    keep_s: u32,
}

impl RetransmitCache {
    pub fn new(entries_max: usize, keep_s: u32) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            entries_max,
            keep_s,
        }
    }

    /// The cached reply for a byte-identical retransmission.
    pub fn lookup(&self, from: SocketAddr, seq: u16, datagram: &[u8]) -> Option<&[u8]> {
        self.entries
            .get(&(from, seq))
            .filter(|c| c.request == datagram)
            .map(|c| c.reply.as_slice())
    }

    pub fn insert(
        &mut self,
        now: UnixMillis,
        from: SocketAddr,
        seq: u16,
        request: &[u8],
        reply: Vec<u8>,
    ) {
        if self.entries_max == 0 {
            return;
        }
        while self.entries.len() >= self.entries_max {
            match self.order.pop_front() {
                Some((addr, s, at)) => {
                    if self.entries.get(&(addr, s)).is_some_and(|c| c.at == at) {
                        self.entries.remove(&(addr, s));
                    }
                }
                None => break,
            }
        }
        self.order.push_back((from, seq, now));
        self.entries.insert(
            (from, seq),
            Cached {
                request: request.to_vec(),
                reply,
                at: now,
            },
        );
    }

    /// When the oldest entry is due to be forgotten.
    pub fn next_expiry(&self) -> Option<UnixMillis> {
        self.order
            .front()
            .map(|(_, _, at)| at.plus_secs(u64::from(self.keep_s)))
    }

    pub fn purge(&mut self, now: UnixMillis) {
        while let Some(&(addr, s, at)) = self.order.front() {
            if at.plus_secs(u64::from(self.keep_s)) > now {
                break;
            }
            self.order.pop_front();
            if self.entries.get(&(addr, s)).is_some_and(|c| c.at == at) {
                self.entries.remove(&(addr, s));
            }
        }
    }
}
