//! Small signal measurements for tests and diagnostics: the power of one
//! frequency (Goertzel) and the mean power of a block.

/// Power of the `freq_hz` component of `samples`, on the scale of
/// [`mean_power`]: a sine of amplitude `a` at `freq_hz` measures `a² / 2`.
///
/// Runs the Goertzel recurrence at the exact frequency (no bin rounding), so
/// a tone measures the same whatever the block length; leakage from other
/// frequencies falls off as the block grows. Returns 0 for an empty block or
/// a frequency outside `0 ..= sample_rate_hz / 2`. (At exactly 0 Hz and the
/// Nyquist frequency the scale doubles: there the component is not a sine.)
pub fn goertzel_power(samples: &[i16], freq_hz: f32, sample_rate_hz: u32) -> f32 {
    let nyquist_hz = sample_rate_hz as f32 / 2.0;
    if samples.is_empty() || sample_rate_hz == 0 || !(0.0..=nyquist_hz).contains(&freq_hz) {
        return 0.0;
    }
    let omega = 2.0 * std::f64::consts::PI * f64::from(freq_hz) / f64::from(sample_rate_hz);
    let coeff = 2.0 * omega.cos();
    let (mut s1, mut s2) = (0f64, 0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    // |X(ω)|² from the last two states; 2/N² turns it into a sine's mean square.
    let magnitude_sq = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let n = samples.len() as f64;
    (2.0 * magnitude_sq / (n * n)) as f32
}

/// Mean square of `samples` (0 for an empty block).
pub fn mean_power(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    (sum / samples.len() as f64) as f32
}

/// Power ratio in decibels, with a floor so silence gives a finite number.
pub fn power_db(power: f32) -> f32 {
    10.0 * power.max(1e-10).log10()
}
