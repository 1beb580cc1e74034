//! Any text: parse, check and fmt never panic, and whatever parses formats
//! to text that parses back to the same policy, idempotently.
#![no_main]

use chrono::{TimeZone, Utc};
use dormant::{check, fmt, parse, source::Source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = parse::parse(&Source::new("fuzz.policy", text)) else { return };
    let as_of = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
    let _ = check::check(&parsed.policy, &check::Options { as_of });
    let once = fmt::format(text, &parsed);
    let reparsed = parse::parse(&Source::new("formatted", once.as_str())).expect("formatted text parses");
    assert_eq!(reparsed.policy, parsed.policy);
    assert_eq!(fmt::format(&once, &reparsed), once);
});
