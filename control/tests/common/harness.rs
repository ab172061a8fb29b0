//! A gatekeeper on a virtual clock with a stub engine, and guardians with
//! deterministic keys, for driving whole RAS exchanges in memory.

use std::net::SocketAddr;
use std::sync::Arc;

use control::client::GuardianClient;
use control::engine_api::StubEngine;
use control::gatekeeper::{Config, Event, Gatekeeper, Output, UnixMillis};
use control::ras::{self, RasMessage};
use control::registry::{Guardian, Registry};
use ed25519_dalek::SigningKey;

/// Start of the virtual clock: 2023-11-14T22:13:20Z.
pub const T0_MS: u64 = 1_700_000_000_000;

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub fn terminal(n: u8) -> String {
    format!("if://guardian/g{n}")
}

/// A registry of guardians `1..=n`, guardian `i` keyed by seed `i`.
pub fn registry(n: u8, quota_bps: u64) -> Registry {
    Registry::from_guardians(
        (1..=n)
            .map(|i| Guardian {
                terminal_id: terminal(i),
                role: format!("Guardian {i}"),
                public_key: key(i).verifying_key(),
                bandwidth_quota_bps: quota_bps,
            })
            .collect(),
    )
}

pub fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, n], 1719))
}

pub struct Harness {
    pub gk: Gatekeeper<StubEngine>,
    pub now: UnixMillis,
    pub events: Vec<Event>,
}

impl Harness {
    pub fn new(config: Config, registry: Registry) -> Self {
        Self {
            gk: Gatekeeper::new(config, Arc::new(registry), StubEngine::default()),
            now: UnixMillis(T0_MS),
            events: Vec::new(),
        }
    }

    pub fn now_s(&self) -> u32 {
        u32::try_from(self.now.secs()).expect("time fits")
    }

    /// Feeds a datagram and returns the decoded replies sent to `from`.
    pub fn send(&mut self, from: SocketAddr, datagram: &[u8]) -> Vec<RasMessage> {
        self.gk.handle_datagram(self.now, from, datagram);
        self.drain()
            .into_iter()
            .filter(|(to, _)| *to == from)
            .map(|(_, b)| ras::decode(&b).expect("gatekeeper sent undecodable bytes"))
            .collect()
    }

    /// Feeds a datagram and returns the raw replies.
    pub fn send_raw(&mut self, from: SocketAddr, datagram: &[u8]) -> Vec<Vec<u8>> {
        self.gk.handle_datagram(self.now, from, datagram);
        self.drain().into_iter().map(|(_, b)| b).collect()
    }

    /// Feeds datagrams as one batch; returns `(to, decoded reply)` in order.
    pub fn send_batch(&mut self, batch: &[(SocketAddr, Vec<u8>)]) -> Vec<(SocketAddr, RasMessage)> {
        let refs: Vec<(SocketAddr, &[u8])> =
            batch.iter().map(|(a, d)| (*a, d.as_slice())).collect();
        self.gk.handle_datagrams(self.now, &refs);
        self.drain()
            .into_iter()
            .map(|(to, b)| {
                (
                    to,
                    ras::decode(&b).expect("gatekeeper sent undecodable bytes"),
                )
            })
            .collect()
    }

    /// Drains outputs: transmits are returned, events kept.
    pub fn drain(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut sent = Vec::new();
        loop {
            match self.gk.poll_output() {
                Output::Transmit(t) => sent.push((t.to, t.bytes)),
                Output::Event(e) => self.events.push(e),
                Output::Timeout(_) => return sent,
            }
        }
    }

    pub fn advance_s(&mut self, s: u64) -> Vec<(SocketAddr, Vec<u8>)> {
        self.now = self.now.plus_secs(s);
        self.gk.handle_timeout(self.now);
        self.drain()
    }

    /// Registers guardian `n` from `addr(n)`; returns its client.
    pub fn register(&mut self, n: u8) -> GuardianClient {
        let mut c = GuardianClient::new(&terminal(n), key(n), u32::from(n) * 1000);
        let rrq = c.rrq(self.now_s(), addr(n), 300).expect("sign");
        let replies = self.send_raw(addr(n), &rrq);
        assert_eq!(replies.len(), 1, "one reply to RRQ");
        let m = c.absorb(&replies[0]).expect("decode");
        assert!(
            matches!(m, RasMessage::RegistrationConfirm(_)),
            "RRQ of guardian {n} got {m:?}"
        );
        c
    }
}

pub fn is_acf(m: &[RasMessage]) -> bool {
    matches!(m, [RasMessage::AdmissionConfirm(_)])
}

pub fn acf_units(m: &[RasMessage]) -> Option<u32> {
    match m {
        [RasMessage::AdmissionConfirm(a)] => Some(a.band_width),
        _ => None,
    }
}
