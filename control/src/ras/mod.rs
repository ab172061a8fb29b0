//! H.225.0 RAS codec: aligned PER with rasn, plus a small hand-written peek at
//! the message header so that even a datagram that fails to decode can be
//! answered (XRS) when its request sequence number is readable.

pub mod samples;
pub mod types;

pub use types::RasMessage;

/// The largest RAS datagram accepted. Real RAS messages are a few hundred
/// octets; anything larger is refused before decoding.
pub const DATAGRAM_BYTES_MAX: usize = 4096;

/// How much of a not-understood message an XRS echoes back. Bounded so that a
/// spoofed datagram cannot make the gatekeeper send more than it received.
pub const XRS_ECHO_BYTES_MAX: usize = 256;

/// Errors of the RAS codec.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The datagram was empty.
    #[error("empty datagram")]
    Empty,
    /// The datagram is larger than [`DATAGRAM_BYTES_MAX`].
    #[error("datagram of {0} bytes exceeds the {DATAGRAM_BYTES_MAX}-byte limit")]
    Oversize(usize),
    /// The bytes are not a valid aligned-PER `RasMessage`.
    #[error("malformed RAS message: {0}")]
    Malformed(String),
    /// A valid message was followed by extra bytes.
    #[error("{0} trailing bytes after the RAS message")]
    TrailingBytes(usize),
    /// A message could not be encoded (a value outside its constraints).
    #[error("cannot encode RAS message: {0}")]
    Encode(String),
}

/// Decodes one datagram as a `RasMessage`. Never panics; every failure is a
/// typed error.
pub fn decode(datagram: &[u8]) -> Result<RasMessage, CodecError> {
    if datagram.is_empty() {
        return Err(CodecError::Empty);
    }
    if datagram.len() > DATAGRAM_BYTES_MAX {
        return Err(CodecError::Oversize(datagram.len()));
    }
    let (message, rest) = rasn::aper::decode_with_remainder::<RasMessage>(datagram)
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CodecError::TrailingBytes(rest.len()));
    }
    Ok(message)
}

/// Encodes a `RasMessage` in aligned PER.
pub fn encode(message: &RasMessage) -> Result<Vec<u8>, CodecError> {
    rasn::aper::encode(message).map_err(|e| CodecError::Encode(e.to_string()))
}

/// What can be read from the first octets of a RAS datagram without decoding
/// it: which message it claims to be and, for most requests, its sequence
/// number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The `RasMessage` CHOICE index (0..=24 root, 25.. extensions).
    pub kind_index: u8,
    /// `requestSeqNum`, when it is the message's first component.
    pub request_seq_num: Option<u16>,
}

/// Number of OPTIONAL root components of each root `RasMessage` alternative,
/// in CHOICE order; `None` where `requestSeqNum` is not the first component
/// (IRR starts with an optional `nonStandardData`).
const ROOT_OPTIONALS: [Option<u8>; 25] = [
    Some(4), // GRQ
    Some(2), // GCF
    Some(2), // GRJ
    Some(3), // RRQ
    Some(3), // RCF
    Some(2), // RRJ
    Some(3), // URQ
    Some(1), // UCF
    Some(1), // URJ
    Some(7), // ARQ
    Some(2), // ACF
    Some(1), // ARJ
    Some(2), // BRQ
    Some(1), // BCF
    Some(1), // BRJ
    Some(1), // DRQ
    Some(1), // DCF
    Some(1), // DRJ
    Some(2), // LRQ
    Some(1), // LCF
    Some(1), // LRJ
    Some(2), // IRQ
    None,    // IRR
    Some(0), // NonStandardMessage
    Some(0), // XRS
];

/// Reads the header of a datagram without decoding the rest. Returns `None`
/// when even the header is unreadable.
#[must_use]
pub fn peek(datagram: &[u8]) -> Option<Header> {
    let first = *datagram.first()?;
    let extended = first & 0x80 != 0;
    if extended {
        // Extension alternative: a normally small number follows the bit.
        let small = first & 0x40 == 0;
        if !small {
            return None;
        }
        let index = 25 + (first & 0x3f);
        return Some(Header {
            kind_index: index,
            request_seq_num: peek_extension(index, datagram),
        });
    }
    let index = (first >> 2) & 0x1f;
    let Some(optionals) = *ROOT_OPTIONALS.get(usize::from(index))? else {
        return Some(Header {
            kind_index: index,
            request_seq_num: None,
        });
    };
    // Bits used so far: 1 (choice ext) + 5 (index) + 1 (sequence ext) +
    // optionals; requestSeqNum (1..65535) is 16 bits, octet-aligned.
    let bits = 7 + usize::from(optionals);
    let offset = bits.div_ceil(8);
    let raw = u16::from_be_bytes([*datagram.get(offset)?, *datagram.get(offset + 1)?]);
    let request_seq_num = raw.checked_add(1)?;
    Some(Header {
        kind_index: index,
        request_seq_num: Some(request_seq_num),
    })
}

/// Number of OPTIONAL root components of the extension alternatives 25..=31
/// (RIP, RAI, RAC, IACK, INAK, SCI, SCR); all start with `requestSeqNum`.
const EXTENSION_OPTIONALS: [u8; 7] = [4, 4, 4, 4, 5, 8, 7];

/// `requestSeqNum` of an extension alternative: after the index octet comes
/// the open type's length (one octet below 128, else two), then the SEQUENCE
/// preamble (extension bit + optional bits, octet-aligned), then the number.
fn peek_extension(index: u8, datagram: &[u8]) -> Option<u16> {
    let optionals = *EXTENSION_OPTIONALS.get(usize::from(index.checked_sub(25)?))?;
    let len_octets = if *datagram.get(1)? & 0x80 == 0 { 1 } else { 2 };
    let offset = 1 + len_octets + (1 + usize::from(optionals)).div_ceil(8);
    let raw = u16::from_be_bytes([*datagram.get(offset)?, *datagram.get(offset + 1)?]);
    raw.checked_add(1)
}

/// Builds the XRS (`unknownMessageResponse`) for a message not understood.
#[must_use]
pub fn unknown_message_response(request_seq_num: u16, datagram: &[u8]) -> RasMessage {
    let echoed = &datagram[..datagram.len().min(XRS_ECHO_BYTES_MAX)];
    RasMessage::UnknownMessageResponse(types::UnknownMessageResponse {
        request_seq_num,
        tokens: None,
        crypto_tokens: None,
        integrity_check_value: None,
        message_not_understood: Some(rasn::types::OctetString::from_slice(echoed)),
    })
}

/// Builds a `BMPString` from a Rust string. `BmpString::try_from(&str)` would
/// treat the UTF-8 bytes as UCS-2 pairs (shared/rasn-notes.md); characters
/// outside the Basic Multilingual Plane are replaced by U+FFFD.
#[must_use]
pub fn bmp(s: &str) -> rasn::types::BmpString {
    let be: Vec<u8> = s
        .chars()
        .map(|c| if u32::from(c) > 0xffff { '\u{fffd}' } else { c })
        .flat_map(|c| {
            let mut buf = [0u16; 2];
            let unit = c.encode_utf16(&mut buf)[0];
            unit.to_be_bytes()
        })
        .collect();
    // Every character is now a single BMP code unit, which cannot fail.
    rasn::types::BmpString::try_from(be).unwrap_or_default()
}

/// The Rust string of a `BMPString` (lossy for unpaired surrogates).
#[must_use]
pub fn bmp_to_string(s: &rasn::types::BmpString) -> String {
    let units: Vec<u16> = s
        .to_bytes()
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

#[cfg(test)]
mod tests {
    use rasn::prelude::*;

    use super::samples::{all, from_hex, to_hex};
    use super::*;

    #[test]
    fn samples_encode_byte_exact_and_decode_from_independent_encoder() {
        let mut failures = Vec::new();
        for s in all() {
            let ours = encode(&s.message).map(|b| to_hex(&b));
            if ours.as_deref() != Ok(s.hex) {
                failures.push(format!(
                    "{} encode: ours {:?}, independent {}",
                    s.name, ours, s.hex
                ));
            }
            match decode(&from_hex(s.hex)) {
                Ok(m) if m == s.message => {}
                other => failures.push(format!("{} decode: {:?}", s.name, other)),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// An UnregistrationConfirm from a "version 8" peer with one more
    /// extension addition than H.225.0 v7 declares.
    #[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
    #[rasn(automatic_tags)]
    #[non_exhaustive]
    struct UcfFromNewerPeer {
        #[rasn(value("1..=65535"))]
        request_seq_num: u16,
        non_standard_data: Option<types::NonStandardParameter>,
        #[rasn(extension_addition)]
        tokens: Option<Vec<types::ClearToken>>,
        #[rasn(extension_addition)]
        crypto_tokens: Option<Vec<types::CryptoH323Token>>,
        #[rasn(extension_addition)]
        integrity_check_value: Option<types::Icv>,
        #[rasn(extension_addition)]
        generic_data: Option<types::Opaque>,
        #[rasn(extension_addition)]
        assigned_gatekeeper: Option<types::Opaque>,
        #[rasn(extension_addition)]
        future_flag: Option<bool>,
        #[rasn(extension_addition)]
        future_text: Option<rasn::types::OctetString>,
    }

    #[test]
    fn unknown_extension_additions_from_newer_peers_are_skipped() {
        let newer = UcfFromNewerPeer {
            request_seq_num: 77,
            future_flag: Some(true),
            future_text: Some(rasn::types::OctetString::from_slice(b"v8")),
            ..UcfFromNewerPeer::default()
        };
        let bytes = rasn::aper::encode(&newer).expect("encode");
        let ours: types::UnregistrationConfirm =
            rasn::aper::decode(&bytes).expect("decode skips unknown additions");
        assert_eq!(ours.request_seq_num, 77);
        assert!(ours.tokens.is_none() && ours.generic_data.is_none());
    }

    #[test]
    fn opaque_additions_round_trip_unchanged() {
        // Components kept opaque must re-encode to the bytes received.
        let with_opaque = UcfFromNewerPeer {
            request_seq_num: 5,
            future_flag: Some(false),
            ..UcfFromNewerPeer::default()
        };
        let bytes = rasn::aper::encode(&with_opaque).expect("encode");
        // Decode as a type that keeps `future_flag`'s slot opaque.
        #[derive(AsnType, Encode, Decode, Debug, Clone, PartialEq, Eq, Default)]
        #[rasn(automatic_tags)]
        #[non_exhaustive]
        struct KeepsOpaque {
            #[rasn(value("1..=65535"))]
            request_seq_num: u16,
            non_standard_data: Option<types::NonStandardParameter>,
            #[rasn(extension_addition)]
            tokens: Option<Vec<types::ClearToken>>,
            #[rasn(extension_addition)]
            crypto_tokens: Option<Vec<types::CryptoH323Token>>,
            #[rasn(extension_addition)]
            integrity_check_value: Option<types::Icv>,
            #[rasn(extension_addition)]
            generic_data: Option<types::Opaque>,
            #[rasn(extension_addition)]
            assigned_gatekeeper: Option<types::Opaque>,
            #[rasn(extension_addition)]
            future_flag: Option<types::Opaque>,
            #[rasn(extension_addition)]
            future_text: Option<types::Opaque>,
        }
        let kept: KeepsOpaque = rasn::aper::decode(&bytes).expect("decode");
        assert_eq!(
            kept.future_flag.as_ref().map(types::Opaque::bit_len),
            Some(8)
        );
        assert_eq!(rasn::aper::encode(&kept).expect("encode"), bytes);
    }

    #[test]
    fn peek_reads_kind_and_seq_num_of_every_sample() {
        for s in all() {
            let bytes = from_hex(s.hex);
            let h = peek(&bytes).expect(s.name);
            assert_eq!(h.kind_index, s.message.kind_index(), "{}", s.name);
            if s.name != "irr" {
                assert_eq!(h.request_seq_num, s.message.request_seq_num(), "{}", s.name);
            }
        }
    }
}
