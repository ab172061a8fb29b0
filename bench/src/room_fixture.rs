//! A room of simulated guardians with pre-encoded packets, replayed tick
//! after tick with rewritten sequence numbers and timestamps, so a benchmark
//! measures the mixer and not the guardians' encoders.

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::sim::{self, NoiseSource, SignalSource, SimSender, SpeechSource};
use media_core::codec::CodecConfig;
use media_core::mixer::{MixerConfig, ParticipantConfig, ParticipantId, Room};

/// Pre-encoded frames looped per guardian (5 s of audio).
const FRAMES: usize = 250;

/// A room plus the packets its guardians will send.
#[derive(Debug)]
pub struct RoomFixture {
    /// The room under test.
    pub room: Room,
    packets: Vec<Vec<Vec<u8>>>,
    steps: Vec<u32>,
    t0: Instant,
    tick: u32,
}

impl RoomFixture {
    /// `guardians` guardians of `codec`; the first `talkers` speak (the
    /// committed espeak-ng fixture), the rest send low-level noise.
    pub fn new(guardians: u32, talkers: u32, codec: CodecConfig, t0: Instant) -> Self {
        let speech: Arc<[i16]> = sim::speech_fixture().into();
        let mut room = Room::new(MixerConfig::default());
        let mut packets = Vec::new();
        let mut steps = Vec::new();
        for i in 0..guardians {
            let source = if i < talkers {
                SignalSource::Speech(SpeechSource::new(speech.clone(), i * 1370))
            } else {
                SignalSource::Noise(NoiseSource::new(i + 11, 40))
            };
            let mut sender = SimSender::new(codec, source, 0x100 + i).expect("client encoder");
            let mut buf = [0u8; 1500];
            let frames = (0..FRAMES)
                .map(|_| {
                    let n = sender.next_packet(&mut buf).expect("packet");
                    buf[..n].to_vec()
                })
                .collect();
            packets.push(frames);
            steps.push(codec.timestamp_step());
            let mut p = ParticipantConfig::new(
                ParticipantId(i),
                codec,
                sim::payload_type(codec),
                0x900 + i,
            );
            p.audio_level_ext_id = Some(sim::AUDIO_LEVEL_EXT_ID);
            room.add_participant(p).expect("joins");
        }
        Self {
            room,
            packets,
            steps,
            t0,
            tick: 0,
        }
    }

    /// Delivers one packet per guardian and runs one tick; returns the bytes
    /// the tick produced (so the work cannot be optimised away).
    pub fn step(&mut self) -> usize {
        let frame = Duration::from_millis(20);
        let k = self.tick;
        let arrival = self.t0 + frame * k + Duration::from_millis(2);
        for (i, frames) in self.packets.iter_mut().enumerate() {
            let packet = &mut frames[k as usize % FRAMES];
            // Continue the stream across loops of the pre-encoded frames.
            packet[2..4].copy_from_slice(&(k as u16).to_be_bytes());
            packet[4..8].copy_from_slice(&k.wrapping_mul(self.steps[i]).to_be_bytes());
            let _ = self
                .room
                .handle_rtp(arrival, ParticipantId(i as u32), packet);
        }
        self.room.tick(self.t0 + frame * (k + 1));
        self.tick += 1;
        self.room
            .outputs()
            .map(|o| o.header.len() + o.payload.len())
            .sum()
    }
}
