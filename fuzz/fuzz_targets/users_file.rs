//! Any bytes as a users file, in each format: reading never panics.
#![no_main]

use dormant::connector::file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for name in ["u.csv", "u.json", "u.jsonl"] {
        let _ = file::parse(name, data);
    }
});
