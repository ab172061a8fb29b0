//! Load generator and shared benchmark fixtures.

pub mod impair;
pub mod load;
pub mod marker;
pub mod report;
pub mod room_fixture;
pub mod wav;
