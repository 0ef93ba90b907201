//! Exit codes and errors: defined once, printed as one line.
//!
//! An [`Error`] is eight bytes (the step and a code), which is exactly what the
//! daemon sends back to the launcher through the status pipe; the path a step
//! worked on is looked up in the [`Daemon`](crate::Daemon) when it is printed.

use crate::out::{self, msg};
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
    User,
    /// Opening the `-r` directory, or chroot(2) into it.
    Chroot,
    /// The privilege drop.
    Become,
    /// Checking a pidfile for `--stop` or `--status`.
    Control,
    /// Setting up `--ready-fd` or `--notify` in the launcher.
    Ready,
    /// Setting up the `--respawn` supervisor.
    Supervise,
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
/// ... and those after them.
const CONTROL_STAGES: [Stage; 6] = [Stage::User, Stage::Chroot, Stage::Become, Stage::Control, Stage::Ready, Stage::Supervise];

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
        let mut l = out::err_msg(msg::VERBS + self.stage as usize);
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
                l.msg(msg::TEXTS + (-(Text::Symlink as i32)) as usize - 1)
            }
            Some(e) => l.errno(e),
            None => l.msg(msg::TEXTS + (-self.code) as usize - 1),
        };
        l.end();
    }
}

/// The errors a daemonizer meets, described by the `@errno` section of
/// `src/messages.txt` in the same order; any other is printed as `error N` (musl's whole table costs 2 KiB).
/// Errno values differ between architectures (mips), so they are named.
const ERRNOS: [Errno; 31] = [
    Errno::PERM, Errno::NOENT, Errno::SRCH, Errno::INTR, Errno::IO, Errno::NXIO, Errno::TOOBIG, Errno::NOEXEC,
    Errno::BADF, Errno::AGAIN, Errno::NOMEM, Errno::ACCESS, Errno::BUSY, Errno::EXIST, Errno::NODEV,
    Errno::NOTDIR, Errno::ISDIR, Errno::INVAL, Errno::NFILE, Errno::MFILE, Errno::TXTBSY, Errno::FBIG,
    Errno::NOSPC, Errno::ROFS, Errno::MLINK, Errno::NAMETOOLONG, Errno::NOSYS, Errno::LOOP, Errno::OVERFLOW,
    Errno::NOTSUP, Errno::DQUOT,
];

/// Where `e`'s words are in the `@errno` section of `src/messages.txt`, if
/// `ERRNOS` has it.
pub fn describe(e: Errno) -> Option<usize> {
    ERRNOS.iter().position(|&x| x == e)
}

#[cfg(test)]
mod tests {
    use super::describe;
    use crate::out::{msg, unpack};
    use crate::pack;
    use rustix::io::Errno;

    fn words(e: Errno) -> Option<String> {
        let mut v = vec![];
        unpack(msg::ERRNO + describe(e)?, &mut |b| v.push(b));
        Some(String::from_utf8(v).unwrap())
    }

    #[test]
    fn errno_texts_match_their_numbers() {
        assert_eq!(words(Errno::NOENT).as_deref(), Some("No such file or directory"));
        assert_eq!(words(Errno::ACCESS).as_deref(), Some("Permission denied"));
        assert_eq!(words(Errno::LOOP).as_deref(), Some("Symbolic link loop"));
        assert_eq!(words(Errno::NOSPC).as_deref(), Some("No space left on device"));
        assert_eq!(words(Errno::DQUOT).as_deref(), Some("Quota exceeded"));
        assert_eq!(words(Errno::NOTSUP).as_deref(), Some("Not supported"));
        assert_eq!(words(Errno::MFILE).as_deref(), Some("No file descriptors available"));
        assert_eq!(words(Errno::NAMETOOLONG).as_deref(), Some("Filename too long"));
        assert_eq!(words(Errno::NOSYS).as_deref(), Some("Function not implemented"));
        assert_eq!(words(Errno::OVERFLOW).as_deref(), Some("Value too large for data type"));
        assert_eq!(words(Errno::from_raw_os_error(200)), None);
    }

    /// Every entry of src/messages.txt (for this build's features) unpacks
    /// to its text, and the sections are where the code looks for them.
    #[test]
    fn packed_messages_unpack_to_the_source() {
        let features = ["heartbeat", "control", "supervise"];
        let sections = pack::sections(include_str!("messages.txt"), &features);
        let all: Vec<&String> = sections.iter().flat_map(|(_, e)| e).collect();
        for (id, want) in all.iter().enumerate() {
            let mut got = vec![];
            unpack(id, &mut |b| got.push(b));
            assert_eq!(String::from_utf8(got).unwrap(), **want, "entry {id}");
            let again = pack::unpack(&msg::RULES, &msg::PACKED, id);
            assert_eq!(again, want.as_bytes(), "entry {id}, unpacked by pack.rs");
        }
        // The packer is deterministic: packing again gives what build.rs embedded.
        let bytes: Vec<Vec<u8>> = all.iter().map(|e| e.as_bytes().to_vec()).collect();
        let (rules, packed) = pack::pack(&bytes);
        assert!(rules == msg::RULES && packed == msg::PACKED, "the embedded tables are this packer's");
        let start = |n: &str| sections.iter().take_while(|(s, _)| s != n).map(|(_, e)| e.len()).sum::<usize>();
        assert_eq!((msg::VERBS, msg::TEXTS, msg::PROBLEMS, msg::ERRNO), (start("verbs"), start("texts"), start("problems"), start("errno")));
        assert_eq!(msg::ERRNO_END - msg::ERRNO, super::ERRNOS.len());
        assert!(msg::PACKED.len() * 10 < all.iter().map(|e| e.len() + 1).sum::<usize>() * 6, "packing saves at least 40 %");
    }
}
