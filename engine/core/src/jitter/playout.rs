//! The pop path: one output per tick, in timestamp order.
//!
//! A missing slot is either given up (conceal and move on) or *held*
//! (conceal but keep the playout point, which adds a frame of delay and
//! gives a late packet another tick). The buffer holds when nothing at all
//! is buffered (an underrun) or when it is below its target delay; that is
//! how the delay grows towards the target. Holds earn credit: once the
//! missing packet is given up, as many slots as were held may be passed
//! without a second conceal, since the held conceals already filled that
//! time. The delay shrinks only by dropping a silent frame.

use std::time::Instant;

use super::buffer::{JitterBuffer, Phase};
use super::types::Playout;

/// Pops at the start of a talk spurt during which frames buffered a frame
/// or more beyond the target are dropped (see `settle_at_target`).
pub const SETTLE_POPS: u32 = 4;
/// RFC 6464 level, in −dBov, at or above which a frame counts as silent.
pub const SILENT_LEVEL_DBOV_MIN: u8 = 90;
/// At most one frame dropped to shrink the delay per this many pops.
pub const SHED_INTERVAL_TICKS: u32 = 10;
/// RFC 6464 level, in −dBov, at or above which a frame counts as quiet:
/// below the mixer's default activity threshold (−55 dBov), so it is not
/// heard as a speaker. A spare frame of delay (see `slack.rs`) may be shed
/// at a quiet frame, not only at silence: a listener's low background noise
/// never goes silent, and the frame would otherwise stay until it talks.
pub const QUIET_LEVEL_DBOV_MIN: u8 = 60;
/// Pops of excess depth after which a frame without a level is dropped anyway.
///
/// Without levels the buffer cannot see silence, and would otherwise keep
/// an excess delay (up to `delay_max_ms`) for the rest of the call.
pub const SHED_FORCED_TICKS: u32 = 100;

impl JitterBuffer {
    /// Plays the next slot; call once per `frame_ms` tick.
    pub fn pop(&mut self, now: Instant) -> Playout<'_> {
        match self.phase {
            Phase::Idle => return Playout::Idle,
            Phase::Prebuffering { since } => {
                let target_ms = self.target_delay_ms();
                let waited_ms = now.saturating_duration_since(since).as_millis();
                if self.depth_ms() < target_ms && waited_ms < u128::from(target_ms) {
                    return Playout::Idle;
                }
                self.begin_playing();
            }
            Phase::Playing => {}
        }
        self.play(now)
    }

    /// Prebuffering is over: start at the first buffered packet, or later
    /// when more than the target is buffered.
    fn begin_playing(&mut self) {
        // An overflow while prebuffering can leave empty slots in front.
        if let Some(first) = self.ring.first_occupied() {
            self.advance_dropping(first);
        }
        self.settling = SETTLE_POPS;
        self.raise_floor_to(self.next_ts);
        self.phase = Phase::Playing;
    }

    fn play(&mut self, now: Instant) -> Playout<'_> {
        let frame_ms = self.config.frame_ms;
        let target_ms = self.target_delay_ms();
        if self.settling > 0 {
            self.settling -= 1;
            self.settle_at_target(target_ms);
        }
        self.ticks_since_shed = self.ticks_since_shed.saturating_add(1);
        if self.depth_ms() >= target_ms + frame_ms || self.slack.spare() {
            self.excess_ticks = self.excess_ticks.saturating_add(1);
        } else {
            self.excess_ticks = 0;
        }
        if self.hold_credit > 0 && self.ring.get(0).is_none() {
            if let Some(first) = self.ring.first_occupied() {
                // The held slots' packets are given up: pass them silently.
                self.advance_dropping(self.hold_credit.min(first));
                self.hold_credit = 0;
                self.hold_underran = false;
            }
        }
        if self.ring.get(0).is_some() {
            return self.play_frame(now, target_ms);
        }
        if self.ring.count() == 0 {
            if self.conceal_run >= self.config.conceal_frames_max {
                // The talker stopped or left: end the talk spurt.
                self.phase = Phase::Idle;
                self.conceal_run = 0;
                self.hold_credit = 0;
                self.hold_underran = false;
                return Playout::Idle;
            }
            self.stats.underruns += 1;
            return self.hold(true);
        }
        if self.depth_ms() < target_ms {
            return self.hold(false);
        }
        // Below the playout point is a gap and enough is buffered behind
        // it: the packet is lost as far as playout is concerned.
        let timestamp = self.next_ts;
        self.advance_one();
        self.slack.on_hold(false);
        self.stats.lost += 1;
        self.stats.concealed += 1;
        self.conceal_run = self.conceal_run.saturating_add(1);
        Playout::Conceal {
            timestamp,
            fec_from: self.ring.payload(0),
        }
    }

    /// Drops the oldest buffered frames while the depth is a frame or more
    /// above what the measured variation needs: at the start of a talk
    /// spurt a frame beyond it (a burst at the sender's start, a first tick
    /// that came late, or the mixer moving its tick later while the room
    /// settles) would otherwise stay as delay until a silent frame. The
    /// target itself rounds the variation *up* to whole frames (a safe
    /// bound for holding); settling rounds it to the nearest frame, or any
    /// sub-millisecond variation would keep every extra frame.
    fn settle_at_target(&mut self, target_ms: u32) {
        let frame_ms = self.config.frame_ms;
        let frame_us = i64::from(frame_ms) * 1_000;
        let frames = (self.variation_us.max(0) + frame_us / 2) / frame_us;
        let needed_ms = (frame_ms + frame_ms * frames.min(64) as u32).clamp(
            self.config.delay_min_ms,
            target_ms.max(self.config.delay_min_ms),
        );
        while self.depth_ms() >= needed_ms + frame_ms {
            let Some(next) = (1..self.ring.span()).find(|&o| self.ring.get(o).is_some()) else {
                break;
            };
            self.advance_dropping(next);
            self.stats.shed += 1;
        }
    }

    /// Conceals without moving the playout point.
    fn hold(&mut self, underrun: bool) -> Playout<'_> {
        self.stats.held += 1;
        self.stats.concealed += 1;
        self.conceal_run = self.conceal_run.saturating_add(1);
        self.hold_credit = self.hold_credit.saturating_add(1);
        self.hold_underran |= underrun;
        self.slack.on_hold(underrun);
        // No FEC: the real packet may still arrive and be played next tick.
        Playout::Conceal {
            timestamp: self.next_ts,
            fec_from: None,
        }
    }

    fn play_frame(&mut self, now: Instant, target_ms: u32) -> Playout<'_> {
        if self.should_shed(target_ms) {
            self.advance_dropping(1);
            self.stats.shed += 1;
            self.ticks_since_shed = 0;
            self.excess_ticks = 0;
            self.slack.on_shed();
        }
        if self.hold_credit > 0 && self.hold_underran {
            // The packet we waited for after an underrun did come: the
            // target was too small for this network.
            self.target.raise_one_frame(now);
        }
        self.hold_credit = 0;
        self.hold_underran = false;
        self.conceal_run = 0;
        let Some((meta, index)) = self.advance_one() else {
            // Unreachable: the caller saw the slot occupied and a shed only
            // happens with the following slot occupied too.
            return Playout::Idle;
        };
        self.stats.played += 1;
        self.slack
            .on_played(now, meta.arrival, self.config.frame_ms, self.variation_us);
        Playout::Frame {
            payload: self.ring.payload_at(index, meta.len),
            seq: meta.seq,
            timestamp: meta.ts,
            arrival: meta.arrival,
            level_dbov: meta.level_dbov,
        }
    }

    /// Whether to drop the frame at the playout point to shrink the delay.
    fn should_shed(&self, target_ms: u32) -> bool {
        let excess = self.depth_ms() >= target_ms + self.config.frame_ms || self.slack.spare();
        if self.ticks_since_shed < SHED_INTERVAL_TICKS || !excess {
            return false;
        }
        let (Some(head), Some(next)) = (self.ring.get(0), self.ring.get(1)) else {
            // Dropping would only turn into a conceal on the next tick.
            return false;
        };
        match head.level_dbov {
            Some(level) => {
                level >= SILENT_LEVEL_DBOV_MIN
                    || (self.slack.spare() && level >= QUIET_LEVEL_DBOV_MIN)
                    || next.marker
            }
            None => next.marker || self.excess_ticks >= SHED_FORCED_TICKS,
        }
    }
}
