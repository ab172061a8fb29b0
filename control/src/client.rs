//! A guardian-side RAS client that builds signed requests: used by the tests,
//! the benchmark and the fuzz corpus, and a reference for guardian software.
//! Like the gatekeeper it is sans-IO: time is an argument.

use std::net::SocketAddr;

use ed25519_dalek::SigningKey;
use rasn::types::{BmpString, FixedOctetString};

use crate::ras::types::*;
use crate::ras::{self, bmp, bmp_to_string, RasMessage};
use crate::security::token::{self, Claims, RANDOM_MAX};
use crate::security::TokenError;

/// One guardian's RAS client state.
#[derive(Debug)]
pub struct GuardianClient {
    terminal_id: String,
    key: SigningKey,
    next_seq: u16,
    random_counter: u32,
    endpoint_id: Option<String>,
}

impl GuardianClient {
    /// A client for `terminal_id` signing with `key`. `seed` picks where the
    /// `random` sequence starts; values do not repeat for 2^31 − 1 requests.
    #[must_use]
    pub fn new(terminal_id: &str, key: SigningKey, seed: u32) -> Self {
        Self {
            terminal_id: terminal_id.to_owned(),
            key,
            next_seq: 1,
            random_counter: seed % RANDOM_MAX,
            endpoint_id: None,
        }
    }

    /// The endpointIdentifier learnt from the last RCF.
    #[must_use]
    pub fn endpoint_id(&self) -> Option<&str> {
        self.endpoint_id.as_deref()
    }

    /// Sets the endpointIdentifier (e.g. to impersonate in tests).
    pub fn set_endpoint_id(&mut self, id: &str) {
        self.endpoint_id = Some(id.to_owned());
    }

    fn seq(&mut self) -> u16 {
        let s = self.next_seq;
        self.next_seq = if s == u16::MAX { 1 } else { s + 1 };
        s
    }

    fn claims(&mut self, now_s: u32) -> Claims {
        self.random_counter = self.random_counter % RANDOM_MAX + 1;
        Claims {
            general_id: self.terminal_id.clone(),
            timestamp_s: now_s,
            random: self.random_counter,
        }
    }

    /// Signs any message with a fresh token; returns the datagram.
    pub fn sign(&mut self, message: &mut RasMessage, now_s: u32) -> Result<Vec<u8>, TokenError> {
        let claims = self.claims(now_s);
        token::sign(message, &self.key, &claims)
    }

    fn endpoint_bmp(&self) -> BmpString {
        bmp(self.endpoint_id.as_deref().unwrap_or("unregistered"))
    }

    /// A GRQ from `ras` (unsigned: discovery comes before the terminal
    /// knows which gatekeeper's registry it is in).
    pub fn grq(&mut self, ras: SocketAddr) -> Result<Vec<u8>, ras::CodecError> {
        let m = RasMessage::GatekeeperRequest(GatekeeperRequest {
            request_seq_num: self.seq(),
            ras_address: TransportAddress::from_socket(ras),
            endpoint_type: EndpointType::terminal(),
            endpoint_alias: Some(vec![AliasAddress::H323Id(bmp(&self.terminal_id))]),
            ..GatekeeperRequest::default()
        });
        ras::encode(&m)
    }

    /// A full RRQ from `addr` asking for `ttl_s`.
    pub fn rrq(&mut self, now_s: u32, addr: SocketAddr, ttl_s: u32) -> Result<Vec<u8>, TokenError> {
        let mut m = RasMessage::RegistrationRequest(RegistrationRequest {
            request_seq_num: self.seq(),
            discovery_complete: false,
            call_signal_address: vec![TransportAddress::from_socket(addr)],
            ras_address: vec![TransportAddress::from_socket(addr)],
            terminal_type: EndpointType::terminal(),
            terminal_alias: Some(vec![AliasAddress::H323Id(bmp(&self.terminal_id))]),
            endpoint_vendor: VendorIdentifier::default(),
            time_to_live: Some(ttl_s),
            keep_alive: Some(false),
            will_supply_uuies: Some(false),
            maintain_connection: Some(false),
            ..RegistrationRequest::default()
        });
        self.sign(&mut m, now_s)
    }

    /// A lightweight keep-alive RRQ.
    pub fn keep_alive(&mut self, now_s: u32, ttl_s: u32) -> Result<Vec<u8>, TokenError> {
        let mut m = RasMessage::RegistrationRequest(RegistrationRequest {
            request_seq_num: self.seq(),
            terminal_type: EndpointType::terminal(),
            time_to_live: Some(ttl_s),
            keep_alive: Some(true),
            endpoint_identifier: Some(self.endpoint_bmp()),
            will_supply_uuies: Some(false),
            maintain_connection: Some(false),
            ..RegistrationRequest::default()
        });
        self.sign(&mut m, now_s)
    }

    /// An ARQ to join `conference` with call `call`, asking `units` × 100 bit/s.
    pub fn arq(
        &mut self,
        now_s: u32,
        conference: [u8; 16],
        call: [u8; 16],
        units: u32,
    ) -> Result<Vec<u8>, TokenError> {
        let mut m = RasMessage::AdmissionRequest(AdmissionRequest {
            request_seq_num: self.seq(),
            call_type: CallType::NToN(()),
            endpoint_identifier: self.endpoint_bmp(),
            src_info: vec![AliasAddress::H323Id(bmp(&self.terminal_id))],
            band_width: units,
            call_reference_value: 1,
            conference_id: FixedOctetString::new(conference),
            can_map_alias: Some(false),
            call_identifier: Some(CallIdentifier::new(call)),
            will_supply_uuies: Some(false),
            can_map_src_alias: Some(false),
            ..AdmissionRequest::default()
        });
        self.sign(&mut m, now_s)
    }

    /// A BRQ changing call `call` to `units`.
    pub fn brq(
        &mut self,
        now_s: u32,
        conference: [u8; 16],
        call: [u8; 16],
        units: u32,
    ) -> Result<Vec<u8>, TokenError> {
        let mut m = RasMessage::BandwidthRequest(BandwidthRequest {
            request_seq_num: self.seq(),
            endpoint_identifier: self.endpoint_bmp(),
            conference_id: FixedOctetString::new(conference),
            call_reference_value: 1,
            band_width: units,
            call_identifier: Some(CallIdentifier::new(call)),
            answered_call: Some(false),
            ..BandwidthRequest::default()
        });
        self.sign(&mut m, now_s)
    }

    /// A DRQ ending call `call`.
    pub fn drq(
        &mut self,
        now_s: u32,
        conference: [u8; 16],
        call: [u8; 16],
    ) -> Result<Vec<u8>, TokenError> {
        let mut m = RasMessage::DisengageRequest(DisengageRequest {
            request_seq_num: self.seq(),
            endpoint_identifier: self.endpoint_bmp(),
            conference_id: FixedOctetString::new(conference),
            call_reference_value: 1,
            disengage_reason: DisengageReason::NormalDrop(()),
            call_identifier: Some(CallIdentifier::new(call)),
            answered_call: Some(false),
            ..DisengageRequest::default()
        });
        self.sign(&mut m, now_s)
    }

    /// A URQ for this client's registration.
    pub fn urq(&mut self, now_s: u32, addr: SocketAddr) -> Result<Vec<u8>, TokenError> {
        let mut m = RasMessage::UnregistrationRequest(UnregistrationRequest {
            request_seq_num: self.seq(),
            call_signal_address: vec![TransportAddress::from_socket(addr)],
            endpoint_identifier: Some(self.endpoint_bmp()),
            ..UnregistrationRequest::default()
        });
        self.sign(&mut m, now_s)
    }

    /// Reads a reply; learns the endpointIdentifier from an RCF.
    pub fn absorb(&mut self, reply: &[u8]) -> Result<RasMessage, ras::CodecError> {
        let m = ras::decode(reply)?;
        if let RasMessage::RegistrationConfirm(rcf) = &m {
            self.endpoint_id = Some(bmp_to_string(&rcf.endpoint_identifier));
        }
        Ok(m)
    }
}
