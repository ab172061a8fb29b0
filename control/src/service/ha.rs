//! The service thread's HA duties (docs/ha.md, "Integration"): act on the
//! peer link's actions, claim the engines through [`Fencing`], hold the
//! floating RAS socket only while primary, and count what `/metrics` and
//! the failover record need.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use super::POLL_MS_MAX;
use crate::engine_api::EngineApi;
use crate::gatekeeper::{Gatekeeper, UnixMillis};
use crate::ha::floating::{self, FloatingConfig};
use crate::ha::link::LinkOutput;
use crate::ha::{spawn_peer_link, Action, HaEvent, LinkConfig, LinkError, LinkHandle};
use crate::media_link::Fencing;

/// HA settings of the service.
#[derive(Debug, Clone)]
pub struct HaConfig {
    /// The peer link.
    pub link: LinkConfig,
    /// The floating RAS address.
    pub floating: FloatingConfig,
}

/// HA state for `/metrics` and the failover hook, in [`super::ServiceStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HaStatus {
    /// "standby", "candidate" or "primary".
    pub role: &'static str,
    /// The epoch held (primary) or last held.
    pub epoch: u64,
    /// Failovers completed by this node (it became primary after losing
    /// the peer primary).
    pub failovers: u64,
    /// The last failover's duration (old primary's last heartbeat →
    /// engines accepted this node), ms.
    pub last_failover_ms: u64,
    /// Promotions of any kind (cold start, handover, failover).
    pub promotions: u64,
    /// Demotions.
    pub demotions: u64,
    /// Floating-address take or release failures.
    pub address_errors: u64,
}

/// The HA side of the service thread.
pub(super) struct HaShell {
    link: LinkHandle,
    floating: FloatingConfig,
    fencing: Fencing,
    /// Primary without the address (the old holder still had it): when to
    /// try binding again.
    retry_address: Option<Instant>,
    pub(super) status: HaStatus,
}

/// Pause between binds of the floating address while it is still held.
const ADDRESS_RETRY: Duration = Duration::from_millis(100);

impl HaShell {
    pub(super) fn start(config: HaConfig, fencing: Fencing) -> Result<Self, LinkError> {
        Ok(Self {
            link: spawn_peer_link(config.link)?,
            floating: config.floating,
            fencing,
            retry_address: None,
            status: HaStatus {
                role: "standby",
                ..HaStatus::default()
            },
        })
    }

    /// Whether this node serves RAS and may command the engines.
    pub(super) fn is_primary(&self) -> bool {
        self.link.is_primary()
    }

    /// Acts on the link's outputs and the engines' answers. `socket` is the
    /// floating RAS socket: taken on promotion, closed on demotion.
    // The shell reads the clock for its bind retries, as the link does.
    #[allow(clippy::disallowed_methods)]
    pub(super) fn poll(&mut self, socket: &mut Option<UdpSocket>) {
        while let Some(r) = self.fencing.poll() {
            self.link.report_claim(r);
        }
        while let Some(o) = self.link.try_output() {
            match o {
                LinkOutput::Action(Action::Claim { epoch }) => {
                    if self.status.role == "standby" {
                        self.status.role = "candidate";
                    }
                    self.fencing.claim(epoch.0);
                }
                LinkOutput::Action(Action::Promote { epoch }) => {
                    self.status.role = "primary";
                    self.status.epoch = epoch.0;
                    self.status.promotions += 1;
                    eprintln!("gatekeeper: ha: primary at epoch {epoch}");
                }
                LinkOutput::Action(Action::TakeAddress) => {
                    self.take_address(socket, &self.floating.clone());
                }
                LinkOutput::Action(Action::Demote { epoch }) => {
                    // No engine command leaves after this point.
                    self.fencing.suspend();
                    self.retry_address = None;
                    self.status.role = "standby";
                    self.status.demotions += 1;
                    eprintln!("gatekeeper: ha: standby (was primary at epoch {epoch})");
                }
                LinkOutput::Action(Action::ReleaseAddress) => {
                    if let Some(s) = socket.take() {
                        if let Err(e) = floating::release(&self.floating, s) {
                            self.status.address_errors += 1;
                            eprintln!("gatekeeper: ha: ERROR: {e}");
                        }
                    }
                }
                LinkOutput::Event(e) => self.on_event(&e),
            }
        }
        if !self.link.is_primary() && self.status.role == "primary" {
            self.status.role = "standby";
        }
        if self.retry_address.is_some_and(|t| Instant::now() >= t) && socket.is_none() {
            // One quick bind per retry: the loop must keep serving the link.
            let mut once = self.floating.clone();
            once.bind_attempts_max = 1;
            self.take_address(socket, &once);
        }
    }

    /// Binds the floating address; if it is still held (a paused old
    /// primary on the same host keeps its socket until it learns it was
    /// fenced), retries every [`ADDRESS_RETRY`] while primary.
    #[allow(clippy::disallowed_methods)]
    fn take_address(&mut self, socket: &mut Option<UdpSocket>, config: &FloatingConfig) {
        match floating::take(config) {
            Ok(s) => {
                if s.set_read_timeout(Some(Duration::from_millis(POLL_MS_MAX)))
                    .is_err()
                {
                    self.status.address_errors += 1;
                }
                eprintln!("gatekeeper: ha: serving RAS on {}", self.floating.address);
                self.retry_address = None;
                *socket = Some(s);
            }
            Err(e) => {
                self.status.address_errors += 1;
                if self.retry_address.is_none() {
                    eprintln!("gatekeeper: ha: ERROR: {e}; retrying while primary");
                }
                self.retry_address = Some(Instant::now() + ADDRESS_RETRY);
            }
        }
    }

    fn on_event(&mut self, e: &HaEvent) {
        match e {
            HaEvent::Failover { duration_ms, .. } => {
                self.status.failovers += 1;
                self.status.last_failover_ms = *duration_ms;
            }
            HaEvent::Demoted { reason, .. } if self.status.role == "candidate" => {
                // A candidate that gave up is a standby again.
                self.status.role = "standby";
                eprintln!("gatekeeper: ha: claim abandoned ({reason})");
            }
            _ => {}
        }
        eprintln!("gatekeeper: ha: {} {e:?}", e.audit_name());
    }

    /// Replication: call after a batch and before sending its replies.
    pub(super) fn sync<E: EngineApi>(&mut self, gk: &mut Gatekeeper<E>, now: UnixMillis) {
        self.link.sync(gk, now);
    }
}
