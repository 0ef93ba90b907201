//! The launcher's side of a start: the status pipe's records, the wait for
//! the daemon (and for its readiness), and the one line and exit code that
//! report it.

use super::pidfile;
use super::ready::{ended, not_daemonized_code, Channel, Outcome, Ready};
use super::service::{self, Service};
use super::Prepared;
use crate::report::out::{err_line, write_all};
use crate::report::{msg, Error, ExitCode, Line, Stage, Text};
use crate::sys;
use core::ffi::CStr;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::process::WaitOptions;

/// The launcher's status pipe, as the daemon holds it: the write end, and
/// the read end kept so that writing never meets a closed pipe.
pub(super) struct Status(pub(super) OwnedFd, #[allow(dead_code)] pub(super) OwnedFd);

/// A record's kind: the daemon is started (with its pid), or failed, or
/// (`--respawn --forking`) COMMAND did not daemonize (with how it ended).
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    Ready = b'R',
    Error = b'E',
    Exited = b'X',
}

impl Status {
    /// One 8-byte record: atomic on a pipe (below PIPE_BUF), never interleaved.
    pub(super) fn send(&self, tag: Tag, stage: u8, val: i32) {
        let v = val.to_le_bytes();
        let rec = [tag as u8, stage, 0, 0, v[0], v[1], v[2], v[3]];
        write_all(self.0.as_fd(), &rec).ok();
    }

    pub(super) fn error(&self, e: Error) {
        self.send(Tag::Error, e.stage as u8, e.code());
    }
}

/// The launcher's side: read the daemon's records until EOF, reap the middle
/// process, report, and exit.
pub(super) fn launcher_wait(prep: &mut Prepared<'_>, rd: OwnedFd, middle: i32) -> ! {
    let (mut pid, mut ready, mut err, mut exited) = (0i32, false, None, None);
    let mut rec = [0u8; 8];
    while let Ok(true) = read_full(&rd, &mut rec) {
        let val = i32::from_le_bytes([rec[4], rec[5], rec[6], rec[7]]);
        if rec[0] == Tag::Ready as u8 {
            (ready, pid) = (true, val);
        } else if rec[0] == Tag::Error as u8 {
            err = Some(Error::from_raw(rec[1], val));
        } else if rec[0] == Tag::Exited as u8 {
            exited = Some(val);
        }
    }
    sys::reap(middle);
    let d = &prep.daemon;
    if let Some(end) = exited {
        // The supervisor stopped what COMMAND left, and removed the pidfile.
        not_daemonized(d.command.unwrap_or(c""), end, d.wait_ms);
        sys::exit_now(not_daemonized_code(end))
    }
    if err.is_none() && !ready {
        // No record: the daemon died before it could say anything.
        prep.abandon();
        sys::exit_now(died(prep));
    }
    if let Some(e) = err {
        prep.abandon();
        sys::exit_now(d.report(e));
    }
    if let Some(mut ch) = prep.channel.take() {
        let daemon = pid as u32;
        let member = |p: i32| service(prep, Some(daemon)).has(p);
        let command = d.command.unwrap_or(c"");
        let main = match ch.wait(pid, d.wait_ms, command, &member) {
            // --forking: COMMAND exited 0; its daemon is what it left.
            Outcome::Ready(_) if d.ready == Ready::Forking => match adopt(prep, &mut ch) {
                Some((p, true)) => p,
                // It closed the pidfile's lock and left the service's
                // sessions: --stop could never find it. Said, and stopped.
                Some((p, false)) => {
                    Line::stderr().msg(msg::PREFIX).cstr(command).msg(msg::LEFT_PID).num(p as u64).msg(msg::CLOSED_LOCK).end();
                    if let Some(pid) = rustix::process::Pid::from_raw(p) {
                        let _ = rustix::process::kill_process(pid, sys::signal(libc::SIGKILL));
                    }
                    prep.abandon();
                    sys::exit_now(ExitCode::DiedBeforeReady as u8)
                }
                None => {
                    Line::stderr().msg(msg::PREFIX).cstr(command).msg(msg::LEFT_NOTHING).end();
                    prep.abandon();
                    sys::exit_now(ExitCode::DiedBeforeReady as u8)
                }
            },
            Outcome::Ready(main) => main,
            Outcome::Died => {
                // What it left behind goes with it, and then the pidfile.
                let left = service(prep, None);
                left.signal(sys::signal(libc::SIGKILL));
                for _ in 0..100 {
                    if left.each(&mut |_| {}) == 0 {
                        break;
                    }
                    sys::sleep_ms(10);
                }
                prep.abandon();
                sys::exit_now(ExitCode::DiedBeforeReady as u8)
            }
            Outcome::NotReady => sys::exit_now(ExitCode::NotReady as u8),
        };
        if let (Some(p), true) = (d.pidfile, main != pid) {
            pidfile::rewrite(p, main as u32);
        }
        pid = main;
    }
    if !d.quiet {
        Line::stdout().msg(msg::DAEMON_PID).num(pid as u64).end();
    }
    sys::exit_now(ExitCode::Ok as u8)
}

/// `--respawn --forking`'s first COMMAND did not daemonize: `dfork:
/// COMMAND exited with status S before it was ready`, or what
/// [`ended`] says of `end`.
pub(super) fn not_daemonized(command: &CStr, end: i32, wait_ms: u64) {
    let mut l = Line::stderr();
    l.msg(msg::PREFIX).cstr(command);
    ended(&mut l, end, wait_ms);
    if end >= 0 {
        l.msg(msg::BEFORE_READY);
    }
    l.end();
}

/// The service of the start: its pidfile as the launcher locked it, or as
/// the daemon made it (none without `-p`: the daemon's session alone).
fn service(prep: &Prepared<'_>, daemon: Option<u32>) -> Service {
    let opened;
    let file = match (&prep.pidfile, prep.daemon.pidfile) {
        (Some(f), _) => Some(f.fd()),
        (None, Some(path)) => {
            opened = rustix::fs::open(path, OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty()).ok();
            opened.as_ref().map(|f| f.as_fd())
        }
        (None, None) => None,
    };
    Service::new(file, daemon)
}

/// `--forking`: the process COMMAND left as its daemon, and whether it is a
/// member of the service (holds the pidfile's lock, or lives in a session
/// of a holder). The launcher is a child subreaper, so what COMMAND left
/// was re-parented to it when COMMAND exited, whatever it closed or
/// whichever session it made. With `--forking=PIDFILE`, the pid the program
/// wrote there, if it is such a child or a member; else the oldest such
/// child, or the oldest member. Taken once no child has exited for a
/// moment ([`Channel::settle`]): the middle process of a double fork is
/// gone by then.
fn adopt(prep: &Prepared<'_>, ch: &mut Channel) -> Option<(i32, bool)> {
    ch.settle();
    let service = service(prep, None);
    let pid = match prep.daemon.forking_pidfile {
        None => service::my_first_child().or_else(|| service.first())?,
        Some(own) => pidfile::read_pid_at(own).map(|p| p as i32).filter(|&p| service::my_child(p) || service.has(p))?,
    };
    Some((pid, service.has(pid)))
}

/// Say how the daemon died during start-up; the exit code. The launcher is
/// a child subreaper (see `Prepared::detach`): the dead daemon, orphaned
/// when the middle process exited, is its child now, and its status says
/// which signal killed it. The only file the daemon writes before exec is
/// the pidfile, so SIGXFSZ (a file size limit) names that step.
fn died(prep: &Prepared<'_>) -> u8 {
    let d = prep.daemon;
    // It closed the status pipe as it died, a moment before its status is
    // there to take: wait for it (it is our only child left; with SIGCHLD
    // ignored the kernel takes it, and the wait ends with ECHILD).
    let signal = loop {
        match rustix::process::wait(WaitOptions::empty()) {
            Err(Errno::INTR) => {}
            Ok(Some((_, st))) => break st.terminating_signal(),
            _ => break None,
        }
    };
    let Some(sig) = signal else { return d.report(Error::text(Stage::Start, Text::Died)) };
    let stage = if sig == libc::SIGXFSZ { Stage::WritePid } else { Stage::Start };
    let mut l = err_line(stage.verb());
    if let Some(p) = d.path_of(stage) {
        l.bytes(b" ").cstr(p);
    }
    l.bytes(b": ").msg(msg::KILLED_DURING_START).num(sig as u64);
    if let Some(name) = sys::signal_name(sig) {
        l.bytes(b" (SIG").bytes(name).bytes(b")");
    }
    l.end();
    ExitCode::Failed as u8
}

/// Read exactly one record; `Ok(false)` at EOF.
fn read_full(fd: &OwnedFd, buf: &mut [u8; 8]) -> Result<bool, Errno> {
    let mut n = 0;
    while n < buf.len() {
        match rustix::io::read(fd, &mut buf[n..]) {
            Ok(0) => return Ok(false),
            Ok(k) => n += k,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

