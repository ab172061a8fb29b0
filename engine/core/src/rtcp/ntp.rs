//! NTP timestamp helpers and round-trip time from a report block's LSR and
//! DLSR (RFC 3550 6.4.1). The caller supplies wall-clock time.

use core::time::Duration;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const NTP_UNIX_OFFSET_S: u64 = 2_208_988_800;

/// The middle 32 bits of a 64-bit NTP timestamp (16.16 fixed point seconds),
/// the form LSR uses.
pub fn ntp_middle32(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// A 64-bit NTP timestamp for a wall-clock time given as time since the Unix
/// epoch. Seconds wrap modulo 2^32 as NTP eras do.
pub fn ntp_from_unix(since_unix_epoch: Duration) -> u64 {
    let secs = since_unix_epoch.as_secs().wrapping_add(NTP_UNIX_OFFSET_S) & 0xffff_ffff;
    // Fraction in 1/2^32 s: nanos < 10^9 so nanos * 2^32 fits in u64.
    let frac = (u64::from(since_unix_epoch.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// A 16.16 fixed-point count of 1/65536 s (LSR/DLSR/RTT units) as a Duration.
pub fn duration_from_ntp_short(units: u32) -> Duration {
    // units < 2^32, so units * 10^9 < 2^62 fits.
    Duration::from_nanos((u64::from(units) * 1_000_000_000) >> 16)
}

/// A Duration in 1/65536 s units, saturating at u32::MAX (about 18 hours).
pub fn dlsr_from_duration(delay: Duration) -> u32 {
    let units = (delay.as_nanos() << 16) / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// Round-trip time from a report block: `now` (middle 32 bits of the NTP time
/// the block arrived) minus LSR minus DLSR. `None` when the block names no SR
/// (LSR 0) or the result would be negative, which clock steps can cause.
/// `now` more than 2^31 units (about 9 hours) past LSR reads as negative.
pub fn rtt_from_report(now_ntp_middle32: u32, lsr: u32, dlsr: u32) -> Option<Duration> {
    if lsr == 0 {
        return None;
    }
    let since_sr = now_ntp_middle32.wrapping_sub(lsr);
    if (since_sr as i32) < 0 {
        return None;
    }
    let rtt = since_sr.checked_sub(dlsr)?;
    Some(duration_from_ntp_short(rtt))
}
