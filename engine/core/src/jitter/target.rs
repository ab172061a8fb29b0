//! The target playout delay: rises at once, falls one frame at a time.
//!
//! A too-small target costs audible concealment, a too-large one only some
//! latency, so increases apply immediately and decreases wait
//! [`RAISE_HOLD_MS`] after the last increase, then step down one frame per
//! [`DECAY_STEP_MS`].

use std::time::{Duration, Instant};

/// No decrease for this long after an increase.
const RAISE_HOLD_MS: u64 = 2_000;
/// At most one one-frame decrease per this interval.
const DECAY_STEP_MS: u64 = 500;

/// Target delay policy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TargetDelay {
    target_ms: u32,
    delay_min_ms: u32,
    delay_max_ms: u32,
    frame_ms: u32,
    hold_until: Option<Instant>,
}

impl TargetDelay {
    /// Starts at the minimum; `frame_ms` ≥ 1 and `delay_min_ms` ≤ `delay_max_ms`.
    pub fn new(delay_min_ms: u32, delay_max_ms: u32, frame_ms: u32) -> Self {
        Self {
            target_ms: delay_min_ms,
            delay_min_ms,
            delay_max_ms,
            frame_ms,
            hold_until: None,
        }
    }

    pub fn target_ms(&self) -> u32 {
        self.target_ms
    }

    pub fn reset(&mut self) {
        self.target_ms = self.delay_min_ms;
        self.hold_until = None;
    }

    /// One frame plus the delay variation rounded up to whole frames, clamped.
    pub fn for_variation_ms(&self, variation_us: i64) -> u32 {
        let frame_us = i64::from(self.frame_ms) * 1_000;
        // Signed div_ceil is unstable; the value is non-negative here.
        let variation_us = variation_us.max(0);
        let frames = variation_us / frame_us + i64::from(variation_us % frame_us != 0);
        let ms = i64::from(self.frame_ms)
            .saturating_add(frames.saturating_mul(i64::from(self.frame_ms)));
        let ms = u32::try_from(ms).unwrap_or(u32::MAX);
        ms.clamp(self.delay_min_ms, self.delay_max_ms)
    }

    /// Follows a fresh delay-variation estimate.
    pub fn on_variation(&mut self, now: Instant, variation_us: i64) {
        let wanted_ms = self.for_variation_ms(variation_us);
        if wanted_ms > self.target_ms {
            self.target_ms = wanted_ms;
            self.hold(now, RAISE_HOLD_MS);
        } else if wanted_ms < self.target_ms && self.hold_until.is_none_or(|t| now >= t) {
            self.target_ms = wanted_ms.max(self.target_ms.saturating_sub(self.frame_ms));
            self.hold(now, DECAY_STEP_MS);
        }
    }

    /// A late packet turned up after an underrun: one frame more, now.
    pub fn raise_one_frame(&mut self, now: Instant) {
        self.target_ms = self
            .target_ms
            .saturating_add(self.frame_ms)
            .min(self.delay_max_ms);
        self.hold(now, RAISE_HOLD_MS);
    }

    fn hold(&mut self, now: Instant, ms: u64) {
        self.hold_until = now.checked_add(Duration::from_millis(ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // test clock origin
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn rises_at_once_and_decays_slowly() {
        let t0 = t0();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut t = TargetDelay::new(20, 150, 20);
        assert_eq!(t.for_variation_ms(0), 20);
        assert_eq!(t.for_variation_ms(1), 40);
        assert_eq!(t.for_variation_ms(60_000), 80);
        assert_eq!(t.for_variation_ms(i64::MAX), 150);
        t.on_variation(ms(0), 60_000);
        assert_eq!(t.target_ms(), 80);
        t.on_variation(ms(1_000), 0);
        assert_eq!(t.target_ms(), 80, "held after a rise");
        t.on_variation(ms(2_000), 0);
        assert_eq!(t.target_ms(), 60);
        t.on_variation(ms(2_100), 0);
        assert_eq!(t.target_ms(), 60, "one step per interval");
        t.on_variation(ms(2_500), 0);
        assert_eq!(t.target_ms(), 40);
        t.raise_one_frame(ms(2_600));
        assert_eq!(t.target_ms(), 60);
    }
}
