//! Building a report block for one source from what the receiver tracked:
//! A.1/A.3 sequence state, A.8 jitter and the last SR heard.

use super::jitter::InterarrivalJitter;
use super::ntp::ntp_middle32;
use super::report_block::{clamp_cumulative_lost, ReportBlock};
use super::sr::SenderInfo;
use crate::rtp::SeqTracker;

/// What a receiver keeps of the last SR from a source, for LSR and DLSR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct LastSr {
    /// Middle 32 bits of the SR's NTP timestamp.
    pub lsr: u32,
    /// When the SR arrived, as a 64-bit NTP timestamp of the receiver's clock.
    pub arrival_ntp: u64,
}

impl LastSr {
    /// Remembers an SR's sender info that arrived at `arrival_ntp`.
    pub fn from_sender_info(info: &SenderInfo, arrival_ntp: u64) -> Self {
        LastSr {
            lsr: ntp_middle32(info.ntp),
            arrival_ntp,
        }
    }
}

/// A report block about `ssrc` at `now_ntp`, or `None` while the source is on
/// probation (RFC 3550 A.1: not yet a valid source). Advances the tracker's
/// A.3 interval, so call it once per report sent.
pub fn build_report_block(
    ssrc: u32,
    seq: &mut SeqTracker,
    jitter: &InterarrivalJitter,
    last_sr: Option<&LastSr>,
    now_ntp: u64,
) -> Option<ReportBlock> {
    if !seq.is_valid() {
        return None;
    }
    let (lsr, dlsr) = match last_sr {
        Some(sr) => {
            let delay = ntp_middle32(now_ntp).wrapping_sub(ntp_middle32(sr.arrival_ntp));
            // An SR "from the future" (a clock step) reports no delay rather
            // than nine hours.
            (sr.lsr, if (delay as i32) < 0 { 0 } else { delay })
        }
        None => (0, 0),
    };
    Some(ReportBlock {
        ssrc,
        fraction_lost: seq.report_fraction_lost(),
        cumulative_lost: clamp_cumulative_lost(seq.lost()),
        // The field keeps the low 16 bits of the wrap count (RFC 3550 6.4.1).
        extended_highest_seq: seq.extended_max() as u32,
        jitter: jitter.jitter(),
        lsr,
        dlsr,
    })
}
