//! Zero-copy parsing of an RTP packet: fixed header, CSRC list, header
//! extension block and padding (RFC 3550 5.1).

use core::ops::Range;
use core::slice::ChunksExact;

use super::extension::{ExtensionElements, HeaderExtension};
use super::{RtpError, FIXED_HEADER_LEN, RTP_VERSION};

/// A parsed RTP packet borrowing the buffer it was parsed from.
///
/// Parsing checks every length once, so the accessors below cannot fail and
/// never index out of bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    sequence_number: u16,
    timestamp: u32,
    ssrc: u32,
    extension: Option<HeaderExtension<'a>>,
    payload_start: usize,
    payload_end: usize,
}

impl<'a> RtpPacket<'a> {
    /// Parses and validates `buf` as one RTP packet.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        let Some(fixed) = buf.first_chunk::<FIXED_HEADER_LEN>() else {
            return Err(RtpError::TooShort { len: buf.len() });
        };
        let b0 = fixed[0];
        let version = b0 >> 6;
        if version != RTP_VERSION {
            return Err(RtpError::BadVersion(version));
        }
        let mut pos = FIXED_HEADER_LEN + 4 * usize::from(b0 & 0x0f);
        if pos > buf.len() {
            return Err(RtpError::CsrcOverflow);
        }
        let extension = if b0 & 0x10 != 0 {
            let ext = parse_extension(buf, pos)?;
            pos += 4 + ext.data.len();
            Some(ext)
        } else {
            None
        };
        let mut payload_end = buf.len();
        if b0 & 0x20 != 0 {
            // The last byte counts the padding, itself included (RFC 3550 5.1).
            let count = buf[payload_end - 1];
            if count == 0 || usize::from(count) > payload_end - pos {
                return Err(RtpError::BadPadding { count });
            }
            payload_end -= usize::from(count);
        }
        Ok(RtpPacket {
            buf,
            sequence_number: u16::from_be_bytes([fixed[2], fixed[3]]),
            timestamp: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
            extension,
            payload_start: pos,
            payload_end,
        })
    }

    /// The RTP version; always 2 for a parsed packet.
    pub fn version(&self) -> u8 {
        self.buf[0] >> 6
    }

    /// Whether the P bit is set.
    pub fn has_padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }

    /// Whether the X bit is set.
    pub fn has_extension(&self) -> bool {
        self.extension.is_some()
    }

    /// The CC field: how many CSRCs follow the fixed header.
    pub fn csrc_count(&self) -> u8 {
        self.buf[0] & 0x0f
    }

    /// The M bit.
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// The 7-bit payload type.
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7f
    }

    /// The 16-bit sequence number.
    pub fn sequence_number(&self) -> u16 {
        self.sequence_number
    }

    /// The RTP timestamp, in clock-rate units.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }

    /// The synchronisation source.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The contributing sources, in wire order.
    pub fn csrcs(&self) -> Csrcs<'a> {
        let end = FIXED_HEADER_LEN + 4 * usize::from(self.csrc_count());
        Csrcs {
            inner: self.buf[FIXED_HEADER_LEN..end].chunks_exact(4),
        }
    }

    /// The raw header extension block, if the X bit is set.
    pub fn extension_block(&self) -> Option<HeaderExtension<'a>> {
        self.extension
    }

    /// The RFC 8285 elements of the extension block; empty when there is no
    /// block or its profile is not an RFC 8285 one.
    pub fn extensions(&self) -> ExtensionElements<'a> {
        match self.extension {
            Some(ext) => ext.elements(),
            None => ExtensionElements::empty(),
        }
    }

    /// The data of the first RFC 8285 element with `id`, if present and
    /// reachable before any malformed element.
    pub fn extension(&self, id: u8) -> Option<&'a [u8]> {
        self.extension.and_then(|ext| ext.get(id))
    }

    /// The payload, without header, extension or padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.payload_start..self.payload_end]
    }

    /// Where the payload sits in the parsed buffer, so a caller holding the
    /// buffer as `bytes::Bytes` can take it without copying:
    /// `bytes.slice(packet.payload_range())`.
    pub fn payload_range(&self) -> Range<usize> {
        self.payload_start..self.payload_end
    }

    /// Bytes of padding at the end, the count byte included.
    pub fn padding_len(&self) -> usize {
        self.buf.len() - self.payload_end
    }

    /// Bytes before the payload: fixed header, CSRCs and extension block.
    pub fn header_len(&self) -> usize {
        self.payload_start
    }

    /// The whole packet as parsed.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// Parses the extension block whose 4-byte preamble starts at `pos`.
fn parse_extension(buf: &[u8], pos: usize) -> Result<HeaderExtension<'_>, RtpError> {
    let Some(preamble) = buf.get(pos..pos + 4) else {
        return Err(RtpError::ExtensionOverflow);
    };
    let profile = u16::from_be_bytes([preamble[0], preamble[1]]);
    let words = usize::from(u16::from_be_bytes([preamble[2], preamble[3]]));
    let start = pos + 4;
    let Some(data) = buf.get(start..start + 4 * words) else {
        return Err(RtpError::ExtensionOverflow);
    };
    Ok(HeaderExtension { profile, data })
}

/// Iterator over the CSRCs of a packet, in wire order.
#[derive(Debug, Clone)]
pub struct Csrcs<'a> {
    inner: ChunksExact<'a, u8>,
}

impl Iterator for Csrcs<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        self.inner
            .next()
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Csrcs<'_> {}
