//! rtcp (in progress)
