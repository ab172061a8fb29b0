//! A histogram whose buckets are copied in from the engine's own, because
//! prometheus-client's `Histogram` only takes single observations.

use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

use super::snapshot::HistogramSnapshot;

/// A histogram metric set from a [`HistogramSnapshot`]. Clones share state.
#[derive(Debug, Clone, Default)]
pub struct SnapshotHistogram {
    inner: Arc<Mutex<HistogramSnapshot>>,
}

impl SnapshotHistogram {
    /// Replaces the buckets. A malformed snapshot (counts not one longer
    /// than bounds) is ignored, keeping the previous value.
    pub fn set(&self, snapshot: &HistogramSnapshot) {
        if snapshot.counts.len() != snapshot.bounds.len() + 1 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.clone_from(snapshot);
    }
}

impl TypedMetric for SnapshotHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for SnapshotHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        // prometheus-client writes an upper bound of f64::MAX as `+Inf`.
        let mut buckets: Vec<(f64, u64)> = Vec::with_capacity(inner.counts.len().max(1));
        for (i, count) in inner.counts.iter().enumerate() {
            buckets.push((inner.bounds.get(i).copied().unwrap_or(f64::MAX), *count));
        }
        if buckets.is_empty() {
            buckets.push((f64::MAX, 0));
        }
        let count = inner.counts.iter().sum();
        encoder.encode_histogram::<NoLabelSet>(inner.sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}
