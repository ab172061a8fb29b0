//! Information and miscellany: IRQ, IRR, NonStandardMessage, XRS
//! (unknownMessageResponse) and RIP (requestInProgress).

use rasn::prelude::*;

use super::{
    AliasAddress, CallIdentifier, CallLinkage, CallModel, CallType, ClearToken, CryptoH323Token,
    EndpointType, Guid, Icv, NonStandardParameter, Opaque, RtpSession, TransportAddress,
    TransportChannelInfo, UuiesRequested,
};

/// `InfoRequest` (IRQ).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct InfoRequest {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub call_reference_value: u16,
    pub non_standard_data: Option<NonStandardParameter>,
    pub reply_address: Option<TransportAddress>,
    #[rasn(extension_addition)]
    pub call_identifier: Option<CallIdentifier>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub uuies_requested: Option<UuiesRequested>,
    #[rasn(extension_addition)]
    pub call_linkage: Option<CallLinkage>,
    #[rasn(extension_addition)]
    pub usage_info_requested: Option<Opaque>,
    #[rasn(extension_addition)]
    pub segmented_response_supported: Option<()>,
    #[rasn(extension_addition)]
    pub next_segment_requested: Option<u16>,
    #[rasn(extension_addition)]
    pub capacity_info_requested: Option<()>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
    #[rasn(extension_addition)]
    pub assigned_gatekeeper: Option<Opaque>,
}

/// One element of `InfoRequestResponse.perCallInfo`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct PerCallInfo {
    pub non_standard_data: Option<NonStandardParameter>,
    pub call_reference_value: u16,
    pub conference_id: Guid,
    pub originator: Option<bool>,
    pub audio: Option<SequenceOf<RtpSession>>,
    pub video: Option<SequenceOf<RtpSession>>,
    pub data: Option<SequenceOf<TransportChannelInfo>>,
    pub h245: TransportChannelInfo,
    pub call_signalling: TransportChannelInfo,
    pub call_type: CallType,
    pub band_width: u32,
    pub call_model: CallModel,
    #[rasn(extension_addition)]
    pub call_identifier: Option<CallIdentifier>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub substitute_conf_ids: Option<SequenceOf<Guid>>,
    #[rasn(extension_addition)]
    pub pdu: Option<Opaque>,
    #[rasn(extension_addition)]
    pub call_linkage: Option<CallLinkage>,
    #[rasn(extension_addition)]
    pub usage_information: Option<Opaque>,
    #[rasn(extension_addition)]
    pub circuit_info: Option<Opaque>,
}

/// `InfoRequestResponse` (IRR).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct InfoRequestResponse {
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub endpoint_type: EndpointType,
    #[rasn(size("1..=128"))]
    pub endpoint_identifier: BmpString,
    pub ras_address: TransportAddress,
    pub call_signal_address: SequenceOf<TransportAddress>,
    pub endpoint_alias: Option<SequenceOf<AliasAddress>>,
    pub per_call_info: Option<SequenceOf<PerCallInfo>>,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub need_response: Option<bool>,
    #[rasn(extension_addition)]
    pub capacity: Option<Opaque>,
    #[rasn(extension_addition)]
    pub irr_status: Option<Opaque>,
    #[rasn(extension_addition)]
    pub unsolicited: Option<bool>,
    #[rasn(extension_addition)]
    pub generic_data: Option<Opaque>,
}

/// `NonStandardMessage`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct NonStandardMessage {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub non_standard_data: NonStandardParameter,
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

/// `UnknownMessageResponse` (XRS).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct UnknownMessageResponse {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    #[rasn(extension_addition)]
    pub tokens: Option<SequenceOf<ClearToken>>,
    #[rasn(extension_addition)]
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    #[rasn(extension_addition)]
    pub integrity_check_value: Option<Icv>,
    #[rasn(extension_addition)]
    pub message_not_understood: Option<OctetString>,
}

/// `RequestInProgress` (RIP): all its components are in the root.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct RequestInProgress {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub non_standard_data: Option<NonStandardParameter>,
    pub tokens: Option<SequenceOf<ClearToken>>,
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    pub integrity_check_value: Option<Icv>,
    #[rasn(value("1..=65535"))]
    pub delay: u16,
}

/// `InfoRequestAck` (IACK): all its components are in the root.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct InfoRequestAck {
    #[rasn(value("1..=65535"))]
    pub request_seq_num: u16,
    pub non_standard_data: Option<NonStandardParameter>,
    pub tokens: Option<SequenceOf<ClearToken>>,
    pub crypto_tokens: Option<SequenceOf<CryptoH323Token>>,
    pub integrity_check_value: Option<Icv>,
}
