//! Guardian key material: `keygen` for `engine keygen --id …`, the private
//! key file format, and hex helpers.

use ed25519_dalek::SigningKey;
use rand_core::OsRng;

/// Errors reading a private key file.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The file is not the expected YAML.
    #[error("private key file: {0}")]
    Format(String),
    /// `private_key_hex` is not 64 hex characters.
    #[error("private_key_hex must be 64 hex characters (32 bytes)")]
    BadHex,
}

/// The output of [`keygen`].
#[derive(Debug, Clone)]
pub struct KeyPairFiles {
    /// A registry entry (a YAML list item) to paste under `guardians:`.
    pub registry_entry_yaml: String,
    /// The private key file's contents (keep secret, mode 0600).
    pub private_key_file: String,
}

/// Lower-case hex of `bytes`.
#[must_use]
pub fn to_hex(bytes: &[u8]) -> String {
    crate::ras::samples::to_hex(bytes)
}

/// Parses exactly `N` bytes of hex (upper or lower case).
#[must_use]
pub fn parse_hex<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let hex = hex.as_bytes();
    if hex.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        *o = u8::try_from(hi << 4 | lo).ok()?;
    }
    Some(out)
}

fn yaml_quote(s: &str) -> String {
    // A double-quoted YAML scalar: escape backslash and quote.
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Generates a key pair for `terminal_id` from the OS random source. The
/// registry entry uses `bandwidth_quota_bps` 2,500,000 (the deployment
/// documents' value) and a placeholder role to edit.
#[must_use]
pub fn keygen(terminal_id: &str) -> KeyPairFiles {
    keygen_from(terminal_id, &SigningKey::generate(&mut OsRng))
}

/// As [`keygen`], for a given key (deterministic tests).
#[must_use]
pub fn keygen_from(terminal_id: &str, key: &SigningKey) -> KeyPairFiles {
    let public = to_hex(key.verifying_key().as_bytes());
    let id = yaml_quote(terminal_id);
    let registry_entry_yaml = format!(
        "  - terminal_id: {id}\n    role: \"Guardian\"\n    public_key_hex: \"{public}\"\n    bandwidth_quota_bps: 2500000\n"
    );
    let private_key_file = format!(
        "# Ed25519 private key of a guardian. Keep it secret (chmod 600).\nterminal_id: {id}\nprivate_key_hex: \"{}\"\n",
        to_hex(key.as_bytes())
    );
    KeyPairFiles {
        registry_entry_yaml,
        private_key_file,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivateKeyFile {
    terminal_id: String,
    private_key_hex: String,
}

/// Reads a private key file written by [`keygen`]: `(terminal_id, key)`.
pub fn parse_private_key_file(text: &str) -> Result<(String, SigningKey), KeyError> {
    let file: PrivateKeyFile =
        serde_yaml::from_str(text).map_err(|e| KeyError::Format(e.to_string()))?;
    let seed = parse_hex::<32>(&file.private_key_hex).ok_or(KeyError::BadHex)?;
    Ok((file.terminal_id, SigningKey::from_bytes(&seed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_files_round_trip() {
        let files = keygen("if://guardian/x");
        let (id, key) = parse_private_key_file(&files.private_key_file).expect("parse");
        assert_eq!(id, "if://guardian/x");
        assert!(files
            .registry_entry_yaml
            .contains(&to_hex(key.verifying_key().as_bytes())));
    }

    #[test]
    fn hex_rejects_bad_input() {
        assert_eq!(parse_hex::<2>("0aFf"), Some([0x0a, 0xff]));
        assert_eq!(parse_hex::<2>("0aF"), None);
        assert_eq!(parse_hex::<2>("0aFg"), None);
        assert_eq!(parse_hex::<2>("é0a"), None);
    }
}
