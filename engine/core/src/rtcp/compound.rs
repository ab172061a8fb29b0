//! Compound RTCP (RFC 3550 6.1): a lenient iterator over the packets of a
//! datagram, a strict validator, and a writer for SR/RR + SDES CNAME + BYE.

use super::bye::write_bye;
use super::header::frame;
use super::packet::RtcpPacket;
use super::report_block::ReportBlock;
use super::rr::write_rr;
use super::sdes::write_sdes_cname;
use super::sr::{write_sr, SenderInfo};
use super::{RtcpError, PT_RR, PT_SR};

/// Lenient iterator over the packets of a datagram: any packet type may come
/// first (as reduced-size RTCP, RFC 5506, allows) and padding is accepted on
/// any packet. Yields one error at the first malformed packet, then ends.
#[derive(Debug, Clone)]
pub struct CompoundIter<'a> {
    rest: &'a [u8],
}

impl<'a> CompoundIter<'a> {
    /// Iterates the packets in `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        CompoundIter { rest: buf }
    }

    /// Frames and parses the next packet, also saying whether it is padded.
    fn next_with_padding(&mut self) -> Option<Result<(RtcpPacket<'a>, bool), RtcpError>> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = frame(self.rest).and_then(|framed| {
            let packet = RtcpPacket::from_framed(&framed)?;
            Ok((packet, framed.padding, framed.len))
        });
        match parsed {
            Ok((packet, padding, len)) => {
                self.rest = &self.rest[len..];
                Some(Ok((packet, padding)))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

impl<'a> Iterator for CompoundIter<'a> {
    type Item = Result<RtcpPacket<'a>, RtcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_with_padding()
            .map(|r| r.map(|(packet, _)| packet))
    }
}

/// A compound packet that passed the strict RFC 3550 6.1 checks: every packet
/// well formed, the first an SR or RR, padding only on the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compound<'a> {
    buf: &'a [u8],
}

impl<'a> Compound<'a> {
    /// Validates `buf` as a compound packet.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtcpError> {
        let mut iter = CompoundIter::new(buf);
        let mut first = true;
        let mut padded = false;
        // Each turn consumes at least 4 bytes, so this ends.
        while let Some(item) = iter.next_with_padding() {
            let (packet, padding) = item?;
            if padded {
                return Err(RtcpError::PaddingNotLast);
            }
            if first && !matches!(packet.packet_type(), PT_SR | PT_RR) {
                return Err(RtcpError::NotReportFirst {
                    packet_type: packet.packet_type(),
                });
            }
            first = false;
            padded = padding;
        }
        if first {
            return Err(RtcpError::TooShort { len: buf.len() });
        }
        Ok(Compound { buf })
    }

    /// The packets, in order.
    pub fn packets(&self) -> CompoundPackets<'a> {
        CompoundPackets {
            inner: CompoundIter::new(self.buf),
        }
    }

    /// The validated bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// Iterator over the packets of a validated [`Compound`].
#[derive(Debug, Clone)]
pub struct CompoundPackets<'a> {
    inner: CompoundIter<'a>,
}

impl<'a> Iterator for CompoundPackets<'a> {
    type Item = RtcpPacket<'a>;

    fn next(&mut self) -> Option<RtcpPacket<'a>> {
        // Compound::parse already saw every packet parse cleanly.
        self.inner.next()?.ok()
    }
}

/// The report that opens a compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstReport<'a> {
    /// An SR, for a participant that sent media since the last report.
    Sender {
        /// The sender's SSRC, also used for the SDES chunk.
        ssrc: u32,
        /// The sender info.
        info: SenderInfo,
        /// Up to 31 report blocks.
        blocks: &'a [ReportBlock],
    },
    /// An RR, for a participant that only receives.
    Receiver {
        /// The reporter's SSRC, also used for the SDES chunk.
        ssrc: u32,
        /// Up to 31 report blocks.
        blocks: &'a [ReportBlock],
    },
}

/// The contents of a BYE to close a compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByeFields<'a> {
    /// The sources leaving (up to 31).
    pub ssrcs: &'a [u32],
    /// An optional reason (up to 255 bytes).
    pub reason: Option<&'a [u8]>,
}

/// Writes a compound packet: `first`, an SDES CNAME chunk for its SSRC, and
/// an optional BYE. Returns the total length.
pub fn write_compound(
    first: &FirstReport<'_>,
    cname: &[u8],
    bye: Option<&ByeFields<'_>>,
    out: &mut [u8],
) -> Result<usize, RtcpError> {
    let (ssrc, mut len) = match *first {
        FirstReport::Sender { ssrc, info, blocks } => (ssrc, write_sr(ssrc, &info, blocks, out)?),
        FirstReport::Receiver { ssrc, blocks } => (ssrc, write_rr(ssrc, blocks, out)?),
    };
    len += write_sdes_cname(ssrc, cname, &mut out[len..]).map_err(|e| offset_need(e, len))?;
    if let Some(bye) = bye {
        len +=
            write_bye(bye.ssrcs, bye.reason, &mut out[len..]).map_err(|e| offset_need(e, len))?;
    }
    Ok(len)
}

/// Restates a buffer-size error of a later part in terms of the whole buffer.
fn offset_need(e: RtcpError, offset: usize) -> RtcpError {
    match e {
        RtcpError::BufferTooSmall { need, have } => RtcpError::BufferTooSmall {
            need: need + offset,
            have: have + offset,
        },
        other => other,
    }
}
