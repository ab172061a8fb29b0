//! Per-source rate limiting: a token bucket per source IP address, in a
//! bounded table. Sources beyond the table's bound share one overflow bucket,
//! so a flood from many (spoofed) addresses cannot evict or lock out the
//! sources already tracked. Sans-IO: time is an argument.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::gatekeeper::UnixMillis;

/// Rate-limit settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained datagrams per second per source.
    pub per_source_per_s: u32,
    /// Burst size per source.
    pub burst: u32,
    /// Sources tracked individually.
    pub sources_max: usize,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_source_per_s: 50,
            burst: 100,
            sources_max: 65_536,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Tokens × 1000, so refills need no floating point.
    milli_tokens: u64,
    last: UnixMillis,
}

/// The limiter.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: HashMap<IpAddr, Bucket>,
    overflow: Bucket,
}

impl RateLimiter {
    /// A limiter with these settings.
    #[must_use]
    pub fn new(limit: RateLimit) -> Self {
        let full = Bucket {
            milli_tokens: u64::from(limit.burst) * 1000,
            last: UnixMillis(0),
        };
        Self {
            limit,
            buckets: HashMap::new(),
            overflow: full,
        }
    }

    /// Whether a datagram from `source` may be processed now.
    pub fn allow(&mut self, source: IpAddr, now: UnixMillis) -> bool {
        let limit = self.limit;
        let full = u64::from(limit.burst) * 1000;
        if !self.buckets.contains_key(&source) && self.buckets.len() >= limit.sources_max {
            // Forget sources whose buckets have refilled: they are idle.
            self.buckets.retain(|_, b| refilled(b, now, limit) < full);
        }
        let bucket = if self.buckets.len() < limit.sources_max || self.buckets.contains_key(&source)
        {
            self.buckets.entry(source).or_insert(Bucket {
                milli_tokens: full,
                last: now,
            })
        } else {
            &mut self.overflow
        };
        bucket.milli_tokens = refilled(bucket, now, limit);
        bucket.last = now;
        if bucket.milli_tokens >= 1000 {
            bucket.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }
}

fn refilled(b: &Bucket, now: UnixMillis, limit: RateLimit) -> u64 {
    let elapsed_ms = now.0.saturating_sub(b.last.0);
    let added = elapsed_ms.saturating_mul(u64::from(limit.per_source_per_s));
    b.milli_tokens
        .saturating_add(added)
        .min(u64::from(limit.burst) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_sustained_rate_per_source() {
        let mut r = RateLimiter::new(RateLimit {
            per_source_per_s: 10,
            burst: 5,
            sources_max: 2,
        });
        let a = IpAddr::from([10, 0, 0, 1]);
        let t = UnixMillis(1_000_000);
        assert_eq!((0..10).filter(|_| r.allow(a, t)).count(), 5);
        // 100 ms at 10/s refills one token.
        assert!(r.allow(a, UnixMillis(t.0 + 100)));
        assert!(!r.allow(a, UnixMillis(t.0 + 100)));
        // Another source is unaffected.
        assert!(r.allow(IpAddr::from([10, 0, 0, 2]), t));
        // Beyond the table, sources share the overflow bucket.
        let flood: usize = (3..=20)
            .filter(|n| r.allow(IpAddr::from([10, 0, 0, *n]), t))
            .count();
        assert_eq!(flood, 5);
    }
}
