//! 48 kHz ↔ 8 kHz conversion by a factor of 6 for G.711 legs.
//!
//! Both directions share one linear-phase low-pass prototype: a 241-tap
//! Kaiser-windowed sinc (cutoff 3.7 kHz, β = 4.5) run at 48 kHz. It is flat
//! within 0.05 dB up to 3.4 kHz and at least 49 dB down from 4 kHz, which
//! covers the telephone band and keeps aliases out of it. The downsampler
//! evaluates it only at every sixth output; the upsampler splits it into six
//! 41-tap polyphase branches, so neither computes the zeros of the rate change.
//!
//! Each direction delays the signal by [`DELAY_WIDE_SAMPLES`] (2.5 ms). The
//! filter history lives in fixed arrays carried from one 20 ms frame to the
//! next, so frames join without clicks. The arrays are boxed once at
//! construction (a few KB, which would otherwise bloat every codec enum);
//! nothing allocates per call.

use std::sync::OnceLock;

use super::{Frame, FRAME_SAMPLES};

/// The narrow-band rate of G.711.
pub const NARROW_RATE_HZ: u32 = 8_000;
/// Ratio of the mixer rate to the narrow-band rate.
pub const FACTOR: usize = 6;
/// Samples in one 20 ms frame at 8 kHz.
pub const NARROW_FRAME_SAMPLES: usize = FRAME_SAMPLES / FACTOR;
/// One 20 ms frame of 8 kHz mono PCM.
pub type NarrowFrame = [i16; NARROW_FRAME_SAMPLES];

const TAPS_PER_PHASE: usize = 41;
/// Odd length, so the group delay is a whole number of 48 kHz samples, and
/// a multiple of [`FACTOR`] at that, so it is whole at 8 kHz too.
const PROTOTYPE_TAPS: usize = FACTOR * TAPS_PER_PHASE - (FACTOR - 1);
/// Group delay of one pass in either direction, in 48 kHz samples.
pub const DELAY_WIDE_SAMPLES: usize = (PROTOTYPE_TAPS - 1) / 2;
/// Group delay of one pass in either direction, in 8 kHz samples.
pub const DELAY_NARROW_SAMPLES: usize = DELAY_WIDE_SAMPLES / FACTOR;
const CUTOFF_HZ: f64 = 3_700.0;
const KAISER_BETA: f64 = 4.5;

const _: () = assert!(FRAME_SAMPLES % FACTOR == 0);
const _: () = assert!(DELAY_WIDE_SAMPLES % FACTOR == 0);
const _: () = assert!(NARROW_RATE_HZ as usize * FACTOR == super::SAMPLE_RATE_HZ as usize);

/// Input history the downsampler keeps: one prototype length minus one.
const DOWN_HISTORY: usize = PROTOTYPE_TAPS - 1;
/// Input history the upsampler keeps: one branch length minus one.
const UP_HISTORY: usize = TAPS_PER_PHASE - 1;

struct Taps {
    /// The prototype, unit gain at DC (symmetric, so no reversal needed).
    prototype: [f32; PROTOTYPE_TAPS],
    /// Branch `r` holds prototype taps r, r+6, ... in reverse order, scaled
    /// so each branch sums to 1: the zero-stuffing loss is made up and a
    /// constant input gives a constant output with no 8 kHz images.
    branches: [[f32; TAPS_PER_PHASE]; FACTOR],
}

fn taps() -> &'static Taps {
    static TAPS: OnceLock<Taps> = OnceLock::new();
    TAPS.get_or_init(design)
}

/// Zeroth-order modified Bessel function of the first kind, by its series.
fn bessel_i0(x: f64) -> f64 {
    let half = x / 2.0;
    let (mut sum, mut term) = (1.0, 1.0);
    // The terms fall below 1e-17 of the sum well before k = 50 for β ≤ 10.
    for k in 1..50 {
        term *= half / k as f64;
        sum += term * term;
    }
    sum
}

fn design() -> Taps {
    let center = DELAY_WIDE_SAMPLES as f64;
    let fc = CUTOFF_HZ / f64::from(super::SAMPLE_RATE_HZ);
    let mut wide = [0f64; PROTOTYPE_TAPS];
    for (n, tap) in wide.iter_mut().enumerate() {
        let t = n as f64 - center;
        let sinc = if t == 0.0 {
            2.0 * fc
        } else {
            (2.0 * std::f64::consts::PI * fc * t).sin() / (std::f64::consts::PI * t)
        };
        let ratio = t / center;
        let window = bessel_i0(KAISER_BETA * (1.0 - ratio * ratio).sqrt()) / bessel_i0(KAISER_BETA);
        *tap = sinc * window;
    }
    let dc: f64 = wide.iter().sum();
    let mut prototype = [0f32; PROTOTYPE_TAPS];
    for (out, tap) in prototype.iter_mut().zip(wide) {
        *out = (tap / dc) as f32;
    }
    let mut branches = [[0f32; TAPS_PER_PHASE]; FACTOR];
    for (phase, branch) in branches.iter_mut().enumerate() {
        // Taps past the prototype's end are zero.
        let tap = |i: usize| wide.get(phase + FACTOR * i).copied().unwrap_or(0.0);
        let sum: f64 = (0..TAPS_PER_PHASE).map(tap).sum();
        for (j, out) in branch.iter_mut().enumerate() {
            *out = (tap(TAPS_PER_PHASE - 1 - j) / sum) as f32;
        }
    }
    Taps {
        prototype,
        branches,
    }
}

/// Dot product over eight independent accumulators: a single running sum
/// pins the additions to one order and keeps the compiler from vectorising.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            acc[lane] += x[lane] * y[lane];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Rounds to the nearest 16-bit sample; `as` saturates out-of-range values.
fn to_i16(value: f32) -> i16 {
    value.round() as i16
}

/// 48 kHz → 8 kHz, one 20 ms frame per call.
pub struct Downsampler {
    /// `DOWN_HISTORY` samples of the previous frames, then the current frame.
    buf: Box<[f32; DOWN_HISTORY + FRAME_SAMPLES]>,
}

impl Downsampler {
    /// A downsampler whose history is silence.
    pub fn new() -> Self {
        taps();
        Self {
            buf: Box::new([0.0; DOWN_HISTORY + FRAME_SAMPLES]),
        }
    }

    /// Filters and decimates one 960-sample frame to 160 samples.
    pub fn process(&mut self, wide: &Frame, narrow: &mut NarrowFrame) {
        let prototype = &taps().prototype;
        for (dst, &src) in self.buf[DOWN_HISTORY..].iter_mut().zip(wide) {
            *dst = f32::from(src);
        }
        // Output m lines up with input 6m; with the symmetric prototype the
        // convolution is a forward dot product over the window ending there.
        for (m, out) in narrow.iter_mut().enumerate() {
            let start = m * FACTOR;
            *out = to_i16(dot(prototype, &self.buf[start..start + PROTOTYPE_TAPS]));
        }
        self.buf.copy_within(FRAME_SAMPLES.., 0);
    }

    /// Forgets the history, as if newly built.
    pub fn reset(&mut self) {
        self.buf.fill(0.0);
    }
}

impl Default for Downsampler {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Downsampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downsampler").finish_non_exhaustive()
    }
}

/// 8 kHz → 48 kHz, one 20 ms frame per call.
pub struct Upsampler {
    /// `UP_HISTORY` samples of the previous frames, then the current frame.
    buf: Box<[f32; UP_HISTORY + NARROW_FRAME_SAMPLES]>,
}

impl Upsampler {
    /// An upsampler whose history is silence.
    pub fn new() -> Self {
        taps();
        Self {
            buf: Box::new([0.0; UP_HISTORY + NARROW_FRAME_SAMPLES]),
        }
    }

    /// Interpolates one 160-sample frame to 960 samples.
    pub fn process(&mut self, narrow: &NarrowFrame, wide: &mut Frame) {
        let branches = &taps().branches;
        for (dst, &src) in self.buf[UP_HISTORY..].iter_mut().zip(narrow) {
            *dst = f32::from(src);
        }
        for (q, outs) in wide.chunks_exact_mut(FACTOR).enumerate() {
            let window = &self.buf[q..q + TAPS_PER_PHASE];
            for (out, branch) in outs.iter_mut().zip(branches) {
                *out = to_i16(dot(branch, window));
            }
        }
        self.buf.copy_within(NARROW_FRAME_SAMPLES.., 0);
    }

    /// Forgets the history, as if newly built.
    pub fn reset(&mut self) {
        self.buf.fill(0.0);
    }
}

impl Default for Upsampler {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Upsampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upsampler").finish_non_exhaustive()
    }
}
