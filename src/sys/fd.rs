//! Descriptors: the raw closes, and standard output and error.

use super::check;
use core::ffi::c_int;
use rustix::io::Errno;

/// Close every descriptor from `first` to `last` with [`close_range(2)`]
/// (Linux 5.9; older kernels answer ENOSYS and the caller falls back).
///
/// [`close_range(2)`]: https://man7.org/linux/man-pages/man2/close_range.2.html
pub fn close_range(first: u32, last: u32) -> Result<(), Errno> {
    // SAFETY: closing descriptors is memory-safe; the caller keeps what it owns
    // outside the range and forgets nothing it still uses.
    check(unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) })
}

/// Close one raw descriptor, ignoring the result ([`close(2)`]). The raw
/// call: musl's `close` is a thread-cancellation point, machinery dfork (one
/// thread) does not need.
///
/// [`close(2)`]: https://man7.org/linux/man-pages/man2/close.2.html
pub fn close(fd: c_int) {
    // SAFETY: used only on descriptors the caller does not own through an OwnedFd.
    unsafe { libc::syscall(libc::SYS_close, fd) };
}

/// Standard output, fd 1.
pub fn stdout() -> rustix::fd::BorrowedFd<'static> {
    // SAFETY: fd 1 is only ever written to through this handle. If the launcher
    // was started with fd 1 closed, a write answers EBADF until
    // `fds::open_null` fills the hole with /dev/null, which happens before dfork
    // opens any other file, so fd 1 never names a file opened for another use.
    unsafe { rustix::stdio::stdout() }
}

/// Standard error, fd 2 (see [`stdout`] for why this is sound).
pub fn stderr() -> rustix::fd::BorrowedFd<'static> {
    // SAFETY: as for stdout: write-only use, holes filled before any other open.
    unsafe { rustix::stdio::stderr() }
}
