//! What goes into the jitter buffer, what comes out, and its counters.

use std::time::Instant;

/// One RTP packet offered to the buffer; the payload is copied on insert.
#[derive(Clone, Copy, Debug)]
pub struct JitterPacket<'a> {
    /// RTP synchronisation source; a change restarts the buffer.
    pub ssrc: u32,
    /// RTP sequence number (reported back, not used for ordering).
    pub seq: u16,
    /// RTP media timestamp: playout order and slot.
    pub timestamp: u32,
    /// RTP marker bit: first packet of a talk spurt after silence.
    pub marker: bool,
    /// RFC 6464 level in −dBov if the packet carried one (127 = silence).
    pub level_dbov: Option<u8>,
    /// Codec payload.
    pub payload: &'a [u8],
}

/// How [`JitterBuffer::insert`](super::JitterBuffer::insert) handled a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Slotted for playout.
    Buffered,
    /// Its slot was already played or concealed: dropped.
    Late,
    /// Its slot is already buffered or was recently played: dropped.
    Duplicate,
    /// Payload above `payload_max_bytes`: dropped.
    TooLarge,
    /// SSRC change or timestamp jump: the buffer restarted with this packet.
    Resynced,
    /// It lay beyond the maximum depth: the playout point advanced, dropping the oldest.
    Overflow,
}

/// What one pop (one mixer tick) plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playout<'a> {
    /// The next frame in timestamp order.
    Frame {
        /// Codec payload.
        payload: &'a [u8],
        /// RTP sequence number.
        seq: u16,
        /// RTP timestamp.
        timestamp: u32,
        /// When the packet arrived.
        arrival: Instant,
        /// RFC 6464 level if the packet carried one.
        level_dbov: Option<u8>,
    },
    /// This slot's packet is missing: conceal it.
    ///
    /// `fec_from` is the next packet's payload when it is already buffered
    /// (Opus in-band FEC in packet n+1 can rebuild frame n). When the buffer
    /// is waiting for a late packet rather than giving the slot up, the next
    /// output repeats this timestamp and `fec_from` is `None`, because the
    /// real packet may still be played (see [`JitterStats::held`]).
    Conceal {
        /// RTP timestamp of the missing slot.
        timestamp: u32,
        /// Payload of the next packet, for in-band FEC.
        fec_from: Option<&'a [u8]>,
    },
    /// Nothing to play: not started, prebuffering, or the talk spurt/stream ended.
    Idle,
}

/// Counters since construction or [`reset`](super::JitterBuffer::reset), plus current depth and target.
///
/// Every inserted packet ends up in exactly one of `played`, `late`,
/// `discarded` or the buffer. Every slot the playout point passes is a
/// `Frame`, a `Conceal`, or counted in `skipped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets offered to `insert`.
    pub received: u64,
    /// Frames played.
    pub played: u64,
    /// Packets that arrived after their slot was played or concealed.
    pub late: u64,
    /// Slots passed with no packet while a later one was buffered.
    pub lost: u64,
    /// `Conceal` outputs.
    pub concealed: u64,
    /// Packets dropped: duplicates, too large, overflow, shrink and resync flushes.
    pub discarded: u64,
    /// Duplicate packets (also in `discarded`).
    pub duplicates: u64,
    /// Restarts on SSRC change or timestamp jump.
    pub resyncs: u64,
    /// `Conceal` outputs with nothing buffered at all.
    pub underruns: u64,
    /// `Conceal` outputs that held the playout point: the next output repeats their timestamp.
    pub held: u64,
    /// Frames dropped at silence to shrink the delay (also in `discarded` and `skipped`).
    pub shed: u64,
    /// Slots passed without a `Frame` or `Conceal` of their own (shrink, overflow, recovery, silence gaps).
    pub skipped: u64,
    /// Buffered media ahead of the playout point, in ms.
    pub depth_ms: u32,
    /// Current target playout delay, in ms.
    pub target_delay_ms: u32,
}
