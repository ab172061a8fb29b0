//! Engine settings, read from TOML (`config/engine.toml` documents every
//! field). Every bound the engine allocates up to is here, named `*_max`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use media_core::codec::{CodecConfig, OpusConfig};
use serde::Deserialize;

/// Everything `Engine::start` needs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Media shards: how many, where they run.
    pub shards: ShardsConfig,
    /// Media sockets, marking, validation and timing.
    pub media: MediaConfig,
    /// Control <-> shard queue bounds.
    pub queues: QueuesConfig,
    /// RTCP settings.
    pub rtcp: RtcpConfig,
    /// Stats snapshots.
    pub stats: StatsConfig,
    /// Static rooms for `engine run` (the registry SIGHUP reloads).
    #[serde(rename = "room")]
    pub rooms: Vec<StaticRoom>,
}

/// Shard placement and per-shard bounds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShardsConfig {
    /// Number of media shards; 0 = one per CPU the process may run on.
    pub count: usize,
    /// CPUs to pin shards to, one per shard; empty = CPUs 0, 1, … in order.
    pub cpus: Vec<usize>,
    /// Pin each shard to its CPU (off only for tests on shared machines).
    pub pin: bool,
    /// Memory glommio registers (locks) for io_uring buffers per shard, KiB.
    /// Counts against RLIMIT_MEMLOCK together with the rings.
    pub io_memory_kib: usize,
    /// io_uring submission queue depth per ring.
    pub ring_depth: usize,
    /// Rooms one shard may hold.
    pub rooms_max: usize,
    /// Participants one room may hold.
    pub room_participants_max: usize,
}

impl Default for ShardsConfig {
    fn default() -> Self {
        Self {
            count: 0,
            cpus: Vec::new(),
            pin: true,
            io_memory_kib: 1024,
            ring_depth: 512,
            rooms_max: 64,
            room_participants_max: 32,
        }
    }
}

/// Media sockets and per-packet policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Local address media sockets bind to.
    pub bind_ip: IpAddr,
    /// First port of shard 0's range; shard `s` owns
    /// `port_first + s * ports_per_shard ..` (an even RTP port and the next
    /// odd one for RTCP per participant).
    pub port_first: u16,
    /// Ports in each shard's range (two per participant).
    pub ports_per_shard: u16,
    /// DSCP on audio RTP (46 = EF; 0 = leave unmarked).
    pub dscp_audio: u8,
    /// DSCP on RTCP (0 = leave unmarked).
    pub dscp_rtcp: u8,
    /// Symmetric-RTP latching: accept the first source address seen once
    /// (NAT), instead of only the admitted one.
    pub latching: bool,
    /// Default per-participant inbound cap in bit/s counted at IP level
    /// (datagram + 28 bytes); 0 = none. Admission may give its own.
    pub bitrate_cap_bps: u32,
    /// Burst the cap allows, in ms of traffic at the cap.
    pub bitrate_burst_ms: u32,
    /// A participant silent this long is reported as timed out.
    pub media_timeout_ms: u32,
    /// An output frame sent this long after its tick deadline counts as late
    /// (default half a frame: rooms are mixed one after another within a
    /// tick, and receivers' jitter buffers absorb less than that).
    pub late_output_ms: u32,
    /// How the shard receives: `ring` (one multishot receive per socket
    /// into provided buffers, reaped in a batch before each tick) or
    /// `per-socket` (one glommio receive task per socket, kept to compare).
    pub receive: ReceiveMode,
}

/// The shard's receive path (`[media] receive`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReceiveMode {
    /// io_uring multishot `recvmsg` into a provided-buffer ring (Linux >= 6.1).
    #[default]
    Ring,
    /// One glommio `recv_from` task per socket.
    PerSocket,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port_first: 20_000,
            ports_per_shard: 2_000,
            dscp_audio: crate::net::DSCP_EF,
            dscp_rtcp: 0,
            latching: false,
            bitrate_cap_bps: 0,
            bitrate_burst_ms: 200,
            media_timeout_ms: 10_000,
            late_output_ms: 10,
            receive: ReceiveMode::Ring,
        }
    }
}

/// Queue bounds; a full queue is counted, never waited on.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueuesConfig {
    /// Commands waiting for one shard.
    pub commands_max: usize,
    /// Stats reports waiting for the control plane, per shard.
    pub reports_max: usize,
}

impl Default for QueuesConfig {
    fn default() -> Self {
        Self {
            commands_max: 256,
            reports_max: 16,
        }
    }
}

/// RTCP settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RtcpConfig {
    /// Interval between sender reports to each participant, ms.
    pub sr_interval_ms: u32,
    /// SDES CNAME the engine sends.
    pub cname: String,
}

impl Default for RtcpConfig {
    fn default() -> Self {
        Self {
            sr_interval_ms: 5_000,
            cname: "mcu@engine".into(),
        }
    }
}

/// Stats snapshots.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatsConfig {
    /// How often each shard pushes a snapshot to the control plane, ms.
    pub interval_ms: u32,
}

impl Default for StatsConfig {
    fn default() -> Self {
        Self { interval_ms: 1_000 }
    }
}

/// A room `engine run` creates from the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticRoom {
    /// Room id.
    pub id: u32,
    /// Its participants.
    #[serde(default, rename = "participant")]
    pub participants: Vec<StaticParticipant>,
}

/// A participant of a static room.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticParticipant {
    /// Participant id, unique in the engine.
    pub id: u32,
    /// "opus", "pcmu" or "pcma".
    pub codec: String,
    /// RTP payload type (default: 111 for Opus, the static type for G.711).
    pub payload_type: Option<u8>,
    /// Where the terminal sends from and receives the mix.
    pub remote_rtp: SocketAddr,
    /// Its RTCP address (default: RTP port + 1).
    pub remote_rtcp: Option<SocketAddr>,
    /// The SSRC it was admitted with (default: latched from the first packet).
    pub ssrc: Option<u32>,
    /// Inbound cap in bit/s (default: `[media] bitrate_cap_bps`).
    pub bitrate_cap_bps: Option<u32>,
}

impl StaticParticipant {
    /// The codec named by `codec`.
    pub fn codec_config(&self) -> Result<CodecConfig, ConfigError> {
        match self.codec.to_ascii_lowercase().as_str() {
            "opus" => Ok(CodecConfig::Opus(OpusConfig::default())),
            "pcmu" => Ok(CodecConfig::Pcmu),
            "pcma" => Ok(CodecConfig::Pcma),
            other => Err(ConfigError::Invalid {
                field: "room.participant.codec",
                why: format!("unknown codec {other:?}; use \"opus\", \"pcmu\" or \"pcma\""),
            }),
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TOML does not parse or has unknown fields.
    #[error("{path}: {source}")]
    Parse {
        /// The path given.
        path: String,
        /// The parser's message (with line and column).
        source: Box<toml::de::Error>,
    },
    /// A field is out of range.
    #[error("config field `{field}`: {why}")]
    Invalid {
        /// The TOML path of the field.
        field: &'static str,
        /// What is wrong and what is allowed.
        why: String,
    },
}

impl EngineConfig {
    /// Reads and validates a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.display().to_string(),
                source,
            },
            other => other,
        })
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: "<config>".into(),
            source: Box::new(e),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The number of shards `start` will run.
    pub fn shard_count(&self) -> usize {
        if self.shards.count > 0 {
            self.shards.count
        } else if !self.shards.cpus.is_empty() {
            self.shards.cpus.len()
        } else {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }
    }

    /// The CPU shard `index` runs on.
    pub fn shard_cpu(&self, index: usize) -> usize {
        self.shards.cpus.get(index).copied().unwrap_or(index)
    }

    /// Checks every bound; the error names the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, why: String| Err(ConfigError::Invalid { field, why });
        let shards = self.shard_count();
        if shards == 0 || shards > 256 {
            return invalid("shards.count", format!("{shards} shards; allowed 1..=256"));
        }
        if !self.shards.cpus.is_empty() && self.shards.cpus.len() != shards {
            return invalid(
                "shards.cpus",
                format!(
                    "{} CPUs listed for {shards} shards; list one per shard",
                    self.shards.cpus.len()
                ),
            );
        }
        if self.shards.rooms_max == 0 || self.shards.room_participants_max == 0 {
            return invalid(
                "shards.rooms_max",
                "rooms_max and room_participants_max must be > 0".into(),
            );
        }
        if self.shards.ring_depth < 16 || !self.shards.ring_depth.is_power_of_two() {
            return invalid(
                "shards.ring_depth",
                format!("{}: use a power of two >= 16", self.shards.ring_depth),
            );
        }
        if self.media.ports_per_shard < 2 || self.media.port_first % 2 != 0 {
            return invalid(
                "media.port_first",
                "port_first must be even and ports_per_shard >= 2 (RTP even, RTCP odd)".into(),
            );
        }
        let last = u32::from(self.media.port_first)
            + shards as u32 * u32::from(self.media.ports_per_shard);
        if last > 65_536 {
            return invalid(
                "media.ports_per_shard",
                format!(
                    "{shards} shards x {} ports from {} run past 65535",
                    self.media.ports_per_shard, self.media.port_first
                ),
            );
        }
        if self.media.dscp_audio > 63 || self.media.dscp_rtcp > 63 {
            return invalid(
                "media.dscp_audio",
                "DSCP values are 0..=63 (46 = EF)".into(),
            );
        }
        if self.queues.commands_max == 0 || self.queues.reports_max == 0 {
            return invalid("queues.commands_max", "queue bounds must be > 0".into());
        }
        if self.rtcp.sr_interval_ms < 100 || self.stats.interval_ms < 10 {
            return invalid(
                "rtcp.sr_interval_ms",
                "sr_interval_ms >= 100 and stats.interval_ms >= 10".into(),
            );
        }
        if self.rtcp.cname.is_empty() || self.rtcp.cname.len() > 255 {
            return invalid("rtcp.cname", "1..=255 bytes".into());
        }
        for room in &self.rooms {
            for p in &room.participants {
                p.codec_config()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses() {
        let text = include_str!("../../config/engine.toml");
        let config = EngineConfig::from_toml(text).expect("example config is valid");
        assert_eq!(config.media.dscp_audio, 46);
    }

    #[test]
    fn unknown_field_is_refused_with_its_name() {
        let err = EngineConfig::from_toml("[media]\ndscp = 46\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("dscp"), "{err}");
    }

    #[test]
    fn bad_range_names_the_field() {
        let err = EngineConfig::from_toml("[media]\ndscp_audio = 99\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("media.dscp_audio"), "{err}");
    }
}
