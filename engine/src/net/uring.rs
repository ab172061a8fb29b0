//! The shard's receive ring: its own io_uring (beside glommio's), one
//! provided-buffer ring and one multishot `RecvMsgMulti` per socket.
//!
//! Why not glommio's `recv_from`: it allocates an io_uring source per
//! operation and wakes one task per datagram. Here the kernel copies each
//! datagram into a buffer the shard registered once, and the shard reaps
//! every completion in one pass right before its tick: one `io_uring_enter`
//! per tick instead of a wake-up per packet, and nothing allocated.
//!
//! Arrival time comes from the kernel (`SO_TIMESTAMPNS`, `CLOCK_REALTIME`),
//! converted to `Instant` with an offset sampled once per drain, so batching
//! does not move arrival times to the drain.
//!
//! The ring is set up `SINGLE_ISSUER | DEFER_TASKRUN`: the kernel queues the
//! receive work until the shard enters the ring with `GETEVENTS`, so packets
//! never interrupt a tick (the socket buffer holds them meanwhile).
//!
//! This module owns all the `unsafe` of the receive path: the buffer memory
//! the kernel writes into, the ring of buffer descriptors, and the msghdr
//! template the kernel reads.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use io_uring::types::{BufRingEntry, Fd, RecvMsgOut};

pub use super::recv_parse::enable_timestamps;
use super::recv_parse::{kernel_timestamp, parse_name, realtime};
use io_uring::{cqueue, opcode, squeue, IoUring};

/// Bytes per provided buffer: the kernel's `io_uring_recvmsg_out` header,
/// the source address, the control messages, then the payload (up to 1,940
/// bytes, well above any audio packet; longer ones are flagged truncated).
pub const RX_BUF_BYTES: usize = 2048;
/// Room for the source address: a `sockaddr_in6` holds v4 and v6.
const NAME_BYTES: usize = size_of::<libc::sockaddr_in6>();
/// Room for control messages: one `SCM_TIMESTAMPNS` needs 32 bytes.
const CONTROL_BYTES: usize = 64;
/// The only buffer group of the ring.
const BUF_GROUP: u16 = 0;
/// Submission queue entries: arms and cancels only, never one per packet.
const SQ_ENTRIES: u32 = 256;
/// `user_data` values with this bit set belong to the ring itself (cancels,
/// the start-up probe); callers' values must leave it clear.
pub const INTERNAL: u64 = 1 << 63;
const PROBE: u64 = INTERNAL | 1;
/// `IORING_ENTER_GETEVENTS` (the crate keeps its `sys` module private).
const ENTER_GETEVENTS: u32 = 1;

/// Upper bound on `io_uring_enter` calls per drain (about 20 busy sockets
/// each); what is left waits for the next drain.
const ENTERS_MAX: u32 = 256;

/// What one drain did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Drained {
    /// Completions reaped.
    pub completions: usize,
    /// `io_uring_enter` calls made.
    pub enters: u32,
}

/// One completion handed to the drain callback.
#[derive(Debug)]
pub struct Completion<'a> {
    /// The caller's `user_data` of the multishot that produced it.
    pub user_data: u64,
    /// A datagram, or the negated errno (`ENOBUFS`, `ECANCELED`, …).
    pub result: Result<Datagram<'a>, i32>,
    /// `false` when the multishot ended and must be re-armed to go on.
    pub more: bool,
}

/// One received datagram, borrowed from its provided buffer.
#[derive(Debug)]
pub struct Datagram<'a> {
    /// Where it came from (`None`: unknown address family).
    pub from: Option<SocketAddr>,
    pub payload: &'a [u8],
    /// Kernel receive time, or the drain time if the kernel gave none.
    pub arrival: Instant,
    /// Whether `arrival` is the kernel's timestamp.
    pub kernel_time: bool,
    /// The datagram did not fit the buffer.
    pub truncated: bool,
}

/// Page-aligned zeroed memory the kernel reads or writes; freed on drop.
struct Region {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Region {
    fn new(bytes: usize) -> io::Result<Self> {
        let layout = Layout::from_size_align(bytes.max(1), 4096)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr).ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?;
        Ok(Self { ptr, layout })
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout, freed once.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// The receive ring. Not `Send`: it lives and dies on its shard's thread
/// (`SINGLE_ISSUER`).
pub struct RxRing {
    ring: IoUring,
    /// `buffers` descriptors shared with the kernel.
    entries: Region,
    /// `buffers * RX_BUF_BYTES` bytes the kernel writes datagrams into.
    memory: Region,
    buffers: u16,
    /// Our copy of the ring tail (the kernel only reads the published one).
    tail: u16,
    /// The msghdr the kernel reads the name and control sizes from; boxed
    /// so its address stays put while multishots refer to it.
    msg: Box<libc::msghdr>,
    /// Arms and cancels queued since the last enter.
    queued: u32,
}

impl std::fmt::Debug for RxRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RxRing")
            .field("buffers", &self.buffers)
            .finish_non_exhaustive()
    }
}

impl RxRing {
    /// A ring with `buffers` provided buffers (rounded up to a power of two,
    /// 64..=32768) and room in the completion queue for `sockets` multishots.
    /// Probes multishot `recvmsg` on a loopback socket, so an old kernel
    /// fails here, at start, with a clear error.
    pub fn new(buffers: usize, sockets: usize) -> io::Result<Self> {
        let buffers = buffers.clamp(64, 32768).next_power_of_two();
        // Every buffer can be a completion, plus one final completion per
        // socket and the cancels: the CQ never needs to overflow.
        let cq = (buffers + 4 * sockets + SQ_ENTRIES as usize)
            .next_power_of_two()
            .min(1 << 16) as u32;
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_taskrun_flag()
            .setup_cqsize(cq)
            .build(SQ_ENTRIES)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("io_uring with SINGLE_ISSUER|DEFER_TASKRUN (Linux >= 6.1): {e}"),
                )
            })?;
        let entries = Region::new(buffers * size_of::<BufRingEntry>())?;
        let memory = Region::new(buffers * RX_BUF_BYTES)?;
        // SAFETY: all-zero is a valid msghdr; only the two lengths matter to
        // a multishot recvmsg (the buffers come from the buffer group).
        let mut msg: Box<libc::msghdr> = Box::new(unsafe { std::mem::zeroed() });
        msg.msg_namelen = NAME_BYTES as libc::socklen_t;
        msg.msg_controllen = CONTROL_BYTES as _;
        let mut rx = Self {
            ring,
            entries,
            memory,
            buffers: buffers as u16,
            tail: 0,
            msg,
            queued: 0,
        };
        for bid in 0..buffers {
            rx.provide(bid as u16);
        }
        rx.publish();
        // SAFETY: `entries` holds `buffers` descriptors, page aligned, and
        // outlives the registration (Drop unregisters before freeing).
        unsafe {
            rx.ring.submitter().register_buf_ring_with_flags(
                rx.entries.ptr.as_ptr() as u64,
                buffers as u16,
                BUF_GROUP,
                0,
            )
        }
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("registering the provided-buffer ring (Linux >= 5.19): {e}"),
            )
        })?;
        rx.probe()?;
        Ok(rx)
    }

    /// Number of provided buffers.
    pub fn buffers(&self) -> usize {
        usize::from(self.buffers)
    }

    fn mask(&self) -> usize {
        self.buffers() - 1
    }

    /// Puts buffer `bid` back at our (unpublished) tail.
    fn provide(&mut self, bid: u16) {
        let index = usize::from(self.tail) & self.mask();
        let addr = self.memory.ptr.as_ptr() as u64 + u64::from(bid) * RX_BUF_BYTES as u64;
        // SAFETY: `index < buffers`, inside `entries`; entries are plain data
        // the kernel reads only up to the published tail, which does not yet
        // cover this slot.
        unsafe {
            let entry = &mut *(self.entries.ptr.as_ptr() as *mut BufRingEntry).add(index);
            entry.set_addr(addr);
            entry.set_len(RX_BUF_BYTES as u32);
            entry.set_bid(bid);
        }
        self.tail = self.tail.wrapping_add(1);
    }

    /// Publishes the tail: the kernel may now use every provided buffer.
    fn publish(&self) {
        // SAFETY: the tail field sits in the first entry, 2-byte aligned; the
        // kernel reads it with acquire semantics, so a release store orders
        // the entry writes before it.
        unsafe {
            let tail = BufRingEntry::tail(self.entries.ptr.as_ptr() as *const BufRingEntry);
            (*(tail as *const AtomicU16)).store(self.tail, Ordering::Release);
        }
    }

    fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        // SAFETY (both pushes): the entry refers to `self.msg` (boxed, lives
        // as long as the ring) and to no other memory.
        if unsafe { self.ring.submission().push(entry) }.is_err() {
            self.ring.submit()?;
            self.queued = 0;
            unsafe { self.ring.submission().push(entry) }
                .map_err(|_| io::Error::other("receive ring: submission queue full"))?;
        }
        self.queued += 1;
        Ok(())
    }

    /// Queues a multishot receive on `fd`; every completion carries
    /// `user_data` (which must not have the [`INTERNAL`] bit). Submitted at
    /// the next [`Self::submit`] or drain.
    pub fn arm(&mut self, fd: &impl AsRawFd, user_data: u64) -> io::Result<()> {
        self.arm_raw(fd.as_raw_fd(), user_data)
    }

    fn arm_raw(&mut self, fd: RawFd, user_data: u64) -> io::Result<()> {
        let entry = opcode::RecvMsgMulti::new(Fd(fd), &*self.msg as *const _, BUF_GROUP)
            .build()
            .user_data(user_data);
        self.push(&entry)
    }

    /// Cancels the multishot tagged `user_data` and waits until the kernel
    /// has dropped it (and with it its reference to the socket), so closing
    /// the socket afterwards really frees the port. Completions it left in
    /// the queue come out of later drains, for the caller to recognise as
    /// stale.
    pub fn cancel(&mut self, user_data: &[u64]) -> io::Result<()> {
        for &ud in user_data {
            let entry = opcode::AsyncCancel::new(ud).build().user_data(INTERNAL);
            self.push(&entry)?;
        }
        // GETEVENTS runs the deferred work, which completes the cancelled
        // receives and drops their file references. The kernel runs about
        // 20 items per enter and other sockets' receives may be queued in
        // front, so enter until none is left (their completions wait in the
        // queue for the next drain).
        self.ring.submit_and_wait(user_data.len())?;
        self.queued = 0;
        self.run_all_work()
    }

    /// Enters with GETEVENTS until the kernel has no deferred work left.
    fn run_all_work(&mut self) -> io::Result<()> {
        for _ in 0..ENTERS_MAX {
            if !self.ring.submission().taskrun() {
                break;
            }
            // SAFETY: GETEVENTS with min_complete 0 never blocks; no argument.
            unsafe {
                self.ring
                    .submitter()
                    .enter::<libc::sigset_t>(0, 0, ENTER_GETEVENTS, None)
            }?;
        }
        Ok(())
    }

    /// Submits queued arms and cancels without reaping anything.
    pub fn submit(&mut self) -> io::Result<()> {
        if self.queued > 0 {
            self.ring.submit()?;
            self.queued = 0;
        }
        Ok(())
    }

    /// Whether the kernel has receive work waiting for a drain (a flag in
    /// shared memory: no system call).
    pub fn has_work(&mut self) -> bool {
        self.ring.submission().taskrun() || !self.ring.completion().is_empty()
    }

    /// Lets the kernel run its deferred receive work, leaving the
    /// completions queued (tests use it to stage completions).
    #[cfg(test)]
    pub fn run_work(&mut self) -> io::Result<()> {
        self.enter_no_wait()
    }

    /// Submits what is queued and lets the kernel run deferred work, without
    /// waiting for completions.
    fn enter_no_wait(&mut self) -> io::Result<()> {
        // SAFETY: GETEVENTS with min_complete 0 never blocks; no argument.
        unsafe {
            self.ring
                .submitter()
                .enter::<libc::sigset_t>(self.queued, 0, ENTER_GETEVENTS, None)
        }?;
        self.queued = 0;
        Ok(())
    }

    /// Submits what is queued, lets the kernel run its deferred receive work
    /// (no waiting), then hands every completion to `f` and recycles its
    /// buffer. `f` returns the fd to re-arm on when a multishot ended
    /// (`more == false`) and should go on.
    ///
    /// The kernel runs at most about 20 deferred items (one per socket with
    /// data) per `io_uring_enter`, so the drain enters again while the
    /// kernel's TASKRUN flag says work is left, reaping in between: about
    /// one system call per 20 busy sockets, bounded by `ENTERS_MAX`.
    pub fn drain(
        &mut self,
        mut f: impl FnMut(Completion<'_>) -> Option<RawFd>,
    ) -> io::Result<Drained> {
        let mut done = Drained::default();
        while done.enters < ENTERS_MAX {
            self.enter_no_wait()?;
            done.enters += 1;
            done.completions += self.reap(&mut f)?;
            if !self.ring.submission().taskrun() {
                break;
            }
        }
        Ok(done)
    }

    fn reap(&mut self, f: &mut impl FnMut(Completion<'_>) -> Option<RawFd>) -> io::Result<usize> {
        let mono = Instant::now();
        let real = realtime();
        let mut n = 0;
        loop {
            // Re-arms are pushed while walking, so take one CQE at a time.
            let Some(cqe) = self.ring.completion().next() else {
                break;
            };
            n += 1;
            let user_data = cqe.user_data();
            if user_data & INTERNAL != 0 {
                continue;
            }
            let flags = cqe.flags();
            let more = cqueue::more(flags);
            let bid = cqueue::buffer_select(flags);
            let result = match (cqe.result(), bid) {
                (len, Some(bid)) if len >= 0 => Ok(self.parse(bid, len as usize, mono, real)),
                (len, _) if len >= 0 => Err(libc::EIO),
                (errno, _) => Err(-errno),
            };
            let rearm = f(Completion {
                user_data,
                result,
                more,
            });
            if let Some(bid) = bid {
                self.provide(bid);
            }
            if let (Some(fd), false) = (rearm, more) {
                self.arm_raw(fd, user_data)?;
            }
        }
        // Recycled buffers go back before the next enter needs them.
        self.publish();
        Ok(n)
    }

    /// Reads buffer `bid`, which the kernel filled with `len` bytes.
    fn parse(&self, bid: u16, len: usize, mono: Instant, real: Duration) -> Datagram<'_> {
        let len = len.min(RX_BUF_BYTES);
        // SAFETY: the kernel handed buffer `bid` back with this completion;
        // it will not write it again until `provide` re-publishes it, which
        // happens after the borrow ends (the caller's callback returned).
        let buf = unsafe {
            std::slice::from_raw_parts(
                self.memory
                    .ptr
                    .as_ptr()
                    .add(usize::from(bid) * RX_BUF_BYTES),
                len,
            )
        };
        let Ok(out) = RecvMsgOut::parse(buf, &self.msg) else {
            return Datagram {
                from: None,
                payload: &[],
                arrival: mono,
                kernel_time: false,
                truncated: true,
            };
        };
        // The parsed view borrows itself; re-slice the payload from `buf`.
        let payload = out.payload_data();
        let start = payload.as_ptr() as usize - buf.as_ptr() as usize;
        let payload = &buf[start..start + payload.len()];
        let stamp = kernel_timestamp(out.control_data());
        let arrival = match stamp {
            // The kernel stamped it `real - stamp` ago on the wall clock.
            Some(t) => mono.checked_sub(real.saturating_sub(t)).unwrap_or(mono),
            None => mono,
        };
        Datagram {
            from: parse_name(out.name_data()),
            payload,
            arrival,
            kernel_time: stamp.is_some(),
            truncated: out.is_payload_truncated(),
        }
    }

    /// Arms a multishot on a fresh loopback socket with one datagram
    /// waiting: a kernel without multishot recvmsg or buffer rings says
    /// `EINVAL` here instead of silently never receiving.
    fn probe(&mut self) -> io::Result<()> {
        let socket = super::bind_udp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        enable_timestamps(&socket)?;
        socket.send_to(b"probe", socket.local_addr()?)?;
        self.arm(&socket, PROBE)?;
        self.ring.submit_and_wait(1)?;
        let mut verdict = None;
        loop {
            let next = self.ring.completion().next();
            let Some(cqe) = next else { break };
            if let Some(bid) = cqueue::buffer_select(cqe.flags()) {
                self.provide(bid);
            }
            if cqe.user_data() == PROBE && verdict.is_none() {
                verdict = Some((cqe.result(), cqueue::more(cqe.flags())));
            }
        }
        self.publish();
        match verdict {
            Some((len, true)) if len >= 0 => {
                self.cancel(&[PROBE])?;
                // Reap the cancel and the probe's final completion.
                loop {
                    let next = self.ring.completion().next();
                    let Some(cqe) = next else { break };
                    if let Some(bid) = cqueue::buffer_select(cqe.flags()) {
                        self.provide(bid);
                    }
                }
                self.publish();
                Ok(())
            }
            Some((len, _)) if len < 0 => Err(io::Error::new(
                io::Error::from_raw_os_error(-len).kind(),
                format!(
                    "multishot recvmsg with provided buffers failed ({}): the receive ring \
                     needs Linux >= 6.1",
                    io::Error::from_raw_os_error(-len)
                ),
            )),
            _ => Err(io::Error::other(
                "multishot recvmsg did not stay armed: the receive ring needs Linux >= 6.1",
            )),
        }
    }
}

impl Drop for RxRing {
    fn drop(&mut self) {
        // Stop every receive before the buffer memory goes: cancel all, let
        // the deferred work finish them, then unregister the buffer ring.
        let entry = opcode::AsyncCancel2::new(io_uring::types::CancelBuilder::any())
            .build()
            .user_data(INTERNAL);
        // SAFETY: the entry refers to no memory.
        if unsafe { self.ring.submission().push(&entry) }.is_ok() {
            let _ = self.ring.submit_and_wait(1);
        }
        let _ = self.ring.submitter().unregister_buf_ring(BUF_GROUP);
        // `ring` closes before `entries` and `memory` are freed (field order
        // does not matter: nothing can use the buffers once unregistered and
        // every receive is cancelled).
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receives_with_kernel_timestamps() {
        let mut ring = RxRing::new(64, 2).expect("ring");
        let socket = super::super::bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        enable_timestamps(&socket).unwrap();
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        ring.arm(&socket, 7).unwrap();
        ring.submit().unwrap();
        // The kernel switches receive timestamping on in deferred work the
        // first time a socket asks; until then it stamps at recvmsg time.
        std::thread::sleep(Duration::from_millis(20));
        let sent = Instant::now();
        peer.send_to(b"hello", socket.local_addr().unwrap())
            .unwrap();
        // The drain comes well after the datagram arrived; the arrival time
        // must still be the kernel's, not the drain's.
        std::thread::sleep(Duration::from_millis(50));
        let mut got = Vec::new();
        ring.drain(|c| {
            let d = c.result.expect("datagram");
            got.push((
                c.user_data,
                d.payload.to_vec(),
                d.arrival,
                d.kernel_time,
                d.from,
            ));
            None
        })
        .unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        let (ud, payload, arrival, kernel, from) = &got[0];
        assert_eq!((*ud, payload.as_slice(), *kernel), (7, &b"hello"[..], true));
        assert_eq!(*from, Some(peer.local_addr().unwrap()));
        let lag = arrival.saturating_duration_since(sent);
        assert!(
            lag < Duration::from_millis(40),
            "arrival {lag:?} after send"
        );
    }
}
