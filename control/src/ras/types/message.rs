//! `RasMessage`, the root of every RAS datagram. All 25 root alternatives and
//! all 8 extension alternatives of H.225.0 v7 are declared, so every valid
//! message decodes and can be answered; the extension alternatives this
//! gatekeeper does not use are kept opaque.

use rasn::prelude::*;

use super::*;

/// `RasMessage`.
// The variants are moved once from the decoder into the state machine; boxing
// them would add an allocation per datagram for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum RasMessage {
    GatekeeperRequest(GatekeeperRequest),
    GatekeeperConfirm(GatekeeperConfirm),
    GatekeeperReject(GatekeeperReject),
    RegistrationRequest(RegistrationRequest),
    RegistrationConfirm(RegistrationConfirm),
    RegistrationReject(RegistrationReject),
    UnregistrationRequest(UnregistrationRequest),
    UnregistrationConfirm(UnregistrationConfirm),
    UnregistrationReject(UnregistrationReject),
    AdmissionRequest(AdmissionRequest),
    AdmissionConfirm(AdmissionConfirm),
    AdmissionReject(AdmissionReject),
    BandwidthRequest(BandwidthRequest),
    BandwidthConfirm(BandwidthConfirm),
    BandwidthReject(BandwidthReject),
    DisengageRequest(DisengageRequest),
    DisengageConfirm(DisengageConfirm),
    DisengageReject(DisengageReject),
    LocationRequest(LocationRequest),
    LocationConfirm(LocationConfirm),
    LocationReject(LocationReject),
    InfoRequest(InfoRequest),
    InfoRequestResponse(InfoRequestResponse),
    NonStandardMessage(NonStandardMessage),
    UnknownMessageResponse(UnknownMessageResponse),
    #[rasn(extension_addition)]
    RequestInProgress(RequestInProgress),
    #[rasn(extension_addition)]
    ResourcesAvailableIndicate(Opaque),
    #[rasn(extension_addition)]
    ResourcesAvailableConfirm(Opaque),
    #[rasn(extension_addition)]
    InfoRequestAck(InfoRequestAck),
    #[rasn(extension_addition)]
    InfoRequestNak(Opaque),
    #[rasn(extension_addition)]
    ServiceControlIndication(Opaque),
    #[rasn(extension_addition)]
    ServiceControlResponse(Opaque),
    #[rasn(extension_addition)]
    AdmissionConfirmSequence(Opaque),
}

impl RasMessage {
    /// The message's short name (GRQ, RCF, …) for logs and counters.
    #[must_use]
    pub fn name(&self) -> &'static str {
        kind_name(self.kind_index())
    }

    /// The CHOICE index of this alternative (0..=32).
    #[must_use]
    pub fn kind_index(&self) -> u8 {
        match self {
            Self::GatekeeperRequest(_) => 0,
            Self::GatekeeperConfirm(_) => 1,
            Self::GatekeeperReject(_) => 2,
            Self::RegistrationRequest(_) => 3,
            Self::RegistrationConfirm(_) => 4,
            Self::RegistrationReject(_) => 5,
            Self::UnregistrationRequest(_) => 6,
            Self::UnregistrationConfirm(_) => 7,
            Self::UnregistrationReject(_) => 8,
            Self::AdmissionRequest(_) => 9,
            Self::AdmissionConfirm(_) => 10,
            Self::AdmissionReject(_) => 11,
            Self::BandwidthRequest(_) => 12,
            Self::BandwidthConfirm(_) => 13,
            Self::BandwidthReject(_) => 14,
            Self::DisengageRequest(_) => 15,
            Self::DisengageConfirm(_) => 16,
            Self::DisengageReject(_) => 17,
            Self::LocationRequest(_) => 18,
            Self::LocationConfirm(_) => 19,
            Self::LocationReject(_) => 20,
            Self::InfoRequest(_) => 21,
            Self::InfoRequestResponse(_) => 22,
            Self::NonStandardMessage(_) => 23,
            Self::UnknownMessageResponse(_) => 24,
            Self::RequestInProgress(_) => 25,
            Self::ResourcesAvailableIndicate(_) => 26,
            Self::ResourcesAvailableConfirm(_) => 27,
            Self::InfoRequestAck(_) => 28,
            Self::InfoRequestNak(_) => 29,
            Self::ServiceControlIndication(_) => 30,
            Self::ServiceControlResponse(_) => 31,
            Self::AdmissionConfirmSequence(_) => 32,
        }
    }
}

/// Short names of the `RasMessage` alternatives, by CHOICE index.
const KIND_NAMES: [&str; 33] = [
    "GRQ", "GCF", "GRJ", "RRQ", "RCF", "RRJ", "URQ", "UCF", "URJ", "ARQ", "ACF", "ARJ", "BRQ",
    "BCF", "BRJ", "DRQ", "DCF", "DRJ", "LRQ", "LCF", "LRJ", "IRQ", "IRR", "NSM", "XRS", "RIP",
    "RAI", "RAC", "IACK", "INAK", "SCI", "SCR", "ACFSEQ",
];

/// The short name for a CHOICE index, "unknown" past the known ones.
#[must_use]
pub fn kind_name(index: u8) -> &'static str {
    KIND_NAMES
        .get(usize::from(index))
        .copied()
        .unwrap_or("unknown")
}

/// Applies `$body` to the inner message of every alternative that has the
/// field, `$none` otherwise.
macro_rules! with_inner {
    ($self:expr, $m:ident => $body:expr, $none:expr) => {
        match $self {
            RasMessage::GatekeeperRequest($m) => $body,
            RasMessage::GatekeeperConfirm($m) => $body,
            RasMessage::GatekeeperReject($m) => $body,
            RasMessage::RegistrationRequest($m) => $body,
            RasMessage::RegistrationConfirm($m) => $body,
            RasMessage::RegistrationReject($m) => $body,
            RasMessage::UnregistrationRequest($m) => $body,
            RasMessage::UnregistrationConfirm($m) => $body,
            RasMessage::UnregistrationReject($m) => $body,
            RasMessage::AdmissionRequest($m) => $body,
            RasMessage::AdmissionConfirm($m) => $body,
            RasMessage::AdmissionReject($m) => $body,
            RasMessage::BandwidthRequest($m) => $body,
            RasMessage::BandwidthConfirm($m) => $body,
            RasMessage::BandwidthReject($m) => $body,
            RasMessage::DisengageRequest($m) => $body,
            RasMessage::DisengageConfirm($m) => $body,
            RasMessage::DisengageReject($m) => $body,
            RasMessage::LocationRequest($m) => $body,
            RasMessage::LocationConfirm($m) => $body,
            RasMessage::LocationReject($m) => $body,
            RasMessage::InfoRequest($m) => $body,
            RasMessage::InfoRequestResponse($m) => $body,
            RasMessage::NonStandardMessage($m) => $body,
            RasMessage::UnknownMessageResponse($m) => $body,
            RasMessage::RequestInProgress($m) => $body,
            RasMessage::InfoRequestAck($m) => $body,
            _ => $none,
        }
    };
}

impl RasMessage {
    /// `requestSeqNum`, for every alternative that is decoded.
    #[must_use]
    pub fn request_seq_num(&self) -> Option<u16> {
        with_inner!(self, m => Some(m.request_seq_num), None)
    }

    /// `cryptoTokens`, for every alternative that is decoded.
    #[must_use]
    pub fn crypto_tokens(&self) -> Option<&[CryptoH323Token]> {
        with_inner!(self, m => m.crypto_tokens.as_deref(), None)
    }

    /// Mutable `cryptoTokens`, for every alternative that is decoded.
    pub fn crypto_tokens_mut(&mut self) -> Option<&mut Option<SequenceOf<CryptoH323Token>>> {
        with_inner!(self, m => Some(&mut m.crypto_tokens), None)
    }
}
