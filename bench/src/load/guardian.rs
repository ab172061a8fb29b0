//! One simulated guardian of the load generator: its UDP socket, the RTP
//! stream it sends (replayed pre-encoded frames with its own SSRC, sequence
//! and timestamps), the impairment its packets suffer, and what it measures
//! about the mix it receives.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use media_core::codec::{self, AnyDecoder, CodecConfig, Decoder as _, Frame};
use media_core::mixer::ParticipantId;
use media_core::rtp::{self, AudioLevel, ExtensionForm, RtpHeaderFields, RtpPacket};

use super::rx::RxStats;
use super::streams::{Streams, MARKER_INTERVAL_FRAMES};
use crate::impair::{Fate, Impairment};
use crate::marker::EarRecording;

/// Frames between the markers of two talkers of one room, so markers from
/// different talkers are at least 300 ms apart.
const TALKER_MARKER_SPACING_FRAMES: u64 = 17;
/// How long a group of talkers keeps the floor before the next group takes it.
pub const TURN_FRAMES: u64 = 250;

/// A marker as spoken: who, in which room, and when.
#[derive(Clone, Copy, Debug)]
pub struct MarkerSent {
    /// Room index.
    pub room: usize,
    /// Guardian index.
    pub guardian: usize,
    /// Capture start of the marker frame (send time − one frame).
    pub mouth: Duration,
}

/// Listening state of a sampled guardian: its decoder and what it heard.
#[derive(Debug)]
pub struct Ear {
    decoder: AnyDecoder,
    /// Decoded audio stamped with arrival times.
    pub recording: EarRecording,
    /// Frames that failed to decode.
    pub decode_errors: u64,
}

/// A simulated guardian.
#[derive(Debug)]
pub struct LoadGuardian {
    /// Index among all guardians.
    pub index: usize,
    /// Room index.
    pub room: usize,
    /// Position within the room.
    pub position: usize,
    /// Engine participant id.
    pub id: ParticipantId,
    /// Codec in both directions.
    pub codec: CodecConfig,
    /// RTP payload type.
    pub payload_type: u8,
    /// Its socket (non-blocking).
    pub socket: UdpSocket,
    /// Where the engine wants its media.
    pub engine_addr: Option<SocketAddr>,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    streams: Streams,
    impairment: Impairment,
    /// Mix reception statistics.
    pub rx: RxStats,
    /// Set on sampled listeners.
    pub ear: Option<Ear>,
    /// What it sent, when recording.
    pub sent_pcm: Option<Vec<i16>>,
    /// Packets sent and dropped by the impairment.
    pub sent: u64,
    /// Packets the impairment dropped.
    pub impaired_drops: u64,
    /// Datagrams received that were not the mix stream (RTCP).
    pub rtcp_or_other: u64,
}

impl LoadGuardian {
    /// A guardian bound to an ephemeral loopback port.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        index: usize,
        room: usize,
        position: usize,
        codec: CodecConfig,
        payload_type: u8,
        streams: Streams,
        impairment: Impairment,
        ssrc: u32,
    ) -> io::Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_nonblocking(true)?;
        Ok(Self {
            index,
            room,
            position,
            id: ParticipantId(index as u32 + 1),
            codec,
            payload_type,
            socket,
            engine_addr: None,
            ssrc,
            seq: (ssrc >> 8) as u16,
            timestamp: ssrc.rotate_left(11),
            streams,
            impairment,
            rx: RxStats::new(codec.clock_rate_hz()),
            ear: None,
            sent_pcm: None,
            sent: 0,
            impaired_drops: 0,
            rtcp_or_other: 0,
        })
    }

    /// Its RTP address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Starts decoding and recording what it hears.
    pub fn listen(&mut self, seconds: u32) -> Result<(), codec::CodecError> {
        self.ear = Some(Ear {
            decoder: codec::new_decoder(self.codec)?,
            recording: EarRecording::with_capacity(seconds),
            decode_errors: 0,
        });
        Ok(())
    }

    /// Whether it talks at frame `k` (groups of `talkers` take turns).
    pub fn is_talking(&self, k: u64, room_size: usize, talkers: usize) -> bool {
        if talkers == 0 || room_size == 0 {
            return false;
        }
        let turn = k / TURN_FRAMES;
        let first = (turn as usize * talkers) % room_size;
        (self.position + room_size - first) % room_size < talkers
    }

    /// Writes frame `k`'s packet into `out`; returns its length and whether
    /// it carries a marker.
    pub fn packet(
        &mut self,
        k: u64,
        talking: bool,
        out: &mut [u8],
    ) -> Result<(usize, bool), rtp::RtpError> {
        let offset = self.position as u64 * TALKER_MARKER_SPACING_FRAMES % MARKER_INTERVAL_FRAMES;
        let (frame, pcm) = if talking {
            self.streams.speech.frame(k + offset)
        } else {
            self.streams.noise.frame(k + self.position as u64 * 31)
        };
        if let Some(sent) = &mut self.sent_pcm {
            sent.extend_from_slice(pcm);
        }
        let level = [AudioLevel::new(frame.level_dbov < 50, frame.level_dbov).to_byte()];
        let fields = RtpHeaderFields {
            marker: k == 0,
            payload_type: self.payload_type,
            sequence_number: self.seq,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        };
        let n = rtp::write_packet(
            &fields,
            &[],
            &[(engine::sim::AUDIO_LEVEL_EXT_ID, &level)],
            ExtensionForm::OneByte,
            &frame.payload,
            0,
            out,
        )?;
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(self.codec.timestamp_step());
        Ok((n, talking && frame.marker))
    }

    /// The network's decision for the next packet.
    pub fn fate(&mut self) -> Fate {
        let fate = self.impairment.next_fate();
        if fate == Fate::Drop {
            self.impaired_drops += 1;
        }
        fate
    }

    /// Takes one received datagram.
    pub fn on_datagram(&mut self, arrival: Duration, datagram: &[u8], pcm: &mut Frame) {
        let Ok(packet) = RtpPacket::parse(datagram) else {
            return;
        };
        // RTCP from the engine (muxed on this port) parses as RTP with
        // payload type 72–76; only the mix stream counts.
        if packet.payload_type() != self.payload_type {
            self.rtcp_or_other += 1;
            return;
        }
        self.rx.on_packet(arrival, &packet);
        if let Some(ear) = &mut self.ear {
            if ear.decoder.decode(packet.payload(), pcm).is_err() {
                ear.decode_errors += 1;
                pcm.fill(0);
            }
            ear.recording.push(arrival, pcm);
        }
    }
}
