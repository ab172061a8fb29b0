//! The only `unsafe` of the crate: three system calls the checks make on
//! the real host. Tests replace them through [`crate::host::Probe`].

use std::io;

/// The soft `RLIMIT_MEMLOCK` of this process in bytes; `None` = unlimited.
pub fn memlock_soft_limit() -> io::Result<Option<u64>> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for the call's duration.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        Ok(None)
    } else {
        Ok(Some(limit.rlim_cur))
    }
}

/// Whether this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Creates and closes a 2-entry io_uring: `Ok` if this process may use
/// io_uring at all. The error is the kernel's (`ENOSYS`: no io_uring or a
/// seccomp filter; `EPERM`: `kernel.io_uring_disabled`; `ENOMEM`: locked
/// memory).
pub fn io_uring_probe() -> io::Result<()> {
    // struct io_uring_params is 120 bytes (30 u32 words, 8-byte fields
    // included); all zero asks for the defaults and the kernel fills in the
    // rest.
    let mut params = [0u32; 30];
    // SAFETY: io_uring_setup reads and writes at most 120 bytes of `params`,
    // which is valid and writable for the call's duration.
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 2u32, params.as_mut_ptr()) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is the ring descriptor just created and owned here.
    unsafe { libc::close(fd as libc::c_int) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_buffer_matches_the_kernel_struct() {
        assert_eq!(std::mem::size_of::<[u32; 30]>(), 120);
    }

    #[test]
    fn probes_do_not_panic() {
        let _ = memlock_soft_limit();
        let _ = is_root();
        let _ = io_uring_probe();
    }
}
