//! Load generator and shared benchmark fixtures.

pub mod impair;
pub mod marker;
pub mod room_fixture;
pub mod wav;
