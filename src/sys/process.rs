//! Processes: fork (three ways), reap, exit, exec with a `PATH` search.

use super::{env::CArgv, last_errno, var};
use core::ffi::{c_int, CStr};
use rustix::fd::{AsRawFd, BorrowedFd};
use rustix::io::Errno;

extern "C" {
    /// musl's bare fork (POSIX 2024 `_Fork`): no atfork handlers, so none of
    /// the locking machinery behind them is linked in; musl's own thread state
    /// is still updated for the child.
    fn _Fork() -> libc::pid_t;
}

/// The result of [`fork`]: which side of it we are on.
pub enum Forked {
    /// In the parent, with the child's pid.
    Parent(i32),
    /// In the child, with its own pid.
    Child(i32),
}

/// Create a child process as [`fork(2)`] does, by the bare [`clone(2)`]
/// system call with `SIGCHLD` as its exit signal; `CLONE_CHILD_SETTID`
/// stores the child's pid in the child's copy of a local, so the child
/// knows it without a `getpid`. Not libc's `fork`: musl's blocks every
/// signal around the call and updates its thread state (four more system
/// calls a fork). That state is the thread id libc caches, which its
/// `raise`, `abort` and `pthread_*` functions read: in a child made here
/// it is still the parent's. So this is for children that call none of
/// them: one that execs at once, and a daemon whose code is known to call
/// none (see [`fork_libc`]).
///
/// [`fork(2)`]: https://man7.org/linux/man-pages/man2/fork.2.html
/// [`clone(2)`]: https://man7.org/linux/man-pages/man2/clone.2.html
pub fn fork() -> Result<Forked, Errno> {
    clone(libc::SIGCHLD)
}

/// Fork as libc's `fork` does (musl's `_Fork`: no atfork handlers), which
/// keeps libc's cached thread id right in the child: for a daemon that may
/// call `abort`, `raise` or `pthread_*`. Two system calls more than [`fork`].
pub fn fork_libc() -> Result<Forked, Errno> {
    // SAFETY: dfork is single-threaded until the daemon body runs, so the
    // child is a whole copy with no lock held by another thread; _Fork
    // updates musl's cached thread id for the child, as fork does.
    match unsafe { _Fork() } {
        -1 => Err(last_errno()),
        0 => Ok(Forked::Child(rustix::process::getpid().as_raw_nonzero().get())),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// [`fork`], but this child's end sends its parent no signal (a blocking
/// call of the parent is not interrupted, under a tracer either); reap it
/// with [`reap`]. Should the parent die first, the kernel gives the orphan
/// SIGCHLD back for its new parent.
pub fn fork_quiet() -> Result<Forked, Errno> {
    // qemu-user refuses any exit signal but SIGCHLD (EINVAL): there, a fork.
    match clone(0) {
        Err(Errno::INVAL) => fork(),
        r => r,
    }
}

fn clone(exit_signal: c_int) -> Result<Forked, Errno> {
    let mut me = 0i32;
    let at = &mut me as *mut i32;
    // SAFETY: with no new stack and no CLONE_VM, clone makes a copy of this
    // process, as fork does. The child-tid pointer is passed both fourth and
    // fifth, so it lands where each architecture's argument order wants it
    // (x86_64: parent_tid, child_tid, tls; i386, arm, aarch64, mips:
    // parent_tid, tls, child_tid); without CLONE_SETTLS the other one is
    // ignored. It points to a live local of this frame.
    let r = unsafe { libc::syscall(libc::SYS_clone, (libc::CLONE_CHILD_SETTID | exit_signal) as libc::c_long, 0usize, 0usize, at, at) };
    match r {
        -1 => Err(last_errno()),
        // SAFETY: the kernel wrote the child's pid through `at` before the child ran.
        0 => Ok(Forked::Child(unsafe { core::ptr::read_volatile(at) })),
        pid => Ok(Forked::Parent(pid as i32)),
    }
}

/// Wait for the child `pid` to end ([`wait4(2)`] with `__WALL`, so a
/// [`fork_quiet`] child too), retrying on EINTR; its status is not wanted.
///
/// [`wait4(2)`]: https://man7.org/linux/man-pages/man2/wait4.2.html
pub fn reap(pid: i32) {
    // SAFETY: no status or usage is asked for (null pointers).
    while unsafe { libc::syscall(libc::SYS_wait4, pid, 0usize, libc::__WALL, 0usize) } == -1 && last_errno() == Errno::INTR {}
}

/// Make this process a child subreaper ([`PR_SET_CHILD_SUBREAPER`]): an
/// orphaned descendant becomes its child, not init's, so it can reap it and
/// learn how it ended.
///
/// [`PR_SET_CHILD_SUBREAPER`]: https://man7.org/linux/man-pages/man2/PR_SET_CHILD_SUBREAPER.2const.html
pub fn set_subreaper() -> Result<(), Errno> {
    // The kernel reads the argument as a flag: any pid means "on".
    rustix::process::set_child_subreaper(Some(rustix::process::Pid::INIT))
}

/// End this process at once with [`_exit(2)`]: no atexit handlers, no flushing.
///
/// [`_exit(2)`]: https://man7.org/linux/man-pages/man2/_exit.2.html
pub fn exit_now(code: u8) -> ! {
    // SAFETY: _exit is async-signal-safe and always sound to call.
    unsafe { libc::_exit(code as c_int) }
}

/// End the process with SIGABRT, as [`abort(3)`] does, and if SIGABRT is
/// blocked or ignored, with exit code 125; used by the panic handler.
///
/// [`abort(3)`]: https://man7.org/linux/man-pages/man3/abort.3.html
pub fn abort() -> ! {
    super::set_default(libc::SIGABRT);
    super::set_mask(libc::SIG_UNBLOCK, &[libc::SIGABRT]).ok();
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::ABORT).ok();
    exit_now(125)
}

/// Execute `file` as [`execvp(3)`] does, with an explicit environment: by
/// [`execve(2)`] when it contains a slash (a relative one resolved in `dir`
/// when given, with [`execveat(2)`]), else in each directory of dfork's
/// own `PATH` (musl's default `/usr/local/bin:/bin:/usr/bin` when unset; an
/// empty entry is the current directory). As musl's `execvpe`: a directory
/// that has no such file (ENOENT, ENOTDIR) or forbids it (EACCES) is passed
/// over; any other error ends the search. Returns only on failure: ENOENT
/// when nothing was found, EACCES when something was found but could not be
/// executed. The candidate path is built in a stack buffer, not the heap.
///
/// [`execvp(3)`]: https://man7.org/linux/man-pages/man3/execvp.3.html
/// [`execve(2)`]: https://man7.org/linux/man-pages/man2/execve.2.html
/// [`execveat(2)`]: https://man7.org/linux/man-pages/man2/execveat.2.html
pub fn exec_search(file: &CStr, dir: Option<BorrowedFd<'_>>, argv: CArgv, envp: CArgv) -> Errno {
    let name = file.to_bytes_with_nul();
    if name.len() == 1 {
        return Errno::NOENT;
    }
    if name.iter().any(|&c| c == b'/') {
        return match dir {
            Some(d) if name[0] != b'/' => execveat(d, name, argv, envp),
            _ => execve(name, argv, envp),
        };
    }
    let path = var(b"PATH").map_or(&b"/usr/local/bin:/bin:/usr/bin"[..], |p| p.to_bytes());
    let mut buf = [0u8; 4096 + 256];
    let mut denied = false;
    for dir in path.split(|&c| c == b':') {
        let n = dir.len() + !dir.is_empty() as usize;
        let Some(full) = buf.get_mut(..n + name.len()) else { continue };
        full[..dir.len()].copy_from_slice(dir);
        if !dir.is_empty() {
            full[dir.len()] = b'/';
        }
        full[n..].copy_from_slice(name);
        match execve(full, argv, envp) {
            Errno::ACCESS => denied = true,
            Errno::NOENT | Errno::NOTDIR => {}
            e => return e,
        }
    }
    if denied {
        Errno::ACCESS
    } else {
        Errno::NOENT
    }
}

/// Execute `path` (NUL-terminated, relative) as found in `dir`; returns only
/// on failure. By its absolute name, `dir`'s name (from `/proc/self/fd`)
/// and `path`: a script's interpreter is handed that name, and can open
/// it. Without `/proc`, [`execveat(2)`] in `dir`, which runs programs but
/// not scripts (their interpreter would need the close-on-exec `dir`:
/// ENOENT); on kernels before 3.19, which lack it, `path` in the current
/// directory.
///
/// [`execveat(2)`]: https://man7.org/linux/man-pages/man2/execveat.2.html
fn execveat(dir: BorrowedFd<'_>, path: &[u8], argv: CArgv, envp: CArgv) -> Errno {
    let mut link = *b"/proc/self/fd/\0\0\0\0\0\0\0\0\0\0\0";
    let mut d = [0u8; 20];
    let digits = crate::text::itoa(dir.as_raw_fd() as u64, &mut d);
    link[14..14 + digits.len()].copy_from_slice(digits);
    let mut buf = [0u8; 4096 + 256];
    // SAFETY: `link` is NUL-terminated (the digits of an int leave a NUL
    // after them); the kernel writes at most 4096 bytes into `buf`.
    let n = unsafe { libc::syscall(libc::SYS_readlinkat, libc::AT_FDCWD, link.as_ptr(), buf.as_mut_ptr(), 4096usize) };
    if n > 0 && (n as usize) < 4096 {
        let n = n as usize;
        buf[n] = b'/';
        if let Some(rest) = buf.get_mut(n + 1..n + 1 + path.len()) {
            rest.copy_from_slice(path);
            return execve(&buf[..n + 1 + path.len()], argv, envp);
        }
    }
    // SAFETY: as for execve below; `dir` is an open descriptor.
    unsafe { libc::syscall(libc::SYS_execveat, dir.as_raw_fd(), path.as_ptr(), argv.as_ptr(), envp.as_ptr(), 0) };
    match last_errno() {
        Errno::NOSYS => execve(path, argv, envp),
        e => e,
    }
}

/// [`execve(2)`] of `path` (NUL-terminated); returns only on failure.
///
/// [`execve(2)`]: https://man7.org/linux/man-pages/man2/execve.2.html
fn execve(path: &[u8], argv: CArgv, envp: CArgv) -> Errno {
    // SAFETY: path ends with a NUL (built or borrowed so by exec_search);
    // argv and envp are NULL-terminated arrays of C strings (CArgv's
    // invariant). execve returns only on failure.
    unsafe { libc::execve(path.as_ptr().cast(), argv.as_ptr(), envp.as_ptr()) };
    last_errno()
}
