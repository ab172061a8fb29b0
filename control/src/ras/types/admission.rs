//! Admission, bandwidth and disengage: ARQ, ACF, ARJ, BRQ, BCF, BRJ, DRQ,
//! DCF, DRJ (H.225.0 7.11–7.13). `bandWidth` is in units of 100 bit/s.

use rasn::prelude::*;

use super::{
    AliasAddress, CallIdentifier, CallLinkage, CallModel, CallType, ClearToken, CryptoH323Token,
    Guid, Icv, NonStandardParameter, Opaque, QseriesOptions, SecurityErrors2, TransportAddress,
    UuiesRequested,
};

/// `AdmissionRejectReason`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum AdmissionRejectReason {
    CalledPartyNotRegistered(()),
    InvalidPermission(()),
    RequestDenied(()),
    UndefinedReason(()),
    CallerNotRegistered(()),
    RouteCallToGatekeeper(()),
    InvalidEndpointIdentifier(()),
    ResourceUnavailable(()),
    #[rasn(extension_addition)]
    SecurityDenial(()),
    #[rasn(extension_addition)]
    QosControlNotSupported(()),
    #[rasn(extension_addition)]
    IncompleteAddress(()),
    #[rasn(extension_addition)]
    AliasesInconsistent(()),
    #[rasn(extension_addition)]
    RouteCallToScn(Opaque),
    #[rasn(extension_addition)]
    ExceedsCallCapacity(()),
    #[rasn(extension_addition)]
    CollectDestination(()),
    #[rasn(extension_addition)]
    CollectPin(()),
    #[rasn(extension_addition)]
    GenericDataReason(()),
    #[rasn(extension_addition)]
    NeededFeatureNotSupported(()),
    #[rasn(extension_addition)]
    SecurityError(SecurityErrors2),
    #[rasn(extension_addition)]
    SecurityDhMismatch(()),
    #[rasn(extension_addition)]
    NoRouteToDestination(()),
    #[rasn(extension_addition)]
    UnallocatedNumber(()),
    #[rasn(extension_addition)]
    RegisterWithAssignedGk(()),
}

impl Default for AdmissionRejectReason {
    fn default() -> Self {
        Self::UndefinedReason(())
    }
}

/// `BandRejectReason`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum BandRejectReason {
    NotBound(()),
    InvalidConferenceId(()),
    InvalidPermission(()),
    InsufficientResources(()),
    InvalidRevision(()),
    UndefinedReason(()),
    #[rasn(extension_addition)]
    SecurityDenial(()),
    #[rasn(extension_addition)]
    SecurityError(SecurityErrors2),
}

impl Default for BandRejectReason {
    fn default() -> Self {
        Self::UndefinedReason(())
    }
}

/// `DisengageReason`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum DisengageReason {
    ForcedDrop(()),
    NormalDrop(()),
    UndefinedReason(()),
}

impl Default for DisengageReason {
    fn default() -> Self {
        Self::NormalDrop(())
    }
}

/// `DisengageRejectReason`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum DisengageRejectReason {
    NotRegistered(()),
    RequestToDropOther(()),
    #[rasn(extension_addition)]
    SecurityDenial(()),
    #[rasn(extension_addition)]
    SecurityError(SecurityErrors2),
}

impl Default for DisengageRejectReason {
    fn default() -> Self {
        Self::NotRegistered(())
    }
}

/// `AdmissionRequest` (ARQ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct AdmissionRequest {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub call_type: CallType,
    pub call_model: Option<CallModel>,
    #[rasn(size("1..=128"))]
    pub endpoint_identifier: BmpString,
    pub destination_info: Option<SequenceOf<AliasAddress>>,
    pub dest_call_signal_address: Option<TransportAddress>,
    pub dest_extra_call_info: Option<SequenceOf<AliasAddress>>,
    pub src_info: SequenceOf<AliasAddress>,
    pub src_call_signal_address: Option<TransportAddress>,
    pub band_width: u32,
    pub call_reference_value: u16,
    pub non_standard_data: Option<NonStandardParameter>,
    pub call_services: Option<QseriesOptions>,
    pub conference_id: Guid,
    pub active_mc: bool,
    pub answer_call: bool,
    #[rasn(extension_addition)]
    pub can_map_alias: Option<bool>,
    #[rasn(extension_addition)]
    pub call_identifier: Option<CallIdentifier>,
    #[rasn(extension_addition)]
    pub src_alternatives: Option<Opaque>,
    #[rasn(extension_addition)]
    pub dest_alternatives: Option<Opaque>,
    #[rasn(extension_addition, size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub transport_qos: Option<Opaque>,
    #[rasn(extension_addition)]
    pub will_supply_uuies: Option<bool>,
    #[rasn(extension_addition)]
    pub call_linkage: Option<CallLinkage>,
    #[rasn(extension_addition)]
    pub gateway_data_rate: Option<Opaque>,
    #[rasn(extension_addition)]
    pub capacity: Option<Opaque>,
    #[rasn(extension_addition)]
    pub circuit_info: Option<Opaque>,
    #[rasn(extension_addition)]
    pub desired_protocols: Option<Opaque>,
    #[rasn(extension_addition)]
    pub desired_tunnelled_protocol: Option<Opaque>,
    #[rasn(extension_addition)]
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub can_map_src_alias: Option<bool>,
}

/// `AdmissionConfirm` (ACF).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct AdmissionConfirm {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub band_width: u32,
    pub call_model: CallModel,
    pub dest_call_signal_address: TransportAddress,
    #[rasn(value("1..=65535"))]
    pub irr_frequency: Option<u16>,
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(extension_addition)]
    pub destination_info: Option<SequenceOf<AliasAddress>>,
    #[rasn(extension_addition)]
    pub dest_extra_call_info: Option<SequenceOf<AliasAddress>>,
    #[rasn(extension_addition)]
    pub destination_type: Option<Opaque>,
    #[rasn(extension_addition)]
    pub remote_extension_address: Option<SequenceOf<AliasAddress>>,
    #[rasn(extension_addition)]
    pub alternate_endpoints: Option<Opaque>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub transport_qos: Option<Opaque>,
    #[rasn(extension_addition)]
    pub will_respond_to_irr: Option<bool>,
    #[rasn(extension_addition)]
    pub uuies_requested: Option<UuiesRequested>,
    #[rasn(extension_addition)]
    pub language: Option<Opaque>,
    #[rasn(extension_addition)]
    pub alternate_transport_addresses: Option<Opaque>,
    #[rasn(extension_addition)]
    pub use_specified_transport: Option<Opaque>,
    #[rasn(extension_addition)]
    pub circuit_info: Option<Opaque>,
    #[rasn(extension_addition)]
    pub usage_spec: Option<Opaque>,
    #[rasn(extension_addition)]
    pub supported_protocols: Option<Opaque>,
    #[rasn(extension_addition)]
    pub service_control: Option<Opaque>,
    #[rasn(extension_addition)]
    pub multiple_calls: Option<bool>,
    #[rasn(extension_addition)]
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub modified_src_info: Option<SequenceOf<AliasAddress>>,
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
}

/// `AdmissionReject` (ARJ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct AdmissionReject {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub reject_reason: AdmissionRejectReason,
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(extension_addition)]
    pub alt_gk_info: Option<Opaque>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub call_signal_address: Option<SequenceOf<TransportAddress>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub service_control: Option<Opaque>,
    #[rasn(extension_addition)]
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
}

/// `BandwidthRequest` (BRQ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct BandwidthRequest {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    #[rasn(size("1..=128"))]
    pub endpoint_identifier: BmpString,
    pub conference_id: Guid,
    pub call_reference_value: u16,
    pub call_type: Option<CallType>,
    pub band_width: u32,
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(extension_addition)]
    pub call_identifier: Option<CallIdentifier>,
    #[rasn(extension_addition, size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub answered_call: Option<bool>,
    #[rasn(extension_addition)]
    pub call_linkage: Option<CallLinkage>,
    #[rasn(extension_addition)]
    pub capacity: Option<Opaque>,
    #[rasn(extension_addition)]
    pub usage_information: Option<Opaque>,
    #[rasn(extension_addition)]
    pub bandwidth_details: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub transport_qos: Option<Opaque>,
}

/// `BandwidthConfirm` (BCF).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct BandwidthConfirm {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub band_width: u32,
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub capacity: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub transport_qos: Option<Opaque>,
}

/// `BandwidthReject` (BRJ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct BandwidthReject {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub reject_reason: BandRejectReason,
    pub allowed_band_width: u32,
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

/// `DisengageRequest` (DRQ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct DisengageRequest {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    #[rasn(size("1..=128"))]
    pub endpoint_identifier: BmpString,
    pub conference_id: Guid,
    pub call_reference_value: u16,
    pub disengage_reason: DisengageReason,
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(extension_addition)]
    pub call_identifier: Option<CallIdentifier>,
    #[rasn(extension_addition, size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub answered_call: Option<bool>,
    #[rasn(extension_addition)]
    pub call_linkage: Option<CallLinkage>,
    #[rasn(extension_addition)]
    pub capacity: Option<Opaque>,
    #[rasn(extension_addition)]
    pub circuit_info: Option<Opaque>,
    #[rasn(extension_addition)]
    pub usage_information: Option<Opaque>,
    #[rasn(extension_addition)]
    pub termination_cause: Option<Opaque>,
    #[rasn(extension_addition)]
    pub service_control: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
}

/// `DisengageConfirm` (DCF).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct DisengageConfirm {
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
    pub capacity: Option<Opaque>,
    #[rasn(extension_addition)]
    pub circuit_info: Option<Opaque>,
    #[rasn(extension_addition)]
    pub usage_information: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
}

/// `DisengageReject` (DRJ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct DisengageReject {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub reject_reason: DisengageRejectReason,
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
