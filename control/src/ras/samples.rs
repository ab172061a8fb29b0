//! Sample RAS messages with their known-good aligned-PER encodings, produced
//! by an independent encoder (pycrate 0.7.11's H.225.0 module) and checked
//! with tshark; where the two disagree (ARQ, DRQ) tshark arbitrates. Used by the byte-exact tests, the tshark interop tests and as
//! the fuzzing seed corpus.

use rasn::types::{FixedOctetString, Ia5String, OctetString};

use super::bmp;
use super::types::*;

/// The conference identifier of the samples: octets 0..16.
pub const CONFERENCE_ID: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
/// The call identifier of the samples: octets 16..32.
pub const CALL_ID: [u8; 16] = [
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
];

fn ip(a: [u8; 4], port: u16) -> TransportAddress {
    TransportAddress::IpAddress(IpAddress {
        ip: FixedOctetString::new(a),
        port,
    })
}

fn lo(port: u16) -> TransportAddress {
    ip([127, 0, 0, 1], port)
}

fn vendor() -> VendorIdentifier {
    VendorIdentifier {
        vendor: H221NonStandard {
            t35_country_code: 181,
            t35_extension: 0,
            manufacturer_code: 18,
        },
        ..VendorIdentifier::default()
    }
}

fn uuies_none() -> UuiesRequested {
    UuiesRequested::default()
}

/// One sample: a name, the message, and its independent encoding in hex.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Short name, e.g. `"rrq_keepalive"`.
    pub name: &'static str,
    /// The message.
    pub message: RasMessage,
    /// The independent encoder's bytes, hex.
    pub hex: &'static str,
}

/// All samples, one or more per message type the gatekeeper handles.
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn all() -> Vec<Sample> {
    let conf = FixedOctetString::new(CONFERENCE_ID);
    let call = Some(CallIdentifier::new(CALL_ID));
    let ep1 = bmp("EP1");
    vec![
        Sample {
            name: "grq",
            message: RasMessage::GatekeeperRequest(GatekeeperRequest {
                request_seq_num: 1,
                ras_address: lo(1719),
                endpoint_type: EndpointType::terminal(),
                endpoint_alias: Some(vec![AliasAddress::H323Id(bmp("gk-test"))]),
                ..GatekeeperRequest::default()
            }),
            hex: "00200000060008914a0007007f00000106b702000140060067006b002d0074006500730074",
        },
        Sample {
            name: "gcf",
            message: RasMessage::GatekeeperConfirm(GatekeeperConfirm {
                request_seq_num: 1,
                gatekeeper_identifier: Some(bmp("GK")),
                ras_address: lo(1719),
                ..GatekeeperConfirm::default()
            }),
            hex: "04800000060008914a0007020047004b007f00000106b7",
        },
        Sample {
            name: "grj",
            message: RasMessage::GatekeeperReject(GatekeeperReject {
                request_seq_num: 1,
                reject_reason: GatekeeperRejectReason::SecurityDenial(()),
                ..GatekeeperReject::default()
            }),
            hex: "08000000060008914a0007800100",
        },
        Sample {
            name: "rrq",
            message: RasMessage::RegistrationRequest(RegistrationRequest {
                request_seq_num: 2,
                discovery_complete: true,
                call_signal_address: vec![ip([10, 0, 0, 1], 1720)],
                ras_address: vec![ip([10, 0, 0, 1], 1719)],
                terminal_type: EndpointType::terminal(),
                terminal_alias: Some(vec![AliasAddress::H323Id(bmp("guardian"))]),
                endpoint_vendor: vendor(),
                time_to_live: Some(300),
                keep_alive: Some(false),
                will_supply_uuies: Some(false),
                maintain_connection: Some(false),
                ..RegistrationRequest::default()
            }),
            hex: "0e800001060008914a00078001000a00000106b801000a00000106b702000140070067007500610072006400690061006e00b5000012348b0000000340012b010001000100",
        },
        Sample {
            name: "rrq_keepalive",
            message: RasMessage::RegistrationRequest(RegistrationRequest {
                request_seq_num: 3,
                terminal_type: EndpointType::terminal(),
                endpoint_vendor: vendor(),
                time_to_live: Some(300),
                keep_alive: Some(true),
                endpoint_identifier: Some(ep1.clone()),
                will_supply_uuies: Some(false),
                maintain_connection: Some(false),
                ..RegistrationRequest::default()
            }),
            hex: "0e000002060008914a00070000000200b5000012348f0000000340012b0180070400450050003101000100",
        },
        Sample {
            name: "rcf",
            message: RasMessage::RegistrationConfirm(RegistrationConfirm {
                request_seq_num: 2,
                call_signal_address: vec![lo(1720)],
                gatekeeper_identifier: Some(bmp("GK")),
                endpoint_identifier: ep1.clone(),
                time_to_live: Some(300),
                will_respond_to_irr: Some(false),
                maintain_connection: Some(false),
                ..RegistrationConfirm::default()
            }),
            hex: "12400001060008914a000701007f00000106b8020047004b04004500500031268a00000340012b01000100",
        },
        Sample {
            name: "rrj",
            message: RasMessage::RegistrationReject(RegistrationReject {
                request_seq_num: 2,
                reject_reason: RegistrationRejectReason::SecurityDenial(()),
                ..RegistrationReject::default()
            }),
            hex: "14000001060008914a0007830100",
        },
        Sample {
            name: "urq",
            message: RasMessage::UnregistrationRequest(UnregistrationRequest {
                request_seq_num: 4,
                call_signal_address: vec![ip([10, 0, 0, 1], 1720)],
                endpoint_identifier: Some(ep1.clone()),
                reason: Some(UnregRequestReason::TtlExpired(())),
                ..UnregistrationRequest::default()
            }),
            hex: "1a40000301000a00000106b8040045005000311408000120",
        },
        Sample {
            name: "ucf",
            message: RasMessage::UnregistrationConfirm(UnregistrationConfirm {
                request_seq_num: 4,
                ..UnregistrationConfirm::default()
            }),
            hex: "1c0003",
        },
        Sample {
            name: "urj",
            message: RasMessage::UnregistrationReject(UnregistrationReject {
                request_seq_num: 4,
                reject_reason: UnregRejectReason::NotCurrentlyRegistered(()),
                ..UnregistrationReject::default()
            }),
            hex: "20000300",
        },
        Sample {
            name: "arq",
            message: RasMessage::AdmissionRequest(AdmissionRequest {
                request_seq_num: 5,
                call_type: CallType::NToN(()),
                endpoint_identifier: ep1.clone(),
                src_info: vec![AliasAddress::H323Id(bmp("guardian"))],
                band_width: 640,
                call_reference_value: 7,
                conference_id: conf,
                can_map_alias: Some(false),
                call_identifier: call.clone(),
                will_supply_uuies: Some(false),
                can_map_src_alias: Some(false),
                ..AdmissionRequest::default()
            }),
            // pycrate puts an extra 0x00 after this extension bitmap and tshark
            // reports its bytes as malformed; these are rasn's, which tshark
            // dissects cleanly (see tests/tshark_interop.rs).
            hex: "2600000460800045005000310140070067007500610072006400690061006e4002800007000102030405060708090a0b0c0d0e0f0960201001001100101112131415161718191a1b1c1d1e1f01000100",
        },
        Sample {
            name: "acf",
            message: RasMessage::AdmissionConfirm(AdmissionConfirm {
                request_seq_num: 5,
                band_width: 640,
                call_model: CallModel::GatekeeperRouted(()),
                dest_call_signal_address: lo(1720),
                irr_frequency: Some(30),
                will_respond_to_irr: Some(false),
                uuies_requested: Some(uuies_none()),
                ..AdmissionConfirm::default()
            }),
            hex: "2b000004400280407f00000106b8001d2c00c0000100020000",
        },
        Sample {
            name: "arj",
            message: RasMessage::AdmissionReject(AdmissionReject {
                request_seq_num: 5,
                reject_reason: AdmissionRejectReason::ResourceUnavailable(()),
                ..AdmissionReject::default()
            }),
            hex: "2c000470",
        },
        Sample {
            name: "arj_security",
            message: RasMessage::AdmissionReject(AdmissionReject {
                request_seq_num: 5,
                reject_reason: AdmissionRejectReason::SecurityDenial(()),
                ..AdmissionReject::default()
            }),
            hex: "2c0004800100",
        },
        Sample {
            name: "brq",
            message: RasMessage::BandwidthRequest(BandwidthRequest {
                request_seq_num: 6,
                endpoint_identifier: ep1.clone(),
                conference_id: conf,
                call_reference_value: 7,
                band_width: 1280,
                call_identifier: call.clone(),
                answered_call: Some(false),
                ..BandwidthRequest::default()
            }),
            hex: "3200000504004500500031000102030405060708090a0b0c0d0e0f00074005001708001100101112131415161718191a1b1c1d1e1f0100",
        },
        Sample {
            name: "bcf",
            message: RasMessage::BandwidthConfirm(BandwidthConfirm {
                request_seq_num: 6,
                band_width: 1280,
                ..BandwidthConfirm::default()
            }),
            hex: "340005400500",
        },
        Sample {
            name: "brj",
            message: RasMessage::BandwidthReject(BandwidthReject {
                request_seq_num: 6,
                reject_reason: BandRejectReason::InsufficientResources(()),
                allowed_band_width: 100,
                ..BandwidthReject::default()
            }),
            hex: "3800053064",
        },
        Sample {
            name: "drq",
            message: RasMessage::DisengageRequest(DisengageRequest {
                request_seq_num: 7,
                endpoint_identifier: ep1.clone(),
                conference_id: conf,
                call_reference_value: 7,
                disengage_reason: DisengageReason::NormalDrop(()),
                call_identifier: call.clone(),
                answered_call: Some(false),
                ..DisengageRequest::default()
            }),
            // As for the ARQ: rasn's bytes, pycrate's are malformed per tshark.
            hex: "3e000604004500500031000102030405060708090a0b0c0d0e0f00072321001100101112131415161718191a1b1c1d1e1f0100",
        },
        Sample {
            name: "dcf",
            message: RasMessage::DisengageConfirm(DisengageConfirm {
                request_seq_num: 7,
                ..DisengageConfirm::default()
            }),
            hex: "400006",
        },
        Sample {
            name: "drj",
            message: RasMessage::DisengageReject(DisengageReject {
                request_seq_num: 7,
                reject_reason: DisengageRejectReason::NotRegistered(()),
                ..DisengageReject::default()
            }),
            hex: "44000600",
        },
        Sample {
            name: "lrq",
            message: RasMessage::LocationRequest(LocationRequest {
                request_seq_num: 8,
                destination_info: vec![AliasAddress::DialledDigits(
                    Ia5String::from_iso646_bytes(b"1234").unwrap_or_default(),
                )],
                reply_address: lo(1719),
                can_map_alias: Some(false),
                can_map_src_alias: Some(false),
                ..LocationRequest::default()
            }),
            hex: "4a0000070101804567007f00000106b720800201000100",
        },
        Sample {
            name: "lrj",
            message: RasMessage::LocationReject(LocationReject {
                request_seq_num: 8,
                reject_reason: LocationRejectReason::RequestDenied(()),
                ..LocationReject::default()
            }),
            hex: "50000740",
        },
        Sample {
            name: "irq",
            message: RasMessage::InfoRequest(InfoRequest {
                request_seq_num: 9,
                call_reference_value: 0,
                call_identifier: Some(CallIdentifier::new([0; 16])),
                ..InfoRequest::default()
            }),
            hex: "560000080000170000110000000000000000000000000000000000",
        },
        Sample {
            name: "irr",
            message: RasMessage::InfoRequestResponse(InfoRequestResponse {
                request_seq_num: 9,
                endpoint_type: EndpointType::terminal(),
                endpoint_identifier: ep1,
                ras_address: ip([10, 0, 0, 1], 1719),
                call_signal_address: vec![ip([10, 0, 0, 1], 1720)],
                need_response: Some(false),
                unsolicited: Some(true),
                ..InfoRequestResponse::default()
            }),
            hex: "5a000008020080004500500031000a00000106b701000a00000106b80e2401000180",
        },
        Sample {
            name: "nsm",
            message: RasMessage::NonStandardMessage(NonStandardMessage {
                request_seq_num: 10,
                non_standard_data: NonStandardParameter {
                    non_standard_identifier: NonStandardIdentifier::H221NonStandard(
                        H221NonStandard {
                            t35_country_code: 181,
                            t35_extension: 0,
                            manufacturer_code: 18,
                        },
                    ),
                    data: OctetString::from_slice(b"x"),
                },
                ..NonStandardMessage::default()
            }),
            hex: "5c000940b50000120178",
        },
        Sample {
            name: "xrs",
            message: RasMessage::UnknownMessageResponse(UnknownMessageResponse {
                request_seq_num: 11,
                message_not_understood: Some(OctetString::from_slice(b"abc")),
                ..UnknownMessageResponse::default()
            }),
            hex: "62000a06200403616263",
        },
        Sample {
            name: "rip",
            message: RasMessage::RequestInProgress(RequestInProgress {
                request_seq_num: 12,
                delay: 5000,
                ..RequestInProgress::default()
            }),
            hex: "800500000b1387",
        },
    ]
}

/// Decodes a hex string (test helper; invalid digits yield an empty vector).
#[must_use]
pub fn from_hex(hex: &str) -> Vec<u8> {
    let digits: Option<Vec<u8>> = hex
        .chars()
        .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
        .collect();
    match digits {
        Some(d) if d.len() % 2 == 0 => d.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect(),
        _ => Vec::new(),
    }
}

/// Encodes bytes as lowercase hex.
#[must_use]
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
