//! Measures Opus encoder modes on real speech, to choose `OpusConfig::default()`:
//! CPU per 20 ms frame (encode and decode, best of 3, thread CPU time), bytes per packet, the
//! codec delay found by cross-correlation, and segmental SNR of the aligned
//! round trip as a quality proxy. The same packets are decoded again with 5 %
//! of them dropped (seeded, so every mode loses the same frames), recovering
//! through in-band FEC where the next packet has it and concealing otherwise.
//!
//! Ignored by default (it is a measurement, not a check). Run with
//! `cargo test --release -p media-core --test codec_measure -- --ignored --nocapture`.
//! `CODEC_MEASURE_PCM` names a longer 48 kHz mono s16le file than the bench
//! fixture; with `CODEC_MEASURE_OUT` set to a directory, the aligned decoded
//! audio of each mode is written there (`<label>.s16`) for scoring by an
//! external metric such as PESQ.

// Timing a measurement may need the wall clock the media core itself never reads.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use media_core::codec::{
    new_decoder, new_encoder, CodecConfig, Decoder, Encoder, Frame, OpusApplication, OpusConfig,
    OpusDecoder, OpusEncoder, FRAME_SAMPLES, PAYLOAD_MAX_BYTES,
};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../bench/fixtures/speech_48k_mono.s16"
);
/// Longest codec delay searched for, in samples (20 ms).
const LAG_MAX: usize = FRAME_SAMPLES;
const RUNS: usize = 3;

fn load_speech() -> Vec<i16> {
    let path = std::env::var("CODEC_MEASURE_PCM").unwrap_or_else(|_| FIXTURE.to_owned());
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut pcm: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    pcm.truncate(pcm.len() / FRAME_SAMPLES * FRAME_SAMPLES);
    pcm
}

struct Run {
    encode_time: Duration,
    decode_time: Duration,
    bytes: usize,
    decoded: Vec<i16>,
    packets: Vec<Vec<u8>>,
}

/// Percentage of packets dropped in the lossy decode.
const LOSS_PCT: u32 = 5;

/// Deterministic loss pattern: a multiplicative hash of the frame index.
fn lost(index: usize) -> bool {
    let mut x = (index as u32)
        .wrapping_mul(2_654_435_761)
        .wrapping_add(0x9E37_79B9);
    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
    (x >> 8) % 100 < LOSS_PCT
}

/// Decodes `packets` with the seeded losses; returns the audio, frames lost
/// and frames recovered by FEC.
fn decode_lossy(packets: &[Vec<u8>]) -> (Vec<i16>, usize, usize) {
    let mut decoder = OpusDecoder::new().unwrap();
    let mut out: Frame = [0; FRAME_SAMPLES];
    let mut audio = Vec::with_capacity(packets.len() * FRAME_SAMPLES);
    let (mut lost_frames, mut recovered) = (0, 0);
    for (i, packet) in packets.iter().enumerate() {
        if lost(i) {
            lost_frames += 1;
            match packets.get(i + 1).filter(|_| !lost(i + 1)) {
                Some(next) => recovered += usize::from(decoder.decode_fec(next, &mut out).unwrap()),
                None => decoder.conceal(&mut out).unwrap(),
            }
        } else {
            decoder.decode(packet, &mut out).unwrap();
        }
        audio.extend_from_slice(&out);
    }
    (audio, lost_frames, recovered)
}

fn run_once(config: OpusConfig, pcm: &[i16]) -> Run {
    let mut encoder = OpusEncoder::new(config).unwrap();
    let mut decoder = OpusDecoder::new().unwrap();
    let mut out: Frame = [0; FRAME_SAMPLES];
    let mut lens = Vec::with_capacity(pcm.len() / FRAME_SAMPLES);
    let mut packed = vec![0u8; pcm.len() / FRAME_SAMPLES * PAYLOAD_MAX_BYTES];
    // Encode everything, then decode everything, so each loop is timed whole.
    let t0 = cpu_time();
    for (chunk, dst) in pcm
        .chunks_exact(FRAME_SAMPLES)
        .zip(packed.chunks_exact_mut(PAYLOAD_MAX_BYTES))
    {
        let frame: &Frame = chunk.try_into().unwrap();
        lens.push(encoder.encode(frame, dst).unwrap());
    }
    let t1 = cpu_time();
    let mut decoded = vec![0i16; pcm.len()];
    for ((src, &len), dst) in packed
        .chunks_exact(PAYLOAD_MAX_BYTES)
        .zip(&lens)
        .zip(decoded.chunks_exact_mut(FRAME_SAMPLES))
    {
        decoder.decode(&src[..len], &mut out).unwrap();
        dst.copy_from_slice(&out);
    }
    let t2 = cpu_time();
    let packets: Vec<Vec<u8>> = packed
        .chunks_exact(PAYLOAD_MAX_BYTES)
        .zip(&lens)
        .map(|(p, &l)| p[..l].to_vec())
        .collect();
    Run {
        encode_time: t1 - t0,
        decode_time: t2 - t1,
        bytes: lens.iter().sum(),
        decoded,
        packets,
    }
}

/// CPU time this thread has run, from the scheduler's own account
/// (`/proc/thread-self/schedstat`), so time spent waiting for a core on a
/// busy machine is not counted. Falls back to the wall clock elsewhere.
fn cpu_time() -> Duration {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let on_cpu_ns = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
    match on_cpu_ns {
        Some(ns) => Duration::from_nanos(ns),
        None => ORIGIN.get_or_init(Instant::now).elapsed(),
    }
}

/// The lag (0 ..= LAG_MAX) at which `decoded` best matches `reference`.
fn find_delay(reference: &[i16], decoded: &[i16]) -> usize {
    // Two seconds from the middle are plenty to pin the lag down.
    let len = (2 * 48_000).min(reference.len().saturating_sub(2 * LAG_MAX));
    let start = (reference.len() - len) / 2 - LAG_MAX / 2;
    let x = &reference[start..start + len];
    let score = |lag: usize| -> f64 {
        let y = &decoded[start + lag..start + lag + len];
        x.iter()
            .zip(y)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum()
    };
    (0..=LAG_MAX)
        .max_by(|&a, &b| score(a).total_cmp(&score(b)))
        .unwrap_or(0)
}

/// Whole-file SNR and segmental SNR (20 ms segments with speech, each clamped
/// to −10 ..= 35 dB as usual) of `decoded` delayed by `delay` against `reference`.
fn snr_db(reference: &[i16], decoded: &[i16], delay: usize) -> (f64, f64) {
    let n = reference.len() - delay;
    let (x, y) = (&reference[..n], &decoded[delay..delay + n]);
    let energy = |s: &[i16]| s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
    let noise = |a: &[i16], b: &[i16]| {
        a.iter()
            .zip(b)
            .map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2))
            .sum::<f64>()
    };
    let total = 10.0 * (energy(x) / noise(x, y).max(1.0)).log10();
    // Segments quieter than −50 dBFS are pauses, not speech.
    let floor = FRAME_SAMPLES as f64 * (32_768.0f64 * 10f64.powf(-50.0 / 20.0)).powi(2);
    let mut segments = Vec::new();
    for (a, b) in x
        .chunks_exact(FRAME_SAMPLES)
        .zip(y.chunks_exact(FRAME_SAMPLES))
    {
        let e = energy(a);
        if e > floor {
            segments.push((10.0 * (e / noise(a, b).max(1.0)).log10()).clamp(-10.0, 35.0));
        }
    }
    let seg = segments.iter().sum::<f64>() / segments.len().max(1) as f64;
    (total, seg)
}

fn label(config: &OpusConfig) -> String {
    let app = match config.application {
        OpusApplication::Voip => "voip",
        OpusApplication::Audio => "audio",
        OpusApplication::RestrictedLowDelay => "lowdelay",
    };
    let fec = if config.fec {
        format!("_fec{}", config.packet_loss_pct)
    } else {
        String::new()
    };
    format!("{app}_c{}{fec}", config.complexity)
}

#[test]
#[ignore = "measurement: run with --release -- --ignored --nocapture"]
fn opus_modes_on_speech() {
    let pcm = load_speech();
    let frames = pcm.len() / FRAME_SAMPLES;
    let out_dir = std::env::var("CODEC_MEASURE_OUT").ok();
    let plain = OpusConfig {
        fec: false,
        packet_loss_pct: 0,
        dtx: false,
        ..OpusConfig::default()
    };
    let mut configs = Vec::new();
    for application in [OpusApplication::Voip, OpusApplication::Audio] {
        for complexity in [0, 1, 2, 3, 4, 5, 8, 10] {
            configs.push(OpusConfig {
                application,
                complexity,
                ..plain
            });
        }
    }
    // FEC only exists in SILK; asking for it changes the mode decision, so price it too.
    for (application, complexity) in [(OpusApplication::Audio, 4), (OpusApplication::Voip, 5)] {
        for packet_loss_pct in [5, 10] {
            configs.push(OpusConfig {
                application,
                complexity,
                fec: true,
                packet_loss_pct,
                ..plain
            });
        }
    }
    println!("{frames} frames of speech, 32 kb/s, best of {RUNS} runs");
    println!(
        "| mode | encode µs/frame | decode µs/frame | bytes/packet | delay samples | SNR dB \
         | segSNR dB | segSNR dB at {LOSS_PCT}% loss | FEC-recovered/lost |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for config in configs {
        let mut runs: Vec<Run> = (0..RUNS).map(|_| run_once(config, &pcm)).collect();
        let encode_us = runs.iter().map(|r| r.encode_time).min().unwrap_or_default();
        let decode_us = runs.iter().map(|r| r.decode_time).min().unwrap_or_default();
        let per_frame = |d: Duration| d.as_secs_f64() * 1e6 / frames as f64;
        let run = runs.swap_remove(0);
        let delay = find_delay(&pcm, &run.decoded);
        let (snr, seg) = snr_db(&pcm, &run.decoded, delay);
        let (lossy, lost_frames, recovered) = decode_lossy(&run.packets);
        let (_, lossy_seg) = snr_db(&pcm, &lossy, delay);
        println!(
            "| {} | {:.0} | {:.0} | {:.1} | {delay} | {snr:.1} | {seg:.1} | {lossy_seg:.1} | {recovered}/{lost_frames} |",
            label(&config),
            per_frame(encode_us),
            per_frame(decode_us),
            run.bytes as f64 / frames as f64,
        );
        if let Some(dir) = &out_dir {
            for (suffix, audio) in [("", &run.decoded), ("_loss", &lossy)] {
                let aligned: Vec<u8> = audio[delay..]
                    .iter()
                    .flat_map(|s| s.to_le_bytes())
                    .collect();
                std::fs::write(format!("{dir}/{}{suffix}.s16", label(&config)), aligned).unwrap();
            }
        }
    }
}

#[test]
#[ignore = "measurement: run with --release -- --ignored --nocapture"]
fn g711_cost_on_speech() {
    let pcm = load_speech();
    let frames = pcm.len() / FRAME_SAMPLES;
    for config in [CodecConfig::Pcmu, CodecConfig::Pcma] {
        let (mut encode_time, mut decode_time) = (Duration::MAX, Duration::MAX);
        for _ in 0..RUNS {
            let mut encoder = new_encoder(config).unwrap();
            let mut decoder = new_decoder(config).unwrap();
            let mut payload = [0u8; PAYLOAD_MAX_BYTES];
            let mut out: Frame = [0; FRAME_SAMPLES];
            let t0 = cpu_time();
            for chunk in pcm.chunks_exact(FRAME_SAMPLES) {
                let frame: &Frame = chunk.try_into().unwrap();
                encoder.encode(frame, &mut payload).unwrap();
            }
            let t1 = cpu_time();
            // G.711 decodes any 160 bytes: time it on one payload, repeated.
            for _ in 0..frames {
                decoder.decode(&payload[..160], &mut out).unwrap();
            }
            let t2 = cpu_time();
            let (enc, dec) = (t1 - t0, t2 - t1);
            encode_time = encode_time.min(enc);
            decode_time = decode_time.min(dec);
        }
        let per_frame = |d: Duration| d.as_secs_f64() * 1e6 / frames as f64;
        println!(
            "{}: encode {:.1} µs/frame, decode {:.1} µs/frame (with resampling)",
            config.name(),
            per_frame(encode_time),
            per_frame(decode_time)
        );
    }
}
