//! The UDP service over loopback: a guardian registers and is admitted with
//! real datagrams; hot reload refuses a removed guardian; stopping admissions
//! refuses ARQs; a junk flood from one source is rate limited while another
//! source is still served; port 1720 is refused; shutdown joins the thread.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::harness::{key, terminal};
use control::client::GuardianClient;
use control::engine_api::StubEngine;
use control::ras::RasMessage;
use control::security::keys::to_hex;
use control::service::{self, RateLimit, ServiceConfig, ServiceError};

#[allow(clippy::disallowed_methods)] // A test of the real service uses the real clock.
fn now_s() -> u32 {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    u32::try_from(s).expect("fits")
}

fn registry_text(ids: &[u8]) -> String {
    let mut s = String::from("guardians:\n");
    for &i in ids {
        s += &format!(
            "  - terminal_id: \"{}\"\n    role: \"G\"\n    public_key_hex: \"{}\"\n    bandwidth_quota_bps: 2500000\n",
            terminal(i),
            to_hex(key(i).verifying_key().as_bytes())
        );
    }
    s
}

fn exchange(sock: &UdpSocket, to: SocketAddr, bytes: &[u8]) -> RasMessage {
    sock.send_to(bytes, to).expect("send");
    let mut buf = [0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).expect("reply within the timeout");
    control::ras::decode(&buf[..n]).expect("decode reply")
}

fn client_socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    s
}

#[test]
fn loopback_register_admit_reload_stop_and_rate_limit() {
    let scratch = common::scratch_dir("service-registry");
    let path = scratch.path().join("registry.yaml");
    std::fs::write(&path, registry_text(&[1, 2])).expect("write");
    let mut config = ServiceConfig::new(path.clone());
    config.ras_listen = "127.0.0.1:0".parse().expect("addr");
    config.rate_limit = RateLimit {
        per_source_per_s: 50,
        burst: 20,
        sources_max: 1024,
    };
    let handle = service::start(config, StubEngine::default(), |_| {}).expect("start");
    let gk = handle.local_addr();

    let s1 = client_socket();
    let mut g1 = GuardianClient::new(&terminal(1), key(1), 1);
    let rcf = exchange(
        &s1,
        gk,
        &g1.rrq(now_s(), s1.local_addr().expect("addr"), 300)
            .expect("sign"),
    );
    let RasMessage::RegistrationConfirm(rcf) = rcf else {
        panic!("{rcf:?}")
    };
    g1.set_endpoint_id(&control::ras::bmp_to_string(&rcf.endpoint_identifier));
    let acf = exchange(
        &s1,
        gk,
        &g1.arq(now_s(), [7; 16], [1; 16], 640).expect("sign"),
    );
    assert!(matches!(acf, RasMessage::AdmissionConfirm(_)), "{acf:?}");

    // Guardian 2 registers, then is removed by a reload.
    let s2 = client_socket();
    let mut g2 = GuardianClient::new(&terminal(2), key(2), 1);
    let rcf2 = exchange(
        &s2,
        gk,
        &g2.rrq(now_s(), s2.local_addr().expect("addr"), 300)
            .expect("sign"),
    );
    let RasMessage::RegistrationConfirm(rcf2) = rcf2 else {
        panic!("{rcf2:?}")
    };
    g2.set_endpoint_id(&control::ras::bmp_to_string(&rcf2.endpoint_identifier));
    std::fs::write(&path, registry_text(&[1])).expect("write");
    assert_eq!(handle.reload_registry().expect("reload").guardians, 1);
    let arj = exchange(
        &s2,
        gk,
        &g2.arq(now_s(), [7; 16], [2; 16], 640).expect("sign"),
    );
    assert!(matches!(arj, RasMessage::AdmissionReject(_)), "{arj:?}");
    // A broken file is refused and the running registry kept.
    std::fs::write(&path, "guardians: [").expect("write");
    assert!(matches!(
        handle.reload_registry(),
        Err(ServiceError::Registry(_))
    ));

    // SIGUSR1 semantics.
    handle.set_admissions_enabled(false).expect("cmd");
    let arj = exchange(
        &s1,
        gk,
        &g1.arq(now_s(), [7; 16], [3; 16], 640).expect("sign"),
    );
    assert!(matches!(arj, RasMessage::AdmissionReject(_)), "{arj:?}");
    handle.set_admissions_enabled(true).expect("cmd");

    // A junk flood from one source is rate limited; guardian 1 is still served.
    // From another loopback address: limits are per source IP.
    let junk = UdpSocket::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    for _ in 0..200 {
        junk.send_to(&[0xff, 0x00, 0x13], gk).expect("send");
    }
    let acf = exchange(
        &s1,
        gk,
        &g1.arq(now_s(), [7; 16], [4; 16], 640).expect("sign"),
    );
    assert!(matches!(acf, RasMessage::AdmissionConfirm(_)), "{acf:?}");
    let stats = handle.stats().expect("stats");
    assert!(stats.rate_limited >= 150, "{stats:?}");
    assert!(
        stats.gatekeeper.malformed >= 1 && stats.gatekeeper.malformed <= 50,
        "{stats:?}"
    );
    handle.shutdown().expect("shutdown");
}

#[test]
fn port_1720_is_refused() {
    let scratch = common::scratch_dir("service-1720");
    let path = scratch.path().join("registry.yaml");
    std::fs::write(&path, registry_text(&[1])).expect("write");
    let mut config = ServiceConfig::new(path.clone());
    config.ras_listen = "127.0.0.1:1720".parse().expect("addr");
    let r = service::start(config, StubEngine::default(), |_| {});
    assert!(matches!(r, Err(ServiceError::CallSignallingPort(_))));
}
