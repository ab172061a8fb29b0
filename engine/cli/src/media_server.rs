//! The media engine's end of the media link (docs/media-link.md): a TCP
//! listener thread accepting up to [`CONNECTIONS_MAX`] controllers, one
//! thread per connection feeding [`control::media_link::Session`] and
//! applying its commands to the shard engine.
//!
//! The engine, the epoch fence and the counters sit under one mutex shared
//! with `engine run`'s main loop: a command's epoch check and its effect are
//! one step, so a fenced controller can never slip a command in between.

use std::io::{BufReader, BufWriter, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use control::media_link::frame::{self, FrameError};
use control::media_link::messages::{
    EngineSnapshot, LinkCodec, LinkError, ParticipantParams, Reply, ReplyFrame, ReplyResult,
    StatsReply,
};
use control::media_link::server::{After, MediaBackend, SessionCounters};
use control::media_link::{Fence, ServerConfig, Session};
use engine::core::codec::{CodecConfig, OpusConfig};
use engine::core::mixer::{MixerConfig, ParticipantId};
use engine::{Engine, EngineError, ParticipantSpec, RoomId};

/// Controllers connected at once; more are refused with `busy`.
pub const CONNECTIONS_MAX: usize = 8;
/// A connection with no request for this long is closed (controllers ping
/// every 5 s).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The engine with its link state, shared by `engine run` and the link.
#[derive(Debug)]
pub struct Controlled {
    /// The shard engine.
    pub engine: Engine,
    fence: Fence,
    counters: SessionCounters,
}

impl Controlled {
    /// Wraps `engine` at epoch 0.
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            fence: Fence::default(),
            counters: SessionCounters::default(),
        }
    }

    /// The link's epoch and counters, for the stats line.
    pub fn link_summary(&self) -> String {
        let c = &self.counters;
        format!(
            "epoch {} applied {} fenced {} unauthenticated {} bad {}",
            self.fence.current(),
            c.applied,
            c.fenced,
            c.unauthenticated,
            c.bad
        )
    }
}

/// The shared engine.
pub type Shared = Arc<Mutex<Controlled>>;

/// Locks the shared engine; a thread that panicked holding it does not stop
/// the others (the engine's own state is consistent between calls).
pub fn lock(shared: &Shared) -> MutexGuard<'_, Controlled> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running control listener.
#[derive(Debug)]
pub struct MediaServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    streams: Arc<Mutex<Streams>>,
}

/// Open connections by id, so stop() can close them and each worker
/// removes its own when it ends (the list never outgrows CONNECTIONS_MAX).
type Streams = Vec<(u64, TcpStream)>;

impl MediaServer {
    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes every connection and joins the threads.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for s in self
            .streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = s.1.shutdown(std::net::Shutdown::Both);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds `listen` and serves the link on its own thread.
pub fn start(
    listen: SocketAddr,
    config: ServerConfig,
    shared: Shared,
) -> std::io::Result<MediaServer> {
    let listener = TcpListener::bind(listen)?;
    // Polled, so stop() is seen within 100 ms without a wake-up connection.
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let streams = Arc::new(Mutex::new(Vec::new()));
    let thread = {
        let stop = Arc::clone(&stop);
        let streams = Arc::clone(&streams);
        std::thread::Builder::new()
            .name("media-link".into())
            .spawn(move || accept_loop(&listener, &config, &shared, &stop, &streams))?
    };
    Ok(MediaServer {
        addr,
        stop,
        thread: Some(thread),
        streams,
    })
}

fn accept_loop(
    listener: &TcpListener,
    config: &ServerConfig,
    shared: &Shared,
    stop: &AtomicBool,
    streams: &Arc<Mutex<Streams>>,
) {
    let open = Arc::new(AtomicUsize::new(0));
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let mut next_id = 0u64;
    while !stop.load(Ordering::Relaxed) {
        workers.retain(|w| !w.is_finished());
        let (stream, peer) = match listener.accept() {
            Ok(x) => x,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            Err(e) => {
                eprintln!("media-link: accept: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
        if open.load(Ordering::Relaxed) >= CONNECTIONS_MAX {
            eprintln!("media-link: refusing {peer}: {CONNECTIONS_MAX} controllers connected");
            let reply = ReplyFrame {
                id: 0,
                result: ReplyResult::Err(LinkError::Busy {
                    reason: format!("{CONNECTIONS_MAX} controllers connected"),
                }),
            };
            let _ = frame::write_frame(&mut &stream, &reply);
            continue;
        }
        let Ok(clone) = stream.try_clone() else {
            continue;
        };
        {
            let mut list = streams.lock().unwrap_or_else(|p| p.into_inner());
            // stop() sets the flag, then shuts down every listed stream under
            // this lock: a stream listed after that is shut down here, so no
            // worker outlives stop() by an idle timeout.
            if stop.load(Ordering::Relaxed) {
                let _ = clone.shutdown(std::net::Shutdown::Both);
            }
            next_id += 1;
            list.push((next_id, clone));
        }
        let id = next_id;
        let streams = Arc::clone(streams);
        open.fetch_add(1, Ordering::Relaxed);
        let session = Session::new(config, peer, challenge());
        let shared = Arc::clone(shared);
        let worker_open = Arc::clone(&open);
        let worker_streams = Arc::clone(&streams);
        let forget = move |streams: &Mutex<Streams>, open: &AtomicUsize| {
            streams
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|(i, _)| *i != id);
            open.fetch_sub(1, Ordering::Relaxed);
        };
        let spawned = std::thread::Builder::new()
            .name("media-link-conn".into())
            .spawn(move || {
                serve(stream, peer, session, &shared);
                forget(&worker_streams, &worker_open);
            });
        match spawned {
            Ok(w) => workers.push(w),
            Err(e) => {
                eprintln!("media-link: no thread for {peer}: {e}");
                forget(&streams, &open);
            }
        }
    }
    for w in workers {
        let _ = w.join();
    }
}

/// 32 bytes from the OS random source.
fn challenge() -> [u8; 32] {
    let mut c = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut c);
    }
    c
}

fn serve(stream: TcpStream, peer: SocketAddr, mut session: Session, shared: &Shared) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = BufWriter::new(stream);
    loop {
        let body = match frame::read_frame(&mut reader) {
            Ok(b) => b,
            Err(FrameError::Closed) => break,
            Err(FrameError::TooLarge(n)) => {
                let reply = ReplyFrame {
                    id: 0,
                    result: ReplyResult::Err(LinkError::bad(format!(
                        "frame of {n} bytes exceeds {} bytes",
                        frame::FRAME_MAX
                    ))),
                };
                let _ = frame::write_frame(&mut writer, &reply);
                break;
            }
            Err(e) => {
                eprintln!("media-link: {peer}: {e}; closing");
                break;
            }
        };
        let (reply, after) = {
            let mut guard = lock(shared);
            let c = &mut *guard;
            let mut backend = EngineBackend(&mut c.engine);
            session.handle(&body, &mut c.fence, &mut backend, &mut c.counters)
        };
        if let ReplyResult::Err(
            e @ (LinkError::Unauthenticated { .. } | LinkError::StaleEpoch { .. }),
        ) = &reply.result
        {
            eprintln!("media-link: {peer} ({}): {e}", session.controller());
        }
        if frame::write_frame(&mut writer, &reply).is_err() || after == After::Close {
            break;
        }
    }
}

/// The link's view of the shard engine.
struct EngineBackend<'a>(&'a mut Engine);

fn link_error(e: EngineError) -> LinkError {
    let reason = e.to_string();
    match e {
        EngineError::RoomsFull { .. }
        | EngineError::NotAccepting
        | EngineError::PortsExhausted { .. } => LinkError::NoCapacity { reason },
        EngineError::Mixer { kind, .. } if kind.contains("full") => {
            LinkError::NoCapacity { reason }
        }
        EngineError::QueueFull { .. } => LinkError::Busy { reason },
        EngineError::UnknownRoom(_)
        | EngineError::RoomExists(_)
        | EngineError::UnknownParticipant(_)
        | EngineError::DuplicateParticipant(_)
        | EngineError::Mixer { .. } => LinkError::BadRequest { reason },
        _ => LinkError::Engine { reason },
    }
}

impl MediaBackend for EngineBackend<'_> {
    fn create_room(&mut self, room: u32) -> Result<(), LinkError> {
        self.0
            .create_room(RoomId(room), MixerConfig::default())
            .map(drop)
            .map_err(link_error)
    }

    fn destroy_room(&mut self, room: u32) -> Result<(), LinkError> {
        self.0.destroy_room(RoomId(room)).map_err(link_error)
    }

    fn add_participant(&mut self, p: &ParticipantParams) -> Result<Reply, LinkError> {
        let codec = match p.codec {
            LinkCodec::Opus => CodecConfig::Opus(OpusConfig::default()),
            LinkCodec::Pcmu => CodecConfig::Pcmu,
            LinkCodec::Pcma => CodecConfig::Pcma,
        };
        if p.payload_type > 127 {
            return Err(LinkError::bad("payload_type must be 0..=127"));
        }
        let mut spec = ParticipantSpec::new(ParticipantId(p.participant), codec, p.remote_rtp);
        spec.payload_type = p.payload_type;
        spec.remote_rtcp = p.remote_rtcp;
        spec.ssrc = p.ssrc;
        spec.bitrate_cap_bps = p.bitrate_cap_bps;
        let a = self
            .0
            .add_participant(RoomId(p.room), spec)
            .map_err(link_error)?;
        Ok(Reply::Added {
            shard: a.shard as u32,
            local_rtp: a.local_rtp,
            local_rtcp: a.local_rtcp,
            ssrc_out: a.ssrc_out,
        })
    }

    fn remove_participant(&mut self, participant: u32) -> Result<(), LinkError> {
        self.0
            .remove_participant(ParticipantId(participant))
            .map_err(link_error)
    }

    fn set_muted(&mut self, participant: u32, muted: bool) -> Result<(), LinkError> {
        self.0
            .set_muted(ParticipantId(participant), muted)
            .map_err(link_error)
    }

    fn set_bitrate_cap(&mut self, participant: u32, cap_bps: Option<u32>) -> Result<(), LinkError> {
        let cap = cap_bps.unwrap_or(self.0.config().media.bitrate_cap_bps);
        self.0
            .set_bitrate_cap(ParticipantId(participant), cap)
            .map_err(link_error)
    }

    fn stats(&mut self, engine: bool) -> Result<StatsReply, LinkError> {
        let shard_cpu_us =
            bench::load::procfs::threads_cpu(bench::load::drive::SHARD_THREAD_PREFIX)
                .into_iter()
                .map(|(name, cpu)| (name, cpu.as_micros() as u64))
                .collect();
        let engine = if engine {
            let rooms = self.0.rooms().count() as u64;
            let participants = self.0.participants().count() as u64;
            let stats = self.0.snapshot().map_err(link_error)?;
            let counters = stats.counters();
            let latency = stats.latency();
            Some(EngineSnapshot {
                rooms,
                participants,
                frames_out: counters.frames_out,
                late_frames: counters.late_frames,
                tick_overruns: counters.tick_overruns,
                timed_out: stats
                    .shards
                    .iter()
                    .flatten()
                    .flat_map(|r| r.participants.iter())
                    .filter(|p| p.timed_out)
                    .count() as u64,
                rx_datagrams: counters.rx_datagrams,
                latency_count: latency.count(),
                latency_mean_us: latency.mean().as_micros() as u64,
                latency_max_us: latency.max().as_micros() as u64,
                latency_us: latency
                    .nonzero_buckets()
                    .map(|(upper, n)| (upper.as_micros() as u64, n))
                    .collect(),
            })
        } else {
            None
        };
        Ok(StatsReply {
            epoch: 0,
            shard_cpu_us,
            engine,
            rss_kib: bench::load::procfs::rss_kib(),
        })
    }
}
