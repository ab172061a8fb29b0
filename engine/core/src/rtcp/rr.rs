//! Receiver report (RR, packet type 201): reporter SSRC plus report blocks.

use super::header::{be_u32, take, write_header, HEADER_LEN};
use super::report_block::{ReportBlock, ReportBlocks};
use super::{RtcpError, COUNT_MAX, PT_RR};

/// A parsed receiver report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    /// The reporter's SSRC.
    pub ssrc: u32,
    /// The reception report blocks.
    pub reports: ReportBlocks<'a>,
    /// Profile-specific extension bytes after the blocks, usually empty.
    pub profile_extension: &'a [u8],
}

impl<'a> ReceiverReport<'a> {
    /// Parses an RR body (after the common header) with `count` blocks.
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtcpError> {
        if body.len() < 4 {
            return Err(RtcpError::TooShort {
                len: HEADER_LEN + body.len(),
            });
        }
        let blocks_end = 4 + usize::from(count) * ReportBlock::LEN;
        let Some(blocks) = body.get(4..blocks_end) else {
            return Err(RtcpError::ReportOverflow);
        };
        Ok(ReceiverReport {
            ssrc: be_u32(body, 0),
            reports: ReportBlocks::new(blocks),
            profile_extension: &body[blocks_end..],
        })
    }
}

/// Writes an RR with up to 31 `blocks` into `out`; returns its length.
pub fn write_rr(ssrc: u32, blocks: &[ReportBlock], out: &mut [u8]) -> Result<usize, RtcpError> {
    if blocks.len() > COUNT_MAX {
        return Err(RtcpError::TooMany);
    }
    let len = HEADER_LEN + 4 + blocks.len() * ReportBlock::LEN;
    let out = take(out, len)?;
    write_header(out, blocks.len() as u8, PT_RR);
    out[4..8].copy_from_slice(&ssrc.to_be_bytes());
    ReportBlocks::write_all(blocks, &mut out[HEADER_LEN + 4..]);
    Ok(len)
}
