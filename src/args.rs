//! Command line bytes to a [`Config`]: getopt-style, no allocation.
//!
//! Short options cluster (`-qf`) and take their value attached or separate
//! (`-pFILE`, `-p FILE`); long options take `--name=VALUE` or `--name VALUE`.
//! In command mode the first non-option argument starts COMMAND and ends option
//! parsing, so the command's own options are never ours. Every problem is a
//! [`Usage`] error (exit code 2) and nothing has happened yet when it is found.

use crate::sys::{self, Argv};
use core::ffi::CStr;

/// What dfork was asked to do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Run COMMAND as a daemon.
    Exec,
    /// Run the built-in heartbeat daemon.
    Heartbeat,
    /// Print the usage text.
    Help,
    /// Print the version.
    Version,
}

/// Timestamp format of the heartbeat line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    /// `Mon Nov 23 22:46:00 2026`, as C's and Python's `ctime`.
    Ctime,
    /// RFC 3339 local time with its offset: `2026-11-23T22:46:00+01:00`.
    Iso8601,
    /// Decimal seconds since 1970-01-01 UTC.
    Epoch,
}

/// Everything the command line said, validated.
#[derive(Clone, Copy, Debug)]
pub struct Config<'a> {
    /// What to do.
    pub mode: Mode,
    /// `-p`: the pidfile.
    pub pidfile: Option<&'a CStr>,
    /// `-c`: the daemon's working directory.
    pub chdir: &'a CStr,
    /// `-m`: the daemon's umask.
    pub umask: u32,
    /// `-o`: where the daemon's stdout goes (else /dev/null).
    pub stdout: Option<&'a CStr>,
    /// `-e`: where the daemon's stderr goes (else /dev/null).
    pub stderr: Option<&'a CStr>,
    /// `-q`: no `Daemon PID N` line.
    pub quiet: bool,
    /// `-f`: do not fork.
    pub foreground: bool,
    /// How many `-E NAME=VALUE` there are ([`Config::parse`] lists them).
    pub env_count: usize,
    /// Index in argv of COMMAND (exec mode).
    pub command: usize,
    /// `--heartbeat [FILE]`: the log file.
    pub log: &'a CStr,
    /// `--every`: the heartbeat period in milliseconds.
    pub every_ms: u64,
    /// `--format`.
    pub format: Format,
}

/// A usage error: `dfork: <what> '<arg>': <why>`, exit code 2.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Usage<'a> {
    /// What is wrong.
    pub problem: Problem,
    /// The offending argument, when there is one.
    pub arg: Option<&'a CStr>,
}

/// The usage errors, in the order of [`PROBLEMS`].
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Problem {
    /// Not one of ours.
    UnknownOption,
    /// `--flag=value` for a flag.
    TakesNoValue,
    /// An option at the end that needs a value.
    NeedsValue,
    /// A FILE or DIR that is the empty string.
    Empty,
    /// `-E` without `NAME=`.
    BadEnv,
    /// `--every` out of range.
    BadEvery,
    /// `--format` unknown.
    BadFormat,
    /// `-m` not octal or too large.
    BadUmask,
    /// A free argument in heartbeat mode.
    Unexpected,
    /// Exec mode without COMMAND.
    NoCommand,
    /// `--every`/`--format` without `--heartbeat`.
    HeartbeatOnly,
}

/// `what` and `why` of each [`Problem`], each ended by a NUL.
const PROBLEMS: &[u8] = b"unknown option\0see dfork --help\0option\0takes no value\0option\0needs a value\0\
empty argument\0files and directories must not be empty\0--env\0expected NAME=VALUE\0\
--every\0expected seconds from 0.001 to 86400\0--format\0expected ctime, iso8601 or epoch\0\
--umask\0expected an octal mode from 0 to 0777\0unexpected argument\0--heartbeat runs no command\0\
no command\0see dfork --help\0--every and --format\0only go with --heartbeat\0";

impl Usage<'_> {
    /// Print `dfork: <what> '<arg>': <why>` on stderr.
    pub fn print(&self) {
        let mut parts = PROBLEMS.split(|&c| c == 0).skip(2 * self.problem as usize);
        let what = parts.next().unwrap_or(b"");
        let why = parts.next().unwrap_or(b"");
        crate::out::usage(what, self.arg, why);
    }
}

fn usage<T>(problem: Problem, arg: Option<&CStr>) -> Result<T, Usage<'_>> {
    Err(Usage { problem, arg })
}

/// The default heartbeat log, as in the reference demo.
pub const DEFAULT_LOG: &CStr = c"/tmp/daemon-log";
/// The longest heartbeat period: one day.
pub const MAX_EVERY_MS: u64 = 86_400_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Opt {
    Pidfile,
    Chdir,
    Umask,
    Stdout,
    Stderr,
    Env,
    Quiet,
    Foreground,
    Help,
    Version,
    Heartbeat,
    Every,
    Format,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Takes {
    Nothing,
    Value,
    /// Only as `--name=VALUE`; a following free argument is handled by the mode.
    Optional,
}

struct Spec {
    short: u8,
    long: &'static [u8],
    takes: Takes,
    opt: Opt,
}

const fn spec(short: u8, long: &'static [u8], takes: Takes, opt: Opt) -> Spec {
    Spec { short, long, takes, opt }
}

const SPECS: &[Spec] = &[
    spec(b'p', b"pidfile", Takes::Value, Opt::Pidfile),
    spec(b'c', b"chdir", Takes::Value, Opt::Chdir),
    spec(b'm', b"umask", Takes::Value, Opt::Umask),
    spec(b'o', b"stdout", Takes::Value, Opt::Stdout),
    spec(b'e', b"stderr", Takes::Value, Opt::Stderr),
    spec(b'E', b"env", Takes::Value, Opt::Env),
    spec(b'q', b"quiet", Takes::Nothing, Opt::Quiet),
    spec(b'f', b"foreground", Takes::Nothing, Opt::Foreground),
    spec(b'h', b"help", Takes::Nothing, Opt::Help),
    spec(b'V', b"version", Takes::Nothing, Opt::Version),
    spec(0, b"heartbeat", Takes::Optional, Opt::Heartbeat),
    spec(0, b"every", Takes::Value, Opt::Every),
    spec(0, b"format", Takes::Value, Opt::Format),
];

/// One step of the scan.
enum Item<'a> {
    Opt(Opt, Option<&'a CStr>),
    /// A free argument at this index.
    Free(usize),
    /// `--` was seen; free arguments start at this index.
    DashDash(usize),
}

/// A getopt-style scanner over argv, from argument 1 on.
struct Scan<'a> {
    argv: Argv<'a>,
    /// Next argument to look at.
    i: usize,
    /// Position inside a cluster of short options (0: not in one).
    j: usize,
}

impl<'a> Scan<'a> {
    fn new(argv: Argv<'a>) -> Self {
        Scan { argv, i: 1, j: 0 }
    }

    fn next(&mut self) -> Option<Result<Item<'a>, Usage<'a>>> {
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

    fn long(&mut self, whole: &'a CStr, name: &[u8]) -> Result<Item<'a>, Usage<'a>> {
        let (key, inline) = match name.iter().position(|&c| c == b'=') {
            Some(k) => (&name[..k], Some(sys::cstr_tail(whole, 2 + k + 1))),
            None => (name, None),
        };
        let Some(s) = SPECS.iter().find(|s| s.long == key) else {
            return usage(Problem::UnknownOption, Some(whole));
        };
        match (s.takes, inline) {
            (Takes::Nothing, Some(_)) => usage(Problem::TakesNoValue, Some(whole)),
            (Takes::Value, None) => self.value(whole).map(|v| Item::Opt(s.opt, Some(v))),
            (_, v) => Ok(Item::Opt(s.opt, v)),
        }
    }

    fn short(&mut self) -> Result<Item<'a>, Usage<'a>> {
        let whole = self.argv.get(self.i);
        let b = whole.to_bytes();
        let c = b[self.j];
        self.j += 1;
        let at_end = self.j >= b.len();
        let Some(s) = SPECS.iter().find(|s| s.short == c && c != 0) else {
            self.skip_cluster();
            return usage(Problem::UnknownOption, Some(whole));
        };
        if s.takes == Takes::Nothing {
            if at_end {
                self.skip_cluster();
            }
            return Ok(Item::Opt(s.opt, None));
        }
        if !at_end {
            let v = sys::cstr_tail(whole, self.j);
            self.skip_cluster();
            return Ok(Item::Opt(s.opt, Some(v)));
        }
        self.skip_cluster();
        self.value(whole).map(|v| Item::Opt(s.opt, Some(v)))
    }

    fn skip_cluster(&mut self) {
        self.j = 0;
        self.i += 1;
    }

    /// The separate value of option `opt` (the next argument).
    fn value(&mut self, opt: &'a CStr) -> Result<&'a CStr, Usage<'a>> {
        if self.i >= self.argv.len() {
            return usage(Problem::NeedsValue, Some(opt));
        }
        self.i += 1;
        Ok(self.argv.get(self.i - 1))
    }
}

/// Parse the whole command line.
pub fn parse(argv: Argv<'_>) -> Result<Config<'_>, Usage<'_>> {
    let mut c = Config::new(argv);
    c.parse(argv, &mut |_| {})?;
    Ok(c)
}

impl<'a> Config<'a> {
    /// The defaults, before any option.
    pub fn new(argv: Argv<'a>) -> Self {
        Config {
            mode: Mode::Exec,
            pidfile: None,
            chdir: c"/",
            umask: 0o022,
            stdout: None,
            stderr: None,
            quiet: false,
            foreground: false,
            env_count: 0,
            command: argv.len(),
            log: DEFAULT_LOG,
            every_ms: 10_000,
            format: Format::Ctime,
        }
    }

    /// Apply the whole command line, handing each `-E NAME=VALUE` to `env` in
    /// order.
    pub fn parse(&mut self, argv: Argv<'a>, env: &mut dyn FnMut(&'a CStr)) -> Result<(), Usage<'a>> {
        parse_into(self, argv, env)
    }
}

fn parse_into<'a>(c: &mut Config<'a>, argv: Argv<'a>, env: &mut dyn FnMut(&'a CStr)) -> Result<(), Usage<'a>> {
    let mut log_set = false;
    let mut every_set = false;
    let mut format_set = false;
    let mut help = false;
    let mut version = false;
    let mut scan = Scan::new(argv);
    while let Some(item) = scan.next() {
        let (opt, v) = match item? {
            Item::Opt(o, v) => (o, v),
            Item::Free(i) if c.mode == Mode::Heartbeat && !log_set => {
                c.log = nonempty(argv.get(i))?;
                log_set = true;
                continue;
            }
            Item::Free(i) | Item::DashDash(i) => {
                c.command = i;
                break;
            }
        };
        let val = v.unwrap_or(c"");
        match opt {
            Opt::Pidfile => c.pidfile = Some(nonempty(val)?),
            Opt::Chdir => c.chdir = nonempty(val)?,
            Opt::Umask => c.umask = parse_umask(val)?,
            Opt::Stdout => c.stdout = Some(nonempty(val)?),
            Opt::Stderr => c.stderr = Some(nonempty(val)?),
            Opt::Env => {
                if env_name(val.to_bytes()).is_none() {
                    return usage(Problem::BadEnv, Some(val));
                }
                env(val);
                c.env_count += 1;
            }
            Opt::Quiet => c.quiet = true,
            Opt::Foreground => c.foreground = true,
            Opt::Help => help = true,
            Opt::Version => version = true,
            Opt::Heartbeat => {
                c.mode = Mode::Heartbeat;
                if let Some(f) = v {
                    c.log = nonempty(f)?;
                    log_set = true;
                }
            }
            Opt::Every => {
                c.every_ms = match parse_seconds(val, MAX_EVERY_MS) {
                    Some(ms) => ms,
                    None => return usage(Problem::BadEvery, Some(val)),
                };
                every_set = true;
            }
            Opt::Format => {
                c.format = match pick(val, b"ctime\0iso8601\0epoch\0rfc3339\0") {
                    Some(0) => Format::Ctime,
                    Some(2) => Format::Epoch,
                    Some(_) => Format::Iso8601,
                    None => return usage(Problem::BadFormat, Some(val)),
                };
                format_set = true;
            }
        }
    }
    let problem = match c.mode {
        _ if help => {
            c.mode = Mode::Help;
            None
        }
        _ if version => {
            c.mode = Mode::Version;
            None
        }
        Mode::Heartbeat if c.command < argv.len() => Some(Problem::Unexpected),
        Mode::Exec if c.command >= argv.len() => Some(Problem::NoCommand),
        Mode::Exec if every_set || format_set => Some(Problem::HeartbeatOnly),
        _ => None,
    };
    match problem {
        None => Ok(()),
        Some(Problem::Unexpected) => usage(Problem::Unexpected, Some(argv.get(c.command))),
        Some(p) => usage(p, None),
    }
}

/// The index of `v` among the NUL-ended words of `table`.
pub fn pick(v: &CStr, table: &[u8]) -> Option<usize> {
    table.split(|&c| c == 0).position(|w| !w.is_empty() && w == v.to_bytes())
}

/// NAME in `NAME=VALUE`: non-empty, without `=`; None when there is no `=`.
pub fn env_name(kv: &[u8]) -> Option<&[u8]> {
    let k = kv.iter().position(|&c| c == b'=')?;
    (k > 0).then(|| &kv[..k])
}

fn nonempty(v: &CStr) -> Result<&CStr, Usage<'_>> {
    if v.is_empty() {
        return usage(Problem::Empty, Some(v));
    }
    Ok(v)
}

/// An octal umask: one to four octal digits, at most 0777.
pub fn parse_umask(v: &CStr) -> Result<u32, Usage<'_>> {
    let b = v.to_bytes();
    let bad = Usage { problem: Problem::BadUmask, arg: Some(v) };
    if b.is_empty() || b.len() > 4 {
        return Err(bad);
    }
    let mut m = 0u32;
    for &d in b {
        if !(b'0'..=b'7').contains(&d) {
            return Err(bad);
        }
        m = m * 8 + (d - b'0') as u32;
    }
    if m > 0o777 {
        return Err(bad);
    }
    Ok(m)
}

/// Positive decimal seconds with up to three decimals (`10`, `0.5`, `1.250`),
/// as milliseconds, at most `max_ms`. No sign, no exponent, no spaces.
pub fn parse_seconds(v: &CStr, max_ms: u64) -> Option<u64> {
    let b = v.to_bytes();
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(k) => (&b[..k], &b[k + 1..]),
        None => (b, &b""[..]),
    };
    if int.is_empty() || int.len() > 6 || frac.len() > 3 || (b.len() > int.len() && frac.is_empty()) {
        return None;
    }
    let mut ms = 0u64;
    for &d in int {
        ms = ms * 10 + digit(d)?;
    }
    let mut scale = 1000;
    for &d in frac {
        scale /= 10;
        ms = ms * 10 + digit(d)?;
    }
    ms *= scale;
    (ms > 0 && ms <= max_ms).then_some(ms)
}

fn digit(d: u8) -> Option<u64> {
    d.is_ascii_digit().then(|| (d - b'0') as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// Parse `args` (argv[0] is added) and hand the result to `f`.
    fn with<R>(args: &[&[u8]], f: impl FnOnce(Argv<'_>, Result<Config<'_>, Usage<'_>>) -> R) -> R {
        let owned: Vec<CString> = std::iter::once(&b"dfork"[..]).chain(args.iter().copied()).map(|a| CString::new(a).unwrap()).collect();
        let mut ptrs: Vec<*const core::ffi::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(core::ptr::null());
        let argv = unsafe { Argv::from_raw(owned.len() as i32, ptrs.as_ptr()) };
        f(argv, parse(argv))
    }

    fn problem(args: &[&[u8]]) -> (Problem, Option<Vec<u8>>) {
        with(args, |_, r| {
            let u = r.expect_err("a usage error");
            (u.problem, u.arg.map(|a| a.to_bytes().to_vec()))
        })
    }

    #[test]
    fn defaults_and_command() {
        with(&[b"sleep", b"10"], |argv, r| {
            let c = r.unwrap();
            assert_eq!(c.mode, Mode::Exec);
            assert_eq!(c.chdir, c"/");
            assert_eq!(c.umask, 0o022);
            assert_eq!((c.pidfile, c.stdout, c.stderr, c.quiet, c.foreground), (None, None, None, false, false));
            assert_eq!(argv.get(c.command), c"sleep");
        });
    }

    #[test]
    fn short_long_attached_and_clustered() {
        with(&[b"-qfp/run/a.pid", b"--chdir=/tmp", b"-m", b"027", b"--stdout", b"o", b"-eerr", b"cmd", b"-p", b"x"], |argv, r| {
            let c = r.unwrap();
            assert!(c.quiet && c.foreground);
            assert_eq!(c.pidfile, Some(c"/run/a.pid"));
            assert_eq!(c.chdir, c"/tmp");
            assert_eq!(c.umask, 0o027);
            assert_eq!(c.stdout, Some(c"o"));
            assert_eq!(c.stderr, Some(c"err"));
            // Parsing stops at COMMAND: its -p is its own.
            assert_eq!(argv.get(c.command), c"cmd");
            assert_eq!(argv.len() - c.command, 3);
        });
    }

    #[test]
    fn double_dash_ends_options() {
        with(&[b"-q", b"--", b"-p", b"x"], |argv, r| {
            let c = r.unwrap();
            assert_eq!(argv.get(c.command), c"-p");
            assert_eq!(c.pidfile, None);
        });
    }

    #[test]
    fn env_values_are_counted_and_listed() {
        with(&[b"-E", b"A=1", b"-EB=2", b"--env=C=x=y", b"cmd", b"-E", b"D=4"], |argv, r| {
            let c = r.unwrap();
            assert_eq!(c.env_count, 3);
            let mut seen = vec![];
            Config::new(argv).parse(argv, &mut |kv| seen.push(kv.to_bytes().to_vec())).unwrap();
            assert_eq!(seen, vec![b"A=1".to_vec(), b"B=2".to_vec(), b"C=x=y".to_vec()]);
        });
        assert_eq!(problem(&[b"-E", b"novalue", b"cmd"]).0, Problem::BadEnv);
        assert_eq!(problem(&[b"-E", b"=x", b"cmd"]).0, Problem::BadEnv);
    }

    #[test]
    fn heartbeat_file_is_optional() {
        with(&[b"--heartbeat"], |_, r| {
            let c = r.unwrap();
            assert_eq!(c.mode, Mode::Heartbeat);
            assert_eq!(c.log, DEFAULT_LOG);
            assert_eq!((c.every_ms, c.format), (10_000, Format::Ctime));
        });
        with(&[b"-p", b"x.pid", b"--heartbeat", b"/tmp/hb", b"--every", b"0.5", b"--format", b"iso8601"], |_, r| {
            let c = r.unwrap();
            assert_eq!(c.log, c"/tmp/hb");
            assert_eq!(c.every_ms, 500);
            assert_eq!(c.format, Format::Iso8601);
        });
        with(&[b"--heartbeat=/x", b"--format=epoch", b"--every=86400"], |_, r| {
            let c = r.unwrap();
            assert_eq!((c.log, c.format, c.every_ms), (c"/x", Format::Epoch, 86_400_000));
        });
        assert_eq!(problem(&[b"--heartbeat", b"a", b"b"]), (Problem::Unexpected, Some(b"b".to_vec())));
        assert_eq!(problem(&[b"--heartbeat", b"--format", b"iso"]).0, Problem::BadFormat);
        assert_eq!(problem(&[b"--every", b"5", b"cmd"]).0, Problem::HeartbeatOnly);
    }

    #[test]
    fn every_is_strict() {
        for bad in [&b"0"[..], b"-1", b"+1", b"1e3", b"", b".5", b"5.", b"1.2345", b"86401", b"86400.001", b"999999999", b" 1", b"0x10", b"0.000"] {
            assert_eq!(problem(&[b"--heartbeat", b"--every", bad]).0, Problem::BadEvery, "{:?}", bad);
        }
        for (good, ms) in [(&b"1"[..], 1000), (b"0.001", 1), (b"10", 10_000), (b"2.5", 2500), (b"86400", 86_400_000), (b"007", 7000)] {
            with(&[b"--heartbeat", b"--every", good], |_, r| assert_eq!(r.unwrap().every_ms, ms));
        }
    }

    #[test]
    fn umask_is_strict_octal() {
        for (good, m) in [(&b"0"[..], 0), (b"022", 0o22), (b"0027", 0o27), (b"777", 0o777), (b"0777", 0o777)] {
            with(&[b"-m", good, b"x"], |_, r| assert_eq!(r.unwrap().umask, m));
        }
        for bad in [&b""[..], b"8", b"0o22", b"1000", b"-1", b"00000", b"22 ", b"\xd9\xa0"] {
            assert_eq!(problem(&[b"-m", bad, b"x"]).0, Problem::BadUmask, "{:?}", bad);
        }
    }

    #[test]
    fn usage_problems() {
        assert_eq!(problem(&[]), (Problem::NoCommand, None));
        assert_eq!(problem(&[b"-q"]), (Problem::NoCommand, None));
        assert_eq!(problem(&[b"--nope", b"x"]), (Problem::UnknownOption, Some(b"--nope".to_vec())));
        assert_eq!(problem(&[b"-qz", b"x"]), (Problem::UnknownOption, Some(b"-qz".to_vec())));
        assert_eq!(problem(&[b"--pidfile"]), (Problem::NeedsValue, Some(b"--pidfile".to_vec())));
        assert_eq!(problem(&[b"-c"]), (Problem::NeedsValue, Some(b"-c".to_vec())));
        assert_eq!(problem(&[b"--foreground=1", b"x"]), (Problem::TakesNoValue, Some(b"--foreground=1".to_vec())));
        assert_eq!(problem(&[b"-c", b"", b"x"]).0, Problem::Empty);
        assert_eq!(problem(&[b"--pidfile=", b"x"]).0, Problem::Empty);
    }

    #[test]
    fn help_and_version_win() {
        with(&[b"--bogus-but-later", b"-h"], |_, r| assert!(r.is_err()));
        with(&[b"-h"], |_, r| assert_eq!(r.unwrap().mode, Mode::Help));
        with(&[b"-p", b"x", b"--version"], |_, r| assert_eq!(r.unwrap().mode, Mode::Version));
    }

    #[test]
    fn arguments_are_bytes() {
        with(&[b"-p", b"/tmp/\xff\xfe.pid", b"\xe9x\xff", b"\x80"], |argv, r| {
            let c = r.unwrap();
            assert_eq!(c.pidfile.unwrap().to_bytes(), b"/tmp/\xff\xfe.pid");
            assert_eq!(argv.get(c.command).to_bytes(), b"\xe9x\xff");
        });
    }
}
