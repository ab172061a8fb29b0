//! Drives one load run on the calling thread: builds the guardians, admits
//! them, runs the real-time loop and measures. The caller pins the thread
//! and provides admission (embedded gatekeeper + engine, or a remote one).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use media_core::codec::CodecConfig;

use super::guardian::LoadGuardian;
use super::measure::{self, Figures};
use super::procfs;
use super::runner::{self, FRAME};
use super::streams::Streams;
use super::{Admit, Admitted, LoadConfig};
use crate::impair::Impairment;

/// Prefix of the engine's shard thread names.
pub const SHARD_THREAD_PREFIX: &str = "shard-";

/// A live progress sample, once per second.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Seconds run, including warm-up.
    pub elapsed_s: u64,
    /// Seconds in all.
    pub total_s: u64,
    /// Guardians admitted and streaming.
    pub guardians_up: usize,
    /// Mean receive jitter now, ms.
    pub jitter_ms: f64,
    /// Engine shard CPU over the last second, fraction of one core (summed).
    pub engine_cpu: f64,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// Generator-side figures.
    pub figures: Figures,
    /// Each shard thread's CPU over the measured time, fraction of a core.
    pub shard_cpu: Vec<(String, f64)>,
    /// Engine CPU per measured second (all shards, fraction of a core).
    pub engine_cpu_per_second: Vec<f64>,
    /// Generator thread's CPU over the measured time, fraction of a core.
    pub generator_cpu: f64,
    /// Peak RSS of the process, MiB.
    pub rss_mib: Option<f64>,
    /// Measured wall time.
    pub measured: Duration,
    /// Recordings: (file stem, samples at 48 kHz), aligned to the run start.
    pub recordings: Vec<(String, Vec<i16>)>,
}

/// Runs `config` against whatever `admit` admits into.
pub fn run(
    config: &LoadConfig,
    admit: &mut dyn Admit,
    mut progress: impl FnMut(Progress),
) -> Result<RunOutput, String> {
    config.validate()?;
    let mut streams: HashMap<CodecConfig, Streams> = HashMap::new();
    let mut guardians = Vec::with_capacity(config.guardians);
    let mut rng = config.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for index in 0..config.guardians {
        let engine_codec = config.codec.for_guardian(index, config.engine_opus);
        // The guardian's own encoder may differ from the engine's.
        let own_codec = match engine_codec {
            CodecConfig::Opus(_) => CodecConfig::Opus(config.guardian_opus),
            other => other,
        };
        let s = match streams.get(&own_codec) {
            Some(s) => s.clone(),
            None => {
                let s = Streams::encode(own_codec)
                    .map_err(|e| format!("pre-encoding {}: {e}", own_codec.name()))?;
                streams.insert(own_codec, s.clone());
                s
            }
        };
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let impairment = Impairment::new(config.impairment, index as u64, FRAME);
        let pt = engine::sim::payload_type(engine_codec);
        let g = LoadGuardian::new(
            index,
            index / config.room_size,
            index % config.room_size,
            engine_codec,
            pt,
            s,
            impairment,
            rng as u32,
        )
        .map_err(|e| format!("binding guardian {index}'s UDP socket on 127.0.0.1: {e}"))?;
        guardians.push(g);
    }

    let total = config.warmup + config.duration;
    let mut admissions = Vec::with_capacity(config.guardians);
    let mut failures = 0u64;
    let mut first_error = None;
    for g in guardians.iter_mut() {
        let rtp = g.local_addr().map_err(|e| e.to_string())?;
        match admit.admit(g, rtp) {
            Ok(a) => {
                g.engine_addr = a.engine_rtp;
                admissions.push(a);
            }
            Err(e) => {
                failures += 1;
                first_error.get_or_insert(format!("guardian {}: {e}", g.index));
                admissions.push(Admitted::default());
            }
        }
    }
    if failures as usize == config.guardians {
        return Err(format!(
            "no guardian was admitted; first error: {}",
            first_error.unwrap_or_default()
        ));
    }

    let seconds = total.as_secs() as u32 + 1;
    let rooms = config.rooms();
    for room in 0..rooms {
        let members: Vec<usize> = (0..guardians.len())
            .filter(|&i| guardians[i].room == room)
            .collect();
        // Sampled ears: the last positions, which talk least often first.
        for &i in members.iter().rev().take(config.ears_per_room) {
            guardians[i].listen(seconds).map_err(|e| e.to_string())?;
        }
        if room < config.record_rooms {
            if let Some(&talker) = members.first() {
                guardians[talker].sent_pcm = Some(Vec::with_capacity(seconds as usize * 48_000));
            }
        }
    }

    let ticks = total.as_millis() as u64 / 20;
    let warmup_ticks = config.warmup.as_millis() as u64 / 20;
    let mut last_cpu: Option<Duration> = None;
    let mut engine_cpu_per_second = Vec::new();
    let mut baseline: Vec<(String, Duration)> = Vec::new();
    let mut generator_baseline = Duration::ZERO;
    let up = guardians.iter().filter(|g| g.engine_addr.is_some()).count();
    // Baselines for the measured window: the engine's CPU and its own
    // figures (`Admit::warmed_up`) are taken where the generator's figures
    // restart, so every figure covers the same time.
    let mut warmed_up = warmup_ticks == 0;
    if warmed_up {
        baseline = admit.shard_cpu();
        last_cpu = Some(baseline.iter().map(|(_, d)| *d).sum());
        generator_baseline = procfs::this_thread_cpu();
        admit.warmed_up();
    }
    let epoch = Instant::now();
    // The engine's CPU comes from the provisioning side: this process's
    // shard threads, or the media link's stats of a remote engine.
    let outcome = runner::run_loop(
        &mut guardians,
        config.room_size,
        config.talkers,
        epoch,
        ticks,
        warmup_ticks,
        |k, gs| {
            let shards = admit.shard_cpu();
            let now: Duration = shards.iter().map(|(_, d)| *d).sum();
            let engine_cpu = last_cpu
                .map(|l| (now.saturating_sub(l)).as_secs_f64())
                .unwrap_or(0.0);
            last_cpu = Some(now);
            // The callback runs on whole seconds: a warm-up that is not
            // whole seconds ends its window at the next one.
            if !warmed_up && k >= warmup_ticks {
                baseline = shards;
                generator_baseline = procfs::this_thread_cpu();
                admit.warmed_up();
                warmed_up = true;
            } else if k > warmup_ticks {
                engine_cpu_per_second.push(engine_cpu);
            }
            let listening: Vec<f64> = gs
                .iter()
                .filter(|g| g.engine_addr.is_some())
                .map(|g| g.rx.jitter_ms())
                .collect();
            progress(Progress {
                elapsed_s: k / 50,
                total_s: ticks / 50,
                guardians_up: up,
                jitter_ms: measure::mean(&listening).unwrap_or(0.0),
                engine_cpu,
            });
        },
    )
    .map_err(|e| format!("generator loop: {e}"))?;

    let measured = config.duration;
    let generator_cpu = procfs::this_thread_cpu()
        .saturating_sub(generator_baseline)
        .as_secs_f64()
        / measured.as_secs_f64();
    let shard_cpu = admit
        .shard_cpu()
        .into_iter()
        .map(|(name, cpu)| {
            let before = baseline
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| *d)
                .unwrap_or_default();
            let fraction = cpu.saturating_sub(before).as_secs_f64() / measured.as_secs_f64();
            (name, fraction)
        })
        .collect();
    let figures = measure::figures(&guardians, &admissions, failures, &outcome, measured);
    let mut recordings = Vec::new();
    for g in &guardians {
        if g.room >= config.record_rooms {
            continue;
        }
        if let Some(sent) = &g.sent_pcm {
            recordings.push((
                format!("room{}_guardian{}_sent", g.room, g.index),
                sent.clone(),
            ));
        }
        if let Some(ear) = &g.ear {
            recordings.push((
                format!("room{}_guardian{}_heard", g.room, g.index),
                ear.recording.aligned(Duration::ZERO),
            ));
        }
    }
    Ok(RunOutput {
        figures,
        shard_cpu,
        engine_cpu_per_second,
        generator_cpu,
        rss_mib: procfs::peak_rss_mib(),
        measured,
        recordings,
    })
}
