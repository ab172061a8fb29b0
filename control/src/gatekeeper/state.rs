//! The gatekeeper's tables: registrations, calls, conferences and per-guardian
//! bandwidth, kept consistent by `add_call`/`remove_call`.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::replicate::Journal;
use super::UnixMillis;
use crate::engine_api::RoomId;

/// One live registration.
#[derive(Debug, Clone)]
pub(super) struct Registration {
    pub terminal_id: String,
    pub from: SocketAddr,
    pub expires: UnixMillis,
}

/// Identifies a call: the endpoint and its callIdentifier (or, for endpoints
/// that send none, conferenceID with the CRV folded into its last octets).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallKey {
    /// The endpointIdentifier.
    pub endpoint_id: String,
    /// The call's 16-octet identifier.
    pub call_id: [u8; 16],
}

/// One admitted call.
#[derive(Debug, Clone)]
pub(super) struct Call {
    pub terminal_id: String,
    pub conference_id: [u8; 16],
    pub units: u32,
    pub room: RoomId,
    /// The ACF, re-sent if the same call is admitted again.
    pub granted_units: u32,
}

/// One conference: its room and the distinct guardians admitted to it, with
/// how many calls each has there.
#[derive(Debug, Clone)]
pub(super) struct Conference {
    pub room: RoomId,
    pub members: HashMap<String, u32>,
}

#[derive(Debug, Default)]
pub(super) struct State {
    /// By endpointIdentifier.
    pub registrations: HashMap<String, Registration>,
    /// terminal_id → endpointIdentifier.
    pub by_terminal: HashMap<String, String>,
    pub calls: HashMap<CallKey, Call>,
    pub conferences: HashMap<[u8; 16], Conference>,
    /// terminal_id → RAS units in use.
    pub usage: HashMap<String, u64>,
    pub next_endpoint: u64,
    /// Numbered changes for a standby (see `replicate`).
    pub journal: Journal,
}

impl State {
    pub fn next_expiry(&self) -> Option<UnixMillis> {
        self.registrations.values().map(|r| r.expires).min()
    }

    pub fn units_used(&self, terminal_id: &str) -> u64 {
        self.usage.get(terminal_id).copied().unwrap_or(0)
    }

    pub fn new_endpoint_id(&mut self) -> String {
        self.next_endpoint += 1;
        format!("EP{}", self.next_endpoint)
    }

    pub fn add_call(&mut self, key: CallKey, call: Call) {
        *self.usage.entry(call.terminal_id.clone()).or_default() += u64::from(call.units);
        let conf = self
            .conferences
            .entry(call.conference_id)
            .or_insert_with(|| Conference {
                room: call.room,
                members: HashMap::new(),
            });
        *conf.members.entry(call.terminal_id.clone()).or_default() += 1;
        self.journal.call(&key);
        self.calls.insert(key, call);
    }

    pub fn set_call_units(&mut self, key: &CallKey, units: u32) {
        if let Some(call) = self.calls.get_mut(key) {
            let usage = self.usage.entry(call.terminal_id.clone()).or_default();
            *usage = usage.saturating_sub(u64::from(call.units)) + u64::from(units);
            call.units = units;
            self.journal.call(key);
        }
    }

    pub fn remove_call(&mut self, key: &CallKey) -> Option<Call> {
        let call = self.calls.remove(key)?;
        self.journal.call(key);
        if let Some(usage) = self.usage.get_mut(&call.terminal_id) {
            *usage = usage.saturating_sub(u64::from(call.units));
            if *usage == 0 {
                self.usage.remove(&call.terminal_id);
            }
        }
        if let Some(conf) = self.conferences.get_mut(&call.conference_id) {
            if let Some(n) = conf.members.get_mut(&call.terminal_id) {
                *n -= 1;
                if *n == 0 {
                    conf.members.remove(&call.terminal_id);
                }
            }
            if conf.members.is_empty() {
                self.conferences.remove(&call.conference_id);
            }
        }
        Some(call)
    }

    pub fn calls_of(&self, endpoint_id: &str) -> Vec<CallKey> {
        self.calls
            .keys()
            .filter(|k| k.endpoint_id == endpoint_id)
            .cloned()
            .collect()
    }
}
