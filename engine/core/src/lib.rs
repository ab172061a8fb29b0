//! The media core of the MCU, free of IO.
//!
//! Every type here is a plain state machine: feed it bytes and the current
//! time (`handle_*`, `insert`, `tick`), then drain what it produced (packets,
//! frames, the next deadline). Nothing here opens a socket, spawns a thread,
//! reads a clock or draws a random number, which is what makes the media path
//! deterministic to test and cheap to drive from any runtime.
//!
//! - [`rtp`]: RTP fixed header, CSRCs, padding, RFC 8285 header extensions,
//!   RFC 6464/6465 audio levels and RFC 3550 A.1 sequence tracking.
//! - [`rtcp`]: compound RTCP — SR, RR, SDES CNAME, BYE — and A.8 jitter.
//! - [`jitter`]: the adaptive per-participant jitter buffer.
//! - [`codec`]: Opus and G.711 behind one trait, with 8 ↔ 48 kHz resampling.
//! - [`mixer`]: the per-room N−1 top-K mixer with shared listener encodes.

pub mod codec;
pub mod jitter;
pub mod mixer;
pub mod rtcp;
pub mod rtp;
