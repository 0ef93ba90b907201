//! The options: one row each (short name, long name, what it takes, its
//! line in `--help`, what a bad value is told), and the getopt-style scanner
//! that finds them in argv.
//!
//! Short options cluster (`-qf`) and take their value attached or separate
//! (`-pFILE`, `-p FILE`); long options take `--name=VALUE` or `--name VALUE`.

use crate::report::{msg, Line, Msg};
use crate::sys::{self, Argv};
use core::ffi::CStr;

/// What an option takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Takes {
    /// Nothing: a flag.
    Nothing,
    /// A value, named so in `--help`.
    Value(&'static str),
    /// A value only as `--name=VALUE` (`--heartbeat[=FILE]`); a free
    /// argument after it is the mode's business.
    Optional(&'static str),
}

/// One option.
pub struct Row {
    /// Which one.
    pub opt: Opt,
    /// Its letter, if it has one.
    pub short: Option<u8>,
    /// Its long name, without `--`.
    pub long: &'static str,
    /// What it takes.
    pub takes: Takes,
    /// Its line in `--help`.
    pub help: Msg,
    /// What its value must be, said when it is not.
    pub expect: Option<Msg>,
}

/// The table: `Name: short, "long", takes, HELP_MSG, EXPECT_MSG;` a row,
/// in `--help`'s order; makes the [`Opt`] enum and [`OPTIONS`].
macro_rules! options {
    ($($name:ident: $short:expr, $long:literal, $takes:expr, $help:ident, $expect:expr;)*) => {
        /// An option of dfork's, by name.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub enum Opt {
            $(#[doc = concat!("`--", $long, "`")] $name,)*
        }
        /// Every option, one row each, in `--help`'s order.
        pub const OPTIONS: &[Row] = &[$(Row { opt: Opt::$name, short: $short, long: $long, takes: $takes, help: msg::$help, expect: $expect },)*];
    };
}

use Takes::{Nothing, Optional, Value};

options! {
    Pidfile:      Some(b'p'), "pidfile",       Value("FILE"),          HELP_PIDFILE,       None;
    Chdir:        Some(b'c'), "chdir",         Value("DIR"),           HELP_CHDIR,         None;
    Umask:        Some(b'm'), "umask",         Value("MODE"),          HELP_UMASK,         Some(msg::EXPECT_UMASK);
    Stdout:       Some(b'o'), "stdout",        Value("FILE"),          HELP_STDOUT,        None;
    Stderr:       Some(b'e'), "stderr",        Value("FILE"),          HELP_STDERR,        None;
    Env:          Some(b'E'), "env",           Value("NAME=VALUE"),    HELP_ENV,           Some(msg::EXPECT_ENV);
    Foreground:   Some(b'f'), "foreground",    Nothing,                HELP_FOREGROUND,    None;
    Quiet:        Some(b'q'), "quiet",         Nothing,                HELP_QUIET,         None;
    User:         Some(b'u'), "user",          Value("USER[:GROUP]"),  HELP_USER,          Some(msg::EXPECT_USER);
    Chroot:       Some(b'r'), "chroot",        Value("DIR"),           HELP_CHROOT,        None;
    Heartbeat:    None,       "heartbeat",     Optional("FILE"),       HELP_HEARTBEAT,     None;
    Every:        None,       "every",         Value("SECONDS"),       HELP_EVERY,         Some(msg::EXPECT_SECONDS);
    Format:       None,       "format",        Value("FMT"),           HELP_FORMAT,        Some(msg::EXPECT_FORMAT);
    Stop:         None,       "stop",          Nothing,                HELP_STOP,          None;
    Status:       None,       "status",        Nothing,                HELP_STATUS,        None;
    Signal:       Some(b's'), "signal",        Value("SIG"),           HELP_SIGNAL,        Some(msg::EXPECT_SIGNAL);
    Timeout:      Some(b't'), "timeout",       Value("SECONDS"),       HELP_TIMEOUT,       Some(msg::EXPECT_SECONDS);
    Retry:        None,       "retry",         Value("SCHEDULE"),      HELP_RETRY,         Some(msg::EXPECT_SCHEDULE);
    Force:        None,       "force",         Nothing,                HELP_FORCE,         None;
    ReadyFd:      None,       "ready-fd",      Value("N"),             HELP_READY_FD,      Some(msg::EXPECT_FD);
    Notify:       None,       "notify",        Nothing,                HELP_NOTIFY,        None;
    Wait:         Some(b'w'), "wait",          Value("SECONDS"),       HELP_WAIT,          Some(msg::EXPECT_SECONDS);
    Respawn:      None,       "respawn",       Nothing,                HELP_RESPAWN,       None;
    RespawnDelay: None,       "respawn-delay", Value("S"),             HELP_RESPAWN_DELAY, Some(msg::EXPECT_DELAY);
    RespawnMax:   None,       "respawn-max",   Value("N/S"),           HELP_RESPAWN_MAX,   Some(msg::EXPECT_MAX);
    Help:         Some(b'h'), "help",          Nothing,                HELP_HELP,          None;
    Version:      Some(b'V'), "version",       Nothing,                HELP_VERSION,       None;
}

impl Opt {
    /// Its row.
    pub fn row(self) -> &'static Row {
        &OPTIONS[self as usize]
    }
}

/// Where `--help` starts an option's text: past the longest names.
const HELP_COLUMN: usize = 27;

/// Write `--help`: the usage, a line per option, the exit codes.
pub fn help(l: &mut Line<'_>) {
    l.msg(msg::HELP_USAGE).bytes(b"\n");
    for row in OPTIONS {
        let mut names = crate::text::Buf::new();
        match row.short {
            Some(c) => names.push(&[b' ', b' ', b'-', c, b',', b' ']),
            None => names.push(b"      "),
        }
        names.push(b"--");
        names.push(row.long.as_bytes());
        match row.takes {
            Takes::Nothing => {}
            Takes::Value(v) => {
                names.push(b" ");
                names.push(v.as_bytes());
            }
            Takes::Optional(v) => {
                names.push(b" [");
                names.push(v.as_bytes());
                names.push(b"]");
            }
        }
        l.bytes(names.as_bytes());
        for _ in names.as_bytes().len()..HELP_COLUMN {
            l.bytes(b" ");
        }
        l.msg(row.help).bytes(b"\n");
    }
    l.msg(msg::HELP_EXIT).bytes(b"\n");
}

/// One step of the scan.
pub enum Item<'a> {
    /// An option that takes nothing.
    Flag(Opt),
    /// An option and its value.
    Value(Opt, &'a CStr),
    /// An option whose value is optional, and that value if given.
    Optional(Opt, Option<&'a CStr>),
    /// A free argument at this index.
    Free(usize),
    /// `--` was seen; free arguments start at this index.
    DashDash(usize),
}

/// Why the scan stopped short: the problem and the argument.
pub enum Bad {
    /// Not one of ours.
    Unknown,
    /// `--flag=value` for a flag.
    TakesNoValue,
    /// An option at the end that needs a value.
    NeedsValue,
}

/// A getopt-style scanner over argv, from argument 1 on.
pub struct Scan<'a> {
    argv: Argv<'a>,
    /// Next argument to look at.
    i: usize,
    /// Position inside a cluster of short options (0: not in one).
    j: usize,
}

impl<'a> Scan<'a> {
    /// A scan of `argv`.
    pub fn new(argv: Argv<'a>) -> Self {
        Scan { argv, i: 1, j: 0 }
    }

    /// The next item; an error names the argument it is about.
    pub fn next(&mut self) -> Option<Result<Item<'a>, (Bad, &'a CStr)>> {
        if self.j == 0 {
            if self.i >= self.argv.len() {
                return None;
            }
            let a = self.argv.get(self.i);
            let b = a.to_bytes();
            if b == b"--" {
                self.i += 1;
                return Some(Ok(Item::DashDash(self.i)));
            }
            if let Some(name) = b.strip_prefix(b"--") {
                self.i += 1;
                return Some(self.long(a, name));
            }
            if b.len() < 2 || b[0] != b'-' {
                self.i += 1;
                return Some(Ok(Item::Free(self.i - 1)));
            }
            self.j = 1;
        }
        Some(self.short())
    }

    fn long(&mut self, whole: &'a CStr, name: &[u8]) -> Result<Item<'a>, (Bad, &'a CStr)> {
        let (key, inline) = match name.iter().position(|&c| c == b'=') {
            Some(k) => (&name[..k], Some(sys::cstr_tail(whole, 2 + k + 1))),
            None => (name, None),
        };
        let Some(row) = OPTIONS.iter().find(|r| r.long.as_bytes() == key) else {
            return Err((Bad::Unknown, whole));
        };
        match (row.takes, inline) {
            (Takes::Nothing, None) => Ok(Item::Flag(row.opt)),
            (Takes::Nothing, Some(_)) => Err((Bad::TakesNoValue, whole)),
            (Takes::Optional(_), v) => Ok(Item::Optional(row.opt, v)),
            (Takes::Value(_), Some(v)) => Ok(Item::Value(row.opt, v)),
            (Takes::Value(_), None) => self.value(whole).map(|v| Item::Value(row.opt, v)),
        }
    }

    fn short(&mut self) -> Result<Item<'a>, (Bad, &'a CStr)> {
        let whole = self.argv.get(self.i);
        let b = whole.to_bytes();
        let c = b[self.j];
        self.j += 1;
        let at_end = self.j >= b.len();
        let Some(row) = OPTIONS.iter().find(|r| r.short == Some(c)) else {
            self.skip_cluster();
            return Err((Bad::Unknown, whole));
        };
        let Takes::Value(_) = row.takes else {
            if at_end {
                self.skip_cluster();
            }
            return Ok(Item::Flag(row.opt));
        };
        if !at_end {
            let v = sys::cstr_tail(whole, self.j);
            self.skip_cluster();
            return Ok(Item::Value(row.opt, v));
        }
        self.skip_cluster();
        self.value(whole).map(|v| Item::Value(row.opt, v))
    }

    fn skip_cluster(&mut self) {
        self.j = 0;
        self.i += 1;
    }

    /// The separate value of option `opt` (the next argument).
    fn value(&mut self, opt: &'a CStr) -> Result<&'a CStr, (Bad, &'a CStr)> {
        if self.i >= self.argv.len() {
            return Err((Bad::NeedsValue, opt));
        }
        self.i += 1;
        Ok(self.argv.get(self.i - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_the_enums_order_and_names_are_unique() {
        for (i, row) in OPTIONS.iter().enumerate() {
            assert_eq!(row.opt as usize, i);
            assert_eq!(OPTIONS.iter().filter(|r| r.long == row.long).count(), 1, "{}", row.long);
            if let Some(c) = row.short {
                assert_eq!(OPTIONS.iter().filter(|r| r.short == Some(c)).count(), 1, "-{}", c as char);
            }
        }
    }
}
