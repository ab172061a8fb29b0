//! Audio level in RFC 6464 units (−dBov, 0 = loudest, 127 = silence) and the
//! smoothing used to rank speakers.

use crate::codec::Frame;

/// The RFC 6464 value for digital silence.
pub const SILENCE_DBOV: u8 = 127;

/// Level of a 16-bit frame as RFC 6464 defines it: RMS power relative to the
/// overload point (a full-scale square wave is 0 dBov, a full-scale sine −3),
/// expressed as −dBov and clamped to 0..=127.
pub fn frame_level_dbov(pcm: &Frame) -> u8 {
    let energy: i64 = pcm.iter().map(|&s| i64::from(s) * i64::from(s)).sum();
    if energy == 0 {
        return SILENCE_DBOV;
    }
    let mean_square = energy as f64 / pcm.len() as f64;
    // dBov is relative to the overload point: a full-scale square wave is 0 dBov.
    let db = 10.0 * (mean_square / (32768.0 * 32768.0)).log10();
    (-db).round().clamp(0.0, f64::from(SILENCE_DBOV)) as u8
}

/// Loudness smoothed over a few frames, in tenths of a dB above silence, so
/// that ranking ignores single loud clicks and syllable gaps.
#[derive(Clone, Copy, Debug, Default)]
pub struct SmoothedLoudness {
    decibels_x10: i32,
}

impl SmoothedLoudness {
    /// Feeds one frame's level.
    pub fn update(&mut self, level_dbov: u8) {
        let sample = i32::from(SILENCE_DBOV - level_dbov.min(SILENCE_DBOV)) * 10;
        // Rise at once, so a new voice is mixed from its first frame (a
        // slow attack clips every talker's first syllable); fall over ~10
        // frames (200 ms) so a speaker keeps the slot across short pauses.
        if sample > self.decibels_x10 {
            self.decibels_x10 = sample;
        } else {
            self.decibels_x10 += (sample - self.decibels_x10) / 10;
        }
    }

    /// Decays towards silence for a frame with no input.
    pub fn decay(&mut self) {
        self.decibels_x10 -= self.decibels_x10 / 10 + 1;
        self.decibels_x10 = self.decibels_x10.max(0);
    }

    /// Forgets the history (participant resumed after idle).
    pub fn reset(&mut self) {
        self.decibels_x10 = 0;
    }

    /// Smoothed loudness in tenths of a dB above the RFC 6464 silence floor.
    pub fn loudness_x10(&self) -> i32 {
        self.decibels_x10
    }

    /// The smoothed loudness back in RFC 6464 units.
    pub fn level_dbov(&self) -> u8 {
        let db = (self.decibels_x10 / 10).clamp(0, i32::from(SILENCE_DBOV));
        SILENCE_DBOV - db as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::FRAME_SAMPLES;

    #[test]
    fn silence_is_127_and_full_scale_square_is_0() {
        assert_eq!(frame_level_dbov(&[0; FRAME_SAMPLES]), 127);
        let mut square = [0i16; FRAME_SAMPLES];
        for (i, s) in square.iter_mut().enumerate() {
            *s = if i % 2 == 0 { i16::MAX } else { i16::MIN };
        }
        assert_eq!(frame_level_dbov(&square), 0);
    }

    #[test]
    fn halving_amplitude_lowers_level_by_six_db() {
        let mut a = [0i16; FRAME_SAMPLES];
        let mut b = [0i16; FRAME_SAMPLES];
        for i in 0..FRAME_SAMPLES {
            let x = (i as f64 * 0.1).sin();
            a[i] = (x * 16000.0) as i16;
            b[i] = (x * 8000.0) as i16;
        }
        let diff = i32::from(frame_level_dbov(&b)) - i32::from(frame_level_dbov(&a));
        assert_eq!(diff, 6);
    }

    #[test]
    fn smoothing_rises_at_once_and_falls_slowly() {
        let mut s = SmoothedLoudness::default();
        s.update(20);
        assert_eq!(s.level_dbov(), 20);
        s.update(127);
        assert!(s.level_dbov() <= 40, "fell too fast to {}", s.level_dbov());
    }
}
