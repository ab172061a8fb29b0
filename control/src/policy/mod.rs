//! Policy gates, applied in order to every signed request: authenticity,
//! anti-sybil, fairness, capacity, then the codec whitelist where codecs are
//! declared. Each decision becomes a structured [`Decision`] event for the
//! audit log. The arithmetic of the fairness and capacity gates lives here so
//! it can be tested on its own; the gatekeeper applies it.

pub mod pii;

/// The policy gates, in the order they are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// The Ed25519 token: signature, timestamp window, replay.
    Authenticity,
    /// The terminal_id is registered, has one registration, and no other
    /// terminal uses its transport address.
    AntiSybil,
    /// The guardian's bandwidth quota.
    Fairness,
    /// Per-conference distinct endpoints and global limits.
    Capacity,
    /// Codecs declared by the endpoint are whitelisted.
    CodecWhitelist,
}

/// The outcome of one gate for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Which gate.
    pub gate: Gate,
    /// Whether the request passed.
    pub passed: bool,
    /// Why (a short machine-friendly phrase, free of personal data).
    pub reason: String,
}

impl Decision {
    /// A pass.
    #[must_use]
    pub fn pass(gate: Gate, reason: impl Into<String>) -> Self {
        Self {
            gate,
            passed: true,
            reason: reason.into(),
        }
    }

    /// A rejection.
    #[must_use]
    pub fn reject(gate: Gate, reason: impl Into<String>) -> Self {
        Self {
            gate,
            passed: false,
            reason: reason.into(),
        }
    }
}

/// RAS `bandWidth` units are 100 bit/s.
pub const BANDWIDTH_UNIT_BPS: u64 = 100;

/// What the fairness gate grants an ARQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// The full request, in RAS units.
    Full(u32),
    /// Reduced to what is left of the quota, in RAS units.
    Reduced(u32),
    /// Nothing left (below the minimum grant).
    Denied,
}

/// The fairness gate for an ARQ: grants `requested` units if they fit in the
/// quota, else what is left of it when that is at least `minimum` units,
/// else nothing. (See docs/ras.md: over-quota ARQs are granted reduced.)
#[must_use]
pub fn fairness_grant(quota_bps: u64, used_units: u64, requested: u32, minimum: u32) -> Grant {
    let quota_units = quota_bps / BANDWIDTH_UNIT_BPS;
    let left = quota_units.saturating_sub(used_units);
    if u64::from(requested) <= left {
        Grant::Full(requested)
    } else if left >= u64::from(minimum.max(1)) {
        Grant::Reduced(u32::try_from(left).unwrap_or(u32::MAX))
    } else {
        Grant::Denied
    }
}

/// The fairness gate for a BRQ changing a call from `current` to `requested`
/// units: `Ok(())` if it fits, else `Err(allowed)` with the most that fits
/// (BRJ's `allowedBandWidth`).
pub fn fairness_change(
    quota_bps: u64,
    used_units: u64,
    current: u32,
    requested: u32,
) -> Result<(), u32> {
    let quota_units = quota_bps / BANDWIDTH_UNIT_BPS;
    let others = used_units.saturating_sub(u64::from(current));
    let left = quota_units.saturating_sub(others);
    if u64::from(requested) <= left {
        Ok(())
    } else {
        Err(u32::try_from(left).unwrap_or(u32::MAX))
    }
}

/// The default codec whitelist of the deployment documents.
pub const CODECS_DEFAULT: [&str; 4] = ["opus", "g711", "g729", "vp8"];

/// The codec whitelist gate: every declared codec must be listed (names are
/// compared case-insensitively, ignoring `.` and `-`, so "G.711" = "g711").
/// RAS messages do not declare codecs (H.245 does), so the gatekeeper has
/// nothing to apply this to yet; the engine calls it when codecs are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecWhitelist {
    allowed: Vec<String>,
}

impl Default for CodecWhitelist {
    fn default() -> Self {
        Self::new(CODECS_DEFAULT)
    }
}

fn codec_key(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '.' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

impl CodecWhitelist {
    /// A whitelist of these codec names.
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        Self {
            allowed: names.into_iter().map(|n| codec_key(n.as_ref())).collect(),
        }
    }

    /// The gate's decision for a set of declared codecs.
    pub fn check<S: AsRef<str>>(&self, declared: impl IntoIterator<Item = S>) -> Decision {
        for name in declared {
            let key = codec_key(name.as_ref());
            if !self.allowed.contains(&key) {
                return Decision::reject(
                    Gate::CodecWhitelist,
                    format!("codec {key} not whitelisted"),
                );
            }
        }
        Decision::pass(Gate::CodecWhitelist, "codecs whitelisted")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fairness_grants_full_reduced_or_nothing() {
        // 2.5 Mbit/s quota = 25,000 units.
        assert_eq!(fairness_grant(2_500_000, 0, 640, 64), Grant::Full(640));
        assert_eq!(
            fairness_grant(2_500_000, 24_800, 640, 64),
            Grant::Reduced(200)
        );
        assert_eq!(fairness_grant(2_500_000, 24_990, 640, 64), Grant::Denied);
        assert_eq!(fairness_change(2_500_000, 25_000, 640, 640), Ok(()));
        assert_eq!(fairness_change(2_500_000, 25_000, 640, 641), Err(640));
    }

    #[test]
    fn codec_whitelist_normalises_names() {
        let w = CodecWhitelist::default();
        assert!(w.check(["Opus", "G.711", "G-729", "VP8"]).passed);
        assert!(!w.check(["opus", "h264"]).passed);
    }
}
