//! CPU time and memory read from /proc: the engine's shard threads (by name),
//! the calling thread, and the process's peak resident set.

use std::fs;
use std::time::Duration;

/// Clock ticks per second of /proc's utime/stime (USER_HZ).
fn clock_ticks_per_s() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as u64
    } else {
        100
    }
}

/// utime + stime of one /proc stat line.
fn stat_cpu(stat: &str) -> Option<Duration> {
    // The command name is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ... utime(11) stime(12).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let hz = clock_ticks_per_s();
    Some(Duration::from_nanos((utime + stime) * 1_000_000_000 / hz))
}

/// CPU time of every thread of this process whose name starts with
/// `prefix`, by name.
pub fn threads_cpu(prefix: &str) -> Vec<(String, Duration)> {
    let mut out = Vec::new();
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let Ok(name) = fs::read_to_string(path.join("comm")) else {
            continue;
        };
        let name = name.trim().to_owned();
        if !name.starts_with(prefix) {
            continue;
        }
        if let Some(cpu) = fs::read_to_string(path.join("stat"))
            .ok()
            .as_deref()
            .and_then(stat_cpu)
        {
            out.push((name, cpu));
        }
    }
    out.sort();
    out
}

/// CPU time of the calling thread.
pub fn this_thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Resident set size of this process now, in KiB (VmRSS).
pub fn rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident set size of this process, in MiB (VmHWM).
pub fn peak_rss_mib() -> Option<f64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The calling thread pinned to one CPU until dropped, when its previous
/// CPU mask comes back. A pinned thread sees one CPU in
/// `std::thread::available_parallelism()` and hands its mask to the threads
/// it spawns, so a pin must not outlive the run it was made for (a sweep's
/// next step would start the engine on the generator's CPU).
#[derive(Debug)]
pub struct PinnedThread {
    previous: Option<libc::cpu_set_t>,
}

impl Drop for PinnedThread {
    fn drop(&mut self) {
        if let Some(previous) = &self.previous {
            // SAFETY: restores a mask read by sched_getaffinity for this
            // same thread (pid 0).
            unsafe {
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), previous);
            }
        }
    }
}

/// Pins the calling thread to `cpu` until the returned guard is dropped;
/// `None` when the kernel refused (the thread keeps its mask).
pub fn pin_this_thread(cpu: usize) -> Option<PinnedThread> {
    // SAFETY: cpu_set_t is plain data; CPU_SET writes inside it; both calls
    // act on the calling thread (pid 0) with the set's own size.
    unsafe {
        let size = std::mem::size_of::<libc::cpu_set_t>();
        let mut previous: libc::cpu_set_t = std::mem::zeroed();
        let saved = libc::sched_getaffinity(0, size, &mut previous) == 0;
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        (libc::sched_setaffinity(0, size, &set) == 0).then_some(PinnedThread {
            previous: saved.then_some(previous),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_with_spaces_in_the_name() {
        let line = "1234 (shard 0 x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0";
        let cpu = stat_cpu(line).unwrap();
        // utime 250 + stime 50 = 300 clock ticks.
        assert_eq!(cpu, Duration::from_millis(300 * 1000 / clock_ticks_per_s()));
    }

    #[test]
    fn this_thread_burns_measurable_cpu() {
        let before = this_thread_cpu();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(this_thread_cpu() > before);
        assert!(peak_rss_mib().unwrap() > 1.0);
    }
}
