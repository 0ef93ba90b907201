//! The command line, validated: a [`Config`] made of the library's and the
//! modes' own option structs, each with its defaults in one place.
//!
//! In command mode the first non-option argument starts COMMAND and ends
//! option parsing, so the command's own options are never ours. Every problem
//! is a [`Usage`] error (exit code 2) and nothing has happened yet when it is
//! found.

use super::options::{Bad, Item, Opt, Scan};
use super::values;
use crate::daemon::{Daemon, Ready};
use crate::heartbeat::{self, MAX_EVERY_MS};
use crate::report::{msg, Line, Msg};
use crate::sys::{self, Argv};
use crate::time::Format;
use crate::{control, supervise};
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

/// The most `-E NAME=VALUE` options a command line can give.
pub const ENV_OPTS_MAX: usize = 128;

/// Everything the command line said, validated.
#[derive(Clone, Copy, Debug)]
pub struct Config<'a> {
    /// What to do.
    pub mode: Mode,
    /// How to start the daemon (`-p`, `-c`, `-m`, `-o`, `-e`, `-f`, `-q`,
    /// `-r`, `--ready-fd`, `--notify`, `-w`).
    pub daemon: Daemon<'a>,
    /// `-u`: `USER[:GROUP]`, resolved into the daemon's identity before
    /// anything forks.
    pub user: Option<&'a CStr>,
    /// `--heartbeat [FILE]`, `--every`, `--format`.
    pub heartbeat: heartbeat::Options<'a>,
    /// `--stop`'s and `--status`'s `-s`, `-t`, `--retry`, `--force`.
    pub control: control::Options,
    /// `--respawn` and its `--respawn-delay`, `--respawn-max`; `--init`.
    pub respawn: Option<supervise::Options<'a>>,
    /// The `-E NAME=VALUE` values, in order.
    pub env: EnvOpts,
    /// Index in argv of COMMAND (exec mode).
    pub command: usize,
}

/// The `-E NAME=VALUE` values, by where they are in argv: the argument
/// and the offset of the value in it (`-E A=1`, `-EA=1`, `--env=A=1`).
#[derive(Clone, Copy, Debug)]
pub struct EnvOpts {
    at: [(u32, u32); ENV_OPTS_MAX],
    len: usize,
}

impl EnvOpts {
    /// How many there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Call `f` with each value, in order.
    pub fn each<'a>(&self, argv: Argv<'a>, mut f: impl FnMut(&'a CStr)) {
        for &(i, off) in &self.at[..self.len] {
            f(sys::cstr_tail(argv.get(i as usize), off as usize));
        }
    }

    /// Note `v`, a value in argument `i` of `argv`; false when full. (The
    /// kernel limits an argument to 128 KiB and all of them to far fewer
    /// than 2^32, so both numbers fit.)
    fn push(&mut self, argv: Argv<'_>, i: usize, v: &CStr) -> bool {
        let off = v.as_ptr() as usize - argv.get(i).as_ptr() as usize;
        let Some(slot) = self.at.get_mut(self.len) else { return false };
        *slot = (i as u32, off as u32);
        self.len += 1;
        true
    }
}

/// A usage error: `dfork: <what> '<arg>': <why>`, exit code 2.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Usage<'a> {
    /// What is wrong.
    pub problem: Problem,
    /// The offending argument, when there is one.
    pub arg: Option<&'a CStr>,
}

/// The usage errors.
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
    /// A value this option does not take (its row says what it expects).
    BadValue(Opt),
    /// A free argument in heartbeat mode.
    Unexpected,
    /// Exec mode without COMMAND.
    NoCommand,
    /// `--every`/`--format` without `--heartbeat`.
    HeartbeatOnly,
    /// `--stop`/`--status` without `-p`.
    NeedsPidfile,
    /// `-s`/`-t`/`--retry` without `--stop`.
    StopOnly,
    /// Readiness or respawn options without COMMAND.
    CommandOnly,
    /// `--ready-fd` with `--notify`, `--respawn` or `-f`.
    ReadyConflict,
    /// `--wait` without `--ready-fd` or `--notify`.
    WaitAlone,
    /// `--respawn-delay` or `--respawn-max` without `--respawn`.
    RespawnOnly,
    /// More `-E` than [`ENV_OPTS_MAX`].
    TooManyEnv,
    /// `--forking` with readiness, or with `-f` but not `--respawn`.
    ForkingConflict,
    /// `--forking` without `-p` (nor `--respawn`).
    ForkingNeedsPidfile,
}

/// What a usage line names first: an option by its long name, or words.
enum What {
    Option(Opt),
    Words(Msg),
}

impl Problem {
    /// What the line names, and why it is wrong.
    fn words(self) -> (What, Msg) {
        use What::{Option as O, Words as W};
        match self {
            Problem::UnknownOption => (W(msg::UNKNOWN_OPTION), msg::SEE_HELP),
            Problem::TakesNoValue => (W(msg::OPTION), msg::TAKES_NO_VALUE),
            Problem::NeedsValue => (W(msg::OPTION), msg::NEEDS_VALUE),
            Problem::Empty => (W(msg::EMPTY_ARGUMENT), msg::NO_EMPTY_VALUES),
            Problem::BadValue(o) => (O(o), o.row().expect.unwrap_or(msg::SEE_HELP)),
            Problem::Unexpected => (W(msg::UNEXPECTED_ARGUMENT), msg::HEARTBEAT_RUNS_NO_COMMAND),
            Problem::NoCommand => (W(msg::NO_COMMAND), msg::SEE_HELP),
            Problem::HeartbeatOnly => (W(msg::EVERY_AND_FORMAT), msg::ONLY_WITH_HEARTBEAT),
            Problem::NeedsPidfile => (W(msg::STOP_AND_STATUS), msg::NEED_PIDFILE),
            Problem::StopOnly => (W(msg::STOP_OPTIONS), msg::ONLY_WITH_STOP),
            Problem::CommandOnly => (W(msg::READINESS_OPTIONS), msg::ONLY_WITH_COMMAND),
            Problem::ReadyConflict => (W(msg::READY_FD_AND_NOTIFY), msg::GO_WITH_NEITHER),
            Problem::WaitAlone => (O(Opt::Wait), msg::NEEDS_READINESS),
            Problem::RespawnOnly => (W(msg::RESPAWN_OPTIONS), msg::ONLY_WITH_RESPAWN),
            Problem::TooManyEnv => (O(Opt::Env), msg::TOO_MANY_ENV),
            Problem::ForkingConflict => (O(Opt::Forking), msg::FORKING_CONFLICT),
            Problem::ForkingNeedsPidfile => (O(Opt::Forking), msg::FORKING_PIDFILE),
        }
    }
}

impl Usage<'_> {
    /// Print `dfork: <what> '<arg>': <why>` on stderr.
    pub fn print(&self) {
        let (what, why) = self.problem.words();
        let mut l = Line::stderr();
        l.msg(msg::PREFIX);
        match what {
            What::Words(m) => l.msg(m),
            What::Option(o) => l.bytes(b"--").bytes(o.row().long.as_bytes()),
        };
        if let Some(a) = self.arg {
            l.bytes(b" '").cstr(a).bytes(b"'");
        }
        l.bytes(b": ").msg(why).end();
    }
}

fn usage<T>(problem: Problem, arg: Option<&CStr>) -> Result<T, Usage<'_>> {
    Err(Usage { problem, arg })
}

impl<'a> Config<'a> {
    /// The defaults, before any option: each from the struct that owns it.
    pub fn new(argv: Argv<'a>) -> Self {
        Config {
            mode: Mode::Exec,
            // The binary's daemon calls nothing that reads libc's thread id;
            // a const, so that libc's fork is not linked in at all.
            daemon: const { Daemon::new().bare_fork(true) },
            user: None,
            heartbeat: heartbeat::Options::DEFAULT,
            control: control::Options::DEFAULT,
            respawn: None,
            env: EnvOpts { at: [(0, 0); ENV_OPTS_MAX], len: 0 },
            command: argv.len(),
        }
    }

    /// Apply the whole command line.
    pub fn parse(&mut self, argv: Argv<'a>) -> Result<(), Usage<'a>> {
        parse_into(self, argv)
    }
}

/// Parse the whole command line into a new [`Config`].
pub fn parse(argv: Argv<'_>) -> Result<Config<'_>, Usage<'_>> {
    let mut c = Config::new(argv);
    c.parse(argv)?;
    Ok(c)
}

fn nonempty(v: &CStr) -> Result<&CStr, Usage<'_>> {
    if v.is_empty() {
        return usage(Problem::Empty, Some(v));
    }
    Ok(v)
}

/// What the command line gave besides the config's fields, checked at the end.
#[derive(Default)]
struct Seen<'a> {
    log: bool,
    every_or_format: bool,
    /// `-s`, `-t`, `--retry`: combined into the schedule at the end.
    signal: Option<i32>,
    timeout: Option<u32>,
    retry: Option<&'a CStr>,
    ready_fd: bool,
    notify: bool,
    forking: bool,
    wait: bool,
    respawn: bool,
    respawn_opts: bool,
}

fn parse_into<'a>(c: &mut Config<'a>, argv: Argv<'a>) -> Result<(), Usage<'a>> {
    let mut seen = Seen::default();
    let mut respawn = supervise::Options::DEFAULT;
    let mut scan = Scan::new(argv);
    while let Some(item) = scan.next() {
        let item = item.or_else(|(bad, arg)| {
            let p = match bad {
                Bad::Unknown => Problem::UnknownOption,
                Bad::TakesNoValue => Problem::TakesNoValue,
                Bad::NeedsValue => Problem::NeedsValue,
            };
            usage(p, Some(arg))
        })?;
        match item {
            Item::Free(i) if c.mode == Mode::Heartbeat && !seen.log => {
                c.heartbeat.log = nonempty(argv.get(i))?;
                seen.log = true;
            }
            Item::Free(i) | Item::DashDash(i) => {
                c.command = i;
                break;
            }
            Item::Optional(Opt::Forking, v) => {
                let own = match v {
                    Some(f) => Some(nonempty(f)?),
                    None => None,
                };
                c.daemon = c.daemon.forking(own, c.daemon.wait_ms);
                seen.forking = true;
            }
            Item::Optional(_, v) => {
                // --heartbeat[=FILE]
                c.mode = Mode::Heartbeat;
                if let Some(f) = v {
                    c.heartbeat.log = nonempty(f)?;
                    seen.log = true;
                }
            }
            Item::Flag(o) => match o {
                Opt::Foreground => c.daemon.foreground = true,
                Opt::Quiet => c.daemon.quiet = true,
                Opt::Stop => c.mode = Mode::Stop,
                Opt::Status => c.mode = Mode::Status,
                Opt::Force => c.control.force = true,
                Opt::Notify => {
                    c.daemon.ready = Ready::Notify;
                    seen.notify = true;
                }
                Opt::Respawn => seen.respawn = true,
                Opt::Init => respawn.init = true,
                // Nothing after them matters.
                Opt::Help | Opt::Version => {
                    c.mode = if o == Opt::Help { Mode::Help } else { Mode::Version };
                    return Ok(());
                }
                _ => {}
            },
            Item::Value(Opt::Env, v) => {
                let kv = nonempty(v)?;
                values::env_name(kv.to_bytes()).ok_or(Usage { problem: Problem::BadValue(Opt::Env), arg: Some(kv) })?;
                if !c.env.push(argv, scan.last(), kv) {
                    return usage(Problem::TooManyEnv, Some(kv));
                }
            }
            Item::Value(o, v) => value(c, &mut seen, &mut respawn, o, nonempty(v)?)?,
        }
    }
    // --init is the supervisor in the foreground, restarting only with --respawn.
    c.respawn = (seen.respawn || respawn.init).then_some(supervise::Options { restart: seen.respawn, ..respawn });
    c.daemon.foreground |= respawn.init;
    let stop_opts = seen.signal.is_some() || seen.timeout.is_some() || seen.retry.is_some();
    if stop_opts {
        let sig = seen.signal.unwrap_or(libc::SIGTERM);
        c.control.schedule = match seen.retry {
            Some(r) => values::schedule(r.to_bytes(), sig).ok_or(Usage { problem: Problem::BadValue(Opt::Retry), arg: Some(r) })?,
            None => control::Schedule::simple(sig, seen.timeout.unwrap_or(control::FIRST_WAIT_MS), control::KILL_WAIT_MS),
        };
    }
    let ready = seen.ready_fd || seen.notify || seen.forking;
    let respawn = c.respawn.is_some();
    // --respawn --forking: the supervisor waits for COMMAND, not the launcher.
    if let (Some(r), true) = (&mut c.respawn, seen.forking) {
        r.forking = Some(supervise::Forking { own: c.daemon.forking_pidfile, wait_ms: c.daemon.wait_ms });
        (c.daemon.ready, c.daemon.forking_pidfile) = (Ready::Exec, None);
    }
    let problem = match c.mode {
        Mode::Heartbeat if c.command < argv.len() => Some(Problem::Unexpected),
        Mode::Exec if c.command >= argv.len() => Some(Problem::NoCommand),
        Mode::Exec if seen.every_or_format => Some(Problem::HeartbeatOnly),
        Mode::Exec if seen.forking && (seen.ready_fd || seen.notify || (c.daemon.foreground && !respawn)) => Some(Problem::ForkingConflict),
        Mode::Exec if seen.forking && !respawn && c.daemon.pidfile.is_none() => Some(Problem::ForkingNeedsPidfile),
        Mode::Exec if (seen.ready_fd && seen.notify) || ((seen.ready_fd || seen.notify) && (respawn || c.daemon.foreground)) => Some(Problem::ReadyConflict),
        Mode::Exec if seen.wait && !ready => Some(Problem::WaitAlone),
        Mode::Exec if seen.respawn_opts && !seen.respawn => Some(Problem::RespawnOnly),
        _ if c.mode != Mode::Exec && (ready || seen.wait || respawn || seen.respawn_opts) => Some(Problem::CommandOnly),
        Mode::Stop | Mode::Status if c.daemon.pidfile.is_none() => Some(Problem::NeedsPidfile),
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

/// Apply option `o` with its value `v`.
fn value<'a>(c: &mut Config<'a>, seen: &mut Seen<'a>, respawn: &mut supervise::Options<'a>, o: Opt, v: &'a CStr) -> Result<(), Usage<'a>> {
    let bad = Usage { problem: Problem::BadValue(o), arg: Some(v) };
    let b = v.to_bytes();
    let secs = |max| values::seconds(b, max).ok_or(bad);
    match o {
        Opt::Pidfile => c.daemon.pidfile = Some(v),
        Opt::Chdir => c.daemon.chdir = v,
        Opt::Umask => c.daemon.umask = values::umask(b).ok_or(bad)?,
        Opt::Stdout => c.daemon.stdout = Some(v),
        Opt::Stderr => c.daemon.stderr = Some(v),
        Opt::User => c.user = Some(v),
        Opt::Chroot => c.daemon.chroot = Some(v),
        Opt::Every => {
            c.heartbeat.every_ms = secs(MAX_EVERY_MS)?;
            seen.every_or_format = true;
        }
        Opt::Format => {
            c.heartbeat.format = match values::pick(v, &[b"ctime", b"iso8601", b"epoch", b"rfc3339"]).ok_or(bad)? {
                0 => Format::Ctime,
                2 => Format::Epoch,
                _ => Format::Iso8601,
            };
            seen.every_or_format = true;
        }
        Opt::Signal => seen.signal = Some(values::signal(b).ok_or(bad)?),
        Opt::Timeout => seen.timeout = Some(secs(MAX_EVERY_MS)? as u32),
        Opt::Retry => seen.retry = Some(v),
        Opt::ReadyFd => {
            c.daemon.ready = match crate::text::decimal(b) {
                Some(n @ 3..=1023) => Ready::Fd(n as i32),
                _ => return Err(bad),
            };
            seen.ready_fd = true;
        }
        Opt::Wait => {
            c.daemon.wait_ms = secs(MAX_EVERY_MS)?;
            seen.wait = true;
        }
        Opt::RespawnDelay => {
            respawn.delay_ms = secs(supervise::DELAY_MAX_MS)?;
            seen.respawn_opts = true;
        }
        Opt::RespawnMax => {
            respawn.max = Some(values::respawn_max(v).ok_or(bad)?);
            seen.respawn_opts = true;
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Schedule;
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
            let d = c.daemon;
            assert_eq!((d.chdir, d.umask), (c"/", 0o022));
            assert_eq!((d.pidfile, d.stdout, d.stderr, d.quiet, d.foreground), (None, None, None, false, false));
            assert_eq!(argv.get(c.command), c"sleep");
            assert!(c.respawn.is_none());
        });
    }

    #[test]
    fn short_long_attached_and_clustered() {
        with(&[b"-qfp/run/a.pid", b"--chdir=/tmp", b"-m", b"027", b"--stdout", b"o", b"-eerr", b"cmd", b"-p", b"x"], |argv, r| {
            let d = r.as_ref().unwrap().daemon;
            assert!(d.quiet && d.foreground);
            assert_eq!(d.pidfile, Some(c"/run/a.pid"));
            assert_eq!(d.chdir, c"/tmp");
            assert_eq!(d.umask, 0o027);
            assert_eq!(d.stdout, Some(c"o"));
            assert_eq!(d.stderr, Some(c"err"));
            // Parsing stops at COMMAND: its -p is its own.
            let c = r.unwrap();
            assert_eq!(argv.get(c.command), c"cmd");
            assert_eq!(argv.len() - c.command, 3);
        });
    }

    #[test]
    fn double_dash_ends_options() {
        with(&[b"-q", b"--", b"-p", b"x"], |argv, r| {
            let c = r.unwrap();
            assert_eq!(argv.get(c.command), c"-p");
            assert_eq!(c.daemon.pidfile, None);
        });
    }

    #[test]
    fn env_values_are_collected_in_order() {
        with(&[b"-E", b"A=1", b"-EB=2", b"-qEC=3", b"--env=D=x=y", b"cmd", b"-E", b"E=4"], |argv, r| {
            let c = r.unwrap();
            let mut got = vec![];
            c.env.each(argv, |v| got.push(v.to_bytes().to_vec()));
            assert_eq!(got, vec![b"A=1".to_vec(), b"B=2".to_vec(), b"C=3".to_vec(), b"D=x=y".to_vec()]);
        });
        assert_eq!(problem(&[b"-E", b"novalue", b"cmd"]).0, Problem::BadValue(Opt::Env));
        assert_eq!(problem(&[b"-E", b"=x", b"cmd"]).0, Problem::BadValue(Opt::Env));
        let many: Vec<Vec<u8>> = (0..=ENV_OPTS_MAX).map(|i| format!("-EV{i}=1").into_bytes()).chain([b"cmd".to_vec()]).collect();
        let args: Vec<&[u8]> = many.iter().map(|a| &a[..]).collect();
        assert_eq!(problem(&args).0, Problem::TooManyEnv);
    }

    #[test]
    fn heartbeat_file_is_optional() {
        with(&[b"--heartbeat"], |_, r| {
            let c = r.unwrap();
            assert_eq!(c.mode, Mode::Heartbeat);
            assert_eq!(c.heartbeat.log, c"/tmp/daemon-log");
            assert_eq!((c.heartbeat.every_ms, c.heartbeat.format), (10_000, Format::Ctime));
        });
        with(&[b"-p", b"x.pid", b"--heartbeat", b"/tmp/hb", b"--every", b"0.5", b"--format", b"iso8601"], |_, r| {
            let h = r.unwrap().heartbeat;
            assert_eq!(h.log, c"/tmp/hb");
            assert_eq!(h.every_ms, 500);
            assert_eq!(h.format, Format::Iso8601);
        });
        with(&[b"--heartbeat=/x", b"--format=epoch", b"--every=86400"], |_, r| {
            let h = r.unwrap().heartbeat;
            assert_eq!((h.log, h.format, h.every_ms), (c"/x", Format::Epoch, 86_400_000));
        });
        assert_eq!(problem(&[b"--heartbeat", b"a", b"b"]), (Problem::Unexpected, Some(b"b".to_vec())));
        assert_eq!(problem(&[b"--heartbeat", b"--format", b"iso"]).0, Problem::BadValue(Opt::Format));
        assert_eq!(problem(&[b"--every", b"5", b"cmd"]).0, Problem::HeartbeatOnly);
        assert_eq!(problem(&[b"--heartbeat="]).0, Problem::Empty);
    }

    #[test]
    fn every_is_strict() {
        assert_eq!(problem(&[b"--heartbeat", b"--every", b""]).0, Problem::Empty);
        for bad in [&b"0"[..], b"-1", b"+1", b"1e3", b".5", b"5.", b"1.2345", b"86401", b"86400.001", b"999999999", b" 1", b"0x10", b"0.000"] {
            assert_eq!(problem(&[b"--heartbeat", b"--every", bad]).0, Problem::BadValue(Opt::Every), "{:?}", bad);
        }
        for (good, ms) in [(&b"1"[..], 1000), (b"0.001", 1), (b"10", 10_000), (b"2.5", 2500), (b"86400", 86_400_000), (b"007", 7000)] {
            with(&[b"--heartbeat", b"--every", good], |_, r| assert_eq!(r.unwrap().heartbeat.every_ms, ms));
        }
    }

    #[test]
    fn umask_is_strict_octal() {
        for (good, m) in [(&b"0"[..], 0), (b"022", 0o22), (b"0027", 0o27), (b"777", 0o777), (b"0777", 0o777)] {
            with(&[b"-m", good, b"x"], |_, r| assert_eq!(r.unwrap().daemon.umask, m));
        }
        assert_eq!(problem(&[b"-m", b"", b"x"]).0, Problem::Empty);
        for bad in [&b"8"[..], b"0o22", b"1000", b"-1", b"00000", b"22 ", b"\xd9\xa0"] {
            assert_eq!(problem(&[b"-m", bad, b"x"]).0, Problem::BadValue(Opt::Umask), "{:?}", bad);
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
            assert_eq!(c.daemon.pidfile.unwrap().to_bytes(), b"/tmp/\xff\xfe.pid");
            assert_eq!(argv.get(c.command).to_bytes(), b"\xe9x\xff");
        });
    }

    #[test]
    fn stop_and_status_options() {
        with(&[b"--stop", b"-p", b"x.pid", b"-s", b"HUP", b"-t", b"2"], |_, r| {
            let c = r.unwrap();
            assert_eq!(c.mode, Mode::Stop);
            assert_eq!(c.control.schedule, Schedule::simple(libc::SIGHUP, 2000, 5000));
        });
        with(&[b"--status", b"--pidfile=x.pid", b"--force"], |_, r| {
            let c = r.unwrap();
            assert_eq!((c.mode, c.control.force), (Mode::Status, true));
        });
        with(&[b"-u", b"nobody:nogroup", b"-r", b"/srv", b"cmd"], |_, r| {
            let c = r.unwrap();
            assert_eq!((c.user, c.daemon.chroot), (Some(c"nobody:nogroup"), Some(c"/srv")));
        });
        assert_eq!(problem(&[b"--stop"]).0, Problem::NeedsPidfile);
        assert_eq!(problem(&[b"--status"]).0, Problem::NeedsPidfile);
        assert_eq!(problem(&[b"--stop", b"-p", b"x", b"-s", b"NOPE"]).0, Problem::BadValue(Opt::Signal));
        assert_eq!(problem(&[b"--stop", b"-p", b"x", b"--retry", b"TERM/x"]).0, Problem::BadValue(Opt::Retry));
        assert_eq!(problem(&[b"--stop", b"-p", b"x", b"-t", b"0"]).0, Problem::BadValue(Opt::Timeout));
        assert_eq!(problem(&[b"-s", b"HUP", b"cmd"]).0, Problem::StopOnly);
        assert_eq!(problem(&[b"--status", b"-p", b"x", b"-t", b"3"]).0, Problem::StopOnly);
    }

    #[test]
    fn readiness_and_respawn_options() {
        with(&[b"--ready-fd", b"3", b"-w", b"2", b"cmd"], |_, r| {
            let d = r.unwrap().daemon;
            assert_eq!((d.ready, d.wait_ms), (Ready::Fd(3), 2000));
        });
        with(&[b"--respawn", b"--respawn-delay", b"0.5", b"--respawn-max", b"3/10", b"cmd"], |_, r| {
            let o = r.unwrap().respawn.unwrap();
            assert_eq!((o.delay_ms, o.max.map(|m| (m.count, m.window_ms))), (500, Some((3, 10_000))));
        });
        assert_eq!(problem(&[b"--ready-fd", b"3", b"--notify", b"cmd"]).0, Problem::ReadyConflict);
        assert_eq!(problem(&[b"--ready-fd", b"2", b"cmd"]).0, Problem::BadValue(Opt::ReadyFd));
        assert_eq!(problem(&[b"-w", b"2", b"cmd"]).0, Problem::WaitAlone);
        assert_eq!(problem(&[b"--respawn-delay", b"2", b"cmd"]).0, Problem::RespawnOnly);
        assert_eq!(problem(&[b"--respawn", b"--heartbeat"]).0, Problem::CommandOnly);
    }

    #[test]
    fn init_is_the_supervisor_in_the_foreground() {
        with(&[b"--init", b"cmd"], |_, r| {
            let c = r.unwrap();
            let o = c.respawn.unwrap();
            assert_eq!((o.init, o.restart, c.daemon.foreground), (true, false, true));
        });
        with(&[b"--init", b"--respawn", b"--respawn-delay", b"0.5", b"cmd"], |_, r| {
            let o = r.unwrap().respawn.unwrap();
            assert_eq!((o.init, o.restart, o.delay_ms), (true, true, 500));
        });
        with(&[b"--respawn", b"cmd"], |_, r| {
            let c = r.unwrap();
            let o = c.respawn.unwrap();
            assert_eq!((o.init, o.restart, c.daemon.foreground), (false, true, false));
        });
        assert_eq!(problem(&[b"--init", b"--respawn-max", b"2/5", b"cmd"]).0, Problem::RespawnOnly);
        assert_eq!(problem(&[b"--init", b"--ready-fd", b"3", b"cmd"]).0, Problem::ReadyConflict);
        assert_eq!(problem(&[b"--init", b"--heartbeat"]).0, Problem::CommandOnly);
        assert_eq!(problem(&[b"--status", b"-p", b"x", b"--init"]).0, Problem::CommandOnly);
    }
}
