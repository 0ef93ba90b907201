//! dfork: run any command as a well-behaved UNIX daemon, in a few KiB.
//!
//! The classic recipe (Stevens, *Advanced Programming in the UNIX
//! Environment*; [`daemon(7)`]) as a `no_std`, allocation-free library: fork,
//! `setsid`, fork again, `chdir`, umask, stdio on /dev/null, inherited
//! descriptors closed, signals reset, a locked pidfile. The launcher returns
//! only once the daemon really started, with an exit code that says so.
//!
//! ```
//! let builder = dfork::Daemon::new().pidfile(c"/tmp/dfork-doc-demo.pid");
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
//! The layers, each importing only those below it: [`cli`] (the program's
//! command line) on top; the modes [`heartbeat`], [`control`] (`--stop`,
//! `--status`) and [`supervise`] (`--respawn`); the recipe, [`daemon`];
//! [`report`] (exit codes, errors, words) and [`time`]; at the bottom
//! [`sys`] (every libc and raw system call) and [`text`].
//!
//! [`daemon(7)`]: https://man7.org/linux/man-pages/man7/daemon.7.html
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

pub mod cli;
pub mod control;
pub mod daemon;
pub mod heartbeat;
pub mod report;
pub mod supervise;
pub mod sys;
pub mod text;
pub mod time;

pub use daemon::{Daemon, Pidfile, Prepared, Running};
pub use report::{Error, ExitCode, Stage, Text};
