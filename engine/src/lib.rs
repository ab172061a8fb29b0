//! The media plane: the IO shell around [`media_core`] — pinned glommio
//! shards that receive RTP, run the mixer's 20 ms tick and send DSCP-marked
//! mixes — the [`Engine`] API the control plane drives it with, and the
//! simulated guardians used by the demo, the benchmarks and the tests.
//!
//! The shell only moves bytes, reads clocks and calls the sans-IO core; see
//! `docs/engine.md` for the shard, port and queue layout.

pub use media_core as core;

pub mod api;
pub mod config;
pub mod net;
mod shard;
pub mod sim;
pub mod stats;

pub use api::{Admission, Engine, EngineError, ParticipantSpec, RoomId};
pub use config::EngineConfig;
