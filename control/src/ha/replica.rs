//! Replication over the peer link, sans-IO: what the primary sends and how
//! the standby applies it.
//!
//! The standby reports its applied [`Position`] in every heartbeat. The
//! primary pushes new records as soon as they exist and goes back to the
//! standby's position when that position stops advancing while records are
//! outstanding (a lost datagram), so losses heal within two heartbeats. A
//! standby with no position, or one the journal no longer covers, gets a
//! snapshot in parts. Datagrams are JSON [`Update`]s.

use serde::{Deserialize, Serialize};

use super::{Epoch, Position};
use crate::engine_api::EngineApi;
use crate::gatekeeper::replicate::{
    CallRecord, Record, RegistrationRecord, ReplicaError, Snapshot,
};
use crate::gatekeeper::{Gatekeeper, UnixMillis};

/// Records per datagram (a record is a few hundred octets of JSON).
pub const RECORDS_PER_DATAGRAM: usize = 48;
/// Registrations plus calls per snapshot part.
pub const ENTRIES_PER_PART: usize = 48;
/// Largest snapshot accepted, in parts (bounds the assembly buffer).
pub const PARTS_MAX: u32 = 4096;
/// Heartbeats without progress before the primary resends.
const STALLED_BEATS: u32 = 2;

/// One replication datagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Update {
    /// Consecutive records of stream `epoch`.
    Records {
        /// The stream.
        epoch: Epoch,
        /// The records, in order.
        records: Vec<Record>,
    },
    /// One part of a snapshot.
    SnapshotPart {
        /// The snapshot's position.
        position: Position,
        /// This part (0-based).
        part: u32,
        /// How many parts.
        parts: u32,
        /// The endpointIdentifier counter.
        next_endpoint: u64,
        /// Some of the registrations.
        registrations: Vec<RegistrationRecord>,
        /// Some of the calls.
        calls: Vec<CallRecord>,
    },
}

/// Splits a snapshot into parts of at most [`ENTRIES_PER_PART`] entries.
#[must_use]
pub fn snapshot_parts(s: Snapshot) -> Vec<Update> {
    let regs: Vec<_> = s.registrations.chunks(ENTRIES_PER_PART).collect();
    let calls: Vec<_> = s.calls.chunks(ENTRIES_PER_PART).collect();
    let n = regs.len() + calls.len();
    let parts = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(n.max(1));
    for i in 0..n.max(1) {
        let (registrations, calls) = if i < regs.len() {
            (regs[i].to_vec(), Vec::new())
        } else if i - regs.len() < calls.len() {
            (Vec::new(), calls[i - regs.len()].to_vec())
        } else {
            (Vec::new(), Vec::new())
        };
        out.push(Update::SnapshotPart {
            position: s.position,
            part: u32::try_from(i).unwrap_or(u32::MAX),
            parts,
            next_endpoint: s.next_endpoint,
            registrations,
            calls,
        });
    }
    out
}

/// The primary's side.
#[derive(Debug, Default)]
pub struct Sender {
    /// `None`: no standby heard yet. `Some(None)`: it needs a snapshot.
    sent: Option<Option<Position>>,
    last_peer: Option<Option<Position>>,
    stalled: u32,
    /// Snapshots sent.
    pub snapshots: u64,
    /// Records sent (including resends).
    pub records: u64,
}

impl Sender {
    /// Forgets the standby (on promotion).
    pub fn reset(&mut self) {
        self.sent = None;
        self.last_peer = None;
        self.stalled = 0;
    }

    /// The standby's position from a heartbeat.
    pub fn on_peer_position(&mut self, position: Option<Position>) {
        let same = self.last_peer == Some(position);
        self.last_peer = Some(position);
        match self.sent {
            None => self.sent = Some(position),
            Some(sent) if sent == position => self.stalled = 0,
            Some(_) if same => {
                self.stalled += 1;
                if self.stalled >= STALLED_BEATS {
                    self.sent = Some(position);
                    self.stalled = 0;
                }
            }
            Some(_) => self.stalled = 0,
        }
    }

    /// What to send now to bring the standby to the gatekeeper's head.
    pub fn poll<E: EngineApi>(&mut self, gk: &Gatekeeper<E>, now: UnixMillis) -> Vec<Update> {
        let Some(from) = self.sent else {
            return Vec::new();
        };
        let head = gk.replication_position();
        if from == Some(head) {
            return Vec::new();
        }
        self.sent = Some(Some(head));
        match from.and_then(|p| gk.changes_since(now, p)) {
            Some(records) => {
                self.records += records.len() as u64;
                records
                    .chunks(RECORDS_PER_DATAGRAM)
                    .map(|c| Update::Records {
                        epoch: head.epoch,
                        records: c.to_vec(),
                    })
                    .collect()
            }
            None => {
                self.snapshots += 1;
                snapshot_parts(gk.snapshot(now))
            }
        }
    }
}

#[derive(Debug)]
struct Assembly {
    position: Position,
    next_endpoint: u64,
    parts: Vec<Option<(Vec<RegistrationRecord>, Vec<CallRecord>)>>,
}

/// Counters of the standby's side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiverCounters {
    /// Records applied.
    pub applied: u64,
    /// Batches refused for a gap (the primary resends).
    pub gaps: u64,
    /// Snapshots installed.
    pub snapshots: u64,
    /// Updates ignored (no position yet, bad part numbers, other stream).
    pub ignored: u64,
}

/// The standby's side.
#[derive(Debug, Default)]
pub struct Receiver {
    position: Option<Position>,
    assembly: Option<Assembly>,
    counters: ReceiverCounters,
}

impl Receiver {
    /// The applied position (`None` until a snapshot is installed).
    #[must_use]
    pub fn position(&self) -> Option<Position> {
        self.position
    }

    /// The counters.
    #[must_use]
    pub fn counters(&self) -> ReceiverCounters {
        self.counters
    }

    /// Forgets everything: the next heartbeat asks for a snapshot (after a
    /// demotion, whose local state may hold changes nobody replicated).
    pub fn reset(&mut self) {
        self.position = None;
        self.assembly = None;
    }

    /// Applies one update to the standby's gatekeeper.
    pub fn on_update<E: EngineApi>(&mut self, gk: &mut Gatekeeper<E>, now: UnixMillis, u: Update) {
        match u {
            Update::Records { epoch, records } => {
                if self.position.is_none() {
                    self.counters.ignored += 1;
                    return;
                }
                match gk.apply_records(now, epoch, &records) {
                    Ok(n) => {
                        self.counters.applied += n as u64;
                        self.position = Some(gk.replication_position());
                    }
                    Err(ReplicaError::Gap { .. }) => {
                        self.counters.gaps += 1;
                        self.position = Some(gk.replication_position());
                    }
                    Err(ReplicaError::OtherStream { .. }) => {
                        // A new primary's stream: start again from a snapshot.
                        self.counters.ignored += 1;
                        self.position = None;
                    }
                }
            }
            Update::SnapshotPart {
                position,
                part,
                parts,
                next_endpoint,
                registrations,
                calls,
            } => self.on_part(
                gk,
                now,
                position,
                (part, parts),
                next_endpoint,
                (registrations, calls),
            ),
        }
    }

    fn on_part<E: EngineApi>(
        &mut self,
        gk: &mut Gatekeeper<E>,
        now: UnixMillis,
        position: Position,
        (part, parts): (u32, u32),
        next_endpoint: u64,
        entries: (Vec<RegistrationRecord>, Vec<CallRecord>),
    ) {
        if parts == 0 || parts > PARTS_MAX || part >= parts {
            self.counters.ignored += 1;
            return;
        }
        let fresh = self
            .assembly
            .as_ref()
            .is_some_and(|a| a.position == position && a.parts.len() == parts as usize);
        if !fresh {
            self.assembly = Some(Assembly {
                position,
                next_endpoint,
                parts: vec![None; parts as usize],
            });
        }
        let Some(a) = self.assembly.as_mut() else {
            return;
        };
        a.parts[part as usize] = Some(entries);
        if a.parts.iter().any(Option::is_none) {
            return;
        }
        let Some(a) = self.assembly.take() else {
            return;
        };
        let mut snapshot = Snapshot {
            position: a.position,
            next_endpoint: a.next_endpoint,
            ..Snapshot::default()
        };
        for (regs, calls) in a.parts.into_iter().flatten() {
            snapshot.registrations.extend(regs);
            snapshot.calls.extend(calls);
        }
        gk.install_snapshot(now, &snapshot);
        self.counters.snapshots += 1;
        self.position = Some(a.position);
    }
}
