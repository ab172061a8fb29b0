//! `engine tune check`: the live host against a profile and the shard layout.
//!
//! Each `decide_*` function is pure: it takes what was read (or the error
//! reading it) and returns the item. The `gather_*` functions do the reading
//! through [`Host`], so tests point them at a fake tree. Nothing here writes.

use std::io;

use crate::cpus::{self, CpuSet, Isolation};
use crate::host::{describe, sysctl_file, Host};
use crate::profile::{compare, resolve, Profile, Setting, Status, Value, Verdict};
use crate::sizing::Sizing;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// PASS, WARN or FAIL.
    pub status: Status,
    /// What was checked: a sysctl key or a host check's name.
    pub name: String,
    /// What was found (and wanted).
    pub detail: String,
    /// Why it matters and how to fix it; printed for WARN and FAIL.
    pub why: String,
}

impl Item {
    fn new(status: Status, name: &str, detail: impl Into<String>, why: impl Into<String>) -> Item {
        Item {
            status,
            name: name.to_owned(),
            detail: detail.into(),
            why: why.into(),
        }
    }
}

/// Where the media cores and the guardian count came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// CPUs the shards run on.
    pub media_cores: CpuSet,
    /// How they were found ("engine config", "--media-cores", …).
    pub media_cores_from: String,
    /// Online CPUs of the host.
    pub online: CpuSet,
    /// Shards the engine will start.
    pub shards: u64,
    /// `[shards] io_memory_kib`.
    pub io_memory_kib: u64,
    /// The sizing the buffers are compared against.
    pub sizing: Sizing,
    /// How the guardian count was found.
    pub guardians_from: String,
}

/// The sysctl items: every setting of the profile against `/proc/sys`.
pub fn gather_sysctls(host: &Host, profile: &Profile, sizing: &Sizing) -> Vec<Item> {
    profile
        .settings
        .iter()
        .map(|s| decide_sysctl(s, &resolve(s, sizing), host.read_sysctl(&s.key)))
        .collect()
}

/// One setting against its live value (or the error reading it).
pub fn decide_sysctl(setting: &Setting, want: &Value, live: io::Result<String>) -> Item {
    let wanted = format!("want {} {want}", setting.compare.symbol());
    let fix = if setting.check_only {
        format!(
            "{}\nChecked only, never written: raise it in /etc/sysctl.d if it fails.",
            setting.reason
        )
    } else {
        let quoted = if want.0.len() > 1 {
            format!("\"{want}\"")
        } else {
            want.to_string()
        };
        format!(
            "{}\nfix: sysctl -w {}={quoted} (or engine tune apply)",
            setting.reason, setting.key
        )
    };
    match live {
        Ok(text) => {
            let live = Value::parse(&text);
            match compare(setting.compare, want, &live) {
                Verdict::Ok => Item::new(
                    Status::Pass,
                    &setting.key,
                    format!("{live} ({wanted})"),
                    fix,
                ),
                Verdict::Differs { .. } => Item::new(
                    setting.severity,
                    &setting.key,
                    format!("{live} ({wanted})"),
                    fix,
                ),
                Verdict::Malformed(why) => Item::new(
                    setting.severity,
                    &setting.key,
                    format!("{live}: {why} ({wanted})"),
                    fix,
                ),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Item::new(
            setting.absent,
            &setting.key,
            "not present on this kernel",
            if setting.absent == Status::Pass {
                "The feature is not built into this kernel, so there is nothing to tune.".to_owned()
            } else {
                format!("{} This kernel lacks the key.", setting.reason)
            },
        ),
        Err(e) => Item::new(
            Status::Warn,
            &setting.key,
            format!(
                "cannot read {}: {}",
                sysctl_file(&setting.key),
                describe(&e)
            ),
            "The value could not be compared; run as a user that can read /proc/sys.",
        ),
    }
}

/// Online CPUs from `/sys/devices/system/cpu/online`; on failure the CPUs this
/// process may use, and a warning.
pub fn gather_online(host: &Host) -> (CpuSet, Option<Item>) {
    let path = "/sys/devices/system/cpu/online";
    let fallback = || {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        CpuSet::from_cpus(0..n)
    };
    match host.read(path).map(|t| CpuSet::parse(&t)) {
        Ok(Ok(set)) if !set.is_empty() => (set, None),
        Ok(Ok(_)) => (
            fallback(),
            Some(Item::new(
                Status::Warn,
                "online cpus",
                format!("{path} is empty"),
                "",
            )),
        ),
        Ok(Err(why)) => (
            fallback(),
            Some(Item::new(
                Status::Warn,
                "online cpus",
                format!("{path}: {why}"),
                "",
            )),
        ),
        Err(e) => (
            fallback(),
            Some(Item::new(
                Status::Warn,
                "online cpus",
                format!("cannot read {path}: {}", describe(&e)),
                "Assumed the CPUs this process may use.",
            )),
        ),
    }
}

/// The media cores must be online CPUs.
pub fn decide_media_cores(layout: &Layout) -> Item {
    let missing = layout.media_cores.difference(&layout.online);
    if missing.is_empty() {
        Item::new(
            Status::Pass,
            "media cores",
            format!(
                "{} ({}), online {}",
                layout.media_cores, layout.media_cores_from, layout.online
            ),
            "",
        )
    } else {
        Item::new(
            Status::Fail,
            "media cores",
            format!("{missing} not online (online {})", layout.online),
            "A shard pinned to a CPU that is not online cannot start.\nfix: [shards] cpus in the engine config",
        )
    }
}

/// The kernel version from `kernel.osrelease`: glommio needs 5.8.
pub fn decide_kernel(osrelease: io::Result<String>) -> Item {
    let name = "kernel version";
    let text = match osrelease {
        Ok(t) => t.trim().to_owned(),
        Err(e) => {
            return Item::new(
                Status::Warn,
                name,
                format!("cannot read /proc/sys/kernel/osrelease: {}", describe(&e)),
                "The media engine needs Linux >= 5.8 (io_uring as glommio uses it).",
            )
        }
    };
    let mut parts = text.split(|c: char| !c.is_ascii_digit());
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (major, minor) {
        (Some(major), Some(minor)) if (major, minor) >= (5, 8) => {
            Item::new(Status::Pass, name, format!("{text} (>= 5.8)"), "")
        }
        (Some(_), Some(_)) => Item::new(
            Status::Fail,
            name,
            format!("{text} (< 5.8)"),
            "glommio needs io_uring features of Linux 5.8; the media engine will not start.",
        ),
        _ => Item::new(
            Status::Warn,
            name,
            format!("{text:?} is not a version"),
            "The media engine needs Linux >= 5.8.",
        ),
    }
}

/// `kernel.io_uring_disabled` (Linux 6.6+): 0 on, 1 only for
/// `kernel.io_uring_group`, 2 off.
pub fn decide_io_uring_switch(disabled: io::Result<String>, group: io::Result<String>) -> Item {
    let name = "kernel.io_uring_disabled";
    match disabled.map(|t| t.trim().to_owned()) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Item::new(
            Status::Pass,
            name,
            "not present (kernel before 6.6: io_uring cannot be switched off)",
            "",
        ),
        Err(e) => Item::new(
            Status::Warn,
            name,
            format!("cannot read: {}", describe(&e)),
            "If it is 2, io_uring is off and the media engine cannot start.",
        ),
        Ok(v) if v == "0" => Item::new(Status::Pass, name, "0 (io_uring for every process)", ""),
        Ok(v) if v == "1" => {
            let gid = group
                .map(|g| g.trim().to_owned())
                .unwrap_or_else(|_| "?".into());
            Item::new(
                Status::Warn,
                name,
                format!("1 (only CAP_SYS_ADMIN or group {gid} may create rings)"),
                format!(
                    "The service user (mcu) must be in the group with gid {gid} \
                     (kernel.io_uring_group).\nfix: add mcu to that group, or sysctl -w kernel.io_uring_disabled=0"
                ),
            )
        }
        Ok(v) => Item::new(
            Status::Fail,
            name,
            format!("{v} (io_uring off for every process)"),
            "The media engine cannot start.\nfix: sysctl -w kernel.io_uring_disabled=0",
        ),
    }
}

/// The result of creating a real io_uring in this process.
pub fn decide_io_uring_probe(probe: io::Result<()>, root: bool) -> Item {
    let name = "io_uring_setup";
    let who = if root { "as root" } else { "as this user" };
    match probe {
        Ok(()) => Item::new(Status::Pass, name, format!("a ring was created {who}"), ""),
        Err(e) => {
            let why = match e.raw_os_error() {
                Some(libc::ENOSYS) => {
                    "The kernel has no io_uring, or a seccomp filter (container runtime, systemd \
                     SystemCallFilter) blocks io_uring_setup."
                }
                Some(libc::EPERM) | Some(libc::EACCES) => {
                    "Denied: kernel.io_uring_disabled, or a seccomp filter returning EPERM."
                }
                Some(libc::ENOMEM) => "Out of locked memory: raise RLIMIT_MEMLOCK.",
                _ => "The media engine needs io_uring (glommio).",
            };
            Item::new(
                Status::Fail,
                name,
                format!("failed {who}: {}", describe(&e)),
                why,
            )
        }
    }
}

/// Locked memory the shards need: glommio registers `io_memory_kib` (at
/// least 64 KiB) with each of its three rings per shard, and io_uring counts
/// each registration; glommio itself refuses below 512 KiB.
pub fn memlock_needed_bytes(shards: u64, io_memory_kib: u64) -> u64 {
    let per_ring_kib = io_memory_kib.div_ceil(4).saturating_mul(4).max(64);
    shards
        .saturating_mul(3)
        .saturating_mul(per_ring_kib)
        .saturating_mul(1024)
        .max(GLOMMIO_MEMLOCK_MIN_BYTES)
}

/// glommio's own floor (`MIN_MEMLOCK_LIMIT` in its reactor).
pub const GLOMMIO_MEMLOCK_MIN_BYTES: u64 = 512 * 1024;

/// `RLIMIT_MEMLOCK` of this process against what the shards lock.
pub fn decide_memlock(limit: io::Result<Option<u64>>, shards: u64, io_memory_kib: u64) -> Item {
    let name = "RLIMIT_MEMLOCK";
    let need = memlock_needed_bytes(shards, io_memory_kib);
    let scope = "This is the limit of the shell running the check; the service gets \
                 LimitMEMLOCK= from its unit (config/systemd: 64M).";
    let kib = |b: u64| format!("{} KiB", b / 1024);
    match limit {
        Err(e) => Item::new(
            Status::Warn,
            name,
            format!("getrlimit failed: {}", describe(&e)),
            scope,
        ),
        Ok(None) => Item::new(Status::Pass, name, "unlimited", ""),
        Ok(Some(bytes)) if bytes < GLOMMIO_MEMLOCK_MIN_BYTES => Item::new(
            Status::Fail,
            name,
            format!(
                "{} (glommio refuses below {})",
                kib(bytes),
                kib(GLOMMIO_MEMLOCK_MIN_BYTES)
            ),
            format!("{scope}\nfix: ulimit -l 65536, or LimitMEMLOCK=64M in the unit"),
        ),
        Ok(Some(bytes)) if bytes < need => Item::new(
            Status::Warn,
            name,
            format!(
                "{} (estimate for {shards} shard(s) x 3 rings x {io_memory_kib} KiB: {})",
                kib(bytes),
                kib(need)
            ),
            format!(
                "io_uring counts registered buffers against this limit, per user. {scope}\nfix: \
                 raise it (ulimit -l, LimitMEMLOCK=) or lower [shards] io_memory_kib"
            ),
        ),
        Ok(Some(bytes)) => Item::new(
            Status::Pass,
            name,
            format!("{} (>= {} for {shards} shard(s))", kib(bytes), kib(need)),
            "",
        ),
    }
}

/// The frequency governor of each media core: `performance` wanted.
pub fn gather_governor(host: &Host, media: &CpuSet) -> Item {
    let readings: Vec<(usize, io::Result<String>)> = media
        .0
        .iter()
        .map(|&cpu| {
            (
                cpu,
                host.read(&format!(
                    "/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor"
                )),
            )
        })
        .collect();
    decide_governor(readings)
}

/// See [`gather_governor`].
pub fn decide_governor(readings: Vec<(usize, io::Result<String>)>) -> Item {
    let name = "cpu governor";
    let mut absent = Vec::new();
    let mut unreadable = Vec::new();
    let mut other = Vec::new();
    let mut performance = Vec::new();
    for (cpu, reading) in readings {
        match reading {
            Ok(g) if g.trim() == "performance" => performance.push(cpu),
            Ok(g) => other.push(format!("cpu{cpu}={}", g.trim())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => absent.push(cpu),
            Err(e) => unreadable.push(format!("cpu{cpu}: {}", describe(&e))),
        }
    }
    let fix = "A core that clocks down between ticks wakes slowly (Red Hat tuned \
               latency-performance sets governor=performance).\nfix: cpupower frequency-set -g performance";
    if !other.is_empty() {
        return Item::new(Status::Warn, name, other.join(", "), fix);
    }
    if !unreadable.is_empty() {
        return Item::new(
            Status::Warn,
            name,
            format!("cannot read {}", unreadable.join(", ")),
            fix,
        );
    }
    if !absent.is_empty() {
        return Item::new(
            Status::Warn,
            name,
            format!(
                "no cpufreq on CPU {}",
                CpuSet::from_cpus(absent.iter().copied())
            ),
            "No cpufreq driver: usual in a VM, where the hypervisor sets the frequency.\nfix: on \
             bare metal, load the cpufreq driver or set the firmware power profile to performance",
        );
    }
    if performance.is_empty() {
        return Item::new(Status::Warn, name, "no media cores to check", "");
    }
    Item::new(
        Status::Pass,
        name,
        format!("performance on CPU {}", CpuSet::from_cpus(performance)),
        "",
    )
}

/// `isolcpus`, `nohz_full`, `rcu_nocbs` on the kernel command line must cover
/// the media cores (only a warning, and only where the profile cares).
pub fn decide_isolation(cmdline: &io::Result<String>, layout: &Layout, matters: bool) -> Vec<Item> {
    const PARAMS: [(&str, &str); 3] = [
        (
            "isolcpus",
            "keeps the scheduler from placing other tasks on the media cores",
        ),
        (
            "nohz_full",
            "stops the periodic scheduler tick on a core running one task",
        ),
        ("rcu_nocbs", "moves RCU callbacks off the media cores"),
    ];
    let media = &layout.media_cores;
    let cmdline = match cmdline {
        Ok(c) => c,
        Err(e) => {
            return vec![Item::new(
                if matters { Status::Warn } else { Status::Pass },
                "kernel cmdline",
                format!("cannot read /proc/cmdline: {}", describe(e)),
                "",
            )]
        }
    };
    let all_media = layout.online.is_subset(media);
    PARAMS
        .iter()
        .map(|(param, what)| {
            let found = cpus::isolation(cmdline, param);
            let covered = match &found {
                Isolation::All => true,
                Isolation::Cpus(set) => media.is_subset(set),
                _ => false,
            };
            let detail = match &found {
                Isolation::Absent => "not set".to_owned(),
                Isolation::All => "all CPUs".to_owned(),
                Isolation::Cpus(set) => set.to_string(),
                Isolation::Unparsed(v) => format!("{v:?} (not understood)"),
            };
            if covered {
                return Item::new(
                    Status::Pass,
                    param,
                    format!("{detail} covers media {media}"),
                    "",
                );
            }
            let status = if matters { Status::Warn } else { Status::Pass };
            let mut why = format!(
                "It {what}; a boot parameter, sysctl cannot change it.\nfix: add {param}={media} \
                 to GRUB_CMDLINE_LINUX and reboot"
            );
            if all_media && *param == "isolcpus" {
                why.push_str(
                    "\nfirst: every online CPU is a media core; keep one out of [shards] cpus \
                     for the kernel, IRQs and the control plane",
                );
            }
            let detail = if matters {
                format!("{detail}; media cores {media}")
            } else {
                format!("{detail} (not required by this profile)")
            };
            Item::new(status, param, detail, why)
        })
        .collect()
}

/// Transparent huge pages: `always` makes khugepaged collapse pages behind
/// the engine's back (tuned network-latency sets `never`).
pub fn decide_thp(enabled: io::Result<String>, always_warns: bool) -> Item {
    let name = "transparent hugepages";
    let text = match enabled {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Item::new(Status::Pass, name, "not built into this kernel", "")
        }
        Err(e) => {
            return Item::new(
                Status::Warn,
                name,
                format!("cannot read: {}", describe(&e)),
                "",
            )
        }
    };
    let mode = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix('[').and_then(|w| w.strip_suffix(']')))
        .unwrap_or("?")
        .to_owned();
    match mode.as_str() {
        "never" | "madvise" => Item::new(Status::Pass, name, mode, ""),
        "always" if always_warns => Item::new(
            Status::Warn,
            name,
            "always",
            "khugepaged and compaction stall allocations to build huge pages (Red Hat tuned \
             network-latency sets transparent_hugepages=never).\nfix: echo madvise > \
             /sys/kernel/mm/transparent_hugepage/enabled, or transparent_hugepage=madvise on \
             the kernel command line.",
        ),
        "always" => Item::new(Status::Pass, name, "always (fine for this profile)", ""),
        _ => Item::new(
            Status::Warn,
            name,
            format!("{:?} not understood", text.trim()),
            "",
        ),
    }
}

/// What was read about one network interface's interrupts.
#[derive(Debug)]
pub struct NicIrqs {
    /// Interface name.
    pub name: String,
    /// Each IRQ: number, its name in `/proc/interrupts`, and its affinity.
    pub irqs: Vec<(u32, String, io::Result<String>)>,
}

/// NICs with a device behind them (not `lo`, bridges, veth, ifb), and their
/// IRQs from the device's `msi_irqs`, its `irq`, or `/proc/interrupts` lines
/// that name the interface.
pub fn gather_nics(host: &Host) -> io::Result<Vec<NicIrqs>> {
    let interrupts = host.read("/proc/interrupts").unwrap_or_default();
    let names = irq_names(&interrupts);
    let mut nics = Vec::new();
    for iface in host.list("/sys/class/net")? {
        let device = format!("/sys/class/net/{iface}/device");
        if iface == "lo" || !host.exists(&device) {
            continue;
        }
        let mut numbers: Vec<u32> = Vec::new();
        // PCI NICs list their MSI vectors on the device; virtio-net's device
        // is the virtio child of the PCI function, one level down.
        let is_virtio = host
            .path(&device)
            .canonicalize()
            .ok()
            .and_then(|p| {
                p.file_name()
                    .map(|n| n.to_string_lossy().starts_with("virtio"))
            })
            .unwrap_or(false);
        let msi = if is_virtio {
            format!("{device}/../msi_irqs")
        } else {
            format!("{device}/msi_irqs")
        };
        if let Ok(entries) = host.list(&msi) {
            numbers.extend(entries.iter().filter_map(|e| e.parse::<u32>().ok()));
        }
        if numbers.is_empty() {
            if let Ok(irq) = host.read(&format!("{device}/irq")) {
                numbers.extend(irq.trim().parse::<u32>().ok().filter(|&n| n > 0));
            }
        }
        for (irq, label) in &names {
            if label
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .any(|w| w == iface)
            {
                numbers.push(*irq);
            }
        }
        numbers.sort_unstable();
        numbers.dedup();
        let irqs = numbers
            .into_iter()
            .map(|n| {
                let label = names
                    .iter()
                    .find(|(irq, _)| *irq == n)
                    .map(|(_, l)| l.clone())
                    .unwrap_or_default();
                (
                    n,
                    label,
                    host.read(&format!("/proc/irq/{n}/smp_affinity_list")),
                )
            })
            .collect();
        nics.push(NicIrqs { name: iface, irqs });
    }
    Ok(nics)
}

/// `/proc/interrupts`: IRQ number to its last column (the handler's name).
pub fn irq_names(interrupts: &str) -> Vec<(u32, String)> {
    interrupts
        .lines()
        .filter_map(|line| {
            let (number, rest) = line.trim_start().split_once(':')?;
            let number = number.parse::<u32>().ok()?;
            let label = rest.split_whitespace().last().unwrap_or("").to_owned();
            Some((number, label))
        })
        .collect()
}

/// NIC interrupts should not land on media cores: their hard IRQ and the
/// softirq after it take time from the tick.
pub fn decide_nic_irqs(nics: io::Result<Vec<NicIrqs>>, layout: &Layout) -> Vec<Item> {
    let media = &layout.media_cores;
    let nics = match nics {
        Ok(n) => n,
        Err(e) => {
            return vec![Item::new(
                Status::Warn,
                "nic irq affinity",
                format!("cannot list /sys/class/net: {}", describe(&e)),
                "",
            )]
        }
    };
    if nics.is_empty() {
        return vec![Item::new(
            Status::Warn,
            "nic irq affinity",
            "no network interface with a device in /sys/class/net",
            "Only virtual interfaces here (a container's veth?): check IRQ affinity on the host.",
        )];
    }
    let spare = layout.online.difference(media);
    nics.into_iter()
        .map(|nic| {
            let name = format!("nic irq affinity ({})", nic.name);
            if nic.irqs.is_empty() {
                return Item::new(
                    Status::Warn,
                    &name,
                    "no interrupts found for it",
                    "Neither msi_irqs, irq nor a /proc/interrupts line names it.",
                );
            }
            let mut on_media = Vec::new();
            let mut unreadable = Vec::new();
            for (irq, label, affinity) in &nic.irqs {
                match affinity
                    .as_ref()
                    .map_err(describe)
                    .and_then(|a| CpuSet::parse(a))
                {
                    Ok(set) => {
                        let hit = set.intersection(media);
                        if !hit.is_empty() {
                            on_media.push(format!("{irq} {label} -> {set}"));
                        }
                    }
                    Err(why) => unreadable.push(format!("{irq}: {why}")),
                }
            }
            let numbers: Vec<String> = nic.irqs.iter().map(|(n, _, _)| n.to_string()).collect();
            if !on_media.is_empty() {
                let target = if spare.is_empty() {
                    "fix: every online CPU is a media core, so the NIC has nowhere else to go; \
                     keep one CPU out of [shards] cpus for IRQs and the control plane"
                        .to_owned()
                } else {
                    format!(
                        "fix: echo {spare} > /proc/irq/N/smp_affinity_list for each, and tell \
                         irqbalance to keep off (IRQBALANCE_BANNED_CPULIST={media})."
                    )
                };
                return Item::new(
                    Status::Warn,
                    &name,
                    format!("media cores {media} take IRQ {}", on_media.join("; ")),
                    format!(
                        "Interrupt and softirq work on a media core delays its tick.\n{target}"
                    ),
                );
            }
            if !unreadable.is_empty() {
                return Item::new(
                    Status::Warn,
                    &name,
                    format!("cannot read affinity of IRQ {}", unreadable.join(", ")),
                    "",
                );
            }
            Item::new(
                Status::Pass,
                &name,
                format!("IRQ {} off media cores {media}", numbers.join(",")),
                "",
            )
        })
        .collect()
}

/// Every item of `check`, in report order.
pub fn run_checks(host: &Host, profile: &Profile, layout: &Layout) -> Vec<Item> {
    let mut items = gather_sysctls(host, profile, &layout.sizing);
    items.push(decide_media_cores(layout));
    items.push(decide_kernel(host.read_sysctl("kernel.osrelease")));
    items.push(decide_io_uring_switch(
        host.read_sysctl("kernel.io_uring_disabled"),
        host.read_sysctl("kernel.io_uring_group"),
    ));
    items.push(decide_io_uring_probe(
        host.probe().io_uring_probe(),
        host.probe().is_root(),
    ));
    items.push(decide_memlock(
        host.probe().memlock_soft_limit(),
        layout.shards,
        layout.io_memory_kib,
    ));
    items.push(gather_governor(host, &layout.media_cores));
    items.extend(decide_isolation(
        &host.read("/proc/cmdline"),
        layout,
        profile.isolation_matters,
    ));
    items.extend(decide_nic_irqs(gather_nics(host), layout));
    items.push(decide_thp(
        host.read("/sys/kernel/mm/transparent_hugepage/enabled"),
        profile.thp_always_warns,
    ));
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Compare, Setting};

    fn setting(compare: Compare, value: &str) -> Setting {
        Setting {
            key: "net.core.rmem_max".into(),
            value: Value::parse(value),
            reason: "r".into(),
            sources: vec![],
            compare,
            severity: Status::Fail,
            absent: Status::Warn,
            check_only: false,
        }
    }

    fn layout(media: &[usize], online: &[usize]) -> Layout {
        Layout {
            media_cores: CpuSet::from_cpus(media.iter().copied()),
            media_cores_from: "test".into(),
            online: CpuSet::from_cpus(online.iter().copied()),
            shards: media.len() as u64,
            io_memory_kib: 1024,
            sizing: Sizing {
                guardians: 10,
                media_burst_ms: 200,
                backlog_burst_ms: 40,
                ras_in_rmem_default: false,
            },
            guardians_from: "test".into(),
        }
    }

    fn os(errno: i32) -> io::Error {
        io::Error::from_raw_os_error(errno)
    }

    #[test]
    fn sysctl_min_passes_larger_and_fails_smaller() {
        let s = setting(Compare::Min, "100");
        assert_eq!(
            decide_sysctl(&s, &s.value, Ok("150\n".into())).status,
            Status::Pass
        );
        let item = decide_sysctl(&s, &s.value, Ok("99\n".into()));
        assert_eq!(item.status, Status::Fail);
        assert!(item.detail.contains(">= 100"), "{}", item.detail);
        assert!(
            item.why.contains("sysctl -w net.core.rmem_max=100"),
            "{}",
            item.why
        );
    }

    #[test]
    fn sysctl_read_errors_are_warnings_or_the_absent_status() {
        let s = setting(Compare::Exact, "1");
        let item = decide_sysctl(&s, &s.value, Err(os(libc::EACCES)));
        assert_eq!(item.status, Status::Warn);
        assert!(
            item.detail
                .starts_with("cannot read /proc/sys/net/core/rmem_max"),
            "{}",
            item.detail
        );
        let item = decide_sysctl(&s, &s.value, Err(os(libc::ENOENT)));
        assert_eq!(item.status, Status::Warn);
        let mut ok_absent = s.clone();
        ok_absent.absent = Status::Pass;
        assert_eq!(
            decide_sysctl(&ok_absent, &s.value, Err(os(libc::ENOENT))).status,
            Status::Pass
        );
    }

    #[test]
    fn kernel_version_needs_5_8() {
        assert_eq!(
            decide_kernel(Ok("6.18.44-fc\n".into())).status,
            Status::Pass
        );
        assert_eq!(decide_kernel(Ok("5.8.0".into())).status, Status::Pass);
        assert_eq!(
            decide_kernel(Ok("5.4.0-150-generic".into())).status,
            Status::Fail
        );
        assert_eq!(decide_kernel(Ok("weird".into())).status, Status::Warn);
        assert_eq!(decide_kernel(Err(os(libc::EACCES))).status, Status::Warn);
    }

    #[test]
    fn io_uring_switch_levels() {
        let group = || Ok::<_, io::Error>("1001\n".to_owned());
        assert_eq!(
            decide_io_uring_switch(Ok("0\n".into()), group()).status,
            Status::Pass
        );
        let one = decide_io_uring_switch(Ok("1\n".into()), group());
        assert_eq!(one.status, Status::Warn);
        assert!(one.why.contains("1001"), "{}", one.why);
        assert_eq!(
            decide_io_uring_switch(Ok("2\n".into()), group()).status,
            Status::Fail
        );
        assert_eq!(
            decide_io_uring_switch(Err(os(libc::ENOENT)), group()).status,
            Status::Pass
        );
    }

    #[test]
    fn io_uring_probe_errors_explain_themselves() {
        assert_eq!(decide_io_uring_probe(Ok(()), true).status, Status::Pass);
        let item = decide_io_uring_probe(Err(os(libc::ENOSYS)), false);
        assert_eq!(item.status, Status::Fail);
        assert!(item.why.contains("seccomp"), "{}", item.why);
    }

    #[test]
    fn memlock_thresholds_match_the_measurements() {
        // perf-notes: 2 executors start with 8 MiB and fail with 64 KiB.
        assert_eq!(
            decide_memlock(Ok(Some(8 << 20)), 2, 1024).status,
            Status::Pass
        );
        assert_eq!(
            decide_memlock(Ok(Some(64 << 10)), 2, 1024).status,
            Status::Fail
        );
        assert_eq!(
            decide_memlock(Ok(Some(4 << 20)), 2, 1024).status,
            Status::Warn
        );
        assert_eq!(decide_memlock(Ok(None), 64, 1024).status, Status::Pass);
        assert_eq!(
            decide_memlock(Err(os(libc::EINVAL)), 2, 1024).status,
            Status::Warn
        );
        assert_eq!(memlock_needed_bytes(2, 1024), 6 << 20);
        assert_eq!(memlock_needed_bytes(1, 0), GLOMMIO_MEMLOCK_MIN_BYTES);
        assert!(memlock_needed_bytes(u64::MAX, u64::MAX) > 0);
    }

    #[test]
    fn governor_absent_in_a_vm_is_a_warning_that_says_so() {
        let item = decide_governor(vec![(0, Err(os(libc::ENOENT))), (1, Err(os(libc::ENOENT)))]);
        assert_eq!(item.status, Status::Warn);
        assert!(item.why.contains("VM"), "{}", item.why);
        let item = decide_governor(vec![
            (0, Ok("performance\n".into())),
            (1, Ok("powersave\n".into())),
        ]);
        assert_eq!(item.status, Status::Warn);
        assert!(item.detail.contains("cpu1=powersave"), "{}", item.detail);
        let item = decide_governor(vec![(2, Ok("performance\n".into()))]);
        assert_eq!(item.status, Status::Pass);
    }

    #[test]
    fn isolation_must_cover_the_media_cores() {
        let l = layout(&[2, 3], &[0, 1, 2, 3]);
        let cmdline = Ok("ro isolcpus=domain,1-3 nohz_full=2 rcu_nocbs=all".to_owned());
        let items = decide_isolation(&cmdline, &l, true);
        let status: Vec<Status> = items.iter().map(|i| i.status).collect();
        assert_eq!(status, vec![Status::Pass, Status::Warn, Status::Pass]);
        let items = decide_isolation(&Ok("ro".into()), &l, false);
        assert!(items.iter().all(|i| i.status == Status::Pass));
        let items = decide_isolation(&Ok("ro".into()), &layout(&[0, 1], &[0, 1]), true);
        assert!(
            items[0].why.contains("every online CPU is a media core"),
            "{}",
            items[0].why
        );
    }

    #[test]
    fn thp_modes() {
        let t = |s: &str, w| decide_thp(Ok(s.into()), w).status;
        assert_eq!(t("always [madvise] never\n", true), Status::Pass);
        assert_eq!(t("[always] madvise never\n", true), Status::Warn);
        assert_eq!(t("[always] madvise never\n", false), Status::Pass);
        assert_eq!(t("garbage", true), Status::Warn);
        assert_eq!(decide_thp(Err(os(libc::ENOENT)), true).status, Status::Pass);
    }

    #[test]
    fn irq_names_parse_proc_interrupts() {
        let text = "           CPU0       CPU1\n 38:          0       6133 PCI-MSIX-0000:00:03.0   1-edge      virtio2-input.0\nNMI:  0 0 Non-maskable interrupts\n";
        assert_eq!(irq_names(text), vec![(38, "virtio2-input.0".to_owned())]);
    }

    #[test]
    fn nic_irqs_on_media_cores_warn_with_a_fix() {
        let l = layout(&[1, 2], &[0, 1, 2, 3]);
        let nic = |aff: &str| NicIrqs {
            name: "eth0".into(),
            irqs: vec![(40, "eth0-rx-0".into(), Ok(aff.to_owned()))],
        };
        let items = decide_nic_irqs(Ok(vec![nic("0,3\n")]), &l);
        assert_eq!(items[0].status, Status::Pass);
        let items = decide_nic_irqs(Ok(vec![nic("0-3\n")]), &l);
        assert_eq!(items[0].status, Status::Warn);
        assert!(
            items[0]
                .why
                .contains("echo 0,3 > /proc/irq/N/smp_affinity_list"),
            "{}",
            items[0].why
        );
        assert_eq!(decide_nic_irqs(Ok(vec![]), &l)[0].status, Status::Warn);
        assert_eq!(
            decide_nic_irqs(Err(os(libc::EACCES)), &l)[0].status,
            Status::Warn
        );
    }

    #[test]
    fn media_cores_must_be_online() {
        assert_eq!(
            decide_media_cores(&layout(&[0, 1], &[0, 1])).status,
            Status::Pass
        );
        assert_eq!(
            decide_media_cores(&layout(&[4], &[0, 1])).status,
            Status::Fail
        );
    }
}
