//! Builds the run report (`--json`, the SLO table, `engine slo-report`)
//! from what the generator measured and what the engine reported about
//! itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use control::media_link::messages::EngineSnapshot;
use engine::stats::EngineStats;
use media_core::codec::{CodecConfig, OpusApplication, OpusConfig};

use super::drive::RunOutput;
use super::measure::{mean, percentile};
use super::LoadConfig;
use crate::report::{
    self, Admission, Calls, Codec, Cpu, EncoderSettings, GuardianSample, Histogram, Machine,
    RunReport, SecondSample, Series, ShardCpu, Summary,
};

/// What the engine said about itself during the run.
#[derive(Clone, Debug, Default)]
pub struct EngineFigures {
    /// Engine-added latency (arrival → send of the first mix containing it).
    pub engine_added: Summary,
    /// Its histogram, for the CDF plot.
    pub engine_added_hist: Option<report::HistogramSnapshot>,
    /// Mix frames sent after their tick deadline, percent.
    pub late_frames_pct: Option<f64>,
    /// Ticks that overran 20 ms.
    pub tick_overruns: u64,
    /// Participants the engine timed out for silence.
    pub timed_out: u64,
}

impl EngineFigures {
    /// Reads the figures from an engine snapshot taken at the end of the
    /// run; with `since` (the snapshot taken when the warm-up ended) they
    /// cover only the measured window, as the generator's figures do.
    pub fn from_stats(stats: &EngineStats, since: Option<&EngineStats>) -> Self {
        let mut latency = stats.latency();
        let mut counters = stats.counters();
        if let Some(before) = since {
            latency = latency.since(&before.latency());
            let b = before.counters();
            counters.frames_out = counters.frames_out.saturating_sub(b.frames_out);
            counters.late_frames = counters.late_frames.saturating_sub(b.late_frames);
            counters.tick_overruns = counters.tick_overruns.saturating_sub(b.tick_overruns);
        }
        // A state at the end of the run, not a counter: not windowed.
        let timed_out = stats
            .shards
            .iter()
            .flatten()
            .flat_map(|r| r.participants.iter())
            .filter(|p| p.timed_out)
            .count() as u64;
        let buckets: Vec<(u64, u64)> = latency
            .nonzero_buckets()
            .map(|(upper, n)| (upper.as_micros() as u64, n))
            .collect();
        Self::from_snapshot(&EngineSnapshot {
            frames_out: counters.frames_out,
            late_frames: counters.late_frames,
            tick_overruns: counters.tick_overruns,
            timed_out,
            latency_count: latency.count(),
            latency_mean_us: latency.mean().as_micros() as u64,
            latency_max_us: latency.max().as_micros() as u64,
            latency_us: buckets,
            ..Default::default()
        })
    }

    /// [`Self::from_snapshot`] over the window from `since` (taken when the
    /// warm-up ended) to `end`, both from the same engine.
    pub fn from_snapshots(since: Option<&EngineSnapshot>, end: &EngineSnapshot) -> Self {
        match since {
            Some(before) => Self::from_snapshot(&snapshot_since(end, before)),
            None => Self::from_snapshot(end),
        }
    }

    /// Reads the figures from a snapshot sent over the media link (the same
    /// figures as [`Self::from_stats`] for an engine in another process).
    pub fn from_snapshot(s: &EngineSnapshot) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        let mut hist = Histogram::new();
        for &(upper, count) in &s.latency_us {
            for _ in 0..count.min(100_000) {
                hist.record(Duration::from_micros(upper));
            }
        }
        // The upper edge of the bucket holding quantile q; the max when it
        // falls above the histogram (as LatencyHistogram::quantile does).
        let quantile = |q: f64| {
            let rank = ((q * s.latency_count as f64).ceil() as u64).max(1);
            let mut seen = 0;
            for &(upper, count) in &s.latency_us {
                seen += count;
                if seen >= rank {
                    return ms(upper);
                }
            }
            ms(s.latency_max_us)
        };
        let engine_added = if s.latency_count == 0 {
            Summary::default()
        } else {
            Summary {
                count: s.latency_count,
                avg: Some(ms(s.latency_mean_us)),
                p50: Some(quantile(0.50)),
                p95: Some(quantile(0.95)),
                p99: Some(quantile(0.99)),
                max: Some(ms(s.latency_max_us)),
            }
        };
        Self {
            engine_added,
            engine_added_hist: (s.latency_count > 0).then(|| hist.snapshot()),
            late_frames_pct: (s.frames_out > 0)
                .then(|| s.late_frames as f64 * 100.0 / s.frames_out as f64),
            tick_overruns: s.tick_overruns,
            timed_out: s.timed_out,
        }
    }
}

/// What the engine did between two of its snapshots: counters and
/// histogram buckets subtract (saturating: an engine restarted in between
/// gives an empty window rather than a panic). The mean comes from the
/// sums (mean × count, exact to within a µs per sample of `end`, as the
/// link rounds the means). The max is exact when it rose in the window;
/// otherwise it is the upper edge of the highest non-empty window bucket
/// (capped at `end`'s max), or `end`'s max when window samples lie above
/// the buckets, as `LatencyHistogram::since` does.
pub fn snapshot_since(end: &EngineSnapshot, before: &EngineSnapshot) -> EngineSnapshot {
    let mut buckets = Vec::with_capacity(end.latency_us.len());
    for &(upper, count) in &end.latency_us {
        let earlier = before
            .latency_us
            .iter()
            .find(|(u, _)| *u == upper)
            .map_or(0, |(_, c)| *c);
        let n = count.saturating_sub(earlier);
        if n > 0 {
            buckets.push((upper, n));
        }
    }
    let count = end.latency_count.saturating_sub(before.latency_count);
    let sum_us = (u128::from(end.latency_mean_us) * u128::from(end.latency_count))
        .saturating_sub(u128::from(before.latency_mean_us) * u128::from(before.latency_count));
    let in_buckets: u64 = buckets.iter().map(|(_, n)| n).sum();
    let max_us = if count == 0 {
        0
    } else if end.latency_max_us > before.latency_max_us || count > in_buckets {
        end.latency_max_us
    } else {
        buckets
            .iter()
            .map(|(upper, _)| *upper)
            .max()
            .map_or(0, |u| u.min(end.latency_max_us))
    };
    EngineSnapshot {
        frames_out: end.frames_out.saturating_sub(before.frames_out),
        late_frames: end.late_frames.saturating_sub(before.late_frames),
        tick_overruns: end.tick_overruns.saturating_sub(before.tick_overruns),
        rx_datagrams: end.rx_datagrams.saturating_sub(before.rx_datagrams),
        latency_count: count,
        latency_mean_us: sum_us
            .checked_div(u128::from(count))
            .map_or(0, |m| u64::try_from(m).unwrap_or(u64::MAX)),
        latency_max_us: max_us,
        latency_us: buckets,
        // States at the end, not counters.
        rooms: end.rooms,
        participants: end.participants,
        timed_out: end.timed_out,
    }
}

fn encoder_settings(codec: CodecConfig) -> EncoderSettings {
    match codec {
        CodecConfig::Opus(o) => opus_settings(o),
        CodecConfig::Pcmu | CodecConfig::Pcma => EncoderSettings {
            application: Some(codec.name().to_owned()),
            bitrate_bps: Some(64_000),
            ..Default::default()
        },
    }
}

fn opus_settings(o: OpusConfig) -> EncoderSettings {
    let application = match o.application {
        OpusApplication::Voip => "voip",
        OpusApplication::Audio => "audio",
        OpusApplication::RestrictedLowDelay => "restricted_lowdelay",
    };
    EncoderSettings {
        application: Some(application.to_owned()),
        bitrate_bps: Some(o.bitrate_bps),
        complexity: Some(o.complexity),
        fec: o.fec,
        dtx: o.dtx,
    }
}

/// RFC 3339 UTC time of `t`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Assembles the report; the SLO verdict is filled by the caller.
pub fn build(
    config: &LoadConfig,
    out: &RunOutput,
    engine: &EngineFigures,
    started: SystemTime,
    notes: Vec<String>,
) -> RunReport {
    let f = &out.figures;
    let engine_codec = config.codec.for_guardian(0, config.engine_opus);
    let own_codec = match engine_codec {
        CodecConfig::Opus(_) => CodecConfig::Opus(config.guardian_opus),
        other => other,
    };
    let jitters: Vec<f64> = f.guardians.iter().map(|g| g.jitter_ms).collect();
    let mut per_second_jitter: Vec<f64> = f.per_second.iter().map(|(j, _)| *j).collect();
    per_second_jitter.sort_by(f64::total_cmp);
    let losses: Vec<f64> = f.guardians.iter().map(|g| g.loss_pct).collect();
    let late: Vec<f64> = f.guardians.iter().map(|g| g.late_pct).collect();
    let guardians_total = config.guardians as f64;
    let shard_cpu: Vec<ShardCpu> = out
        .shard_cpu
        .iter()
        .filter(|(_, f)| *f > 0.0)
        .enumerate()
        .map(|(i, (_, fraction))| ShardCpu {
            shard: i as u32,
            cpu: None,
            core_fraction: *fraction,
        })
        .collect();
    let engine_cpu_total: f64 = shard_cpu.iter().map(|s| s.core_fraction).sum();
    let engine_core_fraction =
        (!shard_cpu.is_empty()).then(|| engine_cpu_total / shard_cpu.len() as f64);
    let us_per_guardian_s = (f.admitted > 0).then(|| engine_cpu_total * 1e6 / f.admitted as f64);

    let per_second = f
        .per_second
        .iter()
        .enumerate()
        .map(|(i, (jitter, loss))| SecondSample {
            t_s: (i + 1) as f64,
            guardians_up: f.admitted as u32,
            jitter_avg_ms: Some(*jitter),
            loss_pct: Some(*loss),
            engine_core_fraction: out.engine_cpu_per_second.get(i).copied(),
            ..Default::default()
        })
        .collect();
    let per_guardian = f
        .guardians
        .iter()
        .filter(|g| g.mouth_to_ear.count > 0)
        .map(|g| GuardianSample {
            guardian: g.guardian as u32,
            room: g.room as u32,
            mouth_to_ear_ms: g.mouth_to_ear,
            jitter_ms: Some(g.jitter_ms),
            loss_pct: Some(g.loss_pct),
        })
        .collect();

    RunReport {
        started_at: rfc3339(started),
        guardians: config.guardians as u32,
        rooms: config.rooms() as u32,
        duration_s: out.measured.as_secs_f64(),
        codec: Codec {
            name: config.codec.name().to_owned(),
            clock_rate_hz: engine_codec.clock_rate_hz(),
            ptime_ms: 20,
            engine: encoder_settings(engine_codec),
            generator: encoder_settings(own_codec),
        },
        impairment: (&config.impairment).into(),
        admission_ms: Admission {
            total: per_guardian_admission(f),
            grq: Summary::from_samples(&f.admission_by_step_ms[0]),
            rrq: Summary::from_samples(&f.admission_by_step_ms[1]),
            arq: Summary::from_samples(&f.admission_by_step_ms[2]),
        },
        mouth_to_ear_ms: Summary::from_samples(&f.mouth_to_ear_ms),
        engine_added_ms: engine.engine_added,
        jitter_ms: Summary {
            count: jitters.len() as u64,
            avg: mean(&jitters),
            p50: percentile(&per_second_jitter, 0.5),
            p95: percentile(&per_second_jitter, 0.95),
            p99: percentile(&per_second_jitter, 0.99),
            max: per_second_jitter.last().copied(),
        },
        loss_pct: mean(&losses),
        late_frames_pct: engine.late_frames_pct.or_else(|| mean(&late)),
        call_drops: Some(f.call_drops),
        calls: Some(Calls {
            attempted: guardians_total as u64,
            succeeded: f.admitted - f.call_drops.min(f.admitted),
        }),
        cpu: Cpu {
            engine_core_fraction,
            us_per_guardian_s,
            shards: shard_cpu,
            generator_core_fraction: Some(out.generator_cpu),
        },
        rss_mib: out.rss_mib,
        series: Some(Series {
            per_second,
            per_guardian,
            mouth_to_ear_hist: (!f.mouth_to_ear_ms.is_empty())
                .then(|| report::HistogramSnapshot::from_samples(&f.mouth_to_ear_ms)),
            engine_added_hist: engine.engine_added_hist.clone(),
        }),
        machine: Machine::detect(),
        notes,
        ..Default::default()
    }
}

/// Per guardian: the whole GRQ → ACF sequence, the admission SLO's unit.
fn per_guardian_admission(f: &super::measure::Figures) -> Summary {
    let [grq, rrq, arq] = &f.admission_by_step_ms;
    let totals: Vec<f64> = grq
        .iter()
        .zip(rrq)
        .zip(arq)
        .map(|((a, b), c)| a + b + c)
        .collect();
    Summary::from_samples(&totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(
        frames: u64,
        late: u64,
        max_us: u64,
        buckets: &[(u64, u64)],
        sum_us: u64,
    ) -> EngineSnapshot {
        let count = buckets.iter().map(|(_, n)| n).sum::<u64>();
        EngineSnapshot {
            participants: 6,
            frames_out: frames,
            late_frames: late,
            tick_overruns: late / 10,
            latency_count: count,
            latency_mean_us: sum_us / count.max(1),
            latency_max_us: max_us,
            latency_us: buckets.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn engine_figures_cover_only_the_window_after_the_baseline() {
        // Warm-up: 100 frames, 50 late, slow mixes (40 ms).
        let before = snapshot(100, 50, 40_100, &[(40_250, 100)], 100 * 40_000);
        // Then 400 more frames, none late, at 5 ms.
        let end = snapshot(
            500,
            50,
            40_100,
            &[(5_250, 400), (40_250, 100)],
            100 * 40_000 + 400 * 5_000,
        );
        let since_start = EngineFigures::from_snapshots(None, &end);
        assert_eq!(since_start.engine_added.count, 500);
        assert_eq!(since_start.late_frames_pct, Some(10.0));
        let w = EngineFigures::from_snapshots(Some(&before), &end);
        assert_eq!(w.engine_added.count, 400);
        assert_eq!(w.engine_added.avg, Some(5.0));
        assert_eq!(w.engine_added.p99, Some(5.25));
        // The max did not rise in the window: the top window bucket's edge.
        assert_eq!(w.engine_added.max, Some(5.25));
        assert_eq!(w.late_frames_pct, Some(0.0));
        assert_eq!(w.tick_overruns, 0);

        // A new max in the window is exact; samples above the buckets
        // (count > bucket total) keep the end's max.
        let mut end2 = end.clone();
        end2.latency_max_us = 41_000;
        let w = snapshot_since(&end2, &before);
        assert_eq!(w.latency_max_us, 41_000);
        let mut end3 = end.clone();
        end3.latency_count += 1;
        assert_eq!(snapshot_since(&end3, &before).latency_max_us, 40_100);
        // Nothing after the baseline: empty figures, no division by zero.
        let w = EngineFigures::from_snapshots(Some(&end), &end);
        assert_eq!(w.engine_added.count, 0);
        assert_eq!(w.late_frames_pct, None);
    }

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_000_000)),
            "2026-11-18T11:06:40Z"
        );
    }
}
