//! `--stop` and `--status` against real daemons and hostile pidfiles.
mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Output};

fn ctl(args: &[&str], pidfile: &Path) -> Output {
    let mut c = dfork(args);
    c.arg("-p").arg(pidfile);
    c.output().expect("spawn dfork")
}

#[test]
fn stop_a_running_daemon_then_status_says_3() {
    let t = Test::new("stop");
    let p = t.path("d.pid");
    let pid = start_sleeper(&t, &p);
    let o = ctl(&["--status"], &p);
    assert_eq!((code(&o), stdout(&o)), (0, format!("running as pid {pid}\n")));
    let o = ctl(&["--stop"], &p);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "stopping says nothing");
    // The exit was seen: by the time --stop returns the daemon is gone.
    let st = reap(pid);
    assert!(libc::WIFSIGNALED(st) && libc::WTERMSIG(st) == libc::SIGTERM, "stopped by SIGTERM: {st:#x}");
    assert!(!p.exists(), "--stop removes the pidfile");
    let o = ctl(&["--status"], &p);
    assert_eq!((code(&o), stdout(&o)), (3, format!("not running (no pidfile {})\n", p.display())));
    let o = ctl(&["--stop"], &p);
    assert_eq!((code(&o), stderr(&o)), (1, format!("dfork: not running (no pidfile {})\n", p.display())));
}

#[test]
fn a_daemon_that_ignores_sigterm_is_killed_by_the_schedule() {
    let t = Test::new("stop-kill");
    let p = t.path("d.pid");
    let tag = sleep_tag();
    let script = format!("trap '' TERM; exec sleep {tag}");
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "sh".as_ref(), "-c".as_ref(), script.as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = daemon_pid(&out);
    assert!(wait_for(10, || cmdline(pid).first().map(|a| a == b"sleep").unwrap_or(false)), "sh exec'd sleep");
    let o = ctl(&["--stop", "--retry", "TERM/0.5/KILL/5"], &p);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let st = reap(pid);
    assert!(libc::WIFSIGNALED(st) && libc::WTERMSIG(st) == libc::SIGKILL, "SIGTERM ignored, then SIGKILL: {st:#x}");
    assert!(!p.exists());
}

#[test]
fn forever_repeats_the_rest_of_the_schedule() {
    let t = Test::new("stop-forever");
    let p = t.path("d.pid");
    // Exits on its third SIGTERM only; says when its trap is set.
    let ready = t.path("trapped");
    let script = format!("n=0; trap 'n=$((n+1)); [ $n -ge 3 ] && exit 7' TERM; : > {}; while :; do sleep 0.05; done", ready.display());
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "sh".as_ref(), "-c".as_ref(), script.as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = daemon_pid(&out);
    assert!(wait_for(10, || ready.exists()), "the trap is set");
    let o = ctl(&["--stop", "--retry", "forever/TERM/0.3"], &p);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let st = reap(pid);
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 7, "exited by its third SIGTERM: {st:#x}");
}

#[test]
fn a_daemon_that_outlives_the_schedule_is_reported() {
    let t = Test::new("stop-hup");
    let p = t.path("hb.pid");
    let log = t.path("log");
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "--heartbeat".as_ref(), log.as_os_str(), "--every".as_ref(), "0.1".as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = daemon_pid(&out);
    // SIGHUP only reopens the heartbeat's log: it is still running after.
    let o = ctl(&["--stop", "-s", "hup", "--retry", "SIGHUP/0.3"], &p);
    assert_eq!(code(&o), 125);
    assert_eq!(stderr(&o), format!("dfork: stop {}: pid {pid} is still running after the whole schedule\n", p.display()));
    assert!(alive(pid) && p.exists());
    // -s names the first signal of the default schedule.
    let o = ctl(&["--stop", "--signal", "INT"], &p);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(reap(pid) >> 8, 0, "the heartbeat exits 0 on SIGINT");
    assert!(!p.exists());
}

#[test]
fn status_codes_from_real_situations() {
    let t = Test::new("status");
    let p = t.path("d.pid");
    let pid = start_sleeper(&t, &p);
    assert_eq!(code(&ctl(&["--status"], &p)), 0);
    // kill -9: the pidfile stays, nobody holds it: 1, and --stop removes it.
    kill_and_reap(pid);
    let o = ctl(&["--status"], &p);
    assert_eq!((code(&o), stdout(&o)), (1, format!("not running (stale pidfile {})\n", p.display())));
    let o = ctl(&["--stop"], &p);
    assert_eq!((code(&o), stderr(&o)), (1, format!("dfork: not running (stale pidfile {} removed)\n", p.display())));
    assert!(!p.exists());
    assert_eq!(code(&ctl(&["--status"], &p)), 3);
    // Unknown: a pidfile that cannot be trusted.
    std::fs::write(&p, "42abc\n").unwrap();
    let o = ctl(&["--status"], &p);
    assert_eq!((code(&o), stderr(&o)), (4, format!("dfork: pidfile {}: not a pidfile (expected a pid and a newline)\n", p.display())));
    std::fs::remove_file(&p).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &p).unwrap();
    let o = ctl(&["--status"], &p);
    assert_eq!((code(&o), stderr(&o)), (4, format!("dfork: open {}: is a symbolic link; refusing to follow it\n", p.display())));
}

#[test]
fn a_live_process_that_does_not_hold_the_lock_is_never_signalled() {
    let t = Test::new("stop-unlocked");
    let p = t.path("d.pid");
    // An unrelated live process, and the test itself.
    let tag = sleep_tag();
    let mut other = Command::new("sleep").arg(&tag).spawn().unwrap();
    let other_pid = t.track(other.id() as i32);
    for pid in [other_pid, std::process::id() as i32] {
        std::fs::write(&p, format!("{pid}\n")).unwrap();
        let o = ctl(&["--stop"], &p);
        assert_eq!(code(&o), 125, "{}", stderr(&o));
        assert_eq!(
            stderr(&o),
            format!("dfork: pidfile {}: pid {pid} is alive but does not hold the lock, so it may not be the daemon; not signalling it (--force overrides)\n", p.display())
        );
        assert_eq!(code(&ctl(&["--status"], &p)), 4);
        assert!(alive(pid) && p.exists(), "not signalled, pidfile kept");
    }
    // --force: the user takes the responsibility; the process is stopped.
    std::fs::write(&p, format!("{other_pid}\n")).unwrap();
    let o = ctl(&["--stop", "--force"], &p);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    other.wait().unwrap();
    assert!(!p.exists());
}

#[test]
fn a_daemon_that_closed_its_lock_needs_force() {
    let t = Test::new("stop-closed");
    if !have("python3", "a_daemon_that_closed_its_lock_needs_force") {
        return;
    }
    let p = t.path("d.pid");
    let tag = sleep_tag();
    let py = format!("import os,time; os.closerange(3, 1024); time.sleep({tag})");
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "python3".as_ref(), "-c".as_ref(), py.as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = daemon_pid(&out);
    assert!(wait_for(10, || fds(pid).len() == 3), "the program closed the lock descriptor");
    let o = ctl(&["--stop"], &p);
    assert_eq!(code(&o), 125);
    assert!(stderr(&o).contains("does not hold the lock"), "{}", stderr(&o));
    assert!(alive(pid));
    let o = ctl(&["--stop", "--force"], &p);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    reap(pid);
    assert!(!p.exists());
}

/// Run `dfork --stop` on a pidfile holding `content` inside a new pid
/// namespace with a canary process: a kill(-1) or kill(0) would end the
/// canary (and only the sandbox). The exit code of --stop, and whether the
/// canary survived.
fn stop_in_sandbox(t: &Test, content: &[u8]) -> (i32, bool, String) {
    let p = t.path("hostile.pid");
    std::fs::remove_file(&p).ok();
    std::fs::write(&p, content).unwrap();
    let script = format!("sleep 1000 & c=$!; {} --stop -p {}; r=$?; kill -0 $c && echo alive; kill $c; exit $r", bin(), p.display());
    let o = Command::new("unshare").args(["-rpf", "--mount-proc", "sh", "-c", &script]).output().unwrap();
    (code(&o), stdout(&o) == "alive\n", stderr(&o))
}

#[test]
fn hostile_pidfile_contents_are_refused_and_nothing_is_signalled() {
    let name = "hostile_pidfile_contents_are_refused_and_nothing_is_signalled";
    if !have("unshare", name) || !root(name) {
        return;
    }
    let t = Test::new("stop-hostile");
    for bad in [&b"-1\n"[..], b"0\n", b"1\n", b"99999999999\n", b" 42\n", b"42abc\n", b"", b"+5\n", b"00\n", b"5\n6\n", b"4194305\n"] {
        let (c, canary, err) = stop_in_sandbox(&t, bad);
        assert_eq!(c, 125, "{bad:?}: {err}");
        assert!(err.contains("not a pidfile"), "{bad:?}: {err}");
        assert!(canary, "{bad:?}: the canary survived");
    }
    // A symlink to a pidfile that holds a live pid: refused, not followed.
    let target = t.path("target.pid");
    std::fs::write(&target, format!("{}\n", std::process::id())).unwrap();
    let link = t.path("link.pid");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = ctl(&["--stop", "--force"], &link);
    assert_eq!((code(&o), stderr(&o)), (125, format!("dfork: open {}: is a symbolic link; refusing to follow it\n", link.display())));
}

#[test]
fn as_root_a_pidfile_another_user_controls_is_refused() {
    let name = "as_root_a_pidfile_another_user_controls_is_refused";
    if !root(name) {
        return;
    }
    let t = Test::new("stop-owner");
    let p = t.path("d.pid");
    let pid = start_sleeper(&t, &p);
    use std::os::unix::fs::PermissionsExt;
    // Owned by another user: that user could write any pid into it.
    std::os::unix::fs::chown(&p, Some(65534), None).unwrap();
    for mode in ["--stop", "--status"] {
        let o = ctl(&[mode], &p);
        assert_eq!(code(&o), if mode == "--stop" { 125 } else { 4 });
        assert_eq!(stderr(&o), format!("dfork: pidfile {}: owned or writable by another user; refusing as root (--force overrides)\n", p.display()));
    }
    std::os::unix::fs::chown(&p, Some(0), None).unwrap();
    // In a directory others can write to (no sticky bit): they could replace it.
    std::fs::set_permissions(&t.dir.0, std::fs::Permissions::from_mode(0o777)).unwrap();
    let o = ctl(&["--stop"], &p);
    assert_eq!(code(&o), 125);
    assert_eq!(stderr(&o), format!("dfork: pidfile {}: in a directory another user can write to; refusing as root (--force overrides)\n", p.display()));
    assert!(alive(pid));
    // The sticky bit (as /tmp has) makes the directory safe again.
    std::fs::set_permissions(&t.dir.0, std::fs::Permissions::from_mode(0o1777)).unwrap();
    assert_eq!(code(&ctl(&["--status"], &p)), 0);
    std::fs::set_permissions(&t.dir.0, std::fs::Permissions::from_mode(0o777)).unwrap();
    let o = ctl(&["--stop", "--force"], &p);
    assert_eq!(code(&o), 0, "--force overrides: {}", stderr(&o));
    reap(pid);
}

#[test]
fn without_pidfd_the_stop_falls_back_to_the_lock() {
    let name = "without_pidfd_the_stop_falls_back_to_the_lock";
    if !have("strace", name) {
        return;
    }
    let t = Test::new("stop-nopidfd");
    let p = t.path("d.pid");
    let pid = start_sleeper(&t, &p);
    let o = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "inject=pidfd_open:error=ENOSYS", bin(), "--stop", "-p"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let st = reap(pid);
    assert!(libc::WIFSIGNALED(st) && libc::WTERMSIG(st) == libc::SIGTERM, "{st:#x}");
    assert!(!p.exists());
}

#[test]
fn a_launcher_waits_out_a_status_probe() {
    use std::os::fd::AsRawFd;
    let t = Test::new("status-race");
    let p = t.path("d.pid");
    // What --status and --stop do for a moment: hold a shared lock. Here it
    // is held for 100 ms while a launcher starts: it must wait, not report
    // a running daemon.
    let f = std::fs::File::create(&p).unwrap();
    assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_SH) }, 0);
    let tag = sleep_tag();
    let launcher = dfork(["-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    drop(f);
    let out = launcher.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = t.track(daemon_pid(&out));
    assert_eq!(read_pidfile(&p), pid);
    // And --status in a tight loop beside 20 start/stop cycles never
    // turns a start into "already running".
    let script = format!("while :; do {} --status -p {} >/dev/null 2>&1; done", bin(), p.display());
    let prober = Command::new("sh").args(["-c", &script]).spawn().unwrap();
    let prober_pid = t.track(prober.id() as i32);
    assert_eq!(code(&ctl(&["--stop"], &p)), 0);
    reap(pid);
    for _ in 0..20 {
        let pid = start_sleeper(&t, &p);
        let o = ctl(&["--stop"], &p);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        reap(pid);
    }
    kill_and_reap(prober_pid);
}

#[test]
fn stop_and_status_usage_errors() {
    for (args, msg) in [
        (&["--stop"][..], "dfork: --stop and --status: need -p FILE\n"),
        (&["--stop", "-p", "x", "-s", "NOPE"], "dfork: --signal 'NOPE': expected a signal name or number (TERM, HUP, 9)\n"),
        (&["--stop", "-p", "x", "--retry", "TERM/x"], "dfork: --retry 'TERM/x': expected a schedule like TERM/30/KILL/5, or seconds\n"),
        (&["-s", "HUP", "sleep", "1"], "dfork: --signal, --timeout and --retry: only go with --stop\n"),
    ] {
        let o = dfork(args).output().unwrap();
        assert_eq!((code(&o), stderr(&o)), (2, msg.to_string()), "{args:?}");
    }
}

#[test]
fn a_user_who_may_not_signal_the_daemon_gets_125() {
    let name = "a_user_who_may_not_signal_the_daemon_gets_125";
    if !root(name) || !have("setpriv", name) {
        return;
    }
    let t = Test::new("stop-perm");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&t.dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    let p = t.path("d.pid");
    let pid = start_sleeper(&t, &p);
    let as_nobody = |mode: &str| Command::new("setpriv").args(["--reuid", "65534", "--regid", "65534", "--clear-groups", bin(), mode, "-p"]).arg(&p).output().unwrap();
    let o = as_nobody("--stop");
    assert_eq!((code(&o), stderr(&o)), (125, format!("dfork: signal {}: Operation not permitted\n", p.display())));
    assert!(alive(pid) && p.exists());
    let o = as_nobody("--status");
    assert_eq!((code(&o), stdout(&o)), (0, format!("running as pid {pid}\n")), "anyone may ask");
}

/// A daemon that exited under a parent that never reaps (here the test
/// process, a subreaper that holds off) is a zombie: dead for `--status`
/// (1, stale pidfile) and `--stop` (1, the stale pidfile removed), never
/// "alive but does not hold the lock" (4, 125); and a new start takes over.
#[test]
fn a_zombie_daemon_is_dead() {
    let t = Test::new("control-zombie");
    let pidfile = t.path("z.pid");
    let out = t.run(&mut dfork(["-p".as_ref(), pidfile.as_os_str(), "sh".as_ref(), "-c".as_ref(), "exit 0".as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = daemon_pid(&out);
    // Not reaped: the test is its parent now (a subreaper), and waits.
    assert!(wait_for(5, || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| stat_field(&s, 3) == "Z")), "a zombie");
    let out = ctl(&["--status"], &pidfile);
    assert_eq!((code(&out), stdout(&out)), (1, format!("not running (stale pidfile {})\n", pidfile.display())));
    let out = ctl(&["--stop"], &pidfile);
    assert_eq!((code(&out), stderr(&out)), (1, format!("dfork: not running (stale pidfile {} removed)\n", pidfile.display())));
    assert!(!pidfile.exists());
    let tag = sleep_tag();
    std::fs::write(&pidfile, format!("{pid}\n")).unwrap();
    let out = t.run(&mut dfork(["-p".as_ref(), pidfile.as_os_str(), "sleep".as_ref(), tag.as_ref()]));
    assert_eq!(code(&out), 0, "a start takes over from the zombie: {}", stderr(&out));
    reap(pid);
}
