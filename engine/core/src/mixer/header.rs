//! The RTP header of a mix packet: the receiver's own SSRC, sequence and
//! timestamp, the contributing speakers as CSRCs (RFC 3550 §7.1: a mixer lists
//! its sources) and, when negotiated, their levels (RFC 6465).

use super::output::OUTPUT_HEADER_MAX_BYTES;
use crate::rtp::{self, ExtensionForm, RtpHeaderFields};

/// Fields of one mix packet's header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MixHeader<'a> {
    pub(crate) fields: RtpHeaderFields,
    pub(crate) csrcs: &'a [u32],
    /// RFC 6465 extension id and one level per CSRC (V bit clear).
    pub(crate) csrc_levels: Option<(u8, &'a [u8])>,
}

/// Writes the header into `out` and returns its length (0 if the mixer's own
/// settings could not be written, which `Room::new` rules out).
pub(crate) fn write_mix_header(out: &mut [u8; OUTPUT_HEADER_MAX_BYTES], h: MixHeader<'_>) -> usize {
    let levels = match h.csrc_levels {
        Some((id, levels)) if !h.csrcs.is_empty() => Some((id, levels)),
        _ => None,
    };
    let ext_storage;
    let extensions: &[(u8, &[u8])] = match levels {
        Some(element) => {
            ext_storage = [element];
            &ext_storage
        }
        None => &[],
    };
    rtp::write_header(&h.fields, h.csrcs, extensions, ExtensionForm::OneByte, out).unwrap_or(0)
}
