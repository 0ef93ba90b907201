//! Errors of a start: the step that failed and why, printed as one line.
//!
//! An [`Error`] is eight bytes (the step and a code), which is exactly what the
//! daemon sends back to the launcher through the status pipe; the path a step
//! worked on is looked up in the [`Daemon`](crate::Daemon) when it is printed.

use super::out::{err_line, msg, Msg};
use super::ExitCode;
use core::ffi::CStr;
use rustix::io::Errno;

/// The step of the recipe that failed.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stage {
    /// The pidfile is locked by a live daemon (the code is its pid, or 0).
    Running = 0,
    /// Opening or locking the pidfile.
    Pidfile = 1,
    /// Opening the `-o` file.
    Stdout = 2,
    /// Opening the `-e` file.
    Stderr = 3,
    /// Opening /dev/null.
    DevNull = 4,
    /// Creating the status pipe.
    Pipe = 5,
    /// fork(2).
    Fork = 6,
    /// setsid(2).
    Setsid = 7,
    /// chdir(2).
    Chdir = 8,
    /// Pointing fds 0-2 at their targets.
    Stdio = 9,
    /// Closing inherited descriptors.
    CloseFds = 10,
    /// Writing the pid into the pidfile.
    WritePid = 11,
    /// Resetting signal dispositions and the mask.
    Signals = 12,
    /// Building the environment.
    Env = 13,
    /// exec of COMMAND.
    Exec = 14,
    /// Opening the heartbeat log.
    Log = 15,
    /// The daemon's start-up as a whole.
    Start = 16,
    /// Resolving `-u USER[:GROUP]`.
    User = 17,
    /// Opening the `-r` directory, or chroot(2) into it.
    Chroot = 18,
    /// The privilege drop.
    Become = 19,
    /// Checking a pidfile for `--stop` or `--status`.
    Control = 20,
    /// Setting up `--ready-fd` or `--notify` in the launcher.
    Ready = 21,
    /// Setting up the `--respawn` supervisor.
    Supervise = 22,
}

impl Stage {
    /// The stage a byte from the status pipe names (unknown: [`Stage::Start`]).
    pub fn from_u8(b: u8) -> Stage {
        use Stage::*;
        const ALL: [Stage; 23] = [
            Running, Pidfile, Stdout, Stderr, DevNull, Pipe, Fork, Setsid, Chdir, Stdio, CloseFds, WritePid, Signals, Env, Exec, Log,
            Start, User, Chroot, Become, Control, Ready, Supervise,
        ];
        // In order: a unit test checks that every stage comes back as itself.
        ALL.get(b as usize).copied().unwrap_or(Start)
    }

    /// The verb of this stage's error line: `dfork: <verb> <path>: <why>`.
    pub fn verb(self) -> Msg {
        match self {
            Stage::Running => msg::ALREADY_RUNNING,
            Stage::Pidfile | Stage::Stdout | Stage::Stderr | Stage::DevNull | Stage::Log => msg::OPEN,
            Stage::Pipe => msg::PIPE,
            Stage::Fork => msg::FORK,
            Stage::Setsid => msg::SETSID,
            Stage::Chdir => msg::CHDIR,
            Stage::Stdio => msg::DUP2,
            Stage::CloseFds => msg::CLOSE_RANGE,
            Stage::WritePid => msg::WRITE,
            Stage::Signals => msg::SIGPROCMASK,
            Stage::Env => msg::ENVIRONMENT,
            Stage::Exec => msg::EXEC,
            Stage::Start => msg::START,
            Stage::User => msg::USER,
            Stage::Chroot => msg::CHROOT,
            Stage::Become => msg::BECOME,
            Stage::Control => msg::PIDFILE,
            Stage::Ready => msg::SET_UP_READINESS,
            Stage::Supervise => msg::SUPERVISE,
        }
    }
}

/// Reasons of dfork's own, for failures no errno describes. Their codes
/// are negative, so they travel the status pipe beside errnos.
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
    /// An output or log file that is the pidfile too.
    IsPidfile = -13,
    /// An output file that is a FIFO (or socket) nobody reads.
    NoReader = -14,
}

impl Text {
    /// The reason with this code, if it is one.
    fn from_code(code: i32) -> Option<Text> {
        use Text::*;
        const ALL: [Text; 14] = [
            NotRegular, Linked, TooManyVars, Died, Symlink, NoUser, NoGroup, TooManyGroups, StillPrivileged, UnsafeOwner, UnsafeDir, BadPidfile,
            IsPidfile, NoReader,
        ];
        ALL.into_iter().find(|t| *t as i32 == code)
    }

    /// Its words.
    pub fn words(self) -> Msg {
        match self {
            Text::NotRegular => msg::NOT_REGULAR,
            Text::Linked => msg::LINKED,
            Text::TooManyVars => msg::TOO_MANY_VARS,
            Text::Died => msg::DIED,
            Text::Symlink => msg::SYMLINK,
            Text::NoUser => msg::NO_USER,
            Text::NoGroup => msg::NO_GROUP,
            Text::TooManyGroups => msg::TOO_MANY_GROUPS,
            Text::StillPrivileged => msg::STILL_PRIVILEGED,
            Text::UnsafeOwner => msg::UNSAFE_OWNER,
            Text::UnsafeDir => msg::UNSAFE_DIR,
            Text::BadPidfile => msg::BAD_PIDFILE,
            Text::IsPidfile => msg::IS_PIDFILE,
            Text::NoReader => msg::NO_READER,
        }
    }
}

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
        let mut l = err_line(self.stage.verb());
        if self.stage == Stage::Running {
            if self.code > 0 {
                l.msg(msg::AS_PID).num(self.code as u64);
            }
            l.bytes(b" (").cstr(path.unwrap_or(c"")).bytes(b")").end();
            return;
        }
        if let Some(p) = path {
            l.bytes(b" ").cstr(p);
        }
        l.bytes(b": ");
        match self.errno() {
            // O_NOFOLLOW's answer to a symlink: say so (exec and chdir follow links).
            Some(Errno::LOOP) if self.stage != Stage::Exec && self.stage != Stage::Chdir => l.msg(Text::Symlink.words()),
            Some(e) => l.errno(e),
            None => l.msg(Text::from_code(self.code).map_or(msg::START, Text::words)),
        };
        l.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_and_text_comes_back_from_its_code() {
        for b in 0..=255u8 {
            let s = Stage::from_u8(b);
            assert!(s as u8 == b || (b > Stage::Supervise as u8 && s == Stage::Start), "{b} gave {s:?}");
        }
        for code in -14..=-1 {
            assert_eq!(Text::from_code(code).map(|t| t as i32), Some(code));
        }
        assert_eq!(Text::from_code(-15), None);
    }
}
