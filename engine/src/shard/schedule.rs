//! Where in the 20 ms period each room's tick sits.
//!
//! Every room ticks every 20 ms, but not all at the same instant: each has
//! its own phase on a 0.5 ms grid, chosen when the room wakes up (its first
//! packet after being idle) and kept while it stays active. Two things
//! decide the phase:
//!
//! - **the waking packet's arrival**: the tick should come just after the
//!   frames arrive (plus a small margin for arrival jitter), not up to a
//!   whole period later;
//! - **the work already placed on the grid**: rooms are mixed one after
//!   another, so a room placed where others already are waits for their
//!   work. With one common deadline a 300-guardian shard sent its last
//!   rooms 13 ms after the deadline (11.7 % late frames); spread over the
//!   grid, each room's send follows its own deadline closely.
//!
//! The choice minimises the expected delay from arrival to the start of the
//! room's mix: the wait for the slot plus the backlog of work queued there.
//! Plain arithmetic on nanoseconds; no clock is read here.

/// Phase slots per period (0.5 ms apart for the 20 ms tick: fine enough
/// that the margin after an arrival is not rounded up by much).
pub(crate) const SLOTS: usize = 40;

/// Expected work of each slot: the sum of the active rooms' tick costs
/// whose phase is that slot, in nanoseconds.
pub(crate) type SlotWork = [u64; SLOTS];

/// A deadline closer than this to a member's arrival time, on either side,
/// costs as much as this much more waiting per ns closer (`GUARD_WEIGHT`):
/// that member's arrival jitter would make some frames miss their tick
/// (concealed, and a frame more delay until a quiet frame gives it back)
/// and others make the tick before.
pub(crate) const GUARD_NS: u64 = 2_500_000;
/// See [`GUARD_NS`].
pub(crate) const GUARD_WEIGHT: u64 = 4;

/// Queueing behind other rooms costs this many times as much as waiting
/// for a later slot. For the frames both are the same delay; but a room
/// that starts long after its deadline is counted late and leaves less
/// room for a stall, while a room that waits for its own later deadline
/// does not — so between the two, wait.
pub(crate) const BACKLOG_WEIGHT: u64 = 2;

/// A slot no room uses yet costs as much as this much more waiting: each
/// deadline in use is a timer wake-up and a ring drain per period, so rooms
/// share deadlines unless that delays them more.
pub(crate) const NEW_WAKE_COST_NS: u64 = 1_000_000;

/// What is already on the grid, per slot.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    /// Active rooms placed there.
    pub(crate) rooms: [u32; SLOTS],
    /// Their expected tick cost, ns.
    pub(crate) work: SlotWork,
    /// The waking room's members whose frames arrive in that slot.
    pub(crate) arrivals: [u32; SLOTS],
}

/// Picks the slot for a room that wakes up now.
///
/// `earliest_ns` is the earliest acceptable deadline as an offset into the
/// period, and the deadline should come at most `window_ns` after it;
/// `period_ns` is the tick period; `grid` the rooms already placed and the
/// waking room's members' arrival times; `own_ns` the waking room's cost.
/// Returns the slot index: its phase is `slot * period_ns / SLOTS`. When no
/// slot falls in the window (it is shorter than a slot), every slot is a
/// candidate.
///
/// The cost of a slot is the room's own delay from arrival to the start of
/// its mix (the wait for the slot, then the backlog before it and the rooms
/// already in it) plus what its work adds to the start of every room after
/// it, with queueing weighted [`BACKLOG_WEIGHT`] times: a room's deadline
/// should say when it is really mixed. A slot close to a member's arrival
/// time costs extra (see [`GUARD_NS`]), and so does a slot no room uses yet
/// ([`NEW_WAKE_COST_NS`]).
pub(crate) fn choose_slot(
    earliest_ns: u64,
    window_ns: u64,
    period_ns: u64,
    grid: &Grid,
    own_ns: u64,
) -> usize {
    let (rooms, work) = (&grid.rooms, &grid.work);
    let slot_ns = period_ns / SLOTS as u64;
    let backlog = backlogs(period_ns, work);
    let earliest = earliest_ns % period_ns;
    let mut best = (u64::MAX, u64::MAX, 0);
    let mut with = *work;
    let any_in_window = window_ns >= slot_ns;
    for s in 0..SLOTS {
        let at = s as u64 * slot_ns;
        let wait = (at + period_ns - earliest) % period_ns;
        if any_in_window && wait > window_ns {
            continue;
        }
        let behind = backlog[s] + work[s];
        with[s] += own_ns;
        let after = backlogs(period_ns, &with);
        with[s] -= own_ns;
        let pushed: u64 = (0..SLOTS)
            .filter(|&t| t != s)
            .map(|t| u64::from(rooms[t]) * (after[t] - backlog[t]))
            .sum();
        let opens = if rooms[s] == 0 { NEW_WAKE_COST_NS } else { 0 };
        let cost = wait
            + BACKLOG_WEIGHT * (behind + pushed)
            + guard_cost(s, slot_ns, period_ns, &grid.arrivals)
            + opens;
        if (cost, behind) < (best.0, best.1) {
            best = (cost, behind, s);
        }
    }
    best.2
}

/// What placing the deadline at slot `s` costs for arrival jitter: for each
/// member arriving closer than [`GUARD_NS`], how much closer, weighted.
fn guard_cost(s: usize, slot_ns: u64, period_ns: u64, arrivals: &[u32; SLOTS]) -> u64 {
    let at = s as u64 * slot_ns;
    let mut cost = 0;
    for (a, &n) in arrivals.iter().enumerate() {
        if n == 0 {
            continue;
        }
        // Arrivals are known to the slot: take its middle.
        let arrival = a as u64 * slot_ns + slot_ns / 2;
        let d = at.abs_diff(arrival);
        let d = d.min(period_ns - d);
        cost += u64::from(n) * GUARD_NS.saturating_sub(d) * GUARD_WEIGHT;
    }
    cost
}

/// For each slot, how long after its own time work placed there starts:
/// the earlier slots' work that has not finished yet. The grid is a circle
/// (the last slot's work spills into the next period's first slots), so the
/// walk goes round twice and keeps the second lap.
pub(crate) fn backlogs(period_ns: u64, work: &SlotWork) -> [u64; SLOTS] {
    let slot_ns = period_ns / SLOTS as u64;
    let mut out = [0u64; SLOTS];
    // Finish time of the work so far, relative to the start of the lap.
    let mut finish: u64 = 0;
    for lap in 0..2u64 {
        for (s, w) in work.iter().enumerate() {
            let at = lap * period_ns + s as u64 * slot_ns;
            let start = finish.max(at);
            if lap == 1 {
                out[s] = start - at;
            }
            finish = start + w;
        }
    }
    out
}

/// The next deadline on a room's grid at or after `offset_ns` (an offset
/// from the shard's epoch): `phase_ns + k * period_ns` for the smallest
/// such `k`.
pub(crate) fn next_on_grid(offset_ns: u128, phase_ns: u64, period_ns: u64) -> u128 {
    let period = u128::from(period_ns);
    let phase = u128::from(phase_ns);
    if offset_ns <= phase {
        return phase;
    }
    let k = (offset_ns - phase).div_ceil(period);
    phase + k * period
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: u64 = 20_000_000;
    const MS: u64 = 1_000_000;

    const ROOM: u64 = 550_000;

    fn grid(rooms: &[u32; SLOTS], work: &SlotWork) -> Grid {
        Grid {
            rooms: *rooms,
            work: *work,
            arrivals: [0; SLOTS],
        }
    }

    /// The slot at `ns` into the period.
    fn slot(ns: u64) -> usize {
        (ns / (P / SLOTS as u64)) as usize
    }

    #[test]
    fn an_empty_grid_puts_the_tick_just_after_the_arrival() {
        let (rooms, work) = ([0; SLOTS], [0; SLOTS]);
        assert_eq!(
            choose_slot(3 * MS + 1, P, P, &grid(&rooms, &work), ROOM),
            slot(3_500_000)
        );
        assert_eq!(
            choose_slot(3 * MS, P, P, &grid(&rooms, &work), ROOM),
            slot(3 * MS)
        );
        // Past the last slot the next period's first slot is the nearest.
        assert_eq!(
            choose_slot(19 * MS + 600_000, P, P, &grid(&rooms, &work), ROOM),
            0
        );
    }

    #[test]
    fn work_already_at_the_arrival_pushes_the_room_to_a_later_slot() {
        let (mut rooms, mut work) = ([0; SLOTS], [0; SLOTS]);
        // 3.5 ms of rooms at 2 ms: what is placed at 3 ms starts 2.5 ms
        // late, at 5 ms 0.5 ms late, at 5.5 ms on time.
        rooms[slot(2 * MS)] = 7;
        work[slot(2 * MS)] = 3_500_000;
        let b = backlogs(P, &work);
        assert_eq!(b[slot(2 * MS)], 0);
        assert_eq!(b[slot(3 * MS)], 2_500_000);
        assert_eq!(b[slot(5 * MS)], 500_000);
        assert_eq!(b[slot(5_500_000)], 0);
        // Arriving at 2 ms, the room starts at 5.5 ms at the earliest (after
        // the rooms at 2 ms), from any slot up to 5.5 ms; the one at 5.5 ms
        // is the one it starts closest to.
        assert_eq!(
            choose_slot(2 * MS, P, P, &grid(&rooms, &work), ROOM),
            slot(5_500_000)
        );
        // Arriving at 5.8 ms, 6 ms (on time) beats waiting behind them.
        assert_eq!(
            choose_slot(5_800_000, P, P, &grid(&rooms, &work), ROOM),
            slot(6 * MS)
        );
    }

    #[test]
    fn rooms_waking_together_spread_over_the_grid() {
        let (mut rooms, mut work) = ([0; SLOTS], [0; SLOTS]);
        // Rooms of 12 at 300 guardians per core.
        let mut starts = Vec::new();
        for _ in 0..25 {
            let s = choose_slot(MS, P, P, &grid(&rooms, &work), ROOM);
            starts.push(s);
            rooms[s] += 1;
            work[s] += ROOM;
        }
        let b = backlogs(P, &work);
        let worst = (0..SLOTS)
            .filter(|&s| work[s] > 0)
            .map(|s| b[s] + work[s])
            .max()
            .unwrap_or(0);
        assert!(
            worst < 2 * MS,
            "every room sends within 2 ms of its own deadline: {worst} ns, {starts:?}"
        );
    }

    #[test]
    fn the_deadline_stays_inside_the_window() {
        let (mut rooms, mut work) = ([0; SLOTS], [0; SLOTS]);
        rooms[slot(2 * MS)] = 7;
        work[slot(2 * MS)] = 3_500_000;
        // Unbounded it would go to 5.5 ms (see above); within 1 ms of 2 ms
        // it starts after the rooms at 2 ms all the same, from 3 ms.
        assert_eq!(
            choose_slot(2 * MS, MS, P, &grid(&rooms, &work), ROOM),
            slot(3 * MS)
        );
        // A window shorter than a slot does not restrict.
        assert_eq!(
            choose_slot(2 * MS, 100_000, P, &grid(&rooms, &work), ROOM),
            slot(5_500_000)
        );
    }

    #[test]
    fn the_deadline_keeps_clear_of_the_members_arrivals() {
        let (rooms, work) = ([0; SLOTS], [0; SLOTS]);
        // Members arrive at 0, 5, 10 and 15 ms; the first one woke the room.
        let mut g = grid(&rooms, &work);
        for ms in [0, 5, 10, 15] {
            g.arrivals[slot(ms * MS)] += 3;
        }
        // Right after the margin (2.5 ms) is as far from 0 and 5 as can be.
        assert_eq!(
            choose_slot(2_500_000, 15 * MS, P, &g, ROOM),
            slot(2_500_000)
        );
        // Seen at 4 ms, the next clear point is 7.5 ms, not 4 ms (1 ms
        // before the members at 5 ms).
        assert_eq!(choose_slot(4 * MS, 13 * MS, P, &g, ROOM), slot(7_500_000));
    }

    #[test]
    fn a_room_joins_a_deadline_in_use_rather_than_wake_the_shard_once_more() {
        let (mut rooms, mut work) = ([0; SLOTS], [0; SLOTS]);
        rooms[slot(3 * MS)] = 1;
        work[slot(3 * MS)] = 100_000;
        // 2.5 ms would be 0.5 ms sooner, but it is one more wake-up a period.
        assert_eq!(
            choose_slot(2_500_000, P, P, &grid(&rooms, &work), ROOM),
            slot(3 * MS)
        );
        // Not when it means queueing long behind it.
        work[slot(3 * MS)] = 2 * MS;
        assert_eq!(
            choose_slot(2_500_000, P, P, &grid(&rooms, &work), ROOM),
            slot(2_500_000)
        );
    }

    #[test]
    fn work_that_wraps_past_the_period_delays_the_first_slots() {
        let mut work = [0; SLOTS];
        work[slot(19 * MS)] = 3 * MS;
        let b = backlogs(P, &work);
        assert_eq!(b[0], 2 * MS);
        assert_eq!(b[slot(MS)], MS);
        assert_eq!(b[slot(2 * MS)], 0);
    }

    #[test]
    fn grid_points() {
        assert_eq!(next_on_grid(0, 5 * MS, P), u128::from(5 * MS));
        assert_eq!(
            next_on_grid(u128::from(5 * MS), 5 * MS, P),
            u128::from(5 * MS)
        );
        assert_eq!(
            next_on_grid(u128::from(5 * MS) + 1, 5 * MS, P),
            u128::from(25 * MS)
        );
        assert_eq!(
            next_on_grid(u128::from(70 * MS), 5 * MS, P),
            u128::from(85 * MS)
        );
    }
}
