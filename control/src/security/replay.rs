//! Replay protection: a timestamp window and a set of `(generalID, random)`
//! pairs seen within it.
//!
//! A pair is remembered until its timestamp leaves the window; after that a
//! replay of the same datagram fails the timestamp check instead, so no pair
//! can ever admit twice. The set is bounded: when full, new requests are
//! refused (fail closed) rather than forgetting pairs still in the window.

use std::collections::{HashSet, VecDeque};

/// Default half-width of the timestamp window, seconds.
pub const WINDOW_S_DEFAULT: u32 = 30;
/// Default bound on remembered pairs.
pub const ENTRIES_MAX_DEFAULT: usize = 1 << 20;

/// Why a token was refused by the replay check.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum ReplayError {
    /// The timestamp is outside `now ± window`.
    #[error("timestamp {timestamp_s} outside now {now_s} ± {window_s} s")]
    Stale {
        /// The token's timestamp.
        timestamp_s: u64,
        /// The gatekeeper's clock.
        now_s: u64,
        /// The window half-width.
        window_s: u32,
    },
    /// The `(generalID, random)` pair was already used within the window.
    #[error("random already used by this terminal within the window")]
    Replayed,
    /// The replay set is full.
    #[error("replay set full")]
    Full,
}

/// The replay window.
#[derive(Debug)]
pub struct ReplayWindow {
    window_s: u32,
    entries_max: usize,
    seen: HashSet<(String, u32)>,
    /// Pairs in insertion order with the time they may be forgotten.
    expiry: VecDeque<(u64, String, u32)>,
}

impl ReplayWindow {
    /// A window of `±window_s` seconds remembering at most `entries_max` pairs.
    #[must_use]
    pub fn new(window_s: u32, entries_max: usize) -> Self {
        Self {
            window_s,
            entries_max,
            seen: HashSet::new(),
            expiry: VecDeque::new(),
        }
    }

    /// The window half-width in seconds.
    #[must_use]
    pub fn window_s(&self) -> u32 {
        self.window_s
    }

    /// Checks the timestamp alone (no state change).
    pub fn check_time(&self, timestamp_s: u32, now_s: u64) -> Result<(), ReplayError> {
        let ts = u64::from(timestamp_s);
        if ts.abs_diff(now_s) > u64::from(self.window_s) {
            return Err(ReplayError::Stale {
                timestamp_s: ts,
                now_s,
                window_s: self.window_s,
            });
        }
        Ok(())
    }

    /// Checks and records a pair. Call only after the signature verified, so
    /// forged tokens cannot fill the set.
    pub fn check_and_record(
        &mut self,
        general_id: &str,
        random: u32,
        timestamp_s: u32,
        now_s: u64,
    ) -> Result<(), ReplayError> {
        self.check_time(timestamp_s, now_s)?;
        self.purge(now_s);
        let key = (general_id.to_owned(), random);
        if self.seen.contains(&key) {
            return Err(ReplayError::Replayed);
        }
        if self.seen.len() >= self.entries_max {
            return Err(ReplayError::Full);
        }
        let forget_at = u64::from(timestamp_s) + u64::from(self.window_s);
        self.expiry.push_back((forget_at, key.0.clone(), random));
        self.seen.insert(key);
        Ok(())
    }

    /// Forgets pairs whose timestamps have left the window.
    fn purge(&mut self, now_s: u64) {
        // Entries are forgotten in insertion order; a later entry with an
        // earlier expiry waits for the ones before it, which only keeps it
        // longer (safe).
        while let Some((forget_at, _, _)) = self.expiry.front() {
            if *forget_at >= now_s {
                break;
            }
            if let Some((_, id, random)) = self.expiry.pop_front() {
                self.seen.remove(&(id, random));
            }
        }
    }

    /// Number of remembered pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no pair is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_admits_once_then_stale_after_window() {
        let mut w = ReplayWindow::new(30, 16);
        assert_eq!(w.check_and_record("a", 7, 1000, 1000), Ok(()));
        assert_eq!(
            w.check_and_record("a", 7, 1000, 1010),
            Err(ReplayError::Replayed)
        );
        assert_eq!(w.check_and_record("b", 7, 1000, 1010), Ok(()));
        assert!(matches!(
            w.check_and_record("a", 7, 1000, 1031),
            Err(ReplayError::Stale { .. })
        ));
        assert!(matches!(
            w.check_and_record("a", 8, 969, 1000),
            Err(ReplayError::Stale { .. })
        ));
        assert_eq!(w.check_and_record("a", 8, 970, 1000), Ok(()));
    }

    #[test]
    fn full_set_fails_closed_and_frees_after_window() {
        let mut w = ReplayWindow::new(30, 2);
        assert_eq!(w.check_and_record("a", 1, 1000, 1000), Ok(()));
        assert_eq!(w.check_and_record("a", 2, 1000, 1000), Ok(()));
        assert_eq!(
            w.check_and_record("a", 3, 1000, 1000),
            Err(ReplayError::Full)
        );
        assert_eq!(w.check_and_record("a", 3, 1040, 1040), Ok(()));
        assert_eq!(w.len(), 1);
    }
}
