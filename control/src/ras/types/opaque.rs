//! `Opaque`: the raw contents of an open type (an extension addition or an
//! extension alternative of a CHOICE) whose ASN.1 type this crate does not
//! model, such as H.245's `QOSCapability` or H.225.0's `H323-UU-PDU`.
//!
//! Aligned PER wraps every extension addition and every extension alternative
//! in a length-prefixed open type, so a value can be carried without knowing
//! its type: decoding keeps the bits of the open type as they came, and
//! encoding writes them back unchanged. Declaring these components (instead
//! of leaving them out) keeps CHOICE indexes and extension bitmaps right, so
//! our encodings are canonical and byte-comparable with other encoders.
//!
//! It must only be used where the codec wraps it in an open type: as a root
//! component it would swallow the rest of the message.

use rasn::prelude::*;

/// The largest open type we keep, in bits: a UDP datagram cannot be larger.
const OPAQUE_BITS_MAX: usize = 65_536 * 8;

/// Bits of an open type whose contents this crate does not interpret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Opaque {
    bits: Vec<bool>,
}

impl Opaque {
    /// The number of bits kept (a whole number of octets for PER open types).
    #[must_use]
    pub fn bit_len(&self) -> usize {
        self.bits.len()
    }
}

impl AsnType for Opaque {
    const TAG: Tag = Tag::EOC;
}

impl Encode for Opaque {
    fn encode_with_tag_and_constraints<'b, E: Encoder<'b>>(
        &self,
        encoder: &mut E,
        tag: Tag,
        _constraints: &Constraints,
        identifier: Identifier,
    ) -> Result<(), E::Error> {
        // A PER BOOLEAN is exactly one unaligned bit, so writing the kept bits
        // as booleans reproduces the open type's contents bit for bit.
        for &bit in &self.bits {
            encoder.encode_bool(tag, bit, identifier)?;
        }
        Ok(())
    }
}

impl Decode for Opaque {
    fn decode_with_tag_and_constraints<D: Decoder>(
        decoder: &mut D,
        tag: Tag,
        _constraints: &Constraints,
    ) -> Result<Self, D::Error> {
        // Inside an open type the decoder only sees the open type's octets:
        // read bits until they run out (the open type is then fully consumed).
        let mut bits = Vec::new();
        while bits.len() < OPAQUE_BITS_MAX {
            match decoder.decode_bool(tag) {
                Ok(bit) => bits.push(bit),
                Err(_) => break,
            }
        }
        Ok(Self { bits })
    }
}
