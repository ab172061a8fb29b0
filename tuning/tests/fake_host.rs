//! `engine tune` end to end against a fake `/proc` and `/sys` tree in a temp
//! dir: check grades a tuned and an untuned host, apply writes every value
//! (and says which failed), dry-run writes nothing, bad input is an error
//! with exit 3. Nothing here touches the real /proc/sys.

use std::fs;
use std::path::{Path, PathBuf};

use clap::Parser;
use tuning::host::FakeProbe;
use tuning::{exit_code, run_on, ExitStatus, Host, TuneCommand, TuneError};

/// `engine tune`'s argument parsing, as the engine binary embeds it.
#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    command: TuneCommand,
}

fn parse(args: &[&str]) -> TuneCommand {
    Cli::try_parse_from(std::iter::once("tune").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
        .command
}

struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    /// A 4-CPU host with stock kernel defaults, a NIC (IRQs 40, 41 on every
    /// CPU), no cpufreq, no isolation.
    fn untuned() -> Fake {
        let fake = Fake {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        for (key, value) in [
            ("net/core/rmem_default", "212992"),
            ("net/core/rmem_max", "212992"),
            ("net/core/wmem_default", "212992"),
            ("net/core/wmem_max", "212992"),
            ("net/ipv4/udp_rmem_min", "4096"),
            ("net/core/netdev_max_backlog", "1000"),
            ("net/ipv4/udp_mem", "575799\t767734\t1151598"),
            ("net/core/busy_read", "0"),
            ("net/core/busy_poll", "0"),
            ("net/core/netdev_budget", "300"),
            ("net/core/netdev_budget_usecs", "8000"),
            ("kernel/numa_balancing", "1"),
            ("kernel/timer_migration", "1"),
            ("kernel/nmi_watchdog", "1"),
            ("kernel/osrelease", "6.8.0-45-generic"),
            ("kernel/io_uring_disabled", "0"),
            ("vm/swappiness", "60"),
            ("vm/stat_interval", "1"),
        ] {
            fake.write(&format!("proc/sys/{key}"), &format!("{value}\n"));
        }
        fake.write(
            "proc/cmdline",
            "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n",
        );
        fake.write(
            "proc/interrupts",
            "            CPU0       CPU1       CPU2       CPU3\n \
             40:   1 2 3 4  PCI-MSI 524288-edge      eth0-TxRx-0\n \
             41:   1 2 3 4  PCI-MSI 524289-edge      eth0-TxRx-1\n\
             LOC:  9 9 9 9  Local timer interrupts\n",
        );
        fake.write("proc/irq/40/smp_affinity_list", "0-3\n");
        fake.write("proc/irq/41/smp_affinity_list", "0-3\n");
        fake.write(
            "proc/self/mounts",
            "proc /proc proc rw,nosuid,nodev,noexec 0 0\n",
        );
        fake.write("sys/devices/system/cpu/online", "0-3\n");
        fake.write("sys/class/net/eth0/device/msi_irqs/40", "msi\n");
        fake.write("sys/class/net/eth0/device/msi_irqs/41", "msi\n");
        fs::create_dir_all(fake.path("sys/class/net/lo")).expect("mkdir");
        fake.write(
            "sys/kernel/mm/transparent_hugepage/enabled",
            "[always] madvise never\n",
        );
        fake
    }

    /// The same host tuned for low-latency with media cores 1-3.
    fn tuned() -> Fake {
        let fake = Fake::untuned();
        for (key, value) in [
            // Sized for the config's 3 shards x 1000 guardians.
            ("net/core/rmem_max", "8388608"),
            ("net/core/wmem_max", "8388608"),
            ("net/ipv4/udp_rmem_min", "28672"),
            ("net/core/netdev_max_backlog", "8000"),
            ("net/core/busy_read", "50"),
            ("net/core/busy_poll", "50"),
            ("net/core/netdev_budget_usecs", "2000"),
            ("kernel/numa_balancing", "0"),
            ("kernel/timer_migration", "0"),
            ("kernel/nmi_watchdog", "0"),
            ("vm/swappiness", "10"),
            ("vm/stat_interval", "10"),
        ] {
            fake.write(&format!("proc/sys/{key}"), &format!("{value}\n"));
        }
        fake.write(
            "proc/cmdline",
            "ro isolcpus=managed_irq,domain,1-3 nohz_full=1-3 rcu_nocbs=1-3 -- splash\n",
        );
        fake.write("proc/irq/40/smp_affinity_list", "0\n");
        fake.write("proc/irq/41/smp_affinity_list", "0\n");
        for cpu in 0..4 {
            fake.write(
                &format!("sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor"),
                "performance\n",
            );
        }
        fake.write(
            "sys/kernel/mm/transparent_hugepage/enabled",
            "always madvise [never]\n",
        );
        fake.write(
            "engine.toml",
            "[shards]\ncpus = [1, 2, 3]\nio_memory_kib = 1024\n[media]\nport_first = 20000\n",
        );
        fake
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).expect("read")
    }

    fn host(&self) -> Host {
        self.host_with(FakeProbe {
            memlock: Ok(Some(64 << 20)),
            io_uring: Ok(()),
            root: true,
        })
    }

    fn host_with(&self, probe: FakeProbe) -> Host {
        Host::at(self.dir.path(), Box::new(probe))
    }

    fn config(&self) -> String {
        self.path("engine.toml").display().to_string()
    }
}

fn run(host: &Host, args: &[&str]) -> (Result<ExitStatus, TuneError>, String) {
    let mut out = Vec::new();
    let result = run_on(&parse(args), host, &mut out);
    (result, String::from_utf8(out).expect("utf-8 report"))
}

fn line<'a>(report: &'a str, name: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.len() > 6 && l[6..].starts_with(name))
        .unwrap_or_else(|| panic!("no line for {name} in:\n{report}"))
}

#[test]
fn a_tuned_host_passes_everything() {
    let fake = Fake::tuned();
    let config = fake.config();
    let (result, report) = run(
        &fake.host(),
        &["check", "--profile", "low-latency", "--config", &config],
    );
    assert_eq!(result.expect("runs"), ExitStatus::Pass, "{report}");
    assert!(
        report.contains("media cores: 1-3 ([shards] cpus); systemd: CPUAffinity=1 2 3"),
        "{report}"
    );
    assert!(
        report.contains("sizing: 3000 guardians (engine config"),
        "{report}"
    );
    assert!(
        !report
            .lines()
            .any(|l| l.starts_with("WARN") || l.starts_with("FAIL")),
        "{report}"
    );
    assert!(report.contains("-> exit 0"), "{report}");
}

#[test]
fn an_untuned_host_fails_with_reasons_and_fixes() {
    let fake = Fake::untuned();
    let (result, report) = run(&fake.host(), &["check", "--profile", "low-latency"]);
    let status = result.expect("runs");
    assert_eq!(status, ExitStatus::Fail, "{report}");
    assert_eq!(exit_code(&Ok(status)), 2);
    assert!(
        line(&report, "net.core.rmem_max").starts_with("FAIL"),
        "{report}"
    );
    assert!(
        report.contains("fix: sysctl -w net.core.rmem_max=5251072"),
        "{report}"
    );
    assert!(
        line(&report, "vm.swappiness").starts_with("WARN"),
        "{report}"
    );
    assert!(
        line(&report, "net.ipv4.udp_mem").starts_with("PASS"),
        "{report}"
    );
    assert!(
        line(&report, "cpu governor").contains("no cpufreq"),
        "{report}"
    );
    assert!(line(&report, "isolcpus").starts_with("WARN"), "{report}");
    assert!(
        line(&report, "nic irq affinity (eth0)").contains("40 eth0-TxRx-0 -> 0-3"),
        "{report}"
    );
    assert!(
        line(&report, "transparent hugepages").starts_with("WARN"),
        "{report}"
    );
    assert!(!report.contains("nic irq affinity (lo)"), "{report}");
}

#[test]
fn throughput_does_not_ask_for_isolation() {
    let fake = Fake::untuned();
    let (_, report) = run(&fake.host(), &["check", "--profile", "throughput"]);
    assert!(line(&report, "isolcpus").starts_with("PASS"), "{report}");
    assert!(
        line(&report, "transparent hugepages").starts_with("PASS"),
        "{report}"
    );
}

#[test]
fn more_guardians_need_bigger_buffers() {
    let fake = Fake::tuned();
    let config = fake.config();
    let (result, report) = run(
        &fake.host(),
        &[
            "check",
            "--profile",
            "low-latency",
            "--config",
            &config,
            "--guardians",
            "10000",
        ],
    );
    assert_eq!(result.expect("runs"), ExitStatus::Fail, "{report}");
    assert!(
        line(&report, "net.core.rmem_max").contains("want >= 26243072"),
        "{report}"
    );
}

#[test]
fn unreadable_and_missing_entries_are_warnings_not_panics() {
    let fake = Fake::untuned();
    // A directory where a file should be: reading it fails with EISDIR.
    fs::remove_file(fake.path("proc/sys/vm/swappiness")).expect("rm");
    fs::create_dir_all(fake.path("proc/sys/vm/swappiness")).expect("mkdir");
    fs::remove_file(fake.path("proc/sys/net/core/busy_read")).expect("rm");
    fs::remove_file(fake.path("proc/cmdline")).expect("rm");
    fs::remove_file(fake.path("sys/devices/system/cpu/online")).expect("rm");
    fs::remove_dir_all(fake.path("sys/class")).expect("rm");
    fs::write(fake.path("proc/irq/40/smp_affinity_list"), "garbage").expect("write");
    let probe = FakeProbe {
        memlock: Err(libc::EPERM),
        io_uring: Err(libc::ENOSYS),
        root: false,
    };
    let (result, report) = run(
        &fake.host_with(probe),
        &["check", "--profile", "low-latency"],
    );
    assert_eq!(result.expect("runs"), ExitStatus::Fail, "{report}");
    assert!(
        line(&report, "vm.swappiness").contains("cannot read /proc/sys/vm/swappiness"),
        "{report}"
    );
    assert!(
        line(&report, "net.core.busy_read").contains("not present"),
        "{report}"
    );
    assert!(
        line(&report, "kernel cmdline").starts_with("WARN"),
        "{report}"
    );
    assert!(line(&report, "online cpus").starts_with("WARN"), "{report}");
    assert!(
        line(&report, "nic irq affinity").contains("cannot list"),
        "{report}"
    );
    assert!(
        line(&report, "io_uring_setup").starts_with("FAIL"),
        "{report}"
    );
    assert!(report.contains("note: not root"), "{report}");

    // An empty root: nothing readable at all.
    let empty = tempfile::tempdir().expect("tempdir");
    let host = Host::at(
        empty.path(),
        Box::new(FakeProbe {
            memlock: Ok(None),
            io_uring: Ok(()),
            root: true,
        }),
    );
    let (result, report) = run(&host, &["check", "--profile", "balanced"]);
    assert_eq!(result.expect("runs"), ExitStatus::Warn, "{report}");
}

#[test]
fn apply_writes_every_value_and_then_check_passes_the_sysctls() {
    let fake = Fake::untuned();
    let host = fake.host();
    let (result, report) = run(&host, &["apply", "--profile", "low-latency"]);
    assert_eq!(result.expect("runs"), ExitStatus::Pass, "{report}");
    assert!(
        report.contains("ok      net.core.rmem_max = 5251072 (was 212992)"),
        "{report}"
    );
    assert!(
        report.contains("keep    net.core.rmem_default = 212992"),
        "{report}"
    );
    assert!(report.contains("skip    net.ipv4.udp_mem"), "{report}");
    assert!(
        report.contains("summary: 12 written, 2 kept, 0 failed, 1 checked only"),
        "{report}"
    );
    assert_eq!(fake.read("proc/sys/net/core/rmem_max"), "5251072");
    assert_eq!(fake.read("proc/sys/vm/swappiness"), "10");
    // udp_mem is never written.
    assert_eq!(
        fake.read("proc/sys/net/ipv4/udp_mem"),
        "575799\t767734\t1151598\n"
    );

    let (_, report) = run(&host, &["check", "--profile", "low-latency"]);
    for l in report
        .lines()
        .filter(|l| l.contains("net.") || l.contains("vm.") || l.contains("kernel."))
    {
        if l.starts_with("WARN") || l.starts_with("FAIL") {
            panic!("after apply: {l}\n{report}");
        }
    }

    let (_, report) = run(&host, &["apply", "--profile", "low-latency"]);
    assert!(report.contains("summary: 0 written, 14 kept"), "{report}");
}

#[test]
fn apply_keeps_larger_sizes_and_reports_each_failure() {
    let fake = Fake::untuned();
    fake.write("proc/sys/net/core/rmem_max", "16777216\n");
    // EISDIR on write, as a stand-in for EROFS/EACCES (root ignores modes).
    fs::remove_file(fake.path("proc/sys/vm/swappiness")).expect("rm");
    fs::create_dir_all(fake.path("proc/sys/vm/swappiness")).expect("mkdir");
    fs::remove_file(fake.path("proc/sys/net/core/busy_poll")).expect("rm");
    fake.write(
        "proc/self/mounts",
        "proc /proc proc rw 0 0\nproc /proc/sys proc ro,nosuid 0 0\n",
    );
    let (result, report) = run(&fake.host(), &["apply", "--profile", "low-latency"]);
    assert_eq!(result.expect("runs"), ExitStatus::Fail, "{report}");
    assert!(
        report.contains("note: /proc/sys is mounted read-only"),
        "{report}"
    );
    assert!(
        report.contains("keep    net.core.rmem_max = 16777216"),
        "{report}"
    );
    assert!(report.contains("FAILED  vm.swappiness = 10:"), "{report}");
    assert!(report.contains("FAILED  net.core.busy_poll = 50: No such file or directory (not present on this kernel)"), "{report}");
    assert!(report.contains("2 failed"), "{report}");
    assert!(report.contains("the host is partly tuned"), "{report}");
    assert_eq!(fake.read("proc/sys/net/core/rmem_max"), "16777216\n");
    assert!(
        !fake.path("proc/sys/net/core/busy_poll").exists(),
        "apply never creates keys"
    );
}

#[test]
fn dry_run_prints_sysctl_lines_and_writes_nothing() {
    let fake = Fake::untuned();
    let before = fake.read("proc/sys/net/core/rmem_max");
    let (result, report) = run(
        &fake.host(),
        &[
            "apply",
            "--profile",
            "throughput",
            "--dry-run",
            "--guardians",
            "4000",
        ],
    );
    assert_eq!(result.expect("runs"), ExitStatus::Pass, "{report}");
    assert!(
        report.contains("sysctl -w net.core.rmem_max=10498048"),
        "{report}"
    );
    assert!(
        report.contains("sysctl -w net.core.netdev_budget=600"),
        "{report}"
    );
    assert!(report.contains("# net.ipv4.udp_mem >= "), "{report}");
    assert!(
        report.contains("# net.core.busy_read = 0 already passes"),
        "{report}"
    );
    assert_eq!(fake.read("proc/sys/net/core/rmem_max"), before);
}

#[test]
fn show_prints_every_setting_with_its_reason() {
    let fake = Fake::untuned();
    for profile in ["low-latency", "balanced", "throughput"] {
        let (result, report) = run(&fake.host(), &["show", "--profile", profile]);
        assert_eq!(result.expect("runs"), ExitStatus::Pass);
        let parsed = tuning::profile::builtin(profile).expect("parses");
        for s in &parsed.settings {
            assert!(
                report.contains(&format!("{} = ", s.key)),
                "{profile}: {}\n{report}",
                s.key
            );
            assert!(report.contains(&s.reason), "{profile}: {}", s.key);
        }
        assert!(report.contains("source: "), "{report}");
    }
    let (_, report) = run(
        &fake.host(),
        &["show", "--profile", "balanced", "--guardians", "4000"],
    );
    assert!(
        report.contains("net.core.rmem_default = 10498048"),
        "{report}"
    );
    assert!(report.contains("file has 5251072 for 2000"), "{report}");
}

#[test]
fn show_sysctl_writes_a_sized_sysctl_d_file() {
    let fake = Fake::untuned();
    let (result, text) = run(
        &fake.host(),
        &[
            "show",
            "--profile",
            "low-latency",
            "--guardians",
            "10000",
            "--sysctl",
        ],
    );
    assert_eq!(result.expect("runs"), ExitStatus::Pass);
    assert!(text.contains("\nnet.core.rmem_max = 26243072\n"), "{text}");
    assert!(text.contains("# param: guardians_ref = 10000"), "{text}");
    assert!(text.contains("# reason: "), "{text}");
    let back = tuning::profile::parse("low-latency", &text).expect("the output is a profile");
    assert_eq!(back.sizing.guardians, 10_000);
}

#[test]
fn bad_input_is_an_error_with_exit_3() {
    let fake = Fake::untuned();
    let (result, _) = run(&fake.host(), &["check", "--profile", "fastest"]);
    let err = result.expect_err("unknown profile");
    assert!(
        err.to_string()
            .contains("known profiles: low-latency, balanced, throughput"),
        "{err}"
    );
    assert_eq!(exit_code(&Err(err)), 3);

    let missing = fake.path("nope.toml").display().to_string();
    let (result, _) = run(
        &fake.host(),
        &["check", "--profile", "balanced", "--config", &missing],
    );
    assert!(matches!(result, Err(TuneError::ConfigRead { .. })));

    fake.write("bad.toml", "[shards]\ncpus = \"all\"\n");
    let bad = fake.path("bad.toml").display().to_string();
    let (result, _) = run(
        &fake.host(),
        &["check", "--profile", "balanced", "--config", &bad],
    );
    assert!(result
        .expect_err("bad config")
        .to_string()
        .contains("shards.cpus"));

    let (result, _) = run(
        &fake.host(),
        &["check", "--profile", "balanced", "--media-cores", "x"],
    );
    assert!(matches!(result, Err(TuneError::MediaCores { .. })));
    assert!(
        Cli::try_parse_from(["tune", "check", "--profile", "balanced", "--guardians", "0"])
            .is_err()
    );
    assert!(Cli::try_parse_from(["tune", "apply"]).is_err());
}

#[test]
fn media_cores_override_and_offline_cores() {
    let fake = Fake::tuned();
    let (result, report) = run(
        &fake.host(),
        &["check", "--profile", "low-latency", "--media-cores", "2,7"],
    );
    assert_eq!(result.expect("runs"), ExitStatus::Fail, "{report}");
    assert!(
        line(&report, "media cores").contains("7 not online"),
        "{report}"
    );
}

#[test]
fn the_repository_engine_config_is_understood() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/engine.toml");
    let fake = Fake::tuned();
    let config = config.display().to_string();
    let (result, report) = run(
        &fake.host(),
        &["check", "--profile", "balanced", "--config", &config],
    );
    result.expect("runs");
    // [shards] cpus = [] and count = 0: every online CPU of the fake host.
    assert!(
        report.contains("media cores: 0-3 (every online CPU"),
        "{report}"
    );
    assert!(report.contains("sizing: 4000 guardians"), "{report}");
}
