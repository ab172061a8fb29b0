//! Load test of the real engine over loopback: rooms of 12 Opus guardians
//! (3 talking speech, 9 sending low noise) on pinned shards, for a while;
//! reports tick overruns, late frames, the engine-added latency histogram,
//! shard CPU and memory per guardian.
//!
//! Packets are encoded before the run and replayed with fresh sequence
//! numbers and timestamps, so the sender thread costs almost nothing and the
//! shard CPU measured is the engine's own. Mix packets are sent to the
//! guardians' sockets and not read (the kernel drops what overflows).
//!
//! `cargo run --release -p engine --example load -- --rooms 25 --shards 1 --seconds 10 [--complexity N] [--audio]`

use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::core::codec::{CodecConfig, OpusConfig};
use engine::core::mixer::{MixerConfig, ParticipantId};
use engine::sim::{self, NoiseSource, SignalSource, SimSender, SpeechSource};
use engine::{Engine, EngineConfig, ParticipantSpec, RoomId};

/// Counts every allocation in the process, to put a number on allocations
/// per packet during the run (the shard's own path allocates none; glommio's
/// io_uring receive does).
struct Counting;

static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// SAFETY: delegates to the system allocator; only counts.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const PER_ROOM: usize = 12;
const TALKERS: usize = 3;
/// Packets pre-encoded per guardian (4 s, looped).
const LOOP_PACKETS: usize = 200;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// CPU time (user + system) of the threads whose name starts with `prefix`.
fn thread_cpu(prefix: &str) -> Duration {
    thread_cpus()
        .into_iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .map(|(_, d)| d)
        .sum()
}

/// CPU time of every thread of the process, by name (io_uring workers, the
/// sender, the shards...).
fn thread_cpus() -> Vec<(String, Duration)> {
    let tick_hz = 100.0; // USER_HZ on Linux
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in dir.flatten() {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: utime is 14th, stime 15th overall.
        if let Some(rest) = stat.rsplit(')').next() {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            let stime: f64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            out.push((
                name.trim().to_string(),
                Duration::from_secs_f64((utime + stime) / tick_hz),
            ));
        }
    }
    out
}

struct Guardian {
    socket: UdpSocket,
    target: std::net::SocketAddr,
    packets: Vec<Vec<u8>>,
}

fn main() -> anyhow::Result<()> {
    let rooms = arg("--rooms", 25) as usize;
    let shards = arg("--shards", 1) as usize;
    let seconds = arg("--seconds", 10);
    let mut config = EngineConfig::default();
    config.shards.count = shards;
    config.shards.ring_depth = 1024;
    config.media.port_first = 24_000;
    config.media.ports_per_shard = 4_000;
    config.shards.rooms_max = rooms.div_ceil(shards).max(1);

    let rss_start = rss_kib();
    let mut engine = Engine::start(config)?;
    let rss_engine = rss_kib();
    let mut opus_config = OpusConfig::default();
    if let Some(c) = std::env::args()
        .position(|a| a == "--complexity")
        .map(|_| arg("--complexity", 5))
    {
        opus_config.complexity = c as u8;
    }
    if std::env::args().any(|a| a == "--audio") {
        opus_config.application = engine::core::codec::OpusApplication::Audio;
    }
    let opus = CodecConfig::Opus(opus_config);
    let speech: Arc<[i16]> = sim::speech_fixture().into();
    let mut guardians = Vec::with_capacity(rooms * PER_ROOM);
    for r in 0..rooms {
        let room = RoomId(r as u32);
        engine.create_room(room, MixerConfig::default())?;
        for i in 0..PER_ROOM {
            let id = (r * PER_ROOM + i) as u32;
            let socket = UdpSocket::bind("127.0.0.1:0")?;
            let mut spec = ParticipantSpec::new(ParticipantId(id), opus, socket.local_addr()?);
            let ssrc = 0x2000_0000 + id;
            spec.ssrc = Some(ssrc);
            let admission = engine.add_participant(room, spec)?;
            let signal = if i < TALKERS {
                SignalSource::Speech(SpeechSource::new(
                    Arc::clone(&speech),
                    1000 * i as u32 + 37 * r as u32,
                ))
            } else {
                SignalSource::Noise(NoiseSource::new(id + 1, 20))
            };
            let mut sender = SimSender::new(opus, signal, ssrc)?;
            let mut packets = Vec::with_capacity(LOOP_PACKETS);
            let mut buf = [0u8; 1500];
            for _ in 0..LOOP_PACKETS {
                let n = sender.next_packet(&mut buf)?;
                packets.push(buf[..n].to_vec());
            }
            guardians.push(Guardian {
                socket,
                target: admission.local_rtp,
                packets,
            });
        }
    }
    let rss_rooms = rss_kib();
    let n = guardians.len();
    println!(
        "load: {rooms} rooms x {PER_ROOM} guardians ({TALKERS} talking) = {n} guardians on {shards} shard(s), {seconds} s, {opus_config:?}"
    );

    // The sender keeps off the shards' cores when there is a spare one.
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if cores > shards {
        let _ = engine::net::pin_current_thread(cores - 1);
    }
    let cpu_before = thread_cpu("shard-");
    let allocations_before = ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed);
    let start = Instant::now();
    let ticks = seconds * 50;
    let mut sent = 0u64;
    for k in 0..ticks {
        let due = start + Duration::from_millis(20) * k as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        for g in &mut guardians {
            let p = &mut g.packets[k as usize % LOOP_PACKETS];
            // Fresh sequence number and timestamp on every replay.
            let seq = (k as u16).to_be_bytes();
            let ts = ((k as u32).wrapping_mul(960)).to_be_bytes();
            p[2..4].copy_from_slice(&seq);
            p[4..8].copy_from_slice(&ts);
            if g.socket.send_to(p, g.target).is_ok() {
                sent += 1;
            }
        }
    }
    let allocations = ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed) - allocations_before;
    std::thread::sleep(Duration::from_millis(300));
    let elapsed = start.elapsed();
    let cpu = thread_cpu("shard-").saturating_sub(cpu_before);
    let stats = engine.snapshot()?.clone();
    let c = stats.counters();
    let l = stats.latency();
    let cpu_per_shard = cpu.as_secs_f64() / elapsed.as_secs_f64() / shards as f64;
    println!(
        "  sent {sent} packets, engine received {} and sent {} mix packets",
        c.rx_datagrams, c.tx_packets
    );
    println!(
        "  ticks {}  overruns {}  skipped {}  late ticks {}  late frames {} of {} ({:.3} %)",
        c.ticks,
        c.tick_overruns,
        c.ticks_skipped,
        c.late_ticks,
        c.late_frames,
        c.frames_out,
        100.0 * c.late_frames as f64 / c.frames_out.max(1) as f64
    );
    println!(
        "  allocations during the run: {allocations} ({:.2} per packet received; 0 in the shard's own path, see shard::alloc_test)",
        allocations as f64 / c.rx_datagrams.max(1) as f64
    );
    println!(
        "  send drops {}  send errors {}  spoofed {}  rejected {}",
        c.tx_would_block, c.tx_errors, c.spoofed_dropped, c.rtp_rejected
    );
    println!(
        "  shard CPU {:.1} % of a core per shard  =>  ≈ {:.0} guardians per fully used core",
        100.0 * cpu_per_shard,
        n as f64 / shards as f64 / cpu_per_shard.max(1e-9)
    );
    println!(
        "  engine-added latency over {} frames: p50 {:?}  p90 {:?}  p99 {:?}  p99.9 {:?}  max {:?}",
        l.count(),
        l.quantile(0.5),
        l.quantile(0.9),
        l.quantile(0.99),
        l.quantile(0.999),
        l.max()
    );
    let mut threads = thread_cpus();
    threads.sort_by_key(|t| std::cmp::Reverse(t.1));
    let threads: Vec<String> = threads
        .iter()
        .take(6)
        .map(|(n, d)| format!("{n} {:.2}s", d.as_secs_f64()))
        .collect();
    println!("  thread CPU since start: {}", threads.join(", "));
    let w = stats.tick_work();
    println!(
        "  tick work (all rooms of a shard, mix + send): p50 {:?}  p99 {:?}  max {:?}",
        w.quantile(0.5),
        w.quantile(0.99),
        w.max()
    );
    let t = stats.tick_cpu();
    println!(
        "  tick CPU (same, excluding time descheduled):    p50 {:?}  p99 {:?}  max {:?}",
        t.quantile(0.5),
        t.quantile(0.99),
        t.max()
    );
    let depth: Vec<u32> = stats
        .shards
        .iter()
        .flatten()
        .flat_map(|r| r.participants.iter().map(|p| p.jitter_target_ms))
        .collect();
    let depth_max = depth.iter().copied().max().unwrap_or(0);
    println!("  jitter-buffer target: max {depth_max} ms  (issue bound: P99 <= depth + 22 ms)");
    println!("  histogram (upper edge: frames):");
    let mut line = String::new();
    for (edge, count) in l.nonzero_buckets() {
        line.push_str(&format!(" {:.2}ms:{count}", edge.as_secs_f64() * 1000.0));
    }
    println!("   {line}");
    println!(
        "  memory: RSS {} KiB at start, +{} KiB for the engine, +{} KiB for {n} guardians (≈ {} KiB per guardian, including the test's own sockets and pre-encoded packets)",
        rss_start,
        rss_engine.saturating_sub(rss_start),
        rss_rooms.saturating_sub(rss_engine),
        rss_rooms.saturating_sub(rss_engine) / n.max(1) as u64
    );
    engine.shutdown();
    Ok(())
}
