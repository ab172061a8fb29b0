//! A whole conference on a virtual clock: simulated guardians encode their
//! signals into real RTP packets, a [`Room`] mixes them, and each guardian's
//! client decoder decodes what the room sent back. Shared by the cross-crate
//! tests.

use std::time::{Duration, Instant};

use engine::sim::{self, SignalSource, SimSender};
use media_core::codec::{self, AnyDecoder, CodecConfig, Decoder as _, Frame};
use media_core::mixer::{MixerConfig, ParticipantConfig, ParticipantId, Room};
use media_core::rtp::RtpPacket;

/// One simulated guardian: what it sends and what it heard.
#[derive(Debug)]
pub struct Guardian {
    /// Its sending side.
    pub sender: SimSender,
    /// Its client decoder for the mix.
    pub decoder: AnyDecoder,
    /// Everything it heard, decoded, 48 kHz.
    pub heard: Vec<i16>,
    /// Mix packets it received.
    pub packets: u32,
    /// Payload types and CSRC counts of the packets received.
    pub last_csrcs: Vec<u32>,
}

/// A room plus its guardians on a virtual clock.
#[derive(Debug)]
pub struct Conference {
    /// The room under test.
    pub room: Room,
    /// The guardians, indexed by participant id.
    pub guardians: Vec<Guardian>,
    t0: Instant,
    ticks: u32,
}

impl Conference {
    /// A room with `config` and one guardian per `(codec, signal)`.
    pub fn new(config: MixerConfig, members: Vec<(CodecConfig, SignalSource)>) -> Self {
        let mut room = Room::new(config);
        let mut guardians = Vec::new();
        for (i, (codec, signal)) in members.into_iter().enumerate() {
            let id = ParticipantId(i as u32);
            let ssrc_out = 0x5000_0000 + i as u32;
            room.add_participant(ParticipantConfig::new(
                id,
                codec,
                sim::payload_type(codec),
                ssrc_out,
            ))
            .expect("participant joins");
            guardians.push(Guardian {
                sender: SimSender::new(codec, signal, 0x1000_0000 + i as u32)
                    .expect("client encoder"),
                decoder: codec::new_decoder(codec).expect("client decoder"),
                heard: Vec::new(),
                packets: 0,
                last_csrcs: Vec::new(),
            });
        }
        Self {
            room,
            guardians,
            t0: start_of_time(),
            ticks: 0,
        }
    }

    /// The virtual time of the last tick run.
    pub fn last_tick_time(&self) -> Instant {
        self.t0 + Duration::from_millis(20) * self.ticks
    }

    /// Runs `n` ticks: every guardian sends one packet (arriving 2 ms after
    /// capture), the room ticks, and every packet out is decoded.
    pub fn run_ticks(&mut self, n: u32) {
        let frame = Duration::from_millis(20);
        let mut packet = [0u8; 1500];
        let mut pcm: Frame = [0; codec::FRAME_SAMPLES];
        for _ in 0..n {
            let k = self.ticks;
            for (i, g) in self.guardians.iter_mut().enumerate() {
                let len = g.sender.next_packet(&mut packet).expect("packet");
                let arrival = self.t0 + frame * k + Duration::from_millis(2);
                self.room
                    .handle_rtp(arrival, ParticipantId(i as u32), &packet[..len])
                    .expect("valid packet accepted");
            }
            self.room.tick(self.t0 + frame * (k + 1));
            for out in self.room.outputs() {
                let g = &mut self.guardians[out.participant.0 as usize];
                let mut datagram = Vec::from(out.header);
                datagram.extend_from_slice(out.payload);
                let parsed = RtpPacket::parse(&datagram).expect("mixer writes valid RTP");
                g.last_csrcs = parsed.csrcs().collect();
                g.decoder
                    .decode(parsed.payload(), &mut pcm)
                    .expect("mix decodes");
                g.heard.extend_from_slice(&pcm);
                g.packets += 1;
            }
            self.ticks += 1;
        }
    }
}

#[allow(clippy::disallowed_methods)] // the clock origin of the virtual clock
fn start_of_time() -> Instant {
    Instant::now()
}

/// Power of `freq_hz` in the last `window` samples, in dB relative to the
/// strongest of `freqs_hz` (so 0 dB is the loudest tone present).
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
