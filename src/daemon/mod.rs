//! The recipe, in the order it runs (the SysV steps of [`daemon(7)`]):
//!
//! In the launcher ([`Daemon::prepare`]): make sure fds 0-2 are open, lock an
//! existing pidfile (or check that a missing one can be created: the daemon
//! creates it), open the output files and /dev/null, so every error reaches
//! the user's terminal. Then ([`Prepared::detach`]): fork; the child calls `setsid`
//! and forks again, so the daemon is not a session leader and can never acquire
//! a controlling terminal; the middle process exits at once. In the daemon:
//! the pidfile, `chdir`, umask, stdio, reset signals, close inherited
//! descriptors, write the pid. The launcher waits on a close-on-exec pipe until
//! the daemon is started (exec happened, or the library caller said ready), or
//! reports the errno the daemon sent back, and exits with the matching code.
//!
//! Every system call counts here (the peer benchmark counts them): the middle
//! process is forked without an exit signal, so the launcher's wait on the
//! pipe is never interrupted; the daemon learns its pid from `clone` itself
//! (`bare-fork`); one record tells the launcher both "started" and the pid.
//!
//! [`daemon(7)`]: https://man7.org/linux/man-pages/man7/daemon.7.html

mod fds;
mod launcher;
pub mod pidfile;
pub mod ready;
pub mod service;
pub mod user;

pub use pidfile::Pidfile;
pub use ready::Ready;
pub use user::Ident;

use crate::report::{Error, ExitCode, Stage, Text};
use crate::sys::{self, CArgv, Forked};
use core::ffi::CStr;
use launcher::{launcher_wait, Status, Tag};
use pidfile::Refused;
use ready::{Channel, Handoff};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use rustix::fs::{self, Mode, OFlags};
use rustix::io::Errno;

/// What the daemon's start looks like: a builder, the library's entry point.
///
/// ```
/// # fn body() {}
/// let d = dfork::Daemon::new().pidfile(c"/tmp/dfork-doc-example.pid").umask(0o027);
/// match d.start() {
///     Ok(mut daemon) => { daemon.ready(); body(); daemon.abandon() } // only the daemon gets here
///     Err(e) => e.print(d.path_of(e.stage)), // still in the caller: nothing was started
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Daemon<'a> {
    pub(crate) pidfile: Option<&'a CStr>,
    pub(crate) chdir: &'a CStr,
    pub(crate) umask: u32,
    pub(crate) stdout: Option<&'a CStr>,
    pub(crate) stderr: Option<&'a CStr>,
    pub(crate) foreground: bool,
    pub(crate) quiet: bool,
    /// What exec runs, for error messages.
    pub(crate) command: Option<&'a CStr>,
    /// `-r`: the new root.
    pub(crate) chroot: Option<&'a CStr>,
    /// `-u`: who the daemon runs as.
    pub(crate) user: Option<&'a Ident>,
    /// `--ready-fd` or `--notify`.
    pub(crate) ready: Ready,
    /// `-w`, in milliseconds.
    pub(crate) wait_ms: u64,
    /// How the daemon is forked: libc's way, or the bare `clone` call.
    pub(crate) fork: fn() -> Result<Forked, Errno>,
    /// `--forking=PIDFILE`: where a self-forking COMMAND writes its pid.
    pub(crate) forking_pidfile: Option<&'a CStr>,
}

impl Default for Daemon<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Daemon<'a> {
    /// The defaults: no pidfile, `chdir /`, umask 022, stdio on /dev/null,
    /// fork twice, print `Daemon PID N`.
    pub const fn new() -> Self {
        Daemon {
            pidfile: None,
            chdir: c"/",
            umask: 0o022,
            stdout: None,
            stderr: None,
            foreground: false,
            quiet: false,
            command: None,
            chroot: None,
            user: None,
            ready: Ready::Exec,
            wait_ms: 60_000,
            fork: sys::fork_libc,
            forking_pidfile: None,
        }
    }

    /// Fork the daemon with the bare [`clone(2)`] system call instead of
    /// libc's fork: fewer system calls, but libc's cached thread id stays the
    /// caller's in the daemon, so libc's `abort`, `raise` and `pthread_*`
    /// misbehave there. Only for a daemon that execs, or whose code calls
    /// none of them (the dfork binary's). Off by default. A function
    /// pointer, not a flag: a program that only ever asks for one way (in a
    /// `const`, as the dfork binary does) links only that one.
    ///
    /// [`clone(2)`]: https://man7.org/linux/man-pages/man2/clone.2.html
    pub const fn bare_fork(mut self, yes: bool) -> Self {
        self.fork = if yes { sys::fork } else { sys::fork_libc };
        self
    }

    /// Start means ready ([`ready`]): the launcher of an exec'd
    /// command waits until it reports ready by `how` (a newline on a
    /// descriptor, or `READY=1` to `NOTIFY_SOCKET`), at most `wait_ms`.
    pub fn ready(mut self, how: Ready, wait_ms: u64) -> Self {
        (self.ready, self.wait_ms) = (how, wait_ms);
        self
    }

    /// COMMAND daemonizes itself ([`Ready::Forking`], `--forking`): the
    /// launcher waits for it to exit with status 0, then takes the process
    /// it left holding the pidfile's lock (or, given `own`, the pid it
    /// wrote to that pidfile of its own, when that one is a member) as the
    /// daemon: that pid goes into the pidfile and `Daemon PID N`.
    pub fn forking(mut self, own: Option<&'a CStr>, wait_ms: u64) -> Self {
        (self.ready, self.wait_ms, self.forking_pidfile) = (Ready::Forking, wait_ms, own);
        self
    }

    /// Change the daemon's root to `dir` ([`chroot(2)`], `-r`) before its
    /// `chdir`: the directory is opened in the caller (a missing one is an
    /// error before forking); COMMAND is looked up inside it.
    ///
    /// [`chroot(2)`]: https://man7.org/linux/man-pages/man2/chroot.2.html
    pub fn chroot(mut self, dir: &'a CStr) -> Self {
        self.chroot = Some(dir);
        self
    }

    /// Run the daemon as `user` (`-u`, resolved with
    /// [`Ident::resolve`]): after the chroot and `chdir`, it drops to that
    /// identity with [`Ident::become_it`]. The pidfile and output files are
    /// opened before, as the caller.
    pub fn user(mut self, user: &'a Ident) -> Self {
        self.user = Some(user);
        self
    }

    /// Lock and write this pidfile (`-p`).
    pub fn pidfile(mut self, path: &'a CStr) -> Self {
        self.pidfile = Some(path);
        self
    }

    /// The daemon's working directory (`-c`, default `/`).
    pub fn chdir(mut self, dir: &'a CStr) -> Self {
        self.chdir = dir;
        self
    }

    /// The daemon's umask (`-m`, default 022).
    pub fn umask(mut self, mask: u32) -> Self {
        self.umask = mask & 0o777;
        self
    }

    /// Append the daemon's stdout to this file (`-o`), created 0644.
    pub fn stdout(mut self, path: &'a CStr) -> Self {
        self.stdout = Some(path);
        self
    }

    /// Append the daemon's stderr to this file (`-e`), created 0644.
    pub fn stderr(mut self, path: &'a CStr) -> Self {
        self.stderr = Some(path);
        self
    }

    /// Do not fork (`-f`): for supervisors that keep the process themselves.
    pub fn foreground(mut self, yes: bool) -> Self {
        self.foreground = yes;
        self
    }

    /// Do not print `Daemon PID N` (`-q`).
    pub fn quiet(mut self, yes: bool) -> Self {
        self.quiet = yes;
        self
    }

    /// Name COMMAND in error messages of [`Running::exec`].
    pub fn command(mut self, name: &'a CStr) -> Self {
        self.command = Some(name);
        self
    }

    /// The umask the daemon gets.
    pub fn umask_of(&self) -> u32 {
        self.umask
    }

    /// How the launcher learns that the daemon is ready.
    pub fn readiness(&self) -> Ready {
        self.ready
    }

    /// How long the launcher waits for readiness, in milliseconds.
    pub fn wait_ms(&self) -> u64 {
        self.wait_ms
    }

    /// Whether the daemon stays in the foreground.
    pub fn is_foreground(&self) -> bool {
        self.foreground
    }

    /// [`prepare`](Self::prepare) and [`detach`](Prepared::detach) in one step.
    pub fn start(&'a self) -> Result<Running<'a>, Error> {
        self.prepare()?.detach(&[])
    }

    /// Everything that can fail before forking, done in the caller's process so
    /// errors reach its terminal: /dev/null opened (and put on fds 0-2 where they
    /// are closed), an existing pidfile locked ([`flock(2)`]) or a missing
    /// one's directory checked (the daemon creates it, so a caller killed
    /// before forking leaves none), the output files and /dev/null opened
    /// ([`open(2)`]). With output files, sets the umask to 0 until the daemon
    /// sets its own, so they are created 0644 exactly (the pidfile is made
    /// 0644 by the daemon).
    ///
    /// [`flock(2)`]: https://man7.org/linux/man-pages/man2/flock.2.html
    /// [`open(2)`]: https://man7.org/linux/man-pages/man2/open.2.html
    pub fn prepare(&'a self) -> Result<Prepared<'a>, Error> {
        // First, so that nothing else lands on --ready-fd's descriptor.
        let channel = match self.ready {
            Ready::Exec => None,
            how => Some(Channel::open(how).map_err(|e| Error::os(Stage::Ready, e))?),
        };
        let null = fds::open_null().map_err(|e| Error::os(Stage::DevNull, e))?;
        if self.stdout.is_some() || self.stderr.is_some() {
            rustix::process::umask(Mode::empty());
        }
        // An existing pidfile is locked here; a missing one is created by
        // the daemon, so a launcher killed before it forks leaves none.
        let pidfile = match self.pidfile.map(|p| (p, Pidfile::acquire(p, false))) {
            Some((_, Ok(p))) => Some(p),
            // The daemon will create it: its directory must let us, now.
            Some((p, Err(Refused::Os(Errno::NOENT)))) => {
                may_create(p).map_err(|e| Error::os(Stage::Pidfile, e))?;
                None
            }
            Some((_, Err(r))) => return Err(refused(r)),
            None => None,
        };
        let mut prep = Prepared {
            daemon: self,
            pidfile,
            devnull: Some(null),
            stdout: None,
            stderr: None,
            root: None,
            command_dir: None,
            channel,
        };
        prep.open_files().inspect_err(|_| prep.abandon())?;
        Ok(prep)
    }
}

const DEV_NULL: &CStr = c"/dev/null";

/// Whether a file can be created at `path` ([`faccessat(2)`] of its
/// directory for writing and searching; dfork is not set-uid, so the real
/// ids it checks are the effective ones): the
/// errors a create would meet (ENOENT, EROFS, EACCES...), before forking.
///
/// [`faccessat(2)`]: https://man7.org/linux/man-pages/man2/faccessat.2.html
fn may_create(path: &CStr) -> Result<(), Errno> {
    let mut buf = [0u8; 4096];
    let (dir, _) = sys::path::parent(path, &mut buf)?;
    fs::accessat(fs::CWD, dir, fs::Access::WRITE_OK | fs::Access::EXEC_OK, fs::AtFlags::empty())
}

fn refused(r: Refused) -> Error {
    match r {
        Refused::Running(pid) => Error::running(pid.unwrap_or(0)),
        Refused::NotRegular => Error::text(Stage::Pidfile, Text::NotRegular),
        Refused::Linked => Error::text(Stage::Pidfile, Text::Linked),
        Refused::Os(e) => Error::os(Stage::Pidfile, e),
    }
}

/// Open an output file for appending: `O_APPEND | O_CREAT | O_NOFOLLOW`, mode
/// 0644 (the caller has the umask at 0), and its identity. Opened
/// `O_NONBLOCK`, so that nothing can hang the open ([`open(2)`]): a FIFO
/// without a reader fails at once (ENXIO, "No such device or address").
/// For a file that is not regular (a FIFO with its reader, a terminal, a
/// device) the flag is then cleared, so writes wait as they would through
/// a shell redirection; a regular file ignores it.
///
/// [`open(2)`]: https://man7.org/linux/man-pages/man2/open.2.html
pub fn open_append(base: BorrowedFd<'_>, path: &CStr) -> Result<(OwnedFd, fs::Stat), Errno> {
    let flags = OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let fd = fs::openat(base, path, flags, Mode::from_bits_truncate(0o644))?;
    let st = fs::fstat(&fd)?;
    if fs::FileType::from_raw_mode(st.st_mode) != fs::FileType::RegularFile {
        rustix::fs::fcntl_setfl(&fd, OFlags::WRONLY | OFlags::APPEND)?;
    }
    Ok((fd, st))
}

/// A file's identity: its device and inode.
pub fn identity(st: &fs::Stat) -> (u64, u64) {
    (st.st_dev, st.st_ino)
}

/// A start whose fallible, pre-fork part is done: the pidfile is locked and the
/// files are open. [`detach`](Self::detach) forks; dropping it (or
/// [`abandon`](Self::abandon)) gives everything back.
pub struct Prepared<'a> {
    daemon: &'a Daemon<'a>,
    pidfile: Option<Pidfile<'a>>,
    devnull: Option<OwnedFd>,
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    /// `-r`'s directory, opened with `O_PATH`.
    root: Option<OwnedFd>,
    /// The readiness protocol.
    channel: Option<Channel>,
    /// The launcher's directory, held for a relative COMMAND path.
    command_dir: Option<OwnedFd>,
}

impl<'a> Prepared<'a> {
    fn open_files(&mut self) -> Result<(), Error> {
        let d = self.daemon;
        let cwd = fs::CWD;
        if let Some(r) = d.chroot {
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            self.root = Some(fs::open(r, flags, Mode::empty()).map_err(|e| Error::os(Stage::Chroot, e))?);
        }
        // `./tool` and `bin/tool` mean the launcher's directory, as for a
        // shell or start-stop-daemon (inside -r's root they mean -c there).
        if let (Some(c), None) = (d.command, d.chroot) {
            if c.to_bytes().contains(&b'/') {
                self.command_dir = sys::path::anchor(c).map_err(|e| Error::os(Stage::Exec, e))?;
            }
        }
        for (stage, path) in [(Stage::Stdout, d.stdout), (Stage::Stderr, d.stderr)] {
            let Some(p) = path else { continue };
            let (fd, st) = open_append(cwd, p).map_err(|e| match e {
                // O_NONBLOCK's answer for a FIFO (or socket) that nobody reads.
                Errno::NXIO => Error::text(stage, Text::NoReader),
                e => Error::os(stage, e),
            })?;
            // The pidfile holds the pid alone: no output goes into it.
            if self.is_pidfile(identity(&st)) {
                return Err(Error::text(stage, Text::IsPidfile));
            }
            match stage {
                Stage::Stdout => self.stdout = Some(fd),
                _ => self.stderr = Some(fd),
            }
        }
        Ok(())
    }

    /// Whether the file of identity `id` ([`identity`]) is the pidfile: the
    /// one locked, or (when the daemon is to create it) whatever its path
    /// names now. A file opened for another use must not be it.
    pub fn is_pidfile(&self, id: (u64, u64)) -> bool {
        let pidfile = match (&self.pidfile, self.daemon.pidfile) {
            (Some(p), _) => fs::fstat(p.fd()),
            (None, Some(path)) => fs::statat(fs::CWD, path, fs::AtFlags::SYMLINK_NOFOLLOW),
            (None, None) => return false,
        };
        pidfile.is_ok_and(|p| identity(&p) == id)
    }

    /// The pidfile, when it existed and is locked (a missing one is created
    /// and locked by the daemon).
    pub fn pidfile(&self) -> Option<&Pidfile<'a>> {
        self.pidfile.as_ref()
    }

    /// Give up: remove the pidfile if we hold it, or if the daemon that
    /// was to create it died and left it unlocked.
    pub fn abandon(&self) {
        match (&self.pidfile, self.daemon.pidfile) {
            (Some(p), _) => p.remove(),
            // A daemon killed during start-up lets go of its lock a moment
            // after its status pipe closes: wait that out (100 ms at most;
            // a lock still held then is another daemon's).
            (None, Some(path)) => {
                for _ in 0..100 {
                    match Pidfile::acquire(path, false) {
                        Ok(p) => return p.remove(),
                        Err(Refused::Running(_)) => {
                            sys::sleep_ms(1);
                        }
                        Err(_) => return,
                    }
                }
            }
            _ => {}
        }
    }

    /// Fork, `setsid`, fork, and set the daemon up; descriptors in `keep` (up
    /// to ten) stay open in the daemon, every other one above 2 is closed.
    ///
    /// In the launcher this never returns: it waits until the daemon is started
    /// (it called [`Running::ready`], exec'd, or failed), prints `Daemon PID N`
    /// or the daemon's error, and exits with the [`ExitCode`]. It returns `Err`
    /// only for a failure before the first fork, and `Ok` only in the daemon.
    /// With [`Daemon::foreground`] it forks nothing and returns in the caller.
    ///
    /// [`fork(2)`], [`setsid(2)`], [`pipe2(2)`].
    ///
    /// [`fork(2)`]: https://man7.org/linux/man-pages/man2/fork.2.html
    /// [`setsid(2)`]: https://man7.org/linux/man-pages/man2/setsid.2.html
    /// [`pipe2(2)`]: https://man7.org/linux/man-pages/man2/pipe2.2.html
    pub fn detach(mut self, keep: &[BorrowedFd<'_>]) -> Result<Running<'a>, Error> {
        if self.daemon.foreground {
            let mut r = Running::new(self.daemon, None, rustix::process::getpid().as_raw_nonzero().get());
            return match self.setup(&mut r, keep) {
                Ok(()) => Ok(r),
                Err(e) => {
                    r.abandon();
                    Err(e)
                }
            };
        }
        let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map_err(|e| Error::os(Stage::Pipe, e))
            .inspect_err(|_| self.abandon())?;
        // A daemon that dies before it can report becomes our child once the
        // middle process is gone: its status names the signal. (Best effort:
        // without it, "died during start-up" is all the launcher can say.)
        let _ = sys::set_subreaper();
        match sys::fork_quiet() {
            Err(e) => {
                self.abandon();
                Err(Error::os(Stage::Fork, e))
            }
            Ok(Forked::Parent(middle)) => {
                drop(wr);
                launcher_wait(&mut self, rd, middle)
            }
            Ok(Forked::Child(_)) => {
                // The read end stays open here too: a launcher killed
                // meanwhile must not take the daemon with it, and while we
                // hold a reader our few records never meet EPIPE or SIGPIPE.
                let status = Status(wr, rd);
                if let Err(e) = rustix::process::setsid() {
                    status.error(Error::os(Stage::Setsid, e));
                    sys::exit_now(ExitCode::Failed as u8);
                }
                let pid = match (self.daemon.fork)() {
                    Ok(Forked::Child(pid)) => pid,
                    Ok(Forked::Parent(_)) => sys::exit_now(0),
                    Err(e) => {
                        status.error(Error::os(Stage::Fork, e));
                        sys::exit_now(ExitCode::Failed as u8);
                    }
                };
                let mut r = Running::new(self.daemon, Some(status), pid);
                match self.setup(&mut r, keep) {
                    Ok(()) => Ok(r),
                    Err(e) => r.fail(e),
                }
            }
        }
    }

    /// The daemon's side, in order: pidfile, chdir, umask, stdio, signals,
    /// descriptors, the pid. Moves the pidfile into `r` first, so a failure
    /// removes it. /dev/null stays open (close-on-exec) until
    /// [`Running::ready`], so the descriptors kept are usually 3 and up in a
    /// row, closed above in one call.
    fn setup(&mut self, r: &mut Running<'a>, keep: &[BorrowedFd<'_>]) -> Result<(), Error> {
        let d = self.daemon;
        r.pidfile = self.pidfile.take();
        if let (None, Some(p)) = (&r.pidfile, d.pidfile) {
            r.pidfile = Some(Pidfile::acquire(p, true).map_err(refused)?);
        }
        {
            r.hand = self.channel.take().map(|c| c.hand);
        }
        if let Some(root) = self.root.take() {
            let e = |e| Error::os(Stage::Chroot, e);
            rustix::process::fchdir(&root).map_err(e)?;
            rustix::process::chroot(c".").map_err(e)?;
        }
        rustix::process::chdir(d.chdir).map_err(|e| Error::os(Stage::Chdir, e))?;
        if let Some(user) = d.user {
            user.become_it()?;
        }
        rustix::process::umask(Mode::from_bits_truncate(d.umask));
        let stdio = |e| Error::os(Stage::Stdio, e);
        if let Some(null) = &self.devnull {
            rustix::stdio::dup2_stdin(null).map_err(stdio)?;
            // In the foreground, stdout and stderr stay the supervisor's unless redirected.
            if let Some(f) = self.stdout.as_ref().or((!d.foreground).then_some(null)) {
                rustix::stdio::dup2_stdout(f).map_err(stdio)?;
            }
            if let Some(f) = self.stderr.as_ref().or((!d.foreground).then_some(null)) {
                rustix::stdio::dup2_stderr(f).map_err(stdio)?;
            }
        }
        drop((self.stdout.take(), self.stderr.take()));
        r.null = self.devnull.take();
        r.command_dir = self.command_dir.take();
        sys::reset_signals().map_err(|e| Error::os(Stage::Signals, e))?;
        let mut kept = [-1 as RawFd; fds::KEEP_MAX];
        let mut n = 0;
        let mut add = |fd: Option<BorrowedFd<'_>>| {
            if let Some(fd) = fd {
                if n < kept.len() {
                    kept[n] = fd.as_raw_fd();
                    n += 1;
                }
            }
        };
        if let Some(p) = &r.pidfile {
            add(Some(p.fd()));
            add(p.dir_fd());
        }
        add(r.null.as_ref().map(|f| f.as_fd()));
        if let Some(s) = &r.status {
            add(Some(s.0.as_fd()));
            add(Some(s.1.as_fd()));
        }
        add(r.hand.as_ref().and_then(|h| h.fd()));
        add(r.command_dir.as_ref().map(|f| f.as_fd()));
        for fd in keep {
            add(Some(*fd));
        }
        fds::close_all_but(&kept[..n]).map_err(|e| Error::os(Stage::CloseFds, e))?;
        if let Some(p) = &r.pidfile {
            p.write(r.pid as u32).map_err(|e| Error::os(Stage::WritePid, e))?;
        }
        Ok(())
    }
}


/// The daemon, set up and running: returned by [`Prepared::detach`] in the
/// daemon process only.
pub struct Running<'a> {
    daemon: &'a Daemon<'a>,
    pid: i32,
    pidfile: Option<Pidfile<'a>>,
    status: Option<Status>,
    /// /dev/null, until [`ready`](Self::ready) (close-on-exec).
    null: Option<OwnedFd>,
    /// The readiness protocol's descriptor or socket name.
    hand: Option<Handoff>,
    /// Where a relative COMMAND path is resolved (close-on-exec).
    command_dir: Option<OwnedFd>,
}

impl<'a> Running<'a> {
    fn new(daemon: &'a Daemon<'a>, status: Option<Status>, pid: i32) -> Self {
        Running {
            daemon,
            pid,
            pidfile: None,
            status,
            null: None,
            hand: None,
            command_dir: None,
        }
    }

    /// `NOTIFY_SOCKET=@name`, which COMMAND's environment needs with
    /// `--notify`.
    pub fn notify_var(&self) -> Option<&CStr> {
        self.hand.as_ref().and_then(|h| h.var())
    }

    /// The command's name, as given to [`Daemon::command`].
    pub fn command(&self) -> &'a CStr {
        self.daemon.command.unwrap_or(c"")
    }

    /// The directory a relative command path (`./tool`) is resolved in: the
    /// launcher's, held open; None for an absolute path, a bare name, or
    /// inside `-r`'s root.
    pub fn command_dir(&self) -> Option<BorrowedFd<'_>> {
        self.command_dir.as_ref().map(|f| f.as_fd())
    }

    /// Tell the launcher the daemon is started: it prints `Daemon PID N` and
    /// exits 0. Call it once the daemon can do its work. Closes the status
    /// pipe and the /dev/null descriptor kept until then.
    pub fn ready(&mut self) {
        if let Some(s) = self.status.take() {
            s.send(Tag::Ready, 0, self.pid);
        }
        self.null = None;
    }

    /// The pidfile this daemon holds.
    pub fn pidfile(&self) -> Option<&Pidfile<'a>> {
        self.pidfile.as_ref()
    }

    /// Remove the pidfile if it is still ours (for a clean exit).
    pub fn abandon(&self) {
        if let Some(p) = &self.pidfile {
            p.remove();
        }
    }

    /// `--respawn --forking`: the first COMMAND did not daemonize; `end`
    /// says how it ended (a wait status, [`ready::LEFT_NOTHING`] or
    /// [`ready::STILL_FOREGROUND`]). The pidfile is removed; the launcher
    /// (or, in the foreground, this process) says so and exits 3 (4 for
    /// the latter).
    pub fn not_daemonized(&self, end: i32) -> ! {
        self.abandon();
        match &self.status {
            Some(s) => s.send(Tag::Exited, 0, end),
            // In the foreground (`-f`), said here.
            None => launcher::not_daemonized(self.command(), end, self.daemon.wait_ms),
        }
        sys::exit_now(ready::not_daemonized_code(end))
    }

    /// Report a failure and end the daemon: the launcher prints `e` and exits
    /// with its code (in the foreground, it is printed here). The pidfile is
    /// removed first.
    pub fn fail(&self, e: Error) -> ! {
        self.abandon();
        match &self.status {
            Some(s) => s.error(e),
            None => e.print(self.daemon.path_of(e.stage)),
        }
        sys::exit_now(e.exit_code() as u8)
    }

    /// Execute the [`command`](Daemon::command) with `argv` and `envp`
    /// ([`execve(2)`]), searching `PATH` when it has no slash, a relative
    /// path in the launcher's directory ([`sys::exec_search`]). The pidfile descriptor is inheritable
    /// ([`Pidfile::acquire`]), so the lock lives exactly as long as the
    /// program. Returns only through [`fail`](Self::fail): exit code 127 when
    /// not found, 126 when not executable.
    ///
    /// [`execve(2)`]: https://man7.org/linux/man-pages/man2/execve.2.html
    pub fn exec(self, argv: CArgv, envp: CArgv) -> ! {
        if let Some(fd) = self.hand.as_ref().and_then(|h| h.fd()) {
            if let Err(e) = rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty()) {
                self.fail(Error::os(Stage::Ready, e))
            }
        }
        // The launcher learns of success from EOF on the close-on-exec pipe, and
        // of failure from the error that follows this Ready.
        if let Some(s) = &self.status {
            s.send(Tag::Ready, 0, self.pid);
        }
        let e = sys::exec_search(self.command(), self.command_dir(), argv, envp);
        self.fail(Error::os(Stage::Exec, e))
    }
}

impl<'a> Daemon<'a> {
    /// Print `e` as one line, with the path its stage worked on; its exit code.
    pub fn report(&self, e: Error) -> u8 {
        e.print(self.path_of(e.stage));
        e.exit_code() as u8
    }

    /// The path or command a stage worked on, for its error line.
    pub fn path_of(&self, stage: Stage) -> Option<&'a CStr> {
        match stage {
            Stage::Running | Stage::Pidfile | Stage::WritePid => self.pidfile,
            Stage::Stdout => self.stdout,
            Stage::Stderr => self.stderr,
            Stage::DevNull => Some(DEV_NULL),
            Stage::Chdir => Some(self.chdir),
            Stage::Exec => self.command,
            Stage::Chroot => self.chroot,
            _ => None,
        }
    }
}

