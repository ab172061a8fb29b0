//! The few engine settings the checks need, read tolerantly from the engine's
//! TOML (`engine/src/config.rs` is the real schema; unknown fields are
//! ignored here so this never falls behind it).

use crate::cpus::CpuSet;

/// Defaults of `engine/src/config.rs` for the fields read here.
const IO_MEMORY_KIB_DEFAULT: u64 = 1_024;
const ROOMS_MAX_DEFAULT: u64 = 64;
const ROOM_PARTICIPANTS_MAX_DEFAULT: u64 = 32;
const PORTS_PER_SHARD_DEFAULT: u64 = 2_000;

/// The shard layout as far as host tuning cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardLayout {
    /// `[shards] count` (0 = one per CPU the process may use).
    pub count: u64,
    /// `[shards] cpus` (empty = CPUs 0, 1, … in order).
    pub cpus: Vec<u64>,
    /// `[shards] io_memory_kib`.
    pub io_memory_kib: u64,
    /// `[shards] rooms_max`.
    pub rooms_max: u64,
    /// `[shards] room_participants_max`.
    pub room_participants_max: u64,
    /// `[media] ports_per_shard`.
    pub ports_per_shard: u64,
}

impl Default for ShardLayout {
    fn default() -> Self {
        Self {
            count: 0,
            cpus: Vec::new(),
            io_memory_kib: IO_MEMORY_KIB_DEFAULT,
            rooms_max: ROOMS_MAX_DEFAULT,
            room_participants_max: ROOM_PARTICIPANTS_MAX_DEFAULT,
            ports_per_shard: PORTS_PER_SHARD_DEFAULT,
        }
    }
}

/// Why the engine config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML.
    #[error("{path}: {why}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message.
        why: String,
    },
    /// A field read here has the wrong type or range.
    #[error("{path}: `{field}`: {why}")]
    Field {
        /// The file.
        path: String,
        /// The TOML path of the field.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
}

impl ShardLayout {
    /// Reads `[shards]` and `[media] ports_per_shard` from the config text;
    /// every other field is ignored, every missing one takes the engine's
    /// default.
    pub fn from_toml(path: &str, text: &str) -> Result<ShardLayout, ConfigError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                path: path.to_owned(),
                why: e.to_string(),
            })?;
        let mut layout = ShardLayout::default();
        let field_err = |field: &'static str, why: &str| ConfigError::Field {
            path: path.to_owned(),
            field,
            why: why.to_owned(),
        };
        let number = |section: Option<&toml::Value>,
                      key: &str,
                      field: &'static str,
                      default: u64|
         -> Result<u64, ConfigError> {
            match section.and_then(|s| s.get(key)) {
                None => Ok(default),
                Some(v) => v
                    .as_integer()
                    .and_then(|i| u64::try_from(i).ok())
                    .ok_or_else(|| field_err(field, "expected a whole number >= 0")),
            }
        };
        let shards = table.get("shards");
        let media = table.get("media");
        layout.count = number(shards, "count", "shards.count", 0)?;
        layout.io_memory_kib = number(
            shards,
            "io_memory_kib",
            "shards.io_memory_kib",
            IO_MEMORY_KIB_DEFAULT,
        )?;
        layout.rooms_max = number(shards, "rooms_max", "shards.rooms_max", ROOMS_MAX_DEFAULT)?;
        layout.room_participants_max = number(
            shards,
            "room_participants_max",
            "shards.room_participants_max",
            ROOM_PARTICIPANTS_MAX_DEFAULT,
        )?;
        layout.ports_per_shard = number(
            media,
            "ports_per_shard",
            "media.ports_per_shard",
            PORTS_PER_SHARD_DEFAULT,
        )?;
        if let Some(cpus) = shards.and_then(|s| s.get("cpus")) {
            let list = cpus
                .as_array()
                .ok_or_else(|| field_err("shards.cpus", "expected a list of CPU numbers"))?;
            for cpu in list {
                let cpu = cpu
                    .as_integer()
                    .and_then(|i| u64::try_from(i).ok())
                    .filter(|&c| c <= crate::cpus::CPU_MAX as u64)
                    .ok_or_else(|| field_err("shards.cpus", "expected CPU numbers"))?;
                layout.cpus.push(cpu);
            }
        }
        Ok(layout)
    }

    /// The CPUs the shards run on, as the engine places them: `cpus` if
    /// listed, else CPUs `0..count`, else every CPU in `online`.
    pub fn media_cores(&self, online: &CpuSet) -> CpuSet {
        if !self.cpus.is_empty() {
            CpuSet::from_cpus(self.cpus.iter().map(|&c| c as usize))
        } else if self.count > 0 {
            CpuSet::from_cpus(0..self.count.min(crate::cpus::CPU_MAX as u64) as usize)
        } else {
            online.clone()
        }
    }

    /// Shards the engine starts on a host with these media cores.
    pub fn shard_count(&self, media_cores: &CpuSet) -> u64 {
        if self.count > 0 {
            self.count
        } else {
            media_cores.0.len().max(1) as u64
        }
    }

    /// Guardians the engine can hold: per shard the smaller of the room
    /// capacity and the port range (two ports per participant).
    pub fn guardians_max(&self, media_cores: &CpuSet) -> u64 {
        let per_shard = self
            .rooms_max
            .saturating_mul(self.room_participants_max)
            .min(self.ports_per_shard / 2);
        self.shard_count(media_cores).saturating_mul(per_shard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_engine_config_reads() {
        let text = include_str!("../../config/engine.toml");
        let layout = ShardLayout::from_toml("engine.toml", text).expect("reads");
        assert_eq!(layout, ShardLayout::default());
        let online = CpuSet::from_cpus([0, 1]);
        assert_eq!(layout.media_cores(&online), online);
        // 2 shards x min(64 x 32 rooms, 2000 / 2 ports) = 2000: the profiles'
        // reference guardian count.
        assert_eq!(layout.guardians_max(&online), 2_000);
    }

    #[test]
    fn listed_cpus_win_then_count() {
        let online = CpuSet::from_cpus(0..8);
        let layout = ShardLayout::from_toml(
            "x",
            "[shards]\ncount = 3\ncpus = [1, 2, 3]\n[other]\nz = 1\n",
        )
        .expect("reads");
        assert_eq!(layout.media_cores(&online), CpuSet::from_cpus([1, 2, 3]));
        let layout = ShardLayout::from_toml("x", "[shards]\ncount = 2\n").expect("reads");
        assert_eq!(layout.media_cores(&online), CpuSet::from_cpus([0, 1]));
        assert_eq!(layout.shard_count(&online), 2);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = ShardLayout::from_toml("x", "[shards]\ncpus = \"1,2\"\n").unwrap_err();
        assert!(e.to_string().contains("shards.cpus"), "{e}");
        let e = ShardLayout::from_toml("x", "[shards]\ncount = -1\n").unwrap_err();
        assert!(e.to_string().contains("shards.count"), "{e}");
        assert!(ShardLayout::from_toml("x", "[shards\n").is_err());
        assert!(ShardLayout::from_toml("x", "shards = 3\n").is_ok());
    }
}
