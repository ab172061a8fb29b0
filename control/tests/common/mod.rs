//! Helpers shared by the integration tests: a pcap writer (linktype 101, raw
//! IPv4 + UDP to port 1719) and a tshark runner.

#![allow(dead_code)]

pub mod harness;

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Writes `datagrams` as UDP packets 127.0.0.1:40000 → 127.0.0.1:1719 into a
/// pcap file with linktype 101 (raw IP).
pub fn write_pcap(path: &Path, datagrams: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4_u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (i, payload) in datagrams.iter().enumerate() {
        let udp_len = u16::try_from(8 + payload.len()).expect("datagram too large");
        let ip_len = 20 + udp_len;
        let mut pkt = Vec::new();
        pkt.extend_from_slice(&[0x45, 0]);
        pkt.extend_from_slice(&ip_len.to_be_bytes());
        pkt.extend_from_slice(&u16::try_from(i).unwrap_or(0).to_be_bytes());
        pkt.extend_from_slice(&[0, 0, 64, 17, 0, 0]);
        pkt.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        pkt.extend_from_slice(&40_000u16.to_be_bytes());
        pkt.extend_from_slice(&1719u16.to_be_bytes());
        pkt.extend_from_slice(&udp_len.to_be_bytes());
        pkt.extend_from_slice(&0u16.to_be_bytes());
        pkt.extend_from_slice(payload);
        let len = u32::try_from(pkt.len()).expect("packet too large");
        out.extend_from_slice(&u32::try_from(i).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&pkt);
    }
    let mut f = std::fs::File::create(path).expect("create pcap");
    f.write_all(&out).expect("write pcap");
}

/// Whether tshark can be run.
pub fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A fresh, empty scratch directory named after the test. It is removed
/// when the returned guard drops, which also happens while a failing test
/// unwinds, so runs do not pile up in /tmp. Declare it before anything that
/// writes into it (a service, a writer) so it drops after them.
pub fn scratch_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("control-{name}-"))
        .tempdir()
        .expect("create a scratch directory")
}

/// Dissects the datagrams with `tshark -V` and returns one text per packet.
/// Panics if tshark reports a malformed packet or an expert warning/error.
pub fn dissect_clean(name: &str, datagrams: &[Vec<u8>]) -> Vec<String> {
    let dir = scratch_dir(name);
    let path = dir.path().join("ras.pcap");
    write_pcap(&path, datagrams);
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .arg("-V")
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let packets: Vec<String> = text
        .split("\nFrame ")
        .map(str::to_owned)
        .filter(|p| p.contains("H.225.0"))
        .collect();
    assert_eq!(packets.len(), datagrams.len(), "tshark output:\n{text}");
    for p in &packets {
        for bad in [
            "Malformed",
            "Expert Info (Error",
            "Expert Info (Warning",
            "Unknown PER",
        ] {
            assert!(!p.contains(bad), "tshark flagged {bad}:\n{p}");
        }
    }
    packets
}
