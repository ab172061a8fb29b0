//! Proves `engine run` behaves as a daemon: it starts the shards and the
//! config's rooms, reloads the registry on SIGHUP (a participant added to
//! the file appears), stops admissions on SIGUSR1 (a participant added after
//! that is refused), and on SIGTERM drains, prints final stats and exits 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn config(participants: &[u32]) -> String {
    let mut text = String::from(
        "[shards]\ncount = 1\npin = false\nio_memory_kib = 512\n\
         [media]\nport_first = 35900\nports_per_shard = 20\n\
         [[room]]\nid = 1\n",
    );
    for p in participants {
        text.push_str(&format!(
            "[[room.participant]]\nid = {p}\ncodec = \"opus\"\nremote_rtp = \"127.0.0.1:{}\"\n",
            46_000 + 2 * p
        ));
    }
    text
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn signals_reload_stop_admissions_and_stop() {
    // Removed on drop, also when an assertion below fails.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("engine.toml");
    std::fs::write(&path, config(&[1])).expect("write config");

    let mut child = Command::new(env!("CARGO_BIN_EXE_engine"))
        .args([
            "run",
            "--config",
            path.to_str().expect("utf-8 path"),
            "--stats-secs",
            "0",
            "--exit-after-secs",
            "20",
            // Tests run in parallel: not the default control port.
            "--control-listen",
            "127.0.0.1:0",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("engine run starts");
    let stderr = child.stderr.take().expect("stderr");
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
                .recv_timeout(Duration::from_secs(5))
                .unwrap_or_else(|_| panic!("no line with {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    };
    wait_for("participant 1 in room 1");
    let pid = child.id();

    std::fs::write(&path, config(&[1, 2])).expect("rewrite config");
    signal(pid, "HUP");
    wait_for("participant 2 in room 1");

    signal(pid, "USR1");
    wait_for("no longer accepting");
    std::fs::write(&path, config(&[1, 2, 3])).expect("rewrite config");
    signal(pid, "HUP");
    let refused = wait_for("participant 3 in room 1");
    assert!(refused.contains("not accepting"), "{refused}");

    signal(pid, "TERM");
    wait_for("final:");
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status:?}");
}
