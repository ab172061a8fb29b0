//! What the service counts for `/metrics` and the HA hook's failover note.

use std::collections::HashSet;
use std::time::Duration;

use super::ServiceStats;
use crate::audit::{AuditError, AuditRecord};
use crate::engine_api::EngineApi;
use crate::gatekeeper::{Event, Gatekeeper, UnixMillis};
use crate::policy::{Gate, BANDWIDTH_UNIT_BPS};

/// Rejected decisions per policy gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateCounts {
    /// Token, signature, timestamp or replay.
    pub authenticity: u64,
    /// Registration ownership and uniqueness.
    pub anti_sybil: u64,
    /// Bandwidth quota.
    pub fairness: u64,
    /// Conference, call and registration limits; engine refusals.
    pub capacity: u64,
    /// Codec not allowed.
    pub codec_whitelist: u64,
}

impl GateCounts {
    /// (gate name as in audit records, count), every gate.
    #[must_use]
    pub fn by_name(&self) -> [(&'static str, u64); 5] {
        [
            ("authenticity", self.authenticity),
            ("anti_sybil", self.anti_sybil),
            ("fairness", self.fairness),
            ("capacity", self.capacity),
            ("codec_whitelist", self.codec_whitelist),
        ]
    }

    fn slot(&mut self, gate: Gate) -> &mut u64 {
        match gate {
            Gate::Authenticity => &mut self.authenticity,
            Gate::AntiSybil => &mut self.anti_sybil,
            Gate::Fairness => &mut self.fairness,
            Gate::Capacity => &mut self.capacity,
            Gate::CodecWhitelist => &mut self.codec_whitelist,
        }
    }
}

/// A failover, as the HA code reports it to [`super::ServiceHandle::record_failover`].
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverNote {
    /// Primary death (or demotion) to the new primary's first ACF.
    pub duration: Duration,
    /// The node that was primary.
    pub previous_primary: String,
    /// The node now primary.
    pub new_primary: String,
}

impl FailoverNote {
    /// Its `GATEKEEPER_FAILOVER` record at `now`.
    #[must_use]
    pub fn record(&self, now: UnixMillis) -> AuditRecord {
        AuditRecord::failover(now, self.duration.as_secs_f64())
            .with_id("previous_primary", self.previous_primary.clone())
            .with_id("new_primary", self.new_primary.clone())
    }
}

/// Counters kept on the service thread from the gatekeeper's events.
#[derive(Debug, Default)]
pub(super) struct Observed {
    admissions: u64,
    rejections: GateCounts,
    /// Guardians admitted at some point; pruned when their bandwidth is 0.
    terminals: HashSet<String>,
    audit_errors: u64,
    audit_failing: bool,
}

impl Observed {
    pub(super) fn on_event(&mut self, event: &Event) {
        match event {
            Event::Gate { decision, .. } if !decision.passed => {
                *self.rejections.slot(decision.gate) += 1;
            }
            Event::Admitted { terminal_id, .. } => {
                self.admissions += 1;
                if !self.terminals.contains(terminal_id) {
                    self.terminals.insert(terminal_id.clone());
                }
            }
            _ => {}
        }
    }

    /// Counts an audit write; `false` when it failed. The first failure
    /// after a success is printed: the operator must know replies are being
    /// withheld (the counter is on /metrics too).
    pub(super) fn audited(
        &mut self,
        result: Result<(), AuditError>,
        stats: &mut ServiceStats,
    ) -> bool {
        match result {
            Ok(()) => {
                self.audit_failing = false;
                true
            }
            Err(e) => {
                self.audit_errors += 1;
                stats.audit_errors = self.audit_errors;
                if !self.audit_failing {
                    eprintln!("gatekeeper: audit write failed, withholding replies: {e}");
                }
                self.audit_failing = true;
                false
            }
        }
    }

    pub(super) fn fill(&self, stats: &mut ServiceStats) {
        stats.admissions = self.admissions;
        stats.rejections = self.rejections;
        stats.audit_errors = self.audit_errors;
    }

    pub(super) fn bandwidth<E: EngineApi>(&mut self, gk: &Gatekeeper<E>) -> Vec<(String, u64)> {
        let mut out = Vec::with_capacity(self.terminals.len());
        self.terminals.retain(|t| {
            let units = gk.bandwidth_units_used(t);
            if units > 0 {
                out.push((t.clone(), units * BANDWIDTH_UNIT_BPS));
            }
            units > 0
        });
        out.sort();
        out
    }
}
