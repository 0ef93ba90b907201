//! `--stop` and `--status`: the only code that sends signals.
//!
//! Both read the pidfile one careful way (`inspect`): never through a
//! symlink, only a regular file with one link, as root only one that no
//! other user can write or replace, and only strictly `PID\n`. The pid is
//! trusted only while the file's lock is held: the lock lives exactly as long
//! as the daemon dfork started, which a pid alone never proves. `--stop` then
//! pins the process with [`pidfd_open(2)`], checks the lock once more, and
//! signals and waits through the pidfd ([`pidfd_send_signal(2)`], [`poll(2)`]),
//! so a recycled pid is never signalled and the exit is seen at once.
//!
//! [`pidfd_open(2)`]: https://man7.org/linux/man-pages/man2/pidfd_open.2.html
//! [`pidfd_send_signal(2)`]: https://man7.org/linux/man-pages/man2/pidfd_send_signal.2.html
//! [`poll(2)`]: https://man7.org/linux/man-pages/man2/poll.2.html

use crate::args::{Config, Schedule};
use crate::error::{Error, ExitCode, Stage, Text};
use crate::out::{self, msg, Line};
use crate::pidfile::{probe_shared, read_pid, same_file};
use crate::sys;
use core::ffi::CStr;
use rustix::event::{poll, PollFd, PollFlags};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{self, AtFlags, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags};

/// `--status` exit codes, as the LSB init-script spec defines them.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lsb {
    /// The daemon runs (the lock is held).
    Running = 0,
    /// Not running, but the pidfile exists.
    Dead = 1,
    /// Not running.
    Stopped = 3,
    /// Unknown: the pidfile cannot be read or is refused.
    Unknown = 4,
}

/// A pidfile, opened and checked.
struct Seen<'p> {
    /// Its directory, and its name there.
    dir: OwnedFd,
    name: &'p CStr,
    fd: OwnedFd,
    /// The pid it holds, if it is strictly `PID\n` and not our own.
    pid: Option<u32>,
    /// Whether a daemon holds its lock.
    locked: bool,
}

/// The directory part of `path` ([`fds::parent`]), opened with `O_PATH`, and
/// the file's name in it.
fn open_dir<'p>(path: &'p CStr, buf: &mut [u8; 4096]) -> Result<(OwnedFd, &'p CStr), Errno> {
    let (dir, name_at) = crate::fds::parent(path, buf)?;
    let fd = fs::open(dir, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    Ok((fd, sys::cstr_tail(path, name_at)))
}

/// Open and check the pidfile at `path`; None when it does not exist. As
/// root, and unless `force`, refuse a file owned or writable by another
/// user, or in a directory another user can write to (no sticky bit): that
/// user could otherwise make root signal any process.
fn inspect(path: &CStr, force: bool) -> Result<Option<Seen<'_>>, Error> {
    let os = |e| Error::os(Stage::Pidfile, e);
    let mut buf = [0u8; 4096];
    let (dir, name) = match open_dir(path, &mut buf) {
        Err(Errno::NOENT) => return Ok(None),
        r => r.map_err(os)?,
    };
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = match fs::openat(&dir, name, flags, Mode::empty()) {
        Err(Errno::NOENT) => return Ok(None),
        r => r.map_err(os)?,
    };
    let st = fs::fstat(&fd).map_err(os)?;
    let refuse = |t| Err(Error::text(Stage::Control, t));
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return refuse(Text::NotRegular);
    }
    if st.st_nlink != 1 {
        return refuse(Text::Linked);
    }
    if rustix::process::geteuid().is_root() && !force {
        if st.st_uid != 0 || st.st_mode & 0o022 != 0 {
            return refuse(Text::UnsafeOwner);
        }
        let d = fs::fstat(&dir).map_err(os)?;
        if d.st_uid != 0 || (d.st_mode & 0o022 != 0 && d.st_mode & 0o1000 == 0) {
            return refuse(Text::UnsafeDir);
        }
    }
    let me = rustix::process::getpid().as_raw_nonzero().get() as u32;
    let pid = read_pid(&fd).filter(|&p| p != me);
    let locked = locked(&fd);
    Ok(Some(Seen { dir, name, fd, pid, locked }))
}

/// Whether a daemon holds the lock of `fd`'s file ([`probe_shared`]). Any
/// answer but "would block" counts as not held: then the pid is not trusted.
fn locked(fd: &OwnedFd) -> bool {
    probe_shared(fd) == Err(Errno::WOULDBLOCK)
}

/// Whether `pid` exists (signal 0: [`kill(2)`]); EPERM means it does.
///
/// [`kill(2)`]: https://man7.org/linux/man-pages/man2/kill.2.html
fn alive(pid: u32) -> bool {
    let Some(p) = Pid::from_raw(pid as i32) else { return false };
    !matches!(rustix::process::test_kill_process(p), Err(Errno::SRCH))
}

impl Seen<'_> {
    /// Remove the pidfile, if no daemon holds it and the path still names
    /// it: locked exclusively meanwhile, so no launcher takes it over in
    /// between ([`unlinkat(2)`]). Whether it was removed.
    ///
    /// [`unlinkat(2)`]: https://man7.org/linux/man-pages/man2/unlinkat.2.html
    fn remove(&self) -> bool {
        fs::flock(&self.fd, FlockOperation::NonBlockingLockExclusive).is_ok()
            && same_file(self.dir.as_fd(), self.name, &self.fd)
            && fs::unlinkat(&self.dir, self.name, AtFlags::empty()).is_ok()
    }
}

/// `dfork --status -p FILE` (`stop` false) and `dfork --stop -p FILE`: one
/// reading of the pidfile, told as `--status` tells it (LSB codes; what is
/// known on stdout) or acted on as `--stop` acts (0 stopped, 1 not running,
/// a stale pidfile removed; 125 refused or failed; errors on stderr).
#[inline(never)] // its 4 KiB path buffer stays out of main's frame, which every daemon keeps
pub fn run(cfg: &Config<'_>, stop: bool) -> u8 {
    let path = cfg.pidfile.unwrap_or(c"");
    // The code for --stop, or for --status.
    let code = |s: ExitCode, l: Lsb| if stop { s as u8 } else { l as u8 };
    let mut say = if stop { out::err_line(b"") } else { Line::stdout() };
    let mut not_running = |what, removed: bool| {
        say.msg(what).cstr(path).msg(if removed { SAID_REMOVED } else { SAID_CLOSE }).end();
    };
    let seen = match inspect(path, cfg.force) {
        Err(e) => {
            e.print(Some(path));
            return code(ExitCode::Failed, Lsb::Unknown);
        }
        Ok(None) => {
            not_running(SAID_NO_PIDFILE, false);
            return code(ExitCode::Running, Lsb::Stopped);
        }
        Ok(Some(s)) => s,
    };
    let Some(pid) = seen.pid else {
        Error::text(Stage::Control, Text::BadPidfile).print(Some(path));
        return code(ExitCode::Failed, Lsb::Unknown);
    };
    if !seen.locked && !alive(pid) {
        not_running(SAID_STALE, stop && seen.remove());
        return code(ExitCode::Running, Lsb::Dead);
    }
    if !seen.locked && !(stop && cfg.force) {
        about_pid(b"pidfile ", path, pid, SAID_NOT_LOCKED, if stop { SAID_NOT_SIGNALLING } else { SAID_NOTHING });
        return code(ExitCode::Failed, Lsb::Unknown);
    }
    if !stop {
        let mut l = Line::stdout();
        l.msg(SAID_RUNNING_AS).num(pid as u64).end();
        return Lsb::Running as u8;
    }
    match terminate(&seen, pid, &cfg.schedule, cfg.force) {
        Ok(true) => {
            seen.remove();
            ExitCode::Ok as u8
        }
        Ok(false) => {
            about_pid(b"stop ", path, pid, SAID_STILL_RUNNING, SAID_NOTHING);
            ExitCode::Failed as u8
        }
        Err(e) => {
            out::fail(b"signal", Some(path), e);
            ExitCode::Failed as u8
        }
    }
}

/// What `--stop` and `--status` say: entries of `@said` in `src/messages.txt`.
const SAID_NO_PIDFILE: usize = msg::SAID;
const SAID_STALE: usize = msg::SAID + 1;
const SAID_CLOSE: usize = msg::SAID + 2;
const SAID_REMOVED: usize = msg::SAID + 3;
const SAID_NOT_LOCKED: usize = msg::SAID + 4;
const SAID_NOT_SIGNALLING: usize = msg::SAID + 5;
const SAID_STILL_RUNNING: usize = msg::SAID + 6;
const SAID_RUNNING_AS: usize = msg::SAID + 7;
const SAID_NOTHING: usize = msg::SAID + 8;

/// `dfork: <verb>FILE: pid N <what><tail>` on stderr.
#[inline(always)] // measured: the binary is smaller with it inlined
fn about_pid(verb: &[u8], path: &CStr, pid: u32, what: usize, tail: usize) {
    let mut l = out::err_line(verb);
    l.cstr(path).bytes(b": pid ").num(pid as u64).msg(what).msg(tail);
    l.end();
}

/// Run `s` against `pid`: true once it has exited. The process is pinned
/// with a pidfd first, and the lock checked once more (unless `force`): a
/// daemon gone in between may have left its pid to another process. Without
/// pidfds (Linux before 5.3), signals go by pid right after a lock check,
/// and waiting looks at the lock every 10 ms.
fn terminate(seen: &Seen<'_>, pid: u32, s: &Schedule, force: bool) -> Result<bool, Errno> {
    let p = Pid::from_raw(pid as i32).ok_or(Errno::SRCH)?;
    let pidfd = match rustix::process::pidfd_open(p, PidfdFlags::empty()) {
        Ok(fd) => Some(fd),
        Err(Errno::NOSYS) => None,
        Err(Errno::SRCH) => return Ok(true),
        Err(e) => return Err(e),
    };
    let gone = || if force { !alive(pid) } else { !locked(&seen.fd) };
    let mut i = 0;
    while i < s.len as usize {
        let step = s.steps[i];
        if gone() {
            return Ok(true);
        }
        if step < 0 {
            let sig = sys::signal(-step);
            let sent = match &pidfd {
                Some(fd) => rustix::process::pidfd_send_signal(fd, sig),
                None => rustix::process::kill_process(p, sig),
            };
            match sent {
                Err(Errno::SRCH) => return Ok(true),
                r => r?,
            }
        } else if wait(pidfd.as_ref(), step as u64, gone)? {
            return Ok(true);
        }
        i += 1;
        if i == s.len as usize {
            i = s.repeat as usize;
        }
    }
    Ok(gone())
}

/// Wait up to `ms` for the process to exit: [`poll(2)`] on its pidfd, or
/// without one, `gone` every 10 ms.
///
/// [`poll(2)`]: https://man7.org/linux/man-pages/man2/poll.2.html
fn wait(pidfd: Option<&OwnedFd>, ms: u64, gone: impl Fn() -> bool) -> Result<bool, Errno> {
    let Some(fd) = pidfd else {
        for _ in 0..ms / 10 {
            if gone() {
                return Ok(true);
            }
            sys::sleep_ms(10);
        }
        return Ok(gone());
    };
    let t = sys::timespec_ms(ms);
    loop {
        match poll(&mut [PollFd::new(fd, PollFlags::IN)], Some(&t)) {
            Err(Errno::INTR) => {}
            r => return r.map(|n| n > 0),
        }
    }
}
