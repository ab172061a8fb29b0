//! Turns what the guardians saw into the run's figures: admission times,
//! mouth-to-ear latency from markers, jitter, loss, late frames, call drops,
//! CPU and memory.

use std::time::Duration;

use super::guardian::{LoadGuardian, MarkerSent};
use super::runner::LoopOutcome;
use super::Admitted;

/// How long a marker is searched for after it was spoken.
const MARKER_SEARCH: Duration = Duration::from_millis(300);
/// A mix stream silent this long after warm-up counts as a dropped call.
pub const DROP_GAP: Duration = Duration::from_secs(1);

/// One guardian's view of its mix.
#[derive(Clone, Copy, Debug)]
pub struct GuardianFigures {
    /// Guardian index.
    pub guardian: usize,
    /// Room index.
    pub room: usize,
    /// RFC 3550 interarrival jitter at the end, ms.
    pub jitter_ms: f64,
    /// Packets lost, percent of expected.
    pub loss_pct: f64,
    /// Packets later than a 20 ms playout buffer allows, percent.
    pub late_pct: f64,
    /// Packets received.
    pub packets: u64,
    /// Packets lost (expected by sequence number, never received).
    pub lost: u64,
    /// Mouth-to-ear latency of the markers it heard, ms.
    pub mouth_to_ear: crate::report::Summary,
}

/// Everything measured by the generator side.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    /// Admission step latencies (GRQ, RRQ, ARQ), ms, one per guardian and step.
    pub admission_ms: Vec<f64>,
    /// Per step: GRQ, RRQ, ARQ samples in ms.
    pub admission_by_step_ms: [Vec<f64>; 3],
    /// Mouth-to-ear samples, ms.
    pub mouth_to_ear_ms: Vec<f64>,
    /// Markers spoken and heard by sampled listeners, and those missed.
    pub markers_expected: u64,
    /// Markers not found within the search window.
    pub markers_missed: u64,
    /// Per guardian.
    pub guardians: Vec<GuardianFigures>,
    /// Per second: mean jitter (ms) and loss (%) over guardians.
    pub per_second: Vec<(f64, f64)>,
    /// Calls whose mix stopped for more than [`DROP_GAP`] or never came.
    pub call_drops: u64,
    /// Guardians admitted.
    pub admitted: u64,
    /// Guardians that failed admission.
    pub admission_failures: u64,
    /// The generator fell behind its own schedule.
    pub generator_late_ticks: u64,
}

/// Computes the figures after a run.
pub fn figures(
    guardians: &[LoadGuardian],
    admissions: &[Admitted],
    admission_failures: u64,
    outcome: &LoopOutcome,
    measured: Duration,
) -> Figures {
    let mut f = Figures {
        admission_failures,
        generator_late_ticks: outcome.generator_late_ticks,
        ..Default::default()
    };
    for a in admissions {
        for (i, step) in [a.grq, a.rrq, a.arq].into_iter().enumerate() {
            if let Some(d) = step {
                f.admission_by_step_ms[i].push(ms(d));
                f.admission_ms.push(ms(d));
            }
        }
        if a.engine_rtp.is_some() {
            f.admitted += 1;
        }
    }

    let mut per_guardian_m2e: Vec<Vec<f64>> = vec![Vec::new(); guardians.len()];
    for marker in &outcome.markers {
        mouth_to_ear(guardians, marker, &mut f, &mut per_guardian_m2e);
    }

    let expected_packets = (measured.as_millis() / 20) as u64;
    for g in guardians.iter().filter(|g| g.engine_addr.is_some()) {
        let expected = g.rx.expected().max(1);
        let loss_pct = (g.rx.lost().max(0) as f64 / expected as f64 * 100.0).min(100.0);
        f.guardians.push(GuardianFigures {
            guardian: g.index,
            room: g.room,
            jitter_ms: g.rx.jitter_ms(),
            loss_pct,
            late_pct: g.rx.late as f64 / g.rx.packets.max(1) as f64 * 100.0,
            packets: g.rx.packets,
            lost: g.rx.lost().max(0) as u64,
            mouth_to_ear: crate::report::Summary::from_samples(&per_guardian_m2e[g.index]),
        });
        let silent_for_long = g.rx.longest_gap > DROP_GAP;
        let barely_heard = g.rx.packets < expected_packets / 2;
        if silent_for_long || barely_heard {
            f.call_drops += 1;
        }
    }
    f.per_second = per_second(guardians);
    f.mouth_to_ear_ms.sort_by(f64::total_cmp);
    f
}

/// Finds one marker in every sampled listener of its room except the talker.
fn mouth_to_ear(
    guardians: &[LoadGuardian],
    marker: &MarkerSent,
    f: &mut Figures,
    per: &mut [Vec<f64>],
) {
    let template = crate::marker::template();
    for g in guardians
        .iter()
        .filter(|g| g.room == marker.room && g.index != marker.guardian)
    {
        let Some(ear) = &g.ear else { continue };
        f.markers_expected += 1;
        match ear
            .recording
            .find_marker(marker.mouth, MARKER_SEARCH, &template)
        {
            Some(heard) => {
                let latency = ms(heard.saturating_sub(marker.mouth));
                f.mouth_to_ear_ms.push(latency);
                per[g.index].push(latency);
            }
            None => f.markers_missed += 1,
        }
    }
}

fn per_second(guardians: &[LoadGuardian]) -> Vec<(f64, f64)> {
    let seconds = guardians
        .iter()
        .map(|g| g.rx.per_second.len())
        .max()
        .unwrap_or(0);
    (0..seconds)
        .map(|s| {
            let mut jitter = 0.0;
            let mut received = 0u64;
            let mut n = 0usize;
            for g in guardians.iter().filter(|g| g.engine_addr.is_some()) {
                if let Some((j, packets)) = g.rx.per_second.get(s) {
                    jitter += j;
                    received += packets;
                    n += 1;
                }
            }
            let expected = n as f64 * 50.0;
            let loss = if expected > 0.0 {
                ((expected - received as f64) / expected * 100.0).max(0.0)
            } else {
                0.0
            };
            (if n > 0 { jitter / n as f64 } else { 0.0 }, loss)
        })
        .collect()
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// Mean of samples.
pub fn mean(samples: &[f64]) -> Option<f64> {
    (!samples.is_empty()).then(|| samples.iter().sum::<f64>() / samples.len() as f64)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&s, 0.5), Some(50.0));
        assert_eq!(percentile(&s, 0.95), Some(95.0));
        assert_eq!(percentile(&s, 0.99), Some(99.0));
        assert_eq!(percentile(&[7.0], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
    }
}
