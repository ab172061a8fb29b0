//! The UDP service writes the audit record of every reply before sending
//! it: a registration, an admission, a refusal at the authenticity gate and
//! a release each leave the record an operator greps for, with
//! `request_seq`, `terminal_id`, gate, reason and bandwidth; the chain
//! verifies. A reply whose record cannot be written (the day file is
//! /dev/full) is withheld and counted. The HA hook writes a
//! `GATEKEEPER_FAILOVER` record that `jq .failover_duration_sec` reads.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::harness::{key, terminal};
use control::audit::{self, FsyncPolicy};
use control::client::GuardianClient;
use control::engine_api::StubEngine;
use control::ras::RasMessage;
use control::security::keys::to_hex;
use control::service::{self, AuditConfig, ServiceConfig};

#[allow(clippy::disallowed_methods)] // A test of the real service uses the real clock.
fn now_s() -> u32 {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    u32::try_from(s).expect("fits")
}

/// Starts the service with its registry and audit logs in `dir` (a scratch
/// directory the caller holds until the service has stopped).
fn start(
    dir: &std::path::Path,
    before: impl FnOnce(&std::path::Path),
) -> (service::ServiceHandle, std::path::PathBuf) {
    let registry = dir.join("registry.yaml");
    std::fs::write(
        &registry,
        format!(
            "guardians:\n  - terminal_id: \"{}\"\n    role: \"G\"\n    public_key_hex: \"{}\"\n    bandwidth_quota_bps: 2500000\n",
            terminal(1),
            to_hex(key(1).verifying_key().as_bytes())
        ),
    )
    .unwrap();
    let logs = dir.join("logs");
    before(&logs);
    let mut config = ServiceConfig::new(registry);
    config.ras_listen = "127.0.0.1:0".parse().unwrap();
    config.audit = Some(AuditConfig {
        dir: logs.clone(),
        fsync: FsyncPolicy::default(),
    });
    (
        service::start(config, StubEngine::default(), |_| {}).unwrap(),
        logs,
    )
}

fn ask(sock: &UdpSocket, to: SocketAddr, bytes: &[u8]) -> Option<RasMessage> {
    sock.send_to(bytes, to).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).ok()?;
    Some(control::ras::decode(&buf[..n]).unwrap())
}

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s
}

#[test]
fn every_reply_is_recorded_with_its_decision() {
    let scratch = common::scratch_dir("audit-service");
    let (handle, logs) = start(scratch.path(), |_| {});
    let gk = handle.local_addr();
    let s = socket();
    let me = s.local_addr().unwrap();
    let mut g = GuardianClient::new(&terminal(1), key(1), 100);
    let Some(RasMessage::RegistrationConfirm(rcf)) = ask(&s, gk, &g.rrq(now_s(), me, 300).unwrap())
    else {
        panic!("no RCF")
    };
    g.set_endpoint_id(&control::ras::bmp_to_string(&rcf.endpoint_identifier));
    let arq = g.arq(now_s(), [5; 16], [6; 16], 640).unwrap();
    assert!(matches!(
        ask(&s, gk, &arq),
        Some(RasMessage::AdmissionConfirm(_))
    ));
    let drq = g.drq(now_s(), [5; 16], [6; 16]).unwrap();
    assert!(matches!(
        ask(&s, gk, &drq),
        Some(RasMessage::DisengageConfirm(_))
    ));
    // A guardian signing with the wrong key is refused at the first gate.
    let s2 = socket();
    let mut forger = GuardianClient::new(&terminal(1), key(9), 200);
    let rrq = forger.rrq(now_s(), s2.local_addr().unwrap(), 300).unwrap();
    assert!(matches!(
        ask(&s2, gk, &rrq),
        Some(RasMessage::RegistrationReject(_))
    ));
    let stats = handle.stats().unwrap();
    handle.shutdown().unwrap();

    let mut records = Vec::new();
    for entry in std::fs::read_dir(logs.join("h323_witness")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            records.push(serde_json::from_str::<serde_json::Value>(line).unwrap());
        }
    }
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["msg_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["RCF", "ACF", "RELEASED", "DCF", "RRJ"],
        "{records:#?}"
    );
    let (rcf, acf, dcf, rrj) = (&records[0], &records[1], &records[3], &records[4]);
    assert_eq!(rcf["terminal_id"], terminal(1));
    assert!(rcf["endpoint_id"].is_string() && rcf["ttl_s"] == 300);
    assert_eq!(acf["request"], "ARQ");
    assert_eq!(acf["gate"], "capacity");
    assert_eq!(acf["bandwidth_bps"], 64_000);
    assert_eq!(acf["to"], me.to_string());
    assert!(acf["request_seq"].as_u64().unwrap() > rcf["request_seq"].as_u64().unwrap());
    assert_eq!(dcf["terminal_id"], terminal(1));
    assert_eq!(rrj["gate"], "authenticity");
    assert_eq!(rrj["passed"], false);
    assert_eq!(rrj["reject_reason"], "securityDenial");
    assert!(rrj["reason"].as_str().unwrap().len() > 3, "{rrj}");
    assert_eq!(stats.rejections.authenticity, 1);
    assert_eq!(stats.admissions, 1);
    assert_eq!(stats.audit_errors, 0);
    let summary = audit::verify(&[logs]).unwrap();
    assert_eq!(summary.chains[0].records, 5);
}

#[test]
fn a_reply_whose_record_cannot_be_written_is_withheld() {
    #[allow(clippy::disallowed_methods)]
    let today = control::audit::LogKind::Ras.file_name(control::gatekeeper::UnixMillis(
        u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap(),
    ));
    let scratch = common::scratch_dir("audit-full");
    let (handle, _) = start(scratch.path(), |logs| {
        let dir = logs.join("h323_witness");
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink("/dev/full", dir.join(&today)).unwrap();
    });
    let gk = handle.local_addr();
    let s = socket();
    s.set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut g = GuardianClient::new(&terminal(1), key(1), 300);
    let rrq = g.rrq(now_s(), s.local_addr().unwrap(), 300).unwrap();
    assert!(
        ask(&s, gk, &rrq).is_none(),
        "a reply left without its record"
    );
    let stats = handle.stats().unwrap();
    assert!(stats.audit_errors >= 1, "{stats:?}");
    assert_eq!(stats.send_errors, 0);
    handle.shutdown().unwrap();
}

#[test]
fn the_ha_hook_writes_a_failover_record() {
    let scratch = common::scratch_dir("audit-failover");
    let (handle, logs) = start(scratch.path(), |_| {});
    handle
        .record_failover(service::FailoverNote {
            duration: Duration::from_millis(1250),
            previous_primary: "gk-a".into(),
            new_primary: "gk-b".into(),
        })
        .unwrap();
    handle.shutdown().unwrap();
    let dir = logs.join("ha");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("failover_") && name.ends_with(".jsonl"),
        "{name}"
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains(r#""event": "GATEKEEPER_FAILOVER""#), "{text}");
    let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(v["failover_duration_sec"], 1.25);
    assert_eq!(v["previous_primary"], "gk-a");
    assert_eq!(v["new_primary"], "gk-b");
    let summary = audit::verify(&[logs]).unwrap();
    assert!(summary
        .chains
        .iter()
        .any(|c| c.chain == "failover_" && c.records == 1));
}
