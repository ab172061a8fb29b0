//! The H235-SECURITY-MESSAGES types RAS messages carry (H.235.0 09/2005):
//! `ClearToken`, `CryptoToken`, and H.225.0's `CryptoH323Token`, with the
//! parameterised `SIGNED{}`, `ENCRYPTED{}` and `HASHED{}` expanded to plain
//! SEQUENCEs whose `toBeSigned` open type is kept as encoded bytes (`Any`).

use rasn::prelude::*;

use super::{AliasAddress, Opaque};

/// H.235's `NonStandardParameter` (an OID, unlike H.225.0's).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct H235NonStandardParameter {
    pub non_standard_identifier: ObjectIdentifier,
    pub data: OctetString,
}

/// `DHset`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct DhSet {
    #[rasn(size("0..=2048"))]
    pub halfkey: BitString,
    #[rasn(size("0..=2048"))]
    pub mod_size: BitString,
    #[rasn(size("0..=2048"))]
    pub generator: BitString,
}

/// `TypedCertificate`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct TypedCertificate {
    pub r#type: ObjectIdentifier,
    pub certificate: OctetString,
}

/// `ClearToken`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct ClearToken {
    pub token_oid: ObjectIdentifier,
    #[rasn(value("1..=4294967295"))]
    pub time_stamp: Option<u32>,
    #[rasn(size("1..=128"))]
    pub password: Option<BmpString>,
    pub dhkey: Option<DhSet>,
    #[rasn(size("8..=128"))]
    pub challenge: Option<OctetString>,
    pub random: Option<Integer>,
    pub certificate: Option<TypedCertificate>,
    #[rasn(size("1..=128"))]
    pub general_id: Option<BmpString>,
    pub non_standard: Option<H235NonStandardParameter>,
    #[rasn(extension_addition)]
    pub eckasdhkey: Option<Opaque>,
    #[rasn(extension_addition, size("1..=128"))]
    pub senders_id: Option<BmpString>,
    #[rasn(extension_addition)]
    pub h235_key: Option<Opaque>,
    #[rasn(extension_addition)]
    pub profile_info: Option<Opaque>,
}

impl ClearToken {
    /// A token with only its OID set.
    #[must_use]
    pub fn new(token_oid: ObjectIdentifier) -> Self {
        Self {
            token_oid,
            time_stamp: None,
            password: None,
            dhkey: None,
            challenge: None,
            random: None,
            certificate: None,
            general_id: None,
            non_standard: None,
            eckasdhkey: None,
            senders_id: None,
            h235_key: None,
            profile_info: None,
        }
    }
}

/// `Params`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct Params {
    pub ran_int: Option<Integer>,
    pub iv8: Option<FixedOctetString<8>>,
    #[rasn(extension_addition)]
    pub iv16: Option<FixedOctetString<16>>,
    #[rasn(extension_addition)]
    pub iv: Option<OctetString>,
    #[rasn(extension_addition)]
    pub clear_salt: Option<OctetString>,
}

/// `SIGNED{ToBeSigned}`; `to_be_signed` is the open type's encoded contents.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct Signed {
    pub to_be_signed: Any,
    pub algorithm_oid: ObjectIdentifier,
    pub param_s: Params,
    pub signature: BitString,
}

/// `ENCRYPTED{ToBeEncrypted}`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct Encrypted {
    pub algorithm_oid: ObjectIdentifier,
    pub param_s: Params,
    pub encrypted_data: OctetString,
}

/// `HASHED{ToBeHashed}`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct Hashed {
    pub algorithm_oid: ObjectIdentifier,
    pub param_s: Params,
    pub hash: BitString,
}

/// `CryptoToken.cryptoEncryptedToken`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct CryptoEncryptedToken {
    pub token_oid: ObjectIdentifier,
    pub token: Encrypted,
}

/// `CryptoToken.cryptoSignedToken`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct CryptoSignedToken {
    pub token_oid: ObjectIdentifier,
    pub token: Signed,
}

/// `CryptoToken.cryptoHashedToken`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct CryptoHashedToken {
    pub token_oid: ObjectIdentifier,
    pub hashed_vals: ClearToken,
    pub token: Hashed,
}

/// `CryptoToken`.
// Variants are decoded once per datagram and moved, never copied in bulk;
// boxing the large ones would add allocations for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum CryptoToken {
    CryptoEncryptedToken(CryptoEncryptedToken),
    CryptoSignedToken(CryptoSignedToken),
    CryptoHashedToken(CryptoHashedToken),
    CryptoPwdEncr(Encrypted),
}

/// `CryptoH323Token.cryptoEPPwdHash`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct CryptoEpPwdHash {
    pub alias: AliasAddress,
    #[rasn(value("1..=4294967295"))]
    pub time_stamp: u32,
    pub token: Hashed,
}

/// `CryptoH323Token.cryptoGKPwdHash`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct CryptoGkPwdHash {
    #[rasn(size("1..=128"))]
    pub gatekeeper_id: BmpString,
    #[rasn(value("1..=4294967295"))]
    pub time_stamp: u32,
    pub token: Hashed,
}

/// `CryptoH323Token` (H.225.0).
// Variants are decoded once per datagram and moved, never copied in bulk;
// boxing the large ones would add allocations for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum CryptoH323Token {
    CryptoEpPwdHash(CryptoEpPwdHash),
    CryptoGkPwdHash(CryptoGkPwdHash),
    CryptoEpPwdEncr(Encrypted),
    CryptoGkPwdEncr(Encrypted),
    CryptoEpCert(Signed),
    CryptoGkCert(Signed),
    CryptoFastStart(Signed),
    NestedCryptoToken(CryptoToken),
}
