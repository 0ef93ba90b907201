//! File descriptors of the daemon: stdio that is never closed, and closing
//! everything else the launcher inherited.

use crate::sys;
use core::ffi::CStr;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use rustix::fs::{self, Mode, OFlags, CWD};
use rustix::io::Errno;

/// How many descriptors the daemon can keep open besides 0-2: dfork's own
/// (up to six: the pidfile and its directory, /dev/null, the status pipe's
/// two ends, the readiness descriptor), then the caller's.
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

/// For a relative `path`, the current directory held open ([`open(2)`] with
/// `O_PATH`), so the path still resolves the same after the daemon's `chdir`;
/// None for an absolute path. Resolve against it with [`base`].
///
/// [`open(2)`]: https://man7.org/linux/man-pages/man2/open.2.html
pub fn anchor(path: &CStr) -> Result<Option<OwnedFd>, Errno> {
    match path.to_bytes().first() {
        Some(b'/') => Ok(None),
        _ => fs::open(c".", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).map(Some),
    }
}

/// The directory part of `path` (`.` for a bare name, `/` at the root) as a
/// C string in `buf`, and where the file's name starts in `path`.
pub fn parent<'b>(path: &CStr, buf: &'b mut [u8; 4096]) -> Result<(&'b CStr, usize), Errno> {
    let b = path.to_bytes();
    let (dir, name_at) = match b.iter().rposition(|&c| c == b'/') {
        Some(0) => (&b"/"[..], 1),
        Some(i) => (&b[..i], i + 1),
        None => (&b"."[..], 0),
    };
    let d = buf.get_mut(..=dir.len()).ok_or(Errno::NAMETOOLONG)?;
    d[..dir.len()].copy_from_slice(dir);
    d[dir.len()] = 0;
    Ok((sys::cstr_of(d), name_at))
}

/// The directory an [`anchor`] stands for: itself, or the current directory.
#[inline(never)] // measured: the binary is smaller with it out of line
pub fn base(anchor: &Option<OwnedFd>) -> BorrowedFd<'_> {
    anchor.as_ref().map_or(CWD, |d| d.as_fd())
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
