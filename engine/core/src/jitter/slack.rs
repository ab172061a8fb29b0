//! Spare delay: how long played frames had been waiting when their pop came.
//!
//! The target is a depth in whole frames, and a frame of depth too many is
//! only shed at `depth ≥ target + frame`. A stream whose delay variation is
//! well under a frame still gets a two-frame target (one frame plus the
//! variation rounded *up*), so an extra frame it picked up once (a second
//! packet in before the first pop, a first packet that came late) was never
//! given back: +20 ms for the rest of the call. The time every played frame
//! actually waited says it directly: when each one over a window waited
//! longer than a frame plus a margin, every one of them would still have
//! been in time a frame earlier, so a frame can go at the next silent or
//! quiet frame (`QUIET_LEVEL_DBOV_MIN`).

use std::time::{Duration, Instant};

/// Margin left after shedding the spare frame, at least (µs); the window's
/// own delay variation is used when larger.
pub(crate) const SPARE_MARGIN_MIN_US: u64 = 2_000;
/// The window grows up to this many times `window_packets` when an
/// underrun follows a spare-frame shed too soon (the network's jitter comes
/// in bursts longer than the window).
const WINDOW_GROWTH_MAX: u32 = 8;

/// Arrival-to-pop time of the frames played in the current window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slack {
    min_us: u64,
    frames: u32,
    window: u32,
    window_base: u32,
    /// A whole window waited more than a frame plus the margin.
    spare: bool,
    /// Frames played since a spare frame was shed (while within a window).
    since_spare_shed: Option<u32>,
}

impl Slack {
    pub fn new(window_packets: usize) -> Self {
        let window = u32::try_from(window_packets).unwrap_or(u32::MAX).max(1);
        Self {
            min_us: u64::MAX,
            frames: 0,
            window,
            window_base: window,
            spare: false,
            since_spare_shed: None,
        }
    }

    /// Whether a frame of delay is spare.
    pub fn spare(&self) -> bool {
        self.spare
    }

    /// A frame that arrived at `arrival` is played at `now`.
    pub fn on_played(&mut self, now: Instant, arrival: Instant, frame_ms: u32, variation_us: i64) {
        let waited = now.saturating_duration_since(arrival);
        let waited_us = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        self.min_us = self.min_us.min(waited_us);
        self.frames += 1;
        if let Some(n) = &mut self.since_spare_shed {
            *n += 1;
            if *n >= self.window {
                self.since_spare_shed = None;
            }
        }
        if self.frames >= self.window {
            let margin_us = u64::try_from(variation_us)
                .unwrap_or(0)
                .max(SPARE_MARGIN_MIN_US);
            let frame_us = Duration::from_millis(u64::from(frame_ms)).as_micros() as u64;
            self.spare = self.min_us >= frame_us + margin_us;
            self.min_us = u64::MAX;
            self.frames = 0;
        }
    }

    /// A frame was shed (for whatever reason): the evidence is a frame out
    /// of date.
    pub fn on_shed(&mut self) {
        if self.spare {
            self.since_spare_shed = Some(0);
        }
        self.restart();
    }

    /// The playout point was held (a packet missing at its pop).
    pub fn on_hold(&mut self, underrun: bool) {
        if underrun && self.since_spare_shed.take().is_some() {
            // Shedding cost an underrun within a window: look longer next time.
            self.window = self
                .window
                .saturating_mul(2)
                .min(self.window_base.saturating_mul(WINDOW_GROWTH_MAX));
        }
        self.restart();
    }

    /// Forgets everything (new stream).
    pub fn reset(&mut self) {
        *self = Self::new(self.window_base as usize);
    }

    fn restart(&mut self) {
        self.spare = false;
        self.min_us = u64::MAX;
        self.frames = 0;
    }
}
