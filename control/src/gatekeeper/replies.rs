//! Builders for the gatekeeper's replies, and the mapping of refusals to the
//! standard reject reasons (docs/ras.md has the table).

use rasn::types::FixedOctetString;

use crate::ras::types::*;
use crate::ras::{bmp, RasMessage};

/// CHOICE indexes of the requests a gatekeeper is expected to answer (GRQ,
/// RRQ, URQ, ARQ, BRQ, DRQ, LRQ, IRQ, NonStandardMessage, and the opaque RAI
/// and SCI extensions), i.e. where an undecodable datagram earns an XRS.
#[must_use]
pub(super) fn is_request_kind(index: u8) -> bool {
    matches!(index, 0 | 3 | 6 | 9 | 12 | 15 | 18 | 21 | 23 | 26 | 30)
}

/// Why a request was refused, independent of the message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Authenticity gate failed.
    Security,
    /// The endpoint is not registered (or its registration expired).
    NotRegistered,
    /// The endpointIdentifier belongs to another guardian.
    WrongEndpoint,
    /// Quota, global limits, engine busy or admissions stopped.
    Resources,
    /// The conference has its full number of distinct endpoints.
    ConferenceFull,
    /// A second registration of a terminal from another address, or an
    /// address already used by another terminal.
    Duplicate,
    /// A keep-alive for a registration that no longer exists.
    FullRegistrationRequired,
    /// The call is not known.
    UnknownCall,
}

pub(super) fn rrj(seq: u16, refusal: Refusal, alias: Option<AliasAddress>) -> RasMessage {
    use RegistrationRejectReason as R;
    let reason = match refusal {
        Refusal::Security => R::SecurityDenial(()),
        Refusal::Resources | Refusal::ConferenceFull => R::ResourceUnavailable(()),
        Refusal::Duplicate => R::DuplicateAlias(alias.into_iter().collect()),
        Refusal::FullRegistrationRequired | Refusal::NotRegistered => {
            R::FullRegistrationRequired(())
        }
        _ => R::UndefinedReason(()),
    };
    RasMessage::RegistrationReject(RegistrationReject {
        request_seq_num: seq,
        reject_reason: reason,
        ..RegistrationReject::default()
    })
}

pub(super) fn arj(seq: u16, refusal: Refusal) -> RasMessage {
    use AdmissionRejectReason as R;
    let reason = match refusal {
        Refusal::Security => R::SecurityDenial(()),
        Refusal::NotRegistered | Refusal::FullRegistrationRequired => R::CallerNotRegistered(()),
        Refusal::WrongEndpoint => R::InvalidEndpointIdentifier(()),
        Refusal::Resources => R::ResourceUnavailable(()),
        Refusal::ConferenceFull => R::ExceedsCallCapacity(()),
        Refusal::Duplicate | Refusal::UnknownCall => R::RequestDenied(()),
    };
    RasMessage::AdmissionReject(AdmissionReject {
        request_seq_num: seq,
        reject_reason: reason,
        ..AdmissionReject::default()
    })
}

pub(super) fn brj(seq: u16, refusal: Refusal, allowed: u32) -> RasMessage {
    use BandRejectReason as R;
    let reason = match refusal {
        Refusal::Security => R::SecurityDenial(()),
        Refusal::NotRegistered | Refusal::FullRegistrationRequired => R::NotBound(()),
        Refusal::WrongEndpoint => R::InvalidPermission(()),
        Refusal::UnknownCall => R::InvalidConferenceId(()),
        Refusal::Resources | Refusal::ConferenceFull => R::InsufficientResources(()),
        Refusal::Duplicate => R::UndefinedReason(()),
    };
    RasMessage::BandwidthReject(BandwidthReject {
        request_seq_num: seq,
        reject_reason: reason,
        allowed_band_width: allowed,
        ..BandwidthReject::default()
    })
}

pub(super) fn drj(seq: u16, refusal: Refusal) -> RasMessage {
    use DisengageRejectReason as R;
    let reason = match refusal {
        Refusal::Security => R::SecurityDenial(()),
        Refusal::WrongEndpoint => R::RequestToDropOther(()),
        _ => R::NotRegistered(()),
    };
    RasMessage::DisengageReject(DisengageReject {
        request_seq_num: seq,
        reject_reason: reason,
        ..DisengageReject::default()
    })
}

pub(super) fn urj(seq: u16, refusal: Refusal) -> RasMessage {
    use UnregRejectReason as R;
    let reason = match refusal {
        Refusal::Security => R::SecurityDenial(()),
        Refusal::WrongEndpoint => R::PermissionDenied(()),
        Refusal::NotRegistered | Refusal::FullRegistrationRequired => R::NotCurrentlyRegistered(()),
        _ => R::UndefinedReason(()),
    };
    RasMessage::UnregistrationReject(UnregistrationReject {
        request_seq_num: seq,
        reject_reason: reason,
        ..UnregistrationReject::default()
    })
}

/// The reject for `refusal` matching the request `kind` (CHOICE index).
pub(super) fn reject_for(kind: u8, seq: u16, refusal: Refusal) -> Option<RasMessage> {
    Some(match kind {
        3 => rrj(seq, refusal, None),
        6 => urj(seq, refusal),
        9 => arj(seq, refusal),
        12 => brj(seq, refusal, 0),
        15 => drj(seq, refusal),
        _ => return None,
    })
}

/// `alternateGatekeeper` for GCF/RCF; `None` (left out) when none is set.
fn alternate_gks(alternates: &[super::AlternateGatekeeper]) -> Option<Vec<AlternateGk>> {
    (!alternates.is_empty()).then(|| {
        alternates
            .iter()
            .map(|a| {
                AlternateGk::new(
                    TransportAddress::from_socket(a.ras_address),
                    a.gatekeeper_id.as_deref().map(bmp),
                    a.need_to_register,
                    a.priority,
                )
            })
            .collect()
    })
}

pub(super) fn gcf(
    seq: u16,
    gk_id: &str,
    ras: TransportAddress,
    alternates: &[super::AlternateGatekeeper],
) -> RasMessage {
    RasMessage::GatekeeperConfirm(GatekeeperConfirm {
        request_seq_num: seq,
        gatekeeper_identifier: Some(bmp(gk_id)),
        ras_address: ras,
        alternate_gatekeeper: alternate_gks(alternates),
        ..GatekeeperConfirm::default()
    })
}

pub(super) fn grj(seq: u16, gk_id: &str, reason: GatekeeperRejectReason) -> RasMessage {
    RasMessage::GatekeeperReject(GatekeeperReject {
        request_seq_num: seq,
        gatekeeper_identifier: Some(bmp(gk_id)),
        reject_reason: reason,
        ..GatekeeperReject::default()
    })
}

pub(super) fn rcf(
    seq: u16,
    gk_id: &str,
    call_signal: TransportAddress,
    endpoint_id: &str,
    ttl_s: u32,
    alternates: &[super::AlternateGatekeeper],
) -> RasMessage {
    RasMessage::RegistrationConfirm(RegistrationConfirm {
        request_seq_num: seq,
        call_signal_address: vec![call_signal],
        gatekeeper_identifier: Some(bmp(gk_id)),
        endpoint_identifier: bmp(endpoint_id),
        alternate_gatekeeper: alternate_gks(alternates),
        time_to_live: Some(ttl_s),
        will_respond_to_irr: Some(false),
        maintain_connection: Some(false),
        ..RegistrationConfirm::default()
    })
}

pub(super) fn acf(
    seq: u16,
    units: u32,
    call_signal: TransportAddress,
    irr_frequency_s: u16,
) -> RasMessage {
    RasMessage::AdmissionConfirm(AdmissionConfirm {
        request_seq_num: seq,
        band_width: units,
        call_model: CallModel::GatekeeperRouted(()),
        dest_call_signal_address: call_signal,
        irr_frequency: Some(irr_frequency_s.max(1)),
        will_respond_to_irr: Some(false),
        uuies_requested: Some(UuiesRequested::default()),
        ..AdmissionConfirm::default()
    })
}

pub(super) fn bcf(seq: u16, units: u32) -> RasMessage {
    RasMessage::BandwidthConfirm(BandwidthConfirm {
        request_seq_num: seq,
        band_width: units,
        ..BandwidthConfirm::default()
    })
}

pub(super) fn dcf(seq: u16) -> RasMessage {
    RasMessage::DisengageConfirm(DisengageConfirm {
        request_seq_num: seq,
        ..DisengageConfirm::default()
    })
}

pub(super) fn ucf(seq: u16) -> RasMessage {
    RasMessage::UnregistrationConfirm(UnregistrationConfirm {
        request_seq_num: seq,
        ..UnregistrationConfirm::default()
    })
}

pub(super) fn lrj(seq: u16) -> RasMessage {
    RasMessage::LocationReject(LocationReject {
        request_seq_num: seq,
        reject_reason: LocationRejectReason::RequestDenied(()),
        ..LocationReject::default()
    })
}

pub(super) fn iack(seq: u16) -> RasMessage {
    RasMessage::InfoRequestAck(InfoRequestAck {
        request_seq_num: seq,
        ..InfoRequestAck::default()
    })
}

/// Gatekeeper-initiated URQ (registration expired or revoked).
pub(super) fn urq(
    seq: u16,
    gk_id: &str,
    endpoint_id: &str,
    reason: UnregRequestReason,
) -> RasMessage {
    RasMessage::UnregistrationRequest(UnregistrationRequest {
        request_seq_num: seq,
        endpoint_identifier: Some(bmp(endpoint_id)),
        gatekeeper_identifier: Some(bmp(gk_id)),
        reason: Some(reason),
        ..UnregistrationRequest::default()
    })
}

/// The 16-octet call identifier: callIdentifier when sent, else the
/// conferenceID with the CRV in its last two octets.
pub(super) fn call_id(
    call_identifier: Option<&CallIdentifier>,
    conference: &FixedOctetString<16>,
    crv: u16,
) -> [u8; 16] {
    match call_identifier {
        Some(c) => *c.guid,
        None => {
            let mut id = **conference;
            id[14..].copy_from_slice(&crv.to_be_bytes());
            id
        }
    }
}
