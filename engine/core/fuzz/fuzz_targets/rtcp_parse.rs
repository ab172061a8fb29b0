//! Fuzzes RTCP parsing: every packet of the input, leniently and strictly,
//! with every field read; and the input's words drive A.8 jitter and RTT.

#![no_main]

use libfuzzer_sys::fuzz_target;
use media_core::rtcp::{rtt_from_report, Compound, CompoundIter, InterarrivalJitter, RtcpPacket};

fuzz_target!(|data: &[u8]| {
    let mut lenient = 0;
    for item in CompoundIter::new(data) {
        match item {
            Ok(packet) => {
                touch(&packet);
                lenient += 1;
            }
            Err(e) => assert!(!e.kind().is_empty()),
        }
    }
    if let Ok(compound) = Compound::parse(data) {
        // A strictly valid compound reads the same packets leniently.
        let mut strict = 0;
        for packet in compound.packets() {
            touch(&packet);
            strict += 1;
        }
        assert_eq!(strict, lenient);
        assert!(strict > 0);
    }
    let mut jitter = InterarrivalJitter::new();
    for w in data.chunks_exact(8) {
        let a = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
        let b = u32::from_be_bytes([w[4], w[5], w[6], w[7]]);
        jitter.update(a, b);
        let _ = jitter.jitter_ms(b);
        let _ = rtt_from_report(a, b, a ^ b);
    }
});

/// Reads every field of a packet, as a consumer would.
fn touch(packet: &RtcpPacket<'_>) -> usize {
    match packet {
        RtcpPacket::SenderReport(sr) => {
            let _ = (sr.ssrc, sr.info);
            let lost: i64 = sr.reports.map(|b| i64::from(b.cumulative_lost)).sum();
            lost.unsigned_abs() as usize + sr.profile_extension.len()
        }
        RtcpPacket::ReceiverReport(rr) => rr.reports.count() + rr.profile_extension.len(),
        RtcpPacket::Sdes(sdes) => {
            let _ = sdes.first_cname();
            sdes.chunks()
                .map(|c| {
                    c.items()
                        .map(|i| i.kind as usize + i.text.len())
                        .sum::<usize>()
                })
                .sum()
        }
        RtcpPacket::Bye(bye) => bye.ssrcs().count() + bye.reason.map_or(0, <[u8]>::len),
        RtcpPacket::Unknown(u) => u.body.len() + usize::from(u.count),
    }
}
