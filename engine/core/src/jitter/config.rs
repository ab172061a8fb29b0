//! Jitter buffer settings, their limits, and the constants derived from them
//! once at construction so the per-packet path only adds and compares.

use thiserror::Error;

/// Largest accepted `frame_ms`: Opus frames top out at 120 ms.
pub const FRAME_MS_LIMIT: u32 = 120;
/// Largest accepted `delay_max_ms`: more than two seconds of mouth-to-ear
/// delay is no longer a conversation, and it bounds the slot memory.
pub const DELAY_MS_LIMIT: u32 = 2_000;
/// Accepted RTP clock rates, in Hz (8 kHz G.711 up to 192 kHz).
pub const CLOCK_RATE_HZ_RANGE: std::ops::RangeInclusive<u32> = 1_000..=192_000;
/// Largest accepted `window_packets`: the percentile pass is O(window).
pub const WINDOW_PACKETS_LIMIT: usize = 4_096;
/// Largest accepted `conceal_frames_max`.
pub const CONCEAL_FRAMES_LIMIT: u32 = 1_000;
/// Largest accepted `payload_max_bytes`: the largest UDP payload.
pub const PAYLOAD_BYTES_LIMIT: usize = 65_507;

/// Settings for one participant's jitter buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitterConfig {
    /// Lowest target playout delay, in ms.
    pub delay_min_ms: u32,
    /// Highest target playout delay, in ms; buffered media never exceeds it by more than a frame.
    pub delay_max_ms: u32,
    /// Media per packet and per pop, in ms (one pop per mixer tick).
    pub frame_ms: u32,
    /// RTP clock rate of the stream, in Hz.
    pub clock_rate_hz: u32,
    /// Packets in the sliding window the delay variation is measured over.
    pub window_packets: usize,
    /// Consecutive concealed frames with nothing buffered before the talk spurt is given up.
    pub conceal_frames_max: u32,
    /// Largest payload kept; larger ones are discarded and counted.
    pub payload_max_bytes: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            delay_min_ms: 20,
            delay_max_ms: 150,
            frame_ms: 20,
            clock_rate_hz: 48_000,
            window_packets: 100,
            conceal_frames_max: 10,
            payload_max_bytes: 1_500,
        }
    }
}

/// A [`JitterConfig`] field outside what the buffer supports.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum JitterConfigError {
    /// `frame_ms` is zero or above [`FRAME_MS_LIMIT`].
    #[error("frame_ms {0} is outside 1..={FRAME_MS_LIMIT}")]
    FrameMs(u32),
    /// `clock_rate_hz` is outside [`CLOCK_RATE_HZ_RANGE`].
    #[error("clock_rate_hz {0} is outside 1000..=192000")]
    ClockRateHz(u32),
    /// A frame is not a whole number of RTP timestamp ticks.
    #[error("a {frame_ms} ms frame at {clock_rate_hz} Hz is not a whole number of RTP ticks")]
    FrameTicks {
        /// The configured frame length.
        frame_ms: u32,
        /// The configured clock rate.
        clock_rate_hz: u32,
    },
    /// `delay_max_ms` is below one frame or above [`DELAY_MS_LIMIT`].
    #[error("delay_max_ms {0} is outside frame_ms..={DELAY_MS_LIMIT}")]
    DelayMaxMs(u32),
    /// `delay_min_ms` is below one frame or above `delay_max_ms`.
    #[error("delay_min_ms {0} is outside frame_ms..=delay_max_ms")]
    DelayMinMs(u32),
    /// `window_packets` is zero or above [`WINDOW_PACKETS_LIMIT`].
    #[error("window_packets {0} is outside 1..={WINDOW_PACKETS_LIMIT}")]
    WindowPackets(usize),
    /// `conceal_frames_max` is zero or above [`CONCEAL_FRAMES_LIMIT`].
    #[error("conceal_frames_max {0} is outside 1..={CONCEAL_FRAMES_LIMIT}")]
    ConcealFrames(u32),
    /// `payload_max_bytes` is zero or above [`PAYLOAD_BYTES_LIMIT`].
    #[error("payload_max_bytes {0} is outside 1..={PAYLOAD_BYTES_LIMIT}")]
    PayloadBytes(usize),
}

impl JitterConfig {
    /// Defaults for Opus: 48 kHz RTP clock.
    pub fn opus() -> Self {
        Self::default()
    }

    /// Defaults for G.711 (PCMU/PCMA): 8 kHz RTP clock.
    pub fn g711() -> Self {
        Self {
            clock_rate_hz: 8_000,
            ..Self::default()
        }
    }

    /// Checks every field against the buffer's limits.
    pub fn validate(&self) -> Result<(), JitterConfigError> {
        if self.frame_ms == 0 || self.frame_ms > FRAME_MS_LIMIT {
            return Err(JitterConfigError::FrameMs(self.frame_ms));
        }
        if !CLOCK_RATE_HZ_RANGE.contains(&self.clock_rate_hz) {
            return Err(JitterConfigError::ClockRateHz(self.clock_rate_hz));
        }
        if (u64::from(self.clock_rate_hz) * u64::from(self.frame_ms)) % 1_000 != 0 {
            return Err(JitterConfigError::FrameTicks {
                frame_ms: self.frame_ms,
                clock_rate_hz: self.clock_rate_hz,
            });
        }
        if self.delay_max_ms < self.frame_ms || self.delay_max_ms > DELAY_MS_LIMIT {
            return Err(JitterConfigError::DelayMaxMs(self.delay_max_ms));
        }
        if self.delay_min_ms < self.frame_ms || self.delay_min_ms > self.delay_max_ms {
            return Err(JitterConfigError::DelayMinMs(self.delay_min_ms));
        }
        if self.window_packets == 0 || self.window_packets > WINDOW_PACKETS_LIMIT {
            return Err(JitterConfigError::WindowPackets(self.window_packets));
        }
        if self.conceal_frames_max == 0 || self.conceal_frames_max > CONCEAL_FRAMES_LIMIT {
            return Err(JitterConfigError::ConcealFrames(self.conceal_frames_max));
        }
        if self.payload_max_bytes == 0 || self.payload_max_bytes > PAYLOAD_BYTES_LIMIT {
            return Err(JitterConfigError::PayloadBytes(self.payload_max_bytes));
        }
        Ok(())
    }

    /// The nearest valid configuration: every field clamped into its limits.
    ///
    /// A frame that is not a whole number of ticks is rounded down to one.
    pub fn sanitized(&self) -> Self {
        let frame_ms = self.frame_ms.clamp(1, FRAME_MS_LIMIT);
        let delay_max_ms = self.delay_max_ms.clamp(frame_ms, DELAY_MS_LIMIT);
        Self {
            delay_min_ms: self.delay_min_ms.clamp(frame_ms, delay_max_ms),
            delay_max_ms,
            frame_ms,
            clock_rate_hz: self
                .clock_rate_hz
                .clamp(*CLOCK_RATE_HZ_RANGE.start(), *CLOCK_RATE_HZ_RANGE.end()),
            window_packets: self.window_packets.clamp(1, WINDOW_PACKETS_LIMIT),
            conceal_frames_max: self.conceal_frames_max.clamp(1, CONCEAL_FRAMES_LIMIT),
            payload_max_bytes: self.payload_max_bytes.clamp(1, PAYLOAD_BYTES_LIMIT),
        }
    }
}

/// Constants derived from a sanitized configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Derived {
    /// RTP timestamp ticks per frame.
    pub step_ticks: u32,
    /// Slots in the ring: the most frames ever held ahead of the playout point.
    pub slots: u32,
    /// A timestamp further than this from the playout point restarts the buffer.
    pub resync_ticks: u32,
}

impl Derived {
    pub fn new(config: &JitterConfig) -> Self {
        let ticks = |ms: u32| {
            let ticks = u64::from(config.clock_rate_hz) * u64::from(ms) / 1_000;
            // The limits keep this far below u32::MAX (2 s × 4 × 192 kHz).
            u32::try_from(ticks).unwrap_or(u32::MAX)
        };
        Self {
            step_ticks: ticks(config.frame_ms).max(1),
            // Holding `slots` frames is `delay_max_ms + frame_ms` rounded down
            // to whole frames: the documented depth bound.
            slots: (config.delay_max_ms + config.frame_ms) / config.frame_ms,
            resync_ticks: ticks(config.delay_max_ms.saturating_mul(4)),
        }
    }

    /// Whole frames in a signed timestamp distance, rounded to the nearest.
    pub fn frames(&self, diff_ticks: i32) -> i32 {
        let step = i64::from(self.step_ticks);
        let frames = (i64::from(diff_ticks) + step / 2).div_euclid(step);
        // |diff| ≤ 2^31 and step ≥ 1, so this always fits.
        i32::try_from(frames).unwrap_or(i32::MAX)
    }

    /// Whether a timestamp distance is a stream discontinuity rather than jitter.
    pub fn is_jump(&self, diff_ticks: i32) -> bool {
        diff_ticks.unsigned_abs() > self.resync_ticks
    }
}

/// Signed distance from `b` to `a` in wrapping RTP timestamp arithmetic.
pub(crate) fn ts_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        assert_eq!(JitterConfig::opus().validate(), Ok(()));
        assert_eq!(JitterConfig::g711().validate(), Ok(()));
        assert_eq!(JitterConfig::g711().clock_rate_hz, 8_000);
    }

    #[test]
    fn sanitized_is_always_valid_except_for_tick_rounding() {
        let wild = JitterConfig {
            delay_min_ms: 0,
            delay_max_ms: u32::MAX,
            frame_ms: 0,
            clock_rate_hz: 48_000,
            window_packets: 0,
            conceal_frames_max: 0,
            payload_max_bytes: usize::MAX,
        };
        assert!(wild.validate().is_err());
        assert_eq!(wild.sanitized().validate(), Ok(()));
    }

    #[test]
    fn derived_default() {
        let d = Derived::new(&JitterConfig::default());
        assert_eq!(d.step_ticks, 960);
        assert_eq!(d.slots, 8); // 160 ms ≤ 150 + 20
        assert_eq!(d.resync_ticks, 600 * 48);
        assert_eq!(d.frames(960 * 3 + 400), 3);
        assert_eq!(d.frames(-960), -1);
        assert_eq!(ts_diff(5, u32::MAX - 4), 10);
    }
}
