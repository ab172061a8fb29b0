//! The RAS audit trail: one record per reply the gatekeeper sends, written
//! before it is sent, carrying the decision that produced it.
//!
//! The gatekeeper queues a request's events (gate decisions, admission,
//! registration, decode error) before its reply. [`RasAuditTrail`] folds
//! those events into a pending context and, when the reply's
//! [`Transmit`](crate::gatekeeper::Transmit) comes out of `poll_output`,
//! appends one record: the reply's `msg_type` (ACF, ARJ, …), `request_seq`,
//! `terminal_id`, the deciding `gate` with its `reason`, the RAS
//! `reject_reason`, `bandwidth_bps`, and where it went. Call-release and
//! unregistration events (side effects, possibly several per request) get
//! records of their own. Nothing here reads the clock.

use std::net::SocketAddr;

use crate::gatekeeper::{Event, Transmit, UnixMillis};
use crate::policy::Gate;
use crate::ras::{self, RasMessage};

use super::record::AuditRecord;
use super::writer::{hex, AuditWriter};
use super::Result;

/// The policy gate's name in records and metric labels.
#[must_use]
pub fn gate_name(gate: Gate) -> &'static str {
    match gate {
        Gate::Authenticity => "authenticity",
        Gate::AntiSybil => "anti_sybil",
        Gate::Fairness => "fairness",
        Gate::Capacity => "capacity",
        Gate::CodecWhitelist => "codec_whitelist",
    }
}

#[derive(Debug, Default)]
struct Pending {
    request: Option<&'static str>,
    terminal_id: Option<String>,
    from: Option<SocketAddr>,
    /// The first failing gate, else the last one passed.
    gate: Option<(Gate, bool, String)>,
    admitted: Option<([u8; 16], u64, bool)>,
    registered: Option<(String, Vec<String>, u32)>,
    malformed: Option<String>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.request.is_none() && self.malformed.is_none()
    }

    /// The request and its decision, shared by replied and unreplied
    /// records.
    fn describe(&mut self, mut r: AuditRecord) -> AuditRecord {
        if let Some(request) = self.request {
            r = r.with_code("request", request);
        }
        if let Some(t) = self.terminal_id.take() {
            r = r.with_id("terminal_id", t);
        }
        if let Some((gate, passed, reason)) = &self.gate {
            r = r
                .with_code("gate", gate_name(*gate))
                .with_bool("passed", *passed)
                .with_text("reason", reason);
        }
        if let Some(error) = &self.malformed {
            r = r.with_text("reason", error);
        }
        r
    }
}

/// Folds gatekeeper events and replies into audit records (see the module
/// doc). Feed it every output drained from the gatekeeper, in order.
#[derive(Debug)]
pub struct RasAuditTrail {
    writer: AuditWriter,
    pending: Pending,
}

impl RasAuditTrail {
    /// A trail appending through `writer`.
    #[must_use]
    pub fn new(writer: AuditWriter) -> Self {
        Self {
            writer,
            pending: Pending::default(),
        }
    }

    /// The writer (failover records, syncs).
    pub fn writer(&mut self) -> &mut AuditWriter {
        &mut self.writer
    }

    /// Takes in one event. Decision events are held for the reply's record;
    /// releases and unregistrations are written at once.
    pub fn on_event(&mut self, now: UnixMillis, event: &Event) -> Result<()> {
        match event {
            Event::Gate {
                decision,
                request,
                terminal_id,
                from,
            } => {
                if self.pending.malformed.is_some()
                    || self.pending.request.is_some_and(|r| r != *request)
                {
                    self.flush(now)?;
                }
                let p = &mut self.pending;
                p.request = Some(request);
                p.from = Some(*from);
                if terminal_id.is_some() {
                    p.terminal_id.clone_from(terminal_id);
                }
                if p.gate.as_ref().is_none_or(|(_, passed, _)| *passed) {
                    p.gate = Some((decision.gate, decision.passed, decision.reason.clone()));
                }
            }
            Event::Admitted {
                terminal_id,
                conference_id,
                bandwidth_bps,
                reduced,
            } => {
                self.pending.terminal_id = Some(terminal_id.clone());
                self.pending.admitted = Some((*conference_id, *bandwidth_bps, *reduced));
            }
            Event::Registered {
                terminal_id,
                endpoint_id,
                aliases,
                from,
                ttl_s,
            } => {
                self.pending.terminal_id = Some(terminal_id.clone());
                self.pending.from = Some(*from);
                self.pending.registered = Some((endpoint_id.clone(), aliases.clone(), *ttl_s));
            }
            Event::Malformed { from, error } => {
                self.flush(now)?;
                self.pending.from = Some(*from);
                self.pending.malformed = Some(error.to_string());
            }
            Event::Released {
                terminal_id,
                conference_id,
            } => {
                let r = AuditRecord::ras(now, "RELEASED")
                    .with_id("terminal_id", terminal_id.clone())
                    .with_id("conference_id", hex(conference_id));
                self.writer.append(&r)?;
            }
            Event::Unregistered {
                terminal_id,
                reason,
            } => {
                let r = AuditRecord::ras(now, "UNREGISTERED")
                    .with_id("terminal_id", terminal_id.clone())
                    .with_text("reason", reason);
                self.writer.append(&r)?;
            }
        }
        Ok(())
    }

    /// Writes the record of a reply about to be sent. Call it before
    /// `send_to`; if it fails, do not send (the decision would be
    /// unrecorded).
    pub fn before_send(&mut self, now: UnixMillis, transmit: &Transmit) -> Result<()> {
        let mut p = std::mem::take(&mut self.pending);
        let header = ras::peek(&transmit.bytes);
        let kind = header.map_or(u8::MAX, |h| h.kind_index);
        let msg_type = ras::types::kind_name(kind);
        let mut r = AuditRecord::ras(now, msg_type);
        if let Some(seq) = header.and_then(|h| h.request_seq_num) {
            r = r.with_u64("request_seq", u64::from(seq));
        }
        r = p.describe(r);
        // Rejects and bandwidth confirms are rare: decoding our own reply
        // for their details costs nothing on the ACF path.
        let needs_decode = matches!(
            msg_type,
            "GRJ" | "RRJ" | "URJ" | "ARJ" | "BRJ" | "DRJ" | "LRJ"
        ) || msg_type == "BCF"
            || (msg_type == "ACF" && p.admitted.is_none());
        if needs_decode {
            if let Ok(message) = ras::decode(&transmit.bytes) {
                if let Some(reason) = reject_reason(&message) {
                    r = r.with_id("reject_reason", reason);
                }
                if let Some(units) = granted_units(&message) {
                    r = r.with_u64(
                        "bandwidth_bps",
                        u64::from(units) * crate::policy::BANDWIDTH_UNIT_BPS,
                    );
                }
            }
        }
        if let Some((conference_id, bandwidth_bps, reduced)) = p.admitted {
            r = r
                .with_id("conference_id", hex(&conference_id))
                .with_u64("bandwidth_bps", bandwidth_bps)
                .with_bool("reduced", reduced);
        }
        if let Some((endpoint_id, aliases, ttl_s)) = &p.registered {
            r = r
                .with_id("endpoint_id", endpoint_id.clone())
                .with_text_list("aliases", aliases)
                .with_u64("ttl_s", u64::from(*ttl_s));
        }
        r = r.with_id("to", transmit.to.to_string());
        self.writer.append(&r)
    }

    /// Writes whatever is pending without a reply (a decode error nobody
    /// could be answered for). Call after draining the gatekeeper.
    pub fn flush(&mut self, now: UnixMillis) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut p = std::mem::take(&mut self.pending);
        let msg_type = if p.malformed.is_some() {
            "MALFORMED"
        } else {
            "NO_REPLY"
        };
        let mut r = AuditRecord::ras(now, msg_type);
        r = p.describe(r);
        if let Some(from) = p.from {
            r = r.with_id("from", from.to_string());
        }
        self.writer.append(&r)
    }
}

/// The RAS reject reason's ASN.1 name (`resourceUnavailable`, …).
fn reject_reason(message: &RasMessage) -> Option<String> {
    let debug = match message {
        RasMessage::GatekeeperReject(m) => format!("{:?}", m.reject_reason),
        RasMessage::RegistrationReject(m) => format!("{:?}", m.reject_reason),
        RasMessage::UnregistrationReject(m) => format!("{:?}", m.reject_reason),
        RasMessage::AdmissionReject(m) => format!("{:?}", m.reject_reason),
        RasMessage::BandwidthReject(m) => format!("{:?}", m.reject_reason),
        RasMessage::DisengageReject(m) => format!("{:?}", m.reject_reason),
        RasMessage::LocationReject(m) => format!("{:?}", m.reject_reason),
        _ => return None,
    };
    let variant = debug.split(['(', ' ', '{']).next().unwrap_or_default();
    let mut chars = variant.chars();
    let first = chars.next()?;
    Some(first.to_ascii_lowercase().to_string() + chars.as_str())
}

/// Bandwidth granted by an ACF or BCF, RAS units.
fn granted_units(message: &RasMessage) -> Option<u32> {
    match message {
        RasMessage::AdmissionConfirm(m) => Some(m.band_width),
        RasMessage::BandwidthConfirm(m) => Some(m.band_width),
        _ => None,
    }
}
