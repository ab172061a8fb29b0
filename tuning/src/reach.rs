//! The reachability lines of `engine validate`: the metrics endpoint of a
//! running `engine run` and the HA peers of a gatekeeper (its media engines'
//! control ports and the other gatekeeper's HA link).
//!
//! Every probe is bounded by [`PROBE_TIMEOUT`]; nothing here waits longer.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use crate::validate::{Line, Outcome};

/// The longest any one probe waits (connect, read or write).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The most of a `/metrics` reply read: the gauge looked for comes early in
/// our exposition, and a runaway endpoint must not fill memory.
const METRICS_READ_MAX: u64 = 4 << 20;

/// How long the HA peer probe waits for an ICMP port-unreachable.
const PEER_REFUSAL_WAIT: Duration = Duration::from_millis(300);

/// `metrics`: GET /metrics from a running `engine run` (`--metrics ADDR`);
/// PASS when it answers 200 with `h323_gatekeeper_up` or the engine's own
/// gauges, WARN for a 200 without them, FAIL when nothing answers.
#[must_use]
pub fn check_metrics(addr: Option<SocketAddr>) -> Line {
    let Some(addr) = addr else {
        return Line::new(
            Outcome::Skip,
            "metrics",
            "no --metrics HOST:PORT: run again once `engine run` is up (default port 9464)",
        );
    };
    match scrape(addr) {
        Ok(body) if body.contains("h323_gatekeeper_up") => Line::new(
            Outcome::Pass,
            "metrics",
            format!("http://{addr}/metrics answers with h323_gatekeeper_up"),
        ),
        Ok(body) if body.contains("h323_mcu_active_participants") => Line::new(
            Outcome::Pass,
            "metrics",
            format!("http://{addr}/metrics answers (media engine metrics)"),
        ),
        Ok(_) => Line::new(
            Outcome::Warn,
            "metrics",
            format!("http://{addr}/metrics answers 200 but without the h323_* metrics: another service?"),
        ),
        Err(e) => Line::new(
            Outcome::Fail,
            "metrics",
            format!("http://{addr}/metrics: {e}"),
        ),
    }
}

fn scrape(addr: SocketAddr) -> io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
    stream.set_write_timeout(Some(PROBE_TIMEOUT))?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: validate\r\nConnection: close\r\n\r\n")?;
    let mut reply = Vec::new();
    stream.take(METRICS_READ_MAX).read_to_end(&mut reply)?;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(io::Error::other(format!("answered {status:?}, not 200")));
    }
    Ok(reply)
}

/// `ha peers`: every `--engine` control port accepts a TCP connection, and
/// the `--peer` HA address is routable with nothing refusing it.
///
/// UDP cannot prove a listener: the peer probe sends one byte (which the
/// other node drops and counts as a bad heartbeat) and FAILs only on an ICMP
/// port-unreachable; silence passes as "no refusal".
#[must_use]
pub fn check_ha_peers(peer: Option<SocketAddr>, engines: &[SocketAddr]) -> Line {
    if peer.is_none() && engines.is_empty() {
        return Line::new(
            Outcome::Skip,
            "ha peers",
            "no --peer or --engine given (a gatekeeper host: its HA peer and media engines' control ports)",
        );
    }
    let mut failed = Vec::new();
    let mut passed = Vec::new();
    for &engine in engines {
        match TcpStream::connect_timeout(&engine, PROBE_TIMEOUT) {
            Ok(_) => passed.push(format!("engine {engine} accepts")),
            Err(e) => failed.push(format!("engine {engine}: {e}")),
        }
    }
    if let Some(peer) = peer {
        match probe_udp_peer(peer) {
            Ok(()) => passed.push(format!("peer {peer} routable, no refusal")),
            Err(e) => failed.push(format!("peer {peer}: {e}")),
        }
    }
    if failed.is_empty() {
        Line::new(Outcome::Pass, "ha peers", passed.join("; "))
    } else {
        Line::new(Outcome::Fail, "ha peers", failed.join("; "))
    }
}

fn probe_udp_peer(peer: SocketAddr) -> io::Result<()> {
    let local: SocketAddr = match peer {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    };
    let socket = UdpSocket::bind(local)?;
    // connect() looks the route up: no route is an error here.
    socket.connect(peer)?;
    socket.send(&[0])?;
    socket.set_read_timeout(Some(PEER_REFUSAL_WAIT))?;
    let mut buf = [0u8; 64];
    match socket.recv(&mut buf) {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "port unreachable: no HA link listens there",
        )),
        // Silence (timeout) or any datagram back: nothing refused.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn closed_port() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }

    #[test]
    fn nothing_given_skips() {
        assert_eq!(check_metrics(None).outcome, Outcome::Skip);
        assert_eq!(check_ha_peers(None, &[]).outcome, Outcome::Skip);
    }

    #[test]
    fn engines_listening_pass_and_a_closed_one_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        assert_eq!(check_ha_peers(None, &[open]).outcome, Outcome::Pass);
        let line = check_ha_peers(None, &[open, closed_port()]);
        assert_eq!(line.outcome, Outcome::Fail);
        assert!(line.detail.contains("engine 127.0.0.1:"), "{}", line.detail);
    }

    #[test]
    fn udp_peer_listening_passes_and_a_closed_port_fails() {
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        let open = peer.local_addr().unwrap();
        assert_eq!(check_ha_peers(Some(open), &[]).outcome, Outcome::Pass);
        let closed = {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.local_addr().unwrap()
        };
        let line = check_ha_peers(Some(closed), &[]);
        assert_eq!(line.outcome, Outcome::Fail, "{}", line.detail);
        assert!(line.detail.contains("port unreachable"), "{}", line.detail);
    }

    fn serve_once(body: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut req = [0u8; 512];
                let _ = s.read(&mut req);
                let _ = s.write_all(body.as_bytes());
            }
        });
        addr
    }

    #[test]
    fn metrics_endpoint_is_judged_by_what_it_serves() {
        let ours = serve_once(
            "HTTP/1.0 200 OK\r\n\r\nh323_gatekeeper_up{instance=\"a\",role=\"primary\"} 1\n",
        );
        assert_eq!(check_metrics(Some(ours)).outcome, Outcome::Pass);
        let other = serve_once("HTTP/1.0 200 OK\r\n\r\nnode_load1 0.5\n");
        assert_eq!(check_metrics(Some(other)).outcome, Outcome::Warn);
        let missing = serve_once("HTTP/1.0 404 Not Found\r\n\r\n");
        assert_eq!(check_metrics(Some(missing)).outcome, Outcome::Fail);
        assert_eq!(check_metrics(Some(closed_port())).outcome, Outcome::Fail);
    }
}
