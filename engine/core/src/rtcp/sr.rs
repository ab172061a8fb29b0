//! Sender report (SR, packet type 200): sender info plus report blocks.

use super::header::{be_u32, take, write_header, HEADER_LEN};
use super::report_block::{ReportBlock, ReportBlocks};
use super::{RtcpError, COUNT_MAX, PT_SR};

/// Bytes of SSRC plus sender info that open an SR body.
const SR_FIXED_LEN: usize = 24;

/// The sender-info section of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct SenderInfo {
    /// Wall-clock time of this report as a 64-bit NTP timestamp.
    pub ntp: u64,
    /// The RTP timestamp matching `ntp`.
    pub rtp_timestamp: u32,
    /// Packets sent since the start.
    pub packet_count: u32,
    /// Payload octets sent since the start.
    pub octet_count: u32,
}

/// A parsed sender report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport<'a> {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// The sender info.
    pub info: SenderInfo,
    /// The reception report blocks.
    pub reports: ReportBlocks<'a>,
    /// Profile-specific extension bytes after the blocks, usually empty.
    pub profile_extension: &'a [u8],
}

impl<'a> SenderReport<'a> {
    /// Parses an SR body (after the common header) with `count` blocks.
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtcpError> {
        if body.len() < SR_FIXED_LEN {
            return Err(RtcpError::TooShort {
                len: HEADER_LEN + body.len(),
            });
        }
        let blocks_end = SR_FIXED_LEN + usize::from(count) * ReportBlock::LEN;
        let Some(blocks) = body.get(SR_FIXED_LEN..blocks_end) else {
            return Err(RtcpError::ReportOverflow);
        };
        let ntp = (u64::from(be_u32(body, 4)) << 32) | u64::from(be_u32(body, 8));
        Ok(SenderReport {
            ssrc: be_u32(body, 0),
            info: SenderInfo {
                ntp,
                rtp_timestamp: be_u32(body, 12),
                packet_count: be_u32(body, 16),
                octet_count: be_u32(body, 20),
            },
            reports: ReportBlocks::new(blocks),
            profile_extension: &body[blocks_end..],
        })
    }
}

/// Writes an SR with up to 31 `blocks` into `out`; returns its length.
pub fn write_sr(
    ssrc: u32,
    info: &SenderInfo,
    blocks: &[ReportBlock],
    out: &mut [u8],
) -> Result<usize, RtcpError> {
    if blocks.len() > COUNT_MAX {
        return Err(RtcpError::TooMany);
    }
    let len = HEADER_LEN + SR_FIXED_LEN + blocks.len() * ReportBlock::LEN;
    let out = take(out, len)?;
    write_header(out, blocks.len() as u8, PT_SR);
    out[4..8].copy_from_slice(&ssrc.to_be_bytes());
    out[8..16].copy_from_slice(&info.ntp.to_be_bytes());
    out[16..20].copy_from_slice(&info.rtp_timestamp.to_be_bytes());
    out[20..24].copy_from_slice(&info.packet_count.to_be_bytes());
    out[24..28].copy_from_slice(&info.octet_count.to_be_bytes());
    ReportBlocks::write_all(blocks, &mut out[HEADER_LEN + SR_FIXED_LEN..]);
    Ok(len)
}
