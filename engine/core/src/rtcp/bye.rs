//! Goodbye (BYE, packet type 203): the sources leaving, and an optional reason.

use super::header::{take, write_header, HEADER_LEN};
use super::{RtcpError, COUNT_MAX, PT_BYE};

/// A parsed BYE packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bye<'a> {
    ssrcs: &'a [u8],
    /// The reason for leaving, if given (UTF-8 by the RFC, unchecked here).
    pub reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    /// Parses a BYE body (after the common header) with `count` SSRCs.
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtcpError> {
        let ssrcs_len = 4 * usize::from(count);
        let Some(ssrcs) = body.get(..ssrcs_len) else {
            return Err(RtcpError::ByeOverflow);
        };
        let reason = match body[ssrcs_len..].split_first() {
            None => None,
            Some((&len, text)) => match text.get(..usize::from(len)) {
                Some(reason) => Some(reason),
                None => return Err(RtcpError::ByeOverflow),
            },
        };
        Ok(Bye { ssrcs, reason })
    }

    /// The sources leaving.
    pub fn ssrcs(&self) -> SsrcList<'a> {
        SsrcList { rest: self.ssrcs }
    }
}

/// Iterator over a list of 32-bit SSRCs.
#[derive(Debug, Clone)]
pub struct SsrcList<'a> {
    rest: &'a [u8],
}

impl Iterator for SsrcList<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let (ssrc, rest) = self.rest.split_first_chunk::<4>()?;
        self.rest = rest;
        Some(u32::from_be_bytes(*ssrc))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.rest.len() / 4;
        (n, Some(n))
    }
}

impl ExactSizeIterator for SsrcList<'_> {}

/// Writes a BYE for up to 31 `ssrcs` with an optional `reason` (at most 255
/// bytes); returns its length.
pub fn write_bye(ssrcs: &[u32], reason: Option<&[u8]>, out: &mut [u8]) -> Result<usize, RtcpError> {
    if ssrcs.len() > COUNT_MAX || reason.is_some_and(|r| r.len() > 255) {
        return Err(RtcpError::TooMany);
    }
    let reason_len = reason.map_or(0, |r| (1 + r.len()).next_multiple_of(4));
    let len = HEADER_LEN + 4 * ssrcs.len() + reason_len;
    let out = take(out, len)?;
    write_header(out, ssrcs.len() as u8, PT_BYE);
    let mut pos = HEADER_LEN;
    for ssrc in ssrcs {
        out[pos..pos + 4].copy_from_slice(&ssrc.to_be_bytes());
        pos += 4;
    }
    if let Some(reason) = reason {
        out[pos] = reason.len() as u8;
        out[pos + 1..pos + 1 + reason.len()].copy_from_slice(reason);
        out[pos + 1 + reason.len()..].fill(0);
    }
    Ok(len)
}
