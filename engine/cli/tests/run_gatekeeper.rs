//! `engine run --registry` runs the RAS gatekeeper beside the engine: a
//! registered guardian's signed RRQ is confirmed; after the guardian is
//! removed from the registry file and SIGHUP is sent, its next RRQ is
//! rejected; SIGTERM stops both and the process exits 0.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use control::client::GuardianClient;
use control::ras::RasMessage;
use control::security::keys::parse_private_key_file;

fn ask(
    socket: &UdpSocket,
    gk: SocketAddr,
    client: &mut GuardianClient,
    request: &[u8],
) -> RasMessage {
    socket.send_to(request, gk).unwrap();
    let mut buf = [0u8; 2048];
    let (n, _) = socket.recv_from(&mut buf).expect("the gatekeeper answers");
    client.absorb(&buf[..n]).expect("a valid RAS reply")
}

fn now_s() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

#[test]
fn gatekeeper_admits_reloads_and_stops_with_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let keys = control::security::keygen("if://guardian/technical");
    let other = control::security::keygen("if://guardian/ethics");
    let registry = dir.path().join("registry.yaml");
    let write_registry = |entries: &[&str]| {
        std::fs::write(&registry, format!("guardians:\n{}", entries.concat())).unwrap();
    };
    write_registry(&[&keys.registry_entry_yaml, &other.registry_entry_yaml]);
    let config = dir.path().join("engine.toml");
    std::fs::write(&config, "[shards]\ncount = 1\npin = false\nio_memory_kib = 512\n[media]\nport_first = 36500\nports_per_shard = 20\n").unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_engine"))
        .args([
            "run",
            "--stats-secs",
            "0",
            "--exit-after-secs",
            "20",
            "--ras-listen",
            "127.0.0.1:0",
            // Tests run in parallel: not the default control port.
            "--control-listen",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(&config)
        .arg("--registry")
        .arg(&registry)
        .stderr(Stdio::piped())
        .spawn()
        .expect("engine run starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str| -> String {
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("no line with {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    };
    let line = wait_for("gatekeeper: RAS on ");
    let gk: SocketAddr = line.split_whitespace().nth(3).unwrap().parse().unwrap();

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let me = socket.local_addr().unwrap();
    let (id, key) = parse_private_key_file(&keys.private_key_file).unwrap();
    let mut client = GuardianClient::new(&id, key, 17);
    let grq = client.grq(me).unwrap();
    assert!(matches!(
        ask(&socket, gk, &mut client, &grq),
        RasMessage::GatekeeperConfirm(_)
    ));
    let rrq = client.rrq(now_s(), me, 60).unwrap();
    assert!(matches!(
        ask(&socket, gk, &mut client, &rrq),
        RasMessage::RegistrationConfirm(_)
    ));

    // The guardian leaves the registry: after SIGHUP its requests are refused.
    write_registry(&[&other.registry_entry_yaml]);
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    wait_for("registry reloaded");
    let rrq = client.rrq(now_s(), me, 60).unwrap();
    let reply = ask(&socket, gk, &mut client, &rrq);
    assert!(
        matches!(reply, RasMessage::RegistrationReject(_)),
        "{}",
        reply.name()
    );

    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
