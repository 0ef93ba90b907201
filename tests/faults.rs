//! Injected faults, as `../shared/HAZARDS.md` lists them: a root without
//! /dev/null, descriptor limits, a read-only or vanished pidfile directory,
//! the launcher or its children killed in each phase, a log directory that
//! disappears, and many starts and stops in a row.
mod common;
use common::*;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};

#[test]
fn no_dev_null_in_the_root_is_a_clear_error() {
    if !root("no_dev_null_in_the_root_is_a_clear_error") {
        return;
    }
    let t = Test::new("fault-devnull");
    let root = t.path("bare");
    std::fs::create_dir(&root).unwrap();
    std::fs::copy(bin(), root.join("dfork")).unwrap();
    // With fds 0-2 open, and with all three closed: no daemon may get a
    // closed stdio descriptor (its first open would become its stdout).
    for closed in [false, true] {
        let mut cmd = chrooted(&root, &["-p", "/d.pid", "/dfork", "--version"]);
        if closed {
            unsafe {
                cmd.pre_exec(|| {
                    for fd in 0..3 {
                        libc::close(fd);
                    }
                    Ok(())
                });
            }
        }
        let out = t.run(cmd.stderr(Stdio::piped()));
        assert_eq!(code(&out), 125, "closed={closed}");
        if !closed {
            assert_eq!(stderr(&out), "dfork: open /dev/null: No such file or directory\n");
        }
        assert!(!root.join("d.pid").exists(), "no pidfile");
    }
}

/// Run `dfork ARGS` with RLIMIT_NOFILE at `n`.
fn with_nofile(n: u64, args: &[&std::ffi::OsStr]) -> Output {
    let mut c = dfork(args);
    unsafe {
        c.pre_exec(move || {
            let lim = libc::rlimit { rlim_cur: n, rlim_max: n };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c.output().unwrap()
}

#[test]
fn the_smallest_descriptor_limit_that_works_and_one_below() {
    let t = Test::new("fault-nofile");
    let p = t.path("d.pid");
    let log = t.path("hb.log");
    let tag = sleep_tag();
    let modes: [(&str, Vec<&std::ffi::OsStr>); 2] = [
        ("exec", vec!["-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]),
        ("heartbeat", vec!["-p".as_ref(), p.as_os_str(), "--heartbeat".as_ref(), log.as_os_str()]),
    ];
    for (mode, args) in modes {
        let mut smallest = None;
        for n in 3..=16u64 {
            let out = with_nofile(n, &args);
            if code(&out) == 0 {
                let pid = t.track(daemon_pid(&out));
                assert_eq!(read_pidfile(&p), pid);
                kill_and_reap(pid);
                std::fs::remove_file(&p).ok();
                smallest = Some(n);
                break;
            }
            // Below the limit that works: one clear line, nothing left behind.
            assert_eq!(code(&out), 125, "{mode}, {n} descriptors: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.starts_with("dfork: ") && err.ends_with(": No file descriptors available\n") && err.lines().count() == 1, "{mode}, {n}: {err:?}");
            assert!(!p.exists(), "{mode}, {n}: no pidfile");
            assert!(sleepers(&tag).is_empty(), "{mode}, {n}: no daemon");
        }
        let n = smallest.unwrap_or_else(|| panic!("{mode}: no limit up to 16 works"));
        eprintln!("{mode}: works with {n} descriptors, fails cleanly with {}", n - 1);
        assert!(n > 3, "{mode}: the limit below it was tried");
    }
}

#[test]
fn read_only_missing_directory_and_odd_pidfiles_fail_before_forking() {
    let name = "read_only_missing_directory_and_odd_pidfiles_fail_before_forking";
    if !root(name) || !have("unshare", name) || !have("strace", name) {
        return;
    }
    let t = Test::new("fault-pidfile");
    let tag = sleep_tag();
    // Every fork fails (strace injects EAGAIN): an error found after forking
    // would read "fork: Resource temporarily unavailable" instead.
    let no_fork = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "inject=fork,clone:error=EAGAIN", bin()];
    // A read-only filesystem (a tmpfs mounted ro in a private mount namespace).
    let ro = t.path("ro");
    std::fs::create_dir(&ro).unwrap();
    let script = format!("mount -t tmpfs -o ro tmpfs {0} && exec {1} -p {0}/d.pid sleep {2}", ro.display(), no_fork.join(" "), tag);
    let out = Command::new("unshare").args(["-m", "--propagation", "private", "sh", "-c", &script]).output().unwrap();
    assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: open {}/d.pid: Read-only file system\n", ro.display())));
    // A directory that does not exist, a directory, a FIFO.
    let missing = t.path("gone/d.pid");
    let dir = t.path("a-dir");
    std::fs::create_dir(&dir).unwrap();
    let fifo = t.path("a-fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    for (p, why) in [(&missing, "No such file or directory"), (&dir, "not a regular file"), (&fifo, "not a regular file")] {
        let out = t.run(Command::new(no_fork[0]).args(&no_fork[1..]).arg("-p").arg(p).args(["sleep", &tag]));
        assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: open {}: {why}\n", p.display())));
    }
    assert!(sleepers(&tag).is_empty() && !missing.exists());
}

/// Start `dfork -p P sleep TAG` under strace with `inject`; the launcher's
/// output (strace waits for every process it follows).
fn start_under_strace(t: &Test, p: &Path, tag: &str, inject: &str) -> Output {
    let out = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", inject, bin(), "-p"])
        .arg(p)
        .args(["sleep", tag])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let strace = t.track(out.id() as i32);
    // strace waits for every process it follows: a daemon that started
    // (which these injections must prevent) is killed so the test ends.
    wait_for(10, || !sleepers(tag).is_empty() || !alive(strace));
    for pid in sleepers(tag) {
        kill_and_reap(t.track(pid));
    }
    out.wait_with_output().unwrap()
}

#[test]
fn killed_in_each_phase_a_start_is_whole_or_leaves_nothing() {
    let name = "killed_in_each_phase_a_start_is_whole_or_leaves_nothing";
    if !have("strace", name) {
        return;
    }
    let t = Test::new("fault-kill");
    let p = t.path("d.pid");
    // The middle process killed between the two forks (at its setsid), the
    // daemon killed before it writes the pidfile (at its chdir): the
    // launcher says so, removes the pidfile, and nothing runs. (strace
    // counts calls per process: these are calls only those processes make.)
    // The launcher names the signal that killed the daemon (it is then the
    // launcher's child: a subreaper's); a middle process killed before it
    // forked leaves no daemon to name.
    for (inject, why) in [
        ("inject=setsid:signal=SIGKILL", "the daemon died during start-up"),
        ("inject=chdir:signal=SIGKILL", "the daemon was killed during start-up by signal 9 (SIGKILL)"),
    ] {
        let tag = sleep_tag();
        let out = start_under_strace(&t, &p, &tag, inject);
        assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: start: {why}\n")), "{inject}");
        assert!(!p.exists() && sleepers(&tag).is_empty(), "{inject}: nothing left");
    }
    // The launcher killed before its first fork (at its pipe2, at the fork,
    // a clone system call):
    // nothing runs and no pidfile is left, since the daemon creates it.
    for inject in ["inject=pipe2:signal=SIGKILL:when=1", "inject=fork,clone:signal=SIGKILL:when=1"] {
        let tag = sleep_tag();
        let out = Command::new("strace").args(["-qq", "-o", "/dev/null", "-e", inject, bin(), "-p"]).arg(&p).args(["sleep", &tag]).output().unwrap();
        assert_eq!(out.status.signal(), Some(libc::SIGKILL), "{inject}: the launcher was killed (strace passes it on)");
        assert!(sleepers(&tag).is_empty(), "{inject}: killed before forking, nothing runs");
        assert!(!p.exists(), "{inject}: no pidfile left");
    }
    // The launcher killed while it waits (at its first read: the status
    // pipe; only the launcher is traced): the daemon still starts whole,
    // with its pidfile.
    let tag = sleep_tag();
    let mut c = Command::new("strace");
    c.args(["-qq", "-o", "/dev/null", "-e", "inject=read:signal=SIGKILL:when=1", bin(), "-p"]).arg(&p).args(["sleep", &tag]);
    let child = c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    t.track(child.id() as i32);
    assert!(wait_for(10, || sleepers(&tag).len() == 1 && p.exists() && std::fs::read_to_string(&p).unwrap_or_default().ends_with('\n')));
    let pid = sleepers(&tag)[0];
    t.track(pid);
    assert_eq!(read_pidfile(&p), pid);
    let o = dfork(["--stop".as_ref(), "-p".as_ref(), p.as_os_str()]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!p.exists());
}

#[test]
fn a_stopped_launcher_still_reports_the_start() {
    let t = Test::new("fault-sigstop");
    let p = t.path("d.pid");
    let tag = sleep_tag();
    let launcher = dfork(["-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let lpid = launcher.id() as i32;
    unsafe { libc::kill(lpid, libc::SIGSTOP) };
    // Wherever it stopped, the daemon starts whole; SIGCONT lets the
    // launcher report it.
    std::thread::sleep(std::time::Duration::from_millis(200));
    unsafe { libc::kill(lpid, libc::SIGCONT) };
    let out = launcher.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = t.track(daemon_pid(&out));
    assert_eq!(read_pidfile(&p), pid);
    assert_eq!(sleepers(&tag), vec![pid]);
}

#[test]
fn the_log_directory_removed_while_running() {
    let t = Test::new("fault-logdir");
    let dir = t.path("logs");
    std::fs::create_dir(&dir).unwrap();
    let log = dir.join("hb.log");
    let p = t.path("hb.pid");
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "--heartbeat".as_ref(), log.as_os_str(), "--every".as_ref(), "0.05".as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = daemon_pid(&out);
    std::fs::remove_dir_all(&dir).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300)); // ticks with nowhere to reopen
    assert!(alive(pid), "alive without its directory");
    std::fs::create_dir(&dir).unwrap();
    assert!(wait_for(10, || std::fs::read_to_string(&log).unwrap_or_default().lines().count() >= 2), "a fresh log once the directory is back");
    assert!(std::fs::read_to_string(&log).unwrap().ends_with('\n'));
}

#[test]
fn a_thousand_starts_and_stops_leak_nothing() {
    let t = Test::new("fault-cycles");
    let p = t.path("d.pid");
    let tag = sleep_tag();
    let fds_before = std::fs::read_dir("/proc/self/fd").unwrap().count();
    for i in 0..1000 {
        let out = t.run(&mut dfork(["-q".as_ref(), "-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]));
        assert_eq!(code(&out), 0, "cycle {i}: {}", stderr(&out));
        let pid = read_pidfile(&p);
        if i % 100 == 0 {
            assert!(wait_for(10, || only_stdio_and_lock(pid, &p)), "cycle {i}: the daemon holds 0-2 and the lock only");
        }
        let o = dfork(["--stop".as_ref(), "-p".as_ref(), p.as_os_str()]).output().unwrap();
        assert_eq!(code(&o), 0, "cycle {i}: {}", stderr(&o));
        reap(pid);
    }
    assert!(sleepers(&tag).is_empty(), "no daemon left");
    assert!(!p.exists());
    // Process-wide counts mean something only when this test has the process
    // to itself (nextest); under `cargo test` other tests share it.
    if std::env::var("NEXTEST_EXECUTION_MODE").as_deref() == Ok("process-per-test") {
        assert_eq!(std::fs::read_dir("/proc/self/fd").unwrap().count(), fds_before, "no descriptor leaked here");
        let zombies = children(std::process::id() as i32).into_iter().filter(|&c| !alive(c)).count();
        assert_eq!(zombies, 0, "no zombie");
    }
}

#[test]
fn two_launchers_racing_a_hundred_times() {
    let t = Test::new("fault-race2");
    let p = t.path("d.pid");
    let tag = sleep_tag();
    for trial in 0..100 {
        let spawn = || {
            dfork(["-q".as_ref(), "-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]).stderr(Stdio::null()).spawn().unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let mut codes = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()].map(|o| code(&o));
        codes.sort();
        assert_eq!(codes, [0, 1], "trial {trial}: one starts, one finds it running");
        let running = sleepers(&tag);
        assert_eq!(running.len(), 1, "trial {trial}: exactly one daemon");
        t.track(running[0]);
        assert_eq!(read_pidfile(&p), running[0]);
        let o = dfork(["--stop".as_ref(), "-p".as_ref(), p.as_os_str()]).output().unwrap();
        assert_eq!(code(&o), 0, "trial {trial}: {}", stderr(&o));
        reap(running[0]);
    }
}
