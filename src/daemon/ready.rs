//! Readiness: the launcher returns when COMMAND says it is ready, not when it
//! was exec'd.
//!
//! Two protocols. s6's notification descriptor (`--ready-fd N`): the daemon
//! gets a pipe's write end as descriptor N and writes a newline when ready.
//! systemd's `NOTIFY_SOCKET` (`--notify`): the launcher binds a datagram
//! socket to an abstract name ([`unix(7)`]: no file, reachable from a chroot)
//! made of its pid and the clock's nanoseconds, accepts
//! `READY=1`, `MAINPID=`, `STATUS=`, `ERRNO=` and `EXTEND_TIMEOUT_USEC=`, and
//! reads only datagrams whose sender credentials ([`SO_PASSCRED`]) name the
//! daemon's pid.
//!
//! To learn how the daemon ended when it dies first, the launcher makes
//! itself a child subreaper ([`PR_SET_CHILD_SUBREAPER`]): when the middle
//! process exits, the daemon becomes the launcher's child, and its exit is a
//! SIGCHLD, read from a [`signalfd(2)`] next to the readiness descriptor in
//! one [`poll(2)`].
//!
//! [`unix(7)`]: https://man7.org/linux/man-pages/man7/unix.7.html
//! [`SO_PASSCRED`]: https://man7.org/linux/man-pages/man7/unix.7.html
//! [`PR_SET_CHILD_SUBREAPER`]: https://man7.org/linux/man-pages/man2/PR_SET_CHILD_SUBREAPER.2const.html
//! [`signalfd(2)`]: https://man7.org/linux/man-pages/man2/signalfd.2.html
//! [`poll(2)`]: https://man7.org/linux/man-pages/man2/poll.2.html

use crate::report::{msg, ExitCode, Line};
use crate::sys::{self, Clock};
use crate::text::{decimal, Buf};
use core::ffi::CStr;
use core::mem::{ManuallyDrop, MaybeUninit};
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsRawFd, FromRawFd, OwnedFd};
use rustix::io::{Errno, IoSliceMut};
use rustix::net::{self, RecvAncillaryBuffer, RecvFlags};
use rustix::process::{wait, WaitOptions, WaitStatus};

/// How COMMAND reports that it is ready.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ready {
    /// It does not: started means exec'd.
    Exec,
    /// `--ready-fd N`: a newline written to descriptor N (s6).
    Fd(i32),
    /// `--notify`: `READY=1` sent to `NOTIFY_SOCKET` (systemd).
    Notify,
    /// `--forking`: COMMAND daemonizes itself; it exiting with status 0
    /// means it did (systemd's `Type=forking`), and the process it left
    /// holding the pidfile's lock is the daemon from then on.
    Forking,
}

/// How the launcher's wait for readiness ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// Ready; the daemon's pid, as `MAINPID=` may have changed it.
    Ready(i32),
    /// The daemon died first (said on stderr).
    Died,
    /// The wait expired; the daemon is left running (said on stderr).
    NotReady,
}

/// What ended the loop of [`Channel::wait`].
enum End {
    Ready,
    Died(WaitStatus),
    Timeout,
}

/// The longest `NOTIFY_SOCKET=@name` (Linux autobinds five hex digits).
const VAR_MAX: usize = 64;

/// A readiness protocol, made before forking: the launcher's end, and what
/// it hands to the daemon.
pub struct Channel {
    /// The pipe's read end, or the notify socket (none for `--forking`).
    rd: Option<OwnedFd>,
    /// `--forking`: an exit with status 0 is the ready signal.
    forking: bool,
    /// SIGCHLD, as a descriptor.
    sig: OwnedFd,
    /// The daemon's part.
    pub hand: Handoff,
}

/// The daemon's part of a [`Channel`].
pub struct Handoff {
    /// The pipe's write end, as descriptor N.
    wr: Option<OwnedFd>,
    /// `NOTIFY_SOCKET=@name` and a NUL, for `--notify`.
    var: [u8; VAR_MAX],
}

impl Channel {
    /// Set up `how` (not [`Ready::Exec`]): the pipe or socket, the subreaper
    /// and the SIGCHLD descriptor. Call it before opening anything else, so
    /// that nothing of the launcher's lands on descriptor N.
    pub fn open(how: Ready) -> Result<Channel, Errno> {
        let mut var = [0u8; VAR_MAX];
        let (rd, wr) = match how {
            Ready::Forking | Ready::Exec => (None, None),
            Ready::Fd(n) => {
                let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
                // The read end out of N's way, then the write end onto N.
                let rd = rustix::io::fcntl_dupfd_cloexec(rd, n + 1)?;
                let wr = if wr.as_raw_fd() == n {
                    wr
                } else {
                    // SAFETY: descriptor N is not ours until dup3 makes it a
                    // copy of the pipe; ManuallyDrop keeps a failed call from
                    // closing someone else's descriptor.
                    let mut at = ManuallyDrop::new(unsafe { OwnedFd::from_raw_fd(n) });
                    rustix::io::dup3(&wr, &mut at, rustix::io::DupFlags::CLOEXEC)?;
                    ManuallyDrop::into_inner(at)
                };
                (Some(rd), Some(wr))
            }
            _ => {
                use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
                let s = net::socket_with(AddressFamily::UNIX, SocketType::DGRAM, SocketFlags::CLOEXEC, None)?;
                net::sockopt::set_socket_passcred(&s, true)?;
                // A name nobody can guess ahead: our pid and the clock's nanoseconds.
                let mut name = Buf::copy_of(b"NOTIFY_SOCKET=@dfork/");
                name.int(rustix::process::getpid().as_raw_nonzero().get() as i64);
                name.push(b".");
                name.int(sys::now(Clock::Monotonic).tv_nsec as i64);
                let b = name.as_bytes();
                net::bind(&s, &SocketAddrUnix::new_abstract_name(&b[15..])?)?;
                var[..b.len()].copy_from_slice(b); // and a NUL (at most 21 + 10 + 1 + 9 of 64 bytes)
                (Some(s), None)
            }
        };
        // The launcher waits for the daemon: SIGCHLD must not be ignored
        // (the kernel would reap it unseen), and comes through a signalfd.
        sys::set_default(libc::SIGCHLD);
        // As the daemon's subreaper the launcher sees it die at once.
        // --forking cannot do without; --ready-fd and --notify can, where
        // the kernel or an emulator refuses PR_SET_CHILD_SUBREAPER (older
        // qemu-user, such as Debian 12's 7.2; FreeBSD's Linux layer): a
        // daemon that dies before it is ready is then seen only when --wait
        // expires.
        if let Err(e) = sys::set_subreaper() {
            if how == Ready::Forking {
                return Err(e);
            }
        }
        sys::set_mask(libc::SIG_BLOCK, &[libc::SIGCHLD])?;
        Ok(Channel { rd, forking: how == Ready::Forking, sig: sys::signalfd(&[libc::SIGCHLD])?, hand: Handoff { wr, var } })
    }

    /// In the launcher, after the daemon exec'd: wait until it is ready,
    /// dies, or `wait_ms` pass. When it died or is not ready, this says so
    /// on stderr, with the last `STATUS=` or `ERRNO=` it sent. A `MAINPID=`
    /// is taken only when `member` says the pid belongs to the service.
    pub fn wait(&mut self, pid: i32, wait_ms: u64, command: &CStr, member: &dyn Fn(i32) -> bool) -> Outcome {
        drop(self.hand.wr.take()); // only the daemon may hold the write end: EOF then means it closed it
        let notify = self.hand.var[0] != 0;
        let (mut main, mut deadline, mut open) = (pid, now_ms() + wait_ms, self.rd.is_some());
        let mut note = Buf::new();
        let mut buf = [0u8; 512];
        let end = loop {
            let now = now_ms();
            if now >= deadline {
                break End::Timeout;
            }
            let rd = self.rd.as_ref().filter(|_| open);
            let (sig, data) = watch(&self.sig, rd, Some(deadline - now));
            // What the daemon said before it died counts: data first.
            if let (true, Some(rd)) = (data, rd) {
                let (k, from) = if notify {
                    receive(rd, &mut buf).unwrap_or((0, 0))
                } else {
                    match rustix::io::read(rd, &mut buf) {
                        Ok(k) if buf[..k].contains(&b'\n') => break End::Ready,
                        Ok(k) if k > 0 => {}
                        _ => open = false, // EOF: it closed N without a newline
                    }
                    (0, 0)
                };
                // Only the daemon (or the MAINPID it named) is heard.
                let lines = if from == pid || from == main { &buf[..k] } else { &[][..] };
                let mut ready = false;
                for line in lines.split(|&c| c == b'\n') {
                    if line == b"READY=1" {
                        ready = true;
                    } else if let Some(v) = line.strip_prefix(b"MAINPID=") {
                        // Only the daemon or a member of its service may be
                        // named: never a bystander the pidfile would then
                        // hand to --stop.
                        main = decimal(v).map(|p| p as i32).filter(|&p| p == pid || (p > 1 && member(p))).unwrap_or(main);
                    } else if let Some(v) = line.strip_prefix(b"EXTEND_TIMEOUT_USEC=") {
                        deadline = decimal(v).map_or(deadline, |us| now_ms() + us as u64 / 1000);
                    } else if line.starts_with(b"STATUS=") || line.starts_with(b"ERRNO=") {
                        note = Buf::copy_of(line);
                    }
                }
                if ready {
                    break End::Ready;
                }
            }
            if sig {
                read_signal(&self.sig);
                if let Some(st) = reap_until(main) {
                    // --forking: status 0 is "it daemonized itself".
                    break if self.forking && st.exit_status() == Some(0) { End::Ready } else { End::Died(st) };
                }
            }
        };
        let mut l = Line::stderr();
        l.msg(msg::PREFIX).cstr(command);
        let outcome = match end {
            End::Ready => return Outcome::Ready(main),
            End::Died(st) => {
                ended(&mut l, st.as_raw(), 0).msg(msg::BEFORE_READY);
                Outcome::Died
            }
            End::Timeout => {
                l.msg(msg::NOT_READY_AFTER).num(wait_ms).msg(msg::LEFT_RUNNING).num(main as u64);
                Outcome::NotReady
            }
        };
        if !note.as_bytes().is_empty() {
            l.bytes(b" (").bytes(note.as_bytes()).bytes(b")");
        }
        l.end();
        outcome
    }

    /// `--forking`, after COMMAND exited 0: wait until no child of the
    /// launcher has exited for [`SETTLE_MS`] (the middle process of a
    /// double fork is gone then), reaping those that did; at most
    /// [`SETTLE_MAX_MS`].
    pub fn settle(&mut self) {
        let until = now_ms() + SETTLE_MAX_MS;
        while now_ms() < until && watch(&self.sig, None, Some(SETTLE_MS)).0 {
            read_signal(&self.sig);
            reap_until(0);
        }
    }
}

/// Milliseconds on the monotonic clock.
pub fn now_ms() -> u64 {
    let t = sys::now(Clock::Monotonic);
    t.tv_sec as u64 * 1000 + t.tv_nsec as u64 / 1_000_000
}

/// Sleep in one [`poll(2)`] until the signalfd `sig` or `data` is readable
/// or `ms` pass (None: no limit); which of them are.
///
/// [`poll(2)`]: https://man7.org/linux/man-pages/man2/poll.2.html
pub fn watch(sig: &OwnedFd, data: Option<&OwnedFd>, ms: Option<u64>) -> (bool, bool) {
    let mut fds = [PollFd::new(sig, PollFlags::IN), PollFd::new(data.unwrap_or(sig), PollFlags::IN)];
    if sys::poll(&mut fds, ms).is_err() {
        return (false, false);
    }
    let ready = |f: &PollFd<'_>| !f.revents().is_empty();
    (ready(&fds[0]), data.is_some() && ready(&fds[1]))
}

/// The number of the signal a signalfd has for us (0 if none).
pub fn read_signal(sig: &OwnedFd) -> i32 {
    let mut info = [0u8; 128];
    match rustix::io::read(sig, &mut info) {
        Ok(_) => i32::from_ne_bytes([info[0], info[1], info[2], info[3]]),
        Err(_) => 0,
    }
}

impl Handoff {
    /// The descriptor the daemon keeps (`--ready-fd`'s N).
    pub fn fd(&self) -> Option<rustix::fd::BorrowedFd<'_>> {
        use rustix::fd::AsFd;
        self.wr.as_ref().map(|w| w.as_fd())
    }

    /// `NOTIFY_SOCKET=@name` for the daemon's environment, with `--notify`.
    pub fn var(&self) -> Option<&CStr> {
        CStr::from_bytes_until_nul(&self.var).ok().filter(|v| !v.is_empty())
    }
}

/// Reap every child that has ended; the status of `pid` if it is one of them.
pub fn reap_until(pid: i32) -> Option<WaitStatus> {
    let mut found = None;
    while let Ok(Some((p, st))) = wait(WaitOptions::NOHANG) {
        if p.as_raw_nonzero().get() == pid {
            found = Some(st);
        }
    }
    found
}

/// One datagram from the notify socket: its length and the sender's pid
/// (0 when it sent no credentials).
fn receive(sock: &OwnedFd, buf: &mut [u8]) -> Option<(usize, i32)> {
    // Room for one control message, the credentials: a descriptor someone
    // sends along (SCM_RIGHTS) never fits, and the kernel closes it.
    const SPACE: usize = rustix::cmsg_space!(ScmCredentials(1));
    let mut space = [MaybeUninit::new(0u8); SPACE];
    // Not dropped: its drop would run rustix's parser of control messages
    // (0.5 KB of code) for one message whose layout is fixed; read below.
    let mut cmsg = ManuallyDrop::new(RecvAncillaryBuffer::new(&mut space));
    let r = net::recvmsg(sock, &mut [IoSliceMut::new(buf)], &mut cmsg, RecvFlags::DONTWAIT).ok()?;
    // SAFETY: every byte was initialized (zero) before the call, and the
    // kernel writes only initialized bytes.
    let b = space.map(|m| unsafe { m.assume_init() });
    // struct cmsghdr { size_t len; int level; int type; } then, aligned to
    // size_t, struct ucred { pid_t pid; uid_t uid; gid_t gid; }.
    let w = core::mem::size_of::<usize>();
    let int = |at: usize| i32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let creds = int(w) == libc::SOL_SOCKET && int(w + 4) == libc::SCM_CREDENTIALS;
    Some((r.bytes.min(buf.len()), if creds { int((w + 8).next_multiple_of(w)) } else { 0 }))
}

/// `--forking`: how long no child may exit, after COMMAND exited 0, before
/// what it left counts as settled and its daemon is taken.
pub const SETTLE_MS: u64 = 20;
/// `--forking`: the longest settling.
pub const SETTLE_MAX_MS: u64 = 1000;

/// `--forking`'s end of a run that is not a wait status: COMMAND exited 0
/// but left no process running.
pub const LEFT_NOTHING: i32 = -2;
/// `--forking`'s end of a run that is not a wait status: COMMAND was still
/// in the foreground when `--wait` expired (and was killed).
pub const STILL_FOREGROUND: i32 = -1;

/// The exit code of a start whose COMMAND did not daemonize (`--respawn
/// --forking`): 4 when it stayed in the foreground, else 3.
pub fn not_daemonized_code(end: i32) -> u8 {
    (if end == STILL_FOREGROUND { ExitCode::NotReady } else { ExitCode::DiedBeforeReady }) as u8
}

/// The exit code that says how a run ended, as a shell reports it: the exit
/// status, 128+N for signal N, or [`not_daemonized_code`] for
/// [`LEFT_NOTHING`] and [`STILL_FOREGROUND`] (`--init` exits with it).
pub fn exit_code(end: i32) -> u8 {
    match end {
        LEFT_NOTHING | STILL_FOREGROUND => not_daemonized_code(end),
        st if libc::WIFEXITED(st) => libc::WEXITSTATUS(st) as u8,
        st => 128 + libc::WTERMSIG(st) as u8,
    }
}

/// ` exited with status S` or ` killed by signal N` for a wait status, or
/// what [`LEFT_NOTHING`] and [`STILL_FOREGROUND`] (after `wait_ms`) mean.
pub fn ended<'l, 'f>(l: &'l mut Line<'f>, status: i32, wait_ms: u64) -> &'l mut Line<'f> {
    match status {
        LEFT_NOTHING => l.msg(msg::LEFT_NOTHING),
        STILL_FOREGROUND => l.msg(msg::NOT_READY_AFTER).num(wait_ms).msg(msg::STILL_FOREGROUND),
        st if libc::WIFEXITED(st) => l.msg(msg::EXITED).num(libc::WEXITSTATUS(st) as u64),
        st => l.msg(msg::KILLED).num(libc::WTERMSIG(st) as u64),
    }
}
