//! The generator's real-time loop: every 20 ms each guardian sends its next
//! packet (now, or later when the impairment delays it, or never when it is
//! lost); between sends, `poll(2)` waits on every guardian's socket so each
//! mix packet is timestamped the moment it arrives.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use media_core::codec::FRAME_SAMPLES;

use super::guardian::{LoadGuardian, MarkerSent};
use crate::impair::Fate;

/// One frame interval.
pub const FRAME: Duration = Duration::from_millis(20);
/// Send slots per frame the guardians are spread over.
const PHASES: usize = 4;

/// A packet the impairment holds back.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Delayed {
    release: Duration,
    guardian: usize,
    bytes: Vec<u8>,
}

/// What the loop saw besides each guardian's own statistics.
#[derive(Debug, Default)]
pub struct LoopOutcome {
    /// Markers sent after warm-up.
    pub markers: Vec<MarkerSent>,
    /// Send errors (e.g. the engine's port closed).
    pub send_errors: u64,
    /// Ticks where the generator fell behind by more than a frame.
    pub generator_late_ticks: u64,
}

/// Runs the guardians for `ticks` frames from `epoch`; the first
/// `warmup_ticks` are not measured. `on_second` is called once per second
/// with the tick index (progress output, CPU sampling).
pub fn run_loop(
    guardians: &mut [LoadGuardian],
    room_size: usize,
    talkers: usize,
    epoch: Instant,
    ticks: u64,
    warmup_ticks: u64,
    mut on_second: impl FnMut(u64, &[LoadGuardian]),
) -> io::Result<LoopOutcome> {
    let mut outcome = LoopOutcome::default();
    let mut delayed: BinaryHeap<Reverse<Delayed>> = BinaryHeap::new();
    let mut fds: Vec<libc::pollfd> = guardians
        .iter()
        .map(|g| libc::pollfd {
            fd: g.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let mut packet = [0u8; 1500];
    let mut pcm = [0i16; FRAME_SAMPLES];

    for k in 0..ticks {
        let tick_at = FRAME * k as u32;
        receive_until(
            guardians,
            &mut fds,
            &mut delayed,
            epoch,
            tick_at,
            &mut pcm,
            &mut outcome,
        )?;
        if epoch.elapsed() > tick_at + FRAME {
            outcome.generator_late_ticks += 1;
        }
        if k == warmup_ticks {
            for g in guardians.iter_mut() {
                g.rx = super::rx::RxStats::new(g.codec.clock_rate_hz());
            }
        }
        // Real terminals' 20 ms clocks are not in phase with each other or
        // with the engine's tick: spread the guardians over PHASES send
        // slots per frame so the wait for the next tick is measured over
        // the whole frame, not at one lucky or unlucky phase.
        for phase in 0..PHASES {
            if phase > 0 {
                receive_until(
                    guardians,
                    &mut fds,
                    &mut delayed,
                    epoch,
                    tick_at + FRAME * phase as u32 / PHASES as u32,
                    &mut pcm,
                    &mut outcome,
                )?;
            }
            for (i, g) in guardians.iter_mut().enumerate() {
                if i % PHASES != phase {
                    continue;
                }
                let Some(to) = g.engine_addr else { continue };
                let talking = g.is_talking(k, room_size, talkers);
                let (len, is_marker) = match g.packet(k, talking, &mut packet) {
                    Ok(v) => v,
                    Err(_) => continue,
                };
                if is_marker && k >= warmup_ticks {
                    outcome.markers.push(MarkerSent {
                        room: g.room,
                        guardian: g.index,
                        mouth: epoch.elapsed().saturating_sub(FRAME),
                    });
                }
                g.sent += 1;
                match g.fate() {
                    Fate::Drop => {}
                    Fate::Deliver(d) if d.is_zero() => {
                        if g.socket.send_to(&packet[..len], to).is_err() {
                            outcome.send_errors += 1;
                        }
                    }
                    Fate::Deliver(d) => delayed.push(Reverse(Delayed {
                        release: epoch.elapsed() + d,
                        guardian: i,
                        bytes: packet[..len].to_vec(),
                    })),
                }
            }
        }
        if (k + 1) % 50 == 0 {
            if k >= warmup_ticks {
                for g in guardians.iter_mut() {
                    g.rx.end_second();
                }
            }
            on_second(k + 1, guardians);
        }
    }
    // Let the last mixes arrive.
    let end = FRAME * ticks as u32 + Duration::from_millis(200);
    receive_until(
        guardians,
        &mut fds,
        &mut delayed,
        epoch,
        end,
        &mut pcm,
        &mut outcome,
    )?;
    Ok(outcome)
}

/// Receives (and releases delayed packets) until `deadline` after `epoch`.
fn receive_until(
    guardians: &mut [LoadGuardian],
    fds: &mut [libc::pollfd],
    delayed: &mut BinaryHeap<Reverse<Delayed>>,
    epoch: Instant,
    deadline: Duration,
    pcm: &mut [i16; FRAME_SAMPLES],
    outcome: &mut LoopOutcome,
) -> io::Result<()> {
    let mut buf = [0u8; 2048];
    loop {
        let now = epoch.elapsed();
        while let Some(Reverse(d)) = delayed.peek() {
            if d.release > now {
                break;
            }
            let Some(Reverse(d)) = delayed.pop() else {
                break;
            };
            let g = &guardians[d.guardian];
            if let Some(to) = g.engine_addr {
                if g.socket.send_to(&d.bytes, to).is_err() {
                    outcome.send_errors += 1;
                }
            }
        }
        if now >= deadline {
            return Ok(());
        }
        let mut wake = deadline;
        if let Some(Reverse(d)) = delayed.peek() {
            wake = wake.min(d.release);
        }
        let wait = wake.saturating_sub(now);
        // poll(2) takes whole milliseconds; round up so we never spin.
        let timeout_ms = wait.as_micros().div_ceil(1000).min(1000) as libc::c_int;
        // SAFETY: `fds` is a valid, initialised slice of pollfd for its length.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if ready < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if ready == 0 {
            continue;
        }
        for (i, fd) in fds.iter_mut().enumerate() {
            if fd.revents & libc::POLLIN == 0 {
                continue;
            }
            fd.revents = 0;
            let g = &mut guardians[i];
            loop {
                match g.socket.recv_from(&mut buf) {
                    Ok((n, _)) => {
                        let arrival = epoch.elapsed();
                        g.on_datagram(arrival, &buf[..n], pcm);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => break,
                }
            }
        }
    }
}
