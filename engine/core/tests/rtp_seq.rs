//! Proves `SeqTracker` follows RFC 3550 A.1 (probation, MAX_DROPOUT,
//! MAX_MISORDER, bad_seq resync, cycles) and A.3 loss accounting, by feeding
//! sequence numbers and checking each outcome and counter.

use media_core::rtp::{SeqOutcome, SeqTracker};
use SeqOutcome::{Dropped, Duplicate, Late, Probation, Resynced, Valid};

fn feed(t: &mut SeqTracker, seqs: &[u16]) -> Vec<SeqOutcome> {
    seqs.iter().map(|&s| t.update(s)).collect()
}

#[test]
fn new_source_needs_two_sequential_packets() {
    let mut t = SeqTracker::new();
    assert_eq!(t.update(100), Probation);
    assert!(!t.is_valid());
    assert_eq!(t.expected(), 0);
    assert_eq!(t.update(101), Valid { extended_seq: 101 });
    assert!(t.is_valid());
    // The probation packet is not counted: the count starts at 101.
    assert_eq!(
        (t.base_seq(), t.received(), t.expected(), t.lost()),
        (101, 1, 1, 0)
    );
}

#[test]
fn probation_restarts_on_a_gap() {
    let mut t = SeqTracker::new();
    assert_eq!(feed(&mut t, &[10, 12]), vec![Probation, Probation]);
    assert_eq!(t.update(13), Valid { extended_seq: 13 });
}

#[test]
fn probation_crosses_the_wrap() {
    // A.1's C compares seq with max_seq + 1 as int, which would miss this.
    let mut t = SeqTracker::new();
    assert_eq!(t.update(65535), Probation);
    assert_eq!(t.update(0), Valid { extended_seq: 0 });
}

#[test]
fn wrap_extends_to_65536() {
    let mut t = SeqTracker::new();
    let got = feed(&mut t, &[65534, 65535, 0, 1]);
    assert_eq!(
        got,
        vec![
            Probation,
            Valid {
                extended_seq: 65535
            },
            Valid {
                extended_seq: 65536
            },
            Valid {
                extended_seq: 65537
            },
        ]
    );
    assert_eq!(t.extended_max(), 65537);
    // 65535, 65536, 65537 expected and received.
    assert_eq!((t.expected(), t.received(), t.lost()), (3, 3, 0));
}

#[test]
fn resync_after_large_jump_confirmed_by_next_packet() {
    let mut t = SeqTracker::new();
    feed(&mut t, &[100, 101, 102]);
    // 20000 - 102 is past MAX_DROPOUT: remembered as bad_seq = 20001.
    assert_eq!(t.update(20000), Dropped);
    assert_eq!(t.received(), 2);
    // The next one is sequential with it: the sender restarted.
    assert_eq!(
        t.update(20001),
        Resynced {
            extended_seq: 20001
        }
    );
    assert_eq!((t.base_seq(), t.received(), t.expected()), (20001, 1, 1));
    assert_eq!(
        t.update(20002),
        Valid {
            extended_seq: 20002
        }
    );
}

#[test]
fn isolated_large_jumps_are_dropped() {
    let mut t = SeqTracker::new();
    feed(&mut t, &[100, 101]);
    assert_eq!(feed(&mut t, &[20000, 30000]), vec![Dropped, Dropped]);
    assert_eq!(t.update(102), Valid { extended_seq: 102 });
    assert_eq!((t.received(), t.lost()), (2, 0));
}

#[test]
fn dropout_and_misorder_boundaries() {
    let mut t = SeqTracker::new();
    feed(&mut t, &[1000, 1001]);
    // A jump of 2999 (< MAX_DROPOUT) is in order with a gap.
    assert_eq!(t.update(4000), Valid { extended_seq: 4000 });
    // Exactly MAX_DROPOUT ahead is a large jump.
    assert_eq!(t.update(7000), Dropped);
    // 99 behind (udelta 65437 > 2^16 - MAX_MISORDER) is late.
    assert_eq!(t.update(3901), Late { extended_seq: 3901 });
    // 100 behind (udelta 65436) counts as a large jump.
    assert_eq!(t.update(3900), Dropped);
}

#[test]
fn late_and_duplicate_packets_are_counted() {
    let mut t = SeqTracker::new();
    let got = feed(&mut t, &[100, 101, 102, 105, 103, 105]);
    assert_eq!(
        got,
        vec![
            Probation,
            Valid { extended_seq: 101 },
            Valid { extended_seq: 102 },
            Valid { extended_seq: 105 },
            Late { extended_seq: 103 },
            Duplicate { extended_seq: 105 },
        ]
    );
    // Expected 101..=105 = 5; received 101, 102, 105, 103, 105 = 5.
    assert_eq!((t.expected(), t.received(), t.lost()), (5, 5, 0));
    t.update(105);
    assert_eq!(t.lost(), -1);
    assert!(got.iter().skip(1).all(SeqOutcome::is_counted));
    assert_eq!(got[4].extended_seq(), Some(103));
    assert_eq!(Probation.extended_seq(), None);
}

#[test]
fn late_packet_from_before_the_wrap() {
    let mut t = SeqTracker::new();
    feed(&mut t, &[65533, 65534, 65535, 0, 1]);
    assert_eq!(
        t.update(65535),
        Late {
            extended_seq: 65535
        }
    );
}

#[test]
fn fraction_lost_per_interval() {
    let mut t = SeqTracker::new();
    // Valid from 1; 5 and 9 missing: expected 1..=12 = 12, received 10.
    feed(&mut t, &[0, 1, 2, 3, 4, 6, 7, 8, 10, 11, 12]);
    assert_eq!(t.lost(), 2);
    // (2 << 8) / 12 = 512 / 12 = 42 (A.3, integer division).
    assert_eq!(t.report_fraction_lost(), 42);
    // Next interval: 13..=16 all arrive.
    feed(&mut t, &[13, 14, 15, 16]);
    assert_eq!(t.report_fraction_lost(), 0);
    // Next: 17 arrives, 18..=19 lost, 20 arrives: (2 << 8) / 4 = 128.
    feed(&mut t, &[17, 20]);
    assert_eq!(t.report_fraction_lost(), 128);
    // Nothing new: nothing expected, so nothing lost.
    assert_eq!(t.report_fraction_lost(), 0);
    // Duplicates make the interval's loss negative, which reports 0.
    feed(&mut t, &[20, 20]);
    assert_eq!(t.report_fraction_lost(), 0);
}
