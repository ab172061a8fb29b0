//! Real-loopback guardians for the engine tests: each is a std UDP socket on
//! 127.0.0.1 with `IP_RECVTOS` on, a simulated terminal (`SimSender`) that
//! encodes its signal into real RTP, and a client decoder for the mix it
//! receives. One thread drives them all on a drift-free 20 ms schedule.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::UdpSocket;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use engine::config::EngineConfig;
use engine::core::codec::{self, AnyDecoder, CodecConfig, Decoder as _, Frame};
use engine::core::mixer::ParticipantId;
use engine::core::rtp::RtpPacket;
use engine::net;
use engine::sim::{SignalSource, SimSender};
use engine::{Admission, Engine, ParticipantSpec, RoomId};

/// Network tests in one binary run one at a time: they measure timing on a
/// two-core machine.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// An engine config for tests: `shards` shards, ports from `port_first`,
/// pinned only when the machine has a core per shard.
pub fn test_config(shards: usize, port_first: u16) -> EngineConfig {
    let mut config = EngineConfig::default();
    config.shards.count = shards;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    config.shards.pin = cores >= shards;
    config.shards.io_memory_kib = 512;
    config.shards.ring_depth = 256;
    config.media.port_first = port_first;
    config.media.ports_per_shard = 200;
    config.stats.interval_ms = 100;
    config
}

/// Distinct tones inside the G.711 band, 230 Hz apart.
pub fn tone_hz(i: usize) -> f32 {
    430.0 + 230.0 * i as f32
}

/// One guardian terminal on real loopback.
#[derive(Debug)]
pub struct Guardian {
    pub id: ParticipantId,
    pub socket: UdpSocket,
    pub sender: SimSender,
    pub decoder: AnyDecoder,
    pub admission: Admission,
    pub heard: Vec<i16>,
    pub arrivals: Vec<Instant>,
    pub tos: Vec<Option<u8>>,
    /// Datagrams from anywhere but the engine's port for this guardian.
    pub strays: u64,
    pub last_csrcs: Vec<u32>,
    /// Packets encoded before the run, so the real-time phase costs the
    /// test thread no codec time (unoptimised builds on 2 cores).
    pub script: Vec<Vec<u8>>,
    /// Mix datagrams as received; decoded after the run.
    pub received: Vec<Vec<u8>>,
    pub received_at_stop: usize,
    /// CSRCs and samples heard when the guardians stopped sending: the
    /// steady state, before rooms wind down.
    pub csrcs_at_stop: Vec<u32>,
    pub heard_at_stop: usize,
    pub sent: u32,
}

impl Guardian {
    /// Binds a socket, admits the guardian into `room` and returns it.
    pub fn join(
        engine: &mut Engine,
        room: RoomId,
        id: u32,
        codec: CodecConfig,
        signal: SignalSource,
    ) -> Self {
        Self::join_with(engine, room, id, codec, signal, |_| {})
    }

    /// Like `join`, letting the test adjust the admission first.
    pub fn join_with(
        engine: &mut Engine,
        room: RoomId,
        id: u32,
        codec: CodecConfig,
        signal: SignalSource,
        adjust: impl FnOnce(&mut ParticipantSpec),
    ) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind guardian");
        let local = socket.local_addr().expect("local addr");
        net::set_recv_tos(&socket, local).expect("IP_RECVTOS");
        socket.set_nonblocking(true).expect("nonblocking");
        let ssrc = 0x1000_0000 + id;
        let mut spec = ParticipantSpec::new(ParticipantId(id), codec, local);
        spec.ssrc = Some(ssrc);
        adjust(&mut spec);
        let admission = engine.add_participant(room, spec).expect("admitted");
        Self {
            id: ParticipantId(id),
            socket,
            sender: SimSender::new(codec, signal, ssrc).expect("client encoder"),
            decoder: codec::new_decoder(codec).expect("client decoder"),
            admission,
            heard: Vec::with_capacity(48_000 * 5),
            arrivals: Vec::with_capacity(500),
            tos: Vec::with_capacity(500),
            strays: 0,
            last_csrcs: Vec::new(),
            script: Vec::new(),
            received: Vec::with_capacity(500),
            received_at_stop: 0,
            csrcs_at_stop: Vec::new(),
            heard_at_stop: 0,
            sent: 0,
        }
    }

    /// Encodes the next `ticks` packets ahead of the run.
    pub fn prepare(&mut self, ticks: u32) {
        let mut buf = [0u8; 1500];
        self.script.clear();
        for _ in 0..ticks {
            let len = self.sender.next_packet(&mut buf).expect("packet");
            self.script.push(buf[..len].to_vec());
        }
        self.script.reverse();
    }

    /// Sends the next 20 ms packet to the engine.
    pub fn send_next(&mut self, scratch: &mut [u8]) {
        let packet = match self.script.pop() {
            Some(p) => p,
            None => {
                let len = self.sender.next_packet(scratch).expect("packet");
                scratch[..len].to_vec()
            }
        };
        self.socket
            .send_to(&packet, self.admission.local_rtp)
            .expect("send");
        self.sent += 1;
    }

    /// Reads everything queued on the socket (decoded later by `decode`).
    pub fn drain(&mut self, scratch: &mut [u8]) {
        loop {
            match net::recv_with_tos(&self.socket, scratch) {
                // Only what the engine's port for this guardian sent counts:
                // the port is ephemeral, and the one above another
                // guardian's RTP port is where the engine sends that
                // guardian's RTCP.
                Ok(r) if r.from == self.admission.local_rtp => {
                    self.arrivals.push(Instant::now());
                    self.tos.push(r.tos);
                    if !(200..=204).contains(&scratch[1]) {
                        self.received.push(scratch[..r.len].to_vec());
                    }
                }
                Ok(_) => self.strays += 1,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) => panic!("guardian receive: {e}"),
            }
        }
    }

    /// Decodes what was received, noting the state when sending stopped.
    pub fn decode(&mut self) {
        let mut pcm: Frame = [0; codec::FRAME_SAMPLES];
        for (i, datagram) in std::mem::take(&mut self.received).iter().enumerate() {
            if i == self.received_at_stop {
                self.csrcs_at_stop = self.last_csrcs.clone();
                self.heard_at_stop = self.heard.len();
            }
            let Ok(packet) = RtpPacket::parse(datagram) else {
                continue;
            };
            self.last_csrcs = packet.csrcs().collect();
            if self.decoder.decode(packet.payload(), &mut pcm).is_ok() {
                self.heard.extend_from_slice(&pcm);
            }
        }
    }

    /// Mix packets received in `[from, to)`.
    pub fn packets_between(&self, from: Instant, to: Instant) -> usize {
        self.arrivals
            .iter()
            .filter(|&&t| t >= from && t < to)
            .count()
    }
}

/// Runs `ticks` 20 ms ticks: every guardian sends one packet, then every
/// guardian drains its socket; `each_tick` runs after the sends. Afterwards
/// keeps draining for `tail`.
pub fn run(
    guardians: &mut [Guardian],
    ticks: u32,
    tail: Duration,
    mut each_tick: impl FnMut(u32),
) -> Instant {
    let mut scratch = vec![0u8; 2048];
    for g in guardians.iter_mut() {
        g.prepare(ticks);
    }
    let start = Instant::now();
    for k in 0..ticks {
        let due = start + Duration::from_millis(20) * k;
        while Instant::now() < due {
            for g in guardians.iter_mut() {
                g.drain(&mut scratch);
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        for g in guardians.iter_mut() {
            g.send_next(&mut scratch);
        }
        each_tick(k);
    }
    for g in guardians.iter_mut() {
        g.drain(&mut scratch);
        g.received_at_stop = g.received.len();
    }
    let end = Instant::now() + tail;
    while Instant::now() < end {
        for g in guardians.iter_mut() {
            g.drain(&mut scratch);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    for g in guardians.iter_mut() {
        g.received_at_stop = g.received_at_stop.min(g.received.len().saturating_sub(1));
        g.decode();
    }
    start
}

/// Power of each of `freqs_hz` in the last `window` samples, in dB relative
/// to the strongest.
pub fn tone_powers_db(samples: &[i16], freqs_hz: &[f32], window: usize) -> Vec<f32> {
    let tail = &samples[samples.len().saturating_sub(window)..];
    let powers: Vec<f32> = freqs_hz
        .iter()
        .map(|&f| codec::goertzel_power(tail, f, codec::SAMPLE_RATE_HZ))
        .collect();
    let max = powers.iter().cloned().fold(f32::MIN_POSITIVE, f32::max);
    powers
        .iter()
        .map(|p| 10.0 * (p.max(1e-9) / max).log10())
        .collect()
}

/// A tone this far below the loudest one counts as absent.
pub const ABSENT_DB: f32 = -30.0;
/// A mixed tone is at most this far below the loudest one.
pub const PRESENT_DB: f32 = -10.0;

/// Checks N−1 for a room of guardians that all send tone `tone_hz(index)`:
/// the speakers (read from the CSRCs listeners receive) are heard by
/// everyone else, nobody hears their own tone or an unmixed one.
pub fn check_n_minus_one(label: &str, guardians: &[Guardian]) {
    let by_ssrc: HashMap<u32, usize> = guardians
        .iter()
        .enumerate()
        .map(|(i, g)| (g.admission.ssrc_out, i))
        .collect();
    // Listeners (not speakers) receive the full speaker set as CSRCs.
    let speakers: Vec<usize> = guardians
        .iter()
        .map(|g| {
            g.csrcs_at_stop
                .iter()
                .filter_map(|c| by_ssrc.get(c).copied())
                .collect::<Vec<_>>()
        })
        .max_by_key(|s| s.len())
        .unwrap_or_default();
    assert_eq!(
        speakers.len(),
        3.min(guardians.len() - 1).max(1),
        "{label}: top-K speakers: {speakers:?}"
    );
    let freqs: Vec<f32> = (0..guardians.len()).map(tone_hz).collect();
    for (g, guardian) in guardians.iter().enumerate() {
        let heard = &guardian.heard[..guardian.heard_at_stop];
        assert!(
            heard.len() >= 24_000,
            "{label}: guardian {g} heard too little"
        );
        let db = tone_powers_db(heard, &freqs, 24_000);
        for (t, level) in db.iter().enumerate() {
            if speakers.contains(&t) && t != g {
                assert!(
                    *level > PRESENT_DB,
                    "{label}: guardian {g} should hear tone {t}: {db:?}"
                );
            } else {
                assert!(
                    *level < ABSENT_DB,
                    "{label}: guardian {g} must not hear tone {t}: {db:?}"
                );
            }
        }
    }
}
