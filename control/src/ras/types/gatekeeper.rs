//! Gatekeeper discovery: GRQ, GCF, GRJ (H.225.0 7.8).

use rasn::prelude::*;

use super::{
    AliasAddress, ClearToken, CryptoH323Token, EndpointType, Icv, NonStandardParameter, Opaque,
    ProtocolIdentifier, QseriesOptions, SecurityErrors, TransportAddress,
};

/// `GatekeeperRejectReason`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum GatekeeperRejectReason {
    ResourceUnavailable(()),
    TerminalExcluded(()),
    InvalidRevision(()),
    UndefinedReason(()),
    #[rasn(extension_addition)]
    SecurityDenial(()),
    #[rasn(extension_addition)]
    GenericDataReason(()),
    #[rasn(extension_addition)]
    NeededFeatureNotSupported(()),
    #[rasn(extension_addition)]
    SecurityError(SecurityErrors),
}

impl Default for GatekeeperRejectReason {
    fn default() -> Self {
        Self::UndefinedReason(())
    }
}

/// `AlternateGK`: another gatekeeper a terminal may use (GCF, RCF).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct AlternateGk {
    pub ras_address: TransportAddress,
    #[rasn(size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    pub need_to_register: bool,
    #[rasn(value("0..=127"))]
    pub priority: u8,
}

impl AlternateGk {
    /// An entry; `priority` is clamped to 0..=127.
    #[must_use]
    pub fn new(
        ras_address: TransportAddress,
        gatekeeper_identifier: Option<BmpString>,
        need_to_register: bool,
        priority: u8,
    ) -> Self {
        Self {
            ras_address,
            gatekeeper_identifier,
            need_to_register,
            priority: priority.min(127),
        }
    }
}

/// `GatekeeperRequest` (GRQ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct GatekeeperRequest {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub protocol_identifier: ProtocolIdentifier,
    pub non_standard_data: Option<NonStandardParameter>,
    pub ras_address: TransportAddress,
    pub endpoint_type: EndpointType,
    #[rasn(size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    pub call_services: Option<QseriesOptions>,
    pub endpoint_alias: Option<SequenceOf<AliasAddress>>,
    #[rasn(extension_addition)]
    pub alternate_endpoints: Option<Opaque>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub authentication_capability: Option<Opaque>,
    #[rasn(extension_addition)]
    pub algorithm_oids: Option<SequenceOf<ObjectIdentifier>>,
    #[rasn(extension_addition)]
    pub integrity: Option<Opaque>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub supports_alt_gk: Option<()>,
    #[rasn(extension_addition)]
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub supports_assigned_gk: Option<bool>,
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
}

/// `GatekeeperConfirm` (GCF).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct GatekeeperConfirm {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub protocol_identifier: ProtocolIdentifier,
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    pub ras_address: TransportAddress,
    #[rasn(extension_addition)]
    pub alternate_gatekeeper: Option<SequenceOf<AlternateGk>>,
    #[rasn(extension_addition)]
    pub authentication_mode: Option<Opaque>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub algorithm_oid: Option<ObjectIdentifier>,
    #[rasn(extension_addition)]
    pub integrity: Option<Opaque>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
    #[rasn(extension_addition)]
    pub rehoming_model: Option<Opaque>,
}

/// `GatekeeperReject` (GRJ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct GatekeeperReject {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub protocol_identifier: ProtocolIdentifier,
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    pub reject_reason: GatekeeperRejectReason,
    #[rasn(extension_addition)]
    pub alt_gk_info: Option<Opaque>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
}
