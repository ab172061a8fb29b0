//! Common H.225.0 elements used by RAS messages: addresses, aliases,
//! identifiers, endpoint descriptions. Field order, OPTIONALs, extension
//! markers and constraints follow H323-MESSAGES (H.225.0 v7, 12/2009).
//!
//! Constraints are written on the fields rather than on `delegate` newtypes:
//! rasn 0.30 drops a delegate's constraints when it is used as an optional
//! extension addition (see shared/rasn-notes.md).

use rasn::prelude::*;

use super::Opaque;

/// `GloballyUniqueID` / `ConferenceIdentifier`: OCTET STRING (SIZE (16)).
pub type Guid = FixedOctetString<16>;

/// `NonStandardIdentifier`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum NonStandardIdentifier {
    Object(ObjectIdentifier),
    H221NonStandard(H221NonStandard),
}

/// `H221NonStandard`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct H221NonStandard {
    pub t35_country_code: u8,
    pub t35_extension: u8,
    pub manufacturer_code: u16,
}

/// `NonStandardParameter` (H.225.0's; H.235 has its own with an OID).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
pub struct NonStandardParameter {
    pub non_standard_identifier: NonStandardIdentifier,
    pub data: OctetString,
}

/// `TransportAddress.ipAddress`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct IpAddress {
    pub ip: FixedOctetString<4>,
    pub port: u16,
}

/// `TransportAddress.ipSourceRoute.routing`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum Routing {
    Strict(()),
    Loose(()),
}

/// `TransportAddress.ipSourceRoute`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct IpSourceRoute {
    pub ip: FixedOctetString<4>,
    pub port: u16,
    pub route: SequenceOf<FixedOctetString<4>>,
    pub routing: Routing,
}

/// `TransportAddress.ipxAddress`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct IpxAddress {
    pub node: FixedOctetString<6>,
    pub netnum: FixedOctetString<4>,
    pub port: FixedOctetString<2>,
}

/// `TransportAddress.ip6Address`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct Ip6Address {
    pub ip: FixedOctetString<16>,
    pub port: u16,
}

/// `TransportAddress`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum TransportAddress {
    IpAddress(IpAddress),
    IpSourceRoute(IpSourceRoute),
    IpxAddress(IpxAddress),
    Ip6Address(Ip6Address),
    NetBios(FixedOctetString<16>),
    #[rasn(size("1..=20"))]
    Nsap(OctetString),
    NonStandardAddress(NonStandardParameter),
}

impl TransportAddress {
    /// An `ipAddress` or `ip6Address` for a socket address.
    #[must_use]
    pub fn from_socket(addr: std::net::SocketAddr) -> Self {
        match addr {
            std::net::SocketAddr::V4(v4) => Self::IpAddress(IpAddress {
                ip: FixedOctetString::new(v4.ip().octets()),
                port: v4.port(),
            }),
            std::net::SocketAddr::V6(v6) => Self::Ip6Address(Ip6Address {
                ip: FixedOctetString::new(v6.ip().octets()),
                port: v6.port(),
            }),
        }
    }

    /// The socket address, for the IP alternatives.
    #[must_use]
    pub fn to_socket(&self) -> Option<std::net::SocketAddr> {
        match self {
            Self::IpAddress(a) => Some(std::net::SocketAddr::from((*a.ip, a.port))),
            Self::Ip6Address(a) => Some(std::net::SocketAddr::from((*a.ip, a.port))),
            _ => None,
        }
    }
}

/// `AliasAddress`. Alternatives this crate does not interpret are kept opaque
/// so that their CHOICE indexes stay right.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum AliasAddress {
    #[rasn(size("1..=128"), from("0..=9", "#", "*", ","))]
    DialledDigits(Ia5String),
    #[rasn(size("1..=256"))]
    H323Id(BmpString),
    #[rasn(extension_addition, size("1..=512"))]
    UrlId(Ia5String),
    #[rasn(extension_addition)]
    TransportId(TransportAddress),
    #[rasn(extension_addition, size("1..=512"))]
    EmailId(Ia5String),
    #[rasn(extension_addition)]
    PartyNumber(Opaque),
    #[rasn(extension_addition)]
    MobileUim(Opaque),
    #[rasn(extension_addition)]
    IsupNumber(Opaque),
}

/// `VendorIdentifier`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct VendorIdentifier {
    pub vendor: H221NonStandard,
    #[rasn(size("1..=256"))]
    pub product_id: Option<OctetString>,
    #[rasn(size("1..=256"))]
    pub version_id: Option<OctetString>,
    #[rasn(extension_addition)]
    pub enterprise_number: Option<ObjectIdentifier>,
}

/// `GatekeeperInfo`, `TerminalInfo` (same shape: nonStandardData, ...).
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct NodeInfo {
    pub non_standard_data: Option<NonStandardParameter>,
}

/// `McuInfo`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct McuInfo {
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(extension_addition)]
    pub protocol: Option<Opaque>,
}

/// `DataRate`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct DataRate {
    pub non_standard_data: Option<NonStandardParameter>,
    pub channel_rate: u32,
    #[rasn(value("1..=256"))]
    pub channel_multiplier: Option<u16>,
}

/// `SupportedPrefix`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct SupportedPrefix {
    pub non_standard_data: Option<NonStandardParameter>,
    pub prefix: AliasAddress,
}

/// `H310Caps` … `T120OnlyCaps`: all nine share this shape.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct ProtocolCaps {
    pub non_standard_data: Option<NonStandardParameter>,
    #[rasn(extension_addition)]
    pub data_rates_supported: Option<SequenceOf<DataRate>>,
    #[rasn(extension_addition)]
    pub supported_prefixes: Option<SequenceOf<SupportedPrefix>>,
}

/// `SupportedProtocols`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum SupportedProtocols {
    NonStandardData(NonStandardParameter),
    H310(ProtocolCaps),
    H320(ProtocolCaps),
    H321(ProtocolCaps),
    H322(ProtocolCaps),
    H323(ProtocolCaps),
    H324(ProtocolCaps),
    Voice(ProtocolCaps),
    T120Only(ProtocolCaps),
    #[rasn(extension_addition)]
    NonStandardProtocol(Opaque),
    #[rasn(extension_addition)]
    T38FaxAnnexbOnly(Opaque),
    #[rasn(extension_addition)]
    Sip(Opaque),
}

/// `GatewayInfo`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct GatewayInfo {
    pub protocol: Option<SequenceOf<SupportedProtocols>>,
    pub non_standard_data: Option<NonStandardParameter>,
}

/// `EndpointType`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct EndpointType {
    pub non_standard_data: Option<NonStandardParameter>,
    pub vendor: Option<VendorIdentifier>,
    pub gatekeeper: Option<NodeInfo>,
    pub gateway: Option<GatewayInfo>,
    pub mcu: Option<McuInfo>,
    pub terminal: Option<NodeInfo>,
    pub mc: bool,
    pub undefined_node: bool,
    #[rasn(extension_addition, size("32"))]
    pub set: Option<BitString>,
    #[rasn(extension_addition)]
    pub supported_tunnelled_protocols: Option<Opaque>,
}

impl EndpointType {
    /// A plain terminal.
    #[must_use]
    pub fn terminal() -> Self {
        Self {
            terminal: Some(NodeInfo::default()),
            ..Self::default()
        }
    }

    /// A gatekeeper.
    #[must_use]
    pub fn gatekeeper() -> Self {
        Self {
            gatekeeper: Some(NodeInfo::default()),
            ..Self::default()
        }
    }
}

/// `Q954Details`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct Q954Details {
    pub conference_calling: bool,
    pub three_party_service: bool,
}

/// `QseriesOptions`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct QseriesOptions {
    pub q932_full: bool,
    pub q951_full: bool,
    pub q952_full: bool,
    pub q953_full: bool,
    pub q955_full: bool,
    pub q956_full: bool,
    pub q957_full: bool,
    pub q954_info: Q954Details,
}

/// `CallIdentifier`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct CallIdentifier {
    pub guid: Guid,
}

impl CallIdentifier {
    /// A call identifier from its 16 octets.
    #[must_use]
    pub fn new(guid: [u8; 16]) -> Self {
        Self {
            guid: FixedOctetString::new(guid),
        }
    }
}

/// `CallType`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum CallType {
    PointToPoint(()),
    OneToN(()),
    NToOne(()),
    NToN(()),
}

/// `CallModel`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum CallModel {
    Direct(()),
    GatekeeperRouted(()),
}

/// `SecurityErrors`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum SecurityErrors {
    SecurityWrongSyncTime(()),
    SecurityReplay(()),
    SecurityWrongGeneralId(()),
    SecurityWrongSendersId(()),
    SecurityIntegrityFailed(()),
    SecurityWrongOid(()),
    SecurityDhMismatch(()),
    SecurityCertificateExpired(()),
    SecurityCertificateDateInvalid(()),
    SecurityCertificateRevoked(()),
    SecurityCertificateNotReadable(()),
    SecurityCertificateSignatureInvalid(()),
    SecurityCertificateMissing(()),
    SecurityCertificateIncomplete(()),
    SecurityUnsupportedCertificateAlgOid(()),
    SecurityUnknownCa(()),
}

/// `SecurityErrors2`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(choice, automatic_tags)]
#[non_exhaustive]
pub enum SecurityErrors2 {
    SecurityWrongSyncTime(()),
    SecurityReplay(()),
    SecurityWrongGeneralId(()),
    SecurityWrongSendersId(()),
    SecurityIntegrityFailed(()),
    SecurityWrongOid(()),
}

/// `ICV`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
pub struct Icv {
    pub algorithm_oid: ObjectIdentifier,
    pub icv: BitString,
}

/// `TransportChannelInfo`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct TransportChannelInfo {
    pub send_address: Option<TransportAddress>,
    pub recv_address: Option<TransportAddress>,
}

/// `RTPSession`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct RtpSession {
    pub rtp_address: TransportChannelInfo,
    pub rtcp_address: TransportChannelInfo,
    pub cname: PrintableString,
    #[rasn(value("1..=4294967295"))]
    pub ssrc: u32,
    #[rasn(value("1..=255"))]
    pub session_id: u8,
    pub associated_session_ids: SequenceOf<SessionId>,
    #[rasn(extension_addition)]
    pub multicast: Option<()>,
    #[rasn(extension_addition)]
    pub bandwidth: Option<u32>,
}

/// `INTEGER (1..255)` as an element of `associatedSessionIds`.
#[derive(AsnType, Encode, Decode, Debug, Clone, Copy, PartialEq, Eq)]
#[rasn(delegate, value("1..=255"))]
pub struct SessionId(pub u8);

/// `CallLinkage`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct CallLinkage {
    pub global_call_id: Option<Guid>,
    pub thread_id: Option<Guid>,
}

/// `UUIEsRequested`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct UuiesRequested {
    pub setup: bool,
    pub call_proceeding: bool,
    pub connect: bool,
    pub alerting: bool,
    pub information: bool,
    pub release_complete: bool,
    pub facility: bool,
    pub progress: bool,
    pub empty: bool,
    #[rasn(extension_addition)]
    pub status: Option<bool>,
    #[rasn(extension_addition)]
    pub status_inquiry: Option<bool>,
    #[rasn(extension_addition)]
    pub setup_acknowledge: Option<bool>,
    #[rasn(extension_addition)]
    pub notify: Option<bool>,
}

/// `ProtocolIdentifier`; defaults to H.225.0 version 7 `{0 0 8 2250 0 7}`.
#[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq)]
#[rasn(delegate)]
pub struct ProtocolIdentifier(pub ObjectIdentifier);

/// The H.225.0 version 7 protocol identifier's arcs.
pub const H225_V7_ARCS: [u32; 6] = [0, 0, 8, 2250, 0, 7];

impl Default for ProtocolIdentifier {
    fn default() -> Self {
        Self(ObjectIdentifier::new_unchecked(std::borrow::Cow::Borrowed(
            &H225_V7_ARCS,
        )))
    }
}

impl Default for TransportAddress {
    fn default() -> Self {
        Self::IpAddress(IpAddress {
            ip: FixedOctetString::new([0; 4]),
            port: 0,
        })
    }
}

impl Default for CallType {
    fn default() -> Self {
        Self::PointToPoint(())
    }
}

impl Default for CallModel {
    fn default() -> Self {
        Self::Direct(())
    }
}

impl Default for NonStandardIdentifier {
    fn default() -> Self {
        Self::H221NonStandard(H221NonStandard::default())
    }
}

impl Default for CallIdentifier {
    fn default() -> Self {
        Self::new([0; 16])
    }
}
