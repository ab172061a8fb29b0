//! 16-bit mono WAV files, for recordings a person can listen to.

use std::io::{self, Write};

/// Writes `samples` as a 16-bit PCM mono WAV at `sample_rate_hz`.
pub fn write_wav(
    out: &mut impl Write,
    sample_rate_hz: u32,
    samples: impl ExactSizeIterator<Item = i16>,
) -> io::Result<()> {
    let data_bytes = u32::try_from(samples.len() * 2)
        .map_err(|_| io::Error::other("recording too long for WAV"))?;
    let mut header = Vec::with_capacity(44);
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    header.extend_from_slice(&1u16.to_le_bytes()); // PCM
    header.extend_from_slice(&1u16.to_le_bytes()); // mono
    header.extend_from_slice(&sample_rate_hz.to_le_bytes());
    header.extend_from_slice(&(sample_rate_hz * 2).to_le_bytes()); // byte rate
    header.extend_from_slice(&2u16.to_le_bytes()); // block align
    header.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data_bytes.to_le_bytes());
    out.write_all(&header)?;
    let mut body = Vec::with_capacity(data_bytes as usize);
    for s in samples {
        body.extend_from_slice(&s.to_le_bytes());
    }
    out.write_all(&body)
}

#[cfg(test)]
mod tests {
    use super::write_wav;

    #[test]
    fn header_matches_the_riff_layout() {
        let mut out = Vec::new();
        write_wav(&mut out, 48_000, [1i16, -2, 3].into_iter()).unwrap();
        assert_eq!(out.len(), 44 + 6);
        assert_eq!(&out[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(out[4..8].try_into().unwrap()), 36 + 6);
        assert_eq!(u32::from_le_bytes(out[24..28].try_into().unwrap()), 48_000);
        assert_eq!(&out[36..40], b"data");
        assert_eq!(i16::from_le_bytes([out[46], out[47]]), -2);
    }
}
