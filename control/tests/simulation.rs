//! Deterministic simulation: seeded random sequences of guardian actions
//! (register, ARQ, BRQ, DRQ, URQ, keep-alive, clock jumps, replays from other
//! addresses, tampered datagrams) against one gatekeeper on a virtual clock.
//! After every step: every signed request got exactly one reply, the engine's
//! view matches the gatekeeper's calls, no guardian exceeds its quota and no
//! conference exceeds its capacity. A failure replays from its proptest seed.

mod common;

use common::harness::*;
use control::client::GuardianClient;
use control::gatekeeper::Config;
use proptest::prelude::*;

const GUARDIANS: u8 = 4;
const QUOTA_BPS: u64 = 150_000;
const CAPACITY: usize = 2;

#[derive(Debug, Clone)]
enum Step {
    Register(u8),
    Arq {
        g: u8,
        conf: u8,
        call: u8,
        units: u32,
    },
    Brq {
        g: u8,
        conf: u8,
        call: u8,
        units: u32,
    },
    Drq {
        g: u8,
        conf: u8,
        call: u8,
    },
    Urq(u8),
    KeepAlive(u8),
    Advance(u64),
    ReplayLast(u8),
    TamperLast(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let g = 1..=GUARDIANS;
    prop_oneof![
        g.clone().prop_map(Step::Register),
        (g.clone(), 0..2u8, 0..3u8, 1..1200u32).prop_map(|(g, conf, call, units)| Step::Arq {
            g,
            conf,
            call,
            units
        }),
        (g.clone(), 0..2u8, 0..3u8, 1..1600u32).prop_map(|(g, conf, call, units)| Step::Brq {
            g,
            conf,
            call,
            units
        }),
        (g.clone(), 0..2u8, 0..3u8).prop_map(|(g, conf, call)| Step::Drq { g, conf, call }),
        g.clone().prop_map(Step::Urq),
        g.clone().prop_map(Step::KeepAlive),
        (0..200u64).prop_map(Step::Advance),
        g.prop_map(Step::ReplayLast),
        any::<usize>().prop_map(Step::TamperLast),
    ]
}

fn conf(c: u8) -> [u8; 16] {
    [100 + c; 16]
}

fn call(g: u8, c: u8) -> [u8; 16] {
    [g * 10 + c; 16]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn invariants_hold_under_random_sequences(steps in proptest::collection::vec(step(), 1..60)) {
        let config = Config { conference_capacity: CAPACITY, ..Config::default() };
        let mut h = Harness::new(config, registry(GUARDIANS, QUOTA_BPS));
        let mut clients: Vec<GuardianClient> =
            (1..=GUARDIANS).map(|n| GuardianClient::new(&terminal(n), key(n), u32::from(n) * 100_000)).collect();
        let mut last: Option<(u8, Vec<u8>)> = None;
        for s in steps {
            let now = h.now_s();
            let (g, datagram) = match &s {
                Step::Register(g) => (*g, clients[usize::from(*g - 1)].rrq(now, addr(*g), 300)),
                Step::Arq { g, conf: c, call: k, units } => (*g, clients[usize::from(*g - 1)].arq(now, conf(*c), call(*g, *k), *units)),
                Step::Brq { g, conf: c, call: k, units } => (*g, clients[usize::from(*g - 1)].brq(now, conf(*c), call(*g, *k), *units)),
                Step::Drq { g, conf: c, call: k } => (*g, clients[usize::from(*g - 1)].drq(now, conf(*c), call(*g, *k))),
                Step::Urq(g) => (*g, clients[usize::from(*g - 1)].urq(now, addr(*g))),
                Step::KeepAlive(g) => (*g, clients[usize::from(*g - 1)].keep_alive(now, 300)),
                Step::Advance(secs) => {
                    h.advance_s(*secs);
                    continue;
                }
                Step::ReplayLast(other) => {
                    if let Some((g, bytes)) = last.clone() {
                        if g != *other {
                            let replies = h.send_raw(addr(*other), &bytes);
                            prop_assert_eq!(replies.len(), 1, "replay got no reject");
                        }
                    }
                    continue;
                }
                Step::TamperLast(pos) => {
                    if let Some((g, mut bytes)) = last.clone() {
                        let p = pos % (bytes.len() * 8);
                        bytes[p / 8] ^= 0x80 >> (p % 8);
                        let calls = h.gk.calls();
                        h.send_raw(addr(g), &bytes);
                        prop_assert!(h.gk.calls() <= calls, "tampered datagram admitted a call");
                    }
                    continue;
                }
            };
            let datagram = datagram.expect("sign");
            let replies = h.send_raw(addr(g), &datagram);
            prop_assert_eq!(replies.len(), 1, "{:?} got {} replies", s, replies.len());
            clients[usize::from(g - 1)].absorb(&replies[0]).expect("decodable reply");
            last = Some((g, datagram));

            let engine = h.gk.engine();
            prop_assert_eq!(h.gk.calls(), engine.provisioned.len() - engine.released.len());
            for n in 1..=GUARDIANS {
                prop_assert!(h.gk.bandwidth_units_used(&terminal(n)) <= QUOTA_BPS / 100);
            }
            for c in 0..2 {
                prop_assert!(h.gk.conference_members(&conf(c)) <= CAPACITY);
            }
        }
    }
}
