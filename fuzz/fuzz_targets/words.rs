//! The small parsers: signal names and numbers, --retry schedules, umask,
//! durations and ids. Whatever they accept is in range and means what it says.
#![no_main]
use dfork::args::{decimal, parse_schedule, parse_seconds, parse_signal, parse_umask, SCHEDULE_MAX};
use libfuzzer_sys::fuzz_target;
use std::ffi::CString;

fuzz_target!(|data: &[u8]| {
    if let Some(n) = parse_signal(data) {
        assert!((1..=64).contains(&n), "{data:?} -> {n}");
    }
    if let Some(s) = parse_schedule(data, libc::SIGTERM) {
        let steps = &s.steps[..s.len as usize];
        assert!(s.len as usize <= SCHEDULE_MAX && s.repeat <= s.len);
        assert!(steps.iter().any(|&x| x < 0));
        assert!(steps.iter().all(|&x| (-64..=86_400_000).contains(&x) && x != 0), "{data:?} -> {steps:?}");
        // What `forever` repeats holds a signal, or the schedule would spin.
        if s.repeat < s.len {
            assert!(steps[s.repeat as usize..].iter().any(|&x| x < 0));
        }
    }
    if let Some(v) = decimal(data) {
        assert_eq!(v.to_string().as_bytes(), data, "digits only, no leading zero");
    }
    if let Ok(c) = CString::new(data) {
        if let Ok(m) = parse_umask(&c) {
            assert!(m <= 0o777);
        }
        if let Some(ms) = parse_seconds(&c, 86_400_000) {
            assert!((1..=86_400_000).contains(&ms));
        }
    }
});
