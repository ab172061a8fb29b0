//! RTP (RFC 3550) for audio: zero-copy parsing of the fixed header, CSRCs,
//! padding and RFC 8285 header extensions, RFC 6464/6465 audio levels, an
//! allocation-free header writer, and RFC 3550 A.1 sequence tracking.
//!
//! Parsing borrows the caller's buffer ([`RtpPacket`]); writing fills a caller
//! buffer ([`write_header`], [`write_packet`]). Nothing here allocates, and
//! every malformed input becomes an [`RtpError`], never a panic.

mod audio_level;
mod extension;
mod header;
mod seq;
mod writer;

pub use audio_level::{AudioLevel, CsrcLevels, MixerLevels};
pub use extension::{ExtensionElements, ExtensionForm, HeaderExtension};
pub use header::{Csrcs, RtpPacket};
pub use seq::{SeqOutcome, SeqTracker};
pub use writer::{header_len, write_header, write_packet, RtpHeaderFields};

/// The only RTP version this crate speaks.
pub const RTP_VERSION: u8 = 2;
/// Size of the fixed RTP header in bytes.
pub const FIXED_HEADER_LEN: usize = 12;
/// Largest number of CSRCs the 4-bit CC field can carry.
pub const CSRC_COUNT_MAX: usize = 15;

/// Why an RTP packet could not be parsed or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Fewer bytes than the 12-byte fixed header.
    #[error("RTP packet too short: {len} bytes")]
    TooShort {
        /// Bytes available.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    /// The CSRC count points past the end of the packet.
    #[error("CSRC list runs past the end of the packet")]
    CsrcOverflow,
    /// The header extension (or its length word) runs past the end.
    #[error("header extension runs past the end of the packet")]
    ExtensionOverflow,
    /// The padding count is zero or larger than what follows the header.
    #[error("bad padding count {count}")]
    BadPadding {
        /// The padding count byte as received.
        count: u8,
    },
    /// An RFC 8285 element's length runs past the extension block.
    #[error("header extension element runs past its block")]
    BadExtensionElement,
    /// Writing: an extension id or data length the chosen form cannot carry.
    #[error("extension id {id} with {len} bytes does not fit the chosen form")]
    BadExtension {
        /// The extension id given.
        id: u8,
        /// The data length given.
        len: usize,
    },
    /// Writing: more than 15 CSRCs or more extension bytes than the 16-bit
    /// length word can count.
    #[error("too many CSRCs or extension bytes")]
    TooMany,
    /// Writing: a payload type above 127.
    #[error("payload type {0} above 127")]
    BadPayloadType(u8),
    /// Writing: the output buffer is too small.
    #[error("output buffer too small: need {need} bytes, have {have}")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
}

impl RtpError {
    /// A stable snake_case label for this error, usable as a counter name.
    pub fn kind(&self) -> &'static str {
        match self {
            RtpError::TooShort { .. } => "rtp_too_short",
            RtpError::BadVersion(_) => "rtp_bad_version",
            RtpError::CsrcOverflow => "rtp_csrc_overflow",
            RtpError::ExtensionOverflow => "rtp_extension_overflow",
            RtpError::BadPadding { .. } => "rtp_bad_padding",
            RtpError::BadExtensionElement => "rtp_bad_extension_element",
            RtpError::BadExtension { .. } => "rtp_bad_extension",
            RtpError::TooMany => "rtp_too_many",
            RtpError::BadPayloadType(_) => "rtp_bad_payload_type",
            RtpError::BufferTooSmall { .. } => "rtp_buffer_too_small",
        }
    }
}
