//! The only module that calls `libc`: what rustix does not expose publicly.
//!
//! rustix keeps fork, exec and signal dispositions in a hidden module whose name
//! changes on purpose, so they come from musl here. Every function is a thin,
//! documented wrapper; every `unsafe` block states why it is sound.

use core::ffi::{c_char, c_int, CStr};
use rustix::io::Errno;

/// A NULL-terminated array of C string pointers, as `execve(2)` takes it.
/// Only this module makes one, from arrays known to be valid for the whole
/// run (the process's argv and environ, or an [`EnvTable`] of pointers into
/// them), which is what makes the safe functions taking it sound.
#[derive(Clone, Copy)]
pub struct CArgv(*const *const c_char);

extern "C" {
    /// musl's process environment (`environ(7)`).
    static mut environ: *const *const c_char;
    /// musl's bare fork (POSIX 2024 `_Fork`): no atfork handlers, so none of
    /// the locking machinery behind them is linked in; musl's own thread state
    /// is still updated for the child.
    fn _Fork() -> libc::pid_t;
}

fn last_errno() -> Errno {
    // SAFETY: __errno_location returns a valid pointer to this thread's errno.
    Errno::from_raw_os_error(unsafe { *libc::__errno_location() })
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
/// none (see [`fork_daemon`]).
///
/// [`fork(2)`]: https://man7.org/linux/man-pages/man2/fork.2.html
/// [`clone(2)`]: https://man7.org/linux/man-pages/man2/clone.2.html
pub fn fork() -> Result<Forked, Errno> {
    clone(libc::SIGCHLD)
}

/// Fork the daemon: libc's fork (musl's `_Fork`: no atfork handlers), which
/// keeps libc's cached thread id right for a daemon that calls `abort`,
/// `raise` or `pthread_*`; or, when `bare`, the bare [`fork`] (the dfork
/// binary's daemon calls nothing that reads that id: two system calls fewer).
pub fn fork_daemon(bare: bool) -> Result<Forked, Errno> {
    if bare {
        return fork();
    }
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
    set_default(libc::SIGABRT);
    set_mask(libc::SIG_UNBLOCK, &[libc::SIGABRT]).ok();
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::ABORT).ok();
    exit_now(125)
}

/// Execute `file` as [`execvp(3)`] does, with an explicit environment: by
/// [`execve(2)`] when it contains a slash, else in each directory of dfork's
/// own `PATH` (musl's default `/usr/local/bin:/bin:/usr/bin` when unset; an
/// empty entry is the current directory). As musl's `execvpe`: a directory
/// that has no such file (ENOENT, ENOTDIR) or forbids it (EACCES) is passed
/// over; any other error ends the search. Returns only on failure: ENOENT
/// when nothing was found, EACCES when something was found but could not be
/// executed. The candidate path is built in a stack buffer, not the heap.
///
/// [`execvp(3)`]: https://man7.org/linux/man-pages/man3/execvp.3.html
/// [`execve(2)`]: https://man7.org/linux/man-pages/man2/execve.2.html
pub fn exec_search(file: &CStr, argv: CArgv, envp: CArgv) -> Errno {
    let name = file.to_bytes_with_nul();
    if name.len() == 1 {
        return Errno::NOENT;
    }
    if name.iter().any(|&c| c == b'/') {
        return execve(name, argv, envp);
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

/// [`execve(2)`] of `path` (NUL-terminated); returns only on failure.
///
/// [`execve(2)`]: https://man7.org/linux/man-pages/man2/execve.2.html
fn execve(path: &[u8], argv: CArgv, envp: CArgv) -> Errno {
    // SAFETY: path ends with a NUL (built or borrowed so by exec_search);
    // argv and envp are NULL-terminated arrays of C strings (CArgv's
    // invariant). execve returns only on failure.
    unsafe { libc::execve(path.as_ptr().cast(), argv.0, envp.0) };
    last_errno()
}

/// The process environment as inherited ([`environ(7)`]).
///
/// [`environ(7)`]: https://man7.org/linux/man-pages/man7/environ.7.html
pub fn env() -> CArgv {
    // SAFETY: reading the pointer value; nothing in dfork writes environ.
    CArgv(unsafe { environ })
}

/// The value of the environment variable `name` ([`environ(7)`]), found by
/// walking `environ` as [`getenv(3)`] does.
///
/// [`environ(7)`]: https://man7.org/linux/man-pages/man7/environ.7.html
/// [`getenv(3)`]: https://man7.org/linux/man-pages/man3/getenv.3.html
pub fn var(name: &[u8]) -> Option<&'static CStr> {
    let mut found = None;
    each_cstr(env(), |kv| {
        let b = kv.to_bytes();
        if b.len() > name.len() && b[name.len()] == b'=' && b.starts_with(name) {
            found = Some(cstr_tail(kv, name.len() + 1));
        }
        found.is_none()
    });
    found
}

/// Set the disposition of every ignored signal to SIG_DFL and unblock them
/// all, with [`rt_sigaction(2)`] and [`sigprocmask(2)`], so a launcher started
/// with signals ignored or blocked does not pass that on to the daemon. SIG_IGN
/// is the only disposition that survives `exec`, and the blocked and ignored
/// sets are read from [`proc_pid_status(5)`], so a usual start makes no call
/// at all here; without `/proc` (or its lines unreadable) every signal is
/// reset and unblocked, one call each. The raw system call also reaches the
/// signals musl reserves for itself (32-34), which its `sigaction` refuses
/// to touch but a parent may still have ignored.
///
/// The status file is left open, close-on-exec, for the caller's
/// [`close_all_but`](crate::fds::close_all_but) to close.
///
/// [`rt_sigaction(2)`]: https://man7.org/linux/man-pages/man2/rt_sigaction.2.html
/// [`sigprocmask(2)`]: https://man7.org/linux/man-pages/man2/sigprocmask.2.html
/// [`proc_pid_status(5)`]: https://man7.org/linux/man-pages/man5/proc_pid_status.5.html
pub fn reset_signals() -> Result<(), Errno> {
    let mut buf = [0u8; 4096];
    let flags = rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC;
    let n = match rustix::fs::open(c"/proc/self/status", flags, rustix::fs::Mode::empty()) {
        Ok(fd) => {
            let n = rustix::io::read(&fd, &mut buf).unwrap_or(0);
            core::mem::forget(fd); // closed with the rest, by close_all_but
            n
        }
        Err(_) => 0,
    };
    let (blocked, ignored) = (sig_line(&buf[..n], b"SigBlk:\t"), sig_line(&buf[..n], b"SigIgn:\t"));
    for sig in 1..=libc::SIGRTMAX() {
        // Signals past the set's 64 (mips has 127) count as ignored.
        let was_ignored = sig > 64 || ignored >> (sig - 1) & 1 != 0;
        if was_ignored && sig != libc::SIGKILL && sig != libc::SIGSTOP {
            set_default(sig);
        }
    }
    match blocked {
        0 => Ok(()),
        _ => set_mask(libc::SIG_SETMASK, &[]),
    }
}

/// The signal set on a `/proc/PID/status` line (`SigBlk:\t` and 16 hex
/// digits); every signal when the line is missing or not as expected (mips'
/// 128-signal sets are 32 digits: those mean every signal too).
fn sig_line(status: &[u8], key: &[u8]) -> u64 {
    let at = status.windows(key.len()).position(|w| w == key).map_or(usize::MAX, |i| i + key.len());
    let mut set = 0u64;
    match status.get(at..at.saturating_add(17)) {
        Some([hex @ .., b'\n']) => {
            for &c in hex {
                match (c as char).to_digit(16) {
                    Some(d) => set = set << 4 | d as u64,
                    None => return !0,
                }
            }
            set
        }
        _ => !0,
    }
}

/// Set one signal's disposition to SIG_DFL ([`rt_sigaction(2)`]).
///
/// [`rt_sigaction(2)`]: https://man7.org/linux/man-pages/man2/rt_sigaction.2.html
pub fn set_default(sig: c_int) {
    set_plain(sig, libc::SIG_DFL);
}

/// Set one signal's disposition to SIG_IGN ([`rt_sigaction(2)`]).
///
/// [`rt_sigaction(2)`]: https://man7.org/linux/man-pages/man2/rt_sigaction.2.html
pub fn set_ignore(sig: c_int) {
    set_plain(sig, libc::SIG_IGN);
}

/// SIG_DFL or SIG_IGN through the raw system call.
fn set_plain(sig: c_int, handler: libc::sighandler_t) {
    set_action(sig, handler, 0, 0);
}

/// One [`rt_sigaction(2)`] call. The kernel's struct is, in words, `handler,
/// flags, restorer, mask` everywhere but mips, which puts the flags first and
/// has no restorer; zero flags and an empty mask mean the same in every
/// layout, and 64 bytes cover the largest.
///
/// [`rt_sigaction(2)`]: https://man7.org/linux/man-pages/man2/rt_sigaction.2.html
fn set_action(sig: c_int, handler: usize, flags: usize, restorer: usize) {
    let mut act = [0usize; 8];
    if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        act[1] = handler;
    } else {
        act = [handler, flags, restorer, 0, 0, 0, 0, 0];
    }
    // SAFETY: the new action points to valid memory at least as large as the
    // kernel's struct; no old action is asked for.
    unsafe { libc::syscall(libc::SYS_rt_sigaction, sig, act.as_ptr(), core::ptr::null_mut::<u8>(), setsize()) };
}

/// Install `handler` for `sig` with [`rt_sigaction(2)`], an empty mask and no
/// SA_RESTART, so a blocking call is interrupted (EINTR) and the caller looks
/// at the flags the handler set. On x86 the kernel needs a signal-return
/// trampoline (SA_RESTORER, below); other architectures' kernels supply
/// their own (vDSO or signal page).
///
/// [`rt_sigaction(2)`]: https://man7.org/linux/man-pages/man2/rt_sigaction.2.html
pub fn set_catch(sig: c_int, handler: extern "C" fn(c_int)) {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    set_action(sig, handler as usize, SA_RESTORER, dfork_restore_rt as unsafe extern "C" fn() as usize);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
    set_action(sig, handler as usize, 0, 0);
}

#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
const SA_RESTORER: usize = 0x0400_0000;

// The x86 signal-return trampoline: the handler returns into it and it asks
// the kernel to restore the interrupted context ([`rt_sigreturn(2)`]: 15 on
// x86_64, 173 on i386), as musl's `__restore_rt` does.
//
// [`rt_sigreturn(2)`]: https://man7.org/linux/man-pages/man2/sigreturn.2.html
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(".globl dfork_restore_rt", "dfork_restore_rt:", "mov eax, 15", "syscall");
#[cfg(target_arch = "x86")]
core::arch::global_asm!(".globl dfork_restore_rt", "dfork_restore_rt:", "mov eax, 173", "int 0x80");
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
extern "C" {
    fn dfork_restore_rt();
}

/// Change the blocked-signal mask with [`rt_sigprocmask(2)`]: `how` is
/// SIG_BLOCK, SIG_UNBLOCK or SIG_SETMASK, applied to the set of `sigs`. The
/// raw call, as for `set_action`: a set is a bit mask of the kernel's size
/// (64 signals, 128 on mips).
///
/// [`rt_sigprocmask(2)`]: https://man7.org/linux/man-pages/man2/sigprocmask.2.html
pub fn set_mask(how: c_int, sigs: &[c_int]) -> Result<(), Errno> {
    let set = sigset(sigs);
    // SAFETY: the set is valid memory of at least `setsize()` bytes, only read;
    // no old set is asked for.
    check(unsafe { libc::syscall(libc::SYS_rt_sigprocmask, how, set.as_ptr(), core::ptr::null_mut::<u8>(), setsize()) })
}

/// The kernel's signal set of `sigs`: a bit mask of the kernel's size (64
/// signals, 128 on mips).
#[inline(always)]
fn sigset(sigs: &[c_int]) -> [u64; 2] {
    let mut set = [0u64; 2];
    for &s in sigs {
        let b = (s - 1) as usize;
        set[b / 64 & 1] |= 1 << (b % 64);
    }
    set
}

/// The size in bytes of the kernel's signal set.
#[inline(always)]
fn setsize() -> usize {
    (libc::SIGRTMAX() as usize + 1) / 8
}

/// A raw system call's result: 0 is success, else the errno it set.
#[inline(always)]
fn check(r: libc::c_long) -> Result<(), Errno> {
    match r {
        0 => Ok(()),
        _ => Err(last_errno()),
    }
}

/// A close-on-exec descriptor that reads the pending `sigs` ([`signalfd(2)`],
/// the raw `signalfd4` call with the kernel's set size). The caller blocks
/// them first; each read gives one 128-byte `signalfd_siginfo`, the signal
/// number in its first four bytes.
///
/// [`signalfd(2)`]: https://man7.org/linux/man-pages/man2/signalfd.2.html
pub fn signalfd(sigs: &[c_int]) -> Result<rustix::fd::OwnedFd, Errno> {
    let set = sigset(sigs);
    // SAFETY: the set is valid memory of `setsize()` bytes, only read; the
    // descriptor returned is new and owned by nobody else.
    let fd = unsafe { libc::syscall(libc::SYS_signalfd4, -1, set.as_ptr(), setsize(), libc::SFD_CLOEXEC) };
    if fd < 0 {
        return Err(last_errno());
    }
    // SAFETY: a fresh descriptor the kernel just returned to us.
    Ok(unsafe { <rustix::fd::OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(fd as c_int) })
}

/// Close every descriptor from `first` to `last` with [`close_range(2)`]
/// (Linux 5.9; older kernels answer ENOSYS and the caller falls back).
///
/// [`close_range(2)`]: https://man7.org/linux/man-pages/man2/close_range.2.html
pub fn close_range(first: u32, last: u32) -> Result<(), Errno> {
    // SAFETY: closing descriptors is memory-safe; the caller keeps what it owns
    // outside the range and forgets nothing it still uses.
    check(unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) })
}

/// Close one raw descriptor, ignoring the result ([`close(2)`]). The raw
/// call: musl's `close` is a thread-cancellation point, machinery dfork (one
/// thread) does not need.
///
/// [`close(2)`]: https://man7.org/linux/man-pages/man2/close.2.html
pub fn close(fd: c_int) {
    // SAFETY: used only on descriptors the caller does not own through an OwnedFd.
    unsafe { libc::syscall(libc::SYS_close, fd) };
}

/// The program's arguments as the C runtime hands them to `main`: `argc`
/// pointers to NUL-terminated byte strings, followed by a NULL pointer.
/// Arguments are bytes, not UTF-8.
#[derive(Clone, Copy)]
pub struct Argv<'a> {
    /// The `argc` pointers; the NULL after them is part of the same array.
    base: &'a [*const c_char],
}

/// What an absent argv stands for: no arguments, just the terminating NULL.
struct NullArgv([*const c_char; 1]);
// SAFETY: the array holds only a NULL pointer and is never written.
unsafe impl Sync for NullArgv {}
static NULL_ARGV: NullArgv = NullArgv([core::ptr::null()]);

impl<'a> Argv<'a> {
    /// Wrap the `argc`/`argv` pair of `main`.
    ///
    /// # Safety
    /// `argv` must point to `argc` valid C strings followed by a NULL pointer, all
    /// living and unchanged for `'a` (true of `main`'s arguments for the whole run).
    pub unsafe fn from_raw(argc: c_int, argv: *const *const c_char) -> Self {
        if argv.is_null() || argc <= 0 {
            return Argv { base: &NULL_ARGV.0[..0] };
        }
        // SAFETY: guaranteed by the caller: argc valid pointers (the final NULL
        // follows them in the same array).
        Argv { base: unsafe { core::slice::from_raw_parts(argv, argc as usize) } }
    }

    /// How many arguments there are.
    pub fn len(&self) -> usize {
        self.base.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Argument `i`; panics (aborts) if `i >= len()`, like slice indexing.
    #[inline(always)] // measured: the binary is smaller with it inlined
    pub fn get(&self, i: usize) -> &'a CStr {
        // SAFETY: from_raw's contract: every pointer below argc is a valid C string
        // that lives for 'a.
        unsafe { CStr::from_ptr(self.base[i]) }
    }

    /// The NULL-terminated array from argument `i` (at most `len()`) on, for
    /// `execve(2)`.
    pub fn raw_from(&self, i: usize) -> CArgv {
        // In bounds: the array has len() + 1 entries, the last one NULL.
        CArgv(self.base.as_ptr().wrapping_add(i.min(self.len())))
    }
}

/// Call `f` on each string of a NULL-terminated array (`environ`, argv) until
/// it returns false.
pub fn each_cstr(arr: CArgv, mut f: impl FnMut(&'static CStr) -> bool) {
    let arr = arr.0;
    if arr.is_null() {
        return;
    }
    let mut i = 0;
    loop {
        // SAFETY: arr is a NULL-terminated array of C strings that live for the
        // whole program (the kernel-provided environ and argv, never freed).
        let p = unsafe { *arr.add(i) };
        if p.is_null() {
            return;
        }
        // SAFETY: as above: p is a valid, immutable C string.
        if !f(unsafe { CStr::from_ptr(p) }) {
            return;
        }
        i += 1;
    }
}

/// An environment for `execve(2)` built on the stack: the inherited one with
/// `NAME=VALUE` entries set on top. Holds at most [`ENV_MAX`] variables.
pub struct EnvTable<'a> {
    ptrs: [*const c_char; ENV_MAX + 1],
    len: usize,
    /// The strings the pointers point to live at least this long.
    strings: core::marker::PhantomData<&'a CStr>,
}

impl Default for EnvTable<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// The most environment variables a daemon started with `-E` can get.
pub const ENV_MAX: usize = 1024;

impl<'a> EnvTable<'a> {
    /// An empty table.
    pub fn new() -> Self {
        EnvTable { ptrs: [core::ptr::null(); ENV_MAX + 1], len: 0, strings: core::marker::PhantomData }
    }

    /// Add the array `base` (environ); false if the table cannot hold it
    /// all ([`ENV_MAX`] entries). Filled in place: the table is 8 KiB, and
    /// returning one by value would copy it twice.
    pub fn inherit(&mut self, base: CArgv) -> bool {
        let mut ok = true;
        each_cstr(base, |kv| {
            ok = self.push(kv);
            ok
        });
        ok
    }

    fn push(&mut self, kv: &'a CStr) -> bool {
        if self.len == ENV_MAX {
            return false;
        }
        self.ptrs[self.len] = kv.as_ptr();
        self.len += 1;
        true
    }

    /// Set `kv` (`NAME=VALUE`), replacing an entry of the same NAME; false if full.
    pub fn set(&mut self, kv: &'a CStr) -> bool {
        let b = kv.to_bytes();
        let Some(eq) = b.iter().position(|&c| c == b'=') else { return self.push(kv) };
        let name = &b[..=eq];
        for p in &mut self.ptrs[..self.len] {
            // SAFETY: every pointer below len came from a &'a CStr, alive as long as self.
            if unsafe { CStr::from_ptr(*p) }.to_bytes().starts_with(name) {
                *p = kv.as_ptr();
                return true;
            }
        }
        self.push(kv)
    }

    /// The NULL-terminated array.
    pub fn as_ptr(&self) -> CArgv {
        CArgv(self.ptrs.as_ptr())
    }
}

/// How many entries a NULL-terminated array has.
pub fn count(arr: CArgv) -> usize {
    let mut n = 0;
    each_cstr(arr, |_| {
        n += 1;
        true
    });
    n
}

/// Standard output, fd 1.
pub fn stdout() -> rustix::fd::BorrowedFd<'static> {
    // SAFETY: fd 1 is only ever written to through this handle. If the launcher
    // was started with fd 1 closed, a write answers EBADF until
    // `fds::open_null` fills the hole with /dev/null, which happens before dfork
    // opens any other file, so fd 1 never names a file opened for another use.
    unsafe { rustix::stdio::stdout() }
}

/// Standard error, fd 2 (see [`stdout`] for why this is sound).
pub fn stderr() -> rustix::fd::BorrowedFd<'static> {
    // SAFETY: as for stdout: write-only use, holes filled before any other open.
    unsafe { rustix::stdio::stderr() }
}

/// `b`, which ends with its only NUL, as a C string (a table dfork built
/// itself: `KEY=VALUE\0`, a directory name and its NUL). Anything else
/// aborts: a cheaper check than [`CStr::from_bytes_with_nul`]'s.
pub fn cstr_of(b: &[u8]) -> &CStr {
    if b.last() != Some(&0) || b[..b.len() - 1].iter().any(|&c| c == 0) {
        abort();
    }
    // SAFETY: checked just above: one NUL, at the end.
    unsafe { CStr::from_bytes_with_nul_unchecked(b) }
}

/// The suffix of `s` from byte `from` on, still a C string.
pub fn cstr_tail(s: &CStr, from: usize) -> &CStr {
    let b = s.to_bytes_with_nul();
    // SAFETY: a suffix of a NUL-terminated string with no interior NUL, that
    // still contains the final NUL (from is clamped), is itself such a string.
    unsafe { CStr::from_bytes_with_nul_unchecked(&b[from.min(b.len() - 1)..]) }
}

/// Call `f` with the contents of the regular file `fd` (at most `max` bytes,
/// else None), mapped read-only with [`mmap(2)`] and unmapped when `f`
/// returns: no buffer, and no memory kept after.
///
/// [`mmap(2)`]: https://man7.org/linux/man-pages/man2/mmap.2.html
#[inline(always)] // measured: the binary is smaller with it inlined
pub fn with_mapped<R>(fd: rustix::fd::BorrowedFd<'_>, max: u64, f: &mut dyn FnMut(&[u8]) -> R) -> Option<R> {
    use rustix::mm::{mmap, munmap, MapFlags, ProtFlags};
    // The size from lseek: mmap itself refuses what is not a file (ENODEV).
    let len = rustix::fs::seek(fd, rustix::fs::SeekFrom::End(0)).ok()?;
    if len == 0 || len > max {
        return None;
    }
    let len = len as usize;
    // SAFETY: a fresh private read-only mapping of `len` bytes of a file, at an
    // address the kernel picks; the slice lives only inside `f`, and the
    // mapping is removed after it. A file truncated meanwhile would raise
    // SIGBUS, as it does for musl's own zoneinfo mapping.
    unsafe {
        let p = mmap(core::ptr::null_mut(), len, ProtFlags::READ, MapFlags::PRIVATE, fd, 0).ok()?;
        let r = f(core::slice::from_raw_parts(p as *const u8, len));
        let _ = munmap(p, len);
        Some(r)
    }
}

/// Give back the stack pages below the caller's frame ([`madvise(2)`]
/// `MADV_DONTNEED`): pages the launcher's deeper calls touched before the
/// daemon was forked, which a long-lived daemon would otherwise keep
/// resident. Called by the supervisor once, before its loop. Assumes 4 KiB
/// pages; on a kernel with larger ones the call is refused and changes
/// nothing.
///
/// [`madvise(2)`]: https://man7.org/linux/man-pages/man2/madvise.2.html
#[inline(never)]
pub fn trim_stack() {
    const PAGE: usize = 4096;
    let here = 0u8;
    let at = core::hint::black_box(&here) as *const u8 as usize;
    // From the page boundary at least 1 KiB below this local, down 64 KiB:
    // below anything live (this frame and the madvise call use a few
    // hundred bytes), and inside the stack mapping, which Linux makes at
    // least 128 KiB and keeps 128 MiB from any other mapping.
    let end = (at - 1024) & !(PAGE - 1);
    let start = end - 16 * PAGE;
    // SAFETY: [start, end) is below every live stack frame (see above):
    // nothing refers to it, and the next touch gets a zeroed page. A part
    // that is not mapped makes the call fail (ENOMEM) and is not touched.
    let _ = unsafe { rustix::mm::madvise(start as *mut core::ffi::c_void, end - start, rustix::mm::Advice::LinuxDontNeed) };
}

/// Which clock [`now`] reads.
#[derive(Clone, Copy)]
pub enum Clock {
    /// CLOCK_REALTIME: the wall clock.
    Wall,
    /// CLOCK_MONOTONIC: never jumps.
    Monotonic,
}

/// Read a clock with the [`clock_gettime(2)`] system call itself. Not
/// through the vDSO: rustix's parser of it costs 2.5 KB, musl's 0.7 KB (and
/// a vDSO page in the resident set), for a call dfork makes twice a
/// heartbeat tick or once a restart. On 32-bit architectures the 64-bit-time call
/// (Linux 5.1), with the old one for older kernels.
///
/// [`clock_gettime(2)`]: https://man7.org/linux/man-pages/man2/clock_gettime.2.html
pub fn now(clock: Clock) -> rustix::time::Timespec {
    let id = match clock {
        Clock::Wall => libc::CLOCK_REALTIME,
        Clock::Monotonic => libc::CLOCK_MONOTONIC,
    };
    let mut ts = [0i64; 2];
    // SAFETY: ts is a writable `struct __kernel_timespec` (two 64-bit
    // fields), which this call fills on every architecture.
    #[cfg_attr(target_pointer_width = "64", allow(unused_variables))]
    let r = unsafe { libc::syscall(SYS_CLOCK_GETTIME, id, ts.as_mut_ptr()) };
    #[cfg(target_pointer_width = "32")]
    if r == -1 {
        let mut old = [0i32; 2];
        // SAFETY: old is a writable 32-bit `struct timespec`, as this older call fills.
        unsafe { libc::syscall(libc::SYS_clock_gettime, id, old.as_mut_ptr()) };
        ts = [old[0] as i64, old[1] as i64];
    }
    rustix::time::Timespec { tv_sec: ts[0], tv_nsec: ts[1] as _ }
}

/// clock_gettime with 64-bit time: the only one on 64-bit architectures,
/// `clock_gettime64` on 32-bit ones (403; 4403 on mips o32).
#[cfg(target_pointer_width = "64")]
const SYS_CLOCK_GETTIME: libc::c_long = libc::SYS_clock_gettime;
#[cfg(all(target_pointer_width = "32", not(target_arch = "mips")))]
const SYS_CLOCK_GETTIME: libc::c_long = 403;
#[cfg(all(target_pointer_width = "32", target_arch = "mips"))]
const SYS_CLOCK_GETTIME: libc::c_long = 4403;

/// `ms` milliseconds as a timespec: a timeout for [`poll(2)`], a pause for
/// [`nanosleep(2)`].
///
/// [`poll(2)`]: https://man7.org/linux/man-pages/man2/poll.2.html
/// [`nanosleep(2)`]: https://man7.org/linux/man-pages/man2/nanosleep.2.html
pub fn timespec_ms(ms: u64) -> rustix::time::Timespec {
    rustix::time::Timespec { tv_sec: (ms / 1000) as _, tv_nsec: (ms % 1000 * 1_000_000) as _ }
}

/// Pause for `ms` milliseconds ([`nanosleep(2)`]); a signal ends it early.
///
/// [`nanosleep(2)`]: https://man7.org/linux/man-pages/man2/nanosleep.2.html
#[inline(never)] // measured: the binary is smaller with it out of line
pub fn sleep_ms(ms: u64) {
    let _ = rustix::thread::nanosleep(&timespec_ms(ms));
}

/// Milliseconds from `a` to `b` (0 if `b` is earlier). Both are monotonic
/// readings of one run, so the seconds' difference is small even when the
/// clock itself is huge (a time namespace may add 2^40 s): i64 suffices.
pub fn span_ms(a: &rustix::time::Timespec, b: &rustix::time::Timespec) -> u64 {
    let ms = b.tv_sec.wrapping_sub(a.tv_sec).saturating_mul(1000) + (b.tv_nsec as i64 - a.tv_nsec as i64) / 1_000_000;
    ms.max(0) as u64
}

/// A signal number (1 to 64, checked by [`crate::args::parse_signal`]) as
/// rustix's type, for [`kill(2)`] and [`pidfd_send_signal(2)`].
///
/// [`kill(2)`]: https://man7.org/linux/man-pages/man2/kill.2.html
/// [`pidfd_send_signal(2)`]: https://man7.org/linux/man-pages/man2/pidfd_send_signal.2.html
pub fn signal(sig: c_int) -> rustix::process::Signal {
    let sig = sig.clamp(1, 64);
    // SAFETY: a number from 1 to 64 is a signal the kernel knows; sending one
    // (even one musl reserves for itself, 32-34) to another process is
    // memory-safe: nothing in this process depends on it.
    unsafe { rustix::process::Signal::from_raw_unchecked(sig) }
}
