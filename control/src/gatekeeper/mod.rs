//! The gatekeeper: a sans-IO H.225.0 RAS state machine.
//!
//! Feed it with [`Gatekeeper::handle_datagram`] (a datagram, its source and
//! the current time) and [`Gatekeeper::handle_timeout`], then drain it with
//! [`Gatekeeper::poll_output`] until it returns [`Output::Timeout`], which says
//! when to call `handle_timeout` next. It owns no socket, thread or clock:
//! time is always an argument ([`UnixMillis`], wall-clock milliseconds, since
//! token timestamps are UNIX seconds), and the engine is reached through the
//! non-blocking [`EngineApi`] trait. Replies go to the request's source.

mod auth;
mod calls;
mod handlers;
pub mod replicate;
mod replies;
mod state;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::engine_api::EngineApi;
use crate::policy::Decision;
use crate::ras::{self, RasMessage};
use crate::registry::Registry;
use crate::security::ReplayWindow;

pub use state::CallKey;

/// Wall-clock time in milliseconds since the UNIX epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixMillis(pub u64);

impl UnixMillis {
    /// Whole seconds.
    #[must_use]
    pub fn secs(self) -> u64 {
        self.0 / 1000
    }

    /// This time plus `s` seconds.
    #[must_use]
    pub fn plus_secs(self, s: u64) -> Self {
        Self(self.0.saturating_add(s.saturating_mul(1000)))
    }
}

/// Gatekeeper configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `gatekeeperIdentifier` sent in GCF/RCF.
    pub gatekeeper_id: String,
    /// The gatekeeper's RAS address (GCF `rasAddress`).
    pub ras_address: SocketAddr,
    /// The MCU's call-signalling address (ACF `destCallSignalAddress`, RCF
    /// `callSignalAddress`). Never port 1719.
    pub call_signal_address: SocketAddr,
    /// TTL granted when an RRQ asks for none, seconds.
    pub ttl_s_default: u32,
    /// Largest TTL granted, seconds.
    pub ttl_s_max: u32,
    /// Token timestamp window half-width, seconds (default ±30).
    pub replay_window_s: u32,
    /// Bound on remembered `(generalID, random)` pairs.
    pub replay_entries_max: usize,
    /// Distinct admitted endpoints per conference (default 25).
    pub conference_capacity: usize,
    /// Registrations at once, all terminals.
    pub registrations_max: usize,
    /// Active calls at once, all conferences.
    pub calls_max: usize,
    /// Smallest reduced grant for an over-quota ARQ, RAS units (100 bit/s).
    pub grant_units_min: u32,
    /// ACF `irrFrequency`, seconds.
    pub irr_frequency_s: u16,
    /// Cached replies for byte-identical retransmissions.
    pub retransmit_cache_max: usize,
    /// How long a cached reply is kept, seconds.
    pub retransmit_cache_s: u32,
    /// Bound on queued outputs; beyond it new outputs are dropped and counted.
    pub outputs_max: usize,
    /// First `requestSeqNum` of gatekeeper-initiated requests (seed it from
    /// outside, e.g. randomly, so restarts do not repeat numbers).
    pub request_seq_num_seed: u16,
    /// Changes kept for a standby that falls behind; further behind, it gets
    /// a snapshot. 0 turns the journal off (snapshots only).
    pub replication_journal_max: usize,
    /// Alternate gatekeepers advertised in GCF and RCF (`alternateGatekeeper`),
    /// e.g. the HA peer's own RAS address. Empty: the field is left out.
    pub alternate_gatekeepers: Vec<AlternateGatekeeper>,
}

/// One `AlternateGK` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternateGatekeeper {
    /// Its RAS address.
    pub ras_address: SocketAddr,
    /// Its gatekeeperIdentifier (the same as ours for an HA pair).
    pub gatekeeper_id: Option<String>,
    /// Whether a terminal must register again there (false for an HA pair:
    /// the registration is replicated).
    pub need_to_register: bool,
    /// 0 is the most preferred (0..=127).
    pub priority: u8,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            gatekeeper_id: "GK".into(),
            ras_address: SocketAddr::from(([127, 0, 0, 1], 1719)),
            call_signal_address: SocketAddr::from(([127, 0, 0, 1], 1720)),
            ttl_s_default: 300,
            ttl_s_max: 3600,
            replay_window_s: crate::security::replay::WINDOW_S_DEFAULT,
            replay_entries_max: crate::security::replay::ENTRIES_MAX_DEFAULT,
            conference_capacity: 25,
            registrations_max: 1000,
            calls_max: 1000,
            grant_units_min: 64,
            irr_frequency_s: 30,
            retransmit_cache_max: 4096,
            retransmit_cache_s: 60,
            outputs_max: 65_536,
            request_seq_num_seed: 1,
            replication_journal_max: 8192,
            alternate_gatekeepers: Vec::new(),
        }
    }
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Destination (the request's source).
    pub to: SocketAddr,
    /// Aligned-PER bytes.
    pub bytes: Vec<u8>,
}

/// Something for the audit log or operators. Free text in events (aliases)
/// has passed the PII filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A policy gate decided on a request.
    Gate {
        /// The decision.
        decision: Decision,
        /// The request's short name (RRQ, ARQ, …).
        request: &'static str,
        /// The guardian, when the token named one.
        terminal_id: Option<String>,
        /// The request's source.
        from: SocketAddr,
    },
    /// A guardian registered.
    Registered {
        /// The guardian.
        terminal_id: String,
        /// The endpointIdentifier assigned.
        endpoint_id: String,
        /// The PII-filtered aliases it registered.
        aliases: Vec<String>,
        /// Its RAS address.
        from: SocketAddr,
        /// TTL granted, seconds.
        ttl_s: u32,
    },
    /// A registration ended.
    Unregistered {
        /// The guardian.
        terminal_id: String,
        /// Why: "urq", "ttl-expired", "registry-removed".
        reason: &'static str,
    },
    /// A call was admitted (ACF sent).
    Admitted {
        /// The guardian.
        terminal_id: String,
        /// The conference.
        conference_id: [u8; 16],
        /// Granted bandwidth, bit/s.
        bandwidth_bps: u64,
        /// Whether the grant was reduced to the quota.
        reduced: bool,
    },
    /// A call ended (DRQ, URQ or expiry).
    Released {
        /// The guardian.
        terminal_id: String,
        /// The conference.
        conference_id: [u8; 16],
    },
    /// A datagram could not be decoded.
    Malformed {
        /// The source.
        from: SocketAddr,
        /// The codec error.
        error: ras::CodecError,
    },
}

/// What [`Gatekeeper::poll_output`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this datagram.
    Transmit(Transmit),
    /// Record this event.
    Event(Event),
    /// Nothing more to do: call `handle_timeout` at this time (or earlier if
    /// a datagram arrives). `None`: no timer is pending.
    Timeout(Option<UnixMillis>),
}

/// Counters for operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams handled.
    pub datagrams: u64,
    /// Datagrams that failed to decode (malformed, truncated, oversize, junk).
    pub malformed: u64,
    /// XRS sent.
    pub xrs_sent: u64,
    /// Requests refused by the authenticity gate.
    pub auth_failures: u64,
    /// … of which replays.
    pub replays: u64,
    /// … of which stale timestamps.
    pub stale: u64,
    /// Retransmissions answered from the cache.
    pub retransmissions: u64,
    /// Requests refused by any other gate or check.
    pub rejected: u64,
    /// Replies or confirmations sent (all kinds).
    pub replies: u64,
    /// Outputs dropped because the output queue was full.
    pub outputs_dropped: u64,
    /// Messages received that need no answer (confirms, rejects, XRS, RIP).
    pub ignored: u64,
}

/// The gatekeeper state machine.
#[derive(Debug)]
pub struct Gatekeeper<E: EngineApi> {
    config: Config,
    registry: Arc<Registry>,
    engine: E,
    replay: ReplayWindow,
    cache: auth::RetransmitCache,
    state: state::State,
    outputs: VecDeque<Output>,
    counters: Counters,
    admissions_enabled: bool,
    next_seq_num: u16,
}

impl<E: EngineApi> Gatekeeper<E> {
    /// A gatekeeper with this configuration, registry and engine.
    pub fn new(config: Config, registry: Arc<Registry>, engine: E) -> Self {
        let replay = ReplayWindow::new(config.replay_window_s, config.replay_entries_max);
        let cache =
            auth::RetransmitCache::new(config.retransmit_cache_max, config.retransmit_cache_s);
        let next_seq_num = config.request_seq_num_seed.max(1);
        let journal = replicate::Journal::new(config.replication_journal_max);
        Self {
            config,
            registry,
            engine,
            replay,
            cache,
            state: state::State {
                journal,
                ..state::State::default()
            },
            outputs: VecDeque::new(),
            counters: Counters::default(),
            admissions_enabled: true,
            next_seq_num,
        }
    }

    /// Handles one received datagram.
    pub fn handle_datagram(&mut self, now: UnixMillis, from: SocketAddr, datagram: &[u8]) {
        self.counters.datagrams += 1;
        let message = match ras::decode(datagram) {
            Ok(m) => m,
            Err(error) => {
                self.counters.malformed += 1;
                self.emit(Output::Event(Event::Malformed { from, error }));
                self.answer_not_understood(from, datagram);
                return;
            }
        };
        self.handle_message(now, from, datagram, message, false);
    }

    /// Handles datagrams that arrived together, in order. The signatures of
    /// the signed requests among them are checked in one Ed25519 batch; if
    /// the batch fails, each is checked alone. Otherwise identical to calling
    /// [`Self::handle_datagram`] for each.
    pub fn handle_datagrams(&mut self, now: UnixMillis, batch: &[(SocketAddr, &[u8])]) {
        let decoded: Vec<Result<RasMessage, ras::CodecError>> =
            batch.iter().map(|(_, d)| ras::decode(d)).collect();
        let mut items = Vec::new();
        let mut item_of = Vec::new();
        for (i, ((from, datagram), message)) in batch.iter().zip(&decoded).enumerate() {
            let Ok(message) = message else { continue };
            let item = auth::batch_item(
                &self.registry,
                &self.replay,
                &self.cache,
                now,
                *from,
                datagram,
                message,
            );
            if let Some(item) = item {
                items.push(item);
                item_of.push(i);
            }
        }
        let mut preverified = vec![false; batch.len()];
        if items.len() >= 2 && crate::security::token::verify_batch(&items) {
            for i in item_of {
                preverified[i] = true;
            }
        }
        for (((from, datagram), message), preverified) in batch.iter().zip(decoded).zip(preverified)
        {
            self.counters.datagrams += 1;
            match message {
                Ok(message) => self.handle_message(now, *from, datagram, message, preverified),
                Err(error) => {
                    self.counters.malformed += 1;
                    self.emit(Output::Event(Event::Malformed { from: *from, error }));
                    self.answer_not_understood(*from, datagram);
                }
            }
        }
    }

    /// Handles expired timers (registration TTLs, cache ageing).
    pub fn handle_timeout(&mut self, now: UnixMillis) {
        self.expire_registrations(now);
        self.cache.purge(now);
    }

    /// The next output; [`Output::Timeout`] once drained.
    pub fn poll_output(&mut self) -> Output {
        self.outputs.pop_front().unwrap_or_else(|| {
            let next = match (self.state.next_expiry(), self.cache.next_expiry()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            Output::Timeout(next)
        })
    }

    /// Swaps in a new registry (hot reload). Existing calls continue; requests
    /// from guardians no longer listed fail the authenticity gate.
    pub fn replace_registry(&mut self, registry: Arc<Registry>) {
        self.registry = registry;
    }

    /// Stops (or resumes) admitting: new ARQs and full RRQs are refused with
    /// `resourceUnavailable`; keep-alives, BRQ, DRQ and URQ still work.
    pub fn set_admissions_enabled(&mut self, enabled: bool) {
        self.admissions_enabled = enabled;
    }

    /// The counters.
    #[must_use]
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The engine (for tests and the shell).
    pub fn engine(&self) -> &E {
        &self.engine
    }

    /// Mutable engine access.
    pub fn engine_mut(&mut self) -> &mut E {
        &mut self.engine
    }

    /// Number of live registrations.
    #[must_use]
    pub fn registrations(&self) -> usize {
        self.state.registrations.len()
    }

    /// Number of active calls.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.state.calls.len()
    }

    /// Distinct guardians admitted to a conference.
    #[must_use]
    pub fn conference_members(&self, conference_id: &[u8; 16]) -> usize {
        self.state
            .conferences
            .get(conference_id)
            .map_or(0, |c| c.members.len())
    }

    /// Bandwidth in use by a guardian's calls, RAS units.
    #[must_use]
    pub fn bandwidth_units_used(&self, terminal_id: &str) -> u64 {
        self.state.units_used(terminal_id)
    }

    fn emit(&mut self, output: Output) {
        if self.outputs.len() >= self.config.outputs_max {
            self.counters.outputs_dropped += 1;
            return;
        }
        self.outputs.push_back(output);
    }

    fn send(&mut self, to: SocketAddr, message: &RasMessage) -> Option<Vec<u8>> {
        match ras::encode(message) {
            Ok(bytes) => {
                self.counters.replies += 1;
                self.emit(Output::Transmit(Transmit {
                    to,
                    bytes: bytes.clone(),
                }));
                Some(bytes)
            }
            Err(error) => {
                // Our own messages are built within their constraints; an
                // encoding failure is a bug, reported rather than panicking.
                debug_assert!(false, "cannot encode {}: {error}", message.name());
                None
            }
        }
    }

    fn next_request_seq_num(&mut self) -> u16 {
        let n = self.next_seq_num;
        self.next_seq_num = if n == u16::MAX { 1 } else { n + 1 };
        n
    }

    /// A datagram that did not decode: XRS if its header names a request and
    /// a sequence number; otherwise silence (there is nobody to answer).
    fn answer_not_understood(&mut self, from: SocketAddr, datagram: &[u8]) {
        let Some(header) = ras::peek(datagram) else {
            return;
        };
        let Some(seq) = header.request_seq_num else {
            return;
        };
        if !replies::is_request_kind(header.kind_index) {
            return;
        }
        self.counters.xrs_sent += 1;
        let xrs = ras::unknown_message_response(seq, datagram);
        self.send(from, &xrs);
    }
}
