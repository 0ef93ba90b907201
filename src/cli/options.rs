//! The options: one row each in `table.rs` (short name, long name, what it
//! takes, its line in `--help`, what a bad value is told), and the
//! getopt-style scanner that finds them in argv.
//!
//! Short options cluster (`-qf`) and take their value attached or separate
//! (`-pFILE`, `-p FILE`); long options take `--name=VALUE` or `--name VALUE`.

use crate::report::{msg, Msg};
use crate::sys::{self, Argv};
use core::ffi::CStr;

/// What an option takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Takes {
    /// Nothing: a flag.
    Nothing,
    /// A value.
    Value,
    /// A value only as `--name=VALUE` (`--heartbeat[=FILE]`); a free
    /// argument after it is the mode's business.
    Optional,
    /// A value only as `--name=VALUE` (`--forking[=PIDFILE]`), shown so.
    Attached,
}

/// One option, as the scanner needs it (its `--help` line is made from the
/// same row by build.rs).
pub struct Row {
    /// Which one.
    pub opt: Opt,
    /// Its letter, if it has one.
    pub short: Option<u8>,
    /// Its long name, without `--`.
    pub long: &'static str,
    /// What it takes.
    pub takes: Takes,
    /// What its value must be, said when it is not.
    pub expect: Option<Msg>,
}

/// Makes the [`Opt`] enum and [`OPTIONS`] from the table (`table.rs`).
macro_rules! options {
    ($($name:ident: $short:expr, $long:literal, $takes:ident $(($meta:literal))?, $help:ident, [$($expect:ident)?];)*) => {
        /// An option of dfork's, by name.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub enum Opt {
            $(#[doc = concat!("`--", $long, "`")] $name,)*
        }
        /// Every option, one row each, in `--help`'s order.
        pub const OPTIONS: &[Row] = &[$(Row { opt: Opt::$name, short: $short, long: $long, takes: Takes::$takes, expect: expect!($($expect)?) },)*];
    };
}

/// The `[EXPECT_...]` column: the message, if the row names one.
macro_rules! expect {
    () => {
        None
    };
    ($m:ident) => {
        Some(msg::$m)
    };
}

include!("table.rs");

impl Opt {
    /// Its row.
    pub fn row(self) -> &'static Row {
        &OPTIONS[self as usize]
    }
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
            (Takes::Optional | Takes::Attached, v) => Ok(Item::Optional(row.opt, v)),
            (Takes::Value, Some(v)) => Ok(Item::Value(row.opt, v)),
            (Takes::Value, None) => self.value(whole).map(|v| Item::Value(row.opt, v)),
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
        let Takes::Value = row.takes else {
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

    /// The index of the argument the last item came from.
    pub fn last(&self) -> usize {
        if self.j == 0 {
            self.i - 1
        } else {
            self.i
        }
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
