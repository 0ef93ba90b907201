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

use crate::daemon::pidfile::{lives, probe_shared, read_pid, same_file};
use crate::daemon::service::Service;
use crate::report::out::{err_line, fail};
use crate::report::{msg, Error, Line, Lsb, Msg, Stage, StopCode, Text};
use crate::sys;
use core::ffi::CStr;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{self, AtFlags, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags};

/// `--stop`'s and `--status`'s options (`-p FILE` is the daemon's).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Options {
    /// `--stop`'s schedule (`-s`, `-t`, `--retry`).
    pub schedule: Schedule,
    /// `--force`: act on a pidfile that the safety checks refuse.
    pub force: bool,
}

impl Options {
    /// TERM, 10 s, KILL, 5 s; the safety checks on.
    pub const DEFAULT: Options = Options { schedule: Schedule::simple(libc::SIGTERM, FIRST_WAIT_MS, KILL_WAIT_MS), force: false };
}

/// How long `--stop` waits after its first signal (`-t` changes it).
pub const FIRST_WAIT_MS: u32 = 10_000;
/// How long it waits after the KILL that follows.
pub const KILL_WAIT_MS: u32 = 5_000;

/// `--stop`'s schedule, as start-stop-daemon's `--retry` spells it: signals
/// to send and times to wait, in order, optionally repeating from a point
/// (`forever`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Schedule {
    /// The steps; `len` of them are used.
    pub steps: [Step; SCHEDULE_MAX],
    /// How many steps there are.
    pub len: u8,
    /// Where the schedule goes on after its last step (the step after
    /// `forever`), or `len` when it ends there.
    pub repeat: u8,
}

/// One step of a [`Schedule`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
    /// Send this signal.
    Signal(i32),
    /// Wait this many milliseconds for the daemon to exit (at most a day).
    Wait(u32),
}

/// The most steps a schedule can have.
pub const SCHEDULE_MAX: usize = 8;

impl Schedule {
    /// `SIG/wait/KILL/wait`: the default (`TERM/10/KILL/5`) and the form
    /// `--retry N` stands for.
    pub const fn simple(sig: i32, first_ms: u32, kill_ms: u32) -> Schedule {
        let w = Step::Wait(0);
        Schedule { steps: [Step::Signal(sig), Step::Wait(first_ms), Step::Signal(libc::SIGKILL), Step::Wait(kill_ms), w, w, w, w], len: 4, repeat: 4 }
    }
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

/// The directory part of `path` ([`sys::path::parent`]), opened with `O_PATH`, and
/// the file's name in it.
fn open_dir<'p>(path: &'p CStr, buf: &mut [u8; 4096]) -> Result<(OwnedFd, &'p CStr), Errno> {
    let (dir, name_at) = sys::path::parent(path, buf)?;
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
/// known on stdout) or acted on as `--stop` acts ([`StopCode`]: a stale
/// pidfile is removed; errors on stderr).
#[inline(never)] // its 4 KiB path buffer stays out of the frame every daemon keeps
pub fn run(path: &CStr, opts: &Options, stop: bool) -> u8 {
    // The code for --stop, or for --status.
    let code = |s: StopCode, l: Lsb| if stop { s as u8 } else { l as u8 };
    let mut say = if stop { Line::stderr() } else { Line::stdout() };
    if stop {
        say.msg(msg::PREFIX);
    }
    let mut not_running = |what, removed: bool| {
        say.msg(what).cstr(path).msg(if removed { msg::REMOVED } else { msg::CLOSE_PAREN }).end();
    };
    // Locked, but no live pid in it: another dfork may be in the middle of
    // a change (a start that has not written its pid yet, a stop about to
    // remove the file). Wait that out, a second at most, before answering.
    let mut seen = inspect(path, opts.force);
    for _ in 0..100 {
        match &seen {
            Ok(Some(s)) if s.locked && !s.pid.is_some_and(lives) => {
                sys::sleep_ms(10);
                seen = inspect(path, opts.force);
            }
            _ => break,
        }
    }
    let seen = match seen {
        Err(e) => {
            e.print(Some(path));
            return code(StopCode::Failed, Lsb::Unknown);
        }
        Ok(None) => {
            not_running(msg::NO_PIDFILE, false);
            return code(StopCode::NotRunning, Lsb::Stopped);
        }
        Ok(Some(s)) => s,
    };
    let Some(pid) = seen.pid else {
        Error::text(Stage::Control, Text::BadPidfile).print(Some(path));
        return code(StopCode::Failed, Lsb::Unknown);
    };
    if !seen.locked && !lives(pid) {
        not_running(msg::STALE_PIDFILE, stop && seen.remove());
        return code(StopCode::NotRunning, Lsb::Dead);
    }
    if !seen.locked && !(stop && opts.force) {
        about_pid(msg::PIDFILE_OF, path, pid, msg::NOT_LOCKED, stop.then_some(msg::NOT_SIGNALLING));
        return code(StopCode::Failed, Lsb::Unknown);
    }
    // The lock is held (or --stop --force on a live pid): by the daemon, or
    // by the processes it left (a daemon that forked itself, a shell's
    // children).
    let service = Service::new(Some(seen.fd.as_fd()), lives(pid).then_some(pid));
    let daemon = service.has(pid as i32) || (!seen.locked && opts.force);
    if !stop {
        if !daemon {
            let mut l = Line::stdout();
            l.msg(msg::NOT_RUNNING);
            say_members(&mut l, &service, msg::HOLDS_ITS_LOCK, msg::HOLD_ITS_LOCK).num(pid as u64).bytes(b")").end();
            return Lsb::Dead as u8;
        }
        let all = service.each(&mut |_| {});
        let mut l = Line::stdout();
        l.msg(msg::RUNNING_AS).num(pid as u64);
        if all > 1 {
            l.bytes(b", ").num(all as u64).msg(msg::PROCESSES_IN_ALL);
        }
        l.end();
        return Lsb::Running as u8;
    }
    match terminate(&seen, &service, daemon.then_some(pid), &opts.schedule) {
        Ok(true) => {
            seen.remove();
            StopCode::Stopped as u8
        }
        Ok(false) => {
            let mut l = err_line(msg::STOP);
            l.cstr(path).bytes(b":");
            say_members(&mut l, &service, msg::STILL_RUNNING, msg::ARE_STILL_RUNNING).end();
            StopCode::Failed as u8
        }
        Err(e) => {
            fail(msg::SIGNAL, Some(path), e);
            StopCode::Failed as u8
        }
    }
}

/// `dfork: <verb>FILE: pid N<what><tail>` on stderr.
fn about_pid(verb: Msg, path: &CStr, pid: u32, what: Msg, tail: Option<Msg>) {
    let mut l = err_line(verb);
    l.cstr(path).bytes(b":").msg(msg::PID).num(pid as u64).msg(what);
    if let Some(t) = tail {
        l.msg(t);
    }
    l.end();
}

/// `pid A<one>` or `pids A B C<many>`: the members now (at most 16 named),
/// on `l`, which the caller ends.
fn say_members<'l, 'f>(l: &'l mut Line<'f>, service: &Service, one: Msg, many: Msg) -> &'l mut Line<'f> {
    let mut pids = [0i32; 16];
    let mut n = 0;
    service.each(&mut |p| {
        if let Some(slot) = pids.get_mut(n) {
            *slot = p;
        }
        n += 1;
    });
    l.msg(if n == 1 { msg::ONE_PID } else { msg::PIDS });
    for p in &pids[..n.min(16)] {
        l.bytes(b" ").num(*p as u64);
    }
    if n > 16 {
        l.msg(msg::AND).num(n as u64 - 16).msg(msg::MORE_PROCESSES);
    }
    l.msg(if n == 1 { one } else { many })
}

/// Run `s` against the service: true once no member is left and nobody
/// holds the lock. Each signal goes to the daemon (`daemon`, pinned with a
/// pidfd first, so a recycled pid is never signalled) and to every member
/// found at that moment, each pinned with a pidfd and found a member again
/// before it is signalled; waits end when the last one is gone. Without
/// pidfds (Linux before 5.3), signals go by pid right after the check.
fn terminate(seen: &Seen<'_>, service: &Service, daemon: Option<u32>, s: &Schedule) -> Result<bool, Errno> {
    let pidfd = match daemon.and_then(|p| Pid::from_raw(p as i32)) {
        Some(p) => match rustix::process::pidfd_open(p, PidfdFlags::empty()) {
            Ok(fd) => Some(fd),
            Err(Errno::NOSYS | Errno::SRCH) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let gone = || !locked(&seen.fd) && service.each(&mut |_| {}) == 0 && pidfd.as_ref().is_none_or(exited);
    let mut i = 0;
    while i < s.len as usize {
        if gone() {
            return Ok(true);
        }
        if let Step::Signal(sig) = s.steps[i] {
            let sig = sys::signal(sig);
            if let Some(fd) = &pidfd {
                match rustix::process::pidfd_send_signal(fd, sig) {
                    Err(Errno::SRCH) | Ok(()) => {}
                    Err(e) => return Err(e),
                }
            }
            service.signal(sig);
        } else if let Step::Wait(ms) = s.steps[i] {
            if wait(ms as u64, &gone) {
                return Ok(true);
            }
        }
        i += 1;
        if i == s.len as usize {
            i = s.repeat as usize;
        }
    }
    Ok(gone())
}

/// Whether the process of `pidfd` has exited (its pidfd reads as ready).
fn exited(pidfd: &OwnedFd) -> bool {
    sys::poll(&mut [PollFd::new(pidfd, PollFlags::IN)], Some(0)).is_ok_and(|n| n > 0)
}

/// Wait up to `ms` until `gone`, looking every 10 ms.
fn wait(ms: u64, gone: &dyn Fn() -> bool) -> bool {
    for _ in 0..ms.div_ceil(10) {
        if gone() {
            return true;
        }
        sys::sleep_ms(10);
    }
    gone()
}

