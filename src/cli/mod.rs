//! The command-line program: parse, dispatch to the mode, and turn every
//! outcome into one of the documented exit codes.

mod config;
pub mod options;
pub mod values;

pub use config::{parse, Config, EnvOpts, Mode, Problem, Usage, ENV_OPTS_MAX};

use crate::daemon::user::Refused;
use crate::daemon::{Daemon, Ident, Ready, Running};
use crate::report::{msg, Error, ExitCode, Line, Stage, Text};
use crate::sys::{self, Argv, CArgv, EnvTable, ENV_MAX};
use crate::text::Buf;
use crate::time::Zone;
use crate::{control, heartbeat, supervise};
use core::ffi::CStr;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

/// Run dfork with these arguments; the return value is the exit code.
pub fn run(argv: Argv<'static>) -> u8 {
    let mut cfg = Config::new(argv);
    if let Err(u) = cfg.parse(argv) {
        u.print();
        return ExitCode::Usage as u8;
    }
    match cfg.mode {
        Mode::Help => help(),
        Mode::Version => {
            Line::stdout().msg(msg::VERSION).end();
            ExitCode::Ok as u8
        }
        Mode::Stop | Mode::Status => match cfg.daemon.pidfile {
            Some(p) => control::run(p, &cfg.control, cfg.mode == Mode::Stop),
            None => {
                Usage { problem: Problem::NeedsPidfile, arg: None }.print();
                ExitCode::Usage as u8
            }
        },
        // -u is resolved before anything forks.
        Mode::Exec | Mode::Heartbeat => {
            let user = match resolve_user(cfg.user) {
                Ok(u) => u,
                Err(code) => return code,
            };
            let mut d = cfg.daemon;
            d.user = user.as_ref();
            match cfg.mode {
                Mode::Heartbeat => heartbeat::run(&cfg.heartbeat, &d),
                _ => exec(argv, &cfg, &mut d),
            }
        }
    }
}

/// `dfork --help`: its usage, a line per option (made by build.rs from the
/// option table), the exit codes. Out of line: its buffer stays out of the
/// frame every daemon keeps.
#[inline(never)]
fn help() -> u8 {
    let mut l = Line::stdout();
    l.msg(msg::HELP);
    l.flush();
    ExitCode::Ok as u8
}

/// `-u USER[:GROUP]`, resolved before anything forks; the exit code of
/// the error otherwise (2 for a malformed one, 125 for an unknown name or a
/// caller who is not root).
#[inline(never)] // the files' scans stay out of the frame every daemon keeps
fn resolve_user(spec: Option<&CStr>) -> Result<Option<Ident>, u8> {
    let Some(spec) = spec else { return Ok(None) };
    match Ident::resolve(spec) {
        Ok(u) => Ok(Some(u)),
        Err(Refused::Syntax) => {
            Usage { problem: Problem::BadValue(options::Opt::User), arg: Some(spec) }.print();
            Err(ExitCode::Usage as u8)
        }
        Err(r) => {
            r.error().print(Some(spec));
            Err(ExitCode::Failed as u8)
        }
    }
}

/// `dfork [OPTIONS] COMMAND...`: daemonize, then exec COMMAND (or, with
/// `--respawn`, supervise it).
fn exec(argv: Argv<'static>, cfg: &Config<'static>, d: &mut Daemon<'_>) -> u8 {
    let name = argv.get(cfg.command);
    let user = d.user;
    let added = cfg.env.len() + user.map_or(0, |u| u.vars()) + (d.ready == Ready::Notify) as usize;
    if added > 0 && sys::count(sys::env()) + added > ENV_MAX {
        let e = Error::text(Stage::Env, Text::TooManyVars);
        e.print(None);
        return e.exit_code() as u8;
    }
    d.command = Some(name);
    // --respawn's log times: the zone is read here, before -r and -u.
    let zone = cfg.respawn.map(|_| Zone::from_env(sys::now(sys::Clock::Wall).tv_sec));
    let running = match d.start() {
        Ok(r) => r,
        Err(e) => return d.report(e),
    };
    let cmd = argv.raw_from(cfg.command);
    let extra = Extra { argv, env: &cfg.env, user };
    // The supervisor's children build their environment themselves, after
    // the fork: the supervisor never holds the table.
    if let (Some(opts), Some(zone)) = (&cfg.respawn, &zone) {
        supervise::run(running, opts, zone, &mut |dir| match added {
            0 => sys::exec_search(name, dir, cmd, sys::env()),
            _ => exec_with_env(&extra, dir, None, name, cmd),
        })
    }
    if added == 0 {
        running.exec(cmd, sys::env())
    }
    exec_with_env(&extra, None, Some(running), name, cmd);
    ExitCode::Failed as u8 // not reached: Running::exec does not return
}

/// What COMMAND's environment gets on top of the inherited one.
struct Extra<'c> {
    argv: Argv<'static>,
    env: &'c EnvOpts,
    user: Option<&'c Ident>,
}

/// Exec COMMAND (through `running`, or from a supervisor's child when
/// None) with the inherited environment, then `-u`'s `USER`, `LOGNAME` and
/// `HOME`, then every `-E` (the last one of a name wins), then `--notify`'s
/// `NOTIFY_SOCKET`, built in a table on this function's own stack frame
/// (8 KiB: out of line, so no other path's frame, and no daemon's, carries
/// it). Returns only a supervisor's child's exec error.
#[inline(never)]
fn exec_with_env(extra: &Extra<'_>, dir: Option<BorrowedFd<'_>>, running: Option<Running<'_>>, name: &CStr, cmd: CArgv) -> Errno {
    // Checked by the caller: the inherited environment plus every addition fits.
    let mut env = EnvTable::new();
    if !env.inherit(sys::env()) {
        sys::abort();
    }
    if let Some(u) = extra.user {
        u.each_env(|kv| {
            env.set(kv);
        });
    }
    extra.env.each(extra.argv, |kv| {
        env.set(kv);
    });
    let Some(running) = running else { return sys::exec_search(name, dir, cmd, env.as_ptr()) };
    // NOTIFY_SOCKET last: it must name our socket. Copied, because `running`
    // is consumed by the exec while the table still points at the name.
    let var = running.notify_var().map(|v| Buf::copy_of(v.to_bytes_with_nul()));
    if let Some(v) = &var {
        env.set(sys::cstr_of(v.as_bytes()));
    }
    running.exec(cmd, env.as_ptr())
}
