//! The 24-byte reception report block shared by SR and RR (RFC 3550 6.4.1).

use super::header::be_u32;

/// Largest cumulative loss the signed 24-bit field can carry.
const CUMULATIVE_LOST_MAX: i32 = 0x7f_ffff;
/// Smallest (most negative, from duplicates) cumulative loss it can carry.
const CUMULATIVE_LOST_MIN: i32 = -0x80_0000;

/// One reception report block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Loss since the previous report, in 1/256 units.
    pub fraction_lost: u8,
    /// Packets lost since the start, a signed 24-bit value on the wire
    /// (negative when duplicates outnumber losses).
    pub cumulative_lost: i32,
    /// Highest sequence number received, with the wrap count in the top 16 bits.
    pub extended_highest_seq: u32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR from that source, or 0.
    pub lsr: u32,
    /// Delay since that SR, in 1/65536 s, or 0.
    pub dlsr: u32,
}

impl ReportBlock {
    /// Bytes a block takes on the wire.
    pub const LEN: usize = 24;

    /// Decodes one block.
    pub fn parse(bytes: &[u8; Self::LEN]) -> Self {
        // Shift the 24-bit field into the top of an i32 and back to sign-extend.
        let lost_word = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], 0]);
        ReportBlock {
            ssrc: be_u32(bytes, 0),
            fraction_lost: bytes[4],
            cumulative_lost: (lost_word as i32) >> 8,
            extended_highest_seq: be_u32(bytes, 8),
            jitter: be_u32(bytes, 12),
            lsr: be_u32(bytes, 16),
            dlsr: be_u32(bytes, 20),
        }
    }

    /// Encodes this block, clamping `cumulative_lost` to 24 bits.
    pub fn write(&self, out: &mut [u8; Self::LEN]) {
        let lost = self
            .cumulative_lost
            .clamp(CUMULATIVE_LOST_MIN, CUMULATIVE_LOST_MAX);
        let lost_bytes = (lost as u32).to_be_bytes();
        out[0..4].copy_from_slice(&self.ssrc.to_be_bytes());
        out[4] = self.fraction_lost;
        out[5..8].copy_from_slice(&lost_bytes[1..4]);
        out[8..12].copy_from_slice(&self.extended_highest_seq.to_be_bytes());
        out[12..16].copy_from_slice(&self.jitter.to_be_bytes());
        out[16..20].copy_from_slice(&self.lsr.to_be_bytes());
        out[20..24].copy_from_slice(&self.dlsr.to_be_bytes());
    }
}

/// Clamps a loss count to what the signed 24-bit field can carry (RFC 3550
/// 6.4.1 says to saturate, not wrap).
pub fn clamp_cumulative_lost(lost: i64) -> i32 {
    lost.clamp(
        i64::from(CUMULATIVE_LOST_MIN),
        i64::from(CUMULATIVE_LOST_MAX),
    ) as i32
}

/// Iterator over the report blocks of an SR or RR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlocks<'a> {
    /// A whole number of blocks, checked when the packet was parsed.
    data: &'a [u8],
}

impl<'a> ReportBlocks<'a> {
    /// Blocks over `data`, which the caller has checked holds `data.len() / 24`
    /// whole blocks.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        ReportBlocks { data }
    }

    /// Writes `blocks` back to back into `out`, which is exactly long enough.
    pub(crate) fn write_all(blocks: &[ReportBlock], out: &mut [u8]) {
        for (block, chunk) in blocks.iter().zip(out.chunks_exact_mut(ReportBlock::LEN)) {
            if let Ok(chunk) = <&mut [u8; ReportBlock::LEN]>::try_from(chunk) {
                block.write(chunk);
            }
        }
    }
}

impl Iterator for ReportBlocks<'_> {
    type Item = ReportBlock;

    fn next(&mut self) -> Option<ReportBlock> {
        let (block, rest) = self.data.split_first_chunk::<{ ReportBlock::LEN }>()?;
        self.data = rest;
        Some(ReportBlock::parse(block))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.data.len() / ReportBlock::LEN;
        (n, Some(n))
    }
}

impl ExactSizeIterator for ReportBlocks<'_> {}
