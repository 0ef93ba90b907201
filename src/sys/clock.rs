//! Clocks and pauses.

use rustix::time::Timespec;

/// Which clock [`now`] reads.
#[derive(Clone, Copy)]
pub enum Clock {
    /// CLOCK_REALTIME: the wall clock.
    Wall,
    /// CLOCK_MONOTONIC: never jumps.
    Monotonic,
}

/// Read a clock with musl's [`clock_gettime(3)`], which reads it from the
/// kernel's vDSO where there is one (no system call) and makes the system
/// call where there is not.
///
/// [`clock_gettime(3)`]: https://man7.org/linux/man-pages/man3/clock_gettime.3.html
pub fn now(clock: Clock) -> Timespec {
    let id = match clock {
        Clock::Wall => libc::CLOCK_REALTIME,
        Clock::Monotonic => libc::CLOCK_MONOTONIC,
    };
    let [sec, nsec] = gettime64(id);
    Timespec { tv_sec: sec, tv_nsec: nsec as _ }
}

/// musl's `clock_gettime` with 64-bit seconds. On 64-bit architectures that
/// is `clock_gettime` itself.
#[cfg(target_pointer_width = "64")]
fn gettime64(id: libc::clockid_t) -> [i64; 2] {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a writable struct timespec; the clock ids used exist on
    // every kernel, so the call cannot fail.
    unsafe { libc::clock_gettime(id, &mut ts) };
    [ts.tv_sec, ts.tv_nsec]
}

/// On 32-bit architectures the `clock_gettime` symbol is musl's old
/// interface with 32-bit seconds (wrong after 2038); musl 1.2 names the
/// 64-bit one `__clock_gettime64`. Its struct timespec is a 64-bit tv_sec
/// and a 32-bit tv_nsec with 32 bits of padding beside it (after it on
/// little-endian, before it on big-endian): read as two zeroed 64-bit words,
/// the second is tv_nsec either way.
#[cfg(target_pointer_width = "32")]
fn gettime64(id: libc::clockid_t) -> [i64; 2] {
    extern "C" {
        fn __clock_gettime64(id: libc::clockid_t, ts: *mut [i64; 2]) -> core::ffi::c_int;
    }
    let mut ts = [0i64; 2];
    // SAFETY: ts is 16 writable bytes, the size of musl's 64-bit-time
    // struct timespec, with its padding zero (see above).
    unsafe { __clock_gettime64(id, &mut ts) };
    ts
}

/// `ms` milliseconds as a timespec: a timeout for [`poll(2)`], a pause for
/// [`nanosleep(2)`].
///
/// [`poll(2)`]: https://man7.org/linux/man-pages/man2/poll.2.html
/// [`nanosleep(2)`]: https://man7.org/linux/man-pages/man2/nanosleep.2.html
pub fn timespec_ms(ms: u64) -> Timespec {
    Timespec { tv_sec: (ms / 1000) as _, tv_nsec: (ms % 1000 * 1_000_000) as _ }
}

/// Pause for `ms` milliseconds ([`nanosleep(2)`]); a signal ends it early.
///
/// [`nanosleep(2)`]: https://man7.org/linux/man-pages/man2/nanosleep.2.html
pub fn sleep_ms(ms: u64) {
    let _ = rustix::thread::nanosleep(&timespec_ms(ms));
}

/// Milliseconds from `a` to `b` (0 if `b` is earlier). Both are monotonic
/// readings of one run, so the seconds' difference is small even when the
/// clock itself is huge (a time namespace may add 2^40 s): i64 suffices.
pub fn span_ms(a: &Timespec, b: &Timespec) -> u64 {
    let ms = b.tv_sec.wrapping_sub(a.tv_sec).saturating_mul(1000) + (b.tv_nsec as i64 - a.tv_nsec as i64) / 1_000_000;
    ms.max(0) as u64
}
