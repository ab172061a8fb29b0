//! The 4-byte RTCP common header: framing one packet out of a buffer, and
//! writing the header of a packet being built.

use super::RtcpError;

/// Bytes in the common header.
pub(crate) const HEADER_LEN: usize = 4;

/// One framed RTCP packet: header fields and its body without padding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Framed<'a> {
    /// The P bit.
    pub padding: bool,
    /// The 5-bit RC/SC/subtype field.
    pub count: u8,
    /// The packet type.
    pub packet_type: u8,
    /// Bytes after the header, padding removed.
    pub body: &'a [u8],
    /// Bytes the whole packet takes in the buffer, padding included.
    pub len: usize,
}

/// Frames the packet at the start of `buf`, trusting its length field only as
/// far as the buffer goes.
pub(crate) fn frame(buf: &[u8]) -> Result<Framed<'_>, RtcpError> {
    let Some(h) = buf.first_chunk::<HEADER_LEN>() else {
        return Err(RtcpError::TooShort { len: buf.len() });
    };
    let version = h[0] >> 6;
    if version != 2 {
        return Err(RtcpError::BadVersion(version));
    }
    // The length field counts 32-bit words minus one, header included.
    let len = (usize::from(u16::from_be_bytes([h[2], h[3]])) + 1) * 4;
    let Some(packet) = buf.get(..len) else {
        return Err(RtcpError::BadLength {
            len,
            have: buf.len(),
        });
    };
    let padding = h[0] & 0x20 != 0;
    let mut end = len;
    if padding {
        let count = packet[len - 1];
        if count == 0 || usize::from(count) > len - HEADER_LEN {
            return Err(RtcpError::BadPadding { count });
        }
        end -= usize::from(count);
    }
    Ok(Framed {
        padding,
        count: h[0] & 0x1f,
        packet_type: h[1],
        body: &packet[HEADER_LEN..end],
        len,
    })
}

/// The first `len` bytes of `out`, or [`RtcpError::BufferTooSmall`].
pub(crate) fn take(out: &mut [u8], len: usize) -> Result<&mut [u8], RtcpError> {
    let have = out.len();
    out.get_mut(..len)
        .ok_or(RtcpError::BufferTooSmall { need: len, have })
}

/// Writes a header without padding for a packet of `out.len()` bytes, which
/// callers keep a multiple of 4 and at most 2^18 bytes.
pub(crate) fn write_header(out: &mut [u8], count: u8, packet_type: u8) {
    debug_assert!(out.len() % 4 == 0 && out.len() >= HEADER_LEN);
    debug_assert!(usize::from(count) <= super::COUNT_MAX);
    out[0] = 0x80 | count;
    out[1] = packet_type;
    let words = (out.len() / 4 - 1) as u16;
    out[2..4].copy_from_slice(&words.to_be_bytes());
}

/// Reads a big-endian u32 at `pos`; callers have checked the bounds.
pub(crate) fn be_u32(buf: &[u8], pos: usize) -> u32 {
    u32::from_be_bytes([buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]])
}
