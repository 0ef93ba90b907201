//! The built-in heartbeat daemon, run as a user would: lines, timing, rotation,
//! faults, and the timestamps compared with Python's for the same second and TZ.
mod common;
use common::*;
use std::path::Path;

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p).unwrap_or_default().lines().map(str::to_string).collect()
}

fn start_hb(t: &Test, log: &Path, extra: &[&str], tz: &str) -> (i32, std::path::PathBuf) {
    let pidfile = t.path("hb.pid");
    let mut cmd = dfork(["-p".as_ref(), pidfile.as_os_str(), "--heartbeat".as_ref(), log.as_os_str()]);
    cmd.args(extra).env("TZ", tz);
    let out = t.run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pid = daemon_pid(&out);
    assert_eq!(read_pidfile(&pidfile), pid);
    // The launcher returns once the log is open; the first line comes at once.
    assert!(wait_for(10, || !lines(log).is_empty()), "first line at once");
    (pid, pidfile)
}

fn epoch_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn epoch_lines_are_one_second_apart_and_match_the_clock() {
    let t = Test::new("hb-epoch");
    let log = t.path("log");
    let (pid, _) = start_hb(&t, &log, &["--every", "1", "--format", "epoch"], "UTC");
    assert!(wait_for(20, || lines(&log).len() >= 4));
    let got: Vec<i64> = lines(&log).iter().map(|l| l.parse().unwrap()).collect();
    for w in got.windows(2) {
        assert_eq!(w[1] - w[0], 1, "ticks on a one-second grid: {got:?}");
    }
    assert!((epoch_now() - got.last().unwrap()).abs() <= 2, "{got:?}");
    // One write of a whole line per tick: no torn or merged lines.
    assert!(std::fs::read_to_string(&log).unwrap().ends_with('\n'));
    eprintln!("heartbeat VmRSS: {} (pid {pid})", status(pid, "VmRSS"));
}

#[test]
fn sigterm_removes_the_pidfile_and_exits_zero() {
    let t = Test::new("hb-term");
    let log = t.path("log");
    let (pid, pidfile) = start_hb(&t, &log, &["--every", "1"], "UTC");
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(wait_for(5, || !alive(pid)), "exits within the deadline");
    let mut st = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut st, 0) }, pid);
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, "status {st:#x}");
    assert!(!pidfile.exists(), "pidfile removed");
    assert!(std::fs::read_to_string(&log).unwrap().ends_with('\n'), "no partial line");
}

#[test]
fn sighup_reopens_after_rename_and_deletion_is_noticed() {
    let t = Test::new("hb-rotate");
    let log = t.path("log");
    let (pid, _) = start_hb(&t, &log, &["--every", "0.2", "--format", "epoch"], "UTC");
    let rotated = t.path("log.1");
    std::fs::rename(&log, &rotated).unwrap();
    unsafe { libc::kill(pid, libc::SIGHUP) };
    assert!(wait_for(10, || !lines(&log).is_empty()), "a fresh log after SIGHUP");
    // Deleted without a signal: the next tick writes a fresh file.
    std::fs::remove_file(&log).unwrap();
    assert!(wait_for(10, || !lines(&log).is_empty()), "a fresh log after deletion");
    // copytruncate: O_APPEND writes land at the new end, no hole of NULs.
    std::fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    assert!(wait_for(10, || lines(&log).len() >= 2));
    assert!(!std::fs::read(&log).unwrap().contains(&0), "no NUL hole after truncation");
    assert!(alive(pid));
}

#[test]
fn symlinked_log_is_refused_at_start_and_on_reopen() {
    let t = Test::new("hb-link");
    let (victim, log) = t.planted_symlink("log");
    let out = t.run(&mut dfork(["--heartbeat".as_ref(), log.as_os_str()]));
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stderr(&out), format!("dfork: open {}: is a symbolic link; refusing to follow it\n", log.display()));
    std::fs::remove_file(&log).unwrap();
    // Replaced by a symlink while running: the reopen must not follow it.
    let (pid, _) = start_hb(&t, &log, &["--every", "0.1"], "UTC");
    std::fs::remove_file(&log).unwrap();
    std::os::unix::fs::symlink(&victim, &log).unwrap();
    unsafe { libc::kill(pid, libc::SIGHUP) };
    std::thread::sleep(std::time::Duration::from_millis(500)); // several ticks; nothing may reach the victim
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(alive(pid));
}

#[test]
fn start_errors_reach_the_terminal() {
    let t = Test::new("hb-errors");
    let missing = t.path("no-such-dir/log");
    let pidfile = t.path("x.pid");
    let out = t.run(&mut dfork(["-p".as_ref(), pidfile.as_os_str(), "--heartbeat".as_ref(), missing.as_os_str()]));
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stderr(&out), format!("dfork: open {}: No such file or directory\n", missing.display()));
    assert!(!pidfile.exists(), "no stray pidfile");
    for bad in ["0", "-1", "abc", "86401", "1e3", ""] {
        let out = t.run(&mut dfork(["--heartbeat", "--every", bad]));
        assert_eq!(out.status.code(), Some(2), "--every {bad:?}");
        assert_eq!(stderr(&out), format!("dfork: --every '{bad}': expected seconds from 0.001 to 86400\n"));
    }
}

#[test]
fn log_is_0644_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let t = Test::new("hb-mode");
    let log = t.path("log");
    let mut cmd = dfork(["--heartbeat".as_ref(), log.as_os_str(), "-m".as_ref(), "0".as_ref()]);
    hostile(&mut cmd, false);
    let out = t.run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&log).unwrap().permissions().mode() & 0o777, 0o644);
}

#[test]
fn full_disk_drops_lines_and_resumes() {
    let t = Test::new("hb-enospc");
    if !root("full_disk_drops_lines_and_resumes") || !have("unshare", "full_disk_drops_lines_and_resumes") {
        return;
    }
    // A 16 KiB tmpfs in a private mount namespace; the daemon lives there and
    // we reach its files through /proc/PID/root.
    let dir = t.path("small");
    std::fs::create_dir(&dir).unwrap();
    let d = dir.display();
    let script = format!(
        "mount -t tmpfs -o size=16k tmpfs {d} && dd if=/dev/zero of={d}/filler bs=1k count=64 2>/dev/null; exec {} -f --heartbeat {d}/log --every 0.05 --format epoch",
        bin()
    );
    let mut child = std::process::Command::new("unshare").args(["-m", "--propagation", "private", "sh", "-c", &script]).spawn().unwrap();
    let pid = t.track(child.id() as i32);
    let inside = |name: &str| std::path::PathBuf::from(format!("/proc/{pid}/root{d}/{name}"));
    assert!(wait_for(10, || cmdline(pid).first().map(|a| a.ends_with(b"dfork")).unwrap_or(false)), "exec'd");
    // The disk is full: the daemon lives on, using no CPU to speak of.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(alive(pid));
    let before = lines(&inside("log")).len();
    std::fs::remove_file(inside("filler")).unwrap();
    assert!(wait_for(10, || lines(&inside("log")).len() > before + 3), "lines resume when space returns");
    for l in lines(&inside("log")) {
        assert!(l.parse::<i64>().is_ok(), "no torn line: {l:?}");
    }
    kill_and_reap(pid);
    child.wait().ok();
}

/// The first line's timestamp must be what Python prints for one of the
/// seconds the launch spanned, under the same TZ.
fn compare_with_python(format: &str, py: &str) {
    let zones = ["UTC", "Europe/Berlin", "America/St_Johns", "CET-1CEST,M3.5.0,M10.5.0/3", "Asia/Kolkata"];
    for tz in zones {
        let t = Test::new("hb-python");
        let log = t.path("log");
        let before = epoch_now();
        let (pid, _) = start_hb(&t, &log, &["--every", "60", "--format", format], tz);
        let after = epoch_now();
        let line = lines(&log)[0].clone();
        kill_and_reap(pid);
        let expected: Vec<String> = (before..=after)
            .map(|s| {
                let o = std::process::Command::new("python3").arg("-c").arg(py).arg(s.to_string()).env("TZ", tz).output().unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                String::from_utf8(o.stdout).unwrap().trim_end().to_string()
            })
            .collect();
        assert!(expected.contains(&line), "TZ={tz}: dfork wrote {line:?}, Python says one of {expected:?}");
    }
}

#[test]
fn ctime_matches_python_under_several_zones() {
    if !have("python3", "ctime_matches_python_under_several_zones") {
        return;
    }
    compare_with_python("ctime", "import sys,time; time.tzset(); print(time.ctime(int(sys.argv[1])))");
}

#[test]
fn iso8601_matches_python_under_several_zones() {
    if !have("python3", "iso8601_matches_python_under_several_zones") {
        return;
    }
    compare_with_python(
        "iso8601",
        "import sys,time,datetime; time.tzset(); s=datetime.datetime.fromtimestamp(int(sys.argv[1])).astimezone().isoformat(); print(s[:-6]+'Z' if s.endswith('+00:00') else s)",
    );
}
