//! Clocks, pauses and timeouts.

use rustix::event::PollFd;
use rustix::io::Errno;
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

/// `ms` milliseconds as a timespec.
fn timespec_ms(ms: u64) -> Timespec {
    Timespec { tv_sec: (ms / 1000) as _, tv_nsec: (ms % 1000 * 1_000_000) as _ }
}

/// Pause for `ms` milliseconds ([`nanosleep(2)`]); a signal ends it early.
///
/// [`nanosleep(2)`]: https://man7.org/linux/man-pages/man2/nanosleep.2.html
pub fn sleep_ms(ms: u64) {
    #[cfg(not(target_arch = "mips"))]
    let _ = rustix::thread::nanosleep(&timespec_ms(ms));
    #[cfg(target_arch = "mips")]
    let _ = mips::clock_nanosleep(0, &timespec_ms(ms));
}

/// Sleep until `deadline` on the monotonic clock ([`clock_nanosleep(2)`]
/// with `TIMER_ABSTIME`); `Err(INTR)` when a signal came first.
///
/// [`clock_nanosleep(2)`]: https://man7.org/linux/man-pages/man2/clock_nanosleep.2.html
pub fn sleep_until(deadline: &Timespec) -> Result<(), Errno> {
    #[cfg(not(target_arch = "mips"))]
    return rustix::thread::clock_nanosleep_absolute(rustix::thread::ClockId::Monotonic, deadline);
    #[cfg(target_arch = "mips")]
    return mips::clock_nanosleep(libc::TIMER_ABSTIME, deadline);
}

/// Wait in [`poll(2)`] until one of `fds` is ready or `ms` pass (None: no
/// limit); how many are ready.
///
/// [`poll(2)`]: https://man7.org/linux/man-pages/man2/poll.2.html
pub fn poll(fds: &mut [PollFd<'_>], ms: Option<u64>) -> Result<usize, Errno> {
    #[cfg(not(target_arch = "mips"))]
    return rustix::event::poll(fds, ms.map(timespec_ms).as_ref());
    #[cfg(target_arch = "mips")]
    return mips::poll(fds, ms);
}

/// Milliseconds from `a` to `b` (0 if `b` is earlier). Both are monotonic
/// readings of one run, so the seconds' difference is small even when the
/// clock itself is huge (a time namespace may add 2^40 s): i64 suffices.
pub fn span_ms(a: &Timespec, b: &Timespec) -> u64 {
    let ms = b.tv_sec.wrapping_sub(a.tv_sec).saturating_mul(1000) + (b.tv_nsec as i64 - a.tv_nsec as i64) / 1_000_000;
    ms.max(0) as u64
}

/// On MIPS, rustix may reach the kernel through libc (on big-endian MIPS it
/// always does), and there its timespec is wrong for musl 1.2: a 64-bit
/// `tv_sec` with a C `long` `tv_nsec` right after it, where big-endian musl
/// has 32 bits of padding first; and the libc crate, unless told otherwise,
/// links musl's old entry points for a 32-bit `time_t`. Either way the
/// kernel got the wrong nanoseconds. So timed calls skip rustix here:
/// musl's 64-bit-time `clock_nanosleep` gets two 64-bit words (the padding
/// zero, so right on either endianness), and `poll` takes milliseconds.
#[cfg(target_arch = "mips")]
mod mips {
    use super::{Errno, PollFd, Timespec};
    use core::ffi::c_int;

    /// [`clock_nanosleep(2)`] on CLOCK_MONOTONIC; `flags` 0 or TIMER_ABSTIME.
    ///
    /// [`clock_nanosleep(2)`]: https://man7.org/linux/man-pages/man2/clock_nanosleep.2.html
    pub fn clock_nanosleep(flags: c_int, t: &Timespec) -> Result<(), Errno> {
        extern "C" {
            fn __clock_nanosleep_time64(id: libc::clockid_t, flags: c_int, req: *const [i64; 2], rem: *mut [i64; 2]) -> c_int;
        }
        let req = [t.tv_sec, t.tv_nsec as i64];
        // SAFETY: req is musl 1.2's struct timespec as two 64-bit words (see
        // above); no remainder is asked for (NULL).
        match unsafe { __clock_nanosleep_time64(libc::CLOCK_MONOTONIC, flags, &req, core::ptr::null_mut()) } {
            0 => Ok(()),
            e => Err(Errno::from_raw_os_error(e)),
        }
    }

    /// [`poll(2)`] with a timeout in milliseconds (-1: none).
    ///
    /// [`poll(2)`]: https://man7.org/linux/man-pages/man2/poll.2.html
    pub fn poll(fds: &mut [PollFd<'_>], ms: Option<u64>) -> Result<usize, Errno> {
        let timeout = ms.map_or(-1, |ms| ms.min(c_int::MAX as u64) as c_int);
        // SAFETY: rustix's PollFd has struct pollfd's layout (an int and two
        // shorts); fds is a live, writable array of fds.len() of them.
        let n = unsafe { libc::poll(fds.as_mut_ptr().cast(), fds.len() as libc::nfds_t, timeout) };
        if n < 0 {
            return Err(super::super::last_errno());
        }
        Ok(n as usize)
    }
}
