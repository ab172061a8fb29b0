//! Controller authentication: the engine sends 32 random bytes in its
//! `hello` reply; the controller signs them with its Ed25519 key (the same
//! key file format as `engine keygen`), and the engine accepts the signature
//! only from a configured public key.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::security::keys::{parse_hex, to_hex};

/// Domain separation: a media-link signature can never pass for a RAS token.
const CONTEXT: &[u8] = b"media-link v1 auth\0";

/// The bytes a controller signs.
#[must_use]
pub fn challenge_message(challenge: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CONTEXT.len() + 32);
    m.extend_from_slice(CONTEXT);
    m.extend_from_slice(challenge);
    m
}

/// `(public_key_hex, signature_hex)` answering `challenge`.
#[must_use]
pub fn respond(key: &SigningKey, challenge: &[u8; 32]) -> (String, String) {
    let signature = key.sign(&challenge_message(challenge));
    (
        to_hex(key.verifying_key().as_bytes()),
        to_hex(&signature.to_bytes()),
    )
}

/// Checks a response against the allowed keys; `Err` says why, for the log.
pub fn verify(
    allowed: &[VerifyingKey],
    challenge: &[u8; 32],
    public_key_hex: &str,
    signature_hex: &str,
) -> Result<(), String> {
    let public =
        parse_hex::<32>(public_key_hex).ok_or("public_key_hex is not 64 hex characters")?;
    let key = VerifyingKey::from_bytes(&public).map_err(|_| "public key is not a valid point")?;
    if !allowed.contains(&key) {
        return Err(format!("controller key {public_key_hex} is not allowed"));
    }
    let sig = parse_hex::<64>(signature_hex).ok_or("signature_hex is not 128 hex characters")?;
    key.verify(&challenge_message(challenge), &Signature::from_bytes(&sig))
        .map_err(|_| "signature does not verify".to_owned())
}

/// Parses a public key given as 64 hex characters (`--control-allow-key`).
pub fn parse_public_key(hex: &str) -> Result<VerifyingKey, String> {
    let bytes = parse_hex::<32>(hex.trim()).ok_or("expected 64 hex characters")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_owned())
}
