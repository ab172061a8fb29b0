//! The Engine API: the only way the control plane and the bench touch the
//! media plane.
//!
//! [`Engine::start`] runs one pinned glommio shard per media core. Rooms are
//! placed on the shard with the fewest rooms and never move; a participant's
//! RTP/RTCP sockets are bound from its room's shard port range, so its media
//! never crosses cores. Every call posts one command on that shard's bounded
//! lock-free queue and waits (on the control thread, never on a shard) for the
//! shard's answer; a full queue is an error the caller sees, not a wait.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use media_core::codec::CodecConfig;
use media_core::mixer::{MixerConfig, ParticipantConfig, ParticipantId};

use crate::config::{ConfigError, EngineConfig};
use crate::shard::{self, AddParticipant, Command, ShardLink};
use crate::stats::EngineStats;

/// Identifies a room; chosen by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub u32);

/// What admission decided about a participant.
#[derive(Clone, Copy, Debug)]
pub struct ParticipantSpec {
    /// Engine-wide unique id.
    pub id: ParticipantId,
    /// Codec in both directions.
    pub codec: CodecConfig,
    /// RTP payload type in both directions.
    pub payload_type: u8,
    /// The terminal's RTP address: media is accepted only from here (unless
    /// latching is on) and the mix is sent here.
    pub remote_rtp: SocketAddr,
    /// The terminal's RTCP address (default: RTP port + 1).
    pub remote_rtcp: Option<SocketAddr>,
    /// The SSRC it was admitted with; `None` latches the first one seen.
    pub ssrc: Option<u32>,
    /// Inbound cap in bit/s at IP level; `None` = `[media] bitrate_cap_bps`.
    pub bitrate_cap_bps: Option<u32>,
}

impl ParticipantSpec {
    /// A participant with the codec's usual payload type and defaults elsewhere.
    pub fn new(id: ParticipantId, codec: CodecConfig, remote_rtp: SocketAddr) -> Self {
        Self {
            id,
            codec,
            payload_type: crate::sim::payload_type(codec),
            remote_rtp,
            remote_rtcp: None,
            ssrc: None,
            bitrate_cap_bps: None,
        }
    }
}

/// Where the admitted terminal must send, and what it will receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    /// Shard running the room.
    pub shard: usize,
    /// Local RTP address to send media to (the mix comes from it too).
    pub local_rtp: SocketAddr,
    /// Local RTCP address (RTCP is also accepted muxed on `local_rtp`).
    pub local_rtcp: SocketAddr,
    /// SSRC of the mix stream sent to this participant.
    pub ssrc_out: u32,
}

/// Why the engine refused to start or to do something.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// io_uring cannot be used at all.
    #[error(
        "shard {shard}: io_uring is unavailable ({reason}). The media engine needs Linux >= 5.8 \
         with io_uring enabled: check `sysctl kernel.io_uring_disabled` (must be 0, or 1 with \
         CAP_SYS_ADMIN) and that no seccomp profile (container runtime) blocks io_uring_setup"
    )]
    IoUringUnavailable {
        /// The shard that failed.
        shard: usize,
        /// The OS error.
        reason: String,
    },
    /// Locked memory ran out setting up io_uring.
    #[error(
        "shard {shard}: cannot lock memory for io_uring ({reason}). RLIMIT_MEMLOCK is {limit}; \
         each shard locks its rings plus [shards] io_memory_kib = {io_memory_kib} KiB. Raise the \
         limit (`ulimit -l 65536`, LimitMEMLOCK=64M in the systemd unit, or `memlock` in \
         /etc/security/limits.conf) or lower io_memory_kib / ring_depth"
    )]
    Memlock {
        /// The shard that failed.
        shard: usize,
        /// The soft limit, printed.
        limit: String,
        /// The configured io memory.
        io_memory_kib: usize,
        /// The OS error.
        reason: String,
    },
    /// The executor could not start for another reason (e.g. no such CPU).
    #[error("shard {shard} on CPU {cpu} failed to start: {reason} (check [shards] cpus / count)")]
    ShardStart {
        /// The shard that failed.
        shard: usize,
        /// Its CPU.
        cpu: usize,
        /// What failed.
        reason: String,
    },
    /// Every port pair in the shard's range is in use.
    #[error(
        "shard {shard}: no free RTP/RTCP port pair in {ip}:{first}-{last} ({taken} pairs are \
         held by other processes or sockets); free them or widen [media] ports_per_shard / move \
         port_first"
    )]
    PortsExhausted {
        /// The shard.
        shard: usize,
        /// The bind address.
        ip: std::net::IpAddr,
        /// First port of its range.
        first: u16,
        /// Last port of its range.
        last: u16,
        /// Pairs skipped because another socket holds them.
        taken: usize,
    },
    /// A socket could not be set up.
    #[error("socket {addr}: {source}")]
    Socket {
        /// The local address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// No such room.
    #[error("no room {0:?}")]
    UnknownRoom(RoomId),
    /// The room exists already.
    #[error("room {0:?} exists already")]
    RoomExists(RoomId),
    /// No such participant.
    #[error("no participant {0:?}")]
    UnknownParticipant(ParticipantId),
    /// The participant id is in use.
    #[error("participant {0:?} exists already")]
    DuplicateParticipant(ParticipantId),
    /// Every shard holds `rooms_max` rooms.
    #[error("every shard holds [shards] rooms_max = {rooms_max} rooms; raise it or add shards")]
    RoomsFull {
        /// The bound.
        rooms_max: usize,
    },
    /// Admissions are stopped (SIGUSR1 / `set_accepting(false)`).
    #[error("not accepting new participants (admissions stopped)")]
    NotAccepting,
    /// The shard's command queue is full.
    #[error("shard {shard}: command queue full ([queues] commands_max = {commands_max}); retry or raise it")]
    QueueFull {
        /// The shard.
        shard: usize,
        /// The bound.
        commands_max: usize,
    },
    /// The shard did not answer in time (stopped or stalled).
    #[error("shard {shard} did not answer within {timeout:?}")]
    ShardUnresponsive {
        /// The shard.
        shard: usize,
        /// How long we waited.
        timeout: Duration,
    },
    /// The mixer refused (room full, codec, too many codec configurations).
    #[error("mixer: {message} ({kind})")]
    Mixer {
        /// `MixerError::kind()`.
        kind: &'static str,
        /// The mixer's message.
        message: String,
    },
}

/// How long a control call waits for its shard's answer.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct ShardHandle {
    link: Arc<ShardLink>,
    thread: Option<JoinHandle<()>>,
    rooms: usize,
    /// Even RTP ports of this shard's range not handed out.
    free_ports: Vec<u16>,
}

#[derive(Debug, Clone, Copy)]
struct ParticipantEntry {
    room: RoomId,
    shard: usize,
    rtp_port: u16,
}

/// A running media engine: shards plus the control-side bookkeeping.
#[derive(Debug)]
pub struct Engine {
    config: Arc<EngineConfig>,
    shards: Vec<ShardHandle>,
    rooms: HashMap<RoomId, usize>,
    participants: HashMap<ParticipantId, ParticipantEntry>,
    accepting: bool,
    rng: u64,
    report_seq: u64,
    stats: EngineStats,
}

impl Engine {
    /// Validates `config`, starts every shard (pinned when configured) and
    /// returns once all are running, or the first start error.
    pub fn start(config: EngineConfig) -> Result<Self, EngineError> {
        config.validate()?;
        let config = Arc::new(config);
        let count = config.shard_count();
        let mut shards: Vec<ShardHandle> = Vec::with_capacity(count);
        for index in 0..count {
            let link = Arc::new(ShardLink::new(&config));
            let thread = match shard::spawn(index, Arc::clone(&config), Arc::clone(&link)) {
                Ok(thread) => thread,
                Err(e) => {
                    for s in &mut shards {
                        stop_shard(s);
                    }
                    return Err(e);
                }
            };
            let first = config.media.port_first + (index as u16) * config.media.ports_per_shard;
            let pairs = config.media.ports_per_shard / 2;
            // Lowest ports first: pop() takes from the end.
            let free_ports = (0..pairs).rev().map(|p| first + 2 * p).collect();
            shards.push(ShardHandle {
                link,
                thread: Some(thread),
                rooms: 0,
                free_ports,
            });
        }
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Ok(Self {
            stats: EngineStats {
                shards: vec![None; count],
                reports_received: 0,
                commands_refused: vec![0; count],
            },
            config,
            shards,
            rooms: HashMap::new(),
            participants: HashMap::new(),
            accepting: true,
            rng: seed | 1,
            report_seq: 0,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Stops (false) or resumes (true) admitting participants; rooms and
    /// participants already in are untouched.
    pub fn set_accepting(&mut self, accepting: bool) {
        self.accepting = accepting;
    }

    /// Whether new participants are admitted.
    pub fn is_accepting(&self) -> bool {
        self.accepting
    }

    /// Rooms and their shards.
    pub fn rooms(&self) -> impl Iterator<Item = (RoomId, usize)> + '_ {
        self.rooms.iter().map(|(r, s)| (*r, *s))
    }

    /// Participants and their rooms.
    pub fn participants(&self) -> impl Iterator<Item = (ParticipantId, RoomId)> + '_ {
        self.participants.iter().map(|(p, e)| (*p, e.room))
    }

    /// Creates a room on the least-loaded shard and returns that shard.
    pub fn create_room(&mut self, room: RoomId, mixer: MixerConfig) -> Result<usize, EngineError> {
        if self.rooms.contains_key(&room) {
            return Err(EngineError::RoomExists(room));
        }
        let rooms_max = self.config.shards.rooms_max;
        let shard = (0..self.shards.len())
            .filter(|&s| self.shards[s].rooms < rooms_max)
            .min_by_key(|&s| self.shards[s].rooms)
            .ok_or(EngineError::RoomsFull { rooms_max })?;
        self.create_room_on(room, shard, mixer)
    }

    /// Creates a room on a given shard (tests and benchmarks place rooms).
    pub fn create_room_on(
        &mut self,
        room: RoomId,
        shard: usize,
        mut mixer: MixerConfig,
    ) -> Result<usize, EngineError> {
        if self.rooms.contains_key(&room) {
            return Err(EngineError::RoomExists(room));
        }
        let rooms_max = self.config.shards.rooms_max;
        if shard >= self.shards.len() || self.shards[shard].rooms >= rooms_max {
            return Err(EngineError::RoomsFull { rooms_max });
        }
        mixer.participants_max = mixer
            .participants_max
            .min(self.config.shards.room_participants_max);
        self.call(shard, |reply| Command::CreateRoom { room, mixer, reply })?;
        self.shards[shard].rooms += 1;
        self.rooms.insert(room, shard);
        Ok(shard)
    }

    /// Destroys a room and everyone in it.
    pub fn destroy_room(&mut self, room: RoomId) -> Result<(), EngineError> {
        let shard = *self
            .rooms
            .get(&room)
            .ok_or(EngineError::UnknownRoom(room))?;
        self.call(shard, |reply| Command::DestroyRoom { room, reply })?;
        self.rooms.remove(&room);
        self.shards[shard].rooms -= 1;
        let gone: Vec<ParticipantId> = self
            .participants
            .iter()
            .filter(|(_, e)| e.room == room)
            .map(|(p, _)| *p)
            .collect();
        for p in gone {
            if let Some(e) = self.participants.remove(&p) {
                self.shards[shard].free_ports.push(e.rtp_port);
            }
        }
        Ok(())
    }

    /// Admits a participant into `room`: binds its RTP/RTCP sockets on the
    /// room's shard and returns where the terminal must send.
    pub fn add_participant(
        &mut self,
        room: RoomId,
        spec: ParticipantSpec,
    ) -> Result<Admission, EngineError> {
        if !self.accepting {
            return Err(EngineError::NotAccepting);
        }
        if self.participants.contains_key(&spec.id) {
            return Err(EngineError::DuplicateParticipant(spec.id));
        }
        let shard = *self
            .rooms
            .get(&room)
            .ok_or(EngineError::UnknownRoom(room))?;
        let (rtp_port, rtp, rtcp) = self.bind_pair(shard)?;
        let ip = self.config.media.bind_ip;
        let local_rtp = SocketAddr::new(ip, rtp_port);
        let local_rtcp = SocketAddr::new(ip, rtp_port + 1);
        let ssrc_out = self.random() as u32;
        let mut config = ParticipantConfig::new(spec.id, spec.codec, spec.payload_type, ssrc_out);
        config.seq_out_initial = self.random() as u16;
        config.timestamp_out_initial = self.random() as u32;
        config.audio_level_ext_id = Some(crate::sim::AUDIO_LEVEL_EXT_ID);
        let cap = spec
            .bitrate_cap_bps
            .unwrap_or(self.config.media.bitrate_cap_bps);
        let result = self.call(shard, |reply| {
            Command::AddParticipant(Box::new(AddParticipant {
                room,
                config,
                spec,
                bitrate_cap_bps: cap,
                rtp,
                rtcp,
                reply,
            }))
        });
        if let Err(e) = result {
            self.shards[shard].free_ports.push(rtp_port);
            return Err(e);
        }
        self.participants.insert(
            spec.id,
            ParticipantEntry {
                room,
                shard,
                rtp_port,
            },
        );
        Ok(Admission {
            shard,
            local_rtp,
            local_rtcp,
            ssrc_out,
        })
    }

    /// Removes a participant and closes its sockets.
    pub fn remove_participant(&mut self, id: ParticipantId) -> Result<(), EngineError> {
        let e = *self
            .participants
            .get(&id)
            .ok_or(EngineError::UnknownParticipant(id))?;
        self.call(e.shard, |reply| Command::RemoveParticipant {
            room: e.room,
            id,
            reply,
        })?;
        self.participants.remove(&id);
        self.shards[e.shard].free_ports.push(e.rtp_port);
        Ok(())
    }

    /// Mutes or unmutes a participant in everyone's mix.
    pub fn set_muted(&mut self, id: ParticipantId, muted: bool) -> Result<(), EngineError> {
        let e = *self
            .participants
            .get(&id)
            .ok_or(EngineError::UnknownParticipant(id))?;
        self.call(e.shard, |reply| Command::SetMuted {
            room: e.room,
            id,
            muted,
            reply,
        })
    }

    /// Changes a participant's inbound cap (bit/s at IP level, 0 = none).
    pub fn set_bitrate_cap(
        &mut self,
        id: ParticipantId,
        bitrate_cap_bps: u32,
    ) -> Result<(), EngineError> {
        let e = *self
            .participants
            .get(&id)
            .ok_or(EngineError::UnknownParticipant(id))?;
        self.call(e.shard, |reply| Command::SetBitrateCap {
            room: e.room,
            id,
            bitrate_cap_bps,
            reply,
        })
    }

    /// Drains the shard → control queues and returns the latest report of
    /// each shard (pushed every `[stats] interval_ms`), with the command
    /// refusals counted up to now.
    pub fn stats(&mut self) -> &EngineStats {
        for (i, s) in self.shards.iter().enumerate() {
            while let Some(report) = s.link.reports.pop() {
                self.stats.reports_received += 1;
                self.stats.shards[i] = Some(report);
            }
            // Read here, not from a report: a stalled shard, the usual
            // reason its queue is full, sends no reports.
            self.stats.commands_refused[i] = s.link.commands_refused.load(Ordering::Relaxed);
        }
        &self.stats
    }

    /// Asks every shard for a fresh report and waits for all of them.
    pub fn snapshot(&mut self) -> Result<&EngineStats, EngineError> {
        self.report_seq += 1;
        let seq = self.report_seq;
        for shard in 0..self.shards.len() {
            self.post(shard, Command::Report { seq })?;
        }
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            self.stats();
            let pending = self
                .stats
                .shards
                .iter()
                .position(|r| r.as_ref().is_none_or(|r| r.seq < seq));
            match pending {
                None => return Ok(&self.stats),
                Some(shard) if Instant::now() >= deadline => {
                    return Err(EngineError::ShardUnresponsive {
                        shard,
                        timeout: REPLY_TIMEOUT,
                    })
                }
                Some(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    /// Stops every shard after a final report and returns the final stats.
    pub fn shutdown(mut self) -> EngineStats {
        for s in &mut self.shards {
            stop_shard(s);
        }
        self.stats();
        std::mem::take(&mut self.stats)
    }

    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Binds the first free even/odd port pair of `shard`'s range, skipping
    /// pairs another socket holds.
    fn bind_pair(
        &mut self,
        shard: usize,
    ) -> Result<(u16, std::net::UdpSocket, std::net::UdpSocket), EngineError> {
        let ip = self.config.media.bind_ip;
        let mut taken = Vec::new();
        let result = loop {
            let Some(port) = self.shards[shard].free_ports.pop() else {
                let first =
                    self.config.media.port_first + shard as u16 * self.config.media.ports_per_shard;
                break Err(EngineError::PortsExhausted {
                    shard,
                    ip,
                    first,
                    last: first + self.config.media.ports_per_shard - 1,
                    taken: taken.len(),
                });
            };
            let rtp_addr = SocketAddr::new(ip, port);
            let rtcp_addr = SocketAddr::new(ip, port + 1);
            match (
                crate::net::bind_udp(rtp_addr),
                crate::net::bind_udp(rtcp_addr),
            ) {
                (Ok(rtp), Ok(rtcp)) => break Ok((port, rtp, rtcp)),
                (Err(e), _) | (_, Err(e)) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    taken.push(port);
                }
                (Err(e), _) => {
                    break Err(EngineError::Socket {
                        addr: rtp_addr,
                        source: e,
                    })
                }
                (_, Err(e)) => {
                    break Err(EngineError::Socket {
                        addr: rtcp_addr,
                        source: e,
                    })
                }
            }
        };
        // Taken pairs go back to the pool: their holder may let go later.
        self.shards[shard].free_ports.splice(0..0, taken);
        result
    }

    fn post(&self, shard: usize, command: Command) -> Result<(), EngineError> {
        let s = &self.shards[shard];
        if s.link.commands.push(command).is_err() {
            s.link.commands_refused.fetch_add(1, Ordering::Relaxed);
            return Err(EngineError::QueueFull {
                shard,
                commands_max: self.config.queues.commands_max,
            });
        }
        s.link.doorbell.ring();
        Ok(())
    }

    fn call(
        &self,
        shard: usize,
        command: impl FnOnce(shard::Reply) -> Command,
    ) -> Result<(), EngineError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.post(shard, command(tx))?;
        match rx.recv_timeout(REPLY_TIMEOUT) {
            Ok(result) => result,
            Err(_) => Err(EngineError::ShardUnresponsive {
                shard,
                timeout: REPLY_TIMEOUT,
            }),
        }
    }
}

fn stop_shard(s: &mut ShardHandle) {
    let Some(thread) = s.thread.take() else {
        return;
    };
    // A full queue cannot hold the stop: spin briefly until there is room.
    let mut command = Command::Stop;
    for _ in 0..1000 {
        match s.link.commands.push(command) {
            Ok(()) => break,
            Err(back) => {
                command = back;
                s.link.doorbell.ring();
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
    s.link.doorbell.ring();
    let _ = thread.join();
}

impl Drop for Engine {
    fn drop(&mut self) {
        for s in &mut self.shards {
            stop_shard(s);
        }
    }
}

#[cfg(test)]
mod queue_full_test;
