//! The command-line program: parse, dispatch, and turn every outcome into one
//! of the documented exit codes.

use crate::args::{Config, Mode};
use crate::daemon::Daemon;
use crate::error::{Error, ExitCode, Stage, Text};
use crate::out::{msg, Line};
use crate::sys::{self, Argv, CArgv, EnvTable, ENV_MAX};
use core::ffi::CStr;
use rustix::io::Errno;
use crate::ident::{Ident, Refused};

/// `dfork --help`: the `@help` lines of `src/messages.txt` (the README's
/// option and exit code tables say the same); `--version`: one line. Out of
/// line: its buffer stays out of the frame every daemon keeps.
#[inline(never)]
fn help(version: bool) {
    let mut l = Line::stdout();
    if version {
        return l.bytes(b"dfork ").bytes(env!("CARGO_PKG_VERSION").as_bytes()).end();
    }
    for id in msg::HELP..msg::HELP_END {
        l.msg(id).bytes(b"\n");
    }
    l.flush();
}

/// Run dfork with these arguments; the return value is the exit code.
pub fn run(argv: Argv<'static>) -> u8 {
    let mut cfg = Config::new(argv);
    if let Err(u) = cfg.parse(argv, &mut |_| {}) {
        u.print();
        return ExitCode::Usage as u8;
    }
    // Tests in order rather than a match: the match compiled to a jump
    // table of absolute addresses (80 bytes) for five modes.
    if cfg.mode == Mode::Help || cfg.mode == Mode::Version {
        help(cfg.mode == Mode::Version);
        return ExitCode::Ok as u8;
    }
    if cfg.mode == Mode::Stop || cfg.mode == Mode::Status {
        return crate::control::run(&cfg, cfg.mode == Mode::Stop);
    }
    // Exec or Heartbeat: -u is resolved before anything forks.
    let user = match resolve_user(&cfg) {
        Ok(u) => u,
        Err(code) => return code,
    };
    if cfg.mode == Mode::Exec {
        return exec(argv, &cfg, user.as_ref());
    }
    crate::heartbeat::run(&cfg, &daemon_of(&cfg, user.as_ref()))
}

/// `-u USER[:GROUP]`, resolved before anything forks; the exit code of
/// the error otherwise (2 for a malformed one, 125 for an unknown name or a
/// caller who is not root).
#[inline(never)] // the files' scans stay out of the frame every daemon keeps
fn resolve_user(cfg: &Config<'_>) -> Result<Option<Ident>, u8> {
    let Some(spec) = cfg.user else { return Ok(None) };
    match Ident::resolve(spec) {
        Ok(u) => Ok(Some(u)),
        Err(Refused::Syntax) => {
            crate::args::Usage { problem: crate::args::Problem::BadUser, arg: Some(spec) }.print();
            Err(ExitCode::Usage as u8)
        }
        Err(r) => {
            r.error().print(Some(spec));
            Err(ExitCode::Failed as u8)
        }
    }
}


/// The daemon options of a command line, and the identity `-u` resolved to.
#[inline(never)] // measured: the binary is smaller with it out of line
pub fn daemon_of<'a>(cfg: &Config<'a>, user: Option<&'a Ident>) -> Daemon<'a> {
    Daemon {
        pidfile: cfg.pidfile,
        chdir: cfg.chdir,
        umask: cfg.umask,
        stdout: cfg.stdout,
        stderr: cfg.stderr,
        foreground: cfg.foreground,
        quiet: cfg.quiet,
        command: None,
        chroot: cfg.chroot,
        user,
        ready: cfg.ready,
        wait_ms: cfg.wait_ms,
        // The binary's daemon calls nothing that reads libc's thread id.
        bare_fork: true,
    }
}

/// How many variables `-u` adds to COMMAND's environment.
fn user_vars(user: Option<&Ident>) -> usize {
    user.map_or(0, |u| u.vars())
}

/// `dfork [OPTIONS] COMMAND...`: daemonize, then exec COMMAND (or, with
/// `--respawn`, supervise it).
#[inline(never)]
fn exec(argv: Argv<'static>, cfg: &Config<'static>, user: Option<&Ident>) -> u8 {
    let name = argv.get(cfg.command);
    let added = cfg.env_count + user_vars(user) + (cfg.ready == crate::args::Ready::Notify) as usize;
    if added > 0 && sys::count(sys::env()) + added > ENV_MAX {
        let e = Error::text(Stage::Env, Text::TooManyVars);
        e.print(None);
        return e.exit_code() as u8;
    }
    let d = daemon_of(cfg, user).command(name);
    // --respawn's log times: the zone is read here, before -r and -u.
    let zone = cfg.respawn.then(|| crate::tz::Zone::from_env(sys::now(sys::Clock::Wall).tv_sec));
    let running = match d.start() {
        Ok(r) => r,
        Err(e) => return d.report(e),
    };
    let cmd = argv.raw_from(cfg.command);
    // The supervisor's children build their environment themselves, after
    // the fork: the supervisor never holds the table.
    if let Some(zone) = &zone {
        crate::supervise::run(running, cfg, zone, &mut || match added {
            0 => sys::exec_search(name, cmd, sys::env()),
            _ => exec_with_env(argv, user, None, name, cmd),
        })
    }
    if added == 0 {
        running.exec(cmd, sys::env())
    }
    exec_with_env(argv, user, Some(running), name, cmd);
    ExitCode::Failed as u8 // not reached: Running::exec does not return
}

/// Exec COMMAND (through `running`, or from a supervisor's child when
/// None) with the inherited environment, then `-u`'s `USER`, `LOGNAME` and
/// `HOME`, then every `-E` (the last one of a name wins), then `--notify`'s
/// `NOTIFY_SOCKET`, built in a table on this function's own stack frame
/// (8 KiB: out of line, so no other path's frame, and no daemon's, carries
/// it). Returns only a supervisor's child's exec error.
#[inline(never)]
fn exec_with_env(argv: Argv<'static>, user: Option<&Ident>, running: Option<crate::daemon::Running<'_>>, name: &CStr, cmd: CArgv) -> Errno {
    // Checked by the caller: the inherited environment plus every addition fits.
    let mut env = EnvTable::new();
    if !env.inherit(sys::env()) {
        sys::abort();
    }
    if let Some(u) = user {
        u.each_env(|kv| {
            env.set(kv);
        });
    }
    Config::new(argv)
        .parse(argv, &mut |kv| {
            env.set(kv);
        })
        .ok();
    let Some(running) = running else { return sys::exec_search(name, cmd, env.as_ptr()) };
    // NOTIFY_SOCKET last: it must name our socket.
    let var = running.notify_var().map(|v| crate::timefmt::Buf::copy_of(v.to_bytes_with_nul()));
    if let Some(v) = &var {
        env.set(sys::cstr_of(v.as_bytes()));
    }
    running.exec(cmd, env.as_ptr())
}
