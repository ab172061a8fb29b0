//! The 48 ↔ 8 kHz resampler keeps the telephone band and rejects what would
//! alias into it: tones are pushed frame by frame through the streaming
//! filters and measured with Goertzel once the filter delay has passed.

use media_core::codec::resample::{
    Downsampler, NarrowFrame, Upsampler, DELAY_WIDE_SAMPLES, NARROW_FRAME_SAMPLES,
};
use media_core::codec::signal::{mean_power, power_db};
use media_core::codec::{goertzel_power, Frame, FRAME_SAMPLES};

const FRAMES: usize = 25;
/// Frames skipped before measuring, well past both filters' delay.
const SETTLE_FRAMES: usize = 5;
const AMPLITUDE: f32 = 10_000.0;

fn tone_frame(freq_hz: f32, frame_index: usize) -> Frame {
    let mut frame = [0i16; FRAME_SAMPLES];
    for (i, s) in frame.iter_mut().enumerate() {
        let t = (frame_index * FRAME_SAMPLES + i) as f64 / 48_000.0;
        *s = (f64::from(AMPLITUDE) * (2.0 * std::f64::consts::PI * f64::from(freq_hz) * t).sin())
            .round() as i16;
    }
    frame
}

/// Downsamples a 48 kHz tone, returning the settled 8 kHz output.
fn downsample_tone(freq_hz: f32) -> Vec<i16> {
    let mut down = Downsampler::new();
    let mut narrow: NarrowFrame = [0; NARROW_FRAME_SAMPLES];
    let mut kept = Vec::new();
    for i in 0..FRAMES {
        down.process(&tone_frame(freq_hz, i), &mut narrow);
        if i >= SETTLE_FRAMES {
            kept.extend_from_slice(&narrow);
        }
    }
    kept
}

/// Gain of the tone through 48 → 8 kHz, measured at `measure_hz` (its alias, if any).
fn down_gain_db(freq_hz: f32, measure_hz: f32) -> f32 {
    let out = downsample_tone(freq_hz);
    let input_power = AMPLITUDE * AMPLITUDE / 2.0;
    power_db(goertzel_power(&out, measure_hz, 8_000) / input_power)
}

#[test]
fn goertzel_measures_a_sine_as_half_its_amplitude_squared() {
    let frame = tone_frame(1_000.0, 0);
    let power = goertzel_power(&frame, 1_000.0, 48_000);
    let expected = AMPLITUDE * AMPLITUDE / 2.0;
    assert!(
        (power / expected - 1.0).abs() < 0.01,
        "{power} vs {expected}"
    );
    assert!((mean_power(&frame) / expected - 1.0).abs() < 0.01);
    // An octave away the tone is invisible over a whole number of periods.
    assert!(goertzel_power(&frame, 2_000.0, 48_000) < expected * 1e-4);
    assert_eq!(goertzel_power(&[], 1_000.0, 48_000), 0.0);
    assert_eq!(goertzel_power(&frame, 30_000.0, 48_000), 0.0);
}

#[test]
fn one_khz_tone_keeps_its_power_through_down_and_up() {
    let mut down = Downsampler::new();
    let mut up = Upsampler::new();
    let mut narrow: NarrowFrame = [0; NARROW_FRAME_SAMPLES];
    let mut wide: Frame = [0; FRAME_SAMPLES];
    let mut kept = Vec::new();
    for i in 0..FRAMES {
        down.process(&tone_frame(1_000.0, i), &mut narrow);
        up.process(&narrow, &mut wide);
        if i >= SETTLE_FRAMES {
            kept.extend_from_slice(&wide);
        }
    }
    let expected = AMPLITUDE * AMPLITUDE / 2.0;
    let gain_db = power_db(goertzel_power(&kept, 1_000.0, 48_000) / expected);
    assert!(gain_db.abs() < 1.0, "round trip gain {gain_db} dB");
    // Frames join seamlessly: the output is the input delayed by two filter
    // delays, with no clicks at frame edges (residual ≥ 40 dB down).
    let delay = 2 * DELAY_WIDE_SAMPLES;
    let start = SETTLE_FRAMES * FRAME_SAMPLES;
    let mut residual = 0f64;
    for (n, &y) in kept.iter().enumerate() {
        let t = (start + n) as f64 - delay as f64;
        let x = f64::from(AMPLITUDE) * (2.0 * std::f64::consts::PI * 1_000.0 * t / 48_000.0).sin();
        residual += (f64::from(y) - x).powi(2);
    }
    let snr_db = 10.0 * (f64::from(expected) * kept.len() as f64 / residual).log10();
    assert!(snr_db > 40.0, "round trip SNR {snr_db} dB");
}

#[test]
fn passband_is_flat_to_3400_hz() {
    for freq_hz in [300.0, 1_000.0, 2_000.0, 3_000.0, 3_400.0] {
        let gain_db = down_gain_db(freq_hz, freq_hz);
        assert!(gain_db.abs() < 1.0, "{freq_hz} Hz: {gain_db} dB");
    }
}

#[test]
fn six_khz_tone_is_rejected_when_downsampling() {
    // 6 kHz folds onto 2 kHz at 8 kHz sampling.
    let gain_db = down_gain_db(6_000.0, 2_000.0);
    assert!(gain_db < -30.0, "alias at {gain_db} dB");
    let total_db = power_db(mean_power(&downsample_tone(6_000.0)) / (AMPLITUDE * AMPLITUDE / 2.0));
    assert!(total_db < -30.0, "total output {total_db} dB");
}

#[test]
fn stopband_from_4_khz_is_40_db_down() {
    // Each tone above 4 kHz measured where it lands in the 0–4 kHz band.
    for freq_hz in [4_200.0f32, 5_000.0, 7_000.0, 9_500.0, 15_000.0, 20_000.0] {
        let alias_hz = {
            let folded = freq_hz % 8_000.0;
            if folded > 4_000.0 {
                8_000.0 - folded
            } else {
                folded
            }
        };
        let gain_db = down_gain_db(freq_hz, alias_hz);
        assert!(
            gain_db < -40.0,
            "{freq_hz} Hz → {alias_hz} Hz: {gain_db} dB"
        );
    }
}

#[test]
fn upsampling_leaves_no_images_above_4_khz() {
    let mut up = Upsampler::new();
    let mut wide: Frame = [0; FRAME_SAMPLES];
    let mut kept = Vec::new();
    for i in 0..FRAMES {
        let mut narrow: NarrowFrame = [0; NARROW_FRAME_SAMPLES];
        for (n, s) in narrow.iter_mut().enumerate() {
            let t = (i * NARROW_FRAME_SAMPLES + n) as f64 / 8_000.0;
            *s = (f64::from(AMPLITUDE) * (2.0 * std::f64::consts::PI * 1_000.0 * t).sin()) as i16;
        }
        up.process(&narrow, &mut wide);
        if i >= SETTLE_FRAMES {
            kept.extend_from_slice(&wide);
        }
    }
    let wanted = goertzel_power(&kept, 1_000.0, 48_000);
    // Images of 1 kHz sit at 8k ± 1k, 16k ± 1k, 24k − 1k.
    for image_hz in [7_000.0, 9_000.0, 15_000.0, 17_000.0, 23_000.0] {
        let image_db = power_db(goertzel_power(&kept, image_hz, 48_000) / wanted);
        assert!(image_db < -40.0, "image at {image_hz} Hz: {image_db} dB");
    }
}

#[test]
fn reset_returns_to_silence_and_dc_passes_unchanged() {
    let mut down = Downsampler::new();
    let mut up = Upsampler::new();
    let mut narrow: NarrowFrame = [0; NARROW_FRAME_SAMPLES];
    let mut wide: Frame = [0; FRAME_SAMPLES];
    for _ in 0..3 {
        down.process(&[5_000; FRAME_SAMPLES], &mut narrow);
        up.process(&narrow, &mut wide);
    }
    assert!(
        narrow.iter().all(|&s| (s - 5_000).abs() <= 1),
        "{:?}",
        &narrow[..4]
    );
    assert!(
        wide.iter().all(|&s| (s - 5_000).abs() <= 2),
        "{:?}",
        &wide[..8]
    );
    down.reset();
    up.reset();
    down.process(&[0; FRAME_SAMPLES], &mut narrow);
    up.process(&narrow, &mut wide);
    assert!(narrow.iter().chain(wide.iter()).all(|&s| s == 0));
}
