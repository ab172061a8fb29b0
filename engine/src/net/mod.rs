//! The only place with `unsafe` and raw socket options: DSCP marking
//! (`IP_TOS` / `IPV6_TCLASS`), reading the TOS byte back (`IP_RECVTOS`),
//! gather sends with `sendmsg`, process limits and signal masks; the
//! io_uring receive ring is in [`uring`] (and its byte parsing in
//! `recv_parse`).
//!
//! glommio's `UdpSocket` has no DSCP setter and copies every send into a DMA
//! buffer, so the shard sends with a non-blocking `sendmsg` of two iovecs
//! (the receiver's RTP header and the payload shared between listeners) on the
//! socket's raw fd: no copy, no allocation, and a full socket buffer is an
//! `EWOULDBLOCK` the caller counts instead of waiting on.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

mod recv_parse;
pub mod uring;

/// DSCP Expedited Forwarding (RFC 3246), the default for audio.
pub const DSCP_EF: u8 = 46;

/// Binds a non-blocking UDP socket without `SO_REUSEPORT`, so a port held by
/// another socket fails with `AddrInUse` instead of silently sharing traffic.
pub fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` outlives the call and the length matches its type.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Marks everything sent on `socket` with `dscp` (0..=63); 0 leaves the
/// default (best effort). The ECN bits stay zero.
pub fn set_dscp(socket: &impl AsRawFd, local: SocketAddr, dscp: u8) -> io::Result<()> {
    if dscp == 0 {
        return Ok(());
    }
    let tos = libc::c_int::from(dscp & 0x3f) << 2;
    match local {
        SocketAddr::V4(_) => {
            setsockopt_int(socket.as_raw_fd(), libc::IPPROTO_IP, libc::IP_TOS, tos)
        }
        SocketAddr::V6(_) => {
            setsockopt_int(
                socket.as_raw_fd(),
                libc::IPPROTO_IPV6,
                libc::IPV6_TCLASS,
                tos,
            )?;
            // A v6 socket may send to v4-mapped addresses too.
            let _ = setsockopt_int(socket.as_raw_fd(), libc::IPPROTO_IP, libc::IP_TOS, tos);
            Ok(())
        }
    }
}

/// Asks the kernel to report each received packet's TOS byte (IPv4) or
/// traffic class (IPv6) as a control message, for [`recv_with_tos`].
pub fn set_recv_tos(socket: &impl AsRawFd, local: SocketAddr) -> io::Result<()> {
    match local {
        SocketAddr::V4(_) => {
            setsockopt_int(socket.as_raw_fd(), libc::IPPROTO_IP, libc::IP_RECVTOS, 1)
        }
        SocketAddr::V6(_) => setsockopt_int(
            socket.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_RECVTCLASS,
            1,
        ),
    }
}

/// A socket address in the kernel's layout, built on the stack.
#[repr(C)]
union RawAddr {
    v4: libc::sockaddr_in,
    v6: libc::sockaddr_in6,
}

fn raw_addr(addr: &SocketAddr) -> (RawAddr, libc::socklen_t) {
    match addr {
        SocketAddr::V4(a) => {
            // SAFETY: all-zero is a valid sockaddr_in.
            let mut sin: libc::sockaddr_in = unsafe { zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(a.ip().octets()),
            };
            (
                RawAddr { v4: sin },
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        }
        SocketAddr::V6(a) => {
            // SAFETY: all-zero is a valid sockaddr_in6.
            let mut sin6: libc::sockaddr_in6 = unsafe { zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.ip().octets(),
            };
            sin6.sin6_scope_id = a.scope_id();
            (
                RawAddr { v6: sin6 },
                size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        }
    }
}

fn from_raw_storage(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: &libc::sockaddr_in =
                unsafe { &*(storage as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6: &libc::sockaddr_in6 =
                unsafe { &*(storage as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Sends `parts` gathered into one datagram to `dest` without blocking and
/// without copying. `EWOULDBLOCK` (socket buffer full) comes back as
/// `ErrorKind::WouldBlock` for the caller to count.
pub fn send_gather(fd: RawFd, parts: &[&[u8]; 2], dest: &SocketAddr) -> io::Result<usize> {
    let (mut addr, addr_len) = raw_addr(dest);
    let mut iov = [
        libc::iovec {
            iov_base: parts[0].as_ptr() as *mut _,
            iov_len: parts[0].len(),
        },
        libc::iovec {
            iov_base: parts[1].as_ptr() as *mut _,
            iov_len: parts[1].len(),
        },
    ];
    // SAFETY: all-zero is a valid msghdr; the pointers set below outlive the call.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut addr as *mut RawAddr).cast();
    msg.msg_namelen = addr_len;
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = iov.len() as _;
    // SAFETY: `msg` points at live buffers of the stated lengths; the kernel only reads them.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// One datagram received with [`recv_with_tos`].
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Bytes written into the buffer.
    pub len: usize,
    /// Where it came from.
    pub from: SocketAddr,
    /// The TOS byte / traffic class, when `set_recv_tos` was enabled.
    pub tos: Option<u8>,
}

/// Receives one datagram and its TOS byte (used by guardians and tests to
/// check DSCP marking end to end). Honours the socket's blocking mode and
/// read timeout.
pub fn recv_with_tos(socket: &impl AsRawFd, buf: &mut [u8]) -> io::Result<Received> {
    // SAFETY: all-zero is a valid sockaddr_storage and msghdr.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let mut control = [0u64; 8];
    let mut iov = [libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    }];
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut storage as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 8]>() as _;
    // SAFETY: every pointer in `msg` refers to a live buffer of the stated length.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut tos = None;
    // SAFETY: the CMSG_* macros walk the control buffer the kernel just filled,
    // bounded by `msg_controllen`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let level = (*cmsg).cmsg_level;
            let kind = (*cmsg).cmsg_type;
            let data = libc::CMSG_DATA(cmsg);
            if level == libc::IPPROTO_IP && kind == libc::IP_TOS {
                tos = Some(*data);
            } else if level == libc::IPPROTO_IPV6 && kind == libc::IPV6_TCLASS {
                tos = Some(std::ptr::read_unaligned(data.cast::<libc::c_int>()) as u8);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let from = from_raw_storage(&storage)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unknown address family"))?;
    Ok(Received {
        len: n as usize,
        from,
        tos,
    })
}

/// The soft and hard `RLIMIT_MEMLOCK`, in bytes (`None` = unlimited).
pub fn memlock_limit() -> (Option<u64>, Option<u64>) {
    // SAFETY: all-zero is a valid rlimit, filled by the call.
    let mut limit: libc::rlimit = unsafe { zeroed() };
    // SAFETY: `limit` is a valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) } != 0 {
        return (None, None);
    }
    let f = |v: libc::rlim_t| {
        if v == libc::RLIM_INFINITY {
            None
        } else {
            Some(v)
        }
    };
    (f(limit.rlim_cur), f(limit.rlim_max))
}

/// `kernel.io_uring_disabled` (0 = allowed, 1 = privileged only, 2 = off),
/// when the kernel has the knob.
pub fn io_uring_disabled() -> Option<u32> {
    std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The signals `engine run` reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM or SIGINT: drain and stop.
    Stop,
    /// SIGHUP: reload the registry.
    Reload,
    /// SIGUSR1: stop accepting new admissions.
    StopAdmissions,
}

fn handled_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before it is read.
    unsafe {
        let mut set: libc::sigset_t = zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 in the calling thread and in
/// every thread it starts afterwards, so they queue for [`wait_signal`]
/// instead of killing the process or landing on a shard.
pub fn block_signals() -> io::Result<()> {
    let set = handled_set();
    // SAFETY: `set` is initialised; the old mask is not wanted.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Waits up to `timeout` for one of the blocked signals.
pub fn wait_signal(timeout: Duration) -> Option<Signal> {
    let set = handled_set();
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
    };
    // SAFETY: `set` and `ts` are initialised; siginfo is not wanted.
    let sig = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &ts) };
    match sig {
        libc::SIGTERM | libc::SIGINT => Some(Signal::Stop),
        libc::SIGHUP => Some(Signal::Reload),
        libc::SIGUSR1 => Some(Signal::StopAdmissions),
        _ => None,
    }
}

/// Hands a bound std socket to glommio (which then owns and closes the fd).
pub fn into_glommio(socket: UdpSocket) -> glommio::net::UdpSocket {
    use std::os::fd::{FromRawFd, IntoRawFd};
    // SAFETY: `into_raw_fd` gives up ownership of an open socket fd, which
    // moves into the glommio socket and is closed exactly once by it.
    unsafe { glommio::net::UdpSocket::from_raw_fd(socket.into_raw_fd()) }
}

/// Pins the calling thread to `cpu` (load generators keep off the shards' cores).
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET only write inside it,
    // and sched_setaffinity reads exactly its size.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// CPU time the calling thread has used (`CLOCK_THREAD_CPUTIME_ID`), to tell
/// work from time spent descheduled.
pub fn thread_cpu_time() -> Duration {
    // SAFETY: all-zero is a valid timespec, filled by the call.
    let mut ts: libc::timespec = unsafe { zeroed() };
    // SAFETY: `ts` is a valid out-pointer.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
