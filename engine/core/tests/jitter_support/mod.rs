//! Shared by the `jitter_*` tests: a virtual clock, a scripted network that
//! delivers packets at chosen times, a mixer loop that pops every 20 ms, and
//! a checker that asserts the buffer's ordering, depth and accounting
//! invariants after every call.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use media_core::jitter::{
    InsertOutcome, JitterBuffer, JitterConfig, JitterPacket, JitterStats, Playout,
};

/// The one real clock reading every test time is built from.
#[allow(clippy::disallowed_methods)] // tests need one real Instant as origin
pub fn origin() -> Instant {
    Instant::now()
}

/// Timestamp ticks per 20 ms frame at 48 kHz.
pub const STEP: u32 = 960;
/// Mixer tick.
pub const TICK_US: u64 = 20_000;

/// One packet as the network delivers it.
#[derive(Clone, Copy, Debug)]
pub struct Arrival {
    pub at_us: u64,
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
    pub marker: bool,
    pub level: Option<u8>,
}

/// The payload carries the sequence number so a played frame can be traced.
pub fn payload(seq: u16) -> [u8; 3] {
    let [a, b] = seq.to_be_bytes();
    [a, b, 0x5a]
}

/// Packet `k` of a stream sent every 20 ms from `ts0`, arriving after `delay_us`.
pub fn stream_packet(k: u32, ts0: u32, delay_us: u64) -> Arrival {
    Arrival {
        at_us: u64::from(k) * TICK_US + delay_us,
        ssrc: 7,
        seq: k as u16,
        ts: ts0.wrapping_add(k.wrapping_mul(STEP)),
        marker: k == 0,
        level: Some(40),
    }
}

/// What a pop produced, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    Frame { ts: u32, seq: u16 },
    Conceal { ts: u32, fec_seq: Option<u16> },
    Idle,
}

/// Runs a buffer against a network script on a virtual clock, checking
/// invariants after every insert and pop.
pub struct Sim {
    pub t0: Instant,
    pub jb: JitterBuffer,
    pub config: JitterConfig,
    pub outs: Vec<(u64, Out)>,
    pub outcomes: Vec<(u16, InsertOutcome)>,
    pub checker: Checker,
    /// Arrivals not yet delivered, latest first.
    pub pending: Vec<Arrival>,
    pub next_pop_us: u64,
}

impl Sim {
    pub fn new(config: JitterConfig) -> Self {
        Self {
            t0: origin(),
            jb: JitterBuffer::new(config),
            config,
            outs: Vec::new(),
            outcomes: Vec::new(),
            checker: Checker::new(config),
            pending: Vec::new(),
            next_pop_us: 0,
        }
    }

    pub fn at(&self, us: u64) -> Instant {
        self.t0 + Duration::from_micros(us)
    }

    pub fn insert(&mut self, a: &Arrival) -> InsertOutcome {
        let now = self.at(a.at_us);
        let body = payload(a.seq);
        let outcome = self.jb.insert(
            now,
            JitterPacket {
                ssrc: a.ssrc,
                seq: a.seq,
                timestamp: a.ts,
                marker: a.marker,
                level_dbov: a.level,
                payload: &body,
            },
        );
        self.outcomes.push((a.seq, outcome));
        self.checker.after_insert(&self.jb, outcome);
        outcome
    }

    pub fn pop(&mut self, at_us: u64) -> Out {
        let now = self.at(at_us);
        let out = match self.jb.pop(now) {
            Playout::Frame {
                payload,
                seq,
                timestamp,
                arrival,
                ..
            } => {
                assert_eq!(
                    &payload[..2],
                    &seq.to_be_bytes(),
                    "payload belongs to the frame"
                );
                assert!(arrival <= now, "played before it arrived");
                Out::Frame { ts: timestamp, seq }
            }
            Playout::Conceal {
                timestamp,
                fec_from,
            } => Out::Conceal {
                ts: timestamp,
                fec_seq: fec_from.map(|p| u16::from_be_bytes([p[0], p[1]])),
            },
            Playout::Idle => Out::Idle,
        };
        self.checker.after_pop(&self.jb, &out);
        self.outs.push((at_us, out.clone()));
        out
    }

    /// Queues `arrivals` (any order) for delivery by the next runs.
    pub fn schedule(&mut self, arrivals: &[Arrival]) {
        self.pending.extend_from_slice(arrivals);
        self.pending.sort_by_key(|a| std::cmp::Reverse(a.at_us));
    }

    /// Queues `arrivals` and pops every tick from `first_pop_us` through
    /// `end_us`; arrivals at the same instant as a pop go first, later ones
    /// stay queued.
    pub fn run(&mut self, arrivals: &[Arrival], first_pop_us: u64, end_us: u64) {
        self.schedule(arrivals);
        self.next_pop_us = first_pop_us;
        self.run_until(end_us, |_, _| {});
    }

    /// Keeps popping every tick (from after the last pop) through `end_us`,
    /// calling `before_pop(sim, pop_us)` ahead of every pop.
    pub fn run_until(&mut self, end_us: u64, mut before_pop: impl FnMut(&mut Sim, u64)) {
        while self.next_pop_us <= end_us {
            let pop_us = self.next_pop_us;
            while self.pending.last().is_some_and(|a| a.at_us <= pop_us) {
                if let Some(a) = self.pending.pop() {
                    self.insert(&a);
                }
            }
            before_pop(self, pop_us);
            self.pop(pop_us);
            self.next_pop_us += TICK_US;
        }
    }

    pub fn frames(&self) -> Vec<u16> {
        self.outs
            .iter()
            .filter_map(|(_, o)| match o {
                Out::Frame { seq, .. } => Some(*seq),
                _ => None,
            })
            .collect()
    }

    pub fn conceals(&self) -> usize {
        self.outs
            .iter()
            .filter(|(_, o)| matches!(o, Out::Conceal { .. }))
            .count()
    }

    pub fn stats(&self) -> JitterStats {
        self.jb.stats()
    }
}

/// Invariants that hold for any input:
/// - depth never exceeds `delay_max_ms + frame_ms`;
/// - within a talk spurt each output's timestamp is the previous one plus
///   one frame (none after a hold), plus the slots the stats say were skipped;
/// - frame timestamps only increase, across talk spurts too;
/// - every packet is played, late, discarded or still buffered.
#[derive(Debug)]
pub struct Checker {
    step: u32,
    depth_max_ms: u32,
    /// Last output's timestamp and whether it moved the playout point.
    prev: Option<(u32, bool)>,
    last_frame_ts: Option<u32>,
    before: JitterStats,
    /// Skipped slots counted since the previous output.
    skipped_since: u64,
}

impl Checker {
    pub fn new(config: JitterConfig) -> Self {
        Self {
            step: config.clock_rate_hz * config.frame_ms / 1000,
            depth_max_ms: config.delay_max_ms + config.frame_ms,
            prev: None,
            last_frame_ts: None,
            before: JitterStats::default(),
            skipped_since: 0,
        }
    }

    fn common(&mut self, jb: &JitterBuffer) -> JitterStats {
        let s = jb.stats();
        assert!(
            s.depth_ms <= self.depth_max_ms,
            "depth {} ms above bound: {s:?}",
            s.depth_ms
        );
        assert_eq!(s.depth_ms, jb.depth_ms());
        assert!(s.target_delay_ms <= self.depth_max_ms);
        assert_eq!(
            s.received,
            s.played + s.late + s.discarded + jb.buffered_packets() as u64,
            "packet conservation: {s:?}"
        );
        // Conceals either hold the playout point or give a lost slot up.
        assert!(
            s.held <= s.concealed && s.concealed - s.held <= s.lost,
            "{s:?}"
        );
        assert!(s.underruns <= s.held && s.shed <= s.skipped && s.duplicates <= s.discarded);
        self.skipped_since += s.skipped - self.before.skipped;
        s
    }

    pub fn after_insert(&mut self, jb: &JitterBuffer, outcome: InsertOutcome) {
        let s = self.common(jb);
        if outcome == InsertOutcome::Resynced {
            self.prev = None;
            self.last_frame_ts = None;
        }
        self.before = s;
    }

    pub fn after_pop(&mut self, jb: &JitterBuffer, out: &Out) {
        let s = self.common(jb);
        let held = s.held - self.before.held;
        assert!(held <= 1);
        let ts = match *out {
            Out::Idle => {
                assert!(!jb.is_active());
                self.prev = None;
                self.before = s;
                self.skipped_since = 0;
                return;
            }
            Out::Frame { ts, .. } => {
                if let Some(last) = self.last_frame_ts {
                    assert!(
                        (ts.wrapping_sub(last) as i32) > 0,
                        "frame {ts} after frame {last}"
                    );
                }
                self.last_frame_ts = Some(ts);
                ts
            }
            Out::Conceal { ts, .. } => ts,
        };
        assert!(jb.is_active());
        if let Some((prev_ts, moved)) = self.prev {
            let slots = u64::from(moved) + self.skipped_since;
            let expected = prev_ts.wrapping_add((slots as u32).wrapping_mul(self.step));
            assert_eq!(
                ts, expected,
                "gap not accounted: prev {prev_ts} moved {moved} skipped {}",
                self.skipped_since
            );
        }
        self.prev = Some((ts, held == 0));
        self.skipped_since = 0;
        self.before = s;
    }
}

/// Small seeded generator so every network script replays exactly.
#[derive(Debug)]
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::from(self.next_u32()) % (hi - lo + 1)
    }
}
