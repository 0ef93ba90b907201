//! The command-line parser on arbitrary arguments: the NUL-separated pieces
//! of the input (empty strings, non-UTF-8, thousands of them). It must never
//! panic (a panic aborts dfork), and what it accepts must be in range.
#![no_main]
use dfork::args::{Config, Mode, Ready, SCHEDULE_MAX};
use libfuzzer_sys::fuzz_target;
use std::ffi::CString;

fuzz_target!(|data: &[u8]| {
    let owned: Vec<CString> =
        std::iter::once(&b"dfork"[..]).chain(data.split(|&b| b == 0)).map(|a| CString::new(a).unwrap()).collect();
    let mut ptrs: Vec<*const libc::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: owned.len() valid C strings followed by NULL, alive for the call.
    let argv = unsafe { dfork::sys::Argv::from_raw(owned.len() as i32, ptrs.as_ptr()) };
    let mut envs = 0;
    let mut c = Config::new(argv);
    let r = c.parse(argv, &mut |kv| {
        assert!(dfork::args::env_name(kv.to_bytes()).is_some(), "-E without NAME=: {kv:?}");
        envs += 1;
    });
    if r.is_err() {
        return;
    }
    assert!(c.command <= argv.len());
    assert_eq!(envs, c.env_count);
    if c.mode == Mode::Exec {
        assert!(c.command < argv.len(), "exec mode has a command");
    }
    assert!(c.umask <= 0o777);
    assert!((1..=86_400_000).contains(&c.every_ms));
    let s = c.schedule;
    let steps = &s.steps[..s.len as usize];
    assert!(s.len as usize <= SCHEDULE_MAX && s.repeat <= s.len);
    assert!(steps.iter().any(|&x| x < 0), "a schedule sends a signal");
    assert!(steps.iter().all(|&x| (-64..=86_400_000).contains(&x) && x != 0), "{steps:?}");
    // Readiness and supervision: in range, and only where they apply (--help
    // and --version end the parse, so what came before them stands unchecked).
    assert!((1..=86_400_000).contains(&c.wait_ms) && (1..=60_000).contains(&c.respawn_delay_ms));
    if c.mode == Mode::Help || c.mode == Mode::Version {
        return;
    }
    if let Ready::Fd(n) = c.ready {
        assert!((3..=1023).contains(&n));
    }
    if c.ready != Ready::Exec {
        assert!(c.mode == Mode::Exec && !c.respawn && !c.foreground);
    }
    if c.respawn {
        assert_eq!(c.mode, Mode::Exec);
    }
    if let Some((n, window, _)) = c.respawn_max {
        assert!(c.respawn && (1..=64).contains(&n) && (1..=86_400_000).contains(&window));
    }
});
