//! Where the checks read the host from: a root directory (`/` for the real
//! host, a temp dir holding a fake `proc/` and `sys/` tree in tests) and a
//! [`Probe`] for what is not a file.

use std::fs;
use std::io;
use std::path::PathBuf;

/// What the checks learn from system calls rather than files.
pub trait Probe {
    /// The soft `RLIMIT_MEMLOCK` in bytes; `None` = unlimited.
    fn memlock_soft_limit(&self) -> io::Result<Option<u64>>;
    /// Creates and closes a small io_uring.
    fn io_uring_probe(&self) -> io::Result<()>;
    /// Effective uid 0.
    fn is_root(&self) -> bool;
}

/// The real system calls.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealProbe;

impl Probe for RealProbe {
    fn memlock_soft_limit(&self) -> io::Result<Option<u64>> {
        crate::sys::memlock_soft_limit()
    }
    fn io_uring_probe(&self) -> io::Result<()> {
        crate::sys::io_uring_probe()
    }
    fn is_root(&self) -> bool {
        crate::sys::is_root()
    }
}

/// Fixed answers, for tests.
#[derive(Debug, Clone)]
pub struct FakeProbe {
    /// What `memlock_soft_limit` returns (`Err` carries the errno).
    pub memlock: Result<Option<u64>, i32>,
    /// What `io_uring_probe` returns (`Err` carries the errno).
    pub io_uring: Result<(), i32>,
    /// What `is_root` returns.
    pub root: bool,
}

impl Probe for FakeProbe {
    fn memlock_soft_limit(&self) -> io::Result<Option<u64>> {
        self.memlock.map_err(io::Error::from_raw_os_error)
    }
    fn io_uring_probe(&self) -> io::Result<()> {
        self.io_uring.map_err(io::Error::from_raw_os_error)
    }
    fn is_root(&self) -> bool {
        self.root
    }
}

/// The host the checks look at.
pub struct Host {
    root: PathBuf,
    probe: Box<dyn Probe>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("root", &self.root).finish()
    }
}

impl Host {
    /// This machine: `/` and the real system calls.
    pub fn real() -> Host {
        Host {
            root: PathBuf::from("/"),
            probe: Box::new(RealProbe),
        }
    }

    /// A fake tree under `root` (it holds `proc/…` and `sys/…`).
    pub fn at(root: impl Into<PathBuf>, probe: Box<dyn Probe>) -> Host {
        Host {
            root: root.into(),
            probe,
        }
    }

    /// The system-call answers.
    pub fn probe(&self) -> &dyn Probe {
        self.probe.as_ref()
    }

    /// `path` (absolute, as on a real host) under this host's root.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    /// Reads a file of the host.
    pub fn read(&self, path: &str) -> io::Result<String> {
        fs::read_to_string(self.path(path))
    }

    /// The names in a directory of the host, sorted.
    pub fn list(&self, path: &str) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = fs::read_dir(self.path(path))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Whether a path exists on the host.
    pub fn exists(&self, path: &str) -> bool {
        self.path(path).exists()
    }

    /// The `/proc/sys` file of a dotted sysctl key.
    pub fn sysctl_path(&self, key: &str) -> PathBuf {
        self.path(&sysctl_file(key))
    }

    /// Reads a sysctl.
    pub fn read_sysctl(&self, key: &str) -> io::Result<String> {
        fs::read_to_string(self.sysctl_path(key))
    }

    /// Writes a sysctl (the fields space-separated, as `sysctl -w` does).
    /// Never creates a file: a key missing from this kernel is `NotFound`.
    pub fn write_sysctl(&self, key: &str, value: &str) -> io::Result<()> {
        let path = self.sysctl_path(key);
        // O_TRUNC as `sysctl -w` uses it; no O_CREAT.
        let mut file = fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)?;
        io::Write::write_all(&mut file, value.as_bytes())
    }

    /// Whether `/proc/sys` is mounted read-only (as container runtimes do),
    /// from `/proc/self/mounts`.
    pub fn proc_sys_read_only(&self) -> bool {
        let Ok(mounts) = self.read("/proc/self/mounts") else {
            return false;
        };
        // The last mount over /proc/sys (or /proc, if none) decides.
        let mut read_only = false;
        for line in mounts.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let [_, mount_point, _, options, ..] = fields[..] {
                if mount_point == "/proc/sys" || mount_point == "/proc" {
                    read_only = options.split(',').any(|o| o == "ro");
                }
            }
        }
        read_only
    }
}

/// `/proc/sys/…` for a dotted key; keys written with `/` are taken as paths.
pub fn sysctl_file(key: &str) -> String {
    if key.contains('/') {
        format!("/proc/sys/{}", key.trim_start_matches('/'))
    } else {
        format!("/proc/sys/{}", key.replace('.', "/"))
    }
}

/// A short text for an I/O error: the OS's words without "(os error N)".
pub fn describe(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_proc_sys() {
        assert_eq!(
            sysctl_file("net.core.rmem_max"),
            "/proc/sys/net/core/rmem_max"
        );
        assert_eq!(
            sysctl_file("net/ipv4/conf/eth0.1/rp_filter"),
            "/proc/sys/net/ipv4/conf/eth0.1/rp_filter"
        );
    }

    #[test]
    fn read_only_proc_sys_is_seen_in_mounts() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("proc/self")).expect("mkdir");
        let host = Host::at(
            dir.path(),
            Box::new(FakeProbe {
                memlock: Ok(None),
                io_uring: Ok(()),
                root: true,
            }),
        );
        assert!(
            !host.proc_sys_read_only(),
            "no mounts file: assume writable"
        );
        fs::write(
            dir.path().join("proc/self/mounts"),
            "proc /proc proc rw,nosuid 0 0\nproc /proc/sys proc ro,nosuid 0 0\n",
        )
        .expect("write");
        assert!(host.proc_sys_read_only());
        fs::write(
            dir.path().join("proc/self/mounts"),
            "proc /proc proc rw,relatime 0 0\n",
        )
        .expect("write");
        assert!(!host.proc_sys_read_only());
    }

    #[test]
    fn write_never_creates_a_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let host = Host::at(
            dir.path(),
            Box::new(FakeProbe {
                memlock: Ok(None),
                io_uring: Ok(()),
                root: true,
            }),
        );
        let e = host.write_sysctl("vm.swappiness", "10").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(!host.sysctl_path("vm.swappiness").exists());
    }
}
