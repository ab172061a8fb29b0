//! The jitter buffer's state and its insert path: place each arriving
//! packet by timestamp relative to the playout point, or say why not.

use std::time::Instant;

use super::config::{ts_diff, Derived, JitterConfig, JitterConfigError};
use super::estimator::DelayEstimator;
use super::ring::{SlotMeta, SlotRing};
use super::slack::Slack;
use super::target::TargetDelay;
use super::types::{InsertOutcome, JitterPacket, JitterStats};

/// Where the buffer is in a talk spurt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Nothing to play; the next packet starts a talk spurt.
    Idle,
    /// A talk spurt has started and is filling up to the target delay.
    Prebuffering { since: Instant },
    /// Playing one frame per pop.
    Playing,
}

/// Adaptive jitter buffer for one participant's audio stream.
///
/// Sans-IO: [`insert`](Self::insert) each packet with its arrival time and
/// [`pop`](Self::pop) once per tick; all memory is allocated by
/// [`new`](Self::new).
pub struct JitterBuffer {
    pub(super) config: JitterConfig,
    pub(super) derived: Derived,
    pub(super) ring: SlotRing,
    pub(super) estimator: DelayEstimator,
    pub(super) target: TargetDelay,
    pub(super) stats: JitterStats,
    pub(super) phase: Phase,
    pub(super) ssrc: Option<u32>,
    /// Timestamp of the slot at the playout point (offset 0 of the ring).
    pub(super) next_ts: u32,
    /// Earliest timestamp still playable; `None` before the first packet.
    /// Equal to `next_ts` while playing; may trail it while idle or
    /// prebuffering, so a reordered first packet can still be slotted.
    pub(super) floor_ts: Option<u32>,
    /// Bit k: the slot k + 1 frames before `floor_ts` had a packet, so a
    /// copy arriving now is a duplicate rather than late.
    pub(super) received_mask: u64,
    /// Consecutive `Conceal` outputs.
    pub(super) conceal_run: u32,
    /// Held conceals since the last frame: they already covered as many
    /// slots of media, which may be passed without concealing them again.
    pub(super) hold_credit: u32,
    /// One of those holds found nothing buffered at all.
    pub(super) hold_underran: bool,
    pub(super) ticks_since_shed: u32,
    /// Consecutive pops with depth at least a frame above target.
    pub(super) excess_ticks: u32,
    /// How long played frames waited: finds a spare frame of delay.
    pub(super) slack: Slack,
    /// The latest delay-variation estimate, µs.
    pub(super) variation_us: i64,
    /// Pops left in which a talk spurt still settles at its target delay.
    pub(super) settling: u32,
}

impl std::fmt::Debug for JitterBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitterBuffer")
            .field("phase", &self.phase)
            .field("ssrc", &self.ssrc)
            .field("next_ts", &self.next_ts)
            .field("ring", &self.ring)
            .field("target", &self.target)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl JitterBuffer {
    /// Builds a buffer, clamping out-of-range settings (see [`JitterConfig::sanitized`]).
    pub fn new(config: JitterConfig) -> Self {
        let config = config.sanitized();
        let derived = Derived::new(&config);
        Self {
            config,
            derived,
            ring: SlotRing::new(derived.slots, config.payload_max_bytes),
            estimator: DelayEstimator::new(
                config.window_packets,
                config.clock_rate_hz,
                config.delay_max_ms.saturating_mul(4),
            ),
            target: TargetDelay::new(config.delay_min_ms, config.delay_max_ms, config.frame_ms),
            stats: JitterStats::default(),
            phase: Phase::Idle,
            ssrc: None,
            next_ts: 0,
            floor_ts: None,
            received_mask: 0,
            conceal_run: 0,
            hold_credit: 0,
            settling: 0,
            hold_underran: false,
            ticks_since_shed: 0,
            excess_ticks: 0,
            slack: Slack::new(config.window_packets),
            variation_us: 0,
        }
    }

    /// Builds a buffer, rejecting out-of-range settings.
    pub fn try_new(config: JitterConfig) -> Result<Self, JitterConfigError> {
        config.validate()?;
        Ok(Self::new(config))
    }

    /// The configuration in use (after clamping).
    pub fn config(&self) -> &JitterConfig {
        &self.config
    }

    /// Counters, current depth and target.
    pub fn stats(&self) -> JitterStats {
        JitterStats {
            depth_ms: self.depth_ms(),
            target_delay_ms: self.target_delay_ms(),
            ..self.stats
        }
    }

    /// Buffered media ahead of the playout point, in ms (gaps included).
    pub fn depth_ms(&self) -> u32 {
        self.ring.span().saturating_mul(self.config.frame_ms)
    }

    /// Packets currently buffered.
    pub fn buffered_packets(&self) -> usize {
        self.ring.count()
    }

    /// Current target playout delay, in ms.
    pub fn target_delay_ms(&self) -> u32 {
        self.target.target_ms()
    }

    /// Playing a talk spurt (pops return `Frame` or `Conceal`, not `Idle`).
    pub fn is_active(&self) -> bool {
        self.phase == Phase::Playing
    }

    /// Forgets the stream, the learned delay and the counters; keeps the memory.
    pub fn reset(&mut self) {
        self.ring.clear();
        self.estimator.reset();
        self.target.reset();
        self.stats = JitterStats::default();
        self.phase = Phase::Idle;
        self.ssrc = None;
        self.next_ts = 0;
        self.floor_ts = None;
        self.received_mask = 0;
        self.conceal_run = 0;
        self.hold_credit = 0;
        self.hold_underran = false;
        self.ticks_since_shed = 0;
        self.excess_ticks = 0;
        self.slack.reset();
        self.variation_us = 0;
    }

    /// Offers one packet that arrived at `now`; copies its payload.
    pub fn insert(&mut self, now: Instant, packet: JitterPacket<'_>) -> InsertOutcome {
        self.stats.received += 1;
        if packet.payload.len() > self.config.payload_max_bytes {
            self.stats.discarded += 1;
            return InsertOutcome::TooLarge;
        }
        let outcome = self.place(now, &packet);
        // Late packets count too: their transit is exactly the delay the
        // target failed to cover. Copies say nothing new.
        if outcome != InsertOutcome::Duplicate {
            if let Some(variation_us) = self.estimator.observe(now, packet.timestamp) {
                self.variation_us = variation_us;
                self.target.on_variation(now, variation_us);
            }
        }
        outcome
    }

    fn place(&mut self, now: Instant, p: &JitterPacket<'_>) -> InsertOutcome {
        if self.ssrc.is_some_and(|ssrc| ssrc != p.ssrc) {
            return self.resync(now, p);
        }
        self.ssrc = Some(p.ssrc);
        if self.phase == Phase::Idle {
            return self.place_idle(now, p);
        }
        let diff = ts_diff(p.timestamp, self.next_ts);
        if self.derived.is_jump(diff) {
            return self.resync(now, p);
        }
        let Ok(offset) = u32::try_from(self.derived.frames(diff)) else {
            return self.place_behind(now, p, diff);
        };
        let slots = self.ring.capacity();
        // Nothing buffered and the sender jumped ahead (a DTX gap, or the
        // marker of a new talk spurt while we wait for a lost packet): start
        // over from this packet instead of concealing the whole gap.
        if self.ring.count() == 0
            && self.phase == Phase::Playing
            && (offset >= slots || (p.marker && offset > 0))
        {
            // The gap is given up for good: packets from it are late now,
            // which keeps the skipped count exact.
            self.stats.skipped += u64::from(offset);
            self.raise_floor_to(p.timestamp);
            self.start_spurt(now, p);
            return InsertOutcome::Buffered;
        }
        let mut outcome = InsertOutcome::Buffered;
        let mut offset = offset;
        if offset >= slots {
            self.advance_dropping(offset - slots + 1);
            offset = slots - 1;
            outcome = InsertOutcome::Overflow;
        }
        if !self.ring.put(offset, meta(now, p), p.payload) {
            return self.duplicate();
        }
        outcome
    }

    /// Idle: the packet starts a talk spurt unless it belongs before the
    /// last one played.
    fn place_idle(&mut self, now: Instant, p: &JitterPacket<'_>) -> InsertOutcome {
        if let Some(floor) = self.floor_ts {
            let diff = ts_diff(p.timestamp, floor);
            if diff < 0 {
                if self.derived.is_jump(diff) {
                    return self.resync(now, p);
                }
                return self.classify_behind(p.timestamp);
            }
        }
        self.start_spurt(now, p);
        InsertOutcome::Buffered
    }

    /// Before the playout point: a reordered start of a talk spurt still
    /// fits while prebuffering; otherwise it is late or a copy.
    fn place_behind(&mut self, now: Instant, p: &JitterPacket<'_>, diff: i32) -> InsertOutcome {
        let frames_back = self.derived.frames(diff).unsigned_abs();
        let after_floor = self
            .floor_ts
            .is_none_or(|floor| ts_diff(p.timestamp, floor) >= 0);
        if matches!(self.phase, Phase::Prebuffering { .. })
            && after_floor
            && self.ring.extend_back(frames_back)
        {
            self.next_ts = self
                .next_ts
                .wrapping_sub(frames_back.wrapping_mul(self.derived.step_ticks));
            if self.ring.put(0, meta(now, p), p.payload) {
                return InsertOutcome::Buffered;
            }
            return self.duplicate();
        }
        self.classify_behind(p.timestamp)
    }

    /// A packet whose slot is already behind the playout point.
    fn classify_behind(&mut self, ts: u32) -> InsertOutcome {
        let floor = self.floor_ts.unwrap_or(self.next_ts);
        let diff = ts_diff(floor, ts);
        if diff <= 0 {
            // Between the floor and a prebuffering spurt's start, with no
            // room to reach back to it: never played, simply too late.
            self.stats.late += 1;
            return InsertOutcome::Late;
        }
        let back = self.derived.frames(diff).max(1).unsigned_abs();
        if back <= u64::BITS && self.received_mask & (1 << (back - 1)) != 0 {
            return self.duplicate();
        }
        self.stats.late += 1;
        InsertOutcome::Late
    }

    fn duplicate(&mut self) -> InsertOutcome {
        self.stats.duplicates += 1;
        self.stats.discarded += 1;
        InsertOutcome::Duplicate
    }

    /// New SSRC or timeline: flush and restart from this packet.
    fn resync(&mut self, now: Instant, p: &JitterPacket<'_>) -> InsertOutcome {
        self.stats.resyncs += 1;
        self.stats.discarded += self.ring.clear() as u64;
        self.floor_ts = None;
        self.received_mask = 0;
        self.estimator.reset_stream();
        self.ssrc = Some(p.ssrc);
        self.start_spurt(now, p);
        InsertOutcome::Resynced
    }

    /// Anchors a new talk spurt at this packet and starts prebuffering.
    pub(super) fn start_spurt(&mut self, now: Instant, p: &JitterPacket<'_>) {
        self.stats.discarded += self.ring.clear() as u64;
        self.next_ts = p.timestamp;
        // Cannot fail: the ring is empty and the size was checked.
        let _ = self.ring.put(0, meta(now, p), p.payload);
        self.phase = Phase::Prebuffering { since: now };
        self.slack.on_hold(false);
        self.conceal_run = 0;
        self.hold_credit = 0;
        self.hold_underran = false;
        self.excess_ticks = 0;
    }

    /// Moves the floor (and the duplicate mask with it) up to `ts`.
    pub(super) fn raise_floor_to(&mut self, ts: u32) {
        let Some(floor) = self.floor_ts else {
            self.floor_ts = Some(ts);
            self.received_mask = 0;
            return;
        };
        let diff = ts_diff(ts, floor);
        if diff <= 0 {
            return;
        }
        let frames = self.derived.frames(diff).unsigned_abs();
        self.received_mask = self.received_mask.checked_shl(frames).unwrap_or(0);
        self.floor_ts = Some(ts);
    }

    /// Moves the playout point one frame on; returns the packet that was there.
    pub(super) fn advance_one(&mut self) -> Option<(SlotMeta, usize)> {
        self.raise_floor_to(self.next_ts);
        let taken = self.ring.pop_head();
        self.received_mask = (self.received_mask << 1) | u64::from(taken.is_some());
        self.next_ts = self.next_ts.wrapping_add(self.derived.step_ticks);
        self.floor_ts = Some(self.next_ts);
        taken
    }

    /// Passes `frames` slots without output, dropping what they hold.
    /// Bounded by the resync distance in frames.
    pub(super) fn advance_dropping(&mut self, frames: u32) {
        for _ in 0..frames {
            if self.advance_one().is_some() {
                self.stats.discarded += 1;
            } else {
                self.stats.lost += 1;
            }
            self.stats.skipped += 1;
        }
    }
}

fn meta(now: Instant, p: &JitterPacket<'_>) -> SlotMeta {
    SlotMeta {
        ts: p.timestamp,
        seq: p.seq,
        marker: p.marker,
        level_dbov: p.level_dbov,
        arrival: now,
        len: p.payload.len(),
    }
}
