//! ARQ → ACF through the gatekeeper: decode, signature verification, gates,
//! engine stub, encode. Also the parts on their own, the cost of a junk
//! datagram, and (printed once) P50/P99 latency and single-core throughput
//! of signed admissions, one by one and in batches of 16, for the issue's
//! targets (P99 ≤ 1 ms, ≥ 20,000/s).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
}

fn drain(gk: &mut Gatekeeper<StubEngine>) -> usize {
    let mut n = 0;
    loop {
        match gk.poll_output() {
            Output::Transmit(t) => {
                black_box(t);
                n += 1;
            }
            Output::Event(e) => {
                black_box(e);
            }
            Output::Timeout(_) => return n,
        }
    }
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
        drain(&mut self.gk);
    }

    /// The timed part: one ARQ in, one ACF out.
    fn admit(&mut self, arq: &[u8]) {
        self.gk.handle_datagram(self.now, self.from, arq);
        let sent = drain(&mut self.gk);
        debug_assert_eq!(sent, 1);
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

criterion_group!(benches, latency_report, batch_report, arq_to_acf);
criterion_main!(benches);
