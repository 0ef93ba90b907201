//! The command-line parser on arbitrary arguments: the NUL-separated pieces
//! of the input (empty strings, non-UTF-8, thousands of them). It must never
//! panic (a panic aborts dfork), and what it accepts must be in range.
#![no_main]
use dfork::cli::{parse, Mode};
use dfork::control::{Step, SCHEDULE_MAX};
use dfork::daemon::Ready;
use libfuzzer_sys::fuzz_target;
use std::ffi::CString;
fuzz_target!(|data: &[u8]| {
    let owned: Vec<CString> =
        std::iter::once(&b"dfork"[..]).chain(data.split(|&b| b == 0)).map(|a| CString::new(a).unwrap()).collect();
    let mut ptrs: Vec<*const libc::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: owned.len() valid C strings followed by NULL, alive for the call.
    let argv = unsafe { dfork::sys::Argv::from_raw(owned.len() as i32, ptrs.as_ptr()) };
    let Ok(c) = parse(argv) else { return };
    assert!(c.command <= argv.len());
    let mut envs = 0;
    c.env.each(argv, |kv| {
        assert!(dfork::cli::values::env_name(kv.to_bytes()).is_some(), "-E without NAME=: {kv:?}");
        envs += 1;
    });
    assert_eq!(envs, c.env.len());
    if c.mode == Mode::Exec {
        assert!(c.command < argv.len(), "exec mode has a command");
    }
    let d = c.daemon;
    assert!(d.umask_of() <= 0o777);
    assert!((1..=86_400_000).contains(&c.heartbeat.every_ms));
    let s = c.control.schedule;
    let steps = &s.steps[..s.len as usize];
    assert!(s.len as usize <= SCHEDULE_MAX && s.repeat <= s.len);
    assert!(steps.iter().any(|x| matches!(x, Step::Signal(_))), "a schedule sends a signal");
    for x in steps {
        match *x {
            Step::Signal(n) => assert!((1..=64).contains(&n), "{steps:?}"),
            Step::Wait(ms) => assert!((1..=86_400_000).contains(&ms), "{steps:?}"),
        }
    }
    // Readiness and supervision: in range, and only where they apply (--help
    // and --version end the parse, so what came before them stands unchecked).
    assert!((1..=86_400_000).contains(&d.wait_ms()));
    if let Some(r) = c.respawn {
        assert!((1..=60_000).contains(&r.delay_ms));
    }
    if c.mode == Mode::Help || c.mode == Mode::Version {
        return;
    }
    if let Ready::Fd(n) = d.readiness() {
        assert!((3..=1023).contains(&n));
    }
    if d.readiness() != Ready::Exec {
        assert!(c.mode == Mode::Exec && c.respawn.is_none() && !d.is_foreground());
    }
    if let Some(r) = c.respawn {
        assert_eq!(c.mode, Mode::Exec);
        if let Some(m) = r.max {
            assert!((1..=64).contains(&m.count) && (1..=86_400_000).contains(&m.window_ms));
        }
    }
});
