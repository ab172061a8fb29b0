//! Maps the gatekeeper's structured events to audit records.

use crate::gatekeeper::{Event, UnixMillis};
use crate::policy::Gate;

use super::record::AuditRecord;

/// The reject message for a request (`ARQ` → `ARJ`, …).
fn reject_of(request: &'static str) -> &'static str {
    match request {
        "GRQ" => "GRJ",
        "RRQ" => "RRJ",
        "URQ" => "URJ",
        "ARQ" => "ARJ",
        "BRQ" => "BRJ",
        "DRQ" => "DRJ",
        "LRQ" => "LRJ",
        "IRQ" => "IRJ",
        other => other,
    }
}

fn gate_name(gate: Gate) -> &'static str {
    match gate {
        Gate::Authenticity => "authenticity",
        Gate::AntiSybil => "anti_sybil",
        Gate::Fairness => "fairness",
        Gate::Capacity => "capacity",
        Gate::CodecWhitelist => "codec_whitelist",
    }
}

fn conference_hex(id: &[u8; 16]) -> String {
    super::writer::hex(id)
}

/// The audit record for a gatekeeper event at `now` (events carry no time of
/// their own; the shell passes the time it handled the datagram). Every
/// event is recorded: a gate decision as the request (passed) or its reject
/// (`ARJ`, …), admissions as `ACF`, registrations as `RCF`, releases as
/// `DCF`, unregistrations as `UCF`, and undecodable datagrams as `MALFORMED`.
#[must_use]
pub fn record_for(now: UnixMillis, event: &Event) -> Option<AuditRecord> {
    let record = match event {
        Event::Gate {
            decision,
            request,
            terminal_id,
            from,
        } => {
            let msg_type = if decision.passed {
                request
            } else {
                reject_of(request)
            };
            let r = AuditRecord::ras(now, msg_type)
                .with_code("request", request)
                .with_code("gate", gate_name(decision.gate))
                .with_bool("passed", decision.passed)
                .with_text("reason", &decision.reason)
                .with_id("from", from.to_string());
            match terminal_id {
                Some(t) => r.with_id("terminal_id", t.clone()),
                None => r,
            }
        }
        Event::Registered {
            terminal_id,
            endpoint_id,
            aliases,
            from,
            ttl_s,
        } => AuditRecord::ras(now, "RCF")
            .with_id("terminal_id", terminal_id.clone())
            .with_id("endpoint_id", endpoint_id.clone())
            .with_text_list("aliases", aliases)
            .with_id("from", from.to_string())
            .with_u64("ttl_s", u64::from(*ttl_s)),
        Event::Unregistered {
            terminal_id,
            reason,
        } => AuditRecord::ras(now, "UCF")
            .with_id("terminal_id", terminal_id.clone())
            .with_text("reason", reason),
        Event::Admitted {
            terminal_id,
            conference_id,
            bandwidth_bps,
            reduced,
        } => AuditRecord::ras(now, "ACF")
            .with_id("terminal_id", terminal_id.clone())
            .with_id("conference_id", conference_hex(conference_id))
            .with_u64("bandwidth_bps", *bandwidth_bps)
            .with_bool("reduced", *reduced),
        Event::Released {
            terminal_id,
            conference_id,
        } => AuditRecord::ras(now, "DCF")
            .with_id("terminal_id", terminal_id.clone())
            .with_id("conference_id", conference_hex(conference_id)),
        Event::Malformed { from, error } => AuditRecord::ras(now, "MALFORMED")
            .with_id("from", from.to_string())
            .with_text("reason", &error.to_string()),
    };
    Some(record)
}
