//! Writing RTP headers and packets into a caller buffer, without allocating.

use super::extension::{block_body_len, write_block, ExtensionForm};
use super::{RtpError, CSRC_COUNT_MAX, FIXED_HEADER_LEN, RTP_VERSION};

/// The fixed-header fields a sender chooses per packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct RtpHeaderFields {
    /// The M bit.
    pub marker: bool,
    /// Payload type, 0..=127.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// RTP timestamp, in clock-rate units.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

/// Bytes [`write_header`] will write for these CSRCs and extensions.
pub fn header_len(
    csrc_count: usize,
    extensions: &[(u8, &[u8])],
    form: ExtensionForm,
) -> Result<usize, RtpError> {
    if csrc_count > CSRC_COUNT_MAX {
        return Err(RtpError::TooMany);
    }
    let ext_len = if extensions.is_empty() {
        0
    } else {
        4 + block_body_len(extensions, form)?
    };
    Ok(FIXED_HEADER_LEN + 4 * csrc_count + ext_len)
}

/// Writes the fixed header, CSRCs and (if `extensions` is not empty) an
/// RFC 8285 extension block of `form` into `out`; returns the bytes written.
/// The caller appends the payload. The P bit is left clear.
pub fn write_header(
    fields: &RtpHeaderFields,
    csrcs: &[u32],
    extensions: &[(u8, &[u8])],
    form: ExtensionForm,
    out: &mut [u8],
) -> Result<usize, RtpError> {
    if fields.payload_type > 0x7f {
        return Err(RtpError::BadPayloadType(fields.payload_type));
    }
    let len = header_len(csrcs.len(), extensions, form)?;
    let Some(out) = out.get_mut(..len) else {
        return Err(RtpError::BufferTooSmall {
            need: len,
            have: out.len(),
        });
    };
    let x_bit = if extensions.is_empty() { 0 } else { 0x10 };
    // header_len capped the CSRC count at 15, so it fits the 4-bit CC field.
    out[0] = (RTP_VERSION << 6) | x_bit | csrcs.len() as u8;
    out[1] = (u8::from(fields.marker) << 7) | fields.payload_type;
    out[2..4].copy_from_slice(&fields.sequence_number.to_be_bytes());
    out[4..8].copy_from_slice(&fields.timestamp.to_be_bytes());
    out[8..12].copy_from_slice(&fields.ssrc.to_be_bytes());
    let mut pos = FIXED_HEADER_LEN;
    for csrc in csrcs {
        out[pos..pos + 4].copy_from_slice(&csrc.to_be_bytes());
        pos += 4;
    }
    if !extensions.is_empty() {
        write_block(extensions, form, &mut out[pos..]);
    }
    Ok(len)
}

/// Writes a whole packet: header as [`write_header`], then `payload`, then
/// `padding_len` bytes of padding (setting the P bit) when it is not zero.
/// Returns the packet length.
pub fn write_packet(
    fields: &RtpHeaderFields,
    csrcs: &[u32],
    extensions: &[(u8, &[u8])],
    form: ExtensionForm,
    payload: &[u8],
    padding_len: u8,
    out: &mut [u8],
) -> Result<usize, RtpError> {
    let header = header_len(csrcs.len(), extensions, form)?;
    let total = header + payload.len() + usize::from(padding_len);
    if out.len() < total {
        return Err(RtpError::BufferTooSmall {
            need: total,
            have: out.len(),
        });
    }
    write_header(fields, csrcs, extensions, form, out)?;
    out[header..header + payload.len()].copy_from_slice(payload);
    if padding_len > 0 {
        out[0] |= 0x20;
        let pad = &mut out[header + payload.len()..total];
        pad.fill(0);
        pad[pad.len() - 1] = padding_len;
    }
    Ok(total)
}
