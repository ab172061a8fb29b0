//! Proves A.8 interarrival jitter against values worked out by hand, RTT
//! from LSR/DLSR against the RFC 3550 6.4.1 example, the NTP conversions,
//! and the report-block builder fed from a sequence tracker and jitter.

use std::time::Duration;

use media_core::rtcp::{
    build_report_block, dlsr_from_duration, duration_from_ntp_short, ntp_from_unix, ntp_middle32,
    rtt_from_report, InterarrivalJitter, LastSr, ReportBlock, SenderInfo, NTP_UNIX_OFFSET_S,
};
use media_core::rtp::SeqTracker;

/// 8 kHz, 20 ms packets (160 units apart); arrivals in timestamp units.
/// J16 is A.8's jitter scaled by 16: J16 += |D| - ((J16 + 8) >> 4).
const PACKETS: [(u32, u32, u32); 6] = [
    // (rtp_ts, arrival, expected jitter = J16 >> 4)
    // transit 1000; first packet, no D yet: J16 = 0.
    (0, 1000, 0),
    // transit 1000, D = 0: J16 = 0 + 0 - (8 >> 4 = 0) = 0.
    (160, 1160, 0),
    // transit 1080, D = 80: J16 = 0 + 80 - 0 = 80; 80 >> 4 = 5.
    (320, 1400, 5),
    // transit 1040, |D| = 40: J16 = 80 + 40 - (88 >> 4 = 5) = 115; 115 >> 4 = 7.
    (480, 1520, 7),
    // transit 1000, |D| = 40: J16 = 115 + 40 - (123 >> 4 = 7) = 148; 148 >> 4 = 9.
    (640, 1640, 9),
    // transit 1160, |D| = 160: J16 = 148 + 160 - (156 >> 4 = 9) = 299; 299 >> 4 = 18.
    (800, 1960, 18),
];

#[test]
fn jitter_matches_hand_computation() {
    let mut j = InterarrivalJitter::new();
    for (ts, arrival, want) in PACKETS {
        j.update(arrival, ts);
        assert_eq!(j.jitter(), want, "ts {ts}");
    }
    // 18 units at 8 kHz = 18 / 8000 s = 2.25 ms.
    assert_eq!(j.jitter_ms(8000), 2.25);
    assert_eq!(j.jitter_ms(0), 0.0);
}

#[test]
fn jitter_is_unchanged_by_wrapping_clocks() {
    // Shift both clocks so they wrap past 2^32 in the middle of the run.
    let mut j = InterarrivalJitter::new();
    for (ts, arrival, want) in PACKETS {
        j.update(
            arrival.wrapping_add(0xffff_fa00),
            ts.wrapping_add(0xffff_fd00),
        );
        assert_eq!(j.jitter(), want);
    }
}

#[test]
fn rtt_rfc3550_example() {
    // RFC 3550 6.4.1: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000
    // (46853.125 s), DLSR = 0x0005:4000 (5.250 s): A - LSR - DLSR =
    // 0x0006:2000 = 6.125 s.
    let rtt = rtt_from_report(0xb710_8000, 0xb705_2000, 0x0005_4000);
    assert_eq!(rtt, Some(Duration::from_millis(6125)));
    // No SR heard yet.
    assert_eq!(rtt_from_report(0xb710_8000, 0, 0), None);
    // DLSR larger than the time since the SR: negative.
    assert_eq!(rtt_from_report(0xb705_2001, 0xb705_2000, 5), None);
    // Now before LSR (a clock step back).
    assert_eq!(rtt_from_report(0xb705_1000, 0xb705_2000, 0), None);
    // Across the 2^32 wrap of the middle 32 bits: since the SR is 0x1000 +
    // 0x1000 = 0x2000 units, minus DLSR 0x1000 = 4096 / 65536 s = 62.5 ms.
    let rtt = rtt_from_report(0x0000_1000, 0xffff_f000, 0x1000);
    assert_eq!(rtt, Some(Duration::from_micros(62_500)));
}

#[test]
fn ntp_helpers() {
    assert_eq!(ntp_middle32(0x1234_b705_2000_5678), 0xb705_2000);
    assert_eq!(ntp_from_unix(Duration::ZERO), NTP_UNIX_OFFSET_S << 32);
    let t = ntp_from_unix(Duration::from_millis(1500));
    assert_eq!(t, ((NTP_UNIX_OFFSET_S + 1) << 32) | 0x8000_0000);
    assert_eq!(dlsr_from_duration(Duration::from_millis(5250)), 0x0005_4000);
    assert_eq!(dlsr_from_duration(Duration::from_secs(1 << 20)), u32::MAX);
    assert_eq!(
        duration_from_ntp_short(0x0006_2000),
        Duration::from_millis(6125)
    );
}

#[test]
fn report_block_from_tracked_state() {
    let mut seq = SeqTracker::new();
    let mut jitter = InterarrivalJitter::new();
    // On probation there is nothing to report.
    seq.update(0);
    assert_eq!(build_report_block(7, &mut seq, &jitter, None, 0), None);
    // Valid from 1; 5 never arrives: expected 1..=10 = 10, received 9.
    for s in (1..=10).filter(|&s| s != 5) {
        seq.update(s);
    }
    for (ts, arrival, _) in PACKETS {
        jitter.update(arrival, ts);
    }
    let sr = SenderInfo {
        ntp: 0x0000_b705_2000_0000,
        ..SenderInfo::default()
    };
    // The SR arrived at middle32 0xb708:0000; now is 0xb70d:4000, so DLSR =
    // 0x0005:4000 (5.25 s).
    let last = LastSr::from_sender_info(&sr, 0x0000_b708_0000_0000);
    let block = build_report_block(7, &mut seq, &jitter, Some(&last), 0x0000_b70d_4000_0000);
    assert_eq!(
        block,
        Some(ReportBlock {
            ssrc: 7,
            // (1 << 8) / 10 = 25.
            fraction_lost: 25,
            cumulative_lost: 1,
            extended_highest_seq: 10,
            jitter: 18,
            lsr: 0xb705_2000,
            dlsr: 0x0005_4000,
        })
    );
    // The interval restarted: a second report right away shows no new loss.
    let again = build_report_block(7, &mut seq, &jitter, None, 0).unwrap();
    assert_eq!((again.fraction_lost, again.lsr, again.dlsr), (0, 0, 0));
}
