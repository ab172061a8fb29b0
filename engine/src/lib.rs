//! The media plane: the IO shell around `media_core`.
pub use media_core as core;
