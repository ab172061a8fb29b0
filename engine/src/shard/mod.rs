//! One media shard: a glommio executor pinned to one core, owning its rooms,
//! their participants' sockets and everything on the media path.
//!
//! Task queues sharing the core:
//! - `tick` (latency matters): the drift-free 20 ms mixing ticks, each
//!   room at its own phase (`schedule.rs`). With the receive ring
//!   (`[media] receive = "ring"`, the default) each wake-up first reaps
//!   every datagram that arrived since the last one in one batch
//!   (`rx::RingReceiver::drain`), then mixes the rooms due. While every room is idle it
//!   only peeks at the ring once per tick period, and a shard with no
//!   participants parks fully: no timer at all;
//! - `rx` (latency matters, `receive = "per-socket"` only): one glommio
//!   receive task per participant socket;
//! - `control` (low share, latency does not matter): commands from the
//!   control plane, stats snapshots, RTCP sender reports and media timeouts.
//!
//! State is single-threaded (`Rc<RefCell<ShardState>>`); no task holds the
//! borrow across an `.await`.

mod bell;
mod cap;
mod rx;
mod schedule;
mod state;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use glommio::{Latency, LocalExecutorBuilder, Placement, Shares};
use media_core::codec::FRAME_MS;
use media_core::mixer::{MixerConfig, ParticipantConfig, ParticipantId};

pub(crate) use bell::Doorbell;
use bell::LocalBell;
use state::{PortKind, ShardState};

use crate::api::{EngineError, ParticipantSpec, RoomId};
use crate::config::{EngineConfig, ReceiveMode};
use crate::stats::ShardReport;
use rx::RingReceiver;

/// The mixing period.
pub(crate) const TICK: Duration = Duration::from_millis(FRAME_MS as u64);
/// Receive buffer per socket: larger datagrams are truncated (and then
/// refused by the RTP parser), which no audio packet comes near.
const RECV_BUF_BYTES: usize = 2048;

/// The answer to a control command.
pub(crate) type Reply = mpsc::SyncSender<Result<(), EngineError>>;

/// Control → shard commands.
#[derive(Debug)]
pub(crate) enum Command {
    CreateRoom {
        room: RoomId,
        mixer: MixerConfig,
        reply: Reply,
    },
    DestroyRoom {
        room: RoomId,
        reply: Reply,
    },
    AddParticipant(Box<AddParticipant>),
    RemoveParticipant {
        room: RoomId,
        id: ParticipantId,
        reply: Reply,
    },
    SetMuted {
        room: RoomId,
        id: ParticipantId,
        muted: bool,
        reply: Reply,
    },
    SetBitrateCap {
        room: RoomId,
        id: ParticipantId,
        bitrate_cap_bps: u32,
        reply: Reply,
    },
    /// Push a report now, tagged `seq`.
    Report {
        seq: u64,
    },
    /// Push a final report and stop the executor.
    Stop,
}

/// Everything needed to add a participant; the sockets are bound already.
#[derive(Debug)]
pub(crate) struct AddParticipant {
    pub(crate) room: RoomId,
    pub(crate) config: ParticipantConfig,
    pub(crate) spec: ParticipantSpec,
    pub(crate) bitrate_cap_bps: u32,
    pub(crate) rtp: std::net::UdpSocket,
    pub(crate) rtcp: std::net::UdpSocket,
    pub(crate) reply: Reply,
}

/// The two bounded lock-free queues between the control plane and a shard.
#[derive(Debug)]
pub(crate) struct ShardLink {
    pub(crate) commands: ArrayQueue<Command>,
    pub(crate) doorbell: Doorbell,
    pub(crate) reports: ArrayQueue<ShardReport>,
    pub(crate) reports_dropped: AtomicU64,
    /// Commands refused because `commands` was full (counted by the
    /// control plane, which is the side that sees the refusal).
    pub(crate) commands_refused: AtomicU64,
}

impl ShardLink {
    pub(crate) fn new(config: &EngineConfig) -> Self {
        Self {
            commands: ArrayQueue::new(config.queues.commands_max),
            doorbell: Doorbell::default(),
            reports: ArrayQueue::new(config.queues.reports_max),
            reports_dropped: AtomicU64::new(0),
            commands_refused: AtomicU64::new(0),
        }
    }
}

/// Starts shard `index` on its own thread and returns once its executor
/// runs (or with the reason it could not start).
pub(crate) fn spawn(
    index: usize,
    config: Arc<EngineConfig>,
    link: Arc<ShardLink>,
) -> Result<JoinHandle<()>, EngineError> {
    let cpu = config.shard_cpu(index);
    let (started_tx, started_rx) = mpsc::sync_channel::<Result<(), EngineError>>(1);
    let thread = std::thread::Builder::new()
        .name(format!("shard-{index}"))
        .spawn(move || {
            let placement = if config.shards.pin {
                Placement::Fixed(cpu)
            } else {
                Placement::Unbound
            };
            let executor = LocalExecutorBuilder::new(placement)
                .name(&format!("shard-{index}"))
                .io_memory(config.shards.io_memory_kib * 1024)
                .ring_depth(config.shards.ring_depth)
                .make();
            match executor {
                Err(e) => {
                    let _ = started_tx.send(Err(classify_start_error(index, cpu, &config, e)));
                }
                Ok(executor) => {
                    // The receive ring is made on this thread: it is
                    // single-issuer, and must fail here, at start.
                    let ring = match config.media.receive {
                        ReceiveMode::PerSocket => None,
                        ReceiveMode::Ring => match RingReceiver::new(&config) {
                            Ok(ring) => Some(ring),
                            Err(e) => {
                                let _ = started_tx.send(Err(ring_start_error(index, e)));
                                return;
                            }
                        },
                    };
                    let _ = started_tx.send(Ok(()));
                    executor.run(run_shard(index, config, link, ring));
                }
            }
        })
        .map_err(|e| EngineError::ShardStart {
            shard: index,
            cpu,
            reason: e.to_string(),
        })?;
    match started_rx.recv() {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(EngineError::ShardStart {
                shard: index,
                cpu,
                reason: "thread died while starting".into(),
            })
        }
    }
}

fn ring_start_error(shard: usize, e: std::io::Error) -> EngineError {
    let mut reason =
        format!("receive ring: {e}; set [media] receive = \"per-socket\" to run without it");
    if e.raw_os_error() == Some(libc::ENOMEM) {
        reason.push_str(" (or raise RLIMIT_MEMLOCK: `ulimit -l`)");
    }
    if let Some(v) = crate::net::io_uring_disabled().filter(|v| *v > 0) {
        reason.push_str(&format!("; kernel.io_uring_disabled = {v}"));
    }
    EngineError::IoUringUnavailable { shard, reason }
}

fn classify_start_error<T>(
    shard: usize,
    cpu: usize,
    config: &EngineConfig,
    e: glommio::GlommioError<T>,
) -> EngineError {
    let reason = e.to_string();
    if let glommio::GlommioError::ReactorError(glommio::ReactorErrorKind::MemLockLimit(
        have,
        need,
    )) = &e
    {
        return EngineError::Memlock {
            shard,
            limit: format!("{} KiB", have / 1024),
            io_memory_kib: config.shards.io_memory_kib,
            reason: format!("glommio needs at least {} KiB", need / 1024),
        };
    }
    // glommio refuses to start below 512 KiB of RLIMIT_MEMLOCK and reports
    // it wrapped in an io::Error carrying only this text.
    if reason.contains("MemLockLimit") {
        let limit = match crate::net::memlock_limit().0 {
            Some(bytes) => format!("{} KiB", bytes / 1024),
            None => "unlimited".into(),
        };
        return EngineError::Memlock {
            shard,
            limit,
            io_memory_kib: config.shards.io_memory_kib,
            reason,
        };
    }
    let errno = match &e {
        glommio::GlommioError::IoError(io) => io.raw_os_error(),
        glommio::GlommioError::EnhancedIoError { source, .. } => source.raw_os_error(),
        _ => None,
    };
    match errno {
        Some(libc::ENOMEM) => {
            let (soft, _) = crate::net::memlock_limit();
            let limit = match soft {
                Some(bytes) => format!("{} KiB", bytes / 1024),
                None => "unlimited".into(),
            };
            EngineError::Memlock {
                shard,
                limit,
                io_memory_kib: config.shards.io_memory_kib,
                reason,
            }
        }
        Some(libc::ENOSYS) | Some(libc::EPERM) => {
            let reason = match crate::net::io_uring_disabled() {
                Some(v) if v > 0 => format!("{reason}; kernel.io_uring_disabled = {v}"),
                _ => reason,
            };
            EngineError::IoUringUnavailable { shard, reason }
        }
        _ => EngineError::ShardStart { shard, cpu, reason },
    }
}

/// The shard's main task: sets up the task queues, then serves commands
/// until `Stop`.
async fn run_shard(
    index: usize,
    config: Arc<EngineConfig>,
    link: Arc<ShardLink>,
    ring: Option<RingReceiver>,
) {
    let ex = glommio::executor();
    let tick_queue = ex.create_task_queue(
        Shares::Static(1000),
        Latency::Matters(Duration::from_millis(1)),
        "tick",
    );
    let rx_queue = ex.create_task_queue(
        Shares::Static(1000),
        Latency::Matters(Duration::from_millis(2)),
        "rx",
    );
    let control_queue = ex.create_task_queue(Shares::Static(100), Latency::NotImportant, "control");

    let tick_bell = Rc::new(LocalBell::default());
    let shard = Rc::new(RefCell::new(ShardState::new(
        index,
        Arc::clone(&config),
        Rc::clone(&tick_bell),
    )));

    let ring = ring.map(|r| Rc::new(RefCell::new(r)));
    let _tick = glommio::spawn_local_into(
        tick_loop(Rc::clone(&shard), Rc::clone(&tick_bell), ring.clone()),
        tick_queue,
    );
    let _housekeeping = glommio::spawn_local_into(
        housekeeping_loop(Rc::clone(&shard), Arc::clone(&link)),
        control_queue,
    );

    loop {
        link.doorbell.wait().await;
        while let Some(command) = link.commands.pop() {
            let stop = matches!(command, Command::Stop);
            handle_command(&shard, ring.as_deref(), &link, command, rx_queue);
            if stop {
                return;
            }
        }
    }
}

fn handle_command(
    shard: &Rc<RefCell<ShardState>>,
    ring: Option<&RefCell<RingReceiver>>,
    link: &ShardLink,
    command: Command,
    rx_queue: glommio::TaskQueueHandle,
) {
    let mut st = shard.borrow_mut();
    st.counters.commands += 1;
    match command {
        Command::CreateRoom { room, mixer, reply } => {
            let _ = reply.try_send(st.create_room(room, mixer));
        }
        Command::DestroyRoom { room, reply } => {
            let slot = st.room_slot(room);
            let result = st.destroy_room(room);
            if let (Some(ring), Some(slot), Ok(())) = (ring, slot, &result) {
                ring.borrow_mut().remove_room(slot);
            }
            let _ = reply.try_send(result);
        }
        Command::AddParticipant(add) => {
            let AddParticipant {
                room,
                config,
                spec,
                bitrate_cap_bps,
                rtp,
                rtcp,
                reply,
            } = *add;
            let result = (|| {
                let local_rtp = rtp
                    .local_addr()
                    .map_err(|source| socket_error(&rtp, source))?;
                let local_rtcp = rtcp
                    .local_addr()
                    .map_err(|source| socket_error(&rtcp, source))?;
                let media = &st.config.media;
                crate::net::set_dscp(&rtp, local_rtp, media.dscp_audio).map_err(|source| {
                    EngineError::Socket {
                        addr: local_rtp,
                        source,
                    }
                })?;
                crate::net::set_dscp(&rtcp, local_rtcp, media.dscp_rtcp).map_err(|source| {
                    EngineError::Socket {
                        addr: local_rtcp,
                        source,
                    }
                })?;
                if let Some(ring) = ring {
                    let sockets = state::MemberSockets {
                        rtp_fd: rtp.as_raw_fd(),
                        rtcp_fd: rtcp.as_raw_fd(),
                    };
                    let room_index =
                        st.add_participant(room, config, spec, bitrate_cap_bps, sockets)?;
                    // The ring owns the sockets from here (the member only
                    // sends on their fds, and is removed before they close).
                    if let Err(source) = ring.borrow_mut().add(room_index, spec.id, rtp, rtcp) {
                        let _ = st.remove_participant(room, spec.id);
                        return Err(EngineError::Socket {
                            addr: local_rtp,
                            source,
                        });
                    }
                    // Idle rooms with members are peeked at once per tick.
                    st.wake_tick();
                    return Ok(());
                }
                let rtp = Rc::new(crate::net::into_glommio(rtp));
                let rtcp = Rc::new(crate::net::into_glommio(rtcp));
                let sockets = state::MemberSockets {
                    rtp_fd: rtp.as_raw_fd(),
                    rtcp_fd: rtcp.as_raw_fd(),
                };
                let room_index =
                    st.add_participant(room, config, spec, bitrate_cap_bps, sockets)?;
                let tasks = [
                    spawn_receiver(shard, rtp, room_index, spec.id, PortKind::Rtp, rx_queue),
                    spawn_receiver(shard, rtcp, room_index, spec.id, PortKind::Rtcp, rx_queue),
                ];
                st.attach_tasks(room_index, spec.id, tasks);
                Ok(())
            })();
            let _ = reply.try_send(result);
        }
        Command::RemoveParticipant { room, id, reply } => {
            let slot = st.room_slot(room);
            let result = st.remove_participant(room, id);
            if let (Some(ring), Some(slot), Ok(())) = (ring, slot, &result) {
                ring.borrow_mut().remove(slot, id);
            }
            let _ = reply.try_send(result);
        }
        Command::SetMuted {
            room,
            id,
            muted,
            reply,
        } => {
            let _ = reply.try_send(st.set_muted(room, id, muted));
        }
        Command::SetBitrateCap {
            room,
            id,
            bitrate_cap_bps,
            reply,
        } => {
            let _ = reply.try_send(st.set_bitrate_cap(room, id, bitrate_cap_bps));
        }
        Command::Report { seq } => {
            st.report_seq = st.report_seq.max(seq);
            let report = st.report(Instant::now());
            push_report(link, &mut st, report);
        }
        Command::Stop => {
            st.report_seq = u64::MAX;
            let report = st.report(Instant::now());
            push_report(link, &mut st, report);
            st.clear();
            if let Some(ring) = ring {
                ring.borrow_mut().clear();
            }
        }
    }
}

fn socket_error(socket: &std::net::UdpSocket, source: std::io::Error) -> EngineError {
    let addr = socket
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    EngineError::Socket { addr, source }
}

fn push_report(link: &ShardLink, st: &mut ShardState, report: ShardReport) {
    if let Err(report) = link.reports.push(report) {
        // Keep the newest: drop the oldest queued report and count it.
        let _ = link.reports.pop();
        st.counters.reports_dropped += 1;
        link.reports_dropped
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = link.reports.push(report);
    }
}

fn spawn_receiver(
    shard: &Rc<RefCell<ShardState>>,
    socket: Rc<glommio::net::UdpSocket>,
    room_index: usize,
    id: ParticipantId,
    kind: PortKind,
    queue: glommio::TaskQueueHandle,
) -> glommio::Task<()> {
    glommio::spawn_local_into(
        receive_loop(Rc::clone(shard), socket, room_index, id, kind),
        queue,
    )
    .unwrap_or_else(|_| glommio::spawn_local(async {}))
}

/// Receives datagrams for one participant socket until cancelled (the
/// participant's `Task` handle is dropped on removal).
async fn receive_loop(
    shard: Rc<RefCell<ShardState>>,
    socket: Rc<glommio::net::UdpSocket>,
    room_index: usize,
    id: ParticipantId,
    kind: PortKind,
) {
    let mut buf = [0u8; RECV_BUF_BYTES];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((len, from)) => {
                let now = Instant::now();
                shard
                    .borrow_mut()
                    .on_datagram(now, room_index, id, kind, from, &buf[..len]);
            }
            Err(_) => {
                shard.borrow_mut().counters.rx_errors += 1;
                glommio::timer::sleep(Duration::from_millis(1)).await;
            }
        }
        // A flood on one socket must not starve the tick or other sockets.
        glommio::yield_if_needed().await;
    }
}

/// The 20 ms ticks: each active room has its own deadline on a fixed grid
/// from the shard's epoch (its phase, chosen when it wakes: see
/// `schedule.rs`), so late wake-ups never accumulate into drift. The task
/// sleeps until the earliest deadline and mixes every room due. Parks when
/// every room is idle.
async fn tick_loop(
    shard: Rc<RefCell<ShardState>>,
    bell: Rc<LocalBell>,
    ring: Option<Rc<RefCell<RingReceiver>>>,
) {
    let epoch = shard.borrow().epoch;
    let period = TICK.as_nanos();
    let mut was_active = false;
    // Reaps the receive ring (ring mode) so a tick sees every datagram
    // that arrived before it.
    let drain = |shard: &RefCell<ShardState>| {
        if let Some(ring) = &ring {
            ring.borrow_mut().drain(&mut shard.borrow_mut());
        }
    };
    loop {
        let next = {
            let mut st = shard.borrow_mut();
            // Rooms woken by the last drain get their deadlines now.
            st.place_woken(Instant::now());
            st.next_deadline()
        };
        let Some(next) = next else {
            if std::mem::take(&mut was_active) {
                shard.borrow_mut().counters.idle_parks += 1;
            }
            if let Some(ring) = ring.as_ref().filter(|r| r.borrow().members() > 0) {
                // Rooms idle but participants present: nothing wakes this
                // task when a datagram lands in the ring, so look once per
                // tick period (a timer wake-up and a flag read in shared
                // memory; a system call only when there is work). A room
                // woken by a look is placed on the grid just after its
                // packet's arrival and mixed at once if that is past: its
                // next frames then each find their tick, and the jitter
                // buffer does not keep a second frame that came in while
                // nobody looked.
                let now = Instant::now();
                let k = now.saturating_duration_since(epoch).as_nanos() / period + 1;
                let at = epoch + Duration::from_nanos((k * period) as u64);
                glommio::timer::sleep(at.saturating_duration_since(now)).await;
                if ring.borrow_mut().has_work() {
                    drain(&shard);
                }
                continue;
            }
            bell.clear();
            // Re-check after clearing: a packet may have activated a room.
            if shard.borrow().active_rooms() == 0 {
                bell.wait().await;
            }
            continue;
        };
        was_active = true;
        let now = Instant::now();
        if next > now {
            glommio::timer::sleep(next - now).await;
        }
        drain(&shard);
        shard
            .borrow_mut()
            .run_due(|st| drain_if_work(ring.as_deref(), st));
        glommio::yield_if_needed().await;
    }
}

/// Drains the receive ring if the kernel flags receive work (reading the
/// flag costs no system call): runs between the rooms of a tick.
fn drain_if_work(ring: Option<&RefCell<RingReceiver>>, st: &mut ShardState) {
    if let Some(ring) = ring {
        let mut ring = ring.borrow_mut();
        if ring.has_work() {
            ring.drain(st);
        }
    }
}

/// Low-priority periodic work: RTCP sender reports, media timeouts and the
/// stats snapshot. Runs every `[stats] interval_ms` (at most once a second
/// for RTCP), whatever the rooms do.
async fn housekeeping_loop(shard: Rc<RefCell<ShardState>>, link: Arc<ShardLink>) {
    let interval = Duration::from_millis(u64::from(shard.borrow().config.stats.interval_ms));
    loop {
        glommio::timer::sleep(interval).await;
        let now = Instant::now();
        let mut st = shard.borrow_mut();
        st.housekeeping(now);
        let report = st.report(now);
        push_report(&link, &mut st, report);
    }
}

#[cfg(test)]
mod alloc_test;
