//! Command line bytes to a [`Config`]: getopt-style, no allocation.
//!
//! Short options cluster (`-qf`) and take their value attached or separate
//! (`-pFILE`, `-p FILE`); long options take `--name=VALUE` or `--name VALUE`.
//! In command mode the first non-option argument starts COMMAND and ends option
//! parsing, so the command's own options are never ours. Every problem is a
//! [`Usage`] error (exit code 2) and nothing has happened yet when it is found.

use crate::out::{self, msg};
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
    /// `--stop`: signal the daemon of a pidfile and wait for it to exit.
    Stop,
    /// `--status`: say whether the daemon of a pidfile runs (LSB codes).
    Status,
}

/// `--stop`'s schedule, as start-stop-daemon's `--retry` spells it: signals
/// to send and times to wait, in order, optionally repeating from a point
/// (`forever`). A step is a signal number as a negative value, or a wait in
/// milliseconds as a positive one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Schedule {
    /// The steps; `len` of them are used.
    pub steps: [i32; SCHEDULE_MAX],
    /// How many steps there are.
    pub len: u8,
    /// Where the schedule goes on after its last step (the step after
    /// `forever`), or `len` when it ends there.
    pub repeat: u8,
}

/// The most steps a schedule can have.
pub const SCHEDULE_MAX: usize = 8;

impl Schedule {
    /// `SIG/wait/KILL/wait`: the default (`TERM/10/KILL/5`) and the form
    /// `--retry N` stands for.
    pub const fn simple(sig: i32, first_ms: i32, kill_ms: i32) -> Schedule {
        Schedule { steps: [-sig, first_ms, -libc::SIGKILL, kill_ms, 0, 0, 0, 0], len: 4, repeat: 4 }
    }
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
    /// `--force`: act on a pidfile that the safety checks refuse.
    pub force: bool,
    /// `-u`: `USER[:GROUP]`, resolved by [`crate::ident`].
    pub user: Option<&'a CStr>,
    /// `-r`: the daemon's new root directory.
    pub chroot: Option<&'a CStr>,
    /// `--stop`'s schedule (`-s`, `-t`, `--retry`).
    pub schedule: Schedule,
    /// `--ready-fd N` (-1: none) or `--notify`: how COMMAND says it is ready.
    pub ready: Ready,
    /// `-w`: how long the launcher waits for readiness, in milliseconds.
    pub wait_ms: u64,
    /// `--respawn`: stay resident and restart COMMAND when it exits.
    pub respawn: bool,
    /// `--respawn-delay`: the first restart delay, in milliseconds.
    pub respawn_delay_ms: u64,
    /// `--respawn-max COUNT/SECONDS`: the limit, and its spelling for the log.
    pub respawn_max: Option<(u32, u64, &'a CStr)>,
}

/// How COMMAND reports that it is ready.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ready {
    /// It does not: started means exec'd.
    Exec,
    /// `--ready-fd N`: a newline written to descriptor N (s6).
    Fd(i32),
    /// `--notify`: `READY=1` sent to `NOTIFY_SOCKET` (systemd).
    Notify,
}

/// A usage error: `dfork: <what> '<arg>': <why>`, exit code 2.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Usage<'a> {
    /// What is wrong.
    pub problem: Problem,
    /// The offending argument, when there is one.
    pub arg: Option<&'a CStr>,
}

/// The usage errors, in the order of the `@problems` section of
/// `src/messages.txt`.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Problem {
    /// Not one of ours.
    UnknownOption,
    /// `--flag=value` for a flag.
    TakesNoValue,
    /// An option at the end that needs a value.
    NeedsValue,
    /// An option's value that is the empty string.
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
    /// `-s` not a signal.
    BadSignal,
    /// `--retry` not a schedule.
    BadRetry,
    /// `-t` out of range.
    BadTimeout,
    /// `--stop`/`--status` without `-p`.
    NeedsPidfile,
    /// `-s`/`-t`/`--retry` without `--stop`.
    StopOnly,
    /// `-u` not `USER[:GROUP]`.
    BadUser,
    /// `--ready-fd` not a descriptor from 3 to 1023.
    BadReadyFd,
    /// `--wait` out of range.
    BadWait,
    /// `--respawn-delay` out of range.
    BadDelay,
    /// `--respawn-max` not `COUNT/SECONDS`.
    BadMax,
    /// Readiness or respawn options without COMMAND.
    CommandOnly,
    /// `--ready-fd` with `--notify`, `--respawn` or `-f`.
    ReadyConflict,
    /// `--wait` without `--ready-fd` or `--notify`.
    WaitAlone,
    /// `--respawn-delay` or `--respawn-max` without `--respawn`.
    RespawnOnly,
}


impl Usage<'_> {
    /// Print `dfork: <what> '<arg>': <why>` on stderr.
    pub fn print(&self) {
        // What and why: two entries of `@problems` in src/messages.txt.
        let p = msg::PROBLEMS + 2 * self.problem as usize;
        let mut l = out::err_msg(p);
        if let Some(a) = self.arg {
            l.bytes(b" '").cstr(a).bytes(b"'");
        }
        l.bytes(b": ").msg(p + 1).end();
    }
}

fn usage<T>(problem: Problem, arg: Option<&CStr>) -> Result<T, Usage<'_>> {
    Err(Usage { problem, arg })
}

/// The default heartbeat log, as in the reference demo.
pub const DEFAULT_LOG: &CStr = c"/tmp/daemon-log";
/// The longest heartbeat period: one day.
pub const MAX_EVERY_MS: u64 = 86_400_000;

/// The options, numbered in the order of [`LONGS`] and [`KINDS`].
mod opt {
    pub const PIDFILE: u8 = 0;
    pub const CHDIR: u8 = 1;
    pub const UMASK: u8 = 2;
    pub const STDOUT: u8 = 3;
    pub const STDERR: u8 = 4;
    pub const ENV: u8 = 5;
    pub const QUIET: u8 = 6;
    pub const FOREGROUND: u8 = 7;
    pub const HELP: u8 = 8;
    pub const VERSION: u8 = 9;
    pub const HEARTBEAT: u8 = 10;
    pub const EVERY: u8 = 11;
    pub const FORMAT: u8 = 12;
    pub const STOP: u8 = 13;
    pub const STATUS: u8 = 14;
    pub const SIGNAL: u8 = 15;
    pub const TIMEOUT: u8 = 16;
    pub const RETRY: u8 = 17;
    pub const FORCE: u8 = 18;
    pub const USER: u8 = 19;
    pub const CHROOT: u8 = 20;
    pub const READY_FD: u8 = 21;
    pub const NOTIFY: u8 = 22;
    pub const WAIT: u8 = 23;
    pub const RESPAWN: u8 = 24;
    pub const RESPAWN_DELAY: u8 = 25;
    pub const RESPAWN_MAX: u8 = 26;
}

/// What an option takes, in [`KINDS`].
const VALUE: u8 = b'v';
/// `--heartbeat[=FILE]`: a value only as `--name=VALUE`; a following free
/// argument is handled by the mode.
const OPTIONAL: u8 = b'o';

macro_rules! base_longs {
    () => {
        "pidfile\0chdir\0umask\0stdout\0stderr\0env\0quiet\0foreground\0help\0version\0heartbeat\0every\0format\0"
    };
}
macro_rules! base_kinds {
    () => {
        "pvcvmvovevEvqnfnhnVn\0o\0v\0v"
    };
}
macro_rules! control_longs {
    () => {
        "stop\0status\0signal\0timeout\0retry\0force\0user\0chroot\0"
    };
}
macro_rules! control_kinds {
    () => {
        "\0n\0nsvtv\0v\0nuvrv"
    };
}
/// The long names, each ended by a NUL, and for each option its short
/// letter (NUL: none) and what it takes (`v`alue, `n`othing, `o`ptional).
/// The `supervise` options follow the `control` ones, which every build
/// with them has.
const LONGS: &[u8] =
    concat!(base_longs!(), control_longs!(), "ready-fd\0notify\0wait\0respawn\0respawn-delay\0respawn-max\0").as_bytes();
const KINDS: &[u8] = concat!(base_kinds!(), control_kinds!(), "\0v\0nwv\0n\0v\0v").as_bytes();

/// The option with long name `long`, or else short letter `short`, and
/// what it takes.
fn find(long: Option<&[u8]>, short: u8) -> Option<(u8, u8)> {
    let i = match long {
        Some(k) => LONGS.split(|&c| c == 0).position(|w| w == k && !k.is_empty())?,
        None => KINDS.chunks(2).position(|p| p[0] == short)?,
    };
    Some((i as u8, *KINDS.get(2 * i + 1)?))
}

/// One step of the scan.
enum Item<'a> {
    /// An option (see [`opt`]) and its value.
    Opt(u8, Option<&'a CStr>),
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
        let Some((opt, takes)) = find(Some(key), 0) else {
            return usage(Problem::UnknownOption, Some(whole));
        };
        match (takes, inline) {
            (VALUE, None) => self.value(whole).map(|v| Item::Opt(opt, Some(v))),
            (VALUE | OPTIONAL, v) | (_, v @ None) => Ok(Item::Opt(opt, v)),
            _ => usage(Problem::TakesNoValue, Some(whole)),
        }
    }

    fn short(&mut self) -> Result<Item<'a>, Usage<'a>> {
        let whole = self.argv.get(self.i);
        let b = whole.to_bytes();
        let c = b[self.j];
        self.j += 1;
        let at_end = self.j >= b.len();
        let Some((opt, takes)) = find(None, c) else {
            self.skip_cluster();
            return usage(Problem::UnknownOption, Some(whole));
        };
        if takes != VALUE {
            if at_end {
                self.skip_cluster();
            }
            return Ok(Item::Opt(opt, None));
        }
        if !at_end {
            let v = sys::cstr_tail(whole, self.j);
            self.skip_cluster();
            return Ok(Item::Opt(opt, Some(v)));
        }
        self.skip_cluster();
        self.value(whole).map(|v| Item::Opt(opt, Some(v)))
    }

    #[inline(never)] // measured: the binary is smaller with it out of line
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
    #[inline(never)] // one copy of this large literal, not one per caller
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
            force: false,
            user: None,
            chroot: None,
            schedule: Schedule::simple(libc::SIGTERM, 10_000, 5_000),
            ready: Ready::Exec,
            wait_ms: 60_000,
            respawn: false,
            respawn_delay_ms: 1000,
            respawn_max: None,
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
    // -s, -t and --retry, combined into the schedule at the end.
    let (mut sig, mut timeout, mut retry): (Option<i32>, Option<i32>, Option<&CStr>) = (None, None, None);
    // Which readiness options were seen: 1 --ready-fd, 2 --notify (a
    // repeated one takes its last value, as every option does).
    let (mut ready_n, mut wait_set, mut respawn_opts) = (0u8, false, false);
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
        // No option takes an empty value (a FILE, a DIR, a number...).
        let val = nonempty(v.unwrap_or(c"-"))?;
        // The values in seconds, as milliseconds: checked in one place.
        let (max, problem) = match opt {
            opt::EVERY => (MAX_EVERY_MS, Problem::BadEvery),
            opt::TIMEOUT => (MAX_EVERY_MS, Problem::BadTimeout),
            opt::WAIT => (MAX_EVERY_MS, Problem::BadWait),
            opt::RESPAWN_DELAY => (60_000, Problem::BadDelay),
            _ => (0, Problem::Empty),
        };
        let ms = match max {
            0 => 0,
            _ => parse_seconds(val, max).ok_or(Usage { problem, arg: Some(val) })?,
        };
        match opt {
            opt::PIDFILE => c.pidfile = Some(val),
            opt::CHDIR => c.chdir = val,
            opt::UMASK => c.umask = parse_umask(val)?,
            opt::STDOUT => c.stdout = Some(val),
            opt::STDERR => c.stderr = Some(val),
            opt::ENV => {
                if env_name(val.to_bytes()).is_none() {
                    return usage(Problem::BadEnv, Some(val));
                }
                env(val);
                c.env_count += 1;
            }
            opt::QUIET => c.quiet = true,
            opt::FOREGROUND => c.foreground = true,
            // Nothing after them matters.
            opt::HELP => {
                c.mode = Mode::Help;
                return Ok(());
            }
            opt::VERSION => {
                c.mode = Mode::Version;
                return Ok(());
            }
            opt::HEARTBEAT => {
                c.mode = Mode::Heartbeat;
                if let Some(f) = v {
                    c.log = f;
                    log_set = true;
                }
            }
            opt::EVERY => {
                c.every_ms = ms;
                every_set = true;
            }
            opt::FORMAT => {
                c.format = match pick(val, b"ctime\0iso8601\0epoch\0rfc3339\0") {
                    Some(0) => Format::Ctime,
                    Some(2) => Format::Epoch,
                    Some(_) => Format::Iso8601,
                    None => return usage(Problem::BadFormat, Some(val)),
                };
                format_set = true;
            }
            opt::STOP => c.mode = Mode::Stop,
            opt::STATUS => c.mode = Mode::Status,
            opt::SIGNAL => sig = Some(parse_signal(val.to_bytes()).ok_or(Usage { problem: Problem::BadSignal, arg: Some(val) })?),
            opt::TIMEOUT => timeout = Some(ms as i32),
            opt::RETRY => retry = Some(val),
            opt::FORCE => c.force = true,
            opt::USER => c.user = Some(val),
            opt::CHROOT => c.chroot = Some(val),
            opt::READY_FD => {
                c.ready = match decimal(val.to_bytes()) {
                    Some(n @ 3..=1023) => Ready::Fd(n as i32),
                    _ => return usage(Problem::BadReadyFd, Some(val)),
                };
                ready_n |= 1;
            }
            opt::NOTIFY => {
                c.ready = Ready::Notify;
                ready_n |= 2;
            }
            opt::WAIT => {
                c.wait_ms = ms;
                wait_set = true;
            }
            opt::RESPAWN => c.respawn = true,
            opt::RESPAWN_DELAY => {
                c.respawn_delay_ms = ms;
                respawn_opts = true;
            }
            opt::RESPAWN_MAX => {
                c.respawn_max = Some(parse_max(val).ok_or(Usage { problem: Problem::BadMax, arg: Some(val) })?);
                respawn_opts = true;
            }
            _ => {}
        }
    }
    let stop_opts = sig.is_some() || timeout.is_some() || retry.is_some();
    {
        let sig = sig.unwrap_or(libc::SIGTERM);
        c.schedule = match retry {
            Some(r) => parse_schedule(r.to_bytes(), sig).ok_or(Usage { problem: Problem::BadRetry, arg: Some(r) })?,
            None => Schedule::simple(sig, timeout.unwrap_or(10_000), 5_000),
        };
    }
    let problem = match c.mode {
        Mode::Heartbeat if c.command < argv.len() => Some(Problem::Unexpected),
        Mode::Exec if c.command >= argv.len() => Some(Problem::NoCommand),
        Mode::Exec if every_set || format_set => Some(Problem::HeartbeatOnly),
        Mode::Exec if ready_n == 3 || (ready_n > 0 && (c.respawn || c.foreground)) => Some(Problem::ReadyConflict),
        Mode::Exec if wait_set && ready_n == 0 => Some(Problem::WaitAlone),
        Mode::Exec if respawn_opts && !c.respawn => Some(Problem::RespawnOnly),
        _ if c.mode != Mode::Exec && (ready_n > 0 || wait_set || c.respawn || respawn_opts) => Some(Problem::CommandOnly),
        Mode::Stop | Mode::Status if c.pidfile.is_none() => Some(Problem::NeedsPidfile),
        Mode::Stop => None,
        _ if stop_opts => Some(Problem::StopOnly),
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
#[inline(always)] // measured: the binary is smaller with it inlined
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
    seconds(v.to_bytes(), max_ms)
}

fn seconds(b: &[u8], max_ms: u64) -> Option<u64> {
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

/// Signal names, without `SIG`, in the order of [`SIGNAL_NUMBERS`].
const SIGNAL_NAMES: &[u8] = b"HUP\0INT\0QUIT\0ILL\0TRAP\0ABRT\0BUS\0FPE\0KILL\0USR1\0SEGV\0USR2\0PIPE\0ALRM\0TERM\0\
CHLD\0CONT\0STOP\0TSTP\0TTIN\0TTOU\0URG\0XCPU\0XFSZ\0VTALRM\0PROF\0WINCH\0IO\0PWR\0SYS\0";

/// Their numbers on this architecture (they differ on mips).
const SIGNAL_NUMBERS: [u8; 30] = [
    libc::SIGHUP as u8, libc::SIGINT as u8, libc::SIGQUIT as u8, libc::SIGILL as u8, libc::SIGTRAP as u8, libc::SIGABRT as u8, libc::SIGBUS as u8,
    libc::SIGFPE as u8, libc::SIGKILL as u8, libc::SIGUSR1 as u8, libc::SIGSEGV as u8, libc::SIGUSR2 as u8, libc::SIGPIPE as u8, libc::SIGALRM as u8,
    libc::SIGTERM as u8, libc::SIGCHLD as u8, libc::SIGCONT as u8, libc::SIGSTOP as u8, libc::SIGTSTP as u8, libc::SIGTTIN as u8, libc::SIGTTOU as u8,
    libc::SIGURG as u8, libc::SIGXCPU as u8, libc::SIGXFSZ as u8, libc::SIGVTALRM as u8, libc::SIGPROF as u8, libc::SIGWINCH as u8, libc::SIGIO as u8,
    libc::SIGPWR as u8, libc::SIGSYS as u8,
];

/// A signal by name (`TERM`, `SIGTERM`, `term`) or number (`15`; 1 to
/// 64, no sign, no leading zero).
pub fn parse_signal(b: &[u8]) -> Option<i32> {
    let mut up = [0u8; 10];
    if b.is_empty() || b.len() > up.len() {
        return None;
    }
    for (u, c) in up.iter_mut().zip(b) {
        *u = c.to_ascii_uppercase();
    }
    let name = &up[..b.len()];
    let name = name.strip_prefix(b"SIG").unwrap_or(name);
    if let Some(n) = decimal(name) {
        return (1..=64).contains(&n).then_some(n as i32);
    }
    let i = SIGNAL_NAMES.split(|&c| c == 0).position(|w| w == name)?;
    SIGNAL_NUMBERS.get(i).map(|&n| n as i32)
}

/// Strict decimal digits: no sign, no leading zero (but `0` itself), at most
/// `u32::MAX`.
pub fn decimal(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 || (b[0] == b'0' && b.len() > 1) {
        return None;
    }
    let mut v = 0u64;
    for &d in b {
        v = v * 10 + digit(d)?;
    }
    u32::try_from(v).ok()
}

/// `--respawn-max COUNT/SECONDS`: COUNT from 1 to [`RESPAWN_MAX_COUNT`],
/// SECONDS as [`parse_seconds`] reads them, up to a day.
pub fn parse_max(v: &CStr) -> Option<(u32, u64, &CStr)> {
    let b = v.to_bytes();
    let k = b.iter().position(|&c| c == b'/')?;
    let n = decimal(&b[..k]).filter(|n| (1..=RESPAWN_MAX_COUNT).contains(n))?;
    Some((n, seconds(&b[k + 1..], MAX_EVERY_MS)?, v))
}

/// The largest COUNT of `--respawn-max`: the supervisor keeps that many exit
/// times.
pub const RESPAWN_MAX_COUNT: u32 = 64;

/// start-stop-daemon's `--retry`: `N` (seconds; `SIG/N/KILL/N`, SIG being
/// `-s`'s), or items separated by `/`: a signal (`TERM`, `-TERM`, `-15`), a
/// wait in seconds (`30`, `0.5`), or `forever` (repeat what follows it). A
/// schedule has at most [`SCHEDULE_MAX`] steps and at least one signal.
#[inline(never)] // measured: the binary is smaller with it out of line
pub fn parse_schedule(b: &[u8], sig: i32) -> Option<Schedule> {
    if let Some(ms) = seconds(b, MAX_EVERY_MS) {
        return Some(Schedule::simple(sig, ms as i32, ms as i32));
    }
    let mut s = Schedule { steps: [0; SCHEDULE_MAX], len: 0, repeat: u8::MAX };
    // Whether a signal was seen at all, and since `forever`.
    let (mut signal, mut repeated) = (false, false);
    for item in b.split(|&c| c == b'/') {
        if item == b"forever" && s.repeat == u8::MAX {
            (s.repeat, repeated) = (s.len, false);
            continue;
        }
        let step = match item.first() {
            Some(b'0'..=b'9') => seconds(item, MAX_EVERY_MS)? as i32,
            _ => {
                (signal, repeated) = (true, true);
                -parse_signal(item.strip_prefix(b"-").unwrap_or(item))?
            }
        };
        *s.steps.get_mut(s.len as usize)? = step;
        s.len += 1;
    }
    // `forever` must have something to repeat, with a signal in it.
    let ok = signal && (s.repeat == u8::MAX || repeated);
    s.repeat = s.repeat.min(s.len);
    ok.then_some(s)
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
        assert_eq!(problem(&[b"--heartbeat", b"--every", b""]).0, Problem::Empty);
        for bad in [&b"0"[..], b"-1", b"+1", b"1e3", b".5", b"5.", b"1.2345", b"86401", b"86400.001", b"999999999", b" 1", b"0x10", b"0.000"] {
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
        assert_eq!(problem(&[b"-m", b"", b"x"]).0, Problem::Empty);
        for bad in [&b"8"[..], b"0o22", b"1000", b"-1", b"00000", b"22 ", b"\xd9\xa0"] {
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

    #[test]
    fn signals_by_name_or_number() {
        for (v, n) in [(&b"TERM"[..], libc::SIGTERM), (b"SIGHUP", libc::SIGHUP), (b"usr1", libc::SIGUSR1), (b"sigKill", 9), (b"9", 9), (b"64", 64), (b"WINCH", libc::SIGWINCH)] {
            assert_eq!(parse_signal(v), Some(n), "{:?}", v);
        }
        for bad in [&b""[..], b"0", b"65", b"09", b"-9", b"+9", b"SIG", b"TERMX", b"FOO", b"4294967296", b"SIGSIGTERM", b"\xff"] {
            assert_eq!(parse_signal(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn schedules_as_start_stop_daemon_writes_them() {
        let s = |b: &[u8]| parse_schedule(b, libc::SIGTERM);
        assert_eq!(s(b"30"), Some(Schedule::simple(libc::SIGTERM, 30_000, 30_000)));
        assert_eq!(parse_schedule(b"5", libc::SIGINT), Some(Schedule::simple(libc::SIGINT, 5000, 5000)));
        let t = s(b"TERM/30/KILL/5").unwrap();
        assert_eq!((&t.steps[..4], t.len, t.repeat), (&[-15, 30_000, -9, 5000][..], 4, 4));
        let t = s(b"-HUP/0.5/forever/-9/1").unwrap();
        assert_eq!((&t.steps[..4], t.len, t.repeat), (&[-libc::SIGHUP, 500, -9, 1000][..], 4, 2));
        for bad in [&b""[..], b"/", b"30/", b"TERM//5", b"30/40", b"TERM/forever", b"TERM/forever/5", b"forever/forever/TERM", b"TERM/+5", b"TERM/1/2/3/4/5/6/7/8", b"TERM/86401", b"0"] {
            assert_eq!(s(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn stop_and_status_options() {
        with(&[b"--stop", b"-p", b"x.pid", b"-s", b"HUP", b"-t", b"2"], |_, r| {
            let c = r.unwrap();
            assert_eq!(c.mode, Mode::Stop);
            assert_eq!(c.schedule, Schedule::simple(libc::SIGHUP, 2000, 5000));
        });
        with(&[b"--status", b"--pidfile=x.pid", b"--force"], |_, r| {
            let c = r.unwrap();
            assert_eq!((c.mode, c.force), (Mode::Status, true));
        });
        with(&[b"-u", b"nobody:nogroup", b"-r", b"/srv", b"cmd"], |_, r| {
            let c = r.unwrap();
            assert_eq!((c.user, c.chroot), (Some(c"nobody:nogroup"), Some(c"/srv")));
        });
        assert_eq!(problem(&[b"--stop"]).0, Problem::NeedsPidfile);
        assert_eq!(problem(&[b"--status"]).0, Problem::NeedsPidfile);
        assert_eq!(problem(&[b"--stop", b"-p", b"x", b"-s", b"NOPE"]).0, Problem::BadSignal);
        assert_eq!(problem(&[b"--stop", b"-p", b"x", b"--retry", b"TERM/x"]).0, Problem::BadRetry);
        assert_eq!(problem(&[b"--stop", b"-p", b"x", b"-t", b"0"]).0, Problem::BadTimeout);
        assert_eq!(problem(&[b"-s", b"HUP", b"cmd"]).0, Problem::StopOnly);
        assert_eq!(problem(&[b"--status", b"-p", b"x", b"-t", b"3"]).0, Problem::StopOnly);
    }
}
