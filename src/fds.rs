//! File descriptors of the daemon: stdio that is never closed, and closing
//! everything else the launcher inherited.

use crate::sys;
use core::mem::MaybeUninit;
use core::ffi::CStr;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use rustix::fs::{self, Mode, OFlags, CWD};
use rustix::io::Errno;

/// How many descriptors the daemon can keep open besides 0-2.
pub const KEEP_MAX: usize = 8;

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

/// The directory an [`anchor`] stands for: itself, or the current directory.
pub fn base(anchor: &Option<OwnedFd>) -> BorrowedFd<'_> {
    anchor.as_ref().map_or(CWD, |d| d.as_fd())
}

/// Close every descriptor above 2 except those in `keep`, with
/// [`close_range(2)`] over the gaps between them; on kernels before 5.9, by
/// listing /proc/self/fd, and without /proc, one by one up to RLIMIT_NOFILE.
///
/// [`close_range(2)`]: https://man7.org/linux/man-pages/man2/close_range.2.html
pub fn close_all_but(keep: &[RawFd]) -> Result<(), Errno> {
    let mut lo = 3u32;
    // The next kept descriptor at or above lo, in ascending order (a handful).
    while let Some(k) = keep.iter().map(|&k| k as u32).filter(|&k| k >= lo).min() {
        if k > lo {
            close_range(lo, k - 1, keep)?;
        }
        lo = k + 1;
    }
    close_range(lo, u32::MAX, keep)
}

fn close_range(lo: u32, hi: u32, keep: &[RawFd]) -> Result<(), Errno> {
    match sys::close_range(lo, hi) {
        Err(Errno::NOSYS) | Err(Errno::INVAL) => {}
        r => return r,
    }
    if hi != u32::MAX {
        (lo..=hi).for_each(|fd| sys::close(fd as RawFd));
        return Ok(());
    }
    match close_listed(lo, keep) {
        Err(Errno::NOENT) | Err(Errno::NOTDIR) | Err(Errno::ACCESS) => {}
        r => return r,
    }
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current.unwrap_or(1 << 20);
    (lo as u64..limit.min(1 << 20)).for_each(|fd| sys::close(fd as RawFd));
    Ok(())
}

/// Close the descriptors at or above `lo` that /proc/self/fd lists, but those
/// in `keep` and the listing's own. Closing while listing is fine: procfs reads
/// this directory in descriptor order.
fn close_listed(lo: u32, keep: &[RawFd]) -> Result<(), Errno> {
    let dir = fs::open(c"/proc/self/fd", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let own = dir.as_raw_fd();
    let mut buf = [MaybeUninit::<u8>::uninit(); 1024];
    let mut entries = fs::RawDir::new(&dir, &mut buf);
    while let Some(entry) = entries.next() {
        let name = entry?;
        let Some(fd) = parse_fd(name.file_name().to_bytes()) else { continue };
        if fd >= lo as RawFd && fd != own && !keep.contains(&fd) {
            sys::close(fd);
        }
    }
    Ok(())
}

fn parse_fd(b: &[u8]) -> Option<RawFd> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    b.iter().try_fold(0 as RawFd, |v, &c| c.is_ascii_digit().then(|| v * 10 + (c - b'0') as RawFd))
}
