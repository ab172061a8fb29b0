//! Plausible run reports for the report tests, built from a seeded
//! generator so every test sees the same figures.
#![allow(dead_code)]

use bench::report::{
    evaluate, Admission, BrokeAt, Calls, Codec, Cpu, EncoderSettings, GuardianSample, Histogram,
    Impairment, Machine, Measured, RunReport, SecondSample, Series, ShardCpu, SloTargets, Summary,
    Sweep, SweepStep,
};

/// SplitMix64: tiny, seeded, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Normal(mean, sd) by Box–Muller.
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A 12-guardian run on a clean or impaired network.
pub fn run(seed: u64, guardians: u32, latency_base_ms: f64, loss_pct: f64) -> RunReport {
    let mut rng = Rng::new(seed);
    let duration_s = 30u32;
    let mut m2e = Histogram::new();
    let mut engine = Histogram::new();
    let mut per_guardian = Vec::new();
    for g in 0..guardians {
        let bias = rng.normal(0.0, 1.5);
        let mut samples = Vec::new();
        for _ in 0..60 {
            let tail = if rng.unit() < 0.02 {
                rng.unit() * 40.0
            } else {
                0.0
            };
            let v = (rng.normal(latency_base_ms + bias, 3.0) + tail).max(1.0);
            samples.push(v);
            m2e.record_ms(v);
        }
        per_guardian.push(GuardianSample {
            guardian: g + 1,
            room: g / 12,
            mouth_to_ear_ms: Summary::from_samples(&samples),
            jitter_ms: Some(rng.normal(0.8, 0.1).max(0.0)),
            loss_pct: Some(loss_pct * rng.unit()),
        });
    }
    for _ in 0..(guardians * 1500) {
        engine.record_ms(rng.normal(6.0, 1.2).max(0.5) + if rng.unit() < 0.01 { 8.0 } else { 0.0 });
    }
    let mut jitter_samples = Vec::new();
    let per_second: Vec<SecondSample> = (1..=duration_s)
        .map(|t| {
            let j = rng.normal(0.8 + loss_pct, 0.15).max(0.0);
            jitter_samples.push(j);
            SecondSample {
                t_s: f64::from(t),
                guardians_up: guardians,
                jitter_avg_ms: Some(j),
                jitter_p95_ms: Some(j * 1.9 + rng.unit() * 0.3),
                loss_pct: Some((loss_pct * (0.6 + 0.8 * rng.unit())).max(0.0)),
                engine_core_fraction: Some(0.0019 * f64::from(guardians) + rng.normal(0.0, 0.001)),
                generator_core_fraction: Some(
                    0.001 * f64::from(guardians) + rng.normal(0.0, 0.001),
                ),
                mouth_to_ear_p95_ms: None,
            }
        })
        .collect();
    let adm = |rng: &mut Rng, base: f64| -> Summary {
        let s: Vec<f64> = (0..guardians)
            .map(|_| rng.normal(base, base * 0.2).max(0.1))
            .collect();
        Summary::from_samples(&s)
    };
    let mut report = RunReport {
        label: None,
        started_at: "2025-06-01T10:00:00Z".into(),
        guardians,
        rooms: guardians.div_ceil(12),
        duration_s: f64::from(duration_s),
        codec: Codec {
            name: "opus".into(),
            clock_rate_hz: 48_000,
            ptime_ms: 20,
            engine: EncoderSettings {
                application: Some("voip".into()),
                bitrate_bps: Some(32_000),
                complexity: Some(4),
                fec: false,
                dtx: false,
            },
            generator: EncoderSettings {
                application: Some("voip".into()),
                bitrate_bps: Some(24_000),
                complexity: Some(4),
                fec: false,
                dtx: false,
            },
        },
        impairment: Impairment {
            loss_pct,
            jitter_ms: 0.0,
            reorder_pct: 0.0,
            burst_loss: 1.0,
            seed,
        },
        admission_ms: Admission {
            total: adm(&mut rng, 4.0),
            grq: adm(&mut rng, 1.1),
            rrq: adm(&mut rng, 1.4),
            arq: adm(&mut rng, 1.3),
        },
        mouth_to_ear_ms: m2e.summary(),
        engine_added_ms: engine.summary(),
        jitter_ms: Summary::from_samples(&jitter_samples),
        loss_pct: Some(loss_pct * 0.97),
        late_frames_pct: Some(0.0),
        call_drops: Some(0),
        calls: Some(Calls {
            attempted: u64::from(guardians),
            succeeded: u64::from(guardians),
        }),
        cpu: Cpu {
            engine_core_fraction: Some(0.0019 * f64::from(guardians)),
            us_per_guardian_s: Some(1_900.0 + rng.normal(0.0, 50.0)),
            shards: vec![ShardCpu {
                shard: 0,
                cpu: Some(0),
                core_fraction: 0.0019 * f64::from(guardians) + 0.002,
            }],
            generator_core_fraction: Some(0.001 * f64::from(guardians)),
        },
        rss_mib: Some(38.5),
        series: Some(Series {
            per_second,
            per_guardian,
            mouth_to_ear_hist: Some(m2e.snapshot()),
            engine_added_hist: Some(engine.snapshot()),
        }),
        machine: Machine {
            cores: 2,
            cpu_model: Some("Test CPU @ 2.0GHz".into()),
            kernel: Some("6.1.0-test".into()),
        },
        notes: vec!["media provisioned through the engine API after ACF".into()],
        ..RunReport::default()
    };
    report.slo = evaluate(&SloTargets::default(), &Measured::from_report(&report));
    report
}

/// A capacity sweep that breaks on engine CPU at 400 guardians.
pub fn sweep(seed: u64) -> RunReport {
    let mut report = run(seed, 350, 22.0, 0.0);
    let mut rng = Rng::new(seed ^ 0xABCD);
    let steps: Vec<SweepStep> = (1..=8u32)
        .map(|i| {
            let g = i * 50;
            let cpu = 0.0019 * f64::from(g) + rng.normal(0.0, 0.01);
            let pass = g < 400;
            SweepStep {
                guardians: g,
                pass,
                mouth_to_ear_p95_ms: Some(
                    24.0 + f64::from(g) * 0.01 + if pass { 0.0 } else { 30.0 },
                ),
                jitter_p95_ms: Some(1.5 + f64::from(g) * 0.002),
                loss_pct: Some(0.0),
                engine_core_fraction: Some(cpu),
                us_per_guardian_s: Some(cpu * 1e6 / f64::from(g)),
                failed: if pass {
                    vec![]
                } else {
                    vec!["engine_cpu".into()]
                },
            }
        })
        .collect();
    report.sweep = Some(Sweep {
        steps,
        largest_passing: Some(350),
        broke_at: Some(BrokeAt {
            guardians: 400,
            failed_checks: vec!["engine_cpu".into()],
        }),
        media_cores: Some(1),
    });
    report.guardians_per_core = Some(350.0);
    report.label = Some("capacity sweep".into());
    report
}
