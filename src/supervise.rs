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
//! [`poll(2)`]: https://man7.org/linux/man-pages/man2/poll.2.html
//! [`signalfd(2)`]: https://man7.org/linux/man-pages/man2/signalfd.2.html
//! [`PR_SET_PDEATHSIG`]: https://man7.org/linux/man-pages/man2/PR_SET_PDEATHSIG.2const.html

use crate::daemon::ready::{ended, now_ms, read_signal, reap_until, watch};
use crate::daemon::{Pidfile, Running};
use crate::report::out::write_all;
use crate::report::{msg, Error, ExitCode, Line, Stage};
use crate::sys::{self, Clock, Forked};
use crate::text::Buf;
use crate::time::{stamp, Format, Local, Zone};
use core::ffi::CStr;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;
use rustix::process::Pid;

/// `--respawn`'s options.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Options<'a> {
    /// `--respawn-delay`: the first restart delay, in milliseconds.
    pub delay_ms: u64,
    /// `--respawn-max COUNT/SECONDS`: when to give up.
    pub max: Option<Limit<'a>>,
}

impl Options<'_> {
    /// Restart after 1 s, doubling; never give up.
    pub const DEFAULT: Options<'static> = Options { delay_ms: 1000, max: None };
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

/// The signals the supervisor reads from its signalfd.
const SIGNALS: [i32; 6] = [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2];

/// Supervise COMMAND in the daemon until SIGTERM, SIGINT or
/// `--respawn-max`; never returns. `exec` runs in each child, after the
/// fork, with the directory a relative COMMAND path is resolved in: it
/// builds COMMAND's environment there and execs it, returning only
/// the error. The launcher learns of the first exec: it returns 0 once
/// COMMAND runs, or 126/127 when it cannot.
pub fn run(mut running: Running<'_>, opts: &Options<'_>, zone: &Zone, exec: &mut dyn FnMut(Option<BorrowedFd<'_>>) -> Errno) -> ! {
    let name = running.command();
    // The pidfile's lock is the supervisor's, not its children's.
    let cloexec = |p: &Pidfile<'_>| rustix::io::fcntl_setfd(p.fd(), rustix::io::FdFlags::CLOEXEC);
    let sig = match running.pidfile().map_or(Ok(()), cloexec).and_then(|()| sys::set_mask(libc::SIG_BLOCK, &SIGNALS)).and_then(|()| sys::signalfd(&SIGNALS)) {
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
    loop {
        let now = now_ms();
        if child == 0 {
            if stopping {
                break;
            }
            if now >= wake {
                let (pid, failed) = spawn(&mut || exec(running.command_dir()));
                match failed {
                    Some(e) if first => running.fail(Error::os(Stage::Exec, e)),
                    Some(e) => Error::os(Stage::Exec, e).print(Some(name)),
                    None => {
                        if first {
                            running.ready();
                        }
                    }
                }
                (child, started, first, wake) = (pid, now, false, now + delay);
                continue;
            }
        }
        if !watch(&sig, None, (child == 0).then(|| wake.saturating_sub(now))).0 {
            continue;
        }
        let signo = read_signal(&sig);
        if signo != libc::SIGCHLD {
            let fwd = if signo == libc::SIGHUP || signo == libc::SIGUSR1 || signo == libc::SIGUSR2 {
                signo
            } else {
                stopping = true;
                libc::SIGTERM
            };
            if let Some(p) = Pid::from_raw(child) {
                let _ = rustix::process::kill_process(p, sys::signal(fwd));
            }
            continue;
        }
        // Every child that ended is reaped (an orphan we adopted too); ours counts.
        let Some(st) = reap_until(child) else { continue };
        child = 0;
        if stopping {
            continue; // and out, at the top
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
        ended(&mut l, st);
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
    running.abandon();
    sys::exit_now(code)
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
