//! Signals: dispositions and the mask through the raw calls (so the
//! signals musl reserves are reachable too), a signalfd, and the reset the
//! daemon needs.

use super::{check, last_errno};
use core::ffi::{c_int, c_ulong};
use rustix::io::Errno;

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
/// `close_all_but` (the daemon's descriptors) to close.
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
/// signals, 128 on mips) in words of C's `unsigned long`, as the kernel
/// reads it: word 0 holds signals 1 to 32 on a 32-bit machine, whatever its
/// byte order (64-bit words would put them second on big-endian MIPS).
fn sigset(sigs: &[c_int]) -> [c_ulong; 128 / c_ulong::BITS as usize] {
    const W: usize = c_ulong::BITS as usize;
    let mut set = [0; 128 / W];
    for &s in sigs {
        let b = (s - 1) as usize;
        set[b / W % set.len()] |= 1 << (b % W);
    }
    set
}

/// The size in bytes of the kernel's signal set.
fn setsize() -> usize {
    (libc::SIGRTMAX() as usize + 1) / 8
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

/// A signal number (1 to 64, as the command line's parser checks it) as
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

/// Signal names, without `SIG`, in the order of [`NUMBERS`], in one string:
/// a table of 30 slices would take 480 bytes of pointers and lengths, the
/// string 129 (measured: 352 bytes less in the x86_64 binary; re-measure
/// with a `[&[u8]; 30]` table instead).
const NAMES: &[u8] = b"HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS";

/// Their numbers on this architecture (they differ on mips).
const NUMBERS: [i32; 30] = [
    libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGILL, libc::SIGTRAP, libc::SIGABRT, libc::SIGBUS, libc::SIGFPE, libc::SIGKILL, libc::SIGUSR1,
    libc::SIGSEGV, libc::SIGUSR2, libc::SIGPIPE, libc::SIGALRM, libc::SIGTERM, libc::SIGCHLD, libc::SIGCONT, libc::SIGSTOP, libc::SIGTSTP,
    libc::SIGTTIN, libc::SIGTTOU, libc::SIGURG, libc::SIGXCPU, libc::SIGXFSZ, libc::SIGVTALRM, libc::SIGPROF, libc::SIGWINCH, libc::SIGIO,
    libc::SIGPWR, libc::SIGSYS,
];

/// The names, one by one.
fn names() -> impl Iterator<Item = &'static [u8]> {
    NAMES.split(|&c| c == b' ')
}

/// The signal named `name` (upper case, without `SIG`) on this architecture.
pub fn signal_by_name(name: &[u8]) -> Option<c_int> {
    names().position(|w| w == name).map(|i| NUMBERS[i])
}

/// The name of signal `sig` (without `SIG`), when it has one here.
pub fn signal_name(sig: c_int) -> Option<&'static [u8]> {
    NUMBERS.iter().position(|&n| n == sig).and_then(|i| names().nth(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_its_number_and_back() {
        assert_eq!(names().count(), NUMBERS.len());
        for (name, &n) in names().zip(NUMBERS.iter()) {
            assert_eq!(signal_by_name(name), Some(n), "{}", String::from_utf8_lossy(name));
            assert_eq!(signal_name(n), Some(name));
        }
        assert_eq!(signal_by_name(b"TERM"), Some(libc::SIGTERM));
        assert_eq!(signal_name(libc::SIGWINCH), Some(&b"WINCH"[..]));
        assert_eq!((signal_by_name(b""), signal_by_name(b"TER"), signal_name(0), signal_name(40)), (None, None, None, None));
    }
}
