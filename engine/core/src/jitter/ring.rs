//! A fixed ring of packet slots addressed by whole-frame offset from the
//! playout point.
//!
//! All payload memory is one allocation made at construction; a slot's
//! bytes stay in place after it is popped, so a played frame can be lent out
//! until the next insert overwrites it.

use std::time::Instant;

/// Everything but the payload bytes of a buffered packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotMeta {
    pub ts: u32,
    pub seq: u16,
    pub marker: bool,
    pub level_dbov: Option<u8>,
    pub arrival: Instant,
    pub len: usize,
}

/// Fixed-capacity slots; offset 0 is the slot at the playout point.
pub(crate) struct SlotRing {
    metas: Vec<Option<SlotMeta>>,
    payloads: Vec<u8>,
    payload_max_bytes: usize,
    head: usize,
    count: usize,
    /// Frames from the playout point through the newest buffered slot; 0 when empty.
    span: u32,
}

impl std::fmt::Debug for SlotRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The payload arena is large and meaningless byte by byte.
        f.debug_struct("SlotRing")
            .field("slots", &self.metas.len())
            .field("head", &self.head)
            .field("count", &self.count)
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl SlotRing {
    /// Allocates `slots` slots of `payload_max_bytes` each; `slots` ≥ 1.
    pub fn new(slots: u32, payload_max_bytes: usize) -> Self {
        let slots = slots.max(1) as usize;
        Self {
            metas: vec![None; slots],
            payloads: vec![0; slots * payload_max_bytes],
            payload_max_bytes,
            head: 0,
            count: 0,
            span: 0,
        }
    }

    pub fn capacity(&self) -> u32 {
        // Bounded by the config limits (≤ 2001 slots).
        self.metas.len() as u32
    }

    pub fn count(&self) -> usize {
        self.count
    }

    pub fn span(&self) -> u32 {
        self.span
    }

    fn index(&self, offset: u32) -> usize {
        (self.head + offset as usize) % self.metas.len()
    }

    /// The packet `offset` frames after the playout point, if buffered.
    pub fn get(&self, offset: u32) -> Option<&SlotMeta> {
        if offset >= self.capacity() {
            return None;
        }
        self.metas[self.index(offset)].as_ref()
    }

    /// Payload of the packet `offset` frames ahead, if buffered.
    pub fn payload(&self, offset: u32) -> Option<&[u8]> {
        let meta = self.get(offset)?;
        Some(self.payload_at(self.index(offset), meta.len))
    }

    /// Bytes left in slot `index` (valid after a pop until the next put).
    pub fn payload_at(&self, index: usize, len: usize) -> &[u8] {
        let start = index * self.payload_max_bytes;
        &self.payloads[start..start + len.min(self.payload_max_bytes)]
    }

    /// Stores a packet; false when the slot is taken or out of range.
    pub fn put(&mut self, offset: u32, meta: SlotMeta, payload: &[u8]) -> bool {
        if offset >= self.capacity() || payload.len() > self.payload_max_bytes {
            return false;
        }
        let index = self.index(offset);
        if self.metas[index].is_some() {
            return false;
        }
        let start = index * self.payload_max_bytes;
        self.payloads[start..start + payload.len()].copy_from_slice(payload);
        self.metas[index] = Some(SlotMeta {
            len: payload.len(),
            ..meta
        });
        self.count += 1;
        self.span = self.span.max(offset + 1);
        true
    }

    /// Empties the slot at the playout point and moves the point one frame on.
    /// Returns what was there and the slot index its bytes still occupy.
    pub fn pop_head(&mut self) -> Option<(SlotMeta, usize)> {
        let index = self.head;
        let taken = self.metas[index].take();
        self.head = (self.head + 1) % self.metas.len();
        if taken.is_some() {
            self.count -= 1;
        }
        self.span = if self.count == 0 {
            0
        } else {
            self.span.saturating_sub(1)
        };
        taken.map(|meta| (meta, index))
    }

    /// Moves the playout point `frames` earlier; false if the span would not fit.
    pub fn extend_back(&mut self, frames: u32) -> bool {
        if self.span + frames > self.capacity() {
            return false;
        }
        let len = self.metas.len();
        self.head = (self.head + len - frames as usize % len) % len;
        if self.count > 0 {
            self.span += frames;
        }
        true
    }

    /// Offset of the first buffered packet, scanning at most the span.
    pub fn first_occupied(&self) -> Option<u32> {
        (0..self.span).find(|&offset| self.get(offset).is_some())
    }

    /// Empties every slot; returns how many packets were dropped.
    pub fn clear(&mut self) -> usize {
        let dropped = self.count;
        self.metas.iter_mut().for_each(|m| *m = None);
        self.count = 0;
        self.span = 0;
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // test clock origin
    fn meta(ts: u32) -> SlotMeta {
        SlotMeta {
            ts,
            seq: 0,
            marker: false,
            level_dbov: None,
            arrival: Instant::now(),
            len: 0,
        }
    }

    #[test]
    fn put_pop_span_and_wrap() {
        let mut ring = SlotRing::new(4, 8);
        for round in 0..3u32 {
            assert!(ring.put(2, meta(round), b"ab"));
            assert!(!ring.put(2, meta(round), b"cd"), "slot taken");
            assert!(!ring.put(4, meta(round), b""), "beyond capacity");
            assert_eq!((ring.count(), ring.span()), (1, 3));
            assert_eq!(ring.first_occupied(), Some(2));
            assert!(ring.pop_head().is_none());
            assert!(ring.pop_head().is_none());
            let (m, index) = ring.pop_head().expect("buffered");
            assert_eq!((m.ts, ring.payload_at(index, m.len)), (round, &b"ab"[..]));
            assert_eq!((ring.count(), ring.span()), (0, 0));
        }
    }

    #[test]
    fn extend_back_and_clear() {
        let mut ring = SlotRing::new(4, 8);
        assert!(ring.put(0, meta(10), b"x"));
        assert!(ring.extend_back(3));
        assert!(!ring.extend_back(1));
        assert_eq!(ring.span(), 4);
        assert!(ring.put(0, meta(7), b"y"));
        assert_eq!(ring.payload(3), Some(&b"x"[..]));
        assert_eq!(ring.clear(), 2);
        assert_eq!(ring.first_occupied(), None);
    }
}
