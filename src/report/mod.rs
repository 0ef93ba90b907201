//! What dfork tells its caller: the exit codes, the one-line errors, and the
//! words of both (`src/messages.txt`, packed).

mod error;
pub mod out;

pub use error::{Error, Stage, Text};
pub use out::{msg, Line, Msg};

/// dfork's exit codes when it starts a daemon. They are part of the
/// interface: `--help` and the README list the same table.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExitCode {
    /// The daemon started (or the request succeeded).
    Ok = 0,
    /// A daemon already holds the pidfile.
    Running = 1,
    /// The command line is wrong; nothing was done.
    Usage = 2,
    /// With readiness: COMMAND died before it said it was ready.
    DiedBeforeReady = 3,
    /// With readiness: `--wait` expired; COMMAND is left running.
    NotReady = 4,
    /// dfork itself failed (fork, pidfile, output file, chdir, ...).
    Failed = 125,
    /// COMMAND was found but could not be executed.
    NotExecutable = 126,
    /// COMMAND was not found.
    NotFound = 127,
}

/// `--stop`'s exit codes, as start-stop-daemon's `--stop` gives them.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StopCode {
    /// The daemon was stopped.
    Stopped = 0,
    /// No daemon ran (a stale pidfile is removed).
    NotRunning = 1,
    /// Refused (an unsafe or malformed pidfile) or failed.
    Failed = 125,
}

/// `--status` exit codes, as the LSB init-script spec defines them.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lsb {
    /// The daemon runs (the lock is held).
    Running = 0,
    /// Not running, but the pidfile exists.
    Dead = 1,
    /// Not running.
    Stopped = 3,
    /// Unknown: the pidfile cannot be read or is refused.
    Unknown = 4,
}
