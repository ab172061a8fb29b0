//! Load generator and shared benchmark fixtures.

pub mod room_fixture;
