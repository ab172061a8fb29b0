//! The media link: how a gatekeeper (or `engine bench --target`) controls a
//! media engine in another process. Documented for operators and
//! implementers in docs/media-link.md.
//!
//! - [`messages`]: every request, reply and typed error.
//! - [`frame`]: 4-byte length + JSON frames, bounded by [`frame::FRAME_MAX`].
//! - [`auth`]: Ed25519 challenge–response for controllers.
//! - [`server`]: the engine side, sans-IO: [`server::Session`] checks
//!   authentication and the epoch [`server::Fence`], then applies to a
//!   [`server::MediaBackend`]. The TCP shell is in the `engine` binary.
//! - [`client`]: the blocking controller side, every wait bounded.
//! - [`remote`]: [`remote::RemoteEngine`], the gatekeeper's
//!   [`crate::engine_api::EngineApi`] over the link, never blocking.

pub mod auth;
pub mod client;
pub mod frame;
pub mod messages;
pub mod remote;
pub mod server;

pub use client::{ClientConfig, ClientError, MediaClient};
pub use messages::{Epoch, LinkCodec, LinkError, ParticipantParams, Reply, Request};
pub use remote::{Fencing, RemoteEngine};
pub use server::{Fence, MediaBackend, ServerConfig, Session};

/// Default TCP port of the control protocol: not registered with IANA for a
/// common service, outside the ephemeral range, away from RAS (1719), call
/// signalling (1720) and the engine's media ports (20000+).
pub const DEFAULT_PORT: u16 = 7719;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_link;
