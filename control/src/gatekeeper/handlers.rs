//! Per-message handling: dispatch, the gates in order, and registration
//! expiry.

use std::net::SocketAddr;

use rasn::types::BmpString;

use super::auth::authenticate;
use super::replies::{self, Refusal};
use super::state::Registration;
use super::{Event, Gatekeeper, Output, UnixMillis};
use crate::engine_api::EngineApi;
use crate::policy::{pii, Decision, Gate};
use crate::ras::types::*;
use crate::ras::{bmp_to_string, RasMessage};

/// Free text of an alias for events (PII-filtered).
fn alias_text(a: &AliasAddress) -> String {
    let raw = match a {
        AliasAddress::DialledDigits(s) | AliasAddress::UrlId(s) | AliasAddress::EmailId(s) => {
            String::from_utf8_lossy(s.as_iso646_bytes()).into_owned()
        }
        AliasAddress::H323Id(s) => bmp_to_string(s),
        AliasAddress::TransportId(t) => t
            .to_socket()
            .map_or_else(|| "transport".into(), |s| s.to_string()),
        _ => "(other alias)".into(),
    };
    pii::redact(&raw)
}

impl<E: EngineApi> Gatekeeper<E> {
    pub(super) fn handle_message(
        &mut self,
        now: UnixMillis,
        from: SocketAddr,
        datagram: &[u8],
        message: RasMessage,
        preverified: bool,
    ) {
        let kind = message.kind_index();
        match message {
            RasMessage::GatekeeperRequest(grq) => self.on_grq(from, &grq),
            RasMessage::RegistrationRequest(_)
            | RasMessage::UnregistrationRequest(_)
            | RasMessage::AdmissionRequest(_)
            | RasMessage::BandwidthRequest(_)
            | RasMessage::DisengageRequest(_) => {
                self.on_signed(now, from, datagram, kind, message, preverified)
            }
            RasMessage::LocationRequest(lrq) => {
                // Location service is not offered.
                self.send(from, &replies::lrj(lrq.request_seq_num));
            }
            RasMessage::InfoRequestResponse(irr) => {
                if irr.need_response == Some(true) {
                    self.send(from, &replies::iack(irr.request_seq_num));
                } else {
                    self.counters.ignored += 1;
                }
            }
            RasMessage::InfoRequest(_) | RasMessage::NonStandardMessage(_) => {
                if let Some(seq) = message.request_seq_num() {
                    self.counters.xrs_sent += 1;
                    self.send(from, &crate::ras::unknown_message_response(seq, datagram));
                }
            }
            RasMessage::ResourcesAvailableIndicate(_) | RasMessage::ServiceControlIndication(_) => {
                // Valid requests we do not handle, kept opaque: XRS with the
                // sequence number read from the header.
                self.answer_not_understood_opaque(from, datagram);
            }
            _ => self.counters.ignored += 1,
        }
    }

    fn answer_not_understood_opaque(&mut self, from: SocketAddr, datagram: &[u8]) {
        match crate::ras::peek(datagram).and_then(|h| h.request_seq_num) {
            Some(seq) => {
                self.counters.xrs_sent += 1;
                self.send(from, &crate::ras::unknown_message_response(seq, datagram));
            }
            None => self.counters.ignored += 1,
        }
    }

    fn on_grq(&mut self, from: SocketAddr, grq: &GatekeeperRequest) {
        let ours = crate::ras::bmp(&self.config.gatekeeper_id);
        let reply = match &grq.gatekeeper_identifier {
            Some(id) if *id != ours => replies::grj(
                grq.request_seq_num,
                &self.config.gatekeeper_id,
                GatekeeperRejectReason::TerminalExcluded(()),
            ),
            _ => replies::gcf(
                grq.request_seq_num,
                &self.config.gatekeeper_id,
                TransportAddress::from_socket(self.config.ras_address),
                &self.config.alternate_gatekeepers,
            ),
        };
        self.send(from, &reply);
    }

    pub(super) fn gate(
        &mut self,
        decision: Decision,
        request: &'static str,
        terminal_id: Option<&str>,
        from: SocketAddr,
    ) {
        if !decision.passed {
            self.counters.rejected += u64::from(decision.gate != Gate::Authenticity);
        }
        self.emit(Output::Event(Event::Gate {
            decision,
            request,
            terminal_id: terminal_id.map(str::to_owned),
            from,
        }));
    }

    /// RRQ, URQ, ARQ, BRQ, DRQ: retransmission cache, authenticity, then the
    /// message's own gates. The reply is cached for retransmissions.
    fn on_signed(
        &mut self,
        now: UnixMillis,
        from: SocketAddr,
        datagram: &[u8],
        kind: u8,
        message: RasMessage,
        preverified: bool,
    ) {
        let Some(seq) = message.request_seq_num() else {
            return;
        };
        let name = message.name();
        if let Some(reply) = self.cache.lookup(from, seq, datagram) {
            let bytes = reply.to_vec();
            self.counters.retransmissions += 1;
            self.emit(Output::Transmit(super::Transmit { to: from, bytes }));
            return;
        }
        let terminal_id = match authenticate(
            &self.registry,
            &mut self.replay,
            &mut self.counters,
            now,
            datagram,
            &message,
            preverified,
        ) {
            Ok(id) => {
                self.gate(
                    Decision::pass(Gate::Authenticity, "signature verified"),
                    name,
                    Some(&id),
                    from,
                );
                id
            }
            Err((id, failure)) => {
                self.gate(
                    Decision::reject(Gate::Authenticity, failure.to_string()),
                    name,
                    id.as_deref(),
                    from,
                );
                if let Some(reply) = replies::reject_for(kind, seq, Refusal::Security) {
                    self.send(from, &reply);
                }
                return;
            }
        };
        let reply = match &message {
            RasMessage::RegistrationRequest(rrq) => self.on_rrq(now, from, &terminal_id, rrq),
            RasMessage::UnregistrationRequest(urq) => self.on_urq(from, &terminal_id, urq),
            RasMessage::AdmissionRequest(arq) => self.on_arq(from, &terminal_id, arq),
            RasMessage::BandwidthRequest(brq) => self.on_brq(from, &terminal_id, brq),
            RasMessage::DisengageRequest(drq) => self.on_drq(from, &terminal_id, drq),
            _ => return,
        };
        if let Some(bytes) = self.send(from, &reply) {
            self.cache.insert(now, from, seq, datagram, bytes);
        }
    }

    /// Checks that `endpoint_id` is registered to `terminal_id`.
    pub(super) fn owner_check(
        &self,
        terminal_id: &str,
        endpoint_id: &BmpString,
    ) -> Result<String, Refusal> {
        let endpoint_id = bmp_to_string(endpoint_id);
        match self.state.registrations.get(&endpoint_id) {
            None => Err(Refusal::NotRegistered),
            Some(r) if r.terminal_id != terminal_id => Err(Refusal::WrongEndpoint),
            Some(_) => Ok(endpoint_id),
        }
    }

    fn on_rrq(
        &mut self,
        now: UnixMillis,
        from: SocketAddr,
        terminal_id: &str,
        rrq: &RegistrationRequest,
    ) -> RasMessage {
        let seq = rrq.request_seq_num;
        let ttl_s = rrq
            .time_to_live
            .unwrap_or(self.config.ttl_s_default)
            .clamp(1, self.config.ttl_s_max);
        let gk = self.config.gatekeeper_id.clone();
        let csa = TransportAddress::from_socket(self.config.call_signal_address);
        if rrq.keep_alive == Some(true) {
            // Lightweight refresh: endpointIdentifier of a live registration
            // of this same terminal, from the same address.
            let endpoint_id = rrq.endpoint_identifier.as_ref().map(bmp_to_string);
            let live = endpoint_id
                .as_ref()
                .and_then(|e| self.state.registrations.get_mut(e));
            return match live {
                Some(r) if r.terminal_id == terminal_id && r.from == from => {
                    r.expires = now.plus_secs(u64::from(ttl_s));
                    let e = endpoint_id.unwrap_or_default();
                    self.state.journal.registration(&e);
                    replies::rcf(seq, &gk, csa, &e, ttl_s, &self.config.alternate_gatekeepers)
                }
                _ => {
                    self.gate(
                        Decision::reject(Gate::AntiSybil, "keep-alive for no live registration"),
                        "RRQ",
                        Some(terminal_id),
                        from,
                    );
                    replies::rrj(seq, Refusal::FullRegistrationRequired, None)
                }
            };
        }
        // Anti-sybil: one registration per terminal_id, one terminal per address.
        let alias = rrq.terminal_alias.as_ref().and_then(|a| a.first().cloned());
        if let Some(existing) = self.state.by_terminal.get(terminal_id) {
            if self
                .state
                .registrations
                .get(existing)
                .is_some_and(|r| r.from != from)
            {
                self.gate(
                    Decision::reject(
                        Gate::AntiSybil,
                        "terminal already registered from another address",
                    ),
                    "RRQ",
                    Some(terminal_id),
                    from,
                );
                return replies::rrj(seq, Refusal::Duplicate, alias);
            }
        }
        if self
            .state
            .registrations
            .values()
            .any(|r| r.from == from && r.terminal_id != terminal_id)
        {
            self.gate(
                Decision::reject(Gate::AntiSybil, "address registered by another terminal"),
                "RRQ",
                Some(terminal_id),
                from,
            );
            return replies::rrj(seq, Refusal::Duplicate, alias);
        }
        self.gate(
            Decision::pass(Gate::AntiSybil, "one registration per terminal"),
            "RRQ",
            Some(terminal_id),
            from,
        );
        let existing = self.state.by_terminal.get(terminal_id).cloned();
        if existing.is_none()
            && (!self.admissions_enabled
                || self.state.registrations.len() >= self.config.registrations_max)
        {
            let why = if self.admissions_enabled {
                "registrations at global limit"
            } else {
                "admissions stopped"
            };
            self.gate(
                Decision::reject(Gate::Capacity, why),
                "RRQ",
                Some(terminal_id),
                from,
            );
            return replies::rrj(seq, Refusal::Resources, None);
        }
        let endpoint_id = existing.unwrap_or_else(|| self.state.new_endpoint_id());
        self.state.registrations.insert(
            endpoint_id.clone(),
            Registration {
                terminal_id: terminal_id.to_owned(),
                from,
                expires: now.plus_secs(u64::from(ttl_s)),
            },
        );
        self.state
            .by_terminal
            .insert(terminal_id.to_owned(), endpoint_id.clone());
        self.state.journal.registration(&endpoint_id);
        let aliases = rrq
            .terminal_alias
            .iter()
            .flatten()
            .map(alias_text)
            .collect();
        self.emit(Output::Event(Event::Registered {
            terminal_id: terminal_id.to_owned(),
            endpoint_id: endpoint_id.clone(),
            aliases,
            from,
            ttl_s,
        }));
        replies::rcf(
            seq,
            &gk,
            csa,
            &endpoint_id,
            ttl_s,
            &self.config.alternate_gatekeepers,
        )
    }

    fn on_urq(
        &mut self,
        from: SocketAddr,
        terminal_id: &str,
        urq: &UnregistrationRequest,
    ) -> RasMessage {
        let seq = urq.request_seq_num;
        let endpoint_id = match urq.endpoint_identifier.as_ref() {
            Some(e) => self.owner_check(terminal_id, e),
            None => self
                .state
                .by_terminal
                .get(terminal_id)
                .cloned()
                .ok_or(Refusal::NotRegistered),
        };
        match endpoint_id {
            Ok(endpoint_id) => {
                self.unregister(&endpoint_id, "urq");
                replies::ucf(seq)
            }
            Err(refusal) => {
                self.gate(
                    Decision::reject(Gate::AntiSybil, "URQ for a registration it does not own"),
                    "URQ",
                    Some(terminal_id),
                    from,
                );
                replies::urj(seq, refusal)
            }
        }
    }

    pub(super) fn unregister(
        &mut self,
        endpoint_id: &str,
        reason: &'static str,
    ) -> Option<Registration> {
        for key in self.state.calls_of(endpoint_id) {
            self.release_call(&key);
        }
        let registration = self.state.registrations.remove(endpoint_id)?;
        self.state.by_terminal.remove(&registration.terminal_id);
        self.state.journal.registration(endpoint_id);
        self.emit(Output::Event(Event::Unregistered {
            terminal_id: registration.terminal_id.clone(),
            reason,
        }));
        Some(registration)
    }

    pub(super) fn expire_registrations(&mut self, now: UnixMillis) {
        let expired: Vec<String> = self
            .state
            .registrations
            .iter()
            .filter(|(_, r)| r.expires <= now)
            .map(|(e, _)| e.clone())
            .collect();
        for endpoint_id in expired {
            if let Some(r) = self.unregister(&endpoint_id, "ttl-expired") {
                let seq = self.next_request_seq_num();
                let gk = self.config.gatekeeper_id.clone();
                let urq = replies::urq(seq, &gk, &endpoint_id, UnregRequestReason::TtlExpired(()));
                self.send(r.from, &urq);
            }
        }
    }
}
