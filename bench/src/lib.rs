//! Load generator and shared benchmark fixtures.
