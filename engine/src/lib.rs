//! The media plane: the IO shell around [`media_core`], and the simulated
//! guardians used by the demo, the benchmarks and the tests.

pub use media_core as core;

pub mod sim;
