//! The pidfile: opened without following links, locked, written, read strictly,
//! removed only while it is still ours.
//!
//! The lock is a [`flock(2)`] lock. It belongs to the open file description, so
//! it survives `fork` and `exec` on an inherited descriptor and is released only
//! when the last process holding that description exits. "Locked" therefore
//! means "the daemon dfork started is alive", which a pid alone never proves.
//!
//! [`flock(2)`]: https://man7.org/linux/man-pages/man2/flock.2.html

use core::ffi::CStr;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, AtFlags, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

/// The largest pid Linux can hand out (`PID_MAX_LIMIT`, 2^22).
pub const PID_MAX_LIMIT: u32 = 4_194_304;

/// A pidfile that this process has open and locked.
pub struct Pidfile<'a> {
    fd: OwnedFd,
    /// The directory a relative `path` is resolved in, kept open so the daemon
    /// can still find the file after `chdir`.
    dir: Option<OwnedFd>,
    path: &'a CStr,
}

/// Why a pidfile could not be taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Refused {
    /// Another process holds the lock; the pid it wrote, if the file is valid.
    Running(Option<u32>),
    /// The path is not a regular file (a directory, FIFO, device...).
    NotRegular,
    /// The file has other hard links: writing it could change another file.
    Linked,
    /// The OS refused an operation.
    Os(Errno),
}

impl From<Errno> for Refused {
    fn from(e: Errno) -> Self {
        Refused::Os(e)
    }
}

impl<'a> Pidfile<'a> {
    /// Open (creating it 0644 if needed and `create` says so) and lock
    /// `path`, without blocking.
    ///
    /// The file is opened with `O_NOFOLLOW | O_NONBLOCK` ([`open(2)`]), so a
    /// symlink is refused (ELOOP) and a FIFO never hangs us; it must then be a
    /// regular file with one link. A file left by a dead daemon is not locked and
    /// is taken over, and emptied. After locking, the file must still be
    /// linked: a rival may have removed it in between (dfork removes a
    /// pidfile only while holding its lock, so once we hold it nobody does),
    /// and a lock on an unlinked file would let a third launcher start a
    /// second daemon; then it is opened again. Its link count says so, from
    /// the same [`fstat(2)`] that checks the type: no second look at the path.
    ///
    /// The descriptor is inheritable (no `O_CLOEXEC`): a daemon that execs
    /// passes the lock on to its program, which holds it as long as it runs.
    /// (The launcher never execs; the supervisor marks it close-on-exec.)
    ///
    /// A file it creates is made mode 0644 whatever the umask: [`fchmod(2)`]
    /// when the umask took bits of it away.
    ///
    /// [`fchmod(2)`]: https://man7.org/linux/man-pages/man2/fchmod.2.html
    /// [`fstat(2)`]: https://man7.org/linux/man-pages/man2/fstat.2.html
    /// [`open(2)`]: https://man7.org/linux/man-pages/man2/open.2.html
    pub fn acquire(path: &'a CStr, create: bool) -> Result<Self, Refused> {
        let dir = crate::sys::path::anchor(path)?;
        let base = crate::sys::path::base(&dir);
        let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK;
        let flags = if create { flags | OFlags::CREATE } else { flags };
        // Each round ends in a success, a refusal, or a retry: a rival
        // removed the file (rare), someone held a shared lock for a moment,
        // or another dfork holds it in the middle of a change (1 ms a round:
        // a second in all).
        let mut changing = false;
        for _ in 0..1000 {
            let fd = match fs::openat(base, path, flags, Mode::from_bits_truncate(0o644)) {
                // A directory (opened for writing): what --status says of it too.
                Err(Errno::ISDIR) => return Err(Refused::NotRegular),
                r => r?,
            };
            match fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                // A shared lock is `--status` or `--stop` looking for a
                // moment, not a daemon: wait it out.
                Err(Errno::WOULDBLOCK) if probe_shared(&fd).is_ok() => {
                    crate::sys::sleep_ms(1);
                    continue;
                }
                // A live pid in it: a daemon runs. Else a start that has
                // not written its pid yet, or a stop about to remove the
                // file: wait it out, and never name a pid that is not alive.
                Err(Errno::WOULDBLOCK) => match read_pid(&fd).filter(|&p| lives(p)) {
                    Some(p) => return Err(Refused::Running(Some(p))),
                    None => {
                        changing = true;
                        crate::sys::sleep_ms(1);
                        continue;
                    }
                },
                Err(e) => return Err(e.into()),
            }
            // Looked at once locked: nobody writes it now but us.
            let st = fs::fstat(&fd)?;
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                return Err(Refused::NotRegular);
            }
            match st.st_nlink {
                0 => continue, // removed by a rival meanwhile
                1 => {}
                _ => return Err(Refused::Linked),
            }
            if create && st.st_mode & 0o7777 != 0o644 {
                fs::fchmod(&fd, Mode::from_bits_truncate(0o644))?;
            }
            // A stale pid stays until the daemon writes its own over it
            // (`write`): a launcher killed now leaves the file as it was,
            // never empty; while the lock is held, readers wait for the pid.
            return Ok(Pidfile { fd, dir, path });
        }
        Err(if changing { Refused::Running(None) } else { Refused::Os(Errno::AGAIN) })
    }

    /// Record `pid` as `PID\n` in the file: one positioned write
    /// ([`pwrite(2)`]) over whatever stale pid it held, then the file cut to
    /// that length ([`ftruncate(2)`]). The file is never replaced: the lock
    /// lives on this inode.
    ///
    /// [`pwrite(2)`]: https://man7.org/linux/man-pages/man2/pwrite.2.html
    /// [`ftruncate(2)`]: https://man7.org/linux/man-pages/man2/ftruncate.2.html
    pub fn write(&self, pid: u32) -> Result<(), Errno> {
        let mut d = [0u8; 21];
        let n = {
            let mut t = [0u8; 20];
            let s = crate::text::itoa(pid as u64, &mut t);
            d[..s.len()].copy_from_slice(s);
            d[s.len()] = b'\n';
            s.len() + 1
        };
        let mut off = 0;
        while off < n {
            match rustix::io::pwrite(&self.fd, &d[off..n], off as u64) {
                Ok(0) => return Err(Errno::IO),
                Ok(k) => off += k,
                Err(Errno::INTR) => {}
                Err(e) => return Err(e),
            }
        }
        fs::ftruncate(&self.fd, n as u64)
    }

    /// Remove the file, but only if the path still names the file we hold
    /// ([`unlinkat(2)`]); a pidfile that someone replaced is left alone.
    ///
    /// [`unlinkat(2)`]: https://man7.org/linux/man-pages/man2/unlinkat.2.html
    pub fn remove(&self) {
        let base = self.base();
        if same_file(base, self.path, &self.fd) {
            fs::unlinkat(base, self.path, AtFlags::empty()).ok();
        }
    }

    /// The locked descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The directory descriptor a relative path is resolved in, if any.
    pub fn dir_fd(&self) -> Option<BorrowedFd<'_>> {
        self.dir.as_ref().map(|d| d.as_fd())
    }

    /// The path as given.
    pub fn path(&self) -> &'a CStr {
        self.path
    }

    /// The directory [`path`](Self::path) is resolved in.
    pub fn base(&self) -> BorrowedFd<'_> {
        crate::sys::path::base(&self.dir)
    }
}

/// Write `pid` into `path`, a pidfile that another process (the daemon)
/// holds locked: its `MAINPID=` named another process. Nothing is written
/// unless the lock is held, so a file a dead daemon left is never touched;
/// never through a symlink, never waiting on a FIFO.
pub fn rewrite(path: &CStr, pid: u32) {
    let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    if let Ok(fd) = fs::open(path, flags, Mode::empty()) {
        if probe_shared(&fd) == Err(Errno::WOULDBLOCK) {
            Pidfile { fd, dir: None, path }.write(pid).ok();
        }
    }
}

/// Take a shared [`flock(2)`] on `fd`'s file and release it at once: Ok when
/// nobody holds it exclusively (a daemon does), so a launcher that meets a
/// shared lock knows it is `--status` or `--stop` looking for a moment, and
/// those know whether a daemon holds the file (WOULDBLOCK).
///
/// [`flock(2)`]: https://man7.org/linux/man-pages/man2/flock.2.html
pub fn probe_shared(fd: &OwnedFd) -> Result<(), Errno> {
    fs::flock(fd, FlockOperation::NonBlockingLockShared)?;
    fs::flock(fd, FlockOperation::Unlock).ok();
    Ok(())
}

/// Whether process `pid` lives: it exists (signal 0; EPERM means it does)
/// and is not a zombie. A daemon that exited under a parent that never
/// reaps (a container's PID 1, a subreaper) stays a zombie: it is dead for
/// `--status`, `--stop` and a start.
pub fn lives(pid: u32) -> bool {
    let Some(p) = rustix::process::Pid::from_raw(pid as i32) else { return false };
    !matches!(rustix::process::test_kill_process(p), Err(Errno::SRCH)) && !super::service::zombie(pid)
}

/// Whether `path` (not following a final symlink) is the file open as `fd`.
pub fn same_file(base: BorrowedFd<'_>, path: &CStr, fd: &OwnedFd) -> bool {
    match (fs::statat(base, path, AtFlags::SYMLINK_NOFOLLOW), fs::fstat(fd)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

/// Read the pid in a pidfile, strictly: see [`parse_pid`].
pub fn read_pid(fd: &OwnedFd) -> Option<u32> {
    let mut buf = [0u8; 16];
    let mut n = 0;
    while n < buf.len() {
        match rustix::io::pread(fd, &mut buf[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(Errno::INTR) => {}
            Err(_) => return None,
        }
    }
    parse_pid(&buf[..n])
}

/// Read the pid in the pidfile at `path` (a program's own, not followed
/// through a final symlink, opened without blocking on a FIFO).
pub fn read_pid_at(path: &CStr) -> Option<u32> {
    let fd = fs::open(path, OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty()).ok()?;
    read_pid(&fd)
}

/// A pid as a pidfile must hold it: `[1-9][0-9]*` and at most one final
/// newline, between 2 and [`PID_MAX_LIMIT`]. Everything else (empty, `0`, `-1`,
/// `1`, `+5`, ` 5`, `05`, `5\n6`, overflow, non-ASCII digits) is `None`, so a
/// file can never turn into `kill(0)`, `kill(-1)` or `kill(1)`.
pub fn parse_pid(b: &[u8]) -> Option<u32> {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    if b.is_empty() || b.len() > 7 || b[0] == b'0' {
        return None;
    }
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    (2..=PID_MAX_LIMIT).contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::parse_pid;

    #[test]
    fn strict_pids() {
        assert_eq!(parse_pid(b"42\n"), Some(42));
        assert_eq!(parse_pid(b"42"), Some(42));
        assert_eq!(parse_pid(b"4194304\n"), Some(4194304));
        for bad in [
            &b""[..], b"\n", b"0", b"1", b"1\n", b"-1", b"+5", b" 5", b"5 ", b"05", b"00", b"5\n6", b"5\n\n",
            b"99999999999", b"4194305", b"42abc", b"\xd9\xa4\xd9\xa2", b"0x10",
        ] {
            assert_eq!(parse_pid(bad), None, "{:?}", bad);
        }
    }
}
