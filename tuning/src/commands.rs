//! The three subcommands: gather inputs, call the pure parts, print.

use std::io::{self, Write};

use crate::check::{self, Item, Layout};
use crate::config::ShardLayout;
use crate::cpus::CpuSet;
use crate::host::{describe, Host};
use crate::profile::{self, compare, resolve, Profile, Status, Value, Verdict};
use crate::sizing::Sizing;
use crate::{ApplyArgs, CheckArgs, ExitStatus, ShowArgs, SizingArgs, TuneError};

/// The engine config's layout, if `--config` was given.
/// The config is an ordinary file of the operator's, not part of the host
/// tree: it is read as given.
fn read_layout(args: &SizingArgs) -> Result<Option<ShardLayout>, TuneError> {
    let Some(path) = &args.config else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| TuneError::ConfigRead {
        path: shown.clone(),
        source,
    })?;
    Ok(Some(ShardLayout::from_toml(&shown, &text)?))
}

/// The sizing for this run and where its guardian count came from.
fn sizing_for(
    profile: &Profile,
    args: &SizingArgs,
    layout: Option<&ShardLayout>,
    media: &CpuSet,
) -> (Sizing, String) {
    let (guardians, from) = match (args.guardians, layout) {
        (Some(n), _) => (n, "--guardians".to_owned()),
        (None, Some(l)) => (
            l.guardians_max(media),
            format!(
                "engine config: {} shard(s) x min({} rooms x {} participants, {} ports / 2)",
                l.shard_count(media),
                l.rooms_max,
                l.room_participants_max,
                l.ports_per_shard
            ),
        ),
        (None, None) => (
            profile.sizing.guardians,
            "the profile's reference count".to_owned(),
        ),
    };
    (
        Sizing {
            guardians,
            ..profile.sizing
        },
        from,
    )
}

/// The sizing formulas in one line (tuning/src/sizing.rs has the reasons).
const FORMULAS: &str = "formulas: truesize = 2624 B per datagram; media = 50 packets/s x media \
    burst x truesize (one socket per participant); ras_storm = N x truesize (one RAS socket); \
    backlog = N x 50/s x backlog burst; udp_mem = N x media + ras_storm, in pages";

fn sizing_line(sizing: &Sizing, from: &str) -> String {
    format!(
        "sizing: {} guardians ({from}); media burst {} ms, backlog burst {} ms",
        sizing.guardians, sizing.media_burst_ms, sizing.backlog_burst_ms
    )
}

pub(crate) fn show(
    args: &ShowArgs,
    host: &Host,
    out: &mut dyn Write,
) -> Result<ExitStatus, TuneError> {
    let profile = profile::builtin(&args.profile)?;
    let layout = read_layout(&args.sizing)?;
    let (online, _) = check::gather_online(host);
    let media = layout
        .as_ref()
        .map_or_else(|| online.clone(), |l| l.media_cores(&online));
    let (sizing, from) = sizing_for(&profile, &args.sizing, layout.as_ref(), &media);
    if args.sysctl {
        let text = profile::builtin_text(&profile.name).unwrap_or_default();
        write!(out, "{}", profile::render_sized(&profile, text, &sizing))?;
        return Ok(ExitStatus::Pass);
    }
    writeln!(out, "profile {}: {}", profile.name, profile.summary)?;
    writeln!(out, "{}", sizing_line(&sizing, &from))?;
    writeln!(out, "{FORMULAS}")?;
    writeln!(out)?;
    for s in &profile.settings {
        let value = resolve(s, &sizing);
        let mut flags = vec![
            format!("check {}", s.compare.symbol()),
            format!("else {}", s.severity),
        ];
        if s.check_only {
            flags.push("checked only, never written".into());
        }
        if value != s.value {
            flags.push(format!(
                "file has {} for {}",
                s.value, profile.sizing.guardians
            ));
        }
        writeln!(out, "{} = {}    [{}]", s.key, value, flags.join("; "))?;
        writeln!(out, "    why:    {}", s.reason)?;
        for source in &s.sources {
            writeln!(out, "    source: {source}")?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "host checks (engine tune check): kernel >= 5.8, io_uring, RLIMIT_MEMLOCK, CPU governor, \
         isolcpus/nohz_full/rcu_nocbs ({}), NIC IRQ affinity, transparent hugepages (always: {})",
        if profile.isolation_matters {
            "WARN if missing"
        } else {
            "not required"
        },
        if profile.thp_always_warns {
            "WARN"
        } else {
            "fine"
        },
    )?;
    Ok(ExitStatus::Pass)
}

pub(crate) fn check(
    args: &CheckArgs,
    host: &Host,
    out: &mut dyn Write,
) -> Result<ExitStatus, TuneError> {
    let profile = profile::builtin(&args.profile)?;
    let shard_layout = read_layout(&args.sizing)?;
    let (online, online_item) = check::gather_online(host);
    let (media, media_from) = match (&args.media_cores, &shard_layout) {
        (Some(text), _) => {
            let set = CpuSet::parse(text).map_err(|why| TuneError::MediaCores {
                text: text.clone(),
                why,
            })?;
            if set.is_empty() {
                return Err(TuneError::MediaCores {
                    text: text.clone(),
                    why: "no CPU listed".into(),
                });
            }
            (set, "--media-cores".to_owned())
        }
        (None, Some(l)) if !l.cpus.is_empty() => (l.media_cores(&online), "[shards] cpus".into()),
        (None, Some(l)) if l.count > 0 => {
            (l.media_cores(&online), "[shards] count, CPUs 0..".into())
        }
        (None, _) => (online.clone(), "every online CPU: no [shards] cpus".into()),
    };
    let (sizing, guardians_from) =
        sizing_for(&profile, &args.sizing, shard_layout.as_ref(), &media);
    let defaults = ShardLayout::default();
    let l = shard_layout.as_ref().unwrap_or(&defaults);
    let layout = Layout {
        shards: l.shard_count(&media),
        io_memory_kib: l.io_memory_kib,
        media_cores: media,
        media_cores_from: media_from,
        online,
        sizing,
        guardians_from,
    };

    writeln!(out, "engine tune check --profile {}", profile.name)?;
    writeln!(
        out,
        "media cores: {} ({}); systemd: CPUAffinity={}",
        layout.media_cores,
        layout.media_cores_from,
        layout.media_cores.to_systemd()
    )?;
    writeln!(
        out,
        "{}",
        sizing_line(&layout.sizing, &layout.guardians_from)
    )?;
    for note in environment_notes(host) {
        writeln!(out, "note: {note}")?;
    }
    writeln!(out)?;

    let mut items = Vec::new();
    items.extend(online_item);
    items.extend(check::run_checks(host, &profile, &layout));
    print_items(&items, out)?;
    let worst = items.iter().map(|i| i.status).max().unwrap_or(Status::Pass);
    let count = |s: Status| items.iter().filter(|i| i.status == s).count();
    let status = ExitStatus::from_worst(worst);
    writeln!(out)?;
    writeln!(
        out,
        "summary: {} PASS, {} WARN, {} FAIL -> exit {}",
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail),
        status.code()
    )?;
    Ok(status)
}

/// Width of the name column.
const NAME_WIDTH: usize = 30;

fn print_items(items: &[Item], out: &mut dyn Write) -> io::Result<()> {
    for item in items {
        writeln!(
            out,
            "{}  {:<NAME_WIDTH$} {}",
            item.status, item.name, item.detail
        )?;
        if item.status != Status::Pass {
            for line in item.why.lines().filter(|l| !l.is_empty()) {
                writeln!(out, "      {line}")?;
            }
        }
    }
    Ok(())
}

/// What this host lets `apply` do, said up front.
fn environment_notes(host: &Host) -> Vec<String> {
    let mut notes = Vec::new();
    if host.proc_sys_read_only() {
        notes.push(
            "/proc/sys is mounted read-only (a container): values can be checked here but not \
             applied; apply the profile on the host"
                .to_owned(),
        );
    }
    if !host.probe().is_root() {
        notes.push("not root: `engine tune apply` would be refused by /proc/sys".to_owned());
    }
    notes
}

/// What `apply` does with one setting.
enum Plan {
    /// Checked only: not written.
    CheckOnly,
    /// The live value already passes (larger sizes are kept).
    Keep(Value),
    /// Needs a write; the live value or why it could not be read.
    Write(Result<Value, String>),
}

fn plan(setting: &profile::Setting, want: &Value, host: &Host) -> Plan {
    if setting.check_only {
        return Plan::CheckOnly;
    }
    match host.read_sysctl(&setting.key) {
        Ok(text) => {
            let live = Value::parse(&text);
            if compare(setting.compare, want, &live) == Verdict::Ok {
                Plan::Keep(live)
            } else {
                Plan::Write(Ok(live))
            }
        }
        Err(e) => Plan::Write(Err(describe(&e))),
    }
}

fn quoted(value: &Value) -> String {
    if value.0.len() > 1 {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

pub(crate) fn apply(
    args: &ApplyArgs,
    host: &Host,
    out: &mut dyn Write,
) -> Result<ExitStatus, TuneError> {
    let profile = profile::builtin(&args.profile)?;
    let layout = read_layout(&args.sizing)?;
    let (online, _) = check::gather_online(host);
    let media = layout
        .as_ref()
        .map_or_else(|| online.clone(), |l| l.media_cores(&online));
    let (sizing, from) = sizing_for(&profile, &args.sizing, layout.as_ref(), &media);

    if args.dry_run {
        writeln!(
            out,
            "# engine tune apply --profile {} --dry-run",
            profile.name
        )?;
        writeln!(out, "# {}", sizing_line(&sizing, &from))?;
        for s in &profile.settings {
            let want = resolve(s, &sizing);
            match plan(s, &want, host) {
                Plan::CheckOnly => writeln!(
                    out,
                    "# {} {} {}: checked only, not written",
                    s.key,
                    s.compare.symbol(),
                    want
                )?,
                Plan::Keep(live) => writeln!(
                    out,
                    "# {} = {} already passes ({} {})",
                    s.key,
                    live,
                    s.compare.symbol(),
                    want
                )?,
                Plan::Write(_) => writeln!(out, "sysctl -w {}={}", s.key, quoted(&want))?,
            }
        }
        return Ok(ExitStatus::Pass);
    }

    writeln!(out, "engine tune apply --profile {}", profile.name)?;
    writeln!(out, "{}", sizing_line(&sizing, &from))?;
    for note in environment_notes(host) {
        writeln!(out, "note: {note}")?;
    }
    let (mut written, mut kept, mut failed, mut check_only) = (0, 0, 0, 0);
    for s in &profile.settings {
        let want = resolve(s, &sizing);
        match plan(s, &want, host) {
            Plan::CheckOnly => {
                check_only += 1;
                writeln!(
                    out,
                    "skip    {} (checked only: {} {}; see engine tune check)",
                    s.key,
                    s.compare.symbol(),
                    want
                )?;
            }
            Plan::Keep(live) => {
                kept += 1;
                writeln!(
                    out,
                    "keep    {} = {} (passes {} {})",
                    s.key,
                    live,
                    s.compare.symbol(),
                    want
                )?;
            }
            Plan::Write(before) => {
                let before = match before {
                    Ok(v) => v.to_string(),
                    Err(why) => format!("unreadable: {why}"),
                };
                match host.write_sysctl(&s.key, &want.to_string()) {
                    Ok(()) => {
                        written += 1;
                        writeln!(out, "ok      {} = {} (was {before})", s.key, want)?;
                    }
                    Err(e) => {
                        failed += 1;
                        writeln!(out, "FAILED  {} = {}: {}", s.key, want, write_error(&e))?;
                    }
                }
            }
        }
    }
    writeln!(
        out,
        "summary: {written} written, {kept} kept, {failed} failed, {check_only} checked only"
    )?;
    if failed > 0 {
        writeln!(
            out,
            "not every value was applied: the host is partly tuned; fix the failures above and \
             run `engine tune apply` again, or `engine tune check` to see where it stands"
        )?;
        return Ok(ExitStatus::Fail);
    }
    Ok(ExitStatus::Pass)
}

/// The errno text, with what it usually means here.
fn write_error(e: &io::Error) -> String {
    let hint = match e.raw_os_error() {
        Some(libc::EROFS) => " (/proc/sys is read-only: a container; apply on the host)",
        Some(libc::EACCES) | Some(libc::EPERM) => " (needs root, and the host's network namespace)",
        Some(libc::EINVAL) => " (the kernel refused the value)",
        Some(libc::ENOENT) => " (not present on this kernel)",
        _ => "",
    };
    format!("{}{hint}", describe(e))
}
