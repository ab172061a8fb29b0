//! HMAC-SHA-256 (RFC 2104) over `sha2`, which is already in the tree: the
//! gatekeeper pair shares one key, so a MAC is all the peer link needs, and a
//! dozen lines here avoid another dependency.

use sha2::{Digest, Sha256};

/// Length of a tag, octets.
pub const TAG_BYTES: usize = 32;
const BLOCK_BYTES: usize = 64;

/// HMAC-SHA-256 of `message` under `key`.
#[must_use]
pub fn tag(key: &[u8], message: &[u8]) -> [u8; TAG_BYTES] {
    let mut block = [0u8; BLOCK_BYTES];
    if key.len() > BLOCK_BYTES {
        block[..TAG_BYTES].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Whether `expected` is the tag of `message`, compared in constant time.
#[must_use]
pub fn verify(key: &[u8], message: &[u8], expected: &[u8]) -> bool {
    let actual = tag(key, message);
    if expected.len() != TAG_BYTES {
        return false;
    }
    actual
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn rfc4231_test_cases_2_and_6() {
        assert_eq!(
            hex(&tag(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // A key longer than the block is hashed first.
        assert_eq!(
            hex(&tag(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert!(verify(b"k", b"m", &tag(b"k", b"m")));
        assert!(!verify(b"k", b"n", &tag(b"k", b"m")));
        assert!(!verify(b"k", b"m", &[0; 5]));
    }
}
