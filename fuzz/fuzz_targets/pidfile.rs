//! The pidfile reader: only `[1-9][0-9]*` and one optional newline, 2 to
//! 4194304, may become a pid; nothing else (`-1`, `0`, ` 5`, `5\n6`, ...).
#![no_main]
use dfork::daemon::pidfile::{parse_pid, PID_MAX_LIMIT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(p) = parse_pid(data) {
        assert!((2..=PID_MAX_LIMIT).contains(&p));
        let s = p.to_string();
        assert!(data == s.as_bytes() || data == format!("{s}\n").as_bytes(), "{data:?} read as {p}");
    }
});
