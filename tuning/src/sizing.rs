//! Socket buffer and queue sizes computed from the guardian count.
//!
//! The arithmetic behind the sized keys of the profiles. Each profile file
//! carries the result for its `guardians_ref`; a test checks the files against
//! these functions, and `engine tune --guardians N` recomputes them for N.
//!
//! Why these inputs:
//! - The kernel charges a received datagram's `truesize` against the socket's
//!   receive buffer, not its payload: a 100–200 byte RTP packet in a 2 KiB
//!   driver buffer costs [`RX_TRUESIZE_BYTES`].
//! - The engine binds one RTP socket per participant, so a media socket
//!   carries one guardian's 50 packets/s ([`PACKETS_PER_S`]).
//! - The gatekeeper's RAS socket carries every guardian: after a failover all
//!   of them re-register at about the same time (the storm).
//! - Without RPS/RSS spreading, one CPU's input backlog may take every
//!   guardian's packets.

/// Packets per second one guardian sends (and receives): 20 ms frames.
pub const PACKETS_PER_S: u64 = 50;

/// Bytes the kernel charges per received datagram: `SKB_TRUESIZE(2048)` =
/// 2048 + 256 (`sk_buff`, cache-aligned) + 320 (`skb_shared_info`) on x86_64.
/// Drivers that give each packet a whole 4 KiB page charge more.
pub const RX_TRUESIZE_BYTES: u64 = 2048 + 256 + 320;

/// The kernel's default `rmem_default`/`wmem_default`/`rmem_max` on 64-bit
/// (`SK_RMEM_MAX`); sizes are never computed below it.
pub const KERNEL_SOCKET_DEFAULT_BYTES: u64 = 212_992;

/// The kernel's default `netdev_max_backlog`.
pub const KERNEL_BACKLOG_DEFAULT: u64 = 1_000;

/// Page size `udp_mem` counts in.
pub const PAGE_BYTES: u64 = 4_096;

/// The inputs of one sizing: how many guardians and which bursts to absorb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    /// Guardians (participants) the host serves at most.
    pub guardians: u64,
    /// Stall of one shard a media socket must absorb without loss, ms.
    pub media_burst_ms: u64,
    /// Time one CPU's input backlog must absorb every guardian's packets, ms.
    pub backlog_burst_ms: u64,
    /// Whether `rmem_default` itself holds the RAS storm (the gatekeeper does
    /// not set `SO_RCVBUF`), or only `rmem_max` does (small default buffers).
    pub ras_in_rmem_default: bool,
}

/// What [`Sizing`] gives, field by field as the sysctls take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferPlan {
    /// `net.core.rmem_default`, bytes.
    pub rmem_default: u64,
    /// `net.core.rmem_max`, bytes.
    pub rmem_max: u64,
    /// `net.core.wmem_max`, bytes.
    pub wmem_max: u64,
    /// `net.ipv4.udp_rmem_min`, bytes.
    pub udp_rmem_min: u64,
    /// `net.core.netdev_max_backlog`, packets.
    pub netdev_max_backlog: u64,
    /// `net.ipv4.udp_mem` (min, pressure, max), pages.
    pub udp_mem_pages: [u64; 3],
}

/// Rounds up to a multiple of [`PAGE_BYTES`], saturating.
pub fn round_up_page(bytes: u64) -> u64 {
    bytes.div_ceil(PAGE_BYTES).saturating_mul(PAGE_BYTES)
}

/// Bytes one participant's media socket queues during `burst_ms`.
pub fn media_socket_bytes(burst_ms: u64) -> u64 {
    PACKETS_PER_S
        .saturating_mul(burst_ms)
        .saturating_mul(RX_TRUESIZE_BYTES)
        / 1_000
}

/// Bytes the RAS socket queues if every guardian's RRQ arrives at once.
/// Also what the gatekeeper should ask for with `SO_RCVBUF`.
pub fn ras_storm_bytes(guardians: u64) -> u64 {
    guardians.saturating_mul(RX_TRUESIZE_BYTES)
}

impl Sizing {
    /// The sizes for these inputs (saturating: no input overflows).
    pub fn plan(&self) -> BufferPlan {
        let media = media_socket_bytes(self.media_burst_ms);
        let ras = round_up_page(ras_storm_bytes(self.guardians));
        let media_default = KERNEL_SOCKET_DEFAULT_BYTES.max(round_up_page(media));
        let rmem_default = if self.ras_in_rmem_default {
            media_default.max(ras)
        } else {
            media_default
        };
        let rmem_max = rmem_default.max(ras);
        let backlog = self
            .guardians
            .saturating_mul(PACKETS_PER_S)
            .saturating_mul(self.backlog_burst_ms)
            / 1_000;
        let udp_bytes = self
            .guardians
            .saturating_mul(media)
            .saturating_add(ras_storm_bytes(self.guardians));
        let pressure = udp_bytes.div_ceil(PAGE_BYTES);
        BufferPlan {
            rmem_default,
            rmem_max,
            wmem_max: rmem_max,
            udp_rmem_min: round_up_page(media).max(PAGE_BYTES),
            netdev_max_backlog: backlog.max(KERNEL_BACKLOG_DEFAULT),
            udp_mem_pages: [pressure.div_ceil(2), pressure, pressure.saturating_mul(2)],
        }
    }
}

impl BufferPlan {
    /// The planned value of `key` as sysctl fields, if the key is sized.
    pub fn value_for(&self, key: &str) -> Option<Vec<u64>> {
        let one = |v: u64| Some(vec![v]);
        match key {
            "net.core.rmem_default" => one(self.rmem_default),
            "net.core.rmem_max" => one(self.rmem_max),
            "net.core.wmem_max" => one(self.wmem_max),
            "net.ipv4.udp_rmem_min" => one(self.udp_rmem_min),
            "net.core.netdev_max_backlog" => one(self.netdev_max_backlog),
            "net.ipv4.udp_mem" => Some(self.udp_mem_pages.to_vec()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizing(guardians: u64, media_burst_ms: u64, ras_in_rmem_default: bool) -> Sizing {
        Sizing {
            guardians,
            media_burst_ms,
            backlog_burst_ms: 40,
            ras_in_rmem_default,
        }
    }

    #[test]
    fn truesize_is_the_documented_sum() {
        assert_eq!(RX_TRUESIZE_BYTES, 2624);
    }

    #[test]
    fn media_socket_holds_the_burst() {
        // 50 packets/s x 0.2 s x 2624 B.
        assert_eq!(media_socket_bytes(200), 26_240);
        assert_eq!(media_socket_bytes(1_000), 131_200);
    }

    #[test]
    fn small_default_keeps_the_kernel_default_and_sizes_the_max() {
        let plan = sizing(2_000, 200, false).plan();
        assert_eq!(plan.rmem_default, KERNEL_SOCKET_DEFAULT_BYTES);
        assert_eq!(plan.rmem_max, 5_251_072);
        assert_eq!(plan.wmem_max, plan.rmem_max);
        assert_eq!(plan.udp_rmem_min, 28_672);
        assert_eq!(plan.netdev_max_backlog, 4_000);
        assert_eq!(plan.udp_mem_pages, [7_047, 14_094, 28_188]);
    }

    #[test]
    fn ras_in_default_raises_the_default() {
        let plan = sizing(2_000, 500, true).plan();
        assert_eq!(plan.rmem_default, 5_251_072);
        assert_eq!(plan.rmem_max, plan.rmem_default);
    }

    #[test]
    fn sizes_grow_with_guardians_and_never_drop_below_kernel_defaults() {
        let small = sizing(1, 200, true).plan();
        assert_eq!(small.rmem_default, KERNEL_SOCKET_DEFAULT_BYTES);
        assert_eq!(small.netdev_max_backlog, KERNEL_BACKLOG_DEFAULT);
        let big = sizing(20_000, 200, true).plan();
        assert!(big.rmem_max > sizing(2_000, 200, true).plan().rmem_max);
    }

    #[test]
    fn absurd_inputs_saturate_instead_of_overflowing() {
        let plan = Sizing {
            guardians: u64::MAX,
            media_burst_ms: u64::MAX,
            backlog_burst_ms: u64::MAX,
            ras_in_rmem_default: true,
        }
        .plan();
        assert!(plan.rmem_max > 0);
        assert!(plan.udp_mem_pages[2] >= plan.udp_mem_pages[1]);
    }

    #[test]
    fn only_sized_keys_have_a_plan_value() {
        let plan = sizing(2_000, 200, false).plan();
        assert_eq!(plan.value_for("net.core.rmem_max"), Some(vec![5_251_072]));
        assert_eq!(plan.value_for("vm.swappiness"), None);
    }
}
