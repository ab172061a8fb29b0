//! Saturation-safe output stage: an envelope limiter followed by a soft clip.
//!
//! Mixes are summed in `i32`, so summing never overflows; this stage brings
//! the sum back into 16 bits without the harsh distortion of hard clipping.
//! The limiter lowers the gain at once when a frame would overload and lets
//! it recover over roughly half a second; the soft clip catches what the
//! frame-level gain cannot (a peak early in a frame before the ramp is done).

use crate::codec::{Frame, FRAME_SAMPLES};

/// Peak level the limiter aims for: −1 dBFS.
const TARGET_PEAK: f32 = 29_204.0;
/// Where the soft clip starts bending the curve.
const KNEE: f32 = 27_000.0;
/// Gain recovery per frame towards unity (≈ 0.5 s time constant at 20 ms).
const RELEASE_PER_FRAME: f32 = 0.04;

/// One output stream's limiter state.
#[derive(Clone, Copy, Debug)]
pub struct Limiter {
    gain: f32,
}

impl Default for Limiter {
    fn default() -> Self {
        Self { gain: 1.0 }
    }
}

impl Limiter {
    /// The gain currently applied (1.0 = no limiting).
    pub fn gain(&self) -> f32 {
        self.gain
    }

    /// Converts one summed frame to 16-bit output.
    pub fn process(&mut self, sum: &[i32; FRAME_SAMPLES], out: &mut Frame) {
        let peak = sum.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0) as f32;
        // Recover slowly towards unity, but never beyond what keeps this
        // frame's peak at the target.
        let released = self.gain + (1.0 - self.gain) * RELEASE_PER_FRAME;
        let wanted = if peak > 0.0 {
            released.min(TARGET_PEAK / peak)
        } else {
            released
        };
        let wanted = wanted.min(1.0);

        if self.gain >= 1.0 && wanted >= 1.0 && peak <= KNEE {
            // The common case: nothing near full scale, a plain copy.
            for (o, &s) in out.iter_mut().zip(sum.iter()) {
                *o = s as i16;
            }
            return;
        }

        // Ramp from the previous gain to the new one across the frame so the
        // gain change itself does not click.
        let step = (wanted - self.gain) / FRAME_SAMPLES as f32;
        let mut g = self.gain;
        for (o, &s) in out.iter_mut().zip(sum.iter()) {
            g += step;
            *o = soft_clip(s as f32 * g);
        }
        self.gain = wanted;
    }
}

/// Maps any value into the 16-bit range, linear below the knee and bending
/// smoothly towards full scale above it.
fn soft_clip(x: f32) -> i16 {
    let magnitude = x.abs();
    if magnitude <= KNEE {
        return x as i16;
    }
    let headroom = f32::from(i16::MAX) - KNEE;
    let bent = KNEE + headroom * ((magnitude - KNEE) / headroom).tanh();
    (bent.copysign(x)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(amplitude: f32) -> [i32; FRAME_SAMPLES] {
        let mut f = [0i32; FRAME_SAMPLES];
        for (i, s) in f.iter_mut().enumerate() {
            *s = (amplitude * (i as f32 * 0.0654).sin()) as i32;
        }
        f
    }

    #[test]
    fn quiet_signal_passes_unchanged() {
        let mut lim = Limiter::default();
        let input = sine(10_000.0);
        let mut out = [0i16; FRAME_SAMPLES];
        lim.process(&input, &mut out);
        for (o, i) in out.iter().zip(input.iter()) {
            assert_eq!(i32::from(*o), *i);
        }
    }

    #[test]
    fn overload_of_five_full_scale_voices_never_wraps() {
        let mut lim = Limiter::default();
        let input = sine(5.0 * 32767.0);
        let mut out = [0i16; FRAME_SAMPLES];
        for _ in 0..3 {
            lim.process(&input, &mut out);
            // Wrapping would flip sign against the input; limiting never does.
            for (o, i) in out.iter().zip(input.iter()) {
                assert!(i32::from(*o).signum() * i.signum() >= 0);
            }
        }
        let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(peak as f32 <= TARGET_PEAK + 1.0, "peak {peak}");
        assert!(lim.gain() < 0.25);
    }

    #[test]
    fn gain_recovers_after_the_loud_part() {
        let mut lim = Limiter::default();
        let mut out = [0i16; FRAME_SAMPLES];
        lim.process(&sine(100_000.0), &mut out);
        let squeezed = lim.gain();
        for _ in 0..100 {
            lim.process(&sine(1000.0), &mut out);
        }
        assert!(squeezed < 0.5);
        assert!(lim.gain() > 0.95, "gain stuck at {}", lim.gain());
    }
}
