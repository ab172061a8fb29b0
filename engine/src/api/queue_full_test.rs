//! Proves a full control → shard command queue is counted: an engine whose
//! one shard never drains its queue (no shard thread, so the stall is
//! deterministic) refuses the call past `[queues] commands_max` with
//! `QueueFull`, and `stats().commands_refused` moves by one per refusal.

use std::collections::HashMap;
use std::sync::Arc;

use media_core::mixer::MixerConfig;

use super::{Engine, EngineError, RoomId, ShardHandle};
use crate::config::EngineConfig;
use crate::shard::{Command, ShardLink};
use crate::stats::EngineStats;

/// An engine over one shard that is never started: commands pile up.
fn stalled_engine(commands_max: usize) -> Engine {
    let mut config = EngineConfig::default();
    config.queues.commands_max = commands_max;
    let link = Arc::new(ShardLink::new(&config));
    Engine {
        config: Arc::new(config),
        shards: vec![ShardHandle {
            link,
            thread: None,
            rooms: 0,
            free_ports: Vec::new(),
        }],
        rooms: HashMap::new(),
        participants: HashMap::new(),
        accepting: true,
        rng: 1,
        report_seq: 0,
        stats: EngineStats {
            shards: vec![None],
            reports_received: 0,
            commands_refused: vec![0],
        },
    }
}

#[test]
fn a_full_command_queue_is_refused_and_counted() {
    let mut engine = stalled_engine(2);
    for seq in 0..2 {
        engine.post(0, Command::Report { seq }).expect("room left");
    }
    assert_eq!(engine.stats().commands_refused, [0]);

    let refused = engine.snapshot().map(|_| ());
    assert!(
        matches!(
            refused,
            Err(EngineError::QueueFull {
                shard: 0,
                commands_max: 2
            })
        ),
        "{refused:?}"
    );
    assert_eq!(engine.stats().commands_refused, [1]);

    let refused = engine.create_room(RoomId(1), MixerConfig::default());
    assert!(
        matches!(refused, Err(EngineError::QueueFull { .. })),
        "{refused:?}"
    );
    assert_eq!(engine.stats().commands_refused, [2]);
    assert!(
        engine.rooms().next().is_none(),
        "a refused room is not placed"
    );
}
