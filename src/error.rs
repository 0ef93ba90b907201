//! Exit codes and errors: defined once, printed as one line.
//!
//! An [`Error`] is eight bytes (the step and a code), which is exactly what the
//! daemon sends back to the launcher through the status pipe; the path a step
//! worked on is looked up in the [`Daemon`](crate::Daemon) when it is printed.

use crate::out;
use core::ffi::CStr;
use rustix::io::Errno;

/// dfork's exit codes. They are part of the interface: `--help` and the README
/// list the same table.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExitCode {
    /// The daemon started (or the request succeeded).
    Ok = 0,
    /// A daemon already holds the pidfile.
    Running = 1,
    /// The command line is wrong; nothing was done.
    Usage = 2,
    /// dfork itself failed (fork, pidfile, output file, chdir, ...).
    Failed = 125,
    /// COMMAND was found but could not be executed.
    NotExecutable = 126,
    /// COMMAND was not found.
    NotFound = 127,
}

/// The step of the recipe that failed.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stage {
    /// The pidfile is locked by a live daemon (the code is its pid, or 0).
    Running,
    /// Opening or locking the pidfile.
    Pidfile,
    /// Opening the `-o` file.
    Stdout,
    /// Opening the `-e` file.
    Stderr,
    /// Opening /dev/null.
    DevNull,
    /// Creating the status pipe.
    Pipe,
    /// fork(2).
    Fork,
    /// setsid(2).
    Setsid,
    /// chdir(2).
    Chdir,
    /// Pointing fds 0-2 at their targets.
    Stdio,
    /// Closing inherited descriptors.
    CloseFds,
    /// Writing the pid into the pidfile.
    WritePid,
    /// Resetting signal dispositions and the mask.
    Signals,
    /// Building the environment.
    Env,
    /// exec of COMMAND.
    Exec,
    /// Opening the heartbeat log.
    Log,
    /// The daemon's start-up as a whole.
    Start,
    /// Resolving `-u USER[:GROUP]`.
    #[cfg(feature = "control")]
    User,
    /// Opening the `-r` directory, or chroot(2) into it.
    #[cfg(feature = "control")]
    Chroot,
    /// The privilege drop.
    #[cfg(feature = "control")]
    Become,
    /// Checking a pidfile for `--stop` or `--status`.
    #[cfg(feature = "control")]
    Control,
}

macro_rules! base_verbs {
    () => {
        "already running\0open\0open\0open\0open\0pipe\0fork\0setsid\0chdir\0dup2\0\
close_range\0write\0sigprocmask\0environment\0exec\0open\0start\0"
    };
}
#[cfg(feature = "control")]
macro_rules! verbs {
    () => {
        concat!(base_verbs!(), "user\0chroot\0become\0pidfile\0")
    };
}
#[cfg(not(feature = "control"))]
macro_rules! verbs {
    () => {
        base_verbs!()
    };
}
/// The verb of each stage's error line (`dfork: <verb> <path>: <why>`), in
/// [`Stage`] order, each ended by a NUL.
const VERBS: &[u8] = verbs!().as_bytes();

/// The `i`-th of the NUL-ended strings in `table`.
fn nth(table: &'static [u8], i: usize) -> &'static [u8] {
    table.split(|&c| c == 0).nth(i).unwrap_or(b"")
}

impl Stage {
    /// The stage a byte from the status pipe names (unknown: [`Stage::Start`]).
    pub fn from_u8(b: u8) -> Stage {
        let i = b as usize;
        STAGES.get(i).or(CONTROL_STAGES.get(i.wrapping_sub(STAGES.len()))).copied().unwrap_or(Stage::Start)
    }
}

/// Every stage, in order, to turn a byte from the status pipe back into one.
const STAGES: [Stage; 17] = [
    Stage::Running,
    Stage::Pidfile,
    Stage::Stdout,
    Stage::Stderr,
    Stage::DevNull,
    Stage::Pipe,
    Stage::Fork,
    Stage::Setsid,
    Stage::Chdir,
    Stage::Stdio,
    Stage::CloseFds,
    Stage::WritePid,
    Stage::Signals,
    Stage::Env,
    Stage::Exec,
    Stage::Log,
    Stage::Start,
];
/// The stages of the `control` feature, which follow.
#[cfg(feature = "control")]
const CONTROL_STAGES: [Stage; 4] = [Stage::User, Stage::Chroot, Stage::Become, Stage::Control];
#[cfg(not(feature = "control"))]
const CONTROL_STAGES: [Stage; 0] = [];

/// Reasons of dfork's own, for failures no errno describes.
#[repr(i32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Text {
    /// The path is a directory, FIFO, device...
    NotRegular = -1,
    /// The file has other hard links.
    Linked = -2,
    /// `-E` would make the environment larger than the fixed table.
    TooManyVars = -3,
    /// The daemon vanished before it was started.
    Died = -4,
    /// A symbolic link where dfork refuses to follow one.
    Symlink = -5,
    /// `-u`: no such user.
    NoUser = -6,
    /// `-u`: no such group.
    NoGroup = -7,
    /// `-u`: more groups, or a longer name or home, than fit.
    TooManyGroups = -8,
    /// After the drop, `setuid(0)` worked or a capability was left.
    StillPrivileged = -9,
    /// As root: a pidfile owned or writable by another user.
    UnsafeOwner = -10,
    /// As root: a pidfile in a directory another user can write to.
    UnsafeDir = -11,
    /// A pidfile that is not strictly `PID\n`.
    BadPidfile = -12,
}


macro_rules! base_texts {
    () => {
        "not a regular file\0has more than one hard link\0too many variables (at most 1024)\0\
the daemon died during start-up\0is a symbolic link; refusing to follow it\0"
    };
}
#[cfg(feature = "control")]
macro_rules! texts {
    () => {
        concat!(
            base_texts!(),
            "no such user\0no such group\0more than 32 groups, or too long a name or home\0\
privileges survived the drop (setuid(0) or a capability still works); refusing to run\0\
owned or writable by another user; refusing as root (--force overrides)\0\
in a directory another user can write to; refusing as root (--force overrides)\0\
not a pidfile (expected a pid and a newline)\0"
        )
    };
}
#[cfg(not(feature = "control"))]
macro_rules! texts {
    () => {
        base_texts!()
    };
}
/// The words of each [`Text`], in order, each ended by a NUL (those of the
/// `control` feature only in builds that have it).
const TEXTS: &[u8] = texts!().as_bytes();

/// A failed start: the step, and an errno (positive), a [`Text`] (negative),
/// or for [`Stage::Running`] the running daemon's pid (0 if unknown).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Error {
    /// The step.
    pub stage: Stage,
    code: i32,
}

impl Error {
    /// An OS error at `stage`.
    pub fn os(stage: Stage, e: Errno) -> Self {
        Error { stage, code: e.raw_os_error() }
    }

    /// A failure of dfork's own at `stage`.
    pub fn text(stage: Stage, t: Text) -> Self {
        Error { stage, code: t as i32 }
    }

    /// The pidfile is held by a live daemon that wrote `pid` (0: unreadable).
    pub fn running(pid: u32) -> Self {
        Error { stage: Stage::Running, code: pid as i32 }
    }

    /// The raw code, for the status pipe.
    pub fn code(&self) -> i32 {
        self.code
    }

    /// Rebuild an error from the status pipe.
    pub fn from_raw(stage: u8, code: i32) -> Self {
        Error { stage: Stage::from_u8(stage), code }
    }

    /// The OS error, if this is one.
    pub fn errno(&self) -> Option<Errno> {
        (self.stage != Stage::Running && self.code > 0).then(|| Errno::from_raw_os_error(self.code))
    }

    /// The exit code that reports this error.
    pub fn exit_code(&self) -> ExitCode {
        match self.stage {
            Stage::Running => ExitCode::Running,
            Stage::Env => ExitCode::Usage,
            Stage::Exec if self.code == Errno::NOENT.raw_os_error() || self.code == Errno::NOTDIR.raw_os_error() => {
                ExitCode::NotFound
            }
            Stage::Exec => ExitCode::NotExecutable,
            _ => ExitCode::Failed,
        }
    }

    /// Print the error as one line on stderr: `dfork: <verb> <path>: <why>`,
    /// or `dfork: already running as pid N (FILE)`. `path` is what the step
    /// worked on ([`Daemon::path_of`](crate::Daemon::path_of) knows it).
    pub fn print(&self, path: Option<&CStr>) {
        let mut l = out::err_line(nth(VERBS, self.stage as usize));
        if self.stage == Stage::Running {
            if self.code > 0 {
                l.bytes(b" as pid ").num(self.code as u64);
            }
            l.bytes(b" (").cstr(path.unwrap_or(c"")).bytes(b")").end();
            return;
        }
        if let Some(p) = path {
            l.bytes(b" ").cstr(p);
        }
        l.bytes(b": ");
        match self.errno() {
            Some(Errno::LOOP) if self.stage != Stage::Exec && self.stage != Stage::Chdir => {
                l.bytes(nth(TEXTS, -(Text::Symlink as i32) as usize - 1))
            }
            Some(e) => l.errno(e),
            None => l.bytes(nth(TEXTS, (-self.code) as usize - 1)),
        };
        l.end();
    }
}

/// The errors a daemonizer meets, described in [`ERRNO_TEXT`] in the same
/// order; any other is printed as `error N` (musl's whole table costs 2 KiB).
/// Errno values differ between architectures (mips), so they are named.
const ERRNOS: [Errno; 31] = [
    Errno::PERM, Errno::NOENT, Errno::SRCH, Errno::INTR, Errno::IO, Errno::NXIO, Errno::TOOBIG, Errno::NOEXEC,
    Errno::BADF, Errno::AGAIN, Errno::NOMEM, Errno::ACCESS, Errno::BUSY, Errno::EXIST, Errno::NODEV,
    Errno::NOTDIR, Errno::ISDIR, Errno::INVAL, Errno::NFILE, Errno::MFILE, Errno::TXTBSY, Errno::FBIG,
    Errno::NOSPC, Errno::ROFS, Errno::MLINK, Errno::NAMETOOLONG, Errno::NOSYS, Errno::LOOP, Errno::OVERFLOW,
    Errno::NOTSUP, Errno::DQUOT,
];

/// musl's words for [`ERRNOS`], each ended by a NUL.
const ERRNO_TEXT: &[u8] = b"Operation not permitted\0No such file or directory\0No such process\0\
Interrupted system call\0I/O error\0No such device or address\0Argument list too long\0Exec format error\0\
Bad file descriptor\0Resource temporarily unavailable\0Out of memory\0Permission denied\0Resource busy\0\
File exists\0No such device\0Not a directory\0Is a directory\0Invalid argument\0\
Too many open files in system\0No file descriptors available\0Text file busy\0File too large\0\
No space left on device\0Read-only file system\0Too many links\0Filename too long\0\
Function not implemented\0Symbolic link loop\0Value too large for data type\0Not supported\0Quota exceeded\0";

/// The text for `e`, if [`ERRNOS`] has it.
pub fn describe(e: Errno) -> Option<&'static [u8]> {
    let i = ERRNOS.iter().position(|&x| x == e)?;
    Some(nth(ERRNO_TEXT, i))
}

#[cfg(test)]
mod tests {
    use super::describe;
    use rustix::io::Errno;

    #[test]
    fn errno_texts_match_their_numbers() {
        assert_eq!(describe(Errno::NOENT), Some(&b"No such file or directory"[..]));
        assert_eq!(describe(Errno::ACCESS), Some(&b"Permission denied"[..]));
        assert_eq!(describe(Errno::LOOP), Some(&b"Symbolic link loop"[..]));
        assert_eq!(describe(Errno::NOSPC), Some(&b"No space left on device"[..]));
        assert_eq!(describe(Errno::DQUOT), Some(&b"Quota exceeded"[..]));
        assert_eq!(describe(Errno::NOTSUP), Some(&b"Not supported"[..]));
        assert_eq!(describe(Errno::MFILE), Some(&b"No file descriptors available"[..]));
        assert_eq!(describe(Errno::NAMETOOLONG), Some(&b"Filename too long"[..]));
        assert_eq!(describe(Errno::NOSYS), Some(&b"Function not implemented"[..]));
        assert_eq!(describe(Errno::OVERFLOW), Some(&b"Value too large for data type"[..]));
        assert_eq!(describe(Errno::from_raw_os_error(200)), None);
    }
}
