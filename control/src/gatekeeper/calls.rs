//! Calls: ARQ (the gates in order: anti-sybil, fairness, capacity, then
//! engine provisioning), BRQ, DRQ, and releasing calls.

use std::net::SocketAddr;

use rasn::types::BmpString;

use super::replies::{self, Refusal};
use super::state::{Call, CallKey};
use super::{Event, Gatekeeper, Output};
use crate::engine_api::{EngineApi, ProvisionRequest, ReleaseRequest};
use crate::policy::{self, Decision, Gate, Grant, BANDWIDTH_UNIT_BPS};
use crate::ras::types::*;
use crate::ras::RasMessage;

impl<E: EngineApi> Gatekeeper<E> {
    pub(super) fn on_arq(
        &mut self,
        from: SocketAddr,
        terminal_id: &str,
        arq: &AdmissionRequest,
    ) -> RasMessage {
        let seq = arq.request_seq_num;
        let endpoint_id = match self.owner_check(terminal_id, &arq.endpoint_identifier) {
            Ok(e) => e,
            Err(refusal) => {
                self.gate(
                    Decision::reject(
                        Gate::AntiSybil,
                        "ARQ from an endpoint not registered to this terminal",
                    ),
                    "ARQ",
                    Some(terminal_id),
                    from,
                );
                return replies::arj(seq, refusal);
            }
        };
        self.gate(
            Decision::pass(Gate::AntiSybil, "registered endpoint"),
            "ARQ",
            Some(terminal_id),
            from,
        );
        let conference_id = *arq.conference_id;
        let key = CallKey {
            endpoint_id,
            call_id: replies::call_id(
                arq.call_identifier.as_ref().filter(|c| *c.guid != [0; 16]),
                &arq.conference_id,
                arq.call_reference_value,
            ),
        };
        let csa = TransportAddress::from_socket(self.config.call_signal_address);
        if let Some(call) = self.state.calls.get(&key) {
            // The same call again (a retransmission with a new token): confirm
            // the existing admission, never a second one.
            return replies::acf(seq, call.granted_units, csa, self.config.irr_frequency_s);
        }
        if !self.admissions_enabled {
            self.gate(
                Decision::reject(Gate::Capacity, "admissions stopped"),
                "ARQ",
                Some(terminal_id),
                from,
            );
            return replies::arj(seq, Refusal::Resources);
        }
        let quota_bps = self
            .registry
            .get(terminal_id)
            .map_or(0, |g| g.bandwidth_quota_bps);
        let used = self.state.units_used(terminal_id);
        let (units, reduced) = match policy::fairness_grant(
            quota_bps,
            used,
            arq.band_width,
            self.config.grant_units_min,
        ) {
            Grant::Full(u) => (u, false),
            Grant::Reduced(u) => (u, true),
            Grant::Denied => {
                self.gate(
                    Decision::reject(Gate::Fairness, format!("quota {quota_bps} bit/s exhausted")),
                    "ARQ",
                    Some(terminal_id),
                    from,
                );
                return replies::arj(seq, Refusal::Resources);
            }
        };
        let why = if reduced {
            "granted reduced to quota"
        } else {
            "within quota"
        };
        self.gate(
            Decision::pass(Gate::Fairness, why),
            "ARQ",
            Some(terminal_id),
            from,
        );
        let conference = self.state.conferences.get(&conference_id);
        let member = conference.is_some_and(|c| c.members.contains_key(terminal_id));
        if !member && conference.is_some_and(|c| c.members.len() >= self.config.conference_capacity)
        {
            let why = format!(
                "conference has {} endpoints",
                self.config.conference_capacity
            );
            self.gate(
                Decision::reject(Gate::Capacity, why),
                "ARQ",
                Some(terminal_id),
                from,
            );
            return replies::arj(seq, Refusal::ConferenceFull);
        }
        if self.state.calls.len() >= self.config.calls_max {
            self.gate(
                Decision::reject(Gate::Capacity, "calls at global limit"),
                "ARQ",
                Some(terminal_id),
                from,
            );
            return replies::arj(seq, Refusal::Resources);
        }
        let request = ProvisionRequest {
            conference_id,
            room: conference.map(|c| c.room),
            terminal_id: terminal_id.to_owned(),
            call_id: key.call_id,
            bandwidth_bps: u64::from(units) * BANDWIDTH_UNIT_BPS,
            endpoint_ras: from,
        };
        let room = match self.engine.provision(&request) {
            Ok(room) => room,
            Err(e) => {
                self.gate(
                    Decision::reject(Gate::Capacity, format!("engine: {e}")),
                    "ARQ",
                    Some(terminal_id),
                    from,
                );
                return replies::arj(seq, Refusal::Resources);
            }
        };
        self.gate(
            Decision::pass(Gate::Capacity, "room has capacity"),
            "ARQ",
            Some(terminal_id),
            from,
        );
        self.state.add_call(
            key,
            Call {
                terminal_id: terminal_id.to_owned(),
                conference_id,
                units,
                room,
                granted_units: units,
            },
        );
        self.emit(Output::Event(Event::Admitted {
            terminal_id: terminal_id.to_owned(),
            conference_id,
            bandwidth_bps: request.bandwidth_bps,
            reduced,
        }));
        replies::acf(seq, units, csa, self.config.irr_frequency_s)
    }

    fn call_key(
        &self,
        terminal_id: &str,
        endpoint_id: &BmpString,
        call: Option<&CallIdentifier>,
        conf: &Guid,
        crv: u16,
    ) -> Result<CallKey, Refusal> {
        let endpoint_id = self.owner_check(terminal_id, endpoint_id)?;
        let key = CallKey {
            endpoint_id,
            call_id: replies::call_id(call.filter(|c| *c.guid != [0; 16]), conf, crv),
        };
        if self.state.calls.contains_key(&key) {
            Ok(key)
        } else {
            Err(Refusal::UnknownCall)
        }
    }

    pub(super) fn on_brq(
        &mut self,
        from: SocketAddr,
        terminal_id: &str,
        brq: &BandwidthRequest,
    ) -> RasMessage {
        let seq = brq.request_seq_num;
        let key = match self.call_key(
            terminal_id,
            &brq.endpoint_identifier,
            brq.call_identifier.as_ref(),
            &brq.conference_id,
            brq.call_reference_value,
        ) {
            Ok(k) => k,
            Err(refusal) => return replies::brj(seq, refusal, 0),
        };
        let current = self.state.calls.get(&key).map_or(0, |c| c.units);
        let quota_bps = self
            .registry
            .get(terminal_id)
            .map_or(0, |g| g.bandwidth_quota_bps);
        match policy::fairness_change(
            quota_bps,
            self.state.units_used(terminal_id),
            current,
            brq.band_width,
        ) {
            Ok(()) => {
                self.gate(
                    Decision::pass(Gate::Fairness, "within quota"),
                    "BRQ",
                    Some(terminal_id),
                    from,
                );
                self.state.set_call_units(&key, brq.band_width);
                replies::bcf(seq, brq.band_width)
            }
            Err(allowed) => {
                self.gate(
                    Decision::reject(Gate::Fairness, format!("quota {quota_bps} bit/s exceeded")),
                    "BRQ",
                    Some(terminal_id),
                    from,
                );
                replies::brj(seq, Refusal::Resources, allowed)
            }
        }
    }

    pub(super) fn on_drq(
        &mut self,
        _from: SocketAddr,
        terminal_id: &str,
        drq: &DisengageRequest,
    ) -> RasMessage {
        let seq = drq.request_seq_num;
        match self.call_key(
            terminal_id,
            &drq.endpoint_identifier,
            drq.call_identifier.as_ref(),
            &drq.conference_id,
            drq.call_reference_value,
        ) {
            Ok(key) => {
                self.release_call(&key);
                replies::dcf(seq)
            }
            // Disengaging a call already gone is harmless: confirm it.
            Err(Refusal::UnknownCall) => replies::dcf(seq),
            Err(refusal) => replies::drj(seq, refusal),
        }
    }

    pub(super) fn release_call(&mut self, key: &CallKey) {
        if let Some(call) = self.state.remove_call(key) {
            self.engine.release(&ReleaseRequest {
                room: call.room,
                terminal_id: call.terminal_id.clone(),
                call_id: key.call_id,
            });
            self.emit(Output::Event(Event::Released {
                terminal_id: call.terminal_id,
                conference_id: call.conference_id,
            }));
        }
    }
}
