//! One RTCP packet of any type, parsed from its framed body.

use super::bye::Bye;
use super::header::{frame, Framed};
use super::rr::ReceiverReport;
use super::sdes::Sdes;
use super::sr::SenderReport;
use super::{RtcpError, PT_BYE, PT_RR, PT_SDES, PT_SR};

/// One parsed RTCP packet, borrowing the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpPacket<'a> {
    /// A sender report.
    SenderReport(SenderReport<'a>),
    /// A receiver report.
    ReceiverReport(ReceiverReport<'a>),
    /// Source description.
    Sdes(Sdes<'a>),
    /// Goodbye.
    Bye(Bye<'a>),
    /// Any other type (APP, feedback, XR, ...), kept as bytes.
    Unknown(UnknownPacket<'a>),
}

/// A packet of a type this module does not interpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownPacket<'a> {
    /// The packet type.
    pub packet_type: u8,
    /// The 5-bit count/subtype field.
    pub count: u8,
    /// The bytes after the common header, padding removed.
    pub body: &'a [u8],
}

impl<'a> RtcpPacket<'a> {
    /// Parses the first packet in `buf`, leniently: bytes after the length
    /// its header gives are ignored, and any packet type may come first.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtcpError> {
        Self::from_framed(&frame(buf)?)
    }

    /// Interprets a framed packet by its type.
    pub(crate) fn from_framed(framed: &Framed<'a>) -> Result<Self, RtcpError> {
        let Framed {
            count,
            packet_type,
            body,
            ..
        } = *framed;
        Ok(match packet_type {
            PT_SR => RtcpPacket::SenderReport(SenderReport::parse(count, body)?),
            PT_RR => RtcpPacket::ReceiverReport(ReceiverReport::parse(count, body)?),
            PT_SDES => RtcpPacket::Sdes(Sdes::parse(count, body)?),
            PT_BYE => RtcpPacket::Bye(Bye::parse(count, body)?),
            _ => RtcpPacket::Unknown(UnknownPacket {
                packet_type,
                count,
                body,
            }),
        })
    }

    /// The packet type byte.
    pub fn packet_type(&self) -> u8 {
        match self {
            RtcpPacket::SenderReport(_) => PT_SR,
            RtcpPacket::ReceiverReport(_) => PT_RR,
            RtcpPacket::Sdes(_) => PT_SDES,
            RtcpPacket::Bye(_) => PT_BYE,
            RtcpPacket::Unknown(u) => u.packet_type,
        }
    }
}
