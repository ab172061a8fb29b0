//! The floating RAS address: the address terminals send RAS to, held by
//! whichever node is primary, so a sub-second failover does not wait for
//! terminals to give up on their gatekeeper (H323Plus retries a RAS request
//! 3 s × 2 before trying an alternate).
//!
//! Taking it is two steps: optionally run a configured command that puts the
//! address on an interface (`ip addr add 192.0.2.10/32 dev eth0` then
//! `arping -U -c 1 -I eth0 192.0.2.10`; needs CAP_NET_ADMIN, and CAP_NET_RAW
//! for arping), then bind the RAS socket to it. Binding is retried a bounded
//! number of times because the old primary may still be releasing it. On
//! loopback (tests, one host) no command is needed: every 127.0.0.0/8
//! address is already local, so the "address" is the bound socket itself.

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

/// Floating address settings.
#[derive(Debug, Clone)]
pub struct FloatingConfig {
    /// The floating RAS address and port (e.g. `127.0.0.2:1719` on loopback).
    pub address: SocketAddr,
    /// Command run before binding (program and arguments), e.g.
    /// `["ip", "addr", "add", "192.0.2.10/32", "dev", "eth0"]`. An exit
    /// status listed in `take_ok_statuses` also counts as success (`ip`
    /// exits 2 when the address is already there).
    pub take_command: Option<Vec<String>>,
    /// Exit statuses of `take_command` that also mean success.
    pub take_ok_statuses: Vec<i32>,
    /// Command run after the socket is closed, e.g. `ip addr del …`.
    pub release_command: Option<Vec<String>>,
    /// Bind attempts before giving up.
    pub bind_attempts_max: u32,
    /// Pause between bind attempts, ms.
    pub bind_retry_ms: u64,
}

impl FloatingConfig {
    /// A loopback floating address: no command, 50 binds 20 ms apart (1 s).
    #[must_use]
    pub fn loopback(address: SocketAddr) -> Self {
        Self {
            address,
            take_command: None,
            take_ok_statuses: vec![2],
            release_command: None,
            bind_attempts_max: 50,
            bind_retry_ms: 20,
        }
    }
}

/// Why the address could not be taken or released.
#[derive(Debug, thiserror::Error)]
pub enum FloatingError {
    /// The command could not be started.
    #[error("floating address command {command:?}: {source}")]
    Spawn {
        /// The command.
        command: Vec<String>,
        /// The OS error.
        source: std::io::Error,
    },
    /// The command failed (often: missing CAP_NET_ADMIN).
    #[error("floating address command {command:?} exited with {status} (needs CAP_NET_ADMIN?): {stderr}")]
    Failed {
        /// The command.
        command: Vec<String>,
        /// Its exit status.
        status: i32,
        /// Its standard error.
        stderr: String,
    },
    /// The address could not be bound after every attempt.
    #[error("cannot bind the floating address {address} after {attempts} attempts: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        source: std::io::Error,
    },
}

fn run(command: &[String], ok: &[i32]) -> Result<(), FloatingError> {
    let Some((program, args)) = command.split_first() else {
        return Ok(());
    };
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|source| FloatingError::Spawn {
            command: command.to_vec(),
            source,
        })?;
    let status = out.status.code().unwrap_or(-1);
    if out.status.success() || ok.contains(&status) {
        Ok(())
    } else {
        Err(FloatingError::Failed {
            command: command.to_vec(),
            status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// Takes the address: runs the command, then binds the RAS socket to it,
/// retrying while the old holder releases it.
pub fn take(config: &FloatingConfig) -> Result<UdpSocket, FloatingError> {
    if let Some(c) = &config.take_command {
        run(c, &config.take_ok_statuses)?;
    }
    let attempts = config.bind_attempts_max.max(1);
    let mut last = None;
    for i in 0..attempts {
        match UdpSocket::bind(config.address) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
        if i + 1 < attempts {
            std::thread::sleep(Duration::from_millis(config.bind_retry_ms));
        }
    }
    Err(FloatingError::Bind {
        address: config.address,
        attempts,
        source: last.unwrap_or_else(|| std::io::Error::other("no attempt")),
    })
}

/// Releases the address: closes the socket, then runs the command.
pub fn release(config: &FloatingConfig, socket: UdpSocket) -> Result<(), FloatingError> {
    drop(socket);
    match &config.release_command {
        Some(c) => run(c, &[]),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_take_waits_for_the_holder_and_commands_report_failure() {
        let addr = SocketAddr::from(([127, 0, 0, 3], 0));
        let held = UdpSocket::bind(addr).expect("bind");
        let mut cfg = FloatingConfig::loopback(held.local_addr().expect("addr"));
        cfg.bind_attempts_max = 3;
        cfg.bind_retry_ms = 1;
        assert!(matches!(
            take(&cfg),
            Err(FloatingError::Bind { attempts: 3, .. })
        ));
        drop(held);
        let s = take(&cfg).expect("free now");
        release(&cfg, s).expect("release");
        cfg.take_command = Some(vec!["false".into()]);
        assert!(matches!(
            take(&cfg),
            Err(FloatingError::Failed { status: 1, .. })
        ));
        cfg.take_ok_statuses = vec![1];
        assert!(take(&cfg).is_ok());
    }
}
