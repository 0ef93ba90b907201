//! The built-in heartbeat daemon: the reference demo (a `time.ctime()` line
//! every 10 seconds in `/tmp/daemon-log`) done at embedded grade.
//!
//! Ticks sit on an absolute grid, `t0 + k × every` on CLOCK_MONOTONIC
//! ([`clock_nanosleep(2)`] with TIMER_ABSTIME), so nothing drifts and a jump of
//! the wall clock neither stops nor floods the log; each line shows the wall
//! clock at its tick. A tick costs three system calls: the sleep, a `stat` of
//! the log's path (rotation), and one `write(2)` of the whole line to an
//! O_APPEND descriptor, so lines of several writers never interleave (the
//! clocks are read from the vDSO, [`sys::now`]).
//!
//! [`clock_nanosleep(2)`]: https://man7.org/linux/man-pages/man2/clock_nanosleep.2.html

use crate::daemon::{identity, open_append, Daemon};
use crate::report::{Error, ExitCode, Stage, Text};
use crate::sys;
use crate::text::Buf;
use crate::time::{stamp, Format, Local, Zone};
use core::ffi::{c_int, CStr};
use core::sync::atomic::{AtomicBool, Ordering};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, AtFlags, FileType};
use rustix::io::Errno;
use rustix::time::Timespec;
use sys::Clock;

/// The heartbeat's options: `--heartbeat [FILE]`, `--every`, `--format`.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// The log file.
    pub log: &'a CStr,
    /// The period, in milliseconds (1 to [`MAX_EVERY_MS`]).
    pub every_ms: u64,
    /// The timestamp format.
    pub format: Format,
}

/// The longest heartbeat period: one day.
pub const MAX_EVERY_MS: u64 = 86_400_000;

impl Options<'_> {
    /// The reference demo's: `time.ctime()` into `/tmp/daemon-log` every 10 s.
    pub const DEFAULT: Options<'static> = Options { log: c"/tmp/daemon-log", every_ms: 10_000, format: Format::Ctime };
}

static HUP: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);

/// SIGHUP asks for a reopen; SIGTERM and SIGINT for a clean exit. The handler
/// only sets a flag: the loop acts between two whole lines.
extern "C" fn on_signal(sig: c_int) {
    if sig == libc::SIGHUP {
        HUP.store(true, Ordering::Relaxed);
    } else {
        STOP.store(true, Ordering::Relaxed);
    }
}

/// The log: its descriptor, and where its path is resolved.
struct Log<'a> {
    path: &'a CStr,
    /// The launcher's working directory when `path` is relative.
    dir: Option<OwnedFd>,
    fd: Option<OwnedFd>,
    /// Device and inode of `fd`, taken once at open: a tick then needs only
    /// one `stat` of the path to notice a rotation.
    id: (u64, u64),
    /// The tail of a line the disk had no room for, written before the next.
    pending: Buf,
    /// Device and inode of the daemon's pidfile: never the log.
    pidfile: Option<(u64, u64)>,
}

impl<'a> Log<'a> {
    fn base(&self) -> BorrowedFd<'_> {
        sys::path::base(&self.dir)
    }

    /// Open the log for appending, never through a symlink, never waiting
    /// (a FIFO is opened without blocking), and only if it is a regular file
    /// (a FIFO or device would block or lie about rotation) and not the
    /// pidfile.
    fn open(&mut self) -> Result<(), Error> {
        let (fd, st) = open_append(self.base(), self.path).map_err(|e| match e {
            // A FIFO (or socket) nobody reads: not a regular file either way.
            Errno::NXIO => Error::text(Stage::Log, Text::NotRegular),
            e => Error::os(Stage::Log, e),
        })?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(Error::text(Stage::Log, Text::NotRegular));
        }
        if self.pidfile == Some(identity(&st)) {
            return Err(Error::text(Stage::Log, Text::IsPidfile));
        }
        self.fd = Some(fd);
        self.id = identity(&st);
        self.pending = Buf::new(); // the old file keeps its torn line; the new starts clean
        Ok(())
    }

    /// Reopen if asked to (SIGHUP) or if the path no longer names our file
    /// (renamed, deleted, replaced). A failed reopen (ENOSPC, EMFILE, a symlink
    /// planted at the path, a vanished directory) keeps the old descriptor and
    /// is tried again at the next tick.
    fn check(&mut self, force: bool) {
        let current = match fs::statat(self.base(), self.path, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => !force && identity(&st) == self.id,
            Err(_) => false,
        };
        if !current {
            self.open().ok();
        }
    }

    /// Write one whole line. A short write is completed; what the disk has no
    /// room for (ENOSPC, EDQUOT, EFBIG, EIO) is kept as `pending` when a part
    /// of the line is already written, so the line is finished first thing
    /// when space returns, and dropped when nothing of it was written. The
    /// tail and the new line go out in one `write`.
    fn write(&mut self, line: &[u8]) {
        let Some(fd) = &self.fd else { return };
        let mut all = core::mem::take(&mut self.pending);
        let p = all.as_bytes().len();
        all.push(line);
        let b = all.as_bytes();
        let n = write_some(fd.as_fd(), b);
        // Keep the unwritten rest of a started line; a line not begun is dropped.
        let end = if n <= p { p } else { b.len() };
        self.pending = Buf::copy_of(b.get(n..end).unwrap_or_default());
    }
}

/// Write as much of `b` as the file takes, retrying EINTR and short writes;
/// the count written before the first error.
fn write_some(fd: BorrowedFd<'_>, b: &[u8]) -> usize {
    let mut n = 0;
    while n < b.len() {
        match rustix::io::write(fd, &b[n..]) {
            Ok(k) if k > 0 => n += k,
            Err(Errno::INTR) => {}
            _ => break,
        }
    }
    n
}

/// `dfork [OPTIONS] --heartbeat [FILE]`: open the log in the launcher (errors
/// reach the terminal, exit 125), daemonize, then tick until SIGTERM.
#[inline(never)] // its frame is not one the exec path (or the supervisor) keeps on its stack
pub fn run(opts: &Options<'_>, d: &Daemon<'_>) -> u8 {
    // The log is created 0644 exactly; the daemon sets its own umask.
    rustix::process::umask(rustix::fs::Mode::empty());
    let prep = match d.prepare() {
        Ok(p) => p,
        Err(e) => return d.report(e),
    };
    let mut log = Log { path: opts.log, dir: None, fd: None, id: (0, 0), pending: Buf::new(), pidfile: None };
    let opened = anchor(d.chroot, &mut log.path).map_err(|e| Error::os(Stage::Log, e)).and_then(|dir| {
        log.dir = dir;
        log.open()?;
        // The pidfile may not exist yet (the daemon creates it): its path, then.
        match prep.is_pidfile(log.id) {
            true => Err(Error::text(Stage::Log, Text::IsPidfile)),
            false => Ok(()),
        }
    });
    let log_fd = match (opened, &log.fd) {
        (Ok(()), Some(fd)) => fd.as_fd(),
        (r, _) => {
            let e = r.err().unwrap_or(Error::os(Stage::Log, Errno::BADF));
            prep.abandon();
            e.print(Some(opts.log));
            return e.exit_code() as u8;
        }
    };
    // The zone is read here, before chdir, and never again.
    let zone = Zone::from_env(sys::now(Clock::Wall).tv_sec);
    // Keep the log and its anchor (if any; else the log twice) in the daemon.
    let keep = [log_fd, log.dir.as_ref().map_or(log_fd, |d| d.as_fd())];
    let mut running = match prep.detach(&keep) {
        Ok(r) => r,
        Err(e) => return d.report(e),
    };
    for sig in [libc::SIGHUP, libc::SIGTERM, libc::SIGINT] {
        sys::set_catch(sig, on_signal);
    }
    // A file size limit (ulimit -f) must fail a write with EFBIG, not kill us.
    sys::set_ignore(libc::SIGXFSZ);
    log.pidfile = running.pidfile().and_then(|p| fs::fstat(p.fd()).ok()).map(|st| identity(&st));
    running.ready();
    // The launcher's deeper frames, before the fork, are not ours to keep.
    sys::trim_stack();
    tick_loop(&mut log, &zone, opts.every_ms, opts.format);
    running.abandon();
    ExitCode::Ok as u8
}

/// Where the log's path is resolved (see [`sys::path::anchor`]). With `-r
/// DIR`, an absolute path names a file inside DIR: it is opened relative to
/// DIR here, before the chroot, and reopened the same way after it.
fn anchor<'a>(chroot: Option<&CStr>, path: &mut &'a CStr) -> Result<Option<OwnedFd>, Errno> {
    if let (Some(root), Some(b'/')) = (chroot, path.to_bytes().first()) {
        let skip = path.to_bytes().iter().take_while(|&&c| c == b'/').count();
        *path = sys::cstr_tail(path, skip);
        let flags = rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC;
        return rustix::fs::open(root, flags, rustix::fs::Mode::empty()).map(Some);
    }
    sys::path::anchor(path)
}

/// Write a line at once, then one at each `t0 + k × every` (k = 1, 2, ...)
/// until SIGTERM/SIGINT. The origin `t0` is the monotonic instant 1 ms after
/// the wall clock's last whole second: ticks of whole-second periods then
/// fall just after a second boundary, so a late wake-up never moves a line
/// into the next second, and lines of `--every 1` are exactly 1 s apart.
fn tick_loop(log: &mut Log<'_>, zone: &Zone, every_ms: u64, format: Format) {
    let mut local = Local::new(zone);
    let mono = sys::now(Clock::Monotonic);
    let back = sys::now(Clock::Wall).tv_nsec as i64 - 1_000_000;
    let ns = mono.tv_nsec as i64 - back;
    let t0 = Timespec { tv_sec: mono.tv_sec + ns.div_euclid(1_000_000_000), tv_nsec: ns.rem_euclid(1_000_000_000) as _ };
    let mut k: u64 = 0;
    loop {
        log.check(HUP.swap(false, Ordering::Relaxed));
        let mut line = Buf::new();
        stamp(&mut line, &mut local, sys::now(Clock::Wall).tv_sec, format);
        line.push(b"\n");
        log.write(line.as_bytes());
        // The next tick on the grid that is still ahead: after SIGSTOP or a
        // long stall, no burst of catch-up lines.
        let now = sys::now(Clock::Monotonic);
        k = next_tick(sys::span_ms(&t0, &now), every_ms, k);
        let deadline = add_ms(&t0, k.saturating_mul(every_ms));
        loop {
            if STOP.load(Ordering::Relaxed) {
                return;
            }
            match sys::sleep_until(&deadline) {
                Err(Errno::INTR) if HUP.swap(false, Ordering::Relaxed) => log.check(true),
                Err(Errno::INTR) => {}
                _ => break,
            }
        }
    }
}

/// The index of the first tick after `elapsed_ms` (and after tick `k`).
pub fn next_tick(elapsed_ms: u64, every_ms: u64, k: u64) -> u64 {
    (elapsed_ms / every_ms + 1).max(k + 1)
}

fn add_ms(t: &Timespec, ms: u64) -> Timespec {
    let ns = t.tv_nsec as u64 + (ms % 1000) * 1_000_000;
    let secs = (ms / 1000 + ns / 1_000_000_000) as i64;
    Timespec { tv_sec: t.tv_sec.saturating_add(secs), tv_nsec: (ns % 1_000_000_000) as _ }
}
