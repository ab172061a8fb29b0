//! The adaptive per-participant jitter buffer.
//!
//! Packets go in with their arrival time ([`JitterBuffer::insert`]); one
//! [`Playout`] comes out per 20 ms mixer tick ([`JitterBuffer::pop`]), in
//! RTP timestamp order: a frame, a slot to conceal (with the next payload
//! for Opus in-band FEC when it is there), or idle.
//!
//! The target delay is one frame plus the 95th percentile of relative
//! transit over a sliding window, rounded up to whole frames and clamped to
//! `delay_min_ms..=delay_max_ms`. It rises at once and falls slowly; the
//! actual delay grows by holding the playout point on a missing packet and
//! shrinks only by dropping silent frames: when depth is a frame above the
//! target, or when every frame played over a window had waited more than a
//! frame plus a margin (a spare frame, see `slack.rs`); over its first
//! `SETTLE_POPS` pops a talk spurt settles at the target, dropping older
//! frames buffered a frame beyond it. Buffered media never exceeds
//! `delay_max_ms + frame_ms`. All memory is allocated at construction:
//! insert and pop copy into and lend out of fixed slots.

mod buffer;
mod config;
mod estimator;
mod playout;
mod ring;
mod slack;
mod target;
mod types;

pub use buffer::JitterBuffer;
pub use config::{
    JitterConfig, JitterConfigError, CLOCK_RATE_HZ_RANGE, CONCEAL_FRAMES_LIMIT, DELAY_MS_LIMIT,
    FRAME_MS_LIMIT, PAYLOAD_BYTES_LIMIT, WINDOW_PACKETS_LIMIT,
};
pub use playout::{
    QUIET_LEVEL_DBOV_MIN, SETTLE_POPS, SHED_FORCED_TICKS, SHED_INTERVAL_TICKS,
    SILENT_LEVEL_DBOV_MIN,
};
pub use types::{InsertOutcome, JitterPacket, JitterStats, Playout};
