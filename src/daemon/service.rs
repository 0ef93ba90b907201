//! The processes of a service: everything the daemon started, as far as a
//! program without cgroups can see it, read from `/proc`.
//!
//! A process is a member when
//! - it holds the pidfile's lock: one of its descriptors is the open file
//!   description the daemon locked (its `/proc/PID/fdinfo` entry shows the
//!   lock). The daemon's descriptor is inherited by everything it starts
//!   unless closed, so this finds the children of a shell loop and a daemon
//!   that forked itself into the background (BusyBox `httpd`, `crond`,
//!   nginx...), whatever session it made. A process that merely opened
//!   the pidfile, read-only or not, has another open file description and
//!   shows no lock: it is not a member;
//! - or it is in the session of the daemon or of a lock holder, when that
//!   session is theirs: its leader is gone (the middle process dfork forks
//!   the daemon from) or is a member itself. A session whose leader lives
//!   and is not a member (a shell that ran `dfork -f`) is nobody's service.
//!
//! What it cannot see: a process that closed the descriptor and left the
//! session (`setsid` after closing every descriptor). Never the process
//! looking, nor its session.

use core::ffi::CStr;
use core::mem::MaybeUninit;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{self, AtFlags, Mode, OFlags, RawDir};

/// The most sessions a service is followed into.
const SESSIONS_MAX: usize = 16;

/// A service, known by its pidfile's device and inode.
pub struct Service {
    file: (u64, u64),
    /// The sessions whose members belong to the service.
    sessions: [i32; SESSIONS_MAX],
    n: usize,
    /// This process, and its session: never members.
    me: i32,
    my_session: i32,
}

/// A process's parent, session and whether it has exited (a zombie).
struct Stat {
    parent: i32,
    session: i32,
    zombie: bool,
}

impl Service {
    /// The service of the pidfile `file` (an open descriptor of it; None:
    /// a daemon without a pidfile, known by its session alone) whose daemon
    /// is `daemon`, if it lives.
    pub fn new(file: Option<BorrowedFd<'_>>, daemon: Option<u32>) -> Service {
        let st = file.and_then(|f| fs::fstat(f).ok());
        let me = rustix::process::getpid().as_raw_nonzero().get();
        let my_session = stat(me).map_or(0, |s| s.session);
        let mut s = Service { file: st.map_or((0, 0), |st| super::identity(&st)), sessions: [0; SESSIONS_MAX], n: 0, me, my_session };
        if let Some(d) = daemon {
            s.follow(d as i32);
        }
        if st.is_some() {
            each_pid(&mut |pid| {
                if s.holds(pid) {
                    s.follow(pid);
                }
            });
        }
        s
    }

    /// Follow the session of `pid` (a member) if it is the service's.
    fn follow(&mut self, pid: i32) {
        let Some(st) = stat(pid) else { return };
        let sid = st.session;
        if sid <= 0 || sid == self.my_session || self.sessions[..self.n].contains(&sid) || self.n == SESSIONS_MAX {
            return;
        }
        // The leader is gone, or is this member (it made the session).
        let leader_gone = sid != pid && stat(sid).is_none_or(|l| l.zombie);
        if sid == pid || leader_gone {
            self.sessions[self.n] = sid;
            self.n += 1;
        }
    }

    /// Whether `pid` holds the pidfile's lock: a descriptor of it on the
    /// pidfile whose fdinfo shows a lock.
    fn holds(&self, pid: i32) -> bool {
        if pid == self.me || self.file == (0, 0) {
            return false;
        }
        let mut path = ProcPath::new(pid, b"/fd");
        let Ok(dir) = fs::open(path.get(), OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) else { return false };
        let mut buf = [MaybeUninit::uninit(); 1024];
        let mut fds = RawDir::new(dir.as_fd(), &mut buf);
        while let Some(Ok(e)) = fds.next() {
            let name = e.file_name();
            if name.to_bytes().first().is_some_and(|c| c.is_ascii_digit())
                && fs::statat(&dir, name, AtFlags::empty()).is_ok_and(|st| super::identity(&st) == self.file)
                && locked_in_fdinfo(&mut path, name)
            {
                return true;
            }
        }
        false
    }

    /// Whether `pid` is a member now: a live process that holds the lock or
    /// lives in one of the service's sessions.
    pub fn has(&self, pid: i32) -> bool {
        match stat(pid) {
            Some(st) if !st.zombie && pid != self.me => self.sessions[..self.n].contains(&st.session) || self.holds(pid),
            _ => false,
        }
    }

    /// Send `sig` to every member now: each pinned with a pidfd, then
    /// checked to be a member still (a pid freed and reused in between
    /// names a process the pidfd does not, and that one is never
    /// signalled). Without pidfds (before Linux 5.3), by pid after the check.
    pub fn signal(&self, sig: rustix::process::Signal) {
        self.each(&mut |pid| {
            let Some(p) = rustix::process::Pid::from_raw(pid) else { return };
            match rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()) {
                Ok(fd) if self.has(pid) => {
                    let _ = rustix::process::pidfd_send_signal(&fd, sig);
                }
                Err(rustix::io::Errno::NOSYS) if self.has(pid) => {
                    let _ = rustix::process::kill_process(p, sig);
                }
                _ => {}
            }
        });
    }

    /// The member to call the daemon when the one dfork started has gone
    /// (a program that forked itself): the oldest, by the lowest pid.
    pub fn first(&self) -> Option<i32> {
        let mut first = None;
        self.each(&mut |p| first = Some(first.map_or(p, |f: i32| f.min(p))));
        first
    }

    /// Call `f` with every member now; how many there are.
    pub fn each(&self, f: &mut dyn FnMut(i32)) -> usize {
        let mut n = 0;
        each_pid(&mut |pid| {
            if self.has(pid) {
                n += 1;
                f(pid);
            }
        });
        n
    }
}

/// `/proc/PID` and a tail, as a C string in a fixed buffer.
struct ProcPath {
    buf: [u8; 48],
    /// Where `/proc/PID` ends.
    base: usize,
    len: usize,
}

impl ProcPath {
    fn new(pid: i32, tail: &[u8]) -> ProcPath {
        let mut p = ProcPath { buf: [0; 48], base: 0, len: 0 };
        p.push(b"/proc/");
        let mut d = [0u8; 20];
        p.push(crate::text::itoa(pid as u64, &mut d));
        p.base = p.len;
        p.push(tail);
        p
    }

    fn push(&mut self, b: &[u8]) {
        let end = (self.len + b.len()).min(self.buf.len() - 1);
        self.buf[self.len..end].copy_from_slice(&b[..end - self.len]);
        self.len = end;
    }

    /// Replace the tail.
    fn tail(&mut self, parts: &[&[u8]]) {
        self.len = self.base;
        self.buf[self.base..].fill(0);
        for p in parts {
            self.push(p);
        }
    }

    fn get(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"/proc/0")
    }
}

/// Whether `/proc/PID/fdinfo/FD` (PID in `path`) shows a lock on that open
/// file description.
fn locked_in_fdinfo(path: &mut ProcPath, fd: &CStr) -> bool {
    path.tail(&[b"/fdinfo/", fd.to_bytes()]);
    // An exclusive lock (WRITE): a daemon's; `--status` probes take shared ones.
    let found = read(path.get(), &mut [0u8; 1024], &mut |b| b.split(|&c| c == b'\n').any(|l| l.starts_with(b"lock:") && l.windows(5).any(|w| w == b"WRITE")));
    path.tail(&[b"/fd"]);
    found.unwrap_or(false)
}

/// Session and state of `pid` from `/proc/PID/stat` (fields 3 and 6, after
/// the command's closing parenthesis); None when it does not exist.
fn stat(pid: i32) -> Option<Stat> {
    let path = ProcPath::new(pid, b"/stat");
    read(path.get(), &mut [0u8; 512], &mut |b| {
        let after = &b[b.iter().rposition(|&c| c == b')')? + 2..];
        let mut fields = after.split(|&c| c == b' ');
        let state = *fields.next()?.first()?;
        let parent = crate::text::decimal(fields.next()?)? as i32;
        let session = crate::text::decimal(fields.nth(1)?)? as i32;
        Some(Stat { parent, session, zombie: state == b'Z' || state == b'X' })
    })
    .flatten()
}

/// The oldest (lowest pid) live child of this process: for a child
/// subreaper, what a program that daemonized itself left, even one that
/// closed every descriptor and made a session of its own.
pub fn my_first_child() -> Option<i32> {
    let mut first = None;
    each_child(&mut |pid| first = Some(first.map_or(pid, |f: i32| f.min(pid))));
    first
}

/// Call `f` with every live child of this process.
pub fn each_child(f: &mut dyn FnMut(i32)) {
    let me = rustix::process::getpid().as_raw_nonzero().get();
    each_pid(&mut |pid| {
        if stat(pid).is_some_and(|s| s.parent == me && !s.zombie) {
            f(pid);
        }
    });
}

/// Whether process `pid` is a live child of this process.
pub fn my_child(pid: i32) -> bool {
    let me = rustix::process::getpid().as_raw_nonzero().get();
    stat(pid).is_some_and(|s| s.parent == me && !s.zombie)
}

/// Whether process `pid` has exited and waits to be reaped (a zombie).
/// Without `/proc` it cannot be told: false.
pub fn zombie(pid: u32) -> bool {
    stat(pid as i32).is_some_and(|s| s.zombie)
}

/// Read the start of a small file into `buf` and hand it to `f`.
fn read<R>(path: &CStr, buf: &mut [u8], f: &mut dyn FnMut(&[u8]) -> R) -> Option<R> {
    let fd = fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let n = rustix::io::read(&fd, &mut *buf).ok()?;
    Some(f(&buf[..n]))
}

/// Call `f` with the pid of every process in `/proc`, if that `/proc` is
/// of this process's PID namespace: its `self` names this process. One
/// mounted for another namespace (a container's init that shares the
/// host's) names other processes by numbers that mean someone else here:
/// nothing is read from it.
fn each_pid(f: &mut dyn FnMut(i32)) {
    let mut me = [0u8; 16];
    let ours = match fs::readlinkat_raw(fs::CWD, c"/proc/self", &mut me) {
        Ok(n) => crate::text::decimal(&me[..n]) == Some(rustix::process::getpid().as_raw_nonzero().get() as u32),
        Err(_) => false,
    };
    if !ours {
        return;
    }
    let Ok(proc) = fs::open(c"/proc", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) else { return };
    let mut buf = [MaybeUninit::uninit(); 2048];
    let mut dir = RawDir::new(proc.as_fd(), &mut buf);
    while let Some(Ok(e)) = dir.next() {
        if let Some(pid) = crate::text::decimal(e.file_name().to_bytes()).filter(|&p| p > 0) {
            f(pid as i32);
        }
    }
}
