//! Signals for simulated guardians: recorded speech (espeak-ng, committed as
//! a fixture), low-level noise for listeners who are not talking, and tones
//! for tests that must tell voices apart by frequency.

use media_core::codec::{Frame, SAMPLE_RATE_HZ};

/// Four seconds of espeak-ng speech, 48 kHz mono s16le (see bench/fixtures/README.md).
static SPEECH_S16LE: &[u8] = include_bytes!("../../../bench/fixtures/speech_48k_mono.s16");

/// The speech fixture as samples.
pub fn speech_fixture() -> Vec<i16> {
    SPEECH_S16LE
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// What a simulated guardian says.
#[derive(Debug, Clone)]
pub enum SignalSource {
    /// Recorded speech, looped.
    Speech(SpeechSource),
    /// Seeded white noise at a fixed low level.
    Noise(NoiseSource),
    /// A pure tone (tests only: codecs treat tones unlike speech).
    Tone(ToneSource),
    /// Digital silence.
    Silence,
}

impl SignalSource {
    /// Fills the next 20 ms.
    pub fn fill(&mut self, frame: &mut Frame) {
        match self {
            Self::Speech(s) => s.fill(frame),
            Self::Noise(n) => n.fill(frame),
            Self::Tone(t) => t.fill(frame),
            Self::Silence => frame.fill(0),
        }
    }
}

/// Loops over a speech recording from an offset, so talkers sharing the
/// fixture do not say the same syllable at the same time.
#[derive(Debug, Clone)]
pub struct SpeechSource {
    samples: std::sync::Arc<[i16]>,
    position: usize,
}

impl SpeechSource {
    /// Speech starting `offset_ms` into the recording.
    pub fn new(samples: std::sync::Arc<[i16]>, offset_ms: u32) -> Self {
        let len = samples.len().max(1);
        let position = (offset_ms as usize * SAMPLE_RATE_HZ as usize / 1000) % len;
        Self { samples, position }
    }

    fn fill(&mut self, frame: &mut Frame) {
        for s in frame.iter_mut() {
            *s = self.samples.get(self.position).copied().unwrap_or(0);
            self.position = (self.position + 1) % self.samples.len().max(1);
        }
    }
}

/// White noise from a seeded xorshift generator.
#[derive(Debug, Clone)]
pub struct NoiseSource {
    state: u32,
    amplitude: i32,
}

impl NoiseSource {
    /// Noise of peak `amplitude` (e.g. 30 ≈ −65 dBov RMS), seeded.
    pub fn new(seed: u32, amplitude: i16) -> Self {
        Self {
            state: seed | 1,
            amplitude: i32::from(amplitude),
        }
    }

    fn fill(&mut self, frame: &mut Frame) {
        for s in frame.iter_mut() {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 17;
            self.state ^= self.state << 5;
            let unit = (self.state >> 16) as i32 - 32768;
            *s = (unit * self.amplitude / 32768) as i16;
        }
    }
}

/// A sine tone.
#[derive(Debug, Clone)]
pub struct ToneSource {
    phase: f64,
    step: f64,
    amplitude: f64,
}

impl ToneSource {
    /// A tone at `freq_hz` with peak `amplitude`.
    pub fn new(freq_hz: f64, amplitude: i16) -> Self {
        Self {
            phase: 0.0,
            step: std::f64::consts::TAU * freq_hz / f64::from(SAMPLE_RATE_HZ),
            amplitude: f64::from(amplitude),
        }
    }

    fn fill(&mut self, frame: &mut Frame) {
        for s in frame.iter_mut() {
            *s = (self.amplitude * self.phase.sin()) as i16;
            self.phase = (self.phase + self.step) % std::f64::consts::TAU;
        }
    }
}
