//! Opus over libopus (through audiopus): 48 kHz mono, 20 ms frames.
//!
//! The encoder applies every [`OpusConfig`] knob at construction. The decoder
//! takes only 20 ms packets (what `ptime:20` negotiates), so one payload is
//! always one [`Frame`]. Loss is handled by libopus: packet loss concealment
//! for [`Decoder::conceal`], and the SILK low-bitrate redundancy (LBRR, the
//! "in-band FEC") of the next packet for [`Decoder::decode_fec`].

use audiopus::coder::{Decoder as RawDecoder, Encoder as RawEncoder, GenericCtl};
use audiopus::packet::{self, Packet};
use audiopus::{Application, Bitrate, Channels, MutSignals, SampleRate};

use super::FRAME_SAMPLES;
use super::{CodecConfig, CodecError, Decoder, Encoder, Frame, OpusApplication, OpusConfig};

/// TOC configurations 16..=31 are CELT-only (RFC 6716 §3.1), which has no LBRR.
const CELT_CONFIG_MIN: u8 = 16;

fn is_celt_only(toc: u8) -> bool {
    toc >> 3 >= CELT_CONFIG_MIN
}

/// Whether a single-frame (code 0) Opus packet carries LBRR data that
/// `decode_fec` can turn into the previous, lost frame.
///
/// The SILK layer opens its range-coded frame with one VAD flag per 20 ms
/// SILK frame and then the LBRR flag (RFC 6716 §4.2.3), each an equiprobable
/// symbol. While the range stays a power of two such symbols are plain bits,
/// so the LBRR flag is bit `7 − n` of the first byte after the TOC, for `n`
/// VAD flags. Multi-frame packets (codes 1–3) report `false` and get
/// concealed: at 20 ms they can only be 2 × 10 ms, whose FEC would rebuild
/// just the second half of the lost frame.
pub fn opus_packet_has_fec(payload: &[u8]) -> bool {
    let Some((&toc, frame)) = payload.split_first() else {
        return false;
    };
    let config = toc >> 3;
    if config >= CELT_CONFIG_MIN || toc & 0x03 != 0 {
        return false;
    }
    // SILK-only configs 0..=11 cycle 10/20/40/60 ms; hybrid 12..=15 is 10/20 ms.
    let vad_flags = if config < 12 {
        match config & 0x03 {
            0 | 1 => 1,
            2 => 2,
            _ => 3,
        }
    } else {
        1
    };
    frame
        .first()
        .is_some_and(|&first| first & (0x80 >> vad_flags) != 0)
}

fn application(app: OpusApplication) -> Application {
    match app {
        OpusApplication::Voip => Application::Voip,
        OpusApplication::Audio => Application::Audio,
        OpusApplication::RestrictedLowDelay => Application::LowDelay,
    }
}

/// An Opus encoder for 20 ms 48 kHz mono frames.
#[derive(Debug)]
pub struct OpusEncoder {
    inner: RawEncoder,
    config: OpusConfig,
}

impl OpusEncoder {
    /// Builds an encoder and applies every field of `config`.
    pub fn new(config: OpusConfig) -> Result<Self, CodecError> {
        config.validate()?;
        let app = application(config.application);
        let mut inner = RawEncoder::new(SampleRate::Hz48000, Channels::Mono, app)
            .map_err(CodecError::opus("create encoder"))?;
        inner
            .set_complexity(config.complexity)
            .map_err(CodecError::opus("set complexity"))?;
        inner
            .set_inband_fec(config.fec)
            .map_err(CodecError::opus("set inband fec"))?;
        inner
            .set_dtx(config.dtx)
            .map_err(CodecError::opus("set dtx"))?;
        let mut encoder = Self { inner, config };
        encoder.set_bitrate_bps(config.bitrate_bps)?;
        encoder.set_packet_loss_pct(config.packet_loss_pct)?;
        Ok(encoder)
    }

    /// Updates the expected loss (e.g. from RTCP receiver reports). At 32 kb/s
    /// libopus 1.3.1 emits FEC only above 5 %, narrowing the audio band to
    /// make room for it; at 0 nothing is spent on FEC even with `fec` on.
    pub fn set_packet_loss_pct(&mut self, packet_loss_pct: u8) -> Result<(), CodecError> {
        OpusConfig {
            packet_loss_pct,
            ..self.config
        }
        .validate()?;
        self.inner
            .set_packet_loss_perc(packet_loss_pct)
            .map_err(CodecError::opus("set packet loss"))?;
        self.config.packet_loss_pct = packet_loss_pct;
        Ok(())
    }

    /// Updates the target bitrate (e.g. from congestion feedback).
    pub fn set_bitrate_bps(&mut self, bitrate_bps: u32) -> Result<(), CodecError> {
        OpusConfig {
            bitrate_bps,
            ..self.config
        }
        .validate()?;
        // validate() bounded the bitrate well inside i32.
        let bits = i32::try_from(bitrate_bps).unwrap_or(i32::MAX);
        self.inner
            .set_bitrate(Bitrate::BitsPerSecond(bits))
            .map_err(CodecError::opus("set bitrate"))?;
        self.config.bitrate_bps = bitrate_bps;
        Ok(())
    }

    /// The Opus settings this encoder runs with.
    pub fn opus_config(&self) -> OpusConfig {
        self.config
    }

    /// Encoder lookahead in 48 kHz samples: how late decoded audio starts.
    pub fn lookahead_samples(&self) -> Result<u32, CodecError> {
        self.inner
            .lookahead()
            .map_err(CodecError::opus("get lookahead"))
    }
}

impl Encoder for OpusEncoder {
    /// With DTX on, a payload of 1–2 bytes marks silence and need not be sent.
    fn encode(&mut self, pcm: &Frame, out: &mut [u8]) -> Result<usize, CodecError> {
        self.inner
            .encode(pcm, out)
            .map_err(CodecError::opus("encode"))
    }

    fn reset(&mut self) {
        // OPUS_RESET_STATE keeps the settings and cannot fail on a live encoder.
        let _ = self.inner.reset_state();
    }

    fn config(&self) -> CodecConfig {
        CodecConfig::Opus(self.config)
    }
}

/// An Opus decoder producing 20 ms 48 kHz mono frames.
#[derive(Debug)]
pub struct OpusDecoder {
    inner: RawDecoder,
    /// libopus ignores FEC right after a CELT-only packet, so `decode_fec`
    /// must know what came last to answer truthfully.
    last_celt: bool,
}

impl OpusDecoder {
    /// Builds a 48 kHz mono decoder.
    pub fn new() -> Result<Self, CodecError> {
        let inner = RawDecoder::new(SampleRate::Hz48000, Channels::Mono)
            .map_err(CodecError::opus("create decoder"))?;
        Ok(Self {
            inner,
            last_celt: false,
        })
    }

    /// Checks that `payload` is one 20 ms packet, before any state changes.
    fn check_duration(payload: &[u8]) -> Result<(), CodecError> {
        let packet = Packet::try_from(payload).map_err(|_| CodecError::EmptyPayload)?;
        let samples = packet::nb_samples(packet, SampleRate::Hz48000)
            .map_err(CodecError::opus("parse packet"))?;
        if samples == FRAME_SAMPLES {
            Ok(())
        } else {
            Err(CodecError::BadFrameDuration {
                expected: FRAME_SAMPLES,
                got: samples,
            })
        }
    }

    fn run(
        &mut self,
        payload: Option<&[u8]>,
        out: &mut Frame,
        fec: bool,
    ) -> Result<(), CodecError> {
        let op = match (payload, fec) {
            (None, _) => "conceal",
            (Some(_), false) => "decode",
            (Some(_), true) => "decode fec",
        };
        let packet = match payload {
            Some(bytes) => Some(Packet::try_from(bytes).map_err(|_| CodecError::EmptyPayload)?),
            None => None,
        };
        let signals = MutSignals::try_from(out.as_mut_slice()).map_err(CodecError::opus(op))?;
        let samples = self
            .inner
            .decode(packet, signals, fec)
            .map_err(CodecError::opus(op))?;
        if samples != FRAME_SAMPLES {
            return Err(CodecError::BadFrameDuration {
                expected: FRAME_SAMPLES,
                got: samples,
            });
        }
        Ok(())
    }
}

impl Decoder for OpusDecoder {
    fn decode(&mut self, payload: &[u8], out: &mut Frame) -> Result<(), CodecError> {
        Self::check_duration(payload)?;
        self.run(Some(payload), out, false)?;
        // check_duration proved the payload non-empty.
        self.last_celt = payload.first().is_some_and(|&toc| is_celt_only(toc));
        Ok(())
    }

    fn conceal(&mut self, out: &mut Frame) -> Result<(), CodecError> {
        self.run(None, out, false)
    }

    fn decode_fec(&mut self, next_payload: &[u8], out: &mut Frame) -> Result<bool, CodecError> {
        let usable = !self.last_celt
            && opus_packet_has_fec(next_payload)
            && Self::check_duration(next_payload).is_ok();
        if !usable {
            self.conceal(out)?;
            return Ok(false);
        }
        self.run(Some(next_payload), out, true)?;
        Ok(true)
    }

    fn reset(&mut self) {
        // OPUS_RESET_STATE cannot fail on a live decoder.
        let _ = self.inner.reset_state();
        self.last_celt = false;
    }
}
