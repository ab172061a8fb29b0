//! Gatekeeper high availability: a primary and a standby gatekeeper, fenced by
//! epochs at the media engines. See docs/ha.md.
//!
//! The core is sans-IO like the gatekeeper: feed a [`Node`] with
//! `on_datagram(now, bytes)`, `on_timer(now)` and
//! `on_engine_claim_result(now, result)`, then drain `poll_output()`
//! (datagrams for the peer, [`Action`]s for the shell, [`HaEvent`]s for the
//! audit log) and call `on_timer` again at `next_deadline()`. Time is
//! [`Millis`], a monotonic clock read by the shell.
//!
//! - [`node`]: roles, epochs, heartbeats, promotion and demotion.
//! - [`wire`]: the authenticated peer-link datagrams ([`hmac`]).
//! - [`replica`]: the replication stream over the peer link (pull by the
//!   standby's position, push by the primary, snapshots in parts).
//! - [`link`]: the IO shell — one thread, one UDP socket, bounded queues.
//! - [`floating`]: the floating RAS address.
//! - [`settings`]: the operator's `[ha]` section, checked.

pub mod floating;
pub mod hmac;
pub mod link;
pub mod node;
pub mod replica;
pub mod settings;
pub mod wire;

pub use link::{spawn_peer_link, LinkConfig, LinkError, LinkHandle};
pub use node::{Action, ClaimResult, HaEvent, Node, NodeConfig, NodeCounters, NodeOutput};

/// Monotonic milliseconds (origin chosen by the shell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// This time plus `ms`.
    #[must_use]
    pub fn plus(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self` (0 if `earlier` is later).
    #[must_use]
    pub fn since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// A gatekeeper node's identity on the peer link (1..=255).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NodeId(pub u8);

/// A primary's term. The low 8 bits are the node id of the node that claimed
/// it, so two nodes claiming at the same time never pick the same epoch and
/// an engine that keeps the highest epoch always prefers exactly one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Epoch(pub u64);

impl Epoch {
    /// The next epoch after `seen` for `node`: a higher term, tagged with
    /// the node's id.
    #[must_use]
    pub fn next(seen: Self, node: NodeId) -> Self {
        Self((((seen.0 >> 8) + 1) << 8) | u64::from(node.0))
    }

    /// The term (without the node id).
    #[must_use]
    pub fn term(self) -> u64 {
        self.0 >> 8
    }
}

impl std::fmt::Display for Epoch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0 >> 8, self.0 & 0xff)
    }
}

/// A place in a primary's replication stream: the primary's epoch when the
/// stream began and the last sequence number. Positions of different epochs
/// are not comparable: a replica from another stream gets a snapshot.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct Position {
    /// The stream's epoch.
    pub epoch: Epoch,
    /// The last sequence number (0: nothing yet).
    pub seq: u64,
}

impl serde::Serialize for Epoch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Epoch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u64::deserialize(d).map(Self)
    }
}

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Follows the primary's replication stream; answers no RAS and never
    /// touches the engines.
    Standby,
    /// Has claimed the engines with a new epoch and waits for their answer;
    /// still answers no RAS.
    Candidate,
    /// The engines accepted its epoch: answers RAS and mutates engines.
    Primary,
}

impl Role {
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Standby => 1,
            Self::Candidate => 2,
            Self::Primary => 3,
        }
    }

    pub(crate) fn from_code(c: u8) -> Option<Self> {
        match c {
            1 => Some(Self::Standby),
            2 => Some(Self::Candidate),
            3 => Some(Self::Primary),
            _ => None,
        }
    }

    /// Lower-case name for logs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Standby => "standby",
            Self::Candidate => "candidate",
            Self::Primary => "primary",
        }
    }
}
