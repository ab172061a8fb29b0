//! The guardian registry: the deployment documents' YAML loads as-is, and each
//! kind of bad entry is reported with its file, line and field.

use std::path::Path;

use control::registry::{self, parse};
use control::security::keys::{keygen_from, to_hex};
use ed25519_dalek::SigningKey;

fn key_hex(seed: u8) -> String {
    to_hex(
        SigningKey::from_bytes(&[seed; 32])
            .verifying_key()
            .as_bytes(),
    )
}

fn file(entries: &[(&str, String, u64)]) -> String {
    let mut s = String::from("guardians:\n");
    for (id, key, quota) in entries {
        s += &format!(
            "  - terminal_id: \"{id}\"\n    role: \"Role\"\n    public_key_hex: \"{key}\"\n    bandwidth_quota_bps: {quota}\n"
        );
    }
    s
}

fn errors(text: &str) -> Vec<(usize, String, String)> {
    match parse(Path::new("reg.yaml"), text) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .errors
            .into_iter()
            .map(|e| (e.line, e.field, e.message))
            .collect(),
    }
}

#[test]
fn deployment_format_loads_and_summarises() {
    let text = format!(
        "guardians:\n  - terminal_id: \"if://guardian/technical\"\n    role: \"Technical Guardian (T-01)\"\n    public_key_hex: \"{}\"\n    bandwidth_quota_bps: 2500000\n",
        key_hex(1)
    );
    let reg = parse(Path::new("reg.yaml"), &text).expect("valid");
    let g = reg.get("if://guardian/technical").expect("present");
    assert_eq!(g.bandwidth_quota_bps, 2_500_000);
    assert_eq!(reg.summary().guardians, 1);
}

#[test]
fn bad_hex_and_wrong_length_point_at_the_line() {
    let bad = "zz".repeat(32);
    let text = file(&[
        ("a", key_hex(1), 1000),
        ("b", bad, 1000),
        ("c", "abcd".into(), 1000),
    ]);
    let errs = errors(&text);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(
        (errs[0].0, errs[0].1.as_str()),
        (8, "guardians[1].public_key_hex")
    );
    assert!(errs[0].2.contains("not hex"));
    assert_eq!(
        (errs[1].0, errs[1].1.as_str()),
        (12, "guardians[2].public_key_hex")
    );
    assert!(errs[1].2.contains("4 characters"));
}

#[test]
fn duplicate_terminal_id_and_key_are_rejected() {
    let text = file(&[
        ("a", key_hex(1), 1000),
        ("a", key_hex(2), 1000),
        ("c", key_hex(1), 1000),
    ]);
    let errs = errors(&text);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(
        (errs[0].0, errs[0].1.as_str()),
        (6, "guardians[1].terminal_id")
    );
    assert!(errs[0].2.contains("duplicate terminal_id"));
    assert_eq!(
        (errs[1].0, errs[1].1.as_str()),
        (12, "guardians[2].public_key_hex")
    );
    assert!(errs[1].2.contains("duplicate key"));
}

#[test]
fn unknown_field_and_zero_quota_are_rejected() {
    let typo =
        file(&[("a", key_hex(1), 1000)]).replace("bandwidth_quota_bps", "bandwith_quota_bps");
    let errs = errors(&typo);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].2.contains("unknown field"), "{errs:?}");
    assert!(errs[0].0 > 0);
    let errs = errors(&file(&[("a", key_hex(1), 0)]));
    assert_eq!(errs[0].1, "guardians[0].bandwidth_quota_bps");
}

#[test]
fn keygen_entry_is_a_valid_registry_entry_and_check_reads_files() {
    let entry =
        keygen_from("if://guardian/x", &SigningKey::from_bytes(&[9; 32])).registry_entry_yaml;
    let path = std::env::temp_dir().join(format!("control-reg-{}.yaml", std::process::id()));
    std::fs::write(&path, format!("guardians:\n{entry}")).expect("write");
    let summary = registry::check(&path);
    let missing = registry::check(Path::new("/nonexistent/registry.yaml"));
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        summary.expect("valid").terminal_ids,
        vec!["if://guardian/x".to_owned()]
    );
    assert!(missing.is_err());
}
