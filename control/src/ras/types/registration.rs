//! Registration and unregistration: RRQ, RCF, RRJ, URQ, UCF, URJ
//! (H.225.0 7.9, 7.10). The lightweight keep-alive RRQ is an RRQ with
//! `keepAlive` TRUE.

use rasn::prelude::*;

use super::{
    AliasAddress, AlternateGk, ClearToken, CryptoH323Token, EndpointType, Icv,
    NonStandardParameter, Opaque, ProtocolIdentifier, SecurityErrors, SecurityErrors2,
    TransportAddress, VendorIdentifier,
};

/// `RegistrationRejectReason`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum RegistrationRejectReason {
    DiscoveryRequired(()),
    InvalidRevision(()),
    InvalidCallSignalAddress(()),
    InvalidRasAddress(()),
    DuplicateAlias(SequenceOf<AliasAddress>),
    InvalidTerminalType(()),
    UndefinedReason(()),
    TransportNotSupported(()),
    #[rasn(extension_addition)]
    TransportQosNotSupported(()),
    #[rasn(extension_addition)]
    ResourceUnavailable(()),
    #[rasn(extension_addition)]
    InvalidAlias(()),
    #[rasn(extension_addition)]
    SecurityDenial(()),
    #[rasn(extension_addition)]
    FullRegistrationRequired(()),
    #[rasn(extension_addition)]
    AdditiveRegistrationNotSupported(()),
    #[rasn(extension_addition)]
    InvalidTerminalAliases(Opaque),
    #[rasn(extension_addition)]
    GenericDataReason(()),
    #[rasn(extension_addition)]
    NeededFeatureNotSupported(()),
    #[rasn(extension_addition)]
    SecurityError(SecurityErrors),
    #[rasn(extension_addition)]
    RegisterWithAssignedGk(()),
}

impl Default for RegistrationRejectReason {
    fn default() -> Self {
        Self::UndefinedReason(())
    }
}

/// `UnregRequestReason`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum UnregRequestReason {
    ReregistrationRequired(()),
    TtlExpired(()),
    SecurityDenial(()),
    UndefinedReason(()),
    #[rasn(extension_addition)]
    Maintenance(()),
    #[rasn(extension_addition)]
    SecurityError(SecurityErrors2),
    #[rasn(extension_addition)]
    RegisterWithAssignedGk(()),
}

/// `UnregRejectReason`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum UnregRejectReason {
    NotCurrentlyRegistered(()),
    CallInProgress(()),
    UndefinedReason(()),
    #[rasn(extension_addition)]
    PermissionDenied(()),
    #[rasn(extension_addition)]
    SecurityDenial(()),
    #[rasn(extension_addition)]
    SecurityError(SecurityErrors2),
}

impl Default for UnregRejectReason {
    fn default() -> Self {
        Self::UndefinedReason(())
    }
}

/// `RegistrationRequest` (RRQ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct RegistrationRequest {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub protocol_identifier: ProtocolIdentifier,
    pub non_standard_data: Option<NonStandardParameter>,
    pub discovery_complete: bool,
    pub call_signal_address: SequenceOf<TransportAddress>,
    pub ras_address: SequenceOf<TransportAddress>,
    pub terminal_type: EndpointType,
    pub terminal_alias: Option<SequenceOf<AliasAddress>>,
    #[rasn(size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    pub endpoint_vendor: VendorIdentifier,
    #[rasn(extension_addition)]
    pub alternate_endpoints: Option<Opaque>,
    #[rasn(extension_addition, value("1..=4294967295"))]
    pub time_to_live: Option<u32>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub keep_alive: Option<bool>,
    #[rasn(extension_addition, size("1..=128"))]
    pub endpoint_identifier: Option<BmpString>,
    #[rasn(extension_addition)]
    pub will_supply_uuies: Option<bool>,
    #[rasn(extension_addition)]
    pub maintain_connection: Option<bool>,
    #[rasn(extension_addition)]
    pub alternate_transport_addresses: Option<Opaque>,
    #[rasn(extension_addition)]
    pub additive_registration: Option<()>,
    #[rasn(extension_addition)]
    pub terminal_alias_pattern: Option<Opaque>,
    #[rasn(extension_addition)]
    pub supports_alt_gk: Option<()>,
    #[rasn(extension_addition)]
    pub usage_reporting_capability: Option<Opaque>,
    #[rasn(extension_addition)]
    pub multiple_calls: Option<bool>,
    #[rasn(extension_addition)]
    pub supported_h248_packages: Option<Opaque>,
    #[rasn(extension_addition)]
    pub call_credit_capability: Option<Opaque>,
    #[rasn(extension_addition)]
    pub capacity_reporting_capability: Option<Opaque>,
    #[rasn(extension_addition)]
    pub capacity: Option<Opaque>,
    #[rasn(extension_addition)]
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub restart: Option<()>,
    #[rasn(extension_addition)]
    pub supports_acf_sequences: Option<()>,
    #[rasn(extension_addition)]
    pub supports_assigned_gk: Option<bool>,
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
    #[rasn(extension_addition)]
    pub transport_qos: Option<Opaque>,
    #[rasn(extension_addition)]
    pub language: Option<Opaque>,
}

/// `RegistrationConfirm` (RCF).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct RegistrationConfirm {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub protocol_identifier: ProtocolIdentifier,
    pub non_standard_data: Option<NonStandardParameter>,
    pub call_signal_address: SequenceOf<TransportAddress>,
    pub terminal_alias: Option<SequenceOf<AliasAddress>>,
    #[rasn(size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    #[rasn(size("1..=128"))]
    pub endpoint_identifier: BmpString,
    #[rasn(extension_addition)]
    pub alternate_gatekeeper: Option<SequenceOf<AlternateGk>>,
    #[rasn(extension_addition, value("1..=4294967295"))]
    pub time_to_live: Option<u32>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub will_respond_to_irr: Option<bool>,
    #[rasn(extension_addition)]
    pub pre_granted_arq: Option<Opaque>,
    #[rasn(extension_addition)]
    pub maintain_connection: Option<bool>,
    #[rasn(extension_addition)]
    pub service_control: Option<Opaque>,
    #[rasn(extension_addition)]
    pub supports_additive_registration: Option<()>,
    #[rasn(extension_addition)]
    pub terminal_alias_pattern: Option<Opaque>,
    #[rasn(extension_addition)]
    pub supported_prefixes: Option<Opaque>,
    #[rasn(extension_addition)]
    pub usage_spec: Option<Opaque>,
    #[rasn(extension_addition)]
    pub feature_server_alias: Option<Opaque>,
    #[rasn(extension_addition)]
    pub capacity_reporting_spec: Option<Opaque>,
    #[rasn(extension_addition)]
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
    #[rasn(extension_addition)]
    pub rehoming_model: Option<Opaque>,
    #[rasn(extension_addition)]
    pub transport_qos: Option<Opaque>,
}

/// `RegistrationReject` (RRJ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct RegistrationReject {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub protocol_identifier: ProtocolIdentifier,
    pub non_standard_data: Option<NonStandardParameter>,
    pub reject_reason: RegistrationRejectReason,
    #[rasn(size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
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
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
}

/// `UnregistrationRequest` (URQ), sent by endpoints or by the gatekeeper.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct UnregistrationRequest {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub call_signal_address: SequenceOf<TransportAddress>,
    pub endpoint_alias: Option<SequenceOf<AliasAddress>>,
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(size("1..=128"))]
    pub endpoint_identifier: Option<BmpString>,
    #[rasn(extension_addition)]
    pub alternate_endpoints: Option<Opaque>,
    #[rasn(extension_addition, size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub reason: Option<UnregRequestReason>,
    #[rasn(extension_addition)]
    pub endpoint_alias_pattern: Option<Opaque>,
    #[rasn(extension_addition)]
    pub supported_prefixes: Option<Opaque>,
    #[rasn(extension_addition)]
    pub alternate_gatekeeper: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
}

/// `UnregistrationConfirm` (UCF).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct UnregistrationConfirm {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
}

/// `UnregistrationReject` (URJ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct UnregistrationReject {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub reject_reason: UnregRejectReason,
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(extension_addition)]
    pub alt_gk_info: Option<Opaque>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
}
