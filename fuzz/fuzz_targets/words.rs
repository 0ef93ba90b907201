//! The small parsers: signal names and numbers, --retry schedules, umask,
//! durations and ids. Whatever they accept is in range and means what it says.
#![no_main]
use dfork::cli::values::{schedule, seconds, signal, umask};
use dfork::control::{Step, SCHEDULE_MAX};
use dfork::text::decimal;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(n) = signal(data) {
        assert!((1..=64).contains(&n), "{data:?} -> {n}");
    }
    if let Some(s) = schedule(data, libc::SIGTERM) {
        let steps = &s.steps[..s.len as usize];
        let sends = |x: &Step| matches!(x, Step::Signal(_));
        assert!(s.len as usize <= SCHEDULE_MAX && s.repeat <= s.len);
        assert!(steps.iter().any(sends));
        for x in steps {
            match *x {
                Step::Signal(n) => assert!((1..=64).contains(&n), "{data:?} -> {steps:?}"),
                Step::Wait(ms) => assert!((1..=86_400_000).contains(&ms), "{data:?} -> {steps:?}"),
            }
        }
        // What `forever` repeats holds a signal, or the schedule would spin.
        if s.repeat < s.len {
            assert!(steps[s.repeat as usize..].iter().any(sends));
        }
    }
    if let Some(v) = decimal(data) {
        assert_eq!(v.to_string().as_bytes(), data, "digits only, no leading zero");
    }
    if let Some(m) = umask(data) {
        assert!(m <= 0o777);
    }
    if let Some(ms) = seconds(data, 86_400_000) {
        assert!((1..=86_400_000).contains(&ms));
    }
});
