//! mixer (in progress)
