//! `engine demo`: one room of simulated guardians through the real mixer.
//!
//! Each guardian encodes its own signal (speech for talkers, low-level noise
//! for the others) into real RTP packets with RFC 6464 levels; packets
//! arrive with a little seeded network jitter on a virtual clock, and the
//! room ticks every 20 ms of that clock. The CPU time of every tick is
//! measured on the real clock. This runs the media core alone — no sockets,
//! no gatekeeper — so it shows what mixing itself costs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use engine::sim::{self, NoiseSource, SignalSource, SimSender, SpeechSource};
use media_core::codec::{CodecConfig, OpusConfig};
use media_core::mixer::{MixerConfig, ParticipantConfig, ParticipantId, Room};

/// Arguments of `engine demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Guardians in the room.
    #[arg(long, default_value_t = 12)]
    guardians: u32,
    /// How many of them talk (speech); the rest send low-level noise.
    #[arg(long, default_value_t = 3)]
    talkers: u32,
    /// Seconds of audio to run through the mixer.
    #[arg(long, default_value_t = 20)]
    seconds: u32,
    /// Codec of every guardian.
    #[arg(long, value_enum, default_value_t = DemoCodec::Opus)]
    codec: DemoCodec,
    /// Seed for SSRCs and network jitter.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DemoCodec {
    Opus,
    Pcmu,
    Pcma,
    /// Opus and G.711 guardians mixed in one room.
    Mixed,
}

impl DemoCodec {
    fn for_guardian(self, index: u32) -> CodecConfig {
        match self {
            Self::Opus => CodecConfig::Opus(OpusConfig::default()),
            Self::Pcmu => CodecConfig::Pcmu,
            Self::Pcma => CodecConfig::Pcma,
            Self::Mixed => match index % 3 {
                0 => CodecConfig::Pcmu,
                _ => CodecConfig::Opus(OpusConfig::default()),
            },
        }
    }
}

/// Runs the demo and prints the measurements.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    if args.guardians == 0 || args.guardians > 32 {
        bail!(
            "--guardians must be 1..=32 for one room (got {})",
            args.guardians
        );
    }
    if args.talkers > args.guardians {
        bail!(
            "--talkers ({}) cannot exceed --guardians ({})",
            args.talkers,
            args.guardians
        );
    }
    let mut rng = args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next_random = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };

    let speech: Arc<[i16]> = sim::speech_fixture().into();
    let mut room = Room::new(MixerConfig::default());
    let mut senders = Vec::new();
    for i in 0..args.guardians {
        let codec = args.codec.for_guardian(i);
        let source = if i < args.talkers {
            SignalSource::Speech(SpeechSource::new(speech.clone(), i * 1370))
        } else {
            SignalSource::Noise(NoiseSource::new(next_random() as u32, 40))
        };
        senders
            .push(SimSender::new(codec, source, next_random() as u32).context("client encoder")?);
        let mut participant = ParticipantConfig::new(
            ParticipantId(i),
            codec,
            sim::payload_type(codec),
            next_random() as u32,
        );
        participant.audio_level_ext_id = Some(sim::AUDIO_LEVEL_EXT_ID);
        room.add_participant(participant)
            .context("adding a guardian")?;
    }

    let frame = Duration::from_millis(20);
    let ticks = args.seconds * 50;
    let t0 = Instant::now();
    let mut packet = [0u8; 1500];
    let mut tick_cpu = Vec::with_capacity(ticks as usize);
    let mut added_latency = Vec::new();
    let mut packets_out = 0u64;
    let mut bytes_out = 0u64;
    let mut speakers_total = 0u64;
    for k in 0..ticks {
        let tick_at = t0 + frame * (k + 1);
        // Each guardian's frame k was captured at k·20 ms and arrives after
        // 1–6 ms of network delay.
        for (i, sender) in senders.iter_mut().enumerate() {
            let len = sender.next_packet(&mut packet)?;
            let arrival = t0 + frame * k + Duration::from_micros(1000 + next_random() % 5000);
            let _ = room.handle_rtp(arrival, ParticipantId(i as u32), &packet[..len]);
        }
        let started = Instant::now();
        room.tick(tick_at);
        for output in room.outputs() {
            packets_out += 1;
            bytes_out += (output.header.len() + output.payload.len()) as u64;
            for c in output.contributions.iter() {
                added_latency.push(tick_at.saturating_duration_since(c.arrival));
            }
        }
        tick_cpu.push(started.elapsed());
        speakers_total += room.speakers().count() as u64;
    }

    let counters = room.counters();
    tick_cpu.sort();
    added_latency.sort();
    let total_cpu: Duration = tick_cpu.iter().sum();
    let guardian_seconds = f64::from(args.guardians) * f64::from(args.seconds);
    println!(
        "engine demo: {} guardians ({} talking), codec {:?}, {} s of audio through the mixer (media core only, virtual network clock)",
        args.guardians, args.talkers, args.codec, args.seconds
    );
    println!(
        "  tick CPU µs           p50 {:>7.1}  p95 {:>7.1}  p99 {:>7.1}  max {:>7.1}",
        us(percentile(&tick_cpu, 0.50)),
        us(percentile(&tick_cpu, 0.95)),
        us(percentile(&tick_cpu, 0.99)),
        us(tick_cpu.last().copied().unwrap_or_default())
    );
    println!(
        "  CPU per guardian-s    {:.1} µs  ({:.2} % of one core for the room)",
        total_cpu.as_secs_f64() * 1e6 / guardian_seconds,
        100.0 * total_cpu.as_secs_f64() / f64::from(args.seconds)
    );
    println!("  encodes per tick      opus {:.2}  g711 {:.2}   decodes per tick {:.2}   speakers per tick {:.2}",
        counters.opus_encodes as f64 / f64::from(ticks), counters.g711_encodes as f64 / f64::from(ticks),
        counters.decodes as f64 / f64::from(ticks), speakers_total as f64 / f64::from(ticks));
    println!("  mixer-added latency   p50 {:.1} ms  p99 {:.1} ms  (arrival → tick that mixed it; jitter-buffer target included)",
        ms(percentile(&added_latency, 0.50)), ms(percentile(&added_latency, 0.99)));
    println!(
        "  output                {} packets ({:.1}/s per guardian), {:.1} kbit/s per guardian",
        packets_out,
        packets_out as f64 / guardian_seconds,
        bytes_out as f64 * 8.0 / guardian_seconds / 1000.0
    );
    Ok(())
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
