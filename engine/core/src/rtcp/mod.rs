//! RTCP (RFC 3550 section 6) for audio: allocation-free parsing of compound
//! packets (SR, RR, SDES, BYE; other types kept opaque), writers for the same
//! into a caller buffer, A.8 interarrival jitter, NTP helpers and round-trip
//! time from LSR/DLSR, and a receiver-report builder.
//!
//! Time is never read here: NTP timestamps are arguments, converted from the
//! caller's clock.

mod bye;
mod compound;
mod header;
mod jitter;
mod ntp;
mod packet;
mod report_block;
mod rr;
mod sdes;
mod sr;
mod stats;

pub use bye::{write_bye, Bye, SsrcList};
pub use compound::{
    write_compound, ByeFields, Compound, CompoundIter, CompoundPackets, FirstReport,
};
pub use jitter::InterarrivalJitter;
pub use ntp::{
    dlsr_from_duration, duration_from_ntp_short, ntp_from_unix, ntp_middle32, rtt_from_report,
    NTP_UNIX_OFFSET_S,
};
pub use packet::{RtcpPacket, UnknownPacket};
pub use report_block::{clamp_cumulative_lost, ReportBlock, ReportBlocks};
pub use rr::{write_rr, ReceiverReport};
pub use sdes::{write_sdes_cname, Sdes, SdesChunk, SdesChunks, SdesItem, SdesItems};
pub use sr::{write_sr, SenderInfo, SenderReport};
pub use stats::{build_report_block, LastSr};

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of source description.
pub const PT_SDES: u8 = 202;
/// Packet type of goodbye.
pub const PT_BYE: u8 = 203;
/// Packet type of application-defined packets.
pub const PT_APP: u8 = 204;
/// SDES item type of the canonical name.
pub const SDES_CNAME: u8 = 1;
/// Largest count a 5-bit RC/SC field can hold.
pub const COUNT_MAX: usize = 31;

/// Why an RTCP packet could not be parsed or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    /// Fewer bytes than the header, or than the fixed part of the packet type.
    #[error("RTCP packet too short: {len} bytes")]
    TooShort {
        /// Bytes available.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTCP version {0}, expected 2")]
    BadVersion(u8),
    /// The length field points past the end of the buffer.
    #[error("RTCP length field says {len} bytes, only {have} available")]
    BadLength {
        /// Bytes the length field claims, header included.
        len: usize,
        /// Bytes available.
        have: usize,
    },
    /// The padding count is zero or larger than the packet body.
    #[error("bad RTCP padding count {count}")]
    BadPadding {
        /// The padding count byte as received.
        count: u8,
    },
    /// A packet other than the last of a compound has the P bit set.
    #[error("padding on a packet that is not last in the compound")]
    PaddingNotLast,
    /// A compound packet does not start with SR or RR (RFC 3550 6.1).
    #[error("compound RTCP starts with packet type {packet_type}, not SR or RR")]
    NotReportFirst {
        /// The type of the first packet.
        packet_type: u8,
    },
    /// The report count claims more report blocks than the packet holds.
    #[error("report blocks run past the end of the packet")]
    ReportOverflow,
    /// An SDES chunk or item runs past the end of the packet.
    #[error("SDES chunk or item runs past the end of the packet")]
    SdesOverflow,
    /// BYE's SSRC list or reason runs past the end of the packet.
    #[error("BYE SSRC list or reason runs past the end of the packet")]
    ByeOverflow,
    /// Writing: more than 31 blocks or SSRCs, or text longer than 255 bytes.
    #[error("too many report blocks or SSRCs, or text too long")]
    TooMany,
    /// Writing: the output buffer is too small.
    #[error("output buffer too small: need {need} bytes, have {have}")]
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
}

impl RtcpError {
    /// A stable snake_case label for this error, usable as a counter name.
    pub fn kind(&self) -> &'static str {
        match self {
            RtcpError::TooShort { .. } => "rtcp_too_short",
            RtcpError::BadVersion(_) => "rtcp_bad_version",
            RtcpError::BadLength { .. } => "rtcp_bad_length",
            RtcpError::BadPadding { .. } => "rtcp_bad_padding",
            RtcpError::PaddingNotLast => "rtcp_padding_not_last",
            RtcpError::NotReportFirst { .. } => "rtcp_not_report_first",
            RtcpError::ReportOverflow => "rtcp_report_overflow",
            RtcpError::SdesOverflow => "rtcp_sdes_overflow",
            RtcpError::ByeOverflow => "rtcp_bye_overflow",
            RtcpError::TooMany => "rtcp_too_many",
            RtcpError::BufferTooSmall { .. } => "rtcp_buffer_too_small",
        }
    }
}
