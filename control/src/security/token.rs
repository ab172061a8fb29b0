//! The Ed25519 signed-admission token (docs/security.md has the full layout).
//!
//! `cryptoTokens` holds exactly one `CryptoH323Token.nestedcryptoToken` whose
//! `CryptoToken` is `cryptoSignedToken { tokenOID 1.3.101.112, token }`, and
//! `token` is `SIGNED{EncodedGeneralToken}`: `toBeSigned` is the open-type
//! (length-prefixed aligned PER) encoding of a `ClearToken { tokenOID,
//! timeStamp, random, generalID }`, `algorithmOID` 1.3.101.112, empty
//! `paramS`, and a 512-bit `signature`.
//!
//! The signature covers the whole datagram as sent with the 64 signature
//! octets zeroed, so it does not depend on the sender's ASN.1 version.

use std::borrow::Cow;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rasn::types::{Any, BitString, ObjectIdentifier};

use crate::ras::types::{
    ClearToken, CryptoH323Token, CryptoSignedToken, CryptoToken, Params, Signed,
};
use crate::ras::{self, bmp, bmp_to_string, RasMessage};

/// id-Ed25519 (RFC 8410) arcs: 1.3.101.112.
pub const ED25519_ARCS: [u32; 4] = [1, 3, 101, 112];
/// Length of an Ed25519 signature in octets (512 bits).
pub const SIGNATURE_BYTES: usize = 64;
/// The largest `random` value allowed (2^31 − 1).
pub const RANDOM_MAX: u32 = (1 << 31) - 1;
/// The longest `generalID` (a `BMPString (SIZE (1..128))`).
pub const GENERAL_ID_CHARS_MAX: usize = 128;

/// The id-Ed25519 object identifier.
#[must_use]
pub fn ed25519_oid() -> ObjectIdentifier {
    ObjectIdentifier::new_unchecked(Cow::Borrowed(&ED25519_ARCS))
}

/// Errors of building or checking a signed token.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The message type has no `cryptoTokens` (e.g. an opaque extension).
    #[error("message type cannot carry cryptoTokens")]
    NotSignable,
    /// No Ed25519 signed token in `cryptoTokens`.
    #[error("no Ed25519 signed token")]
    Missing,
    /// More than one crypto token.
    #[error("{0} crypto tokens where exactly one is allowed")]
    NotExactlyOne(usize),
    /// tokenOID or algorithmOID is not id-Ed25519.
    #[error("token or algorithm OID is not id-Ed25519")]
    WrongOid,
    /// `toBeSigned` is not a `ClearToken`.
    #[error("toBeSigned is not a valid ClearToken: {0}")]
    MalformedClearToken(String),
    /// A required `ClearToken` component is absent.
    #[error("ClearToken lacks {0}")]
    MissingClaim(&'static str),
    /// `random` is outside 1..2^31−1.
    #[error("random outside 1..2^31-1")]
    RandomOutOfRange,
    /// The signature is not 512 bits.
    #[error("signature is {0} bits, not 512")]
    BadSignatureLength(usize),
    /// The signature octets occur in the datagram other than exactly once.
    #[error("signature octets occur {0} times in the datagram, not once")]
    SignatureNotLocated(usize),
    /// The signature does not verify with the guardian's key.
    #[error("signature does not verify")]
    BadSignature,
    /// The claims cannot be encoded (e.g. an empty or too long generalID).
    #[error("cannot encode token: {0}")]
    Encode(String),
}

/// What a signed token asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The guardian's terminal_id (`generalID`).
    pub general_id: String,
    /// `timeStamp`, UNIX seconds.
    pub timestamp_s: u32,
    /// `random`, 1..2^31−1, never reused within the replay window.
    pub random: u32,
}

/// A token read from a decoded message: its claims and signature octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedToken {
    /// The claims of `toBeSigned`.
    pub claims: Claims,
    /// The 64 signature octets.
    pub signature: [u8; SIGNATURE_BYTES],
}

fn crypto_token(
    claims: &Claims,
    signature: &[u8; SIGNATURE_BYTES],
) -> Result<CryptoH323Token, TokenError> {
    let chars = claims.general_id.chars().count();
    if chars == 0 || chars > GENERAL_ID_CHARS_MAX {
        return Err(TokenError::Encode(format!(
            "generalID of {chars} characters"
        )));
    }
    if claims.timestamp_s == 0 {
        return Err(TokenError::Encode("timeStamp 0".into()));
    }
    if claims.random == 0 || claims.random > RANDOM_MAX {
        return Err(TokenError::RandomOutOfRange);
    }
    let mut clear = ClearToken::new(ed25519_oid());
    clear.time_stamp = Some(claims.timestamp_s);
    clear.random = Some(claims.random.into());
    clear.general_id = Some(bmp(&claims.general_id));
    let to_be_signed = rasn::aper::encode(&clear).map_err(|e| TokenError::Encode(e.to_string()))?;
    Ok(CryptoH323Token::NestedCryptoToken(
        CryptoToken::CryptoSignedToken(CryptoSignedToken {
            token_oid: ed25519_oid(),
            token: Signed {
                to_be_signed: Any::new(to_be_signed),
                algorithm_oid: ed25519_oid(),
                param_s: Params::default(),
                signature: BitString::from_slice(signature),
            },
        }),
    ))
}

/// Signs `message` in place and returns the datagram to send: encode with 64
/// zero signature octets, sign exactly those bytes, encode again with the
/// real signature (same length, same layout).
pub fn sign(
    message: &mut RasMessage,
    key: &SigningKey,
    claims: &Claims,
) -> Result<Vec<u8>, TokenError> {
    let slot = message.crypto_tokens_mut().ok_or(TokenError::NotSignable)?;
    *slot = Some(vec![crypto_token(claims, &[0; SIGNATURE_BYTES])?]);
    let unsigned = ras::encode(message).map_err(|e| TokenError::Encode(e.to_string()))?;
    let signature = key.sign(&unsigned).to_bytes();
    let slot = message.crypto_tokens_mut().ok_or(TokenError::NotSignable)?;
    *slot = Some(vec![crypto_token(claims, &signature)?]);
    let signed = ras::encode(message).map_err(|e| TokenError::Encode(e.to_string()))?;
    // Only the signature octets may differ between the two encodings.
    debug_assert_eq!(signed.len(), unsigned.len());
    Ok(signed)
}

/// Reads the signed token of a decoded message (no signature check yet).
pub fn extract(message: &RasMessage) -> Result<SignedToken, TokenError> {
    let tokens = message.crypto_tokens().ok_or(TokenError::NotSignable)?;
    let token = match tokens {
        [] => return Err(TokenError::Missing),
        [one] => one,
        many => return Err(TokenError::NotExactlyOne(many.len())),
    };
    let CryptoH323Token::NestedCryptoToken(CryptoToken::CryptoSignedToken(signed)) = token else {
        return Err(TokenError::Missing);
    };
    let oid = ed25519_oid();
    if signed.token_oid != oid || signed.token.algorithm_oid != oid {
        return Err(TokenError::WrongOid);
    }
    let bits = signed.token.signature.len();
    if bits != SIGNATURE_BYTES * 8 {
        return Err(TokenError::BadSignatureLength(bits));
    }
    let mut signature = [0u8; SIGNATURE_BYTES];
    signature.copy_from_slice(signed.token.signature.as_raw_slice());
    let clear: ClearToken = rasn::aper::decode(signed.token.to_be_signed.as_bytes())
        .map_err(|e| TokenError::MalformedClearToken(e.to_string()))?;
    if clear.token_oid != oid {
        return Err(TokenError::WrongOid);
    }
    let timestamp_s = clear
        .time_stamp
        .ok_or(TokenError::MissingClaim("timeStamp"))?;
    let random = clear.random.ok_or(TokenError::MissingClaim("random"))?;
    let random = u32::try_from(&random)
        .ok()
        .filter(|r| (1..=RANDOM_MAX).contains(r))
        .ok_or(TokenError::RandomOutOfRange)?;
    let general_id = clear
        .general_id
        .as_ref()
        .ok_or(TokenError::MissingClaim("generalID"))?;
    Ok(SignedToken {
        claims: Claims {
            general_id: bmp_to_string(general_id),
            timestamp_s,
            random,
        },
        signature,
    })
}

/// The bytes the signature covers: `datagram` with the token's 64 signature
/// octets zeroed. They must occur exactly once in the datagram.
pub fn signed_bytes(datagram: &[u8], token: &SignedToken) -> Result<Vec<u8>, TokenError> {
    let mut at = None;
    let mut count = 0usize;
    for (i, window) in datagram.windows(SIGNATURE_BYTES).enumerate() {
        if window == token.signature {
            count += 1;
            at = Some(i);
        }
    }
    let at = match (count, at) {
        (1, Some(at)) => at,
        _ => return Err(TokenError::SignatureNotLocated(count)),
    };
    let mut zeroed = datagram.to_vec();
    zeroed[at..at + SIGNATURE_BYTES].fill(0);
    Ok(zeroed)
}

/// Verifies the token's signature over `datagram`: the signature octets must
/// occur exactly once; they are zeroed and the result verified (strictly)
/// against `key`.
pub fn verify(datagram: &[u8], token: &SignedToken, key: &VerifyingKey) -> Result<(), TokenError> {
    let zeroed = signed_bytes(datagram, token)?;
    let signature = Signature::from_bytes(&token.signature);
    key.verify_strict(&zeroed, &signature)
        .map_err(|_| TokenError::BadSignature)
}

/// One signature to check in a batch.
#[derive(Debug, Clone)]
pub struct BatchItem {
    /// The signed bytes ([`signed_bytes`]).
    pub message: Vec<u8>,
    /// The signature.
    pub signature: [u8; SIGNATURE_BYTES],
    /// The signer's key.
    pub key: VerifyingKey,
}

/// Verifies several signatures at once (Ed25519 batch verification, about
/// twice as fast per signature for batches of a few dozen). `true` means all
/// are valid; on `false` at least one is not, and each must be checked alone.
#[must_use]
pub fn verify_batch(items: &[BatchItem]) -> bool {
    let messages: Vec<&[u8]> = items.iter().map(|i| i.message.as_slice()).collect();
    let signatures: Vec<Signature> = items
        .iter()
        .map(|i| Signature::from_bytes(&i.signature))
        .collect();
    let keys: Vec<VerifyingKey> = items.iter().map(|i| i.key).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}
