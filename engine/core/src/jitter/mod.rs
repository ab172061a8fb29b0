//! jitter (in progress)
