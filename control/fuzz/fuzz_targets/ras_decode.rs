//! The RAS decoder on arbitrary bytes: never panics, and whatever decodes
//! re-encodes and decodes back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = control::ras::peek(data);
    if let Ok(message) = control::ras::decode(data) {
        let bytes = control::ras::encode(&message).expect("a decoded message re-encodes");
        let again = control::ras::decode(&bytes).expect("our encoding decodes");
        assert_eq!(again, message);
    }
});
