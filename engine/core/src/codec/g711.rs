//! ITU-T G.711 μ-law and A-law companding, bit-exact with the ITU-T G.191
//! Software Tool Library reference (`g711.c`: `ulaw_compress`/`ulaw_expand`,
//! `alaw_compress`/`alaw_expand`).
//!
//! Linear samples are 16-bit, left-justified as in G.191: μ-law uses the top
//! 14 bits, A-law the top 13. Decoding goes through 256-entry tables built at
//! compile time from the same expansion formulas; encoding runs the segment
//! search directly (a handful of integer operations per sample).

/// Bytes in one 20 ms G.711 payload (8 kHz, one byte per sample).
pub const FRAME_BYTES: usize = 160;

/// Which G.711 companding law.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum G711Law {
    /// μ-law (North America, Japan; RTP PCMU).
    Mu,
    /// A-law (Europe and elsewhere; RTP PCMA).
    A,
}

impl G711Law {
    /// Compresses one 16-bit linear sample to a code byte.
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Self::Mu => ulaw_encode(sample),
            Self::A => alaw_encode(sample),
        }
    }

    /// Expands one code byte to a 16-bit linear sample.
    pub fn decode(self, code: u8) -> i16 {
        match self {
            Self::Mu => ULAW_DECODE[usize::from(code)],
            Self::A => ALAW_DECODE[usize::from(code)],
        }
    }
}

/// μ-law expansion of every code byte, indexed by code.
pub const ULAW_DECODE: [i16; 256] = ulaw_table();
/// A-law expansion of every code byte, indexed by code.
pub const ALAW_DECODE: [i16; 256] = alaw_table();

/// Compresses a 16-bit linear sample to μ-law (G.191 `ulaw_compress`).
pub fn ulaw_encode(sample: i16) -> u8 {
    // One's complement for negatives keeps the decision thresholds symmetric
    // (G.191); 33 is the μ-law bias in 14-bit units.
    let magnitude = if sample < 0 { !sample } else { sample };
    let biased = ((i32::from(magnitude) >> 2) + 33).min(0x1FFF);
    // Segment number 1..=8: position of the leading one above bit 5.
    let segment = 32 - (biased >> 6).leading_zeros() as i32 + 1;
    let high = 8 - segment;
    let low = 0x0F - ((biased >> segment) & 0x0F);
    let code = ((high << 4) | low) as u8;
    if sample >= 0 {
        code | 0x80
    } else {
        code
    }
}

/// Compresses a 16-bit linear sample to A-law (G.191 `alaw_compress`).
pub fn alaw_encode(sample: i16) -> u8 {
    // One's complement for negatives, then the 12-bit magnitude.
    let magnitude = if sample < 0 { !sample } else { sample };
    let mut ix = i32::from(magnitude) >> 4;
    if ix > 15 {
        let mut exponent = 1;
        while ix > 16 + 15 {
            ix >>= 1;
            exponent += 1;
        }
        // Drop the leading one, then put the exponent above the mantissa.
        ix = (ix - 16) + (exponent << 4);
    }
    if sample >= 0 {
        ix |= 0x80;
    }
    // A-law inverts the even bits on the line.
    (ix ^ 0x55) as u8
}

/// G.191 `ulaw_expand`: sign · ((0x80 << e) + step·m + step/2 − 4·33), step = 4 << (e + 1),
/// with e and m read from the one's complement of the code.
const fn ulaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code: i32 = 0;
    while code < 256 {
        let inverted = !code & 0xFF;
        let exponent = (inverted >> 4) & 0x07;
        let mantissa = inverted & 0x0F;
        let step = 4 << (exponent + 1);
        let magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * 33;
        // Codes below 0x80 are negative (the sign bit is 0 on the line).
        table[code as usize] = (if code < 0x80 { -magnitude } else { magnitude }) as i16;
        code += 1;
    }
    table
}

/// G.191 `alaw_expand`: with x = code ^ 0x55, e = bits 6..4, m = bits 3..0,
/// |y| = ((m + 16·[e > 0]) << 4 | 8) << max(e − 1, 0); code ≥ 0x80 is positive.
const fn alaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code: i32 = 0;
    while code < 256 {
        let ix = (code ^ 0x55) & 0x7F;
        let exponent = ix >> 4;
        let mut mantissa = ix & 0x0F;
        if exponent > 0 {
            mantissa += 16;
        }
        let mut magnitude = (mantissa << 4) + 8;
        if exponent > 1 {
            magnitude <<= exponent - 1;
        }
        table[code as usize] = (if code > 127 { magnitude } else { -magnitude }) as i16;
        code += 1;
    }
    table
}

/// Compresses `pcm` into `out` (same length) with `law`.
pub fn encode_slice(law: G711Law, pcm: &[i16], out: &mut [u8]) {
    for (code, &sample) in out.iter_mut().zip(pcm) {
        *code = law.encode(sample);
    }
}

/// Expands `codes` into `out` (same length) with `law`.
pub fn decode_slice(law: G711Law, codes: &[u8], out: &mut [i16]) {
    let table = match law {
        G711Law::Mu => &ULAW_DECODE,
        G711Law::A => &ALAW_DECODE,
    };
    for (sample, &code) in out.iter_mut().zip(codes) {
        *sample = table[usize::from(code)];
    }
}
