//! `kill -9` of a real `engine run` under RAS load loses no audit record of
//! a reply that was sent: four guardians (each on its own loopback address,
//! below the per-source rate limit) send signed ARQ/DRQ pairs; the engine is
//! SIGKILLed mid-load; every reply any guardian received has its record
//! (same `msg_type`, `request_seq` and destination) in the RAS log, and
//! `engine audit verify` passes. A restart on the same directory continues
//! the chain (verify passes across the restart).

mod metrics_support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use control::ras::RasMessage;
use metrics_support::{audit_verify, now_s, ras_records, registry, Engine};

const GUARDIANS: usize = 4;
/// Requests per guardian: within the per-source burst of 100.
const REQUESTS_MAX: usize = 90;
/// Replies received before the kill.
const KILL_AFTER: usize = 120;

#[test]
fn kill_9_loses_no_record_of_a_sent_reply() {
    let dir = tempfile::tempdir().unwrap();
    let (registry, keys) = registry(dir.path(), GUARDIANS);
    let mut engine = Engine::start(dir.path(), &registry, &keys, 36_700);
    let received = Arc::new(Mutex::new(Vec::<(String, u64, &'static str)>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for i in 0..GUARDIANS {
        let mut g = engine.guardian(i, 10 + i as u8);
        let (received, count, stop) = (received.clone(), count.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            g.register();
            let me = g.me.to_string();
            let conference = [i as u8 + 1; 16];
            let mut sent = 0;
            let mut call = 0u64;
            while sent < REQUESTS_MAX && !stop.load(Ordering::Relaxed) {
                call += 1;
                let mut id = [0u8; 16];
                id[..8].copy_from_slice(&call.to_be_bytes());
                let request = if sent % 2 == 0 {
                    g.client.arq(now_s(), conference, id, 640).unwrap()
                } else {
                    call -= 1;
                    id[..8].copy_from_slice(&call.to_be_bytes());
                    g.client.drq(now_s(), conference, id).unwrap()
                };
                sent += 1;
                // No answer: the gatekeeper is dead (or the datagram was lost).
                let Some((reply, bytes)) = g.ask(&request) else {
                    break;
                };
                let seq = control::ras::peek(&bytes)
                    .and_then(|h| h.request_seq_num)
                    .expect("replies carry requestSeqNum");
                received
                    .lock()
                    .unwrap()
                    .push((me.clone(), u64::from(seq), reply.name()));
                count.fetch_add(1, Ordering::Relaxed);
                assert!(
                    !matches!(reply, RasMessage::UnknownMessageResponse(_)),
                    "XRS"
                );
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while count.load(Ordering::Relaxed) < KILL_AFTER {
        assert!(Instant::now() < deadline, "load too slow");
        std::thread::sleep(Duration::from_millis(2));
    }
    engine.child.kill().expect("SIGKILL");
    let status = engine.child.wait().unwrap();
    assert!(!status.success(), "{status:?}");
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }

    let received = received.lock().unwrap().clone();
    assert!(received.len() >= KILL_AFTER);
    let records = ras_records(&engine.audit_dir);
    let recorded: HashSet<(String, u64, String)> = records
        .iter()
        .filter_map(|r| {
            Some((
                r["to"].as_str()?.to_owned(),
                r["request_seq"].as_u64()?,
                r["msg_type"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let lost: Vec<_> = received
        .iter()
        .filter(|(to, seq, kind)| !recorded.contains(&(to.clone(), *seq, (*kind).to_owned())))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} replies have no audit record, e.g. {:?}",
        lost.len(),
        received.len(),
        &lost[..lost.len().min(5)]
    );
    assert!(records.iter().any(|r| r["msg_type"] == "ACF"));
    assert!(records.iter().any(|r| r["msg_type"] == "DCF"));
    let (code, out) = audit_verify(&engine.audit_dir);
    assert_eq!(code, 0, "{out}");
    eprintln!(
        "{} replies received before SIGKILL, {} RAS records; verify: {out}",
        received.len(),
        records.len()
    );

    // The chain continues across the restart.
    drop(engine);
    let engine = Engine::start(dir.path(), &registry, &keys, 36_700);
    let mut g = engine.guardian(0, 20);
    g.register();
    let audit_dir = engine.audit_dir.clone();
    assert!(engine.stop().success());
    let after = ras_records(&audit_dir);
    assert_eq!(after.len(), records.len() + 2, "GCF and RCF appended");
    let (code, out) = audit_verify(&audit_dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("{} records", after.len())), "{out}");
}
