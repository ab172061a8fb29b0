//! Codec configuration: which codec a stream uses, its RTP clock and payload
//! type, and the Opus encoder knobs.

use super::CodecError;

/// The libopus application mode (`OPUS_APPLICATION_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpusApplication {
    /// Tuned for speech intelligibility; prefers SILK/hybrid.
    Voip,
    /// Tuned for fidelity; at complexity below 8 stays in the cheap CELT mode.
    Audio,
    /// CELT only, lowest delay (no SILK, so no in-band FEC).
    RestrictedLowDelay,
}

/// Opus encoder settings (48 kHz mono, 20 ms frames).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpusConfig {
    /// libopus application mode.
    pub application: OpusApplication,
    /// Target bitrate in bits per second (500 ..= 300 000).
    pub bitrate_bps: u32,
    /// Encoder complexity 0 ..= 10: CPU against quality.
    pub complexity: u8,
    /// Emit in-band FEC (LBRR) so receivers can rebuild one lost frame.
    pub fec: bool,
    /// Discontinuous transmission: near-empty packets during silence.
    pub dtx: bool,
    /// Expected loss (0 ..= 100) the encoder budgets FEC for.
    pub packet_loss_pct: u8,
}

impl OpusConfig {
    /// Lowest bitrate accepted, in bits per second (libopus clamps below it).
    pub const BITRATE_BPS_MIN: u32 = 500;
    /// Highest bitrate accepted for mono, in bits per second (libopus clamps above it).
    pub const BITRATE_BPS_MAX: u32 = 300_000;
    /// Highest libopus complexity.
    pub const COMPLEXITY_MAX: u8 = 10;

    /// Checks every field against the range libopus accepts.
    pub fn validate(&self) -> Result<(), CodecError> {
        let bad = |field, value| Err(CodecError::InvalidConfig { field, value });
        if !(Self::BITRATE_BPS_MIN..=Self::BITRATE_BPS_MAX).contains(&self.bitrate_bps) {
            return bad("bitrate_bps", self.bitrate_bps);
        }
        if self.complexity > Self::COMPLEXITY_MAX {
            return bad("complexity", u32::from(self.complexity));
        }
        if self.packet_loss_pct > 100 {
            return bad("packet_loss_pct", u32::from(self.packet_loss_pct));
        }
        Ok(())
    }
}

impl Default for OpusConfig {
    /// The mixer encoders' default: VOIP, complexity 5, 32 kb/s, FEC armed
    /// (`fec: true`) but `packet_loss_pct: 0`, DTX off.
    ///
    /// Measured with `tests/codec_measure.rs` on 74 s of eSpeak NG speech (six
    /// voices), 2 vCPU EPYC, libopus 1.3.1, release build, thread CPU time,
    /// best of 3; PESQ is ITU-T P.862.2 wide-band (the `pesq` Python package)
    /// on 12 s segments after resampling to 16 kHz; the loss column drops the
    /// same seeded 5 % of packets in every mode (PLC, or FEC when present):
    ///
    /// | mode | encode µs/frame | decode µs/frame | B/packet | PESQ-WB | PESQ-WB, 5 % loss |
    /// |---|---|---|---|---|---|
    /// | VOIP 0 | 65 | 30 | 74.7 | 2.86 | 2.03 |
    /// | VOIP 4 | 139 | 31 | 77.8 | 3.70 | 2.41 |
    /// | **VOIP 5** | 139 | 31 | 77.8 | 3.70 | 2.41 |
    /// | VOIP 8 | 263 | 31 | 78.7 | 3.96 | 2.62 |
    /// | VOIP 10 | 262 | 30 | 78.7 | 3.96 | 2.62 |
    /// | AUDIO 0 | 16 | 16 | 77.7 | 2.97 | 2.31 |
    /// | AUDIO 4 | 30 | 20 | 77.8 | 2.57 | 1.98 |
    /// | AUDIO 5 | 46 | 20 | 77.8 | 2.81 | 2.10 |
    /// | AUDIO 8 | 261 | 30 | 79.4 | 3.92 | 2.59 |
    /// | AUDIO 10 | 261 | 31 | 79.4 | 3.92 | 2.59 |
    /// | VOIP 5, FEC at 5 % | 139 | 31 | 80.0 | 3.61 | 2.52 (no FEC sent) |
    /// | VOIP 5, FEC at 10 % | 182 | 31 | 78.7 | 3.07 | 2.94 (156/182 rebuilt) |
    /// | AUDIO 4, FEC at 10 % | 179 | 32 | 79.4 | 3.11 | 2.98 (156/182 rebuilt) |
    ///
    /// Below complexity 8 AUDIO stays in CELT: four to eight times cheaper, but
    /// about 1.1 PESQ points worse on speech. VOIP 4–5 (identical output: one
    /// SILK complexity step) gets within 0.26 of the best for about half the
    /// CPU of complexity 8–10, where both applications pick SILK/hybrid. With
    /// one shared encode per talker plus one listener mix (4 per room), that
    /// is ≈ 0.56 ms of encoding per room per 20 ms tick instead of ≈ 1.05 ms.
    ///
    /// FEC costs nothing until loss is reported: libopus sends LBRR only for
    /// `packet_loss_pct` > 0, and at 32 kb/s only above 5 %, where it narrows
    /// the band (clean PESQ 3.70 → 3.07) and adds ≈ 30 % encode CPU, but wins
    /// ≈ 0.5 PESQ under 5 % loss. So the mixer should feed RTCP loss into
    /// [`super::OpusEncoder::set_packet_loss_pct`]. Decoders always use FEC
    /// when the next packet has it. DTX is off: the mix is sent continuously.
    fn default() -> Self {
        Self {
            application: OpusApplication::Voip,
            bitrate_bps: 32_000,
            complexity: 5,
            fec: true,
            dtx: false,
            packet_loss_pct: 0,
        }
    }
}

/// The codec of one RTP stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodecConfig {
    /// Opus (RFC 7587), with encoder settings.
    Opus(OpusConfig),
    /// G.711 μ-law (RFC 3551 PCMU).
    Pcmu,
    /// G.711 A-law (RFC 3551 PCMA).
    Pcma,
}

impl Default for CodecConfig {
    fn default() -> Self {
        Self::Opus(OpusConfig::default())
    }
}

impl CodecConfig {
    /// RTP clock rate: 48 000 for Opus (RFC 7587 §4.1), 8 000 for G.711 (RFC 3551 §4.5.14).
    pub fn clock_rate_hz(&self) -> u32 {
        match self {
            Self::Opus(_) => 48_000,
            Self::Pcmu | Self::Pcma => 8_000,
        }
    }

    /// RTP timestamp increment per 20 ms frame: 960 or 160.
    pub fn timestamp_step(&self) -> u32 {
        self.clock_rate_hz() / 1000 * super::FRAME_MS
    }

    /// RFC 3551 static payload type: PCMU 0, PCMA 8; Opus is dynamic (`None`).
    pub fn static_payload_type(&self) -> Option<u8> {
        match self {
            Self::Opus(_) => None,
            Self::Pcmu => Some(0),
            Self::Pcma => Some(8),
        }
    }

    /// Lower-case encoding name as used in SDP `rtpmap` (case-insensitively).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Opus(_) => "opus",
            Self::Pcmu => "pcmu",
            Self::Pcma => "pcma",
        }
    }
}
