//! State export and import for a standby gatekeeper (docs/ha.md).
//!
//! Every change to registrations and calls is numbered in a bounded journal
//! that names *what* changed (a registration or a call), not how: exporting
//! reads the entry's current value, so a record is always consistent with the
//! tables and applying records in order is idempotent. Conference membership
//! and per-guardian bandwidth are derived from the calls and rebuilt from
//! them. Registration TTLs travel as the time remaining and are re-based on
//! the receiver's clock.

use std::collections::VecDeque;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::state::{Call, CallKey, Registration, State};
use super::{Gatekeeper, UnixMillis};
use crate::engine_api::{EngineApi, RoomId};
use crate::ha::{Epoch, Position};

/// A registration as replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRecord {
    /// The endpointIdentifier.
    pub endpoint_id: String,
    /// The guardian.
    pub terminal_id: String,
    /// Its RAS address.
    pub from: SocketAddr,
    /// Time left before it expires, ms (re-based on the receiver's clock).
    pub ttl_remaining_ms: u64,
}

/// A call as replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The endpointIdentifier.
    pub endpoint_id: String,
    /// The call's identifier.
    pub call_id: [u8; 16],
    /// The guardian.
    pub terminal_id: String,
    /// The conference.
    pub conference_id: [u8; 16],
    /// Bandwidth in use, RAS units.
    pub units: u32,
    /// Bandwidth granted in the ACF, RAS units.
    pub granted_units: u32,
    /// The engine room.
    pub room: u64,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// A registration was added or refreshed.
    Registration(RegistrationRecord),
    /// A registration ended.
    RegistrationRemoved {
        /// The endpointIdentifier.
        endpoint_id: String,
    },
    /// A call was admitted or its bandwidth changed.
    Call(CallRecord),
    /// A call ended.
    CallRemoved {
        /// The endpointIdentifier.
        endpoint_id: String,
        /// The call's identifier.
        call_id: [u8; 16],
    },
}

/// A numbered change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Its sequence number in the stream.
    pub seq: u64,
    /// The endpointIdentifier counter, so a new primary never reuses one.
    pub next_endpoint: u64,
    /// The change.
    pub change: Change,
}

/// The full replicated state at a position.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The stream position the snapshot reflects.
    pub position: Position,
    /// The endpointIdentifier counter.
    pub next_endpoint: u64,
    /// All registrations.
    pub registrations: Vec<RegistrationRecord>,
    /// All calls.
    pub calls: Vec<CallRecord>,
}

/// Why records could not be applied.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaError {
    /// Records of another stream (epoch) than the replica's.
    #[error("records of stream {got}, replica follows stream {have}")]
    OtherStream {
        /// The replica's stream.
        have: Epoch,
        /// The records' stream.
        got: Epoch,
    },
    /// Records are missing between the replica and the batch.
    #[error("replication gap: expected seq {expected}, got {got}")]
    Gap {
        /// The next sequence number the replica needs.
        expected: u64,
        /// The first one received.
        got: u64,
    },
}

#[derive(Debug, Clone)]
enum Touched {
    Registration(String),
    Call(CallKey),
}

/// The bounded journal of changes.
#[derive(Debug, Default)]
pub(super) struct Journal {
    epoch: Epoch,
    seq: u64,
    entries: VecDeque<(u64, Touched)>,
    entries_max: usize,
}

impl Journal {
    pub(super) fn new(entries_max: usize) -> Self {
        Self {
            entries_max,
            ..Self::default()
        }
    }

    fn push(&mut self, t: Touched) {
        self.seq += 1;
        if self.entries_max == 0 {
            return;
        }
        if self.entries.len() >= self.entries_max {
            self.entries.pop_front();
        }
        self.entries.push_back((self.seq, t));
    }

    pub(super) fn registration(&mut self, endpoint_id: &str) {
        self.push(Touched::Registration(endpoint_id.to_owned()));
    }

    pub(super) fn call(&mut self, key: &CallKey) {
        self.push(Touched::Call(key.clone()));
    }

    fn position(&self) -> Position {
        Position {
            epoch: self.epoch,
            seq: self.seq,
        }
    }

    /// Restarts at `position` with no entries (after applying or on a new
    /// stream).
    fn reset(&mut self, position: Position) {
        self.epoch = position.epoch;
        self.seq = position.seq;
        self.entries.clear();
    }
}

fn registration_record(now: UnixMillis, endpoint_id: &str, r: &Registration) -> RegistrationRecord {
    RegistrationRecord {
        endpoint_id: endpoint_id.to_owned(),
        terminal_id: r.terminal_id.clone(),
        from: r.from,
        ttl_remaining_ms: r.expires.0.saturating_sub(now.0),
    }
}

fn call_record(key: &CallKey, c: &Call) -> CallRecord {
    CallRecord {
        endpoint_id: key.endpoint_id.clone(),
        call_id: key.call_id,
        terminal_id: c.terminal_id.clone(),
        conference_id: c.conference_id,
        units: c.units,
        granted_units: c.granted_units,
        room: c.room.0,
    }
}

fn insert_registration(state: &mut State, now: UnixMillis, r: &RegistrationRecord) {
    if let Some(old) = state.by_terminal.get(&r.terminal_id) {
        if *old != r.endpoint_id {
            state.registrations.remove(old);
        }
    }
    state.registrations.insert(
        r.endpoint_id.clone(),
        Registration {
            terminal_id: r.terminal_id.clone(),
            from: r.from,
            expires: UnixMillis(now.0.saturating_add(r.ttl_remaining_ms)),
        },
    );
    state
        .by_terminal
        .insert(r.terminal_id.clone(), r.endpoint_id.clone());
}

fn remove_registration(state: &mut State, endpoint_id: &str) {
    if let Some(r) = state.registrations.remove(endpoint_id) {
        if state.by_terminal.get(&r.terminal_id).map(String::as_str) == Some(endpoint_id) {
            state.by_terminal.remove(&r.terminal_id);
        }
    }
}

fn insert_call(state: &mut State, c: &CallRecord) {
    let key = CallKey {
        endpoint_id: c.endpoint_id.clone(),
        call_id: c.call_id,
    };
    // Remove first so usage and membership are counted once.
    state.remove_call(&key);
    state.add_call(
        key,
        Call {
            terminal_id: c.terminal_id.clone(),
            conference_id: c.conference_id,
            units: c.units,
            room: RoomId(c.room),
            granted_units: c.granted_units,
        },
    );
}

impl<E: EngineApi> Gatekeeper<E> {
    /// The replication stream's position: a primary's head, or what a
    /// standby has applied.
    #[must_use]
    pub fn replication_position(&self) -> Position {
        self.state.journal.position()
    }

    /// Starts a new stream (on promotion): sequence numbers continue, the
    /// journal is emptied, so replicas of another stream get a snapshot.
    pub fn begin_replication_stream(&mut self, epoch: Epoch) {
        let seq = self.state.journal.seq;
        self.state.journal.reset(Position { epoch, seq });
    }

    /// The full state at the current position; TTLs as time left at `now`.
    #[must_use]
    pub fn snapshot(&self, now: UnixMillis) -> Snapshot {
        let mut registrations: Vec<_> = self
            .state
            .registrations
            .iter()
            .map(|(e, r)| registration_record(now, e, r))
            .collect();
        registrations.sort_by(|a, b| a.endpoint_id.cmp(&b.endpoint_id));
        let mut calls: Vec<_> = self
            .state
            .calls
            .iter()
            .map(|(k, c)| call_record(k, c))
            .collect();
        calls.sort_by(|a, b| (&a.endpoint_id, a.call_id).cmp(&(&b.endpoint_id, b.call_id)));
        Snapshot {
            position: self.replication_position(),
            next_endpoint: self.state.next_endpoint,
            registrations,
            calls,
        }
    }

    /// The records after `after`, or `None` when they are no longer in the
    /// journal (or `after` is of another stream): send a snapshot instead.
    #[must_use]
    pub fn changes_since(&self, now: UnixMillis, after: Position) -> Option<Vec<Record>> {
        let j = &self.state.journal;
        if after.epoch != j.epoch || after.seq > j.seq {
            return None;
        }
        if after.seq == j.seq {
            return Some(Vec::new());
        }
        let first = j.entries.front().map_or(j.seq + 1, |e| e.0);
        if after.seq + 1 < first {
            return None;
        }
        let next_endpoint = self.state.next_endpoint;
        let records = j
            .entries
            .iter()
            .filter(|(seq, _)| *seq > after.seq)
            .map(|(seq, t)| {
                let change = match t {
                    Touched::Registration(e) => match self.state.registrations.get(e) {
                        Some(r) => Change::Registration(registration_record(now, e, r)),
                        None => Change::RegistrationRemoved {
                            endpoint_id: e.clone(),
                        },
                    },
                    Touched::Call(k) => match self.state.calls.get(k) {
                        Some(c) => Change::Call(call_record(k, c)),
                        None => Change::CallRemoved {
                            endpoint_id: k.endpoint_id.clone(),
                            call_id: k.call_id,
                        },
                    },
                };
                Record {
                    seq: *seq,
                    next_endpoint,
                    change,
                }
            })
            .collect();
        Some(records)
    }

    /// Replaces the replicated state with `snapshot`, TTLs re-based on
    /// `now`. No engine call and no event: the engines already hold the
    /// calls, and the primary already reported them.
    pub fn install_snapshot(&mut self, now: UnixMillis, snapshot: &Snapshot) {
        let s = &mut self.state;
        s.registrations.clear();
        s.by_terminal.clear();
        s.calls.clear();
        s.conferences.clear();
        s.usage.clear();
        s.next_endpoint = snapshot.next_endpoint;
        for r in &snapshot.registrations {
            insert_registration(s, now, r);
        }
        for c in &snapshot.calls {
            insert_call(s, c);
        }
        s.journal.reset(snapshot.position);
    }

    /// Applies records of stream `epoch` in order. Records already applied
    /// are skipped; a missing one is a [`ReplicaError::Gap`] and nothing
    /// after it is applied (ask again from [`Self::replication_position`]).
    pub fn apply_records(
        &mut self,
        now: UnixMillis,
        epoch: Epoch,
        records: &[Record],
    ) -> Result<usize, ReplicaError> {
        let have = self.state.journal.position();
        if epoch != have.epoch {
            return Err(ReplicaError::OtherStream {
                have: have.epoch,
                got: epoch,
            });
        }
        let mut seq = have.seq;
        let mut applied = 0;
        for r in records {
            if r.seq <= seq {
                continue;
            }
            if r.seq != seq + 1 {
                self.state.journal.reset(Position { epoch, seq });
                return Err(ReplicaError::Gap {
                    expected: seq + 1,
                    got: r.seq,
                });
            }
            let s = &mut self.state;
            s.next_endpoint = s.next_endpoint.max(r.next_endpoint);
            match &r.change {
                Change::Registration(reg) => insert_registration(s, now, reg),
                Change::RegistrationRemoved { endpoint_id } => remove_registration(s, endpoint_id),
                Change::Call(c) => insert_call(s, c),
                Change::CallRemoved {
                    endpoint_id,
                    call_id,
                } => {
                    s.remove_call(&CallKey {
                        endpoint_id: endpoint_id.clone(),
                        call_id: *call_id,
                    });
                }
            }
            seq = r.seq;
            applied += 1;
        }
        // Applying went through add_call/remove_call, which journal; a
        // replica's journal restarts at what it applied.
        self.state.journal.reset(Position { epoch, seq });
        Ok(applied)
    }
}
