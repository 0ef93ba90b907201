//! dfork: run any command as a well-behaved UNIX daemon, in a few KiB.
//!
//! The classic recipe (Stevens, *Advanced Programming in the UNIX
//! Environment*; [`daemon(7)`]) as a `no_std`, allocation-free library: fork,
//! `setsid`, fork again, `chdir`, umask, stdio on /dev/null, inherited
//! descriptors closed, signals reset, a locked pidfile. The launcher returns
//! only once the daemon really started, with an exit code that says so.
//!
//! ```no_run
//! let builder = dfork::Daemon::new().pidfile(c"/run/demo.pid");
//! let mut daemon = match builder.start() {
//!     Ok(d) => d, // we are the daemon
//!     Err(e) => {
//!         // Still in the caller, and nothing was started: say why, in one line.
//!         e.print(builder.path_of(e.stage));
//!         return;
//!     }
//! };
//! daemon.ready(); // the launcher prints `Daemon PID N` and exits 0
//! // ... the daemon's work ...
//! daemon.abandon(); // remove the pidfile before a clean exit
//! ```
//!
//! [`daemon(7)`]: https://man7.org/linux/man-pages/man7/daemon.7.html
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

pub mod args;
pub mod cli;
pub mod control;
pub mod daemon;
pub mod error;
pub mod fds;
pub mod heartbeat;
pub mod ident;
pub mod out;
/// The message packer of build.rs, here only for the test that unpacks.
#[cfg(test)]
#[path = "pack.rs"]
mod pack;
pub mod pidfile;
pub mod ready;
pub mod supervise;
pub mod sys;
pub mod timefmt;
pub mod tz;

pub use daemon::{Daemon, Prepared, Running};
pub use error::{Error, ExitCode, Stage, Text};
pub use pidfile::Pidfile;
