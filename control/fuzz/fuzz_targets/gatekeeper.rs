//! The gatekeeper on arbitrary datagrams: never panics, never admits.
#![no_main]

use std::net::SocketAddr;
use std::sync::Arc;

use control::engine_api::StubEngine;
use control::gatekeeper::{Config, Gatekeeper, Output, UnixMillis};
use control::registry::Registry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut gk = Gatekeeper::new(
        Config::default(),
        Arc::new(Registry::default()),
        StubEngine::default(),
    );
    let from = SocketAddr::from(([10, 0, 0, 1], 1719));
    gk.handle_datagram(UnixMillis(1_700_000_000_000), from, data);
    while !matches!(gk.poll_output(), Output::Timeout(_)) {}
    assert_eq!(gk.calls(), 0);
});
