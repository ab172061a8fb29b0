//! The 20 ms mixing tick: pop every input, rank, decode the mixed voices,
//! sum N−1, limit, encode once per listener codec configuration plus once per
//! speaker, and stamp one RTP header per receiver.

use std::time::{Duration, Instant};

use super::output::{OutputPacket, PayloadSource, OUTPUT_HEADER_MAX_BYTES};
use super::participant::{InputState, Participant};
use super::room::Room;
use super::selection::Candidate;
use super::Contribution;
use crate::codec::{CodecConfig, Encoder as _, Frame, FRAME_MS, FRAME_SAMPLES};
use crate::jitter::Playout;

const FRAME: Duration = Duration::from_millis(FRAME_MS as u64);

impl Room {
    /// Runs one mixing tick at `now`; afterwards [`outputs`](Room::outputs)
    /// holds this tick's packets. Call it every 20 ms while the room is not
    /// [idle](Room::is_idle).
    pub fn tick(&mut self, now: Instant) {
        self.counters.ticks += 1;
        self.outputs.clear();
        self.contributions.clear();
        let epoch = *self.epoch.get_or_insert(now);
        // RTP timestamps follow the wall clock in whole frames, so a room that
        // paused while idle resumes with the right timestamp gap.
        let tick_index = ((now.saturating_duration_since(epoch).as_micros()
            + FRAME.as_micros() / 2)
            / FRAME.as_micros()) as u32;

        let mut any_input = false;
        for p in &mut self.participants {
            pop_input(p, now);
            any_input |= p.input != InputState::Idle;
        }
        if !any_input {
            self.counters.idle_ticks += 1;
            for p in &mut self.participants {
                p.was_sending = false;
                p.loudness.reset();
            }
            self.selector.select(&mut []);
            return;
        }

        self.rank_inputs();
        self.decode_and_sum();
        self.encode_and_stamp(tick_index);
    }

    /// Updates loudness (decoding inputs that carry no level) and picks the
    /// top-K speakers.
    fn rank_inputs(&mut self) {
        self.candidates.clear();
        let active_loudness_x10 =
            i32::from(super::level::SILENCE_DBOV - self.config.active_level_dbov_max) * 10;
        for (slot, p) in self.participants.iter_mut().enumerate() {
            p.pcm_valid = false;
            match (p.input, p.input_level_dbov) {
                (InputState::Idle, _) => p.loudness.decay(),
                (InputState::Frame, Some(level)) => p.loudness.update(level),
                (InputState::Frame, None) if !p.muted => {
                    // No RFC 6464 level: the only way to rank it is to decode it.
                    p.decode_input();
                    self.counters.decodes += 1;
                    if p.pcm_valid {
                        p.loudness.update(super::level::frame_level_dbov(&p.pcm));
                    }
                }
                // Concealed frames keep the loudness they had, so a speaker
                // keeps their slot through a lost packet.
                _ => {}
            }
            let eligible = !p.muted
                && p.input != InputState::Idle
                && p.loudness.loudness_x10() >= active_loudness_x10;
            if eligible {
                self.candidates.push(Candidate {
                    slot,
                    loudness_x10: p.loudness.loudness_x10(),
                });
            }
        }
        self.selector.select(&mut self.candidates);
    }

    /// Decodes the speakers' frames and sums them; inputs that are not mixed
    /// are not decoded at all.
    fn decode_and_sum(&mut self) {
        self.sum.fill(0);
        for (slot, p) in self.participants.iter_mut().enumerate() {
            if !self.selector.is_speaker(slot) {
                if !p.pcm_valid {
                    p.skip_input();
                }
                continue;
            }
            if !p.pcm_valid {
                p.decode_input();
                self.counters.decodes += 1;
            }
            if !p.pcm_valid {
                continue;
            }
            add_scaled(&mut self.sum, &p.pcm, p.gain_q12);
            if let (InputState::Frame, Some(arrival)) = (p.input, p.input_arrival) {
                self.contributions.push(Contribution {
                    participant: p.id(),
                    seq: p.input_seq,
                    timestamp: p.input_timestamp,
                    arrival,
                });
            }
        }
    }

    /// Encodes the shared listener mixes and each speaker's own mix, then
    /// writes one RTP header per participant.
    fn encode_and_stamp(&mut self, tick_index: u32) {
        for l in &mut self.listener_encoders {
            l.fresh = false;
        }
        let listeners_exist = (0..self.participants.len()).any(|s| !self.selector.is_speaker(s));
        if listeners_exist {
            self.listener_limiter
                .process(&self.sum, &mut self.listener_pcm);
        }

        for slot in 0..self.participants.len() {
            let speaker = self.selector.is_speaker(slot);
            let source = if speaker {
                let p = &mut self.participants[slot];
                // N−1: the speaker's mix is everyone's sum minus their own voice.
                self.own_sum.copy_from_slice(&self.sum[..]);
                if p.pcm_valid {
                    sub_scaled(&mut self.own_sum, &p.pcm, p.gain_q12);
                }
                let mut pcm = [0i16; FRAME_SAMPLES];
                p.limiter.process(&self.own_sum, &mut pcm);
                match p.encoder.encode(&pcm, &mut p.mix_payload) {
                    Ok(len) => p.mix_len = len,
                    Err(_) => {
                        self.counters.encode_errors += 1;
                        continue;
                    }
                }
                count_encode(&mut self.counters, p.codec());
                PayloadSource::Speaker(slot)
            } else {
                let codec = self.participants[slot].codec();
                let Some(i) = self
                    .listener_encoders
                    .iter()
                    .position(|l| l.config == codec)
                else {
                    continue;
                };
                let l = &mut self.listener_encoders[i];
                if !l.fresh {
                    match l.encoder.encode(&self.listener_pcm, &mut l.payload) {
                        Ok(len) => l.len = len,
                        Err(_) => {
                            self.counters.encode_errors += 1;
                            continue;
                        }
                    }
                    l.fresh = true;
                    count_encode(&mut self.counters, codec);
                }
                PayloadSource::Listener(i)
            };
            let packet = self.stamp(slot, tick_index, source);
            self.outputs.push(packet);
        }
    }

    /// Builds the RTP header of the packet for the participant at `slot`.
    fn stamp(&mut self, slot: usize, tick_index: u32, payload: PayloadSource) -> OutputPacket {
        let csrc_level_ext_id = self.config.csrc_level_ext_id;
        let mut csrcs = [0u32; super::selection::SPEAKERS_LIMIT];
        let mut levels = [0u8; super::selection::SPEAKERS_LIMIT];
        let mut n = 0;
        for s in self.selector.speakers() {
            if s != slot {
                let speaker = &self.participants[s];
                csrcs[n] = speaker.config.ssrc_out;
                levels[n] = speaker.loudness.level_dbov();
                n += 1;
            }
        }
        let p = &mut self.participants[slot];
        let marker = !p.was_sending;
        p.was_sending = true;
        let timestamp = p
            .config
            .timestamp_out_initial
            .wrapping_add(tick_index.wrapping_mul(p.config.codec.timestamp_step()));
        let mut header = [0u8; OUTPUT_HEADER_MAX_BYTES];
        let header_len = super::header::write_mix_header(
            &mut header,
            super::header::MixHeader {
                fields: crate::rtp::RtpHeaderFields {
                    marker,
                    payload_type: p.config.payload_type,
                    sequence_number: p.seq_out,
                    timestamp,
                    ssrc: p.config.ssrc_out,
                },
                csrcs: &csrcs[..n],
                csrc_levels: csrc_level_ext_id.map(|id| (id, &levels[..n])),
            },
        );
        p.seq_out = p.seq_out.wrapping_add(1);
        p.counters.packets_out += 1;
        OutputPacket {
            participant: p.id(),
            header,
            header_len,
            payload,
        }
    }
}

/// Pops this tick's input from the participant's jitter buffer, copying the
/// payload so decoding can wait until the speakers are chosen.
fn pop_input(p: &mut Participant, now: Instant) {
    p.input_arrival = None;
    p.input_level_dbov = None;
    p.payload_len = 0;
    p.input = match p.jitter.pop(now) {
        Playout::Idle => InputState::Idle,
        Playout::Frame {
            payload,
            seq,
            timestamp,
            arrival,
            level_dbov,
        } => {
            p.payload[..payload.len()].copy_from_slice(payload);
            p.payload_len = payload.len();
            p.input_seq = seq;
            p.input_timestamp = timestamp;
            p.input_arrival = Some(arrival);
            p.input_level_dbov = level_dbov;
            InputState::Frame
        }
        Playout::Conceal {
            timestamp,
            fec_from,
        } => {
            p.input_timestamp = timestamp;
            if let Some(next) = fec_from {
                p.payload[..next.len()].copy_from_slice(next);
                p.payload_len = next.len();
            }
            InputState::Conceal {
                fec: fec_from.is_some(),
            }
        }
    };
}

/// `sum += pcm × gain` with the gain in Q12; sums are i32 so up to 65,536
/// full-scale voices cannot overflow.
fn add_scaled(sum: &mut [i32; FRAME_SAMPLES], pcm: &Frame, gain_q12: i32) {
    accumulate::<1>(sum, pcm, gain_q12);
}

/// Exactly undoes [`add_scaled`] with the same gain.
fn sub_scaled(sum: &mut [i32; FRAME_SAMPLES], pcm: &Frame, gain_q12: i32) {
    accumulate::<-1>(sum, pcm, gain_q12);
}

/// `sum += SIGN × ((pcm × gain) >> 12)`, with a unity-gain fast path; the
/// sign is applied after scaling so subtracting undoes adding bit for bit.
fn accumulate<const SIGN: i32>(sum: &mut [i32; FRAME_SAMPLES], pcm: &Frame, gain_q12: i32) {
    if gain_q12 == 4096 {
        for (s, &x) in sum.iter_mut().zip(pcm.iter()) {
            *s += SIGN * i32::from(x);
        }
    } else {
        for (s, &x) in sum.iter_mut().zip(pcm.iter()) {
            *s += SIGN * ((i32::from(x) * gain_q12) >> 12);
        }
    }
}

fn count_encode(counters: &mut super::RoomCounters, codec: CodecConfig) {
    match codec {
        CodecConfig::Opus(_) => counters.opus_encodes += 1,
        CodecConfig::Pcmu | CodecConfig::Pcma => counters.g711_encodes += 1,
    }
}
