//! Source description (SDES, packet type 202): chunks of (type, text) items
//! per source; the mixer needs only CNAME.

use super::header::{be_u32, take, write_header, HEADER_LEN};
use super::{RtcpError, PT_SDES, SDES_CNAME};

/// A parsed SDES packet, every chunk already checked to lie in bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdes<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> Sdes<'a> {
    /// Parses an SDES body (after the common header) with `count` chunks.
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtcpError> {
        let mut rest = body;
        for _ in 0..count {
            rest = next_chunk(rest)?.1;
        }
        Ok(Sdes { count, body })
    }

    /// The chunks, one per source.
    pub fn chunks(&self) -> SdesChunks<'a> {
        SdesChunks {
            rest: self.body,
            remaining: self.count,
        }
    }

    /// The first source's SSRC and CNAME, if any chunk carries a CNAME.
    pub fn first_cname(&self) -> Option<(u32, &'a [u8])> {
        self.chunks()
            .find_map(|chunk| chunk.cname().map(|cname| (chunk.ssrc, cname)))
    }
}

/// Splits the first chunk off `body`: the chunk and what follows it.
fn next_chunk(body: &[u8]) -> Result<(SdesChunk<'_>, &[u8]), RtcpError> {
    let Some((ssrc, after)) = body.split_first_chunk::<4>() else {
        return Err(RtcpError::SdesOverflow);
    };
    // Items run until a null type byte; `items_len` grows every turn, so the
    // loop ends within `after.len()` steps.
    let mut items_len = 0;
    loop {
        match after.get(items_len) {
            None => return Err(RtcpError::SdesOverflow),
            Some(0) => break,
            Some(_) => {
                let Some(&len) = after.get(items_len + 1) else {
                    return Err(RtcpError::SdesOverflow);
                };
                items_len += 2 + usize::from(len);
                if items_len > after.len() {
                    return Err(RtcpError::SdesOverflow);
                }
            }
        }
    }
    // The null byte, then more nulls up to the next 32-bit boundary; a
    // sender that ends the packet early is forgiven.
    let chunk_len = (4 + items_len + 1).next_multiple_of(4).min(body.len());
    let chunk = SdesChunk {
        ssrc: be_u32(ssrc, 0),
        items: &after[..items_len],
    };
    Ok((chunk, &body[chunk_len..]))
}

/// Iterator over the chunks of an SDES packet.
#[derive(Debug, Clone)]
pub struct SdesChunks<'a> {
    rest: &'a [u8],
    remaining: u8,
}

impl<'a> Iterator for SdesChunks<'a> {
    type Item = SdesChunk<'a>;

    fn next(&mut self) -> Option<SdesChunk<'a>> {
        self.remaining = self.remaining.checked_sub(1)?;
        // Parsing checked every chunk, so this cannot fail; stop if it does.
        let (chunk, rest) = next_chunk(self.rest).ok()?;
        self.rest = rest;
        Some(chunk)
    }
}

/// One source's chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: u32,
    items: &'a [u8],
}

impl<'a> SdesChunk<'a> {
    /// The items of this chunk.
    pub fn items(&self) -> SdesItems<'a> {
        SdesItems { rest: self.items }
    }

    /// The CNAME item's text, if present.
    pub fn cname(&self) -> Option<&'a [u8]> {
        self.items()
            .find_map(|item| (item.kind == SDES_CNAME).then_some(item.text))
    }
}

/// Iterator over the items of a chunk.
#[derive(Debug, Clone)]
pub struct SdesItems<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for SdesItems<'a> {
    type Item = SdesItem<'a>;

    fn next(&mut self) -> Option<SdesItem<'a>> {
        let (&kind, after) = self.rest.split_first()?;
        let (&len, after) = after.split_first()?;
        let text = after.get(..usize::from(len))?;
        self.rest = &after[usize::from(len)..];
        Some(SdesItem { kind, text })
    }
}

/// One SDES item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesItem<'a> {
    /// The item type (1 = CNAME, 2 = NAME, ...).
    pub kind: u8,
    /// The item text, UTF-8 by the RFC but unchecked here.
    pub text: &'a [u8],
}

/// Writes an SDES packet with one chunk holding `cname` (at most 255 bytes);
/// returns its length.
pub fn write_sdes_cname(ssrc: u32, cname: &[u8], out: &mut [u8]) -> Result<usize, RtcpError> {
    let Ok(cname_len) = u8::try_from(cname.len()) else {
        return Err(RtcpError::TooMany);
    };
    // SSRC, type, length, text, then at least one null to end the item list.
    let chunk_len = (4 + 2 + cname.len() + 1).next_multiple_of(4);
    let len = HEADER_LEN + chunk_len;
    let out = take(out, len)?;
    write_header(out, 1, PT_SDES);
    out[4..8].copy_from_slice(&ssrc.to_be_bytes());
    out[8] = SDES_CNAME;
    out[9] = cname_len;
    out[10..10 + cname.len()].copy_from_slice(cname);
    out[10 + cname.len()..].fill(0);
    Ok(len)
}
