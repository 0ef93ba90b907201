//! `--respawn`: the daemon stays resident as a small supervisor that runs
//! COMMAND as its child and restarts it when it exits.
//!
//! The supervisor is what the pidfile names and holds the lock; its child is
//! its only child (`pgrep -P $(cat FILE)`, or
//! `/proc/$(cat FILE)/task/$(cat FILE)/children`). Restarts back off exponentially from
//! `--respawn-delay` (1 s) to 60 s, back to the start after 60 s of healthy
//! run; `--respawn-max N/S` gives up after N exits within S seconds. Every
//! exit is one line on the supervisor's stderr (`-e FILE`).
//!
//! It allocates nothing and sleeps in one [`poll(2)`] on a [`signalfd(2)`]
//! that carries SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1 and SIGUSR2: TERM
//! and INT stop the child with TERM and then the supervisor, the others are
//! forwarded. The child gets SIGKILL if the supervisor dies
//! ([`PR_SET_PDEATHSIG`]), so `--stop`'s KILL never leaves it orphaned.
//!
//! `--init` makes the same loop a container's init: in the foreground, as
//! PID 1 or else a child subreaper ([`PR_SET_CHILD_SUBREAPER`]), it passes
//! every signal it can catch on to COMMAND as it came (all but the few in
//! `NOT_PASSED`), reaps every process re-parented to it, stops what
//! COMMAND leaves behind (SIGTERM, SIGKILL after [`DRAIN_MS`]), and exits
//! with COMMAND's status (128+N for a signal N, as a shell says it) when
//! COMMAND ends, or restarts it with `--respawn`.
//!
//! [`poll(2)`]: https://man7.org/linux/man-pages/man2/poll.2.html
//! [`signalfd(2)`]: https://man7.org/linux/man-pages/man2/signalfd.2.html
//! [`PR_SET_PDEATHSIG`]: https://man7.org/linux/man-pages/man2/PR_SET_PDEATHSIG.2const.html
//! [`PR_SET_CHILD_SUBREAPER`]: https://man7.org/linux/man-pages/man2/PR_SET_CHILD_SUBREAPER.2const.html

use crate::daemon::ready::{ended, exit_code, now_ms, read_signal, reap_until, watch, LEFT_NOTHING, SETTLE_MAX_MS, SETTLE_MS, STILL_FOREGROUND};
use crate::daemon::{pidfile, service, Pidfile, Running};
use crate::report::out::write_all;
use crate::report::{msg, Error, ExitCode, Line, Stage};
use crate::sys::{self, Clock, Forked};
use crate::text::Buf;
use crate::time::{stamp, Format, Local, Zone};
use core::ffi::CStr;
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::Pid;

/// `--respawn`'s and `--init`'s options.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Options<'a> {
    /// `--respawn`: restart COMMAND when it ends (false: `--init` alone,
    /// which exits with COMMAND's status).
    pub restart: bool,
    /// `--init`: a container's init (see the module's text).
    pub init: bool,
    /// `--respawn-delay`: the first restart delay, in milliseconds.
    pub delay_ms: u64,
    /// `--respawn-max COUNT/SECONDS`: when to give up.
    pub max: Option<Limit<'a>>,
    /// `--forking`: COMMAND daemonizes itself.
    pub forking: Option<Forking<'a>>,
}

impl Options<'_> {
    /// Restart after 1 s, doubling; never give up.
    pub const DEFAULT: Options<'static> = Options { restart: true, init: false, delay_ms: 1000, max: None, forking: None };
}

/// `--respawn --forking[=PIDFILE]`: COMMAND forks itself into the
/// background and exits 0; the supervisor, a child subreaper, adopts the
/// process it left and supervises that one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Forking<'a> {
    /// `=PIDFILE`: where COMMAND writes its daemon's pid.
    pub own: Option<&'a CStr>,
    /// `--wait`: how long COMMAND may take to exit, in milliseconds.
    pub wait_ms: u64,
}

/// `--respawn-max COUNT/SECONDS`: give up after `count` exits within
/// `window_ms`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Limit<'a> {
    /// COUNT, 1 to [`MAX_COUNT`].
    pub count: u32,
    /// SECONDS, in milliseconds.
    pub window_ms: u64,
    /// The option's value as given, for the log line.
    pub spelled: &'a CStr,
}

/// The largest COUNT of `--respawn-max`: the supervisor keeps that many exit
/// times.
pub const MAX_COUNT: u32 = 64;

/// The longest restart delay, and the run after which the delay starts over.
pub const DELAY_MAX_MS: u64 = 60_000;

/// `--forking`: how long the processes left of a service get after SIGTERM
/// before SIGKILL, when its daemon exited or the supervisor stops. Shorter
/// than `--stop`'s first wait, so that a default `--stop` never kills the
/// supervisor before it is done.
pub const DRAIN_MS: u64 = 5_000;

/// The signals the supervisor reads from its signalfd.
const SIGNALS: [i32; 6] = [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2];

/// The signals `--init` does not pass on: those a fault raises in dfork
/// itself (ILL, TRAP, ABRT, BUS, FPE, SEGV, SYS), those its own writes may
/// raise (PIPE, XFSZ), and those musl keeps for itself (32 to 34).
const NOT_PASSED: [i32; 12] = [
    libc::SIGILL, libc::SIGTRAP, libc::SIGABRT, libc::SIGBUS, libc::SIGFPE, libc::SIGSEGV, libc::SIGSYS, libc::SIGPIPE, libc::SIGXFSZ, 32, 33, 34,
];

/// `--init`'s signals, in `all`: every one from 1 to 64 but [`NOT_PASSED`].
/// (SIGKILL and SIGSTOP are among them, but the kernel never lets them be
/// blocked or read.) SIGTTIN and SIGTTOU are read only so that they never
/// stop dfork; they are not passed on.
fn init_signals(all: &mut [i32; 64]) -> &[i32] {
    let mut n = 0;
    for s in 1..=64 {
        if !NOT_PASSED.contains(&s) {
            all[n] = s;
            n += 1;
        }
    }
    &all[..n]
}

/// Supervise COMMAND in the daemon until SIGTERM, SIGINT or
/// `--respawn-max` (with `--init` alone: until COMMAND ends); never
/// returns. `exec` runs in each child, after the
/// fork, with the directory a relative COMMAND path is resolved in: it
/// builds COMMAND's environment there and execs it, returning only
/// the error. The launcher learns of the first exec: it returns 0 once
/// COMMAND runs, or 126/127 when it cannot.
///
/// With `--forking`, the supervisor is a child subreaper: what COMMAND
/// leaves when it exits 0 is re-parented to it, whatever session it made
/// and whatever it closed. It takes that process as the daemon once no
/// child has exited for [`SETTLE_MS`], and when the daemon exits (or the
/// supervisor stops) it stops every process left of the service, its
/// children now:
/// SIGTERM, SIGKILL after [`DRAIN_MS`]. The launcher returns once the first
/// daemon is adopted, or exits 3 when COMMAND failed (4 when it did not
/// exit within `--wait`), with nothing of it left.
pub fn run(mut running: Running<'_>, opts: &Options<'_>, zone: &Zone, exec: &mut dyn FnMut(Option<BorrowedFd<'_>>) -> Errno) -> ! {
    let name = running.command();
    let forking = opts.forking;
    // The pidfile's lock is the supervisor's, not its children's; with
    // --forking it is inherited, so that a daemon left behind by a
    // supervisor killed with SIGKILL still shows in --status and --stop.
    let cloexec = |p: &Pidfile<'_>| rustix::io::fcntl_setfd(p.fd(), rustix::io::FdFlags::CLOEXEC);
    let mut all = [0; 64];
    let signals = if opts.init { init_signals(&mut all) } else { &SIGNALS };
    let set_up = || {
        match (forking, running.pidfile()) {
            (None, Some(p)) => cloexec(p)?,
            (Some(_), _) => sys::set_subreaper()?,
            (None, None) => {}
        }
        // As PID 1 it reaps orphans anyway; elsewhere, where the kernel
        // refuses (qemu-user), only COMMAND itself is reaped.
        if opts.init {
            sys::set_subreaper().ok();
        }
        sys::set_mask(libc::SIG_BLOCK, signals)?;
        sys::signalfd(signals)
    };
    let sig = match set_up() {
        Ok(fd) => fd,
        Err(e) => running.fail(Error::os(Stage::Supervise, e)),
    };
    // The launcher's deeper frames, before the fork, are not ours to keep.
    sys::trim_stack();
    let mut local = Local::new(zone);
    let (mut child, mut stopping, mut first) = (0i32, false, true);
    let (mut delay, mut wake, mut started) = (opts.delay_ms, 0u64, 0u64);
    let mut exits = [0u64; MAX_COUNT as usize];
    let (mut n_exits, mut code) = (0usize, ExitCode::Ok as u8);
    // --forking: COMMAND runs in the foreground until this time (0: the
    // child is the daemon); the settling of what it left; when the drain
    // of what is left turns to SIGKILL (0: no drain); the first start's
    // failure, for the launcher.
    let (mut foreground_until, mut settle, mut drain) = (0u64, Settle::IDLE, 0u64);
    let mut failed_start = None;
    loop {
        let now = now_ms();
        // How a run of COMMAND ended: a wait status; with --forking also 0
        // for "exited 0 and left nothing", -1 for "did not exit in time".
        let end: i32;
        if child == 0 && settle.active() {
            if !settle.done(now) {
                watch_or_not(&sig, opts.init, Some(settle.left(now)), &mut child, &mut stopping, &mut settle);
                continue;
            }
            settle = Settle::IDLE;
            match adopt(forking.and_then(|f| f.own)) {
                Some(pid) => {
                    child = pid;
                    if first {
                        running.ready();
                        first = false;
                    }
                    continue;
                }
                None => end = LEFT_NOTHING,
            }
        } else if child == 0 && (forking.is_some() || opts.init) && service::my_first_child().is_some() {
            // What is left of the service goes before anything else.
            if drain == 0 {
                drain = now + DRAIN_MS;
            }
            let kill = now >= drain;
            let sig_of_drain = sys::signal(if kill { libc::SIGKILL } else { libc::SIGTERM });
            service::each_child(&mut |p| {
                if let Some(p) = Pid::from_raw(p) {
                    let _ = rustix::process::kill_process(p, sig_of_drain);
                }
            });
            watch_or_not(&sig, opts.init, Some(if kill { 100 } else { drain - now }), &mut child, &mut stopping, &mut settle);
            continue;
        } else if child == 0 {
            drain = 0;
            if stopping {
                break;
            }
            if now < wake {
                watch_or_not(&sig, opts.init, Some(wake - now), &mut child, &mut stopping, &mut settle);
                continue;
            }
            let (pid, failed) = spawn(&mut || exec(running.command_dir()));
            match failed {
                Some(e) if first => running.fail(Error::os(Stage::Exec, e)),
                Some(e) => Error::os(Stage::Exec, e).print(Some(name)),
                None if forking.is_some() => foreground_until = now + forking.map_or(0, |f| f.wait_ms),
                None if first => {
                    running.ready();
                    first = false;
                }
                None => {}
            }
            (child, started, wake) = (pid, now, now + delay);
            continue;
        } else if foreground_until != 0 && now >= foreground_until && !stopping {
            // Still in the foreground after --wait: killed, and a failed run.
            if let Some(p) = Pid::from_raw(child) {
                let _ = rustix::process::kill_process(p, sys::signal(libc::SIGKILL));
            }
            (child, foreground_until, end) = (0, 0, STILL_FOREGROUND);
        } else {
            let until = (foreground_until != 0 && !stopping).then(|| foreground_until.saturating_sub(now));
            let Some(st) = watch_or_not(&sig, opts.init, until, &mut child, &mut stopping, &mut settle) else { continue };
            child = 0;
            if opts.init {
                code = exit_code(st);
            }
            if stopping {
                continue; // and out, at the top, once nothing is left
            }
            if core::mem::take(&mut foreground_until) != 0 && st == 0 {
                settle = Settle::from(now_ms());
                continue;
            }
            end = st;
        }
        // COMMAND's run ended: a failed first start with --forking ends it
        // all; any other is logged, and restarted or given up.
        if first && forking.is_some() {
            (stopping, failed_start) = (true, Some(end));
            continue;
        }
        if !opts.restart {
            (stopping, code) = (true, exit_code(end));
            continue;
        }
        let now = now_ms();
        if now - started >= DELAY_MAX_MS {
            delay = opts.delay_ms;
        }
        exits[n_exits % exits.len()] = now;
        n_exits += 1;
        let mut time = Buf::new();
        stamp(&mut time, &mut local, sys::now(Clock::Wall).tv_sec, Format::Iso8601);
        let mut l = Line::stderr();
        l.bytes(time.as_bytes()).bytes(b" ").msg(msg::PREFIX).cstr(name);
        ended(&mut l, end, forking.map_or(0, |f| f.wait_ms));
        if let Some(max) = opts.max {
            let recent = exits.iter().take(n_exits).filter(|&&t| now - t < max.window_ms).count();
            if recent >= max.count as usize {
                l.msg(msg::GIVING_UP).cstr(max.spelled).bytes(b")").end();
                (stopping, code) = (true, 1);
                continue;
            }
        }
        l.msg(msg::RESTART_IN).num(delay).msg(msg::MS).end();
        wake = now + delay;
        delay = (delay * 2).min(DELAY_MAX_MS);
    }
    if let Some(status) = failed_start {
        running.not_daemonized(status)
    }
    running.abandon();
    sys::exit_now(code)
}

/// Sleep until a signal comes or `ms` pass, and act on it: SIGTERM and
/// SIGINT stop the service (the child gets SIGTERM, or with `init` the
/// signal itself), any other is passed to the child as it came (but
/// SIGTTIN and SIGTTOU), SIGCHLD reaps every child that ended. The wait
/// status of `child` when it was one of them.
fn watch_or_not(sig: &OwnedFd, init: bool, ms: Option<u64>, child: &mut i32, stopping: &mut bool, settle: &mut Settle) -> Option<i32> {
    if !watch(sig, None, ms).0 {
        return None;
    }
    let signo = read_signal(sig);
    if signo == libc::SIGCHLD {
        // Every child that ended is reaped (an orphan we adopted too); ours counts.
        let st = reap_until(*child).map(|st| st.as_raw());
        if st.is_none() {
            settle.child_exited(now_ms());
        }
        return st;
    }
    if signo == libc::SIGTTIN || signo == libc::SIGTTOU {
        return None;
    }
    let stop = signo == libc::SIGTERM || signo == libc::SIGINT;
    if stop {
        (*stopping, *settle) = (true, Settle::IDLE);
    }
    let fwd = if stop && !init { libc::SIGTERM } else { signo };
    if let Some(p) = Pid::from_raw(*child) {
        let _ = rustix::process::kill_process(p, sys::signal(fwd));
    }
    None
}

/// `--forking`: the wait, after COMMAND exited 0, until what it left has
/// settled: no child of the supervisor has exited for [`SETTLE_MS`] (the
/// middle process of a double fork is gone), at most [`SETTLE_MAX_MS`].
#[derive(Clone, Copy)]
struct Settle {
    /// When COMMAND exited (0: not settling).
    from: u64,
    /// When a child last exited.
    last: u64,
}

impl Settle {
    const IDLE: Settle = Settle { from: 0, last: 0 };

    fn from(now: u64) -> Settle {
        Settle { from: now, last: now }
    }

    fn active(&self) -> bool {
        self.from != 0
    }

    fn child_exited(&mut self, now: u64) {
        if self.active() {
            self.last = now;
        }
    }

    fn done(&self, now: u64) -> bool {
        now >= self.last + SETTLE_MS || now >= self.from + SETTLE_MAX_MS
    }

    fn left(&self, now: u64) -> u64 {
        (self.last + SETTLE_MS).min(self.from + SETTLE_MAX_MS).saturating_sub(now).max(1)
    }
}

/// The daemon COMMAND left: with `--forking=PIDFILE`, the pid it wrote
/// there when that is a child of ours (re-parented to us, the subreaper);
/// else our oldest live child.
fn adopt(own: Option<&CStr>) -> Option<i32> {
    match own {
        None => service::my_first_child(),
        Some(f) => pidfile::read_pid_at(f).map(|p| p as i32).filter(|&p| service::my_child(p)),
    }
}

/// Fork and `exec` in the child, with the signals unblocked and SIGKILL as
/// its parent-death signal. Returns once the exec happened (or failed: then
/// with its errno; the child has exited 127, or 126 when the file was found
/// but could not be executed).
fn spawn(exec: &mut dyn FnMut() -> Errno) -> (i32, Option<Errno>) {
    let parent = rustix::process::getpid();
    let (rd, wr) = match rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) {
        Ok(p) => p,
        Err(e) => return (0, Some(e)),
    };
    match sys::fork() {
        Err(e) => (0, Some(e)),
        Ok(Forked::Child(_)) => {
            let _ = rustix::process::set_parent_process_death_signal(Some(sys::signal(libc::SIGKILL)));
            if rustix::process::getppid() != Some(parent) {
                sys::exit_now(ExitCode::Failed as u8); // the supervisor died meanwhile
            }
            let _ = sys::set_mask(libc::SIG_SETMASK, &[]);
            let e = exec();
            write_all(rustix::fd::AsFd::as_fd(&wr), &e.raw_os_error().to_ne_bytes()).ok();
            // 127 not found, 126 found but not executable: as a shell's, and the log's.
            sys::exit_now(Error::os(Stage::Exec, e).exit_code() as u8)
        }
        Ok(Forked::Parent(pid)) => {
            drop(wr);
            let mut b = [0u8; 4];
            let failed = match rustix::io::read(&rd, &mut b) {
                Ok(4) => Some(Errno::from_raw_os_error(i32::from_ne_bytes(b))),
                _ => None,
            };
            (pid, failed)
        }
    }
}
