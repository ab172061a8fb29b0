//! The shard's ticks: each active room is mixed every 20 ms at its own
//! deadline (its phase on the grid, see `schedule.rs`), its outputs sent
//! at once, and lateness, overruns and engine-added latency counted.

use std::time::{Duration, Instant};

use media_core::mixer::{ParticipantId, SPEAKERS_LIMIT};

use super::super::schedule::{self, Grid, SLOTS};
use super::super::TICK;
use super::{RoomEntry, ShardState};
use crate::net;

/// Missed ticks of a room run late after an overrun before the rest are
/// skipped (counted).
const CATCH_UP_TICKS_MAX: u32 = 2;
/// A waking room's tick goes at least this long after the waking packet's
/// arrival. A member whose frames arrive close to the tick, on either side,
/// is hurt by small arrival jitter: a frame that misses its tick is
/// concealed and the next ones wait a frame longer (until a quiet frame
/// lets the jitter buffer give that frame back). 2.5 ms keeps the waking
/// member clear of that on clean networks, and keeps a terminal sending on
/// the next 5 ms step after it clear too.
pub(crate) const WAKE_MARGIN: Duration = Duration::from_micros(2_500);
/// Tick cost per member assumed before any room on the shard has been
/// measured: a room of 12 (mix, encodes and sends) took 0.4–0.5 ms on the
/// reference machine at 240 guardians per core. Too low an estimate packs
/// the rooms that wake together behind too few deadlines.
pub(super) const ROOM_NS_PER_MEMBER_INITIAL: u64 = 40_000;

/// A room's place on the tick grid.
#[derive(Debug)]
pub(super) struct RoomClock {
    /// Next deadline (while active). It stays on the room's grid, so its
    /// offset into the period is the room's phase.
    next: Instant,
    /// Set on waking: the first tick runs as soon as it is found due, with
    /// no catch-up (nothing was missed while idle).
    fresh: bool,
    /// Expected cost of one tick, ns (moving average of measured ticks).
    work_ns: u64,
    /// Woken by a packet that arrived then, not placed on the grid yet.
    woken_at: Option<Instant>,
    /// When every member will have been heard since waking: the placement
    /// is checked once then (`settle_room`).
    settle_at: Option<Instant>,
}

impl RoomClock {
    pub(super) fn new(now: Instant) -> Self {
        Self {
            next: now,
            fresh: true,
            work_ns: 0,
            woken_at: None,
            settle_at: None,
        }
    }
}

impl ShardState {
    /// A room woke up on a packet that arrived at `arrival`: it is placed
    /// on the grid at the next [`place_woken`](Self::place_woken), once the
    /// rest of the batch (its other members' first packets) is in.
    pub(super) fn wake_room(&mut self, index: usize, arrival: Instant) {
        if let Some(e) = self.rooms[index].as_mut() {
            e.clock.woken_at = Some(arrival);
        }
    }

    /// Places every room woken since the last call (see `schedule.rs`).
    pub(crate) fn place_woken(&mut self, now: Instant) {
        for i in 0..self.rooms.len() {
            let woken = self.rooms[i]
                .as_ref()
                .filter(|e| e.active)
                .and_then(|e| e.clock.woken_at);
            if let Some(arrival) = woken {
                self.place_room(i, arrival, now);
            }
        }
    }

    /// Places room `index`, woken by a packet that arrived at `arrival` and
    /// seen `now`, on the grid.
    ///
    /// The deadline goes at least `WAKE_MARGIN` after the arrival and not
    /// before now, and at most a frame minus the margin after the arrival:
    /// then the waking member has exactly its first frame at the first tick
    /// (its second comes after it), and so has every member that started
    /// since. Up to a frame late is fine that way, which is how late an
    /// idle shard's once-a-period look can find the packet. Within that
    /// window: clear of the members' arrival times (see `schedule::GUARD_NS`), where
    /// the work already placed delays the room least.
    fn place_room(&mut self, index: usize, arrival: Instant, now: Instant) {
        let earliest = (arrival + WAKE_MARGIN).max(now);
        let latest = arrival + TICK - WAKE_MARGIN;
        let window = latest.saturating_duration_since(earliest).as_nanos() as u64;
        let next = self.best_deadline(index, arrival, earliest, window);
        if let Some(e) = self.rooms[index].as_mut() {
            e.clock.next = next;
            e.clock.fresh = true;
            e.clock.woken_at = None;
            e.clock.settle_at = Some(arrival + TICK + WAKE_MARGIN);
        }
    }

    /// A period after waking every member that sends has been heard, not
    /// only those in the first batch: if the deadline sits next to some
    /// member's arrival time, move it later (never earlier: that would make
    /// frames miss their tick), to the first point where the cost is least.
    /// A member whose frame then waits for a second one in the buffer drops
    /// the older (the jitter buffer settles its first pops at the target).
    /// Returns the room's deadline, moved or not.
    fn settle_room(&mut self, index: usize, deadline: Instant, now: Instant) -> Instant {
        let slot_ns = TICK.as_nanos() as u64 / SLOTS as u64;
        let later = TICK.as_nanos() as u64 - slot_ns;
        let next = self.best_deadline(index, now, deadline, later);
        if let Some(e) = self.rooms[index].as_mut() {
            e.clock.next = next;
            if next != deadline {
                self.counters.ticks_moved += 1;
            }
        }
        next
    }

    /// Room `index`'s best deadline at or after `from` and at most
    /// `window_ns` later (see `schedule::choose_slot`); the
    /// members heard in the period before `heard_before` count.
    fn best_deadline(
        &self,
        index: usize,
        heard_before: Instant,
        from: Instant,
        window_ns: u64,
    ) -> Instant {
        let period_ns = TICK.as_nanos() as u64;
        let slot_ns = period_ns / SLOTS as u64;
        let (grid, own) = self.grid_for(index, heard_before);
        let offset = from.saturating_duration_since(self.epoch).as_nanos();
        let earliest = (offset % u128::from(period_ns)) as u64;
        let slot = schedule::choose_slot(earliest, window_ns, period_ns, &grid, own);
        let next_ns = schedule::next_on_grid(offset, slot as u64 * slot_ns, period_ns);
        self.epoch + Duration::from_nanos(next_ns as u64)
    }

    /// The grid as room `index` sees it: the other active rooms' work per
    /// slot, and where its own members' frames arrive (those heard in the
    /// period before `at`); with its own expected cost.
    fn grid_for(&self, index: usize, at: Instant) -> (Grid, u64) {
        let period_ns = TICK.as_nanos() as u64;
        let slot_ns = period_ns / SLOTS as u64;
        let mut grid = Grid {
            rooms: [0; SLOTS],
            work: [0; SLOTS],
            arrivals: [0; SLOTS],
        };
        for (i, entry) in self.rooms.iter().enumerate() {
            let Some(e) = entry.as_ref().filter(|e| e.active && i != index) else {
                continue;
            };
            if e.clock.woken_at.is_some() {
                continue;
            }
            // Deadlines stay on their room's grid: the phase is the offset.
            let phase = e
                .clock
                .next
                .saturating_duration_since(self.epoch)
                .as_nanos()
                % u128::from(period_ns);
            let s = (phase / u128::from(slot_ns)) as usize % SLOTS;
            grid.work[s] += self.expected_work(e);
            grid.rooms[s] += 1;
        }
        let Some(entry) = self.rooms[index].as_ref() else {
            return (grid, 0);
        };
        for m in &entry.members {
            let Some(last) = m.last_rx.filter(|&t| t + TICK > at) else {
                continue;
            };
            let ns = last.saturating_duration_since(self.epoch).as_nanos() % u128::from(period_ns);
            grid.arrivals[(ns as u64 / slot_ns) as usize % SLOTS] += 1;
        }
        (grid, self.expected_work(entry))
    }

    fn expected_work(&self, e: &RoomEntry) -> u64 {
        if e.clock.work_ns > 0 {
            e.clock.work_ns
        } else {
            self.room_ns_per_member * e.members.len().max(1) as u64
        }
    }

    /// The earliest deadline of any active room.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.rooms
            .iter()
            .flatten()
            .filter(|e| e.active && e.clock.woken_at.is_none())
            .map(|e| e.clock.next)
            .min()
    }

    /// Mixes every active room whose deadline has come, earliest deadline
    /// first, calling `before_room` right before each room but the first:
    /// the receive ring drains there, so a packet that lands while earlier
    /// rooms are being mixed still makes its own room's mix.
    pub(crate) fn run_due(&mut self, mut before_room: impl FnMut(&mut ShardState)) {
        let woke = Instant::now();
        self.place_woken(woke);
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        for (i, entry) in self.rooms.iter().enumerate() {
            if entry
                .as_ref()
                .is_some_and(|e| e.active && e.clock.next <= woke)
            {
                due.push(i);
            }
        }
        if due.is_empty() {
            self.due = due;
            return;
        }
        let cpu_start = net::thread_cpu_time();
        due.sort_unstable_by_key(|&i| self.rooms[i].as_ref().map(|e| e.clock.next));
        self.counters.ticks += 1;
        if let Some(first) = self.rooms[due[0]].as_ref() {
            if !first.clock.fresh && woke > first.clock.next + self.late_output {
                self.counters.late_ticks += 1;
            }
        }
        for (n, &i) in due.iter().enumerate() {
            if n > 0 {
                before_room(self);
            }
            self.run_room_due(i, woke);
        }
        self.due = due;
        self.tick_work
            .record(Instant::now().saturating_duration_since(woke));
        self.tick_cpu
            .record(net::thread_cpu_time().saturating_sub(cpu_start));
    }

    /// One due room: its tick, or after an overrun the missed ticks it can
    /// still catch up (so its streams keep 50 frames/s and the jitter
    /// buffers do not grow) and the rest skipped.
    fn run_room_due(&mut self, i: usize, woke: Instant) {
        let Some(e) = self.rooms[i].as_mut() else {
            return;
        };
        let deadline = e.clock.next;
        if std::mem::take(&mut e.clock.fresh) {
            // A first tick after waking has missed nothing: if the task
            // comes late to it, run it once and keep the phase.
            let behind = woke.saturating_duration_since(deadline).as_nanos() / TICK.as_nanos();
            let on_grid = deadline + TICK * behind as u32;
            e.clock.next = on_grid + TICK;
            self.run_room(i, woke);
            return;
        }
        let mut deadline = deadline;
        if e.clock.settle_at.is_some_and(|t| t <= woke) {
            e.clock.settle_at = None;
            deadline = self.settle_room(i, deadline, woke);
            if deadline > woke {
                return;
            }
        }
        let Some(e) = self.rooms[i].as_mut() else {
            return;
        };
        let behind = (woke.saturating_duration_since(deadline).as_nanos() / TICK.as_nanos()) as u32;
        let catch_up = behind.min(CATCH_UP_TICKS_MAX);
        if behind > 0 {
            self.counters.tick_overruns += 1;
            self.counters.ticks_skipped += u64::from(behind - catch_up);
        }
        e.clock.next = deadline + TICK * (behind + 1);
        for j in 0..=catch_up {
            // Missed deadlines first; the skipped ones are the oldest.
            let at = deadline + TICK * (behind - catch_up + j);
            if !self.run_room(i, at) {
                break;
            }
        }
    }

    /// Mixes room `i` for the tick due at `deadline` and sends its outputs.
    /// Returns whether the room is still active.
    fn run_room(&mut self, i: usize, deadline: Instant) -> bool {
        let late_after = deadline + self.late_output;
        let Some(entry) = self.rooms[i].as_mut() else {
            return false;
        };
        let started = Instant::now();
        entry.room.tick(started);
        self.counters.room_ticks += 1;
        let sent_at = Instant::now();
        let late = sent_at > late_after;
        let mut recorded = [(ParticipantId(0), 0u16); SPEAKERS_LIMIT];
        let mut recorded_len = 0;
        for out in entry.room.outputs() {
            self.counters.frames_out += 1;
            if late {
                self.counters.late_frames += 1;
            }
            let Some(m) = entry.members.iter_mut().find(|m| m.id == out.participant) else {
                continue;
            };
            match net::send_gather(m.sockets.rtp_fd, &[out.header, out.payload], &m.remote_rtp) {
                Ok(_) => {
                    self.counters.tx_packets += 1;
                    m.packets_sent += 1;
                    m.octets_sent += out.payload.len() as u64;
                    if out.header.len() >= 8 {
                        let h = out.header;
                        m.last_out = Some((sent_at, u32::from_be_bytes([h[4], h[5], h[6], h[7]])));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.counters.tx_would_block += 1
                }
                Err(_) => self.counters.tx_errors += 1,
            }
            // Engine-added latency: arrival → send of the first mix
            // containing the frame (each frame counted once).
            for c in out.contributions.iter() {
                let key = (c.participant, c.seq);
                if recorded[..recorded_len].contains(&key) || recorded_len == recorded.len() {
                    continue;
                }
                recorded[recorded_len] = key;
                recorded_len += 1;
                self.latency
                    .record(sent_at.saturating_duration_since(c.arrival));
            }
        }
        // What this room's tick costs, for placing rooms that wake later.
        let took = Instant::now().saturating_duration_since(started).as_nanos() as u64;
        entry.clock.work_ns = if entry.clock.work_ns == 0 {
            took
        } else {
            (entry.clock.work_ns * 7 + took) / 8
        };
        let members = entry.members.len().max(1) as u64;
        self.room_ns_per_member = (self.room_ns_per_member * 15 + took / members) / 16;
        if entry.room.is_idle() {
            entry.active = false;
            self.active_rooms -= 1;
            return false;
        }
        true
    }

    /// Every active room ticks once at `deadline`, whatever its phase (tests
    /// drive the shard without a timer).
    #[cfg(test)]
    pub(crate) fn run_tick(&mut self, deadline: Instant) {
        for i in 0..self.rooms.len() {
            if self.rooms[i].as_ref().is_some_and(|e| e.active) {
                self.run_room(i, deadline);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;
    use std::rc::Rc;
    use std::sync::Arc;

    use media_core::codec::{CodecConfig, OpusConfig};
    use media_core::mixer::{MixerConfig, ParticipantConfig};

    use super::*;
    use crate::api::{ParticipantSpec, RoomId};
    use crate::config::EngineConfig;
    use crate::shard::bell::LocalBell;
    use crate::shard::state::{MemberSockets, PortKind};
    use crate::sim::{SignalSource, SimSender, ToneSource};

    /// A shard with `rooms` rooms of one member each; returns the sockets
    /// (kept open) and one Opus packet per member.
    fn shard(rooms: u32) -> (ShardState, Vec<UdpSocket>, Vec<Vec<u8>>) {
        let config = Arc::new(EngineConfig::default());
        let mut st = ShardState::new(0, config, Rc::new(LocalBell::default()));
        let opus = CodecConfig::Opus(OpusConfig::default());
        let mut sockets = Vec::new();
        let mut packets = Vec::new();
        for r in 0..rooms {
            st.create_room(RoomId(r), MixerConfig::default())
                .expect("room");
            let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
            let id = ParticipantId(r);
            let mut spec = ParticipantSpec::new(id, opus, s.local_addr().expect("addr"));
            spec.ssrc = Some(0x100 + r);
            let pc = ParticipantConfig::new(id, opus, spec.payload_type, 0x200 + r);
            let fds = MemberSockets {
                rtp_fd: s.as_raw_fd(),
                rtcp_fd: s.as_raw_fd(),
            };
            st.add_participant(RoomId(r), pc, spec, 0, fds)
                .expect("add");
            let tone = SignalSource::Tone(ToneSource::new(440.0, 5000));
            let mut sender = SimSender::new(opus, tone, 0x100 + r).expect("sender");
            let mut buf = vec![0u8; 1500];
            let n = sender.next_packet(&mut buf).expect("packet");
            buf.truncate(n);
            packets.push(buf);
            sockets.push(s);
        }
        (st, sockets, packets)
    }

    fn wake(
        st: &mut ShardState,
        sockets: &[UdpSocket],
        packets: &[Vec<u8>],
        r: usize,
        at: Instant,
    ) {
        let from = sockets[r].local_addr().expect("addr");
        let index = st.room_slot(RoomId(r as u32)).expect("room");
        st.on_datagram(
            at,
            index,
            ParticipantId(r as u32),
            PortKind::Rtp,
            from,
            &packets[r],
        );
    }

    fn next(st: &ShardState, r: u32) -> Instant {
        let index = st.room_slot(RoomId(r)).expect("room");
        st.rooms[index].as_ref().expect("room").clock.next
    }

    #[test]
    fn a_waking_room_ticks_just_after_its_packet_arrived() {
        let (mut st, sockets, packets) = shard(1);
        // Seen as it arrives (the clock is read at waking: an arrival
        // ahead of it stands for a packet seen at once).
        let arrival = Instant::now() + Duration::from_millis(100);
        wake(&mut st, &sockets, &packets, 0, arrival);
        assert_eq!(st.active_rooms(), 1);
        assert_eq!(st.next_deadline(), None, "placed once the batch is in");
        st.place_woken(Instant::now());
        let d = next(&st, 0).duration_since(arrival);
        // The margin, then the next 0.5 ms grid point.
        assert!(
            d >= WAKE_MARGIN && d < WAKE_MARGIN + Duration::from_micros(500),
            "deadline {d:?} after arrival"
        );
        assert_eq!(st.next_deadline(), Some(next(&st, 0)));
    }

    #[test]
    fn rooms_waking_together_get_their_own_deadlines() {
        let (mut st, sockets, packets) = shard(4);
        // Rooms that each take 1.5 ms: four at one deadline would send the
        // last one 4.5 ms after it.
        st.room_ns_per_member = 1_500_000;
        let arrival = Instant::now() + Duration::from_millis(100);
        for r in 0..4 {
            wake(&mut st, &sockets, &packets, r, arrival);
        }
        st.place_woken(Instant::now());
        let mut deadlines: Vec<Duration> = (0..4)
            .map(|r| next(&st, r).duration_since(arrival))
            .collect();
        deadlines.sort();
        assert!(
            deadlines[0] < WAKE_MARGIN + Duration::from_micros(500),
            "the first right after the margin: {deadlines:?}"
        );
        for pair in deadlines.windows(2) {
            assert!(
                pair[1] > pair[0],
                "each its own deadline, one after the other: {deadlines:?}"
            );
        }
        assert!(
            deadlines[3] <= WAKE_MARGIN + Duration::from_millis(5),
            "packed behind each other, not spread over the period: {deadlines:?}"
        );
    }

    #[test]
    fn a_room_seen_late_ticks_before_its_waking_members_second_frame() {
        let (mut st, sockets, packets) = shard(1);
        // An idle shard looks once per period: the packet came 12 ms ago.
        let arrival = Instant::now() - Duration::from_millis(12);
        wake(&mut st, &sockets, &packets, 0, arrival);
        let seen = Instant::now();
        st.place_woken(seen);
        let d = next(&st, 0);
        assert!(
            d >= seen,
            "not in the past: it would play frames that came after it early"
        );
        assert!(
            d <= arrival + TICK - WAKE_MARGIN,
            "before the waking member's second frame: {:?} after arrival",
            d.duration_since(arrival)
        );
    }

    #[test]
    fn a_period_after_waking_the_tick_moves_away_from_a_member_next_to_it() {
        let (mut st, sockets, packets) = shard(2);
        // Room 0's member came 30 ms ago, and was seen then.
        let arrival = Instant::now() - Duration::from_millis(30);
        wake(&mut st, &sockets, &packets, 0, arrival);
        st.place_room(0, arrival, arrival);
        let first = next(&st, 0);
        // A second member is heard 0.4 ms before that grid point's next
        // turn: its frames would land next to the tick.
        let index = st.room_slot(RoomId(0)).expect("room");
        let entry = st.rooms[index].as_mut().expect("room");
        entry.members[0].last_rx = Some(first + TICK - Duration::from_micros(400));
        let deadline = first + TICK * 2;
        let moved = st.settle_room(index, deadline, first + TICK + Duration::from_millis(1));
        assert!(moved > deadline, "later, never earlier");
        assert!(
            moved.duration_since(deadline) >= Duration::from_micros(2_000)
                && moved.duration_since(deadline) <= Duration::from_millis(3),
            "just clear of the member: {:?}",
            moved.duration_since(deadline)
        );
        assert_eq!(st.counters.ticks_moved, 1);
        // Clear of every member: it stays.
        let again = st.settle_room(index, moved, moved);
        assert_eq!(again, moved);
        assert_eq!(st.counters.ticks_moved, 1);
    }

    #[test]
    fn a_first_tick_run_late_runs_once_then_keeps_its_phase() {
        let (mut st, sockets, packets) = shard(1);
        wake(&mut st, &sockets, &packets, 0, Instant::now());
        st.place_woken(Instant::now());
        let index = st.room_slot(RoomId(0)).expect("room");
        // The task came 35 ms after the first deadline.
        let phase = Instant::now() - Duration::from_millis(35);
        st.rooms[index].as_mut().expect("room").clock.next = phase;
        st.run_due(|_| {});
        assert_eq!(st.counters.room_ticks, 1, "one tick, no catch-up");
        assert_eq!(st.counters.tick_overruns, 0);
        // Not counted late for the 35 ms (whether its frames are depends on
        // how long the tick itself took, which a busy machine decides).
        assert_eq!(st.counters.late_ticks, 0);
        let after = next(&st, 0);
        assert!(after > Instant::now() - Duration::from_millis(1));
        let steps = after.duration_since(phase).as_nanos() % TICK.as_nanos();
        assert_eq!(steps, 0, "the next deadline is on the room's own grid");
    }

    #[test]
    fn a_room_that_missed_deadlines_catches_up_two_and_skips_the_rest() {
        let (mut st, sockets, packets) = shard(1);
        let arrival = Instant::now() - Duration::from_millis(200);
        wake(&mut st, &sockets, &packets, 0, arrival);
        st.place_woken(Instant::now());
        let index = st.room_slot(RoomId(0)).expect("room");
        let clock = &mut st.rooms[index].as_mut().expect("room").clock;
        clock.fresh = false;
        clock.settle_at = None;
        // Five deadlines have passed (the oldest 90 ms ago).
        clock.next = Instant::now() - Duration::from_millis(90);
        st.run_due(|_| {});
        assert_eq!(st.counters.tick_overruns, 1);
        assert_eq!(st.counters.ticks_skipped, 2, "beyond the two caught up");
        assert_eq!(st.counters.room_ticks, 3, "two missed ticks and this one");
        assert_eq!(st.counters.late_ticks, 1);
        assert!(next(&st, 0) > Instant::now() - Duration::from_millis(1));
    }
}
