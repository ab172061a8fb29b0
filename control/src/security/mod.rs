//! Security: the Ed25519 signed-admission token, the replay window and key
//! files. See docs/security.md.

pub mod keys;
pub mod replay;
pub mod token;

pub use keys::{keygen, KeyPairFiles};
pub use replay::{ReplayError, ReplayWindow};
pub use token::{Claims, SignedToken, TokenError};
