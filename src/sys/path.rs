//! Paths that must mean the same after the daemon's `chdir`: a relative one
//! is resolved against the directory it was given in, held open.

use core::ffi::CStr;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, Mode, OFlags, CWD};
use rustix::io::Errno;

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

/// The directory part of `path` (`.` for a bare name, `/` at the root) as a
/// C string in `buf`, and where the file's name starts in `path`. Slashes
/// at the end belong to the name (`a/b/` is `b/` in `a`): opened there, it
/// names `b` only if `b` is a directory, as the whole path does.
pub fn parent<'b>(path: &CStr, buf: &'b mut [u8; 4096]) -> Result<(&'b CStr, usize), Errno> {
    let b = path.to_bytes();
    let end = b.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);
    let (dir, name_at) = match b[..end].iter().rposition(|&c| c == b'/') {
        Some(0) => (&b"/"[..], 1),
        Some(i) => (&b[..i], i + 1),
        None => (&b"."[..], 0),
    };
    let d = buf.get_mut(..=dir.len()).ok_or(Errno::NAMETOOLONG)?;
    d[..dir.len()].copy_from_slice(dir);
    d[dir.len()] = 0;
    Ok((super::cstr_of(d), name_at))
}
