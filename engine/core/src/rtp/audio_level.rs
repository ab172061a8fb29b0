//! Audio levels carried in RTP header extensions: RFC 6464 (client to mixer,
//! one byte with a voice flag) and RFC 6465 (mixer to client, one byte per
//! CSRC).

use super::header::RtpPacket;
use super::{RtpError, CSRC_COUNT_MAX};

/// Largest (quietest) level value: 127 means silence.
const LEVEL_DBOV_MAX: u8 = 127;

// A level per CSRC must fit one one-byte-form element (16 bytes at most).
const _: () = assert!(CSRC_COUNT_MAX <= 16);

/// An RFC 6464 client-to-mixer audio level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioLevel {
    /// The V flag: the sender's voice activity detector heard speech.
    pub voice: bool,
    /// Level as −dBov, 0..=127; 127 is silence.
    pub level_dbov: u8,
}

impl AudioLevel {
    /// Digital silence, no voice.
    pub const SILENCE: AudioLevel = AudioLevel {
        voice: false,
        level_dbov: LEVEL_DBOV_MAX,
    };

    /// A level, clamping `level_dbov` to 127.
    pub fn new(voice: bool, level_dbov: u8) -> Self {
        AudioLevel {
            voice,
            level_dbov: level_dbov.min(LEVEL_DBOV_MAX),
        }
    }

    /// Decodes the extension's data byte.
    pub fn from_byte(byte: u8) -> Self {
        AudioLevel {
            voice: byte & 0x80 != 0,
            level_dbov: byte & 0x7f,
        }
    }

    /// Encodes the extension's data byte (level clamped to 127).
    pub fn to_byte(self) -> u8 {
        (u8::from(self.voice) << 7) | self.level_dbov.min(LEVEL_DBOV_MAX)
    }
}

impl<'a> RtpPacket<'a> {
    /// The RFC 6464 level in the extension negotiated as `ext_id`, if present.
    pub fn audio_level(&self, ext_id: u8) -> Option<AudioLevel> {
        // RFC 6464 carries one byte; take the first so a sender that pads the
        // element is still understood.
        let byte = *self.extension(ext_id)?.first()?;
        Some(AudioLevel::from_byte(byte))
    }

    /// The RFC 6465 per-CSRC levels in the extension negotiated as `ext_id`,
    /// in CSRC order.
    pub fn csrc_audio_levels(&self, ext_id: u8) -> Option<CsrcLevels<'a>> {
        self.extension(ext_id).map(|bytes| CsrcLevels { bytes })
    }
}

/// Iterator over RFC 6465 levels as −dBov (the reserved top bit is ignored).
#[derive(Debug, Clone)]
pub struct CsrcLevels<'a> {
    bytes: &'a [u8],
}

impl Iterator for CsrcLevels<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(first & 0x7f)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.bytes.len(), Some(self.bytes.len()))
    }
}

impl ExactSizeIterator for CsrcLevels<'_> {}

/// RFC 6465 mixer-to-client level bytes, ready to pass as extension data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MixerLevels {
    bytes: [u8; CSRC_COUNT_MAX],
    len: u8,
}

impl MixerLevels {
    /// Encodes one level per CSRC, in CSRC order, each clamped to 127 with the
    /// reserved top bit clear. Fails past 15 levels, the CSRC limit.
    pub fn new(levels_dbov: &[u8]) -> Result<Self, RtpError> {
        if levels_dbov.len() > CSRC_COUNT_MAX {
            return Err(RtpError::TooMany);
        }
        let mut bytes = [0u8; CSRC_COUNT_MAX];
        for (out, level) in bytes.iter_mut().zip(levels_dbov) {
            *out = (*level).min(LEVEL_DBOV_MAX);
        }
        Ok(MixerLevels {
            bytes,
            len: levels_dbov.len() as u8,
        })
    }

    /// The encoded bytes. Empty when there are no CSRCs, which only the
    /// two-byte form can carry.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}
