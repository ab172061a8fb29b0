//! RFC 3550 Appendix A.1 sequence-number validation and extension, with the
//! A.3 loss accounting a receiver report needs.

/// Sequence numbers wrap at 2^16.
const RTP_SEQ_MOD: u32 = 1 << 16;
/// A forward jump smaller than this is an in-order packet (with a gap).
const MAX_DROPOUT: u32 = 3000;
/// A backward step smaller than this is a late or duplicate packet.
const MAX_MISORDER: u32 = 100;
/// Sequential packets needed before a new source is believed.
const MIN_SEQUENTIAL: u8 = 2;

// The in-order, large-jump and late windows must not overlap.
const _: () = assert!(MAX_DROPOUT < RTP_SEQ_MOD - MAX_MISORDER);

/// What [`SeqTracker::update`] made of one sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqOutcome {
    /// In order, possibly after a gap; counted as received.
    Valid {
        /// The sequence number extended with the wrap count.
        extended_seq: u64,
    },
    /// The same sequence number as the highest so far; counted as received,
    /// as A.1 does.
    Duplicate {
        /// The sequence number extended with the wrap count.
        extended_seq: u64,
    },
    /// Older than the highest so far (reordered or a duplicate of an older
    /// packet); counted as received, as A.1 does.
    Late {
        /// Extended number, or 0 when it predates the first counted packet
        /// across a wrap.
        extended_seq: u64,
    },
    /// The source is still on probation (needs [`MIN_SEQUENTIAL`] packets in
    /// a row); not counted.
    Probation,
    /// A very large jump, remembered in case the sender restarted; not counted.
    Dropped,
    /// The packet after a large jump was sequential with it: the sender is
    /// taken to have restarted and all counters start again from this packet.
    Resynced {
        /// The sequence number extended with the (reset) wrap count.
        extended_seq: u64,
    },
}

impl SeqOutcome {
    /// Whether A.1 counts this packet as received (so it should be played).
    pub fn is_counted(&self) -> bool {
        !matches!(self, SeqOutcome::Probation | SeqOutcome::Dropped)
    }

    /// The extended sequence number, when the packet was counted.
    pub fn extended_seq(&self) -> Option<u64> {
        match *self {
            SeqOutcome::Valid { extended_seq }
            | SeqOutcome::Duplicate { extended_seq }
            | SeqOutcome::Late { extended_seq }
            | SeqOutcome::Resynced { extended_seq } => Some(extended_seq),
            SeqOutcome::Probation | SeqOutcome::Dropped => None,
        }
    }
}

/// Per-source sequence state exactly as RFC 3550 A.1 `source` keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqTracker {
    started: bool,
    max_seq: u16,
    /// Wrap count, already shifted left by 16 as in A.1.
    cycles: u64,
    base_seq: u16,
    /// A.1's `bad_seq`; 2^16 + 1 means "none" since no u16 can equal it.
    bad_seq: u32,
    probation: u8,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
}

impl SeqTracker {
    /// A tracker that has seen no packet yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A.1 `init_seq`: start counting afresh from `seq`.
    fn init_seq(&mut self, seq: u16) {
        self.base_seq = seq;
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// A.1 `update_seq` for the next packet's sequence number.
    pub fn update(&mut self, seq: u16) -> SeqOutcome {
        if !self.started {
            // A.1: a new source starts on probation, as if seq - 1 came before.
            self.started = true;
            self.init_seq(seq);
            self.max_seq = seq.wrapping_sub(1);
            self.probation = MIN_SEQUENTIAL;
        }
        let udelta = u32::from(seq.wrapping_sub(self.max_seq));
        if self.probation > 0 {
            // A.1 writes `seq == max_seq + 1` in int arithmetic, which misses
            // 65535 -> 0; wrapping keeps that step sequential.
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return SeqOutcome::Valid {
                        extended_seq: self.extended_max(),
                    };
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return SeqOutcome::Probation;
        }
        if udelta == 0 {
            self.received += 1;
            SeqOutcome::Duplicate {
                extended_seq: self.extended_max(),
            }
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += u64::from(RTP_SEQ_MOD);
            }
            self.max_seq = seq;
            self.received += 1;
            SeqOutcome::Valid {
                extended_seq: self.extended_max(),
            }
        } else if udelta <= RTP_SEQ_MOD - MAX_MISORDER {
            if u32::from(seq) == self.bad_seq {
                self.init_seq(seq);
                self.received += 1;
                SeqOutcome::Resynced {
                    extended_seq: self.extended_max(),
                }
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                SeqOutcome::Dropped
            }
        } else {
            self.received += 1;
            let behind = u64::from(self.max_seq.wrapping_sub(seq));
            SeqOutcome::Late {
                extended_seq: self.extended_max().saturating_sub(behind),
            }
        }
    }

    /// Whether the source has passed probation.
    pub fn is_valid(&self) -> bool {
        self.started && self.probation == 0
    }

    /// Packets counted as received since the last (re)start.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The highest sequence number seen, extended with the wrap count.
    pub fn extended_max(&self) -> u64 {
        self.cycles + u64::from(self.max_seq)
    }

    /// The first counted sequence number since the last (re)start.
    pub fn base_seq(&self) -> u16 {
        self.base_seq
    }

    /// Packets expected since the last (re)start (A.3); 0 on probation.
    pub fn expected(&self) -> u64 {
        if !self.is_valid() {
            return 0;
        }
        (self.extended_max() + 1).saturating_sub(u64::from(self.base_seq))
    }

    /// Expected minus received (A.3); negative when duplicates arrived.
    pub fn lost(&self) -> i64 {
        // Both counts are far below i64::MAX: at most a few wraps of 2^16
        // per hour of audio.
        self.expected() as i64 - self.received as i64
    }

    /// A.3 fraction lost since the previous call, in 1/256 units, for the
    /// next report block. Clamped to 255, because A.3's formula gives 256
    /// when every packet of the interval was lost.
    pub fn report_fraction_lost(&mut self) -> u8 {
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.received_prior = self.received;
        if expected_interval == 0 || received_interval >= expected_interval {
            return 0;
        }
        let lost_interval = expected_interval - received_interval;
        ((lost_interval << 8) / expected_interval).min(255) as u8
    }
}
