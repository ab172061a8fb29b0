//! What one Opus participant costs the mixer in memory, computed rather
//! than guessed: a byte-counting global allocator measures the Rust heap a
//! room grows by when 12 participants join, libopus reports its own encoder
//! and decoder state sizes (allocated with C `malloc`, not seen by the
//! counter), and the sum must stay within issue #2's 256 KiB per guardian
//! with room to spare for the shard's share (docs/performance.md, "Engine
//! memory per guardian", compares it with the measured RSS).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use media_core::codec::{CodecConfig, OpusConfig};
use media_core::mixer::{MixerConfig, Participant, ParticipantConfig, ParticipantId, Room};

struct Net;

/// Live heap bytes allocated through Rust (all threads; the test is alone
/// in its binary and single-threaded).
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only sums sizes.
unsafe impl GlobalAlloc for Net {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Net = Net;

const ROOM: usize = 12;
/// Issue #2's target for the whole engine, per guardian.
const TARGET_BYTES: usize = 256 * 1024;

#[test]
fn an_opus_participant_costs_the_mixer_well_under_256_kib() {
    let opus = CodecConfig::Opus(OpusConfig::default());
    // The engine's default room bound (`room_participants_max`).
    let mixer = MixerConfig {
        participants_max: 32,
        ..MixerConfig::default()
    };
    let before_room = LIVE.load(Ordering::Relaxed);
    let mut room = Room::new(mixer);
    let empty_room = LIVE.load(Ordering::Relaxed) - before_room;
    // The first participant also creates the room's shared listener
    // encoder; count the other eleven.
    room.add_participant(ParticipantConfig::new(ParticipantId(0), opus, 111, 1))
        .unwrap();
    let before = LIVE.load(Ordering::Relaxed);
    for i in 1..ROOM as u32 {
        room.add_participant(ParticipantConfig::new(ParticipantId(i), opus, 111, i + 1))
            .unwrap();
    }
    let rust_heap = ((LIVE.load(Ordering::Relaxed) - before) / (ROOM as isize - 1)) as usize;

    // SAFETY: pure size queries with a valid channel count.
    let (encoder, decoder) = unsafe {
        (
            audiopus::ffi::opus_encoder_get_size(1) as usize,
            audiopus::ffi::opus_decoder_get_size(1) as usize,
        )
    };
    // Each participant owns one decoder and one encoder (its own mix while
    // it speaks) and a slot of the room's preallocated participant Vec; the
    // room's listener encoder and the rest of the room are shared.
    let slot = std::mem::size_of::<Participant>();
    let per_participant = rust_heap + slot + encoder + decoder;
    let room_fixed = empty_room as usize - mixer.participants_max * slot;
    let room_share = (room_fixed + encoder) / ROOM;
    eprintln!(
        "per Opus participant: {per_participant} B = Rust heap {rust_heap} B (jitter buffer \
         slots) + Participant slot {slot} B + libopus encoder {encoder} B + decoder \
         {decoder} B; plus a room of {ROOM}'s share {room_share} B (room {room_fixed} B \
         without participant slots, listener encoder {encoder} B)"
    );
    assert!(rust_heap > 0 && encoder > 0 && decoder > 0);
    // Half the target: the shard's member state, sockets and receive
    // buffers come on top.
    assert!(
        per_participant + room_share <= TARGET_BYTES / 2,
        "{per_participant} + {room_share} B per participant"
    );
    drop(room);
}
