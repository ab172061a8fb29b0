//! ARQ → ACF through the gatekeeper: decode, signature verification, gates,
//! engine stub, encode. Also the parts on their own, the cost of a junk
//! datagram, and (printed once) P50/P99 latency and single-core throughput
//! of signed admissions, one by one and in batches of 16, for the issue's
//! targets (P99 ≤ 1 ms, ≥ 20,000/s), and what the audit log adds to the
//! ARQ → ACF P99 under each fsync policy (target: < 100 µs).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use control::audit::{AuditWriter, FsyncPolicy, RasAuditTrail};
use control::client::GuardianClient;
use control::engine_api::StubEngine;
use control::gatekeeper::{Config, Gatekeeper, Output, UnixMillis};
use control::registry::{Guardian, Registry};
use control::security::token;
use criterion::{criterion_group, criterion_main, Criterion};
use ed25519_dalek::SigningKey;

const T0_MS: u64 = 1_700_000_000_000;
const CONF: [u8; 16] = [7; 16];

struct Bench {
    gk: Gatekeeper<StubEngine>,
    client: GuardianClient,
    now: UnixMillis,
    call: u64,
    from: std::net::SocketAddr,
    audit: Option<RasAuditTrail>,
}

/// Drains the gatekeeper as the service does: with an audit trail, each
/// reply's record is appended before the reply would be sent. Returns the
/// replies and the time spent in the audit trail.
// Benchmarks measure wall-clock time by definition.
#[allow(clippy::disallowed_methods)]
fn drain_audited(
    gk: &mut Gatekeeper<StubEngine>,
    now: UnixMillis,
    mut audit: Option<&mut RasAuditTrail>,
) -> (usize, Duration) {
    let mut n = 0;
    let mut audit_time = Duration::ZERO;
    loop {
        match gk.poll_output() {
            Output::Transmit(t) => {
                if let Some(trail) = audit.as_deref_mut() {
                    let start = Instant::now();
                    trail.before_send(now, &t).expect("audit");
                    audit_time += start.elapsed();
                }
                black_box(t);
                n += 1;
            }
            Output::Event(e) => {
                if let Some(trail) = audit.as_deref_mut() {
                    let start = Instant::now();
                    trail.on_event(now, &e).expect("audit");
                    audit_time += start.elapsed();
                }
                black_box(e);
            }
            Output::Timeout(_) => return (n, audit_time),
        }
    }
}

fn drain(gk: &mut Gatekeeper<StubEngine>) -> usize {
    drain_audited(gk, UnixMillis(0), None).0
}

impl Bench {
    fn new() -> Self {
        let key = SigningKey::from_bytes(&[1; 32]);
        let registry = Registry::from_guardians(vec![Guardian {
            terminal_id: "if://guardian/bench".into(),
            role: "bench".into(),
            public_key: key.verifying_key(),
            bandwidth_quota_bps: u64::MAX / 2,
        }]);
        let config = Config {
            calls_max: usize::MAX,
            ..Config::default()
        };
        let mut gk = Gatekeeper::new(config, Arc::new(registry), StubEngine::default());
        let mut client = GuardianClient::new("if://guardian/bench", key, 1);
        let from = std::net::SocketAddr::from(([127, 0, 0, 1], 40_000));
        let now = UnixMillis(T0_MS);
        let rrq = client.rrq(secs(now), from, 3600).expect("sign");
        gk.handle_datagram(now, from, &rrq);
        loop {
            match gk.poll_output() {
                Output::Transmit(t) => {
                    client.absorb(&t.bytes).expect("rcf");
                }
                Output::Event(_) => {}
                Output::Timeout(_) => break,
            }
        }
        Self {
            gk,
            client,
            now,
            call: 0,
            from,
            audit: None,
        }
    }

    /// A fresh signed ARQ for a new call (not timed).
    fn next_arq(&mut self) -> Vec<u8> {
        self.call += 1;
        // Virtual time moves 1 ms per admission so the replay set ages.
        self.now = UnixMillis(self.now.0 + 1);
        let mut call = [0u8; 16];
        call[..8].copy_from_slice(&self.call.to_be_bytes());
        self.client
            .arq(secs(self.now), CONF, call, 640)
            .expect("sign")
    }

    /// Ends the previous call so the tables stay small (not timed).
    fn release_last(&mut self) {
        let mut call = [0u8; 16];
        call[..8].copy_from_slice(&self.call.to_be_bytes());
        let drq = self.client.drq(secs(self.now), CONF, call).expect("sign");
        self.gk.handle_datagram(self.now, self.from, &drq);
        drain_audited(&mut self.gk, self.now, self.audit.as_mut());
    }

    /// The timed part: one ARQ in, one ACF out (its audit record written
    /// first when auditing).
    fn admit(&mut self, arq: &[u8]) -> Duration {
        self.gk.handle_datagram(self.now, self.from, arq);
        let (sent, audit_time) = drain_audited(&mut self.gk, self.now, self.audit.as_mut());
        debug_assert_eq!(sent, 1);
        audit_time
    }

    /// What the service does after sending: the group policy's time-bound
    /// sync (not timed: the reply has left).
    fn after_send(&mut self) {
        if let Some(trail) = &mut self.audit {
            trail.writer().sync_if_due(self.now).expect("sync");
        }
    }
}

fn secs(t: UnixMillis) -> u32 {
    u32::try_from(t.secs()).unwrap_or(u32::MAX)
}

// Benchmarks measure wall-clock time by definition.
#[allow(clippy::disallowed_methods)]
fn arq_to_acf(c: &mut Criterion) {
    let mut b = Bench::new();
    c.bench_function("arq_to_acf (decode+verify+gates+encode)", |bencher| {
        bencher.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let arq = b.next_arq();
                let start = Instant::now();
                b.admit(&arq);
                total += start.elapsed();
                b.release_last();
            }
            total
        });
    });

    let arq = b.next_arq();
    c.bench_function("decode signed ARQ", |bencher| {
        bencher.iter(|| control::ras::decode(black_box(&arq)).expect("decode"));
    });
    let message = control::ras::decode(&arq).expect("decode");
    let signed = token::extract(&message).expect("token");
    let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
    c.bench_function("verify Ed25519 token", |bencher| {
        bencher.iter(|| token::verify(black_box(&arq), &signed, &key).expect("verify"));
    });
    let acf = control::ras::samples::all()
        .into_iter()
        .find(|s| s.name == "acf")
        .expect("acf")
        .message;
    c.bench_function("encode ACF", |bencher| {
        bencher.iter(|| control::ras::encode(black_box(&acf)).expect("encode"));
    });
    let junk = [0x26u8, 0x00, 0x00, 0x04, 0xff, 0xff, 0xff];
    c.bench_function("junk datagram (malformed ARQ → XRS)", |bencher| {
        bencher.iter(|| {
            b.gk.handle_datagram(b.now, b.from, black_box(&junk));
            drain(&mut b.gk)
        });
    });
}

/// Admissions per report: 20,000 under `cargo bench`; a few hundred when
/// `cargo test --all-targets` runs the benchmark once as a smoke test (debug
/// builds verify signatures ~100× slower).
fn report_size() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        20_000
    } else {
        320
    }
}

/// P50/P99 of ARQ→ACF and single-core throughput, printed once.
#[allow(clippy::disallowed_methods)]
fn latency_report(_: &mut Criterion) {
    let mut b = Bench::new();
    let n = report_size();
    let arqs: Vec<Vec<u8>> = (0..n).map(|_| b.next_arq()).collect();
    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    for arq in &arqs {
        let t = Instant::now();
        b.admit(arq);
        lat.push(t.elapsed());
    }
    let wall = start.elapsed();
    lat.sort_unstable();
    let pct = |p: usize| lat[(lat.len() * p / 100).min(lat.len() - 1)];
    println!(
        "arq_to_acf over {n} signed admissions (calls kept open): p50 {:?}, p99 {:?}, max {:?}, throughput {:.0}/s on one core",
        pct(50),
        pct(99),
        lat[lat.len() - 1],
        n as f64 / wall.as_secs_f64()
    );
}

/// Throughput when ARQs arrive together and are handled as batches of 16
/// (one Ed25519 batch verification each), printed once.
#[allow(clippy::disallowed_methods)]
fn batch_report(_: &mut Criterion) {
    const BATCH: usize = 16;
    let mut b = Bench::new();
    let n = report_size();
    let arqs: Vec<Vec<u8>> = (0..n).map(|_| b.next_arq()).collect();
    let from = b.from;
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    for chunk in arqs.chunks(BATCH) {
        let batch: Vec<(std::net::SocketAddr, &[u8])> =
            chunk.iter().map(|a| (from, a.as_slice())).collect();
        let t = Instant::now();
        b.gk.handle_datagrams(b.now, &batch);
        let sent = drain(&mut b.gk);
        worst = worst.max(t.elapsed());
        assert_eq!(sent, chunk.len());
    }
    let wall = start.elapsed();
    println!(
        "arq_to_acf in batches of {BATCH}: throughput {:.0}/s on one core, slowest batch {:?} (= latency bound of its last ARQ)",
        n as f64 / wall.as_secs_f64(),
        worst
    );
}

/// ARQ → ACF without and with the audit log under each fsync policy,
/// printed once. The two gatekeepers take turns admission by admission, so
/// a busy machine slows both alike; the time inside the audit trail is also
/// reported on its own. The log lives in the system temp directory: run on
/// the disk the logs will use (TMPDIR=/var/log/mcu cargo bench …).
#[allow(clippy::disallowed_methods)]
fn audit_report(_: &mut Criterion) {
    // As a smoke test (debug build, ~11 ms per admission) a few suffice.
    let n = if report_size() < 1000 {
        64
    } else {
        report_size()
    };
    let root = std::env::temp_dir().join(format!("admission-bench-audit-{}", std::process::id()));
    let policies = [
        ("os", FsyncPolicy::Os),
        ("group", FsyncPolicy::default()),
        ("every", FsyncPolicy::EveryRecord),
    ];
    for (name, policy) in policies {
        let mut off = Bench::new();
        let mut on = Bench::new();
        on.audit = Some(RasAuditTrail::new(
            AuditWriter::open(root.join(name), policy).expect("open audit"),
        ));
        let mut lat_off = Vec::with_capacity(n);
        let mut lat_on = Vec::with_capacity(n);
        let mut in_audit = Vec::with_capacity(n);
        let run = |b: &mut Bench, lat: &mut Vec<Duration>| {
            let arq = b.next_arq();
            let t = Instant::now();
            let audit_time = b.admit(&arq);
            lat.push(t.elapsed());
            b.after_send();
            audit_time
        };
        for i in 0..n {
            if i % 2 == 0 {
                run(&mut off, &mut lat_off);
                in_audit.push(run(&mut on, &mut lat_on));
            } else {
                in_audit.push(run(&mut on, &mut lat_on));
                run(&mut off, &mut lat_off);
            }
        }
        for v in [&mut lat_off, &mut lat_on, &mut in_audit] {
            v.sort_unstable();
        }
        let pct = |v: &[Duration], p: usize| v[(v.len() * p / 100).min(v.len() - 1)];
        println!(
            "arq_to_acf audit {name} ({policy}): p50 {:?} vs off {:?}, p99 {:?} vs off {:?} \
             (added p99 {:?}); time in the audit trail p50 {:?} p99 {:?} max {:?}; {n} admissions",
            pct(&lat_on, 50),
            pct(&lat_off, 50),
            pct(&lat_on, 99),
            pct(&lat_off, 99),
            pct(&lat_on, 99).saturating_sub(pct(&lat_off, 99)),
            pct(&in_audit, 50),
            pct(&in_audit, 99),
            in_audit[n - 1],
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

criterion_group!(
    benches,
    latency_report,
    batch_report,
    audit_report,
    arq_to_acf
);
criterion_main!(benches);
