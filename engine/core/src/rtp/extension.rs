//! RFC 8285 header extensions: the one-byte (0xBEDE) and two-byte (0x100X)
//! element forms, read lazily from the block and written into a caller buffer.

use super::RtpError;

/// Which RFC 8285 element form a header extension block uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionForm {
    /// Profile 0xBEDE: ids 1..=14, 1..=16 data bytes per element.
    OneByte,
    /// Profile 0x100X: ids 1..=255, 0..=255 data bytes per element.
    TwoByte,
}

impl ExtensionForm {
    /// Profile word of the one-byte form.
    pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
    /// Profile word of the two-byte form, with the 4 "appbits" set to 0.
    pub const TWO_BYTE_PROFILE: u16 = 0x1000;

    /// The form a profile word announces, or `None` for a non-RFC 8285 block.
    pub fn from_profile(profile: u16) -> Option<Self> {
        match profile {
            Self::ONE_BYTE_PROFILE => Some(ExtensionForm::OneByte),
            // The low 4 bits are application-defined "appbits" (RFC 8285 4.3).
            p if p & 0xfff0 == Self::TWO_BYTE_PROFILE => Some(ExtensionForm::TwoByte),
            _ => None,
        }
    }

    /// The profile word this form writes.
    pub fn profile(self) -> u16 {
        match self {
            ExtensionForm::OneByte => Self::ONE_BYTE_PROFILE,
            ExtensionForm::TwoByte => Self::TWO_BYTE_PROFILE,
        }
    }

    /// Whether an element with `id` and `len_bytes` of data fits this form.
    pub fn fits(self, id: u8, len_bytes: usize) -> bool {
        match self {
            ExtensionForm::OneByte => (1..=14).contains(&id) && (1..=16).contains(&len_bytes),
            ExtensionForm::TwoByte => id != 0 && len_bytes <= 255,
        }
    }

    /// Bytes an element of `len_bytes` takes on the wire, id and length included.
    fn element_len(self, len_bytes: usize) -> usize {
        match self {
            ExtensionForm::OneByte => 1 + len_bytes,
            ExtensionForm::TwoByte => 2 + len_bytes,
        }
    }
}

/// The raw header extension block of a packet: profile word and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderExtension<'a> {
    /// The 16-bit "defined by profile" word.
    pub profile: u16,
    /// The body, a whole number of 32-bit words.
    pub data: &'a [u8],
}

impl<'a> HeaderExtension<'a> {
    /// The RFC 8285 form of this block, if it is one.
    pub fn form(&self) -> Option<ExtensionForm> {
        ExtensionForm::from_profile(self.profile)
    }

    /// The elements of this block; empty for a non-RFC 8285 profile.
    pub fn elements(&self) -> ExtensionElements<'a> {
        ExtensionElements {
            data: self.data,
            form: self.form(),
        }
    }

    /// The data of the first element with `id`, stopping at a malformed one.
    pub fn get(&self, id: u8) -> Option<&'a [u8]> {
        self.elements()
            .map_while(Result::ok)
            .find_map(|(eid, data)| (eid == id).then_some(data))
    }
}

/// Iterator over RFC 8285 elements as `(id, data)`.
///
/// Padding bytes are skipped; a one-byte id 15 ends the block (RFC 8285 4.2).
/// An element whose length runs past the block yields one
/// [`RtpError::BadExtensionElement`] and then the iterator ends.
#[derive(Debug, Clone)]
pub struct ExtensionElements<'a> {
    data: &'a [u8],
    form: Option<ExtensionForm>,
}

impl<'a> ExtensionElements<'a> {
    /// An iterator that yields nothing.
    pub(crate) fn empty() -> Self {
        ExtensionElements {
            data: &[],
            form: None,
        }
    }

    fn fail(&mut self) -> Option<Result<(u8, &'a [u8]), RtpError>> {
        self.data = &[];
        Some(Err(RtpError::BadExtensionElement))
    }
}

impl<'a> Iterator for ExtensionElements<'a> {
    type Item = Result<(u8, &'a [u8]), RtpError>;

    fn next(&mut self) -> Option<Self::Item> {
        let form = self.form?;
        // Each turn consumes at least one byte, so the loop is bounded by the
        // block length (at most 262,140 bytes).
        loop {
            let (&first, rest) = self.data.split_first()?;
            let (id, len, rest) = match form {
                ExtensionForm::OneByte => {
                    let id = first >> 4;
                    if id == 15 {
                        self.data = &[];
                        return None;
                    }
                    (id, usize::from(first & 0x0f) + 1, rest)
                }
                ExtensionForm::TwoByte => {
                    if first == 0 {
                        self.data = rest;
                        continue;
                    }
                    let Some((&len, rest)) = rest.split_first() else {
                        return self.fail();
                    };
                    (first, usize::from(len), rest)
                }
            };
            if id == 0 {
                // One-byte padding: a single byte, its length nibble ignored.
                self.data = rest;
                continue;
            }
            if len > rest.len() {
                return self.fail();
            }
            let (data, rest) = rest.split_at(len);
            self.data = rest;
            return Some(Ok((id, data)));
        }
    }
}

/// Body length of an extension block holding `extensions`, padded to 32 bits.
pub(crate) fn block_body_len(
    extensions: &[(u8, &[u8])],
    form: ExtensionForm,
) -> Result<usize, RtpError> {
    let mut len = 0usize;
    for &(id, data) in extensions {
        if !form.fits(id, data.len()) {
            return Err(RtpError::BadExtension {
                id,
                len: data.len(),
            });
        }
        len += form.element_len(data.len());
    }
    let padded = len.next_multiple_of(4);
    if padded / 4 > usize::from(u16::MAX) {
        return Err(RtpError::TooMany);
    }
    Ok(padded)
}

/// Writes the preamble and elements of an extension block into `out`, which
/// must be exactly `4 + block_body_len(..)` bytes long.
pub(crate) fn write_block(extensions: &[(u8, &[u8])], form: ExtensionForm, out: &mut [u8]) {
    let words = (out.len() - 4) / 4;
    out[..2].copy_from_slice(&form.profile().to_be_bytes());
    // block_body_len already checked that the word count fits in 16 bits.
    out[2..4].copy_from_slice(&(words as u16).to_be_bytes());
    let mut pos = 4;
    for &(id, data) in extensions {
        match form {
            ExtensionForm::OneByte => {
                out[pos] = (id << 4) | (data.len() as u8 - 1);
                pos += 1;
            }
            ExtensionForm::TwoByte => {
                out[pos] = id;
                out[pos + 1] = data.len() as u8;
                pos += 2;
            }
        }
        out[pos..pos + data.len()].copy_from_slice(data);
        pos += data.len();
    }
    out[pos..].fill(0);
}
