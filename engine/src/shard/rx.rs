//! The shard's side of the receive ring: which socket a completion belongs
//! to, and feeding its datagram to `ShardState::on_datagram`.
//!
//! Each participant holds a slot; a completion's `user_data` is
//! `generation << 32 | slot << 1 | kind`. Removing a participant cancels its
//! two multishots, closes its sockets and bumps the slot's generation, so
//! completions still queued for it (datagrams not yet drained, the final
//! `ECANCELED`) no longer match and only return their buffers.

use std::io;
use std::net::UdpSocket;
use std::os::fd::{AsRawFd, RawFd};

use media_core::mixer::ParticipantId;

use super::state::{PortKind, ShardState};
use crate::config::EngineConfig;
use crate::net::uring::{RxRing, INTERNAL};

/// Provided buffers per participant the shard can hold: one RTP packet per
/// tick is the steady state; the rest absorbs bursts and RTCP between two
/// drains. When they run out the multishot ends with `ENOBUFS` (counted)
/// and is re-armed at the next drain; the socket buffer keeps the packets.
const BUFFERS_PER_PARTICIPANT: usize = 4;

#[derive(Debug)]
struct Member {
    room_index: usize,
    id: ParticipantId,
    /// RTP, RTCP: owned here; the shard's state sends on their raw fds.
    sockets: [UdpSocket; 2],
}

#[derive(Debug, Default)]
struct Slot {
    generation: u32,
    member: Option<Member>,
}

/// Receive ring plus the slot table.
#[derive(Debug)]
pub(crate) struct RingReceiver {
    ring: RxRing,
    slots: Vec<Slot>,
    /// Free slot indices (a stack, preallocated).
    free: Vec<u32>,
}

fn user_data(slot: u32, generation: u32, kind: PortKind) -> u64 {
    (u64::from(generation) << 32) | (u64::from(slot) << 1) | u64::from(kind == PortKind::Rtcp)
}

fn kind_of(bit: u64) -> PortKind {
    if bit & 1 == 0 {
        PortKind::Rtp
    } else {
        PortKind::Rtcp
    }
}

impl RingReceiver {
    /// Participants one shard can hold: rooms × room size, and no more than
    /// its port range has pairs for.
    pub(crate) fn capacity(config: &EngineConfig) -> usize {
        (config.shards.rooms_max * config.shards.room_participants_max)
            .min(usize::from(config.media.ports_per_shard / 2))
            .max(1)
    }

    pub(crate) fn new(config: &EngineConfig) -> io::Result<Self> {
        let participants = Self::capacity(config);
        let ring = RxRing::new(participants * BUFFERS_PER_PARTICIPANT, participants * 2)?;
        let slots = (0..participants).map(|_| Slot::default()).collect();
        let free = (0..participants as u32).rev().collect();
        Ok(Self { ring, slots, free })
    }

    /// Participants currently receiving.
    pub(crate) fn members(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Provided buffers in the ring.
    #[cfg(test)]
    pub(crate) fn buffers(&self) -> usize {
        self.ring.buffers()
    }

    /// Lets the kernel post completions without reaping them (tests).
    #[cfg(test)]
    pub(crate) fn run_work(&mut self) {
        self.ring.run_work().expect("enter");
    }

    /// Starts receiving on a participant's two sockets (kernel timestamps
    /// on, one multishot each), submitted at once.
    pub(crate) fn add(
        &mut self,
        room_index: usize,
        id: ParticipantId,
        rtp: UdpSocket,
        rtcp: UdpSocket,
    ) -> io::Result<()> {
        crate::net::uring::enable_timestamps(&rtp)?;
        crate::net::uring::enable_timestamps(&rtcp)?;
        let slot = self.free.pop().ok_or_else(|| {
            io::Error::other(format!(
                "receive ring full: {} participants on this shard",
                self.slots.len()
            ))
        })?;
        let generation = self.slots[slot as usize].generation;
        for (socket, kind) in [(&rtp, PortKind::Rtp), (&rtcp, PortKind::Rtcp)] {
            if let Err(e) = self.ring.arm(socket, user_data(slot, generation, kind)) {
                self.free.push(slot);
                return Err(e);
            }
        }
        self.slots[slot as usize].member = Some(Member {
            room_index,
            id,
            sockets: [rtp, rtcp],
        });
        self.ring.submit()
    }

    /// Stops receiving for one participant and closes its sockets (the
    /// ports are free when this returns).
    pub(crate) fn remove(&mut self, room_index: usize, id: ParticipantId) {
        self.remove_where(|m| m.room_index == room_index && m.id == id);
    }

    /// Stops receiving for every participant of a room slot.
    pub(crate) fn remove_room(&mut self, room_index: usize) {
        self.remove_where(|m| m.room_index == room_index);
    }

    /// Stops receiving for everyone.
    pub(crate) fn clear(&mut self) {
        self.remove_where(|_| true);
    }

    fn remove_where(&mut self, matches: impl Fn(&Member) -> bool) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if !slot.member.as_ref().is_some_and(&matches) {
                continue;
            }
            let member = slot.member.take();
            let old = slot.generation;
            // 31 bits: the top bit of user_data belongs to the ring.
            slot.generation = (slot.generation + 1) & 0x7fff_ffff;
            let i = i as u32;
            // Cancel before the sockets close: the kernel holds its own
            // reference to each socket while a multishot is armed, so
            // closing our fd alone would neither stop it nor free the port.
            let _ = self.ring.cancel(&[
                user_data(i, old, PortKind::Rtp),
                user_data(i, old, PortKind::Rtcp),
            ]);
            drop(member);
            self.free.push(i);
        }
    }

    /// Whether a drain would find anything (no system call).
    pub(crate) fn has_work(&mut self) -> bool {
        self.ring.has_work()
    }

    /// Reaps every completion and feeds the datagrams to the shard. Runs
    /// right before each tick and, while rooms are idle, once per tick
    /// period.
    pub(crate) fn drain(&mut self, st: &mut ShardState) {
        let slots = &self.slots;
        st.counters.rx_drains += 1;
        let result = self.ring.drain(|c| {
            debug_assert_eq!(c.user_data & INTERNAL, 0);
            let slot = ((c.user_data >> 1) & 0x7fff_ffff) as usize;
            let generation = (c.user_data >> 32) as u32;
            let kind = kind_of(c.user_data);
            let member = slots
                .get(slot)
                .filter(|s| s.generation == generation)
                .and_then(|s| s.member.as_ref());
            let Some(m) = member else {
                // Left over from a removed participant: the ring recycles
                // the buffer; nothing else to do.
                st.counters.rx_stale += 1;
                return None;
            };
            match c.result {
                Ok(d) => match d.from {
                    Some(from) if !d.truncated => {
                        st.on_datagram(d.arrival, m.room_index, m.id, kind, from, d.payload)
                    }
                    _ => st.counters.rx_errors += 1,
                },
                Err(libc::ENOBUFS) => st.counters.rx_no_buffers += 1,
                Err(_) => st.counters.rx_errors += 1,
            }
            if c.more {
                return None;
            }
            st.counters.rx_rearms += 1;
            let fd: RawFd = m.sockets[usize::from(kind == PortKind::Rtcp)].as_raw_fd();
            Some(fd)
        });
        match result {
            Ok(done) => st.counters.rx_enters += u64::from(done.enters),
            Err(_) => st.counters.rx_errors += 1,
        }
    }
}

#[cfg(test)]
mod tests;
