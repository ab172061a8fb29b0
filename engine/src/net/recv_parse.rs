//! Reading what the receive ring's kernel wrote: the `SCM_TIMESTAMPNS`
//! control message and the source address, from raw bytes in a provided
//! buffer (no `msghdr` the CMSG macros could walk), plus the socket option
//! and clock they rely on.

use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// Asks the kernel to stamp each datagram's arrival (`SO_TIMESTAMPNS`).
pub fn enable_timestamps(socket: &impl AsRawFd) -> io::Result<()> {
    super::setsockopt_int(
        socket.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_TIMESTAMPNS,
        1,
    )
}

/// The wall clock the kernel stamps with, as time since the Unix epoch.
pub(super) fn realtime() -> Duration {
    // SAFETY: all-zero is a valid timespec, filled by the call.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The `SCM_TIMESTAMPNS` control message, walked by hand (the bytes sit in
/// a provided buffer, not in a `msghdr` the CMSG macros could walk).
pub(super) fn kernel_timestamp(control: &[u8]) -> Option<Duration> {
    const HDR: usize = size_of::<libc::cmsghdr>();
    let align = |n: usize| (n + size_of::<usize>() - 1) & !(size_of::<usize>() - 1);
    let mut at = 0;
    while at + HDR <= control.len() {
        // SAFETY: `HDR` bytes are in bounds; read unaligned from plain bytes.
        let hdr: libc::cmsghdr =
            unsafe { std::ptr::read_unaligned(control.as_ptr().add(at).cast()) };
        let len = hdr.cmsg_len as usize;
        if len < HDR || at + len > control.len() {
            return None;
        }
        let data_at = at + align(HDR);
        if hdr.cmsg_level == libc::SOL_SOCKET
            && hdr.cmsg_type == libc::SCM_TIMESTAMPNS
            && data_at + size_of::<libc::timespec>() <= control.len()
        {
            // SAFETY: a timespec's bytes are in bounds.
            let ts: libc::timespec =
                unsafe { std::ptr::read_unaligned(control.as_ptr().add(data_at).cast()) };
            return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
        }
        at += align(len);
    }
    None
}

/// A `sockaddr_in` / `sockaddr_in6` from raw bytes (native-endian family,
/// network-order port and address).
pub(super) fn parse_name(name: &[u8]) -> Option<SocketAddr> {
    let family = i32::from(u16::from_ne_bytes([*name.first()?, *name.get(1)?]));
    let port = u16::from_be_bytes([*name.get(2)?, *name.get(3)?]);
    match family {
        libc::AF_INET => {
            let ip: [u8; 4] = name.get(4..8)?.try_into().ok()?;
            Some(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port)))
        }
        libc::AF_INET6 => {
            let flow = u32::from_ne_bytes(name.get(4..8)?.try_into().ok()?);
            let ip: [u8; 16] = name.get(8..24)?.try_into().ok()?;
            let scope = u32::from_ne_bytes(name.get(24..28)?.try_into().ok()?);
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                port,
                u32::from_be(flow),
                scope,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Room for the source address the ring asks for.
    const NAME_BYTES: usize = size_of::<libc::sockaddr_in6>();

    #[test]
    fn parses_v4_name() {
        let mut raw = [0u8; NAME_BYTES];
        raw[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        raw[2..4].copy_from_slice(&5004u16.to_be_bytes());
        raw[4..8].copy_from_slice(&[127, 0, 0, 1]);
        assert_eq!(parse_name(&raw), Some("127.0.0.1:5004".parse().unwrap()));
        assert_eq!(parse_name(&raw[..3]), None);
    }
}
