//! A shard's state and everything it does synchronously: validate and feed
//! datagrams to the rooms, run a tick and send its outputs, RTCP, stats.
//! Nothing here awaits; the tasks in `mod.rs` call in and return.
//!
//! The per-packet path (`on_datagram`) and the tick (`run_tick`) touch only
//! preallocated state: rooms are a fixed `Vec` sized `rooms_max`, members a
//! `Vec` sized `room_participants_max`, RTCP and latency use fixed arrays.

use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use media_core::mixer::{MixerConfig, ParticipantConfig, ParticipantId, Room, RoomCounters};
use media_core::rtcp::{
    self, Compound, FirstReport, InterarrivalJitter, LastSr, ReportBlock, RtcpPacket, SenderInfo,
};
use media_core::rtp::SeqTracker;

use super::bell::LocalBell;
use super::cap::BitrateCap;
use crate::api::{EngineError, ParticipantSpec, RoomId};
use crate::config::EngineConfig;
use crate::net;
use crate::stats::{LatencyHistogram, ParticipantStats, ShardCounters, ShardReport};

mod tick;

/// Which of a participant's two sockets a datagram came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortKind {
    Rtp,
    Rtcp,
}

/// Raw fds for sending. Per-socket receive: the glommio sockets own them, the
/// receive tasks hold the sockets and the member holds the tasks. Ring
/// receive: the ring's slot owns the sockets and closes them only after the
/// member is gone. Either way the fds outlive the member.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemberSockets {
    pub(crate) rtp_fd: RawFd,
    pub(crate) rtcp_fd: RawFd,
}

/// One participant as the shard sees it: addresses, validation state, RTCP
/// state and counters. The room keeps the media state.
#[derive(Debug)]
struct Member {
    id: ParticipantId,
    sockets: MemberSockets,
    remote_rtp: SocketAddr,
    remote_rtcp: SocketAddr,
    rtp_latched: bool,
    rtcp_latched: bool,
    /// Admitted SSRC, or the first one seen.
    ssrc_in: Option<u32>,
    ssrc_out: u32,
    clock_rate_hz: u32,
    cap: BitrateCap,
    over_cap: bool,
    // Inbound stream statistics for our report blocks.
    seq: SeqTracker,
    arrival_jitter: InterarrivalJitter,
    last_sr: Option<LastSr>,
    last_rx: Option<Instant>,
    timed_out: bool,
    bye: bool,
    // Outbound stream.
    packets_sent: u64,
    octets_sent: u64,
    packets_sent_at_last_sr: u64,
    last_out: Option<(Instant, u32)>,
    next_sr_at: Instant,
    sr_sent: u64,
    // What it reports about our stream.
    rtt: Option<Duration>,
    remote_fraction_lost: Option<u8>,
    remote_jitter: Option<u32>,
    rtcp_reports_in: u64,
    // Drops.
    spoofed_dropped: u64,
    wrong_ssrc_dropped: u64,
    over_cap_dropped: u64,
    /// The two receive tasks; dropping them cancels the receives.
    tasks: Vec<glommio::Task<()>>,
}

#[derive(Debug)]
struct RoomEntry {
    id: RoomId,
    room: Room,
    members: Vec<Member>,
    active: bool,
    clock: tick::RoomClock,
}

/// Everything one shard owns.
#[derive(Debug)]
pub(crate) struct ShardState {
    pub(crate) index: usize,
    pub(crate) config: Arc<EngineConfig>,
    pub(crate) epoch: Instant,
    pub(crate) counters: ShardCounters,
    pub(crate) report_seq: u64,
    rooms: Vec<Option<RoomEntry>>,
    active_rooms: usize,
    tick_bell: Rc<LocalBell>,
    latency: LatencyHistogram,
    /// Wall time of each tick wake-up (the rooms due, mix and send).
    tick_work: LatencyHistogram,
    /// CPU time of each tick wake-up (what `tick_work` would be undisturbed).
    tick_cpu: LatencyHistogram,
    /// Mixer counters of rooms already destroyed.
    retired: RoomCounters,
    rtcp_buf: [u8; 512],
    late_output: Duration,
    media_timeout: Duration,
    sr_interval: Duration,
    /// Scratch list of the rooms due at a wake-up (capacity `rooms_max`).
    due: Vec<usize>,
    /// Measured tick cost per member, ns (moving average over rooms).
    room_ns_per_member: u64,
}

impl ShardState {
    pub(crate) fn new(index: usize, config: Arc<EngineConfig>, tick_bell: Rc<LocalBell>) -> Self {
        let rooms = (0..config.shards.rooms_max).map(|_| None).collect();
        Self {
            index,
            epoch: Instant::now(),
            counters: ShardCounters::default(),
            report_seq: 0,
            rooms,
            active_rooms: 0,
            tick_bell,
            latency: LatencyHistogram::default(),
            tick_work: LatencyHistogram::default(),
            tick_cpu: LatencyHistogram::default(),
            retired: RoomCounters::default(),
            rtcp_buf: [0; 512],
            late_output: Duration::from_millis(u64::from(config.media.late_output_ms)),
            media_timeout: Duration::from_millis(u64::from(config.media.media_timeout_ms)),
            sr_interval: Duration::from_millis(u64::from(config.rtcp.sr_interval_ms)),
            due: Vec::with_capacity(config.shards.rooms_max),
            room_ns_per_member: tick::ROOM_NS_PER_MEMBER_INITIAL,
            config,
        }
    }

    pub(crate) fn active_rooms(&self) -> usize {
        self.active_rooms
    }

    /// The slot index of `room` (what receive paths carry).
    pub(crate) fn room_slot(&self, room: RoomId) -> Option<usize> {
        self.room_index(room)
    }

    /// Wakes the tick task (it may be parked with no participants).
    pub(crate) fn wake_tick(&self) {
        self.tick_bell.ring();
    }

    fn room_index(&self, room: RoomId) -> Option<usize> {
        self.rooms
            .iter()
            .position(|r| r.as_ref().is_some_and(|r| r.id == room))
    }

    fn entry_mut(&mut self, room: RoomId) -> Result<&mut RoomEntry, EngineError> {
        let i = self
            .room_index(room)
            .ok_or(EngineError::UnknownRoom(room))?;
        self.rooms[i].as_mut().ok_or(EngineError::UnknownRoom(room))
    }

    pub(crate) fn create_room(
        &mut self,
        room: RoomId,
        mixer: MixerConfig,
    ) -> Result<(), EngineError> {
        if self.room_index(room).is_some() {
            return Err(EngineError::RoomExists(room));
        }
        let slot = self
            .rooms
            .iter()
            .position(Option::is_none)
            .ok_or(EngineError::RoomsFull {
                rooms_max: self.config.shards.rooms_max,
            })?;
        self.rooms[slot] = Some(RoomEntry {
            id: room,
            members: Vec::with_capacity(mixer.participants_max),
            room: Room::new(mixer),
            active: false,
            clock: tick::RoomClock::new(Instant::now()),
        });
        Ok(())
    }

    pub(crate) fn destroy_room(&mut self, room: RoomId) -> Result<(), EngineError> {
        let i = self
            .room_index(room)
            .ok_or(EngineError::UnknownRoom(room))?;
        if let Some(entry) = self.rooms[i].take() {
            if entry.active {
                self.active_rooms -= 1;
            }
            add_room_counters(&mut self.retired, &entry.room.counters());
        }
        Ok(())
    }

    /// Adds the participant to the room; returns the room's slot index,
    /// which the receive tasks carry.
    pub(crate) fn add_participant(
        &mut self,
        room: RoomId,
        config: ParticipantConfig,
        spec: ParticipantSpec,
        bitrate_cap_bps: u32,
        sockets: MemberSockets,
    ) -> Result<usize, EngineError> {
        let index = self
            .room_index(room)
            .ok_or(EngineError::UnknownRoom(room))?;
        let burst_ms = self.config.media.bitrate_burst_ms;
        let sr_interval = self.sr_interval;
        let entry = self.rooms[index]
            .as_mut()
            .ok_or(EngineError::UnknownRoom(room))?;
        if entry.members.iter().any(|m| m.id == spec.id) {
            return Err(EngineError::DuplicateParticipant(spec.id));
        }
        entry
            .room
            .add_participant(config)
            .map_err(|e| EngineError::Mixer {
                kind: e.kind(),
                message: e.to_string(),
            })?;
        let remote_rtcp = spec.remote_rtcp.unwrap_or_else(|| {
            let mut a = spec.remote_rtp;
            a.set_port(a.port().wrapping_add(1));
            a
        });
        let now = Instant::now();
        // Spread first SRs over the interval so a room's reports do not bunch.
        let offset = sr_interval.mul_f64(f64::from(config.ssrc_out % 1000) / 1000.0);
        entry.members.push(Member {
            id: spec.id,
            sockets,
            remote_rtp: spec.remote_rtp,
            remote_rtcp,
            rtp_latched: false,
            rtcp_latched: false,
            ssrc_in: spec.ssrc,
            ssrc_out: config.ssrc_out,
            clock_rate_hz: spec.codec.clock_rate_hz(),
            cap: BitrateCap::new(bitrate_cap_bps, burst_ms),
            over_cap: false,
            seq: SeqTracker::new(),
            arrival_jitter: InterarrivalJitter::new(),
            last_sr: None,
            last_rx: None,
            timed_out: false,
            bye: false,
            packets_sent: 0,
            octets_sent: 0,
            packets_sent_at_last_sr: 0,
            last_out: None,
            next_sr_at: now + offset,
            sr_sent: 0,
            rtt: None,
            remote_fraction_lost: None,
            remote_jitter: None,
            rtcp_reports_in: 0,
            spoofed_dropped: 0,
            wrong_ssrc_dropped: 0,
            over_cap_dropped: 0,
            tasks: Vec::with_capacity(2),
        });
        Ok(index)
    }

    pub(crate) fn attach_tasks(
        &mut self,
        room_index: usize,
        id: ParticipantId,
        tasks: [glommio::Task<()>; 2],
    ) {
        if let Some(m) = self.rooms[room_index]
            .as_mut()
            .and_then(|e| e.members.iter_mut().find(|m| m.id == id))
        {
            m.tasks.extend(tasks);
        }
    }

    pub(crate) fn remove_participant(
        &mut self,
        room: RoomId,
        id: ParticipantId,
    ) -> Result<(), EngineError> {
        let entry = self.entry_mut(room)?;
        let pos = entry
            .members
            .iter()
            .position(|m| m.id == id)
            .ok_or(EngineError::UnknownParticipant(id))?;
        entry.members.swap_remove(pos);
        entry.room.remove_participant(id);
        Ok(())
    }

    pub(crate) fn set_muted(
        &mut self,
        room: RoomId,
        id: ParticipantId,
        muted: bool,
    ) -> Result<(), EngineError> {
        self.entry_mut(room)?
            .room
            .set_muted(id, muted)
            .map_err(|e| EngineError::Mixer {
                kind: e.kind(),
                message: e.to_string(),
            })
    }

    pub(crate) fn set_bitrate_cap(
        &mut self,
        room: RoomId,
        id: ParticipantId,
        bps: u32,
    ) -> Result<(), EngineError> {
        let burst_ms = self.config.media.bitrate_burst_ms;
        let m = self
            .entry_mut(room)?
            .members
            .iter_mut()
            .find(|m| m.id == id)
            .ok_or(EngineError::UnknownParticipant(id))?;
        m.cap = BitrateCap::new(bps, burst_ms);
        Ok(())
    }

    /// Drops every room (stop).
    pub(crate) fn clear(&mut self) {
        for r in &mut self.rooms {
            *r = None;
        }
        self.active_rooms = 0;
    }

    /// One datagram from a participant's socket. Every way a datagram can be
    /// refused costs one counter and nothing else.
    pub(crate) fn on_datagram(
        &mut self,
        now: Instant,
        room_index: usize,
        id: ParticipantId,
        kind: PortKind,
        from: SocketAddr,
        data: &[u8],
    ) {
        self.counters.rx_datagrams += 1;
        let latching = self.config.media.latching;
        let Some(entry) = self.rooms.get_mut(room_index).and_then(Option::as_mut) else {
            return;
        };
        let Some(m) = entry.members.iter_mut().find(|m| m.id == id) else {
            return;
        };

        // Source validation: the admitted address, or latch once.
        let (expected, latched) = match kind {
            PortKind::Rtp => (&mut m.remote_rtp, &mut m.rtp_latched),
            PortKind::Rtcp => (&mut m.remote_rtcp, &mut m.rtcp_latched),
        };
        if from != *expected {
            if latching && !*latched {
                *expected = from;
                *latched = true;
                self.counters.latched += 1;
            } else {
                m.spoofed_dropped += 1;
                self.counters.spoofed_dropped += 1;
                return;
            }
        } else if latching {
            // Media from the admitted address settles it: no later latch.
            *latched = true;
        }

        // RTCP, on its own port or multiplexed (RFC 5761: PT 200–204 sits
        // where the RTP marker + payload type byte is).
        let is_rtcp = data.len() >= 8 && (200..=204).contains(&data[1]);
        if kind == PortKind::Rtcp || is_rtcp {
            handle_rtcp(&mut self.counters, m, now, data);
            return;
        }

        if data.len() >= 12 {
            let ssrc = u32::from_be_bytes([data[8], data[9], data[10], data[11]]);
            match m.ssrc_in {
                Some(expected) if expected != ssrc => {
                    m.wrong_ssrc_dropped += 1;
                    self.counters.wrong_ssrc_dropped += 1;
                    return;
                }
                Some(_) => {}
                None => m.ssrc_in = Some(ssrc),
            }
        }
        if !m.cap.admit(now, data.len()) {
            m.over_cap = true;
            m.over_cap_dropped += 1;
            self.counters.over_cap_dropped += 1;
            return;
        }
        match entry.room.handle_rtp(now, id, data) {
            Ok(_) => {
                m.last_rx = Some(now);
                m.timed_out = false;
                if data.len() >= 12 {
                    let seq = u16::from_be_bytes([data[2], data[3]]);
                    let ts = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
                    m.seq.update(seq);
                    let arrival_units = (now.saturating_duration_since(self.epoch).as_micros()
                        * u128::from(m.clock_rate_hz)
                        / 1_000_000) as u32;
                    m.arrival_jitter.update(arrival_units, ts);
                }
                if !entry.active {
                    entry.active = true;
                    self.active_rooms += 1;
                    self.wake_room(room_index, now);
                    self.tick_bell.ring();
                }
            }
            Err(_) => self.counters.rtp_rejected += 1,
        }
    }

    /// Media timeouts and RTCP reports that are due.
    pub(crate) fn housekeeping(&mut self, now: Instant) {
        let ntp = ntp_now();
        let sr_interval = self.sr_interval;
        for entry in self.rooms.iter_mut().flatten() {
            for m in &mut entry.members {
                if let Some(last) = m.last_rx {
                    if !m.timed_out && now.saturating_duration_since(last) > self.media_timeout {
                        m.timed_out = true;
                        self.counters.media_timeouts += 1;
                    }
                }
                if now < m.next_sr_at {
                    continue;
                }
                m.next_sr_at = now + sr_interval;
                // Report only while the stream is alive in either direction.
                let sent_since = m.packets_sent > m.packets_sent_at_last_sr;
                if !sent_since && (m.last_rx.is_none() || m.timed_out) {
                    continue;
                }
                if let Some(len) =
                    write_report(m, now, ntp, &self.config.rtcp.cname, &mut self.rtcp_buf)
                {
                    match net::send_gather(
                        m.sockets.rtcp_fd,
                        &[&self.rtcp_buf[..len], &[]],
                        &m.remote_rtcp,
                    ) {
                        Ok(_) => {
                            self.counters.rtcp_out += 1;
                            m.sr_sent += 1;
                            m.packets_sent_at_last_sr = m.packets_sent;
                        }
                        Err(_) => self.counters.tx_errors += 1,
                    }
                }
            }
        }
    }

    /// A snapshot for the control plane (allocates the participant list: once
    /// per report, never per packet).
    pub(crate) fn report(&mut self, now: Instant) -> ShardReport {
        let mut participants = Vec::new();
        let mut mixer = self.retired;
        let mut rooms = 0;
        for entry in self.rooms.iter().flatten() {
            rooms += 1;
            add_room_counters(&mut mixer, &entry.room.counters());
            for m in &entry.members {
                let Some(p) = entry.room.participant(m.id) else {
                    continue;
                };
                participants.push(ParticipantStats {
                    room: entry.id,
                    id: m.id,
                    mixer: p.counters(),
                    jitter: p.jitter().stats(),
                    jitter_depth_ms: p.jitter().depth_ms(),
                    jitter_target_ms: p.jitter().target_delay_ms(),
                    spoofed_dropped: m.spoofed_dropped,
                    wrong_ssrc_dropped: m.wrong_ssrc_dropped,
                    over_cap_dropped: m.over_cap_dropped,
                    over_cap: m.over_cap,
                    bitrate_cap_bps: m.cap.rate_bps(),
                    packets_sent: m.packets_sent,
                    timed_out: m.timed_out,
                    bye: m.bye,
                    arrival_jitter_ms: m.arrival_jitter.jitter_ms(m.clock_rate_hz),
                    lost: m.seq.lost(),
                    rtt: m.rtt,
                    remote_fraction_lost: m.remote_fraction_lost,
                    remote_jitter: m.remote_jitter,
                    rtcp_reports_in: m.rtcp_reports_in,
                    sr_sent: m.sr_sent,
                });
            }
        }
        ShardReport {
            shard: self.index,
            seq: self.report_seq,
            at: now,
            counters: self.counters,
            latency: self.latency,
            tick_work: self.tick_work,
            tick_cpu: self.tick_cpu,
            rooms,
            active_rooms: self.active_rooms,
            mixer,
            participants,
        }
    }
}

fn add_room_counters(total: &mut RoomCounters, c: &RoomCounters) {
    total.ticks += c.ticks;
    total.idle_ticks += c.idle_ticks;
    total.opus_encodes += c.opus_encodes;
    total.g711_encodes += c.g711_encodes;
    total.decodes += c.decodes;
    total.encode_errors += c.encode_errors;
}

/// The wall clock as a 64-bit NTP timestamp (RTCP needs wall time; the
/// media path itself runs on the monotonic clock).
fn ntp_now() -> u64 {
    rtcp::ntp_from_unix(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

/// Reads an RR or SR from a participant: RTT, loss and jitter of our stream
/// to them, and their SR for our LSR/DLSR.
fn handle_rtcp(counters: &mut ShardCounters, m: &mut Member, now: Instant, data: &[u8]) {
    let _ = now;
    let compound = match Compound::parse(data) {
        Ok(c) => c,
        Err(_) => {
            counters.rtcp_malformed += 1;
            return;
        }
    };
    counters.rtcp_in += 1;
    let ntp = ntp_now();
    let take_block = |m: &mut Member, block: ReportBlock| {
        if block.ssrc != m.ssrc_out {
            return;
        }
        m.rtcp_reports_in += 1;
        m.remote_fraction_lost = Some(block.fraction_lost);
        m.remote_jitter = Some(block.jitter);
        if block.lsr != 0 {
            m.rtt = rtcp::rtt_from_report(rtcp::ntp_middle32(ntp), block.lsr, block.dlsr);
        }
    };
    for packet in compound.packets() {
        match packet {
            RtcpPacket::SenderReport(sr) => {
                m.last_sr = Some(LastSr::from_sender_info(&sr.info, ntp));
                for block in sr.reports {
                    take_block(m, block);
                }
            }
            RtcpPacket::ReceiverReport(rr) => {
                for block in rr.reports {
                    take_block(m, block);
                }
            }
            RtcpPacket::Bye(_) => m.bye = true,
            _ => {}
        }
    }
}

/// Writes an SR (we sent media since the last report) or an RR, with a
/// report block about the participant's stream, plus SDES CNAME.
fn write_report(
    m: &mut Member,
    now: Instant,
    ntp: u64,
    cname: &str,
    out: &mut [u8],
) -> Option<usize> {
    let block = m.ssrc_in.and_then(|ssrc| {
        rtcp::build_report_block(ssrc, &mut m.seq, &m.arrival_jitter, m.last_sr.as_ref(), ntp)
    });
    let blocks_storage: [ReportBlock; 1];
    let blocks: &[ReportBlock] = match block {
        Some(b) => {
            blocks_storage = [b];
            &blocks_storage
        }
        None => &[],
    };
    let first = match m.last_out {
        Some((at, ts)) if m.packets_sent > m.packets_sent_at_last_sr => {
            let elapsed = now.saturating_duration_since(at);
            let rtp_timestamp = ts.wrapping_add(
                (elapsed.as_micros() * u128::from(m.clock_rate_hz) / 1_000_000) as u32,
            );
            FirstReport::Sender {
                ssrc: m.ssrc_out,
                info: SenderInfo {
                    ntp,
                    rtp_timestamp,
                    packet_count: m.packets_sent as u32,
                    octet_count: m.octets_sent as u32,
                },
                blocks,
            }
        }
        _ => FirstReport::Receiver {
            ssrc: m.ssrc_out,
            blocks,
        },
    };
    rtcp::write_compound(&first, cname.as_bytes(), None, out).ok()
}
