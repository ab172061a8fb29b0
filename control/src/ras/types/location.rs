//! Location: LRQ, LCF, LRJ (H.225.0 7.14). This gatekeeper does not offer
//! location service; the types exist so the messages decode and get an LRJ.

use rasn::prelude::*;

use super::{
    AliasAddress, CallIdentifier, ClearToken, CryptoH323Token, Icv, NonStandardParameter, Opaque,
    SecurityErrors2, TransportAddress,
};

/// `LocationRejectReason`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum LocationRejectReason {
    NotRegistered(()),
    InvalidPermission(()),
    RequestDenied(()),
    UndefinedReason(()),
    #[rasn(extension_addition)]
    SecurityDenial(()),
    #[rasn(extension_addition)]
    AliasesInconsistent(()),
    #[rasn(extension_addition)]
    RouteCalltoScn(Opaque),
    #[rasn(extension_addition)]
    ResourceUnavailable(()),
    #[rasn(extension_addition)]
    GenericDataReason(()),
    #[rasn(extension_addition)]
    NeededFeatureNotSupported(()),
    #[rasn(extension_addition)]
    HopCountExceeded(()),
    #[rasn(extension_addition)]
    IncompleteAddress(()),
    #[rasn(extension_addition)]
    SecurityError(SecurityErrors2),
    #[rasn(extension_addition)]
    SecurityDhMismatch(()),
    #[rasn(extension_addition)]
    NoRouteToDestination(()),
    #[rasn(extension_addition)]
    UnallocatedNumber(()),
}

impl Default for LocationRejectReason {
    fn default() -> Self {
        Self::UndefinedReason(())
    }
}

/// `LocationRequest` (LRQ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct LocationRequest {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    #[rasn(size("1..=128"))]
    pub endpoint_identifier: Option<BmpString>,
    pub destination_info: SequenceOf<AliasAddress>,
    pub non_standard_data: Option<NonStandardParameter>,
    pub reply_address: TransportAddress,
    #[rasn(extension_addition)]
    pub source_info: Option<SequenceOf<AliasAddress>>,
    #[rasn(extension_addition)]
    pub can_map_alias: Option<bool>,
    #[rasn(extension_addition, size("1..=128"))]
    pub gatekeeper_identifier: Option<BmpString>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub desired_protocols: Option<Opaque>,
    #[rasn(extension_addition)]
    pub desired_tunnelled_protocol: Option<Opaque>,
    #[rasn(extension_addition)]
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition, value("1..=255"))]
    pub hop_count: Option<u8>,
    #[rasn(extension_addition)]
    pub circuit_info: Option<Opaque>,
    #[rasn(extension_addition)]
    pub call_identifier: Option<CallIdentifier>,
    #[rasn(extension_addition)]
    pub band_width: Option<u32>,
    #[rasn(extension_addition)]
    pub source_endpoint_info: Option<SequenceOf<AliasAddress>>,
    #[rasn(extension_addition)]
    pub can_map_src_alias: Option<bool>,
    #[rasn(extension_addition)]
    pub language: Option<Opaque>,
}

/// `LocationConfirm` (LCF).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct LocationConfirm {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub call_signal_address: TransportAddress,
    pub ras_address: TransportAddress,
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
    pub alternate_transport_addresses: Option<Opaque>,
    #[rasn(extension_addition)]
    pub supported_protocols: Option<Opaque>,
    #[rasn(extension_addition)]
    pub multiple_calls: Option<bool>,
    #[rasn(extension_addition)]
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub circuit_info: Option<Opaque>,
    #[rasn(extension_addition)]
    pub service_control: Option<Opaque>,
    #[rasn(extension_addition)]
    pub modified_src_info: Option<SequenceOf<AliasAddress>>,
    #[rasn(extension_addition)]
    pub band_width: Option<u32>,
}

/// `LocationReject` (LRJ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct LocationReject {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub reject_reason: LocationRejectReason,
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
    pub feature_set: Option<Opaque>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub service_control: Option<Opaque>,
}
