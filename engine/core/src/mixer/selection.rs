//! Top-K speaker selection with hysteresis.
//!
//! Only the K loudest active inputs are mixed: beyond three simultaneous
//! voices a mix is noise, and every input left out is a decode saved. A voice
//! already in the mix keeps its slot until a challenger is clearly louder
//! (by the hysteresis margin), so two similar voices do not flap in and out.

/// Upper bound on K, so the selector needs no allocation.
pub const SPEAKERS_LIMIT: usize = 8;

/// An input eligible for the mix this tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The room's slot index of the participant.
    pub slot: usize,
    /// Smoothed loudness in tenths of a dB above silence.
    pub loudness_x10: i32,
}

/// Remembers who is in the mix from one tick to the next.
#[derive(Clone, Debug)]
pub struct SpeakerSelector {
    speakers_max: usize,
    hysteresis_x10: i32,
    speakers: [Candidate; SPEAKERS_LIMIT],
    len: usize,
}

impl SpeakerSelector {
    /// A selector mixing at most `speakers_max` voices (capped at [`SPEAKERS_LIMIT`]).
    pub fn new(speakers_max: usize, hysteresis_db: u8) -> Self {
        Self {
            speakers_max: speakers_max.clamp(1, SPEAKERS_LIMIT),
            hysteresis_x10: i32::from(hysteresis_db) * 10,
            speakers: [Candidate {
                slot: usize::MAX,
                loudness_x10: 0,
            }; SPEAKERS_LIMIT],
            len: 0,
        }
    }

    /// The slots selected by the last call to [`select`](Self::select).
    pub fn speakers(&self) -> impl Iterator<Item = usize> + '_ {
        self.speakers[..self.len].iter().map(|c| c.slot)
    }

    /// Whether `slot` is currently mixed.
    pub fn is_speaker(&self, slot: usize) -> bool {
        self.speakers[..self.len].iter().any(|c| c.slot == slot)
    }

    /// Number of voices currently mixed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nobody is mixed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets a slot (participant left or was muted).
    pub fn remove(&mut self, slot: usize) {
        if let Some(i) = self.speakers[..self.len]
            .iter()
            .position(|c| c.slot == slot)
        {
            self.speakers.copy_within(i + 1..self.len, i);
            self.len -= 1;
        }
    }

    /// Renames a slot after the room moved a participant to another index.
    pub fn rename(&mut self, from: usize, to: usize) {
        for c in &mut self.speakers[..self.len] {
            if c.slot == from {
                c.slot = to;
            }
        }
    }

    /// Chooses this tick's speakers from `candidates` (reordered in place,
    /// loudest first).
    pub fn select(&mut self, candidates: &mut [Candidate]) {
        // Keep incumbents that are still eligible, with today's loudness.
        let mut kept = 0;
        for i in 0..self.len {
            let slot = self.speakers[i].slot;
            if let Some(c) = candidates.iter().find(|c| c.slot == slot) {
                self.speakers[kept] = *c;
                kept += 1;
            }
        }
        self.len = kept;

        candidates.sort_unstable_by(|a, b| {
            b.loudness_x10
                .cmp(&a.loudness_x10)
                .then(a.slot.cmp(&b.slot))
        });
        for candidate in candidates.iter() {
            if self.is_speaker(candidate.slot) {
                continue;
            }
            if self.len < self.speakers_max {
                self.speakers[self.len] = *candidate;
                self.len += 1;
                continue;
            }
            let (quietest, q) = self.speakers[..self.len]
                .iter()
                .enumerate()
                .min_by_key(|(_, c)| c.loudness_x10)
                .map(|(i, c)| (i, *c))
                .expect("speakers_max >= 1 and the mix is full");
            if candidate.loudness_x10 > q.loudness_x10 + self.hysteresis_x10 {
                self.speakers[quietest] = *candidate;
            } else {
                // Candidates are sorted: nobody after this one is louder.
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(slot: usize, db: i32) -> Candidate {
        Candidate {
            slot,
            loudness_x10: db * 10,
        }
    }

    fn selected(s: &SpeakerSelector) -> Vec<usize> {
        let mut v: Vec<usize> = s.speakers().collect();
        v.sort();
        v
    }

    #[test]
    fn picks_the_k_loudest() {
        let mut s = SpeakerSelector::new(3, 6);
        s.select(&mut [c(0, 10), c(1, 50), c(2, 40), c(3, 60), c(4, 20)]);
        assert_eq!(selected(&s), vec![1, 2, 3]);
    }

    #[test]
    fn slightly_louder_challenger_does_not_displace_a_speaker() {
        let mut s = SpeakerSelector::new(2, 6);
        s.select(&mut [c(0, 50), c(1, 40)]);
        s.select(&mut [c(0, 50), c(1, 40), c(2, 44)]);
        assert_eq!(selected(&s), vec![0, 1]);
        s.select(&mut [c(0, 50), c(1, 40), c(2, 47)]);
        assert_eq!(selected(&s), vec![0, 2]);
    }

    #[test]
    fn speakers_who_stop_being_eligible_leave_and_free_their_slot() {
        let mut s = SpeakerSelector::new(2, 6);
        s.select(&mut [c(0, 50), c(1, 40), c(2, 30)]);
        s.select(&mut [c(1, 40), c(2, 30)]);
        assert_eq!(selected(&s), vec![1, 2]);
        s.select(&mut []);
        assert!(s.is_empty());
    }
}
