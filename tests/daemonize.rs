//! The recipe, observed through /proc: `dfork [OPTIONS] COMMAND` makes a real daemon.
mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

#[test]
fn daemon_is_detached_and_clean() {
    let t = Test::new("basic");
    let pidfile = t.path("d.pid");
    let tag = sleep_tag();
    let mut cmd = dfork(["-p".as_ref(), pidfile.as_os_str(), "sleep".as_ref(), tag.as_ref()]);
    hostile(&mut cmd, false);
    let out = t.run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pid = daemon_pid(&out);
    // `Daemon PID N` names the real daemon: the one running our sleep, in the pidfile.
    assert_eq!(read_pidfile(&pidfile), pid);
    assert_eq!(cmdline(pid), vec![b"sleep".to_vec(), tag.as_bytes().to_vec()]);
    assert_eq!(pids_with_arg(&tag), vec![pid]);
    // Not a child of the launcher (which has exited), in its own session, not its leader.
    let me = std::process::id() as i64;
    assert_eq!(stat_num(pid, 4), me, "reparented to us, the subreaper, not kept by the launcher");
    let sid = stat_num(pid, 6);
    assert_ne!(sid, stat_num(me as i32, 6), "a new session");
    assert_ne!(sid, pid as i64, "not a session leader: it can never acquire a terminal");
    assert_eq!(stat_num(pid, 7), 0, "no controlling terminal");
    // cwd /, umask 022 (though the launcher had 000), stdio on /dev/null.
    assert_eq!(std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap(), Path::new("/"));
    assert_eq!(status(pid, "Umask"), "0022");
    // Nothing else inherited (the launcher had fd 7 open): only the pidfile
    // lock. (sleep's own dynamic loader may hold a library open for a moment.)
    assert!(wait_for(10, || only_stdio_and_lock(pid, &pidfile)), "{:?}", fds(pid));
    // Signals: the launcher blocked SIGTERM and ignored SIGPIPE and SIGHUP.
    assert_eq!(status(pid, "SigBlk"), "0000000000000000");
    assert_eq!(status(pid, "SigIgn"), "0000000000000000");
}

/// The daemon reads which signals it inherited ignored or blocked
/// (/proc/self/status) and resets exactly those: one rt_sigaction per
/// ignored signal, one rt_sigprocmask when any is blocked, none otherwise.
#[test]
fn only_inherited_ignored_and_blocked_signals_are_reset() {
    let name = "only_inherited_ignored_and_blocked_signals_are_reset";
    if !have("strace", name) {
        return;
    }
    let t = Test::new("sigreset");
    for hostile_state in [false, true] {
        let (p, trace, tag) = (t.path("d.pid"), t.path("trace"), sleep_tag());
        let mut cmd = std::process::Command::new("strace");
        cmd.args(["-f", "-qq", "-e", "trace=rt_sigaction,rt_sigprocmask", "-o"]).arg(&trace).arg(bin());
        cmd.arg("-q").arg("-p").arg(&p).args(["sleep", &tag]);
        // A known start: every signal at its default, none blocked; then
        // (hostile) SIGPIPE and SIGHUP ignored and SIGTERM blocked.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                for sig in 1..=libc::SIGRTMAX() {
                    libc::syscall(libc::SYS_rt_sigaction, sig, [0usize; 4].as_ptr(), 0usize, 8usize);
                }
                let none = [0u64; 1];
                libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, none.as_ptr(), 0usize, 8usize);
                Ok(())
            });
        }
        if hostile_state {
            hostile(&mut cmd, false);
        }
        // strace follows the daemon: it ends when the sleep is stopped.
        let child = cmd.stdin(std::process::Stdio::null()).spawn().unwrap();
        t.track(child.id() as i32);
        assert!(wait_for(10, || !sleepers(&tag).is_empty() && p.exists()));
        let pid = t.track(sleepers(&tag)[0]);
        assert_eq!((status(pid, "SigBlk"), status(pid, "SigIgn")), ("0000000000000000".into(), "0000000000000000".into()));
        kill_and_reap(pid);
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let trace = std::fs::read_to_string(&trace).unwrap();
        let calls: Vec<&str> = trace.lines().filter(|l| l.contains("rt_sig")).collect();
        let want: &[&str] = if hostile_state { &["SIGHUP, {sa_handler=SIG_DFL", "SIGPIPE, {sa_handler=SIG_DFL", "SIG_SETMASK, []"] } else { &[] };
        assert_eq!(calls.len(), want.len(), "hostile={hostile_state}: {calls:#?}");
        for w in want {
            assert!(calls.iter().any(|c| c.contains(w)), "hostile={hostile_state}: no {w} in {calls:#?}");
        }
    }
}

/// The pidfile is created 0644 whatever the launcher's umask.
#[test]
fn pidfile_is_0644_whatever_the_umask() {
    let t = Test::new("pidmode");
    for mask in [0o077, 0o000, 0o022] {
        let (p, tag) = (t.path(&format!("d{mask:o}.pid")), sleep_tag());
        let mut cmd = dfork(["-q".as_ref(), "-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]);
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                libc::umask(mask);
                Ok(())
            });
        }
        let out = t.run(&mut cmd);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        t.track(read_pidfile(&p));
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777, 0o644, "umask {mask:o}");
    }
}

#[test]
fn chdir_and_umask_options() {
    let t = Test::new("cwd");
    let tag = sleep_tag();
    let out = t.run(&mut dfork(["-c".as_ref(), t.dir.0.as_os_str(), "-m".as_ref(), "027".as_ref(), "sleep".as_ref(), tag.as_ref()]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pid = daemon_pid(&out);
    assert_eq!(std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap(), t.dir.0);
    assert_eq!(status(pid, "Umask"), "0027");
}

#[test]
fn stdout_and_stderr_files_get_output() {
    let t = Test::new("out");
    let (o, e) = (t.path("out.log"), t.path("err.log"));
    let mut cmd = dfork([
        "-q".as_ref(),
        "-o".as_ref(),
        o.as_os_str(),
        "-e".as_ref(),
        e.as_os_str(),
        "-E".as_ref(),
        "GREETING=hello".as_ref(),
        "--".as_ref(),
        "sh".as_ref(),
        "-c".as_ref(),
        "echo to-out $GREETING; echo to-err >&2".as_ref(),
    ]);
    hostile(&mut cmd, false); // umask 000 in the launcher: files must still be 0644
    let out = t.run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "-q prints nothing");
    assert!(wait_for(10, || std::fs::read_to_string(&e).unwrap_or_default() == "to-err\n"));
    assert!(wait_for(10, || std::fs::read_to_string(&o).unwrap_or_default() == "to-out hello\n"));
    for f in [&o, &e] {
        assert_eq!(std::fs::metadata(f).unwrap().permissions().mode() & 0o777, 0o644);
    }
    // -o appends: a second run adds, never truncates.
    let out = t.run(&mut dfork(["-q".as_ref(), "-o".as_ref(), o.as_os_str(), "echo".as_ref(), "again".as_ref()]));
    assert_eq!(out.status.code(), Some(0));
    assert!(wait_for(10, || std::fs::read_to_string(&o).unwrap() == "to-out hello\nagain\n"));
}

#[test]
fn output_file_symlink_is_refused() {
    let t = Test::new("outlink");
    let (victim, link) = t.planted_symlink("out.log");
    let tag = sleep_tag();
    let out = t.run(&mut dfork(["-o".as_ref(), link.as_os_str(), "sleep".as_ref(), tag.as_ref()]));
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stderr(&out), format!("dfork: open {}: is a symbolic link; refusing to follow it\n", link.display()));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(pids_with_arg(&tag).is_empty());
}

#[test]
fn env_option_sets_and_overrides_variables() {
    let t = Test::new("env");
    let tag = sleep_tag();
    let mut cmd = dfork(["-E", "DFORK_A=1", "-E", "DFORK_B=x=y", "-E", "DFORK_A=2", "sleep", &tag]);
    cmd.env("DFORK_KEEP", "kept").env("DFORK_B", "old");
    let out = t.run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pid = daemon_pid(&out);
    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let vars: Vec<&[u8]> = env.split(|&b| b == 0).collect();
    assert!(vars.contains(&&b"DFORK_A=2"[..]), "the last -E wins");
    assert!(!vars.contains(&&b"DFORK_A=1"[..]));
    assert!(vars.contains(&&b"DFORK_B=x=y"[..]), "-E replaces an inherited variable");
    assert!(!vars.contains(&&b"DFORK_B=old"[..]));
    assert!(vars.contains(&&b"DFORK_KEEP=kept"[..]), "the rest is inherited");
}

#[test]
fn foreground_keeps_the_process() {
    let t = Test::new("fg");
    let pidfile = t.path("fg.pid");
    let tag = sleep_tag();
    let mut child = std::process::Command::new(bin())
        .args(["-f".as_ref(), "-p".as_ref(), pidfile.as_os_str(), "sleep".as_ref(), tag.as_ref()])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    assert!(wait_for(10, || cmdline(pid).get(1).map(|a| a == tag.as_bytes()).unwrap_or(false)), "exec'd in place");
    assert_eq!(read_pidfile(&pidfile), pid, "the pidfile names the process the supervisor holds");
    assert_eq!(status(pid, "Umask"), "0022");
    assert_eq!(fds(pid)[0].1, Path::new("/dev/null"));
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let st = child.wait().unwrap();
    assert!(!st.success());
}

#[test]
fn closed_stdio_does_not_pollute_the_pidfile() {
    let t = Test::new("closed");
    let pidfile = t.path("c.pid");
    let tag = sleep_tag();
    let script = format!("exec {} -p {} sleep {tag} <&- >&- 2>&-", bin(), pidfile.display());
    let st = std::process::Command::new("sh").arg("-c").arg(&script).status().unwrap();
    assert_eq!(st.code(), Some(0));
    let pid = t.track(read_pidfile(&pidfile));
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap(), format!("{pid}\n"), "exactly PID\\n");
    assert_eq!(pids_with_arg(&tag), vec![pid]);
    assert!(wait_for(10, || only_stdio_and_lock(pid, &pidfile)), "{:?}", fds(pid));
}

#[test]
fn exit_status_is_right_with_sigchld_ignored() {
    let t = Test::new("chld");
    let tag = sleep_tag();
    let mut cmd = dfork(["sleep", &tag]);
    hostile(&mut cmd, true);
    let out = t.run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(pids_with_arg(&tag), vec![daemon_pid(&out)]);
    let mut cmd = dfork(["dfork-no-such-command-xyz"]);
    hostile(&mut cmd, true);
    assert_eq!(t.run(&mut cmd).status.code(), Some(127));
}

#[test]
fn path_search_and_non_utf8_arguments() {
    let t = Test::new("bytes");
    let dir = t.dir.0.join(os(b"bin-\xff\xfe"));
    std::fs::create_dir(&dir).unwrap();
    let prog = dir.join(os(b"sl\xe9ep"));
    std::fs::copy(which("sleep"), &prog).unwrap();
    let tag = sleep_tag();
    // By PATH (the directory name is not UTF-8 either), then by full path.
    let mut cmd = dfork([os(b"sl\xe9ep"), os(tag.as_bytes())]);
    cmd.env("PATH", &dir);
    let out = t.run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pid = daemon_pid(&out);
    assert_eq!(cmdline(pid)[0], b"sl\xe9ep");
    assert_eq!(std::fs::read_link(format!("/proc/{pid}/exe")).unwrap(), prog);
    let out = t.run(&mut dfork([prog.as_os_str(), os(b"1000.\xff")]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // sleep rejects the argument and exits, but it was exec'd with these bytes.
    assert!(daemon_pid(&out) > 1);
}

#[test]
fn close_range_fallback_on_old_kernels() {
    let t = Test::new("oldkernel");
    if !have("strace", "close_range_fallback_on_old_kernels") {
        return;
    }
    // Pretend to be a kernel before 5.9: close_range answers ENOSYS, so dfork
    // lists /proc/self/fd instead. The launcher's fd 7 must still be closed.
    // strace -f follows the daemon too, so it is spawned, not waited for.
    let pidfile = t.path("k.pid");
    let tag = sleep_tag();
    let mut cmd = std::process::Command::new("strace");
    cmd.args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=close_range", "-e", "inject=close_range:error=ENOSYS", bin(), "-p"])
        .arg(&pidfile)
        .args(["sleep", &tag])
        .stdin(std::process::Stdio::null());
    hostile(&mut cmd, false);
    let mut strace = cmd.spawn().unwrap();
    t.track(strace.id() as i32);
    assert!(wait_for(20, || sleepers(&tag).len() == 1), "the daemon runs");
    let pid = t.track(sleepers(&tag)[0]);
    assert!(wait_for(10, || std::fs::read_to_string(&pidfile).map(|s| s == format!("{pid}\n")).unwrap_or(false)));
    assert!(wait_for(10, || only_stdio_and_lock(pid, &pidfile)), "{:?}", fds(pid));
    kill_and_reap(pid);
    let st = strace.wait().unwrap();
    assert!(st.code().is_some());
}

fn which(prog: &str) -> std::path::PathBuf {
    let out = std::process::Command::new("sh").arg("-c").arg(format!("command -v {prog}")).output().unwrap();
    std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn help_and_version() {
    let out = dfork(["--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for opt in ["--pidfile", "--chdir", "--umask", "--stdout", "--stderr", "--env", "--foreground", "--quiet", "--heartbeat", "--every", "--format"] {
        assert!(help.contains(opt), "{opt} in --help");
    }
    for code in ["0 started", "1 already running", "2 usage error", "125 dfork failed", "126 COMMAND not executable", "127 COMMAND not found"] {
        assert!(help.contains(code), "{code} in --help");
    }
    let out = dfork(["-V"]).output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), version_line());
}


/// A command path with a slash is resolved in the directory dfork was
/// started in (as a shell, `env` and start-stop-daemon resolve it), not in
/// the daemon's `/`: programs and scripts, first start and restarts; a
/// missing one is 127, a non-executable one 126, named as written.
#[test]
fn a_relative_command_path_means_the_launchers_directory() {
    let t = Test::new("relative-command");
    let dir = t.path("work");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let marker = t.path("ran");
    let script = format!("#!/bin/sh\necho \"$0\" >> {}\nexec sleep 100.{}\n", marker.display(), unique());
    for p in ["tool", "bin/tool"] {
        std::fs::write(dir.join(p), &script).unwrap();
        std::fs::set_permissions(dir.join(p), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    std::fs::copy(which("sleep"), dir.join("mysleep")).unwrap();
    std::fs::write(dir.join("plain"), "").unwrap();
    let pidfile = t.path("r.pid");
    let start = |args: &[&str]| {
        let out = t.run(dfork(["-p".as_ref(), pidfile.as_os_str()]).args(args).current_dir(&dir));
        (code(&out), stderr(&out), out)
    };
    let lines = || std::fs::read_to_string(&marker).unwrap_or_default().lines().count();
    for (n, cmd) in ["./tool", "bin/tool"].into_iter().enumerate() {
        let (c, e, out) = start(&[cmd]);
        assert_eq!((c, e.as_str()), (0, ""), "{cmd}");
        assert!(wait_for(5, || lines() == n + 1), "{cmd} ran");
        kill_and_reap(daemon_pid(&out));
    }
    let tag = sleep_tag();
    let (c, e, out) = start(&["./mysleep", &tag]);
    assert_eq!((c, e.as_str()), (0, ""), "a program, not a script");
    kill_and_reap(daemon_pid(&out));
    // Restarts exec it again from the same directory.
    let (c, e, _) = start(&["--respawn", "--respawn-delay", "0.05", "./tool"]);
    assert_eq!((c, e.as_str()), (0, ""));
    let sup = t.track(read_pidfile(&pidfile));
    assert!(wait_for(5, || lines() == 3), "the first child ran the tool");
    let first = children(sup);
    assert_eq!(first.len(), 1);
    kill_and_reap(first[0]);
    assert!(wait_for(5, || lines() == 4), "the restart ran the tool again");
    let out = t.run(dfork(["--stop", "-p"]).arg(&pidfile));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // A script's interpreter is handed the absolute name (so it can open it).
    let d = dir.display();
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), format!("{d}/./tool\n{d}/bin/tool\n{d}/./tool\n{d}/./tool\n"));
    for (cmd, want, why) in [("./missing", 127, "No such file or directory"), ("bin/missing", 127, "No such file or directory"), ("./plain", 126, "Permission denied")] {
        let (c, e, _) = start(&[cmd]);
        assert_eq!((c, e), (want, format!("dfork: exec {cmd}: {why}\n")), "{cmd}");
        assert!(!pidfile.exists(), "{cmd}: no pidfile");
    }
}
