//! A deliberately tiny HTTP/1.0-style server for `GET /metrics`: one thread,
//! one connection at a time, bounded request size and timeouts, connection
//! closed after each response. Scrapers are few and infrequent; a slow or
//! hostile client costs at most [`IO_TIMEOUT`] of scrape availability.
//!
//! Default port 9464: 9090 is Prometheus' own, and 9464 is the port the
//! OpenTelemetry Prometheus exporter uses by convention, so firewall rules
//! and scrape configs written for exporters usually already allow it.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{openmetrics_to_prometheus, Metrics, PROMETHEUS_CONTENT_TYPE};

/// The default listening port.
pub const DEFAULT_PORT: u16 = 9464;
/// Largest request head accepted.
pub const REQUEST_BYTES_MAX: usize = 8 * 1024;
/// Time allowed to read a whole request (and to write each response).
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// Reads drained from an oversized request before closing (1 KiB each).
const DRAIN_READS_MAX: usize = 64;

const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The running endpoint; stops when dropped.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `addr` and serves `metrics` on a thread of its own.
    pub fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_thread = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("metrics-http".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop_thread.load(Ordering::Acquire) {
                        break;
                    }
                    // Errors concern one client only: drop it and go on.
                    if let Ok(stream) = conn {
                        let _ = serve(stream, &metrics);
                    }
                }
            })?;
        Ok(Self {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The bound address (useful with port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the blocking accept; if the connect fails the thread is
        // already gone or will exit on its next client.
        let _ = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The time left until `deadline`, or a timeout error. This server thread is
/// a shell, like the UDP service: it may read the clock (control/clippy.toml
/// forbids that in the sans-IO core).
#[allow(clippy::disallowed_methods)]
fn remaining(deadline: Instant) -> io::Result<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "request deadline passed"))
}

/// The deadline for a whole request, so a client dripping bytes cannot hold
/// the single connection slot longer than [`IO_TIMEOUT`].
#[allow(clippy::disallowed_methods)]
fn deadline() -> Instant {
    Instant::now() + IO_TIMEOUT
}

fn serve(mut stream: TcpStream, metrics: &Metrics) -> io::Result<()> {
    let deadline = deadline();
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut head = [0u8; REQUEST_BYTES_MAX];
    let mut len = 0;
    let complete = loop {
        if head[..len].windows(4).any(|w| w == b"\r\n\r\n") {
            break true;
        }
        if len == head.len() {
            break false;
        }
        stream.set_read_timeout(Some(remaining(deadline)?))?;
        let n = stream.read(&mut head[len..])?;
        if n == 0 {
            break head[..len].windows(2).any(|w| w == b"\n\n");
        }
        len += n;
    };
    if !complete {
        respond(
            &mut stream,
            "431 Request Header Fields Too Large",
            "text/plain",
            "request too large\n",
        )?;
        // Read (a bounded amount of) what the client is still sending, so
        // closing with unread data does not reset the connection before it
        // reads the answer.
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut sink = [0u8; 1024];
        for _ in 0..DRAIN_READS_MAX {
            stream.set_read_timeout(Some(remaining(deadline)?))?;
            if stream.read(&mut sink)? == 0 {
                break;
            }
        }
        return Ok(());
    }
    let line = head[..len]
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .unwrap_or(&[]);
    let mut parts = line.split(|&b| b == b' ');
    let (method, target) = (parts.next().unwrap_or(&[]), parts.next().unwrap_or(&[]));
    let path = target.split(|&b| b == b'?').next().unwrap_or(&[]);
    match (method, path) {
        (b"GET", b"/metrics") => {
            // OpenMetrics when the scraper asks for it (Prometheus does),
            // else the classic text format every tool reads.
            let text = metrics.encode();
            if accepts_openmetrics(&head[..len]) {
                respond(&mut stream, "200 OK", OPENMETRICS_CONTENT_TYPE, &text)
            } else {
                let classic = openmetrics_to_prometheus(&text);
                respond(&mut stream, "200 OK", PROMETHEUS_CONTENT_TYPE, &classic)
            }
        }
        (b"GET", _) => respond(&mut stream, "404 Not Found", "text/plain", "try /metrics\n"),
        _ => respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n",
        ),
    }
}

fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &str) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

/// Whether an `Accept` header names OpenMetrics.
fn accepts_openmetrics(head: &[u8]) -> bool {
    head.split(|&b| b == b'\n').any(|line| {
        line.len() > 7
            && line[..7].eq_ignore_ascii_case(b"accept:")
            && line.windows(19).any(|w| w == b"application/openmet")
    })
}
