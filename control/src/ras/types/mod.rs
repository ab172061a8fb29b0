//! The RAS subset of H323-MESSAGES and H235-SECURITY-MESSAGES as rasn types.
//!
//! Every type has `#[rasn(automatic_tags)]` (the modules use AUTOMATIC TAGS),
//! every extension addition is declared (as `Opaque` when this crate does not
//! interpret it) and is `Option`, even those the standard makes mandatory:
//! older terminals omit them, and the state machine checks their presence.

mod admission;
mod common;
mod gatekeeper;
mod h235;
mod info;
mod location;
mod message;
mod opaque;
mod registration;

pub use admission::*;
pub use common::*;
pub use gatekeeper::*;
pub use h235::*;
pub use info::*;
pub use location::*;
pub use message::*;
pub use opaque::Opaque;
pub use registration::*;
