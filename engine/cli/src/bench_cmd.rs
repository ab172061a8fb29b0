//! `engine bench`: gatekeeper + engine + load generator in one process on
//! loopback (the embedded default), measured against the SLO targets.
//!
//! The engine's shards are pinned to the first cores and the generator to
//! the last one, so the generator measures the engine rather than competing
//! with it (on a 1-core machine nothing is pinned). Guardians are admitted
//! over signed H.225.0 RAS; until call signalling exists their media is
//! provisioned through the Engine API right after ACF.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};
use bench::impair::ImpairmentConfig;
use bench::load::drive::{self, Progress, RunOutput};
use bench::load::media_admit::MediaProvisioner;
use bench::load::ras_admit::{identities, start_gatekeeper, RasAdmitter};
use bench::load::report_build::{self, EngineFigures};
use bench::load::Admit;
use bench::load::{CodecChoice, LoadConfig};
use bench::report::{self, Measured, ProgressLine, RunReport, SloTargets};
use clap::{Args, ValueEnum};
use engine::{Engine, EngineConfig};
use media_core::codec::OpusConfig;
use media_core::mixer::MixerConfig;

mod failover;
mod remote;

/// Arguments of `engine bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Simulated guardians.
    #[arg(long, default_value_t = 12)]
    guardians: usize,
    /// Guardians per room (default: one room up to 25 guardians, else rooms of 12).
    #[arg(long)]
    rooms_of: Option<usize>,
    /// Guardians of each room talking at a time (groups take turns every 5 s).
    #[arg(long, default_value_t = 3)]
    talkers: usize,
    /// Codec of the guardians.
    #[arg(long, value_enum, default_value_t = BenchCodec::Opus)]
    codec: BenchCodec,
    /// Complexity of the engine's Opus encoders (default: the mixer default).
    #[arg(long)]
    opus_complexity: Option<u8>,
    /// Bitrate of the engine's Opus encoders, bit/s.
    #[arg(long)]
    opus_bitrate: Option<u32>,
    /// Measured seconds.
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Seconds run before measuring.
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Seed of SSRCs, keys and impairments.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Packet loss on the guardians' packets, percent.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Mean loss burst length in packets (1 = independent losses).
    #[arg(long, default_value_t = 1.0)]
    burst: f64,
    /// Extra one-way delay of 0..=MS on the guardians' packets.
    #[arg(long, default_value_t = 0.0)]
    jitter: f64,
    /// Packets held back past their successor, percent.
    #[arg(long, default_value_t = 0.0)]
    reorder: f64,
    /// Media shards (default 1, pinned to CPU 0; the generator takes the last CPU).
    #[arg(long)]
    shards: Option<usize>,
    /// SLO targets (default: config/slo.toml when present, else built-in).
    #[arg(long)]
    slo: Option<PathBuf>,
    /// Write the run report as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write WAV recordings (one talker and one listener per room, up to 4 rooms).
    #[arg(long)]
    record: Option<PathBuf>,
    /// Raise the guardian count until an SLO breaks (rooms of 12 unless --rooms-of).
    #[arg(long)]
    sweep: bool,
    /// First guardian count of a sweep.
    #[arg(long, default_value_t = 60)]
    sweep_start: usize,
    /// Guardians added per sweep step.
    #[arg(long, default_value_t = 60)]
    sweep_step: usize,
    /// Largest guardian count a sweep tries.
    #[arg(long, default_value_t = 900)]
    sweep_max: usize,
    /// RAS address of a running `engine run` to test instead of the
    /// embedded gatekeeper and engine (run the bench on that host).
    #[arg(long)]
    target: Option<String>,
    /// Its media control address (default: the --target host, port 7719).
    #[arg(long)]
    target_control: Option<String>,
    /// With --target: directory of guardian keys (`engine keygen --key-out
    /// DIR/NAME.key`) registered in the running registry; one per guardian.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// With --target: controller key file for an engine that requires
    /// authentication on its control port.
    #[arg(long)]
    control_key: Option<PathBuf>,
    /// Run against an HA gatekeeper pair (child processes on loopback) and
    /// kill -9 the primary half-way through: measures failover duration,
    /// media lost, calls dropped and sessions preserved (docs/ha.md).
    #[arg(long)]
    failover: bool,
    /// The guardians' RAS retry timer, ms per try (default 3000 with
    /// --failover, H323Plus-like; else 1500 so a dead gatekeeper ends a run
    /// quickly).
    #[arg(long)]
    ras_timeout_ms: Option<u64>,
    /// RAS retransmissions after the first try (default 2).
    #[arg(long)]
    ras_retries: Option<u32>,
}

impl BenchArgs {
    /// The guardians' RAS retry timers.
    fn ras_timers(&self) -> bench::load::ras_admit::RasTimers {
        use bench::load::ras_admit::RasTimers;
        let base = if self.failover {
            RasTimers::H323PLUS
        } else {
            RasTimers::default()
        };
        RasTimers {
            timeout: self
                .ras_timeout_ms
                .map_or(base.timeout, Duration::from_millis),
            retries: self.ras_retries.unwrap_or(base.retries),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BenchCodec {
    Opus,
    Pcmu,
    Pcma,
    Mixed,
}

impl From<BenchCodec> for CodecChoice {
    fn from(c: BenchCodec) -> Self {
        match c {
            BenchCodec::Opus => CodecChoice::Opus,
            BenchCodec::Pcmu => CodecChoice::Pcmu,
            BenchCodec::Pcma => CodecChoice::Pcma,
            BenchCodec::Mixed => CodecChoice::Mixed,
        }
    }
}

const MEDIA_NOTE: &str = "media provisioned through the Engine API right after ACF (H.225.0 call signalling does not exist yet)";

/// Runs `engine bench`; returns the process exit code.
pub fn run(args: &BenchArgs) -> anyhow::Result<u8> {
    let targets = load_targets(args.slo.as_deref())?;
    if args.target.is_some() && args.sweep {
        bail!("--sweep runs the embedded engine; it cannot be combined with --target");
    }
    if args.target.is_none() && (args.keys.is_some() || args.target_control.is_some()) {
        bail!("--keys and --target-control only apply with --target HOST:PORT");
    }
    if args.failover && (args.target.is_some() || args.sweep) {
        bail!("--failover starts its own HA pair: it cannot be combined with --target or --sweep");
    }
    if args.sweep {
        return sweep(args, &targets);
    }
    let config = load_config(args, args.guardians)?;
    let (report, output) = run_once(args, &config, &targets, true)?;
    print_summary(&report, &config);
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json())
            .with_context(|| format!("writing {}", path.display()))?;
        println!("report: {}", path.display());
    }
    if let Some(dir) = &args.record {
        write_recordings(dir, &output)?;
    }
    Ok(report.slo.exit_code() as u8)
}

fn load_targets(path: Option<&Path>) -> anyhow::Result<SloTargets> {
    let default = Path::new("config/slo.toml");
    let path = path.or_else(|| default.exists().then_some(default));
    Ok(SloTargets::load(path)?)
}

fn load_config(args: &BenchArgs, guardians: usize) -> anyhow::Result<LoadConfig> {
    let room_size = args.rooms_of.unwrap_or(if guardians <= 25 {
        guardians.max(2)
    } else {
        12
    });
    let mut engine_opus = OpusConfig::default();
    if let Some(c) = args.opus_complexity {
        engine_opus.complexity = c;
    }
    if let Some(b) = args.opus_bitrate {
        engine_opus.bitrate_bps = b;
    }
    engine_opus
        .validate()
        .context("--opus-complexity / --opus-bitrate")?;
    if !(args.duration.is_finite() && args.duration >= 1.0 && args.duration <= 3600.0) {
        bail!(
            "--duration must be 1..=3600 seconds (got {})",
            args.duration
        );
    }
    if !(args.warmup.is_finite() && (0.0..=600.0).contains(&args.warmup)) {
        bail!("--warmup must be 0..=600 seconds (got {})", args.warmup);
    }
    let config = LoadConfig {
        guardians,
        room_size,
        talkers: args.talkers,
        codec: args.codec.into(),
        engine_opus,
        guardian_opus: OpusConfig::default(),
        duration: Duration::from_secs_f64(args.duration),
        warmup: Duration::from_secs_f64(args.warmup),
        impairment: ImpairmentConfig {
            loss_pct: args.loss,
            burst_len_mean: args.burst,
            jitter_ms: args.jitter,
            reorder_pct: args.reorder,
            seed: args.seed,
        },
        seed: args.seed,
        ears_per_room: 2,
        record_rooms: if args.record.is_some() { 4 } else { 0 },
    };
    config.validate().map_err(anyhow::Error::msg)?;
    Ok(config)
}

/// CPUs for the engine's shards and the generator.
fn placement(args: &BenchArgs) -> anyhow::Result<(EngineConfig, Option<usize>)> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let shards = args.shards.unwrap_or(1);
    if shards == 0 {
        bail!("--shards must be at least 1");
    }
    let mut engine = EngineConfig::default();
    engine.shards.count = shards;
    engine.media.port_first = 20_000;
    engine.media.ports_per_shard = 4_000;
    let generator_cpu = if cores >= 2 && shards < cores {
        engine.shards.cpus = (0..shards).collect();
        engine.shards.pin = true;
        Some(cores - 1)
    } else {
        engine.shards.pin = false;
        None
    };
    Ok((engine, generator_cpu))
}

fn run_once(
    args: &BenchArgs,
    config: &LoadConfig,
    targets: &SloTargets,
    live: bool,
) -> anyhow::Result<(RunReport, RunOutput)> {
    if let Some(target) = &args.target {
        return remote::run(args, target, config, targets, live);
    }
    if args.failover {
        return failover::run(args, config, targets, live);
    }
    let (engine_config, generator_cpu) = placement(args)?;
    let mut engine = Engine::start(engine_config).context("starting the engine")?;
    let dir = std::env::temp_dir().join(format!("engine-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let ids = identities(config.guardians, config.seed);
    let gatekeeper = start_gatekeeper(&dir, &ids).map_err(anyhow::Error::msg)?;
    let gk_addr: SocketAddr = gatekeeper.local_addr();
    // Before pinning: the machine's CPUs, not this thread's.
    let machine = report::Machine::detect();
    // Unpinned again when the run ends, so the next run (a sweep's next
    // step) places its engine on every CPU this process may use.
    let _pinned = generator_cpu.and_then(bench::load::procfs::pin_this_thread);
    let (result, baseline) = {
        let media = MediaProvisioner::new(&mut engine, MixerConfig::default());
        let mut admit =
            RasAdmitter::new(gk_addr, ids, media, config.seed).with_timers(args.ras_timers());
        let result = drive_live(
            config,
            &mut admit,
            live,
            &format!("gatekeeper {gk_addr}; {MEDIA_NOTE}"),
        );
        (result, admit.media().take_baseline())
    };
    let (output, started) = result?;
    let stats = engine.snapshot().context("engine snapshot")?;
    let mut notes = vec![MEDIA_NOTE.to_owned()];
    let baseline = window_baseline(baseline, &mut notes);
    let figures = EngineFigures::from_stats(stats, baseline.as_ref());
    notes.push(match generator_cpu {
        Some(cpu) => format!("engine shards pinned from CPU 0, generator pinned to CPU {cpu}"),
        None => "one CPU: engine and generator share it (unpinned)".to_owned(),
    });
    let report = build_report(config, &output, &figures, started, notes, machine, targets);
    let _ = gatekeeper.shutdown();
    engine.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    Ok((report, output))
}

/// The engine's snapshot from the end of the warm-up, which makes its
/// figures cover the measured window; without one they are since the
/// engine started, and a note says so.
fn window_baseline<T>(baseline: Option<Result<T, String>>, notes: &mut Vec<String>) -> Option<T> {
    match baseline {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => {
            notes.push(format!(
                "engine snapshot at the end of the warm-up failed ({e}): engine-added latency, late frames and tick overruns are since the engine started"
            ));
            None
        }
        None => {
            notes.push("no engine snapshot at the end of the warm-up: engine-added latency, late frames and tick overruns are since the engine started".to_owned());
            None
        }
    }
}

/// Admits, streams and measures; prints the header and progress when live.
fn drive_live(
    config: &LoadConfig,
    admit: &mut dyn Admit,
    live: bool,
    header: &str,
) -> anyhow::Result<(RunOutput, SystemTime)> {
    if live {
        eprintln!(
            "engine bench: {} guardians in {} room(s) of {}, {} talking, codec {}; {header}",
            config.guardians,
            config.rooms(),
            config.room_size,
            config.talkers,
            config.codec.name(),
        );
    }
    let started = SystemTime::now() + config.warmup;
    let terminal = std::io::stderr().is_terminal();
    let total = config.warmup + config.duration;
    let result = drive::run(config, admit, |p: Progress| {
        if live {
            progress(p, config, total, terminal);
        }
    });
    if live && terminal {
        eprintln!();
    }
    Ok((result.map_err(anyhow::Error::msg)?, started))
}

fn build_report(
    config: &LoadConfig,
    output: &RunOutput,
    figures: &EngineFigures,
    started: SystemTime,
    mut notes: Vec<String>,
    machine: report::Machine,
    targets: &SloTargets,
) -> RunReport {
    if output.figures.markers_missed > 0 {
        notes.insert(
            1,
            format!(
                "markers not found in sampled listeners: {} of {}",
                output.figures.markers_missed, output.figures.markers_expected
            ),
        );
    }
    if figures.tick_overruns > 0 {
        notes.insert(
            1,
            format!("engine tick overruns: {}", figures.tick_overruns),
        );
    }
    let mut report = report_build::build(config, output, figures, started, notes);
    report.machine = machine;
    report.slo = report::evaluate(targets, &Measured::from_report(&report));
    report
}

fn progress(p: Progress, config: &LoadConfig, total: Duration, terminal: bool) {
    let line = ProgressLine {
        elapsed: Duration::from_secs(p.elapsed_s),
        total,
        guardians_up: p.guardians_up as u32,
        guardians_total: config.guardians as u32,
        loss_pct: None,
        jitter_ms: Some(p.jitter_ms),
        latency_p95_ms: None,
        warming_up: Duration::from_secs(p.elapsed_s) <= config.warmup,
    };
    let mut err = std::io::stderr().lock();
    if terminal {
        let _ = write!(err, "{}", line.for_terminal(100));
    } else if p.elapsed_s % 5 == 0 {
        let _ = writeln!(
            err,
            "{}  engine cpu {:.0} %",
            line.text(100),
            p.engine_cpu * 100.0
        );
    }
}

fn print_summary(report: &RunReport, config: &LoadConfig) {
    let m = &report.mouth_to_ear_ms;
    let e = &report.engine_added_ms;
    let f = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.1}"));
    println!();
    println!(
        "engine bench: {} guardians, {} room(s), {:.0} s measured, {} ({})",
        report.guardians,
        report.rooms,
        report.duration_s,
        config.codec.name(),
        report.impairment.describe()
    );
    println!(
        "  mouth-to-ear ms   avg {}  p50 {}  p95 {}  p99 {}  ({} markers)",
        f(m.avg),
        f(m.p50),
        f(m.p95),
        f(m.p99),
        m.count
    );
    println!(
        "  engine-added ms   p50 {}  p95 {}  p99 {}",
        f(e.p50),
        f(e.p95),
        f(e.p99)
    );
    println!(
        "  admission ms      GRQ p95 {}  RRQ p95 {}  ARQ p95 {}  whole p99 {}",
        f(report.admission_ms.grq.p95),
        f(report.admission_ms.rrq.p95),
        f(report.admission_ms.arq.p95),
        f(report.admission_ms.total.p99)
    );
    println!(
        "  engine CPU        {} % of a core, {} µs per guardian-second; generator {} % of its core; peak RSS {} MiB",
        f(report.cpu.engine_core_fraction.map(|x| x * 100.0)),
        f(report.cpu.us_per_guardian_s),
        f(report.cpu.generator_core_fraction.map(|x| x * 100.0)),
        f(report.rss_mib)
    );
    for note in &report.notes {
        println!("  note: {note}");
    }
    println!();
    print!(
        "{}",
        report::summary_table(&report.slo, report::stdout_wants_colour())
    );
}

fn write_recordings(dir: &Path, output: &RunOutput) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, samples) in &output.recordings {
        let path = dir.join(format!("{name}.wav"));
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?,
        );
        bench::wav::write_wav(&mut file, 48_000, samples.iter().copied())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "recordings: {} WAV files in {}",
        output.recordings.len(),
        dir.display()
    );
    Ok(())
}

fn sweep(args: &BenchArgs, targets: &SloTargets) -> anyhow::Result<u8> {
    if args.sweep_start == 0 || args.sweep_step == 0 || args.sweep_max < args.sweep_start {
        bail!("--sweep-start and --sweep-step must be positive and --sweep-max at least --sweep-start");
    }
    let shards = args.shards.unwrap_or(1);
    let mut steps = Vec::new();
    let mut largest_passing = None;
    let mut broke_at = None;
    let mut last_report = None;
    let mut n = args.sweep_start;
    while n <= args.sweep_max {
        let mut config = load_config(args, n)?;
        config.room_size = args.rooms_of.unwrap_or(12);
        config.validate().map_err(anyhow::Error::msg)?;
        eprintln!("sweep: {n} guardians …");
        let (report, _) = run_once(args, &config, targets, false)?;
        let failed = report.slo.failed_names();
        eprintln!(
            "sweep: {n} guardians: {} (engine CPU {:.0} %, mouth-to-ear p95 {:.1} ms)",
            if report.slo.pass { "pass" } else { "FAIL" },
            report.cpu.busiest_core_fraction().unwrap_or(0.0) * 100.0,
            report.mouth_to_ear_ms.p95.unwrap_or(f64::NAN)
        );
        steps.push(report::SweepStep {
            guardians: n as u32,
            pass: report.slo.pass,
            mouth_to_ear_p95_ms: report.mouth_to_ear_ms.p95,
            jitter_p95_ms: report.jitter_ms.p95,
            loss_pct: report.loss_pct,
            engine_core_fraction: report.cpu.engine_core_fraction,
            us_per_guardian_s: report.cpu.us_per_guardian_s,
            failed: failed.clone(),
        });
        let pass = report.slo.pass;
        if pass {
            largest_passing = Some(n as u32);
            last_report = Some(report);
        } else {
            broke_at = Some(report::BrokeAt {
                guardians: n as u32,
                failed_checks: failed,
            });
            if last_report.is_none() {
                last_report = Some(report);
            }
            break;
        }
        n += args.sweep_step;
    }
    let mut report = last_report.context("the sweep ran no step")?;
    report.guardians_per_core = largest_passing.map(|g| f64::from(g) / shards as f64);
    report.sweep = Some(report::Sweep {
        steps,
        largest_passing,
        broke_at,
        media_cores: Some(shards as u32),
    });
    println!(
        "sweep: largest passing {} guardians on {shards} media core(s) → guardians_per_core {}",
        largest_passing.map_or("none".to_owned(), |g| g.to_string()),
        report
            .guardians_per_core
            .map_or("—".to_owned(), |g| format!("{g:.0}"))
    );
    if let Some(b) = &report.sweep.as_ref().and_then(|s| s.broke_at.clone()) {
        println!(
            "sweep: broke at {} guardians: {}",
            b.guardians,
            b.failed_checks.join(", ")
        );
    }
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json())
            .with_context(|| format!("writing {}", path.display()))?;
        println!("report: {}", path.display());
    }
    Ok(if largest_passing.is_some() {
        0
    } else {
        report.slo.exit_code() as u8
    })
}
