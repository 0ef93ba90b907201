//! The only place that calls `libc` or raw system calls: what rustix does
//! not expose publicly, split by area. Each platform quirk (the mips
//! `sigaction` layout, the x86 signal restorer, 64-bit time on 32-bit
//! architectures, qemu-user refusing a clone flag, kernels before
//! `close_range`) is one function here, with its fallback beside it.
//!
//! rustix keeps fork, exec and signal dispositions in a hidden module whose
//! name changes on purpose, so they come from musl. Every function is a
//! thin, documented wrapper; every `unsafe` block states why it is sound.

mod clock;
mod env;
mod fd;
mod mem;
pub mod path;
mod process;
mod signal;

pub use clock::{now, poll, sleep_ms, sleep_until, span_ms, Clock};
pub use env::{count, cstr_of, cstr_tail, each_cstr, env, var, Argv, CArgv, EnvTable, ENV_MAX};
pub use fd::{close, close_range, stderr, stdout};
pub use mem::{trim_stack, with_mapped};
pub use process::{abort, exec_search, exit_now, fork, fork_libc, fork_quiet, reap, set_subreaper, Forked};
pub use signal::{reset_signals, set_catch, set_default, set_ignore, set_mask, signal, signal_by_name, signal_name, signalfd};

use rustix::io::Errno;

/// The errno the last failed libc call or raw system call set.
fn last_errno() -> Errno {
    // SAFETY: __errno_location returns a valid pointer to this thread's errno.
    Errno::from_raw_os_error(unsafe { *libc::__errno_location() })
}

/// A raw system call's result: 0 is success, else the errno it set.
fn check(r: libc::c_long) -> Result<(), Errno> {
    match r {
        0 => Ok(()),
        _ => Err(last_errno()),
    }
}
