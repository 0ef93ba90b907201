//! File descriptors of the daemon: stdio that is never closed, and closing
//! everything else the launcher inherited.

use crate::sys;
use rustix::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;

/// How many descriptors the daemon can keep open besides 0-2: dfork's own
/// (up to seven: the pidfile and its directory, /dev/null, the status
/// pipe's two ends, the readiness descriptor, the directory of a relative
/// COMMAND path), then the caller's.
pub const KEEP_MAX: usize = 16;

/// Open /dev/null ([`open(2)`]) and return it as a descriptor above 2. Each of
/// fds 0-2 that was closed is first filled with /dev/null (and left
/// inheritable), so a later open can never become someone's stdout: a
/// launcher started with `>&-` would otherwise write its pid into the pidfile
/// through fd 1.
///
/// [`open(2)`]: https://man7.org/linux/man-pages/man2/open.2.html
pub fn open_null() -> Result<OwnedFd, Errno> {
    loop {
        let fd = fs::open(c"/dev/null", OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())?;
        if fd.as_raw_fd() > 2 {
            return Ok(fd);
        }
        rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::empty())?;
        let _stdio = fd.into_raw_fd(); // stays open as fd 0, 1 or 2 for good
    }
}

/// Close every descriptor above 2 except those in `keep`, with
/// [`close_range(2)`] over the gaps between them; on kernels before 5.9, one
/// by one up to RLIMIT_NOFILE (at most 2^20), as daemon(3)-style tools do.
///
/// [`close_range(2)`]: https://man7.org/linux/man-pages/man2/close_range.2.html
pub fn close_all_but(keep: &[RawFd]) -> Result<(), Errno> {
    let mut lo = 3u32;
    // The next kept descriptor at or above lo, in ascending order (a handful).
    while let Some(k) = keep.iter().map(|&k| k as u32).filter(|&k| k >= lo).min() {
        if k > lo {
            close_range(lo, k - 1)?;
        }
        lo = k + 1;
    }
    close_range(lo, u32::MAX)
}

fn close_range(lo: u32, hi: u32) -> Result<(), Errno> {
    match sys::close_range(lo, hi) {
        Err(Errno::NOSYS) | Err(Errno::INVAL) => {}
        r => return r,
    }
    let limit = match hi {
        u32::MAX => rustix::process::getrlimit(rustix::process::Resource::Nofile).current.unwrap_or(1 << 20).min(1 << 20),
        _ => hi as u64 + 1,
    };
    (lo as u64..limit).for_each(|fd| sys::close(fd as RawFd));
    Ok(())
}
