//! The control plane: H.225.0 RAS gatekeeper, guardian registry and policy
//! gates. It talks to the media shards only through the engine API and bounded
//! queues, never on the media path.
//!
//! The core is sans-IO, in the shape of quinn-proto and str0m: feed the
//! [`gatekeeper::Gatekeeper`] with `handle_datagram(now, from, bytes)` and
//! `handle_timeout(now)`, then drain `poll_output()` (transmits, events) until
//! it returns `Output::Timeout(next)`. Time is always an argument; randomness
//! and keys come from outside; `control/clippy.toml` forbids reading the clock
//! anywhere but the UDP shell in [`service`].
//!
//! Entry points for the `engine` binary:
//! - [`security::keygen`] for `engine keygen --id …`,
//! - [`registry::check`] for `engine registry check FILE`,
//! - [`service::start`] for `engine run`, returning a [`service::ServiceHandle`]
//!   that reloads the registry (SIGHUP), stops admissions (SIGUSR1) and shuts
//!   down; with `ServiceConfig::audit` it records every reply in the [`audit`]
//!   log before sending it,
//! - [`metrics::Metrics`] and [`metrics::http::MetricsServer`] for `/metrics`,
//! - [`audit::verify_command`] for `engine audit verify`.
//!
//! See docs/ras.md (protocol, decisions), docs/security.md, docs/audit.md and
//! docs/metrics.md.

pub mod audit;
pub mod client;
pub mod engine_api;
pub mod gatekeeper;
pub mod ha;
pub mod media_link;
pub mod metrics;
pub mod policy;
pub mod ras;
pub mod registry;
pub mod security;
pub mod service;
