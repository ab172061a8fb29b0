//! Mouth-to-ear latency markers.
//!
//! One talker per room overwrites a whole 20 ms frame with a loud chirp
//! (500 → 3000 Hz, inside the G.711 band) at known frames. Its mouth time is
//! the moment the chirp's first sample was "spoken": the capture start of
//! that frame, i.e. the packet's send time minus one frame of packetisation.
//! A sampled listener records what it decodes, each received frame stamped
//! with the arrival time of its packet; its ear time for a sample is that
//! arrival plus the sample's offset in the frame (the listener's own playout
//! buffer is not included). The detector finds the chirp by normalised
//! cross-correlation, which other voices in the mix do not disturb, so the
//! latency covers packetisation, codec delay both ways, the network, the
//! engine's jitter buffer and mixing tick.

use std::time::Duration;

use media_core::codec::{Frame, FRAME_SAMPLES, SAMPLE_RATE_HZ};

/// Peak amplitude of the chirp (−6 dBFS): loud enough to win a speaker slot.
const CHIRP_AMPLITUDE: f32 = 16_000.0;
const CHIRP_START_HZ: f32 = 500.0;
const CHIRP_END_HZ: f32 = 3_000.0;
/// A detection needs at least this normalised correlation.
pub const DETECTION_THRESHOLD: f32 = 0.5;

/// The chirp that marks a frame.
pub fn chirp() -> Frame {
    let mut frame = [0i16; FRAME_SAMPLES];
    let n = FRAME_SAMPLES as f32;
    let rate = SAMPLE_RATE_HZ as f32;
    let sweep = (CHIRP_END_HZ - CHIRP_START_HZ) / (n / rate);
    let ramp = FRAME_SAMPLES / 20;
    for (i, s) in frame.iter_mut().enumerate() {
        let t = i as f32 / rate;
        let phase = std::f32::consts::TAU * (CHIRP_START_HZ * t + 0.5 * sweep * t * t);
        // Short raised-cosine ramps so the edges do not click.
        let edge = i.min(FRAME_SAMPLES - 1 - i);
        let gain = if edge < ramp {
            0.5 - 0.5 * (std::f32::consts::PI * edge as f32 / ramp as f32).cos()
        } else {
            1.0
        };
        *s = (CHIRP_AMPLITUDE * gain * phase.sin()) as i16;
    }
    frame
}

/// Which frames of a talker carry a marker.
#[derive(Clone, Copy, Debug)]
pub struct MarkerSchedule {
    /// A marker every this many frames.
    pub interval_frames: u32,
    /// The first marker frame.
    pub first_frame: u32,
}

impl MarkerSchedule {
    /// Whether frame `index` carries a marker.
    pub fn is_marker(&self, index: u32) -> bool {
        index >= self.first_frame && (index - self.first_frame) % self.interval_frames.max(1) == 0
    }
}

/// What one sampled listener heard: decoded PCM with the ear time of every frame.
#[derive(Clone, Debug, Default)]
pub struct EarRecording {
    samples: Vec<f32>,
    /// (ear time of the frame's first sample since the run started, index of that sample)
    frames: Vec<(Duration, usize)>,
}

impl EarRecording {
    /// An empty recording with room for `seconds` of audio.
    pub fn with_capacity(seconds: u32) -> Self {
        let frames = seconds as usize * 50;
        Self {
            samples: Vec::with_capacity(frames * FRAME_SAMPLES),
            frames: Vec::with_capacity(frames),
        }
    }

    /// Appends one decoded frame whose packet arrived at `arrival`.
    pub fn push(&mut self, arrival: Duration, frame: &Frame) {
        self.frames.push((arrival, self.samples.len()));
        self.samples.extend(frame.iter().map(|&s| f32::from(s)));
    }

    /// The decoded samples, in arrival order.
    pub fn samples(&self) -> impl Iterator<Item = i16> + '_ {
        self.samples.iter().map(|&s| s as i16)
    }

    /// The recording laid out on the run's clock from `origin`: each frame
    /// at its arrival time, gaps (lost or late packets) filled with silence,
    /// so it lines up with what the talkers sent.
    pub fn aligned(&self, origin: Duration) -> Vec<i16> {
        let mut out: Vec<i16> = Vec::with_capacity(self.samples.len());
        for (i, &(arrival, start)) in self.frames.iter().enumerate() {
            let at = arrival.saturating_sub(origin);
            let position = (at.as_nanos() * u128::from(SAMPLE_RATE_HZ) / 1_000_000_000) as usize;
            // Arrival jitter under a frame keeps frames back to back.
            if position > out.len() + FRAME_SAMPLES {
                out.resize(position, 0);
            }
            let end = self.frames.get(i + 1).map_or(self.samples.len(), |f| f.1);
            out.extend(self.samples[start..end].iter().map(|&s| s as i16));
        }
        out
    }

    /// Finds the marker spoken at `mouth` within `search` after it, returning
    /// the ear time of its first sample.
    pub fn find_marker(
        &self,
        mouth: Duration,
        search: Duration,
        template: &[f32],
    ) -> Option<Duration> {
        let start = self.frames.partition_point(|(t, _)| *t < mouth);
        let end = self.frames.partition_point(|(t, _)| *t <= mouth + search);
        if start >= end {
            return None;
        }
        let first = self.frames[start].1;
        let last = (self.frames[end - 1].1 + FRAME_SAMPLES).min(self.samples.len());
        let (offset, score) = best_match(&self.samples[first..last], template)?;
        if score < DETECTION_THRESHOLD {
            return None;
        }
        let sample = first + offset;
        // The frame the sample fell in, and its position inside it.
        let frame = self.frames.partition_point(|(_, s)| *s <= sample) - 1;
        let (arrival, frame_start) = self.frames[frame];
        Some(arrival + samples_to_duration(sample - frame_start))
    }
}

/// The chirp as f32, for correlation.
pub fn template() -> Vec<f32> {
    chirp().iter().map(|&s| f32::from(s)).collect()
}

/// Offset and normalised correlation of the best match of `template` in `signal`.
fn best_match(signal: &[f32], template: &[f32]) -> Option<(usize, f32)> {
    if signal.len() < template.len() {
        return None;
    }
    let template_energy: f32 = template.iter().map(|x| x * x).sum();
    let positions = signal.len() - template.len() + 1;
    let score_at = |offset: usize| -> f32 {
        let window = &signal[offset..offset + template.len()];
        let dot: f32 = window.iter().zip(template).map(|(a, b)| a * b).sum();
        let energy: f32 = window.iter().map(|x| x * x).sum();
        if energy <= 0.0 {
            0.0
        } else {
            dot / (energy * template_energy).sqrt()
        }
    };
    // Coarse search every 4 samples, then refine around the best.
    let coarse = (0..positions)
        .step_by(4)
        .map(|o| (o, score_at(o)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let lo = coarse.0.saturating_sub(4);
    let hi = (coarse.0 + 5).min(positions);
    (lo..hi)
        .map(|o| (o, score_at(o)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

fn samples_to_duration(samples: usize) -> Duration {
    Duration::from_nanos(samples as u64 * 1_000_000_000 / u64::from(SAMPLE_RATE_HZ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use media_core::codec::{self, CodecConfig, Decoder as _, Encoder as _, OpusConfig};

    /// Speech-like filler: a few tones with a slow envelope and noise.
    fn babble(frames: usize, seed: u32) -> Vec<i16> {
        let mut state = seed | 1;
        (0..frames * FRAME_SAMPLES)
            .map(|i| {
                let t = i as f32 / 48_000.0;
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let noise = (state >> 20) as f32 - 2048.0;
                let envelope = 0.5 + 0.5 * (t * 3.0).sin();
                (envelope * (3000.0 * (t * 700.0).sin() + 2000.0 * (t * 1250.0).sin()) + noise)
                    as i16
            })
            .collect()
    }

    #[test]
    fn finds_a_marker_at_a_known_delay_within_a_tenth_of_a_millisecond() {
        let mut rec = EarRecording::default();
        let filler = babble(100, 3);
        let mut frames: Vec<Frame> = filler
            .chunks_exact(FRAME_SAMPLES)
            .map(|c| <Frame>::try_from(c).unwrap())
            .collect();
        // The marker starts 300 samples (6.25 ms) into frame 40, mixed over the babble.
        let chirp = chirp();
        for (i, &c) in chirp.iter().enumerate() {
            let at = 40 * FRAME_SAMPLES + 300 + i;
            let f = &mut frames[at / FRAME_SAMPLES][at % FRAME_SAMPLES];
            *f = f.saturating_add(c);
        }
        // Frame k arrives at 5 ms + 20 ms × k.
        for (k, frame) in frames.iter().enumerate() {
            rec.push(Duration::from_millis(5 + 20 * k as u64), frame);
        }
        let mouth = Duration::from_millis(700);
        let ear = rec
            .find_marker(mouth, Duration::from_millis(400), &template())
            .expect("found");
        let expected = Duration::from_micros(5_000 + 20_000 * 40 + 6_250);
        let error = ear.abs_diff(expected);
        assert!(
            error < Duration::from_micros(100),
            "ear {ear:?} expected {expected:?}"
        );
    }

    #[test]
    fn no_marker_no_detection() {
        let mut rec = EarRecording::default();
        for (k, chunk) in babble(50, 9).chunks_exact(FRAME_SAMPLES).enumerate() {
            rec.push(
                Duration::from_millis(20 * k as u64),
                &<Frame>::try_from(chunk).unwrap(),
            );
        }
        assert_eq!(
            rec.find_marker(Duration::ZERO, Duration::from_millis(900), &template()),
            None
        );
    }

    #[test]
    fn through_opus_the_marker_is_found_one_codec_delay_later() {
        let config = CodecConfig::Opus(OpusConfig::default());
        let mut encoder = codec::new_encoder(config).unwrap();
        let mut decoder = codec::new_decoder(config).unwrap();
        let mut rec = EarRecording::default();
        let filler = babble(60, 5);
        let mut payload = [0u8; 1500];
        let mut out = [0i16; FRAME_SAMPLES];
        for (k, chunk) in filler.chunks_exact(FRAME_SAMPLES).enumerate() {
            let mut frame = <Frame>::try_from(chunk).unwrap();
            if k == 30 {
                frame = chirp();
            }
            let n = encoder.encode(&frame, &mut payload).unwrap();
            decoder.decode(&payload[..n], &mut out).unwrap();
            // No network: each frame "arrives" at its capture start.
            rec.push(Duration::from_millis(20 * k as u64), &out);
        }
        let mouth = Duration::from_millis(600);
        let ear = rec
            .find_marker(mouth, Duration::from_millis(200), &template())
            .expect("found");
        let latency = ear - mouth;
        // libopus 1.3 has 6.5 ms of algorithmic delay (312 samples at 48 kHz).
        let expected = Duration::from_micros(6_500);
        assert!(
            latency.abs_diff(expected) < Duration::from_millis(1),
            "latency {latency:?}"
        );
    }
}
