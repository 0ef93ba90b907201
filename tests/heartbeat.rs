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
    let last = *got.last().unwrap();
    let now = epoch_now();
    assert!(now - last <= 1 && now >= last, "the last line ({last}) is within 1 s of the clock ({now})");
    // One write of a whole line per tick: no torn or merged lines.
    assert!(std::fs::read_to_string(&log).unwrap().ends_with('\n'));
    eprintln!("heartbeat VmRSS: {} (pid {pid})", status(pid, "VmRSS"));
}

#[test]
fn sigterm_and_sigint_remove_the_pidfile_and_exit_zero() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let t = Test::new("hb-term");
        let log = t.path("log");
        let (pid, pidfile) = start_hb(&t, &log, &["--every", "1"], "UTC");
        unsafe { libc::kill(pid, sig) };
        assert!(wait_for(5, || !alive(pid)), "exits on signal {sig}");
        let mut st = 0;
        assert_eq!(unsafe { libc::waitpid(pid, &mut st, 0) }, pid);
        assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, "signal {sig}: status {st:#x}");
        assert!(!pidfile.exists(), "pidfile removed after signal {sig}");
        assert!(std::fs::read_to_string(&log).unwrap().ends_with('\n'), "no partial line");
    }
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
    for bad in ["0", "-1", "abc", "86401", "1e3"] {
        let out = t.run(&mut dfork(["--heartbeat", "--every", bad]));
        assert_eq!(out.status.code(), Some(2), "--every {bad:?}");
        assert_eq!(stderr(&out), format!("dfork: --every '{bad}': expected seconds from 0.001 to 86400\n"));
    }
    let out = t.run(&mut dfork(["--heartbeat", "--every", ""]));
    assert_eq!((out.status.code(), stderr(&out).as_str()), (Some(2), "dfork: empty argument '': options take no empty values\n"));
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

/// What Python prints with `py` (which formats `sys.argv[1]`) for each
/// second from `before` to `after`, under `tz`.
fn python_says(py: &str, tz: &str, before: i64, after: i64) -> Vec<String> {
    (before..=after)
        .map(|s| {
            let o = std::process::Command::new("python3").arg("-c").arg(py).arg(s.to_string()).env("TZ", tz).output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8(o.stdout).unwrap().trim_end().to_string()
        })
        .collect()
}

const PY_CTIME: &str = "import sys,time; time.tzset(); print(time.ctime(int(sys.argv[1])))";
const PY_ISO: &str = "import sys,time,datetime; time.tzset(); s=datetime.datetime.fromtimestamp(int(sys.argv[1])).astimezone().isoformat(); print(s[:-6]+'Z' if s.endswith('+00:00') else s)";

/// The first line's timestamp must be what Python prints for one of the
/// seconds the launch spanned, under the same TZ.
fn compare_with_python(format: &str, py: &str) {
    let zones = ["UTC", "Europe/Berlin", "America/St_Johns", "CET-1CEST,M3.5.0,M10.5.0/3", "Asia/Kolkata", ":/usr/share/zoneinfo/Asia/Kolkata"];
    for tz in zones {
        let t = Test::new("hb-python");
        let log = t.path("log");
        let before = epoch_now();
        let (pid, _) = start_hb(&t, &log, &["--every", "60", "--format", format], tz);
        let after = epoch_now();
        let line = lines(&log)[0].clone();
        kill_and_reap(pid);
        let expected = python_says(py, tz, before, after);
        assert!(expected.contains(&line), "TZ={tz}: dfork wrote {line:?}, Python says one of {expected:?}");
    }
}

#[test]
fn etc_localtime_when_tz_is_unset_and_a_root_without_zoneinfo() {
    let name = "etc_localtime_when_tz_is_unset_and_a_root_without_zoneinfo";
    if !root(name) || !have("unshare", name) || !have("python3", name) {
        return;
    }
    let t = Test::new("hb-localtime");
    // TZ unset: /etc/localtime, here Asia/Kolkata bind-mounted over it in a
    // private mount namespace.
    let log = t.path("log");
    let script = format!(
        "mount --bind /usr/share/zoneinfo/Asia/Kolkata /etc/localtime && exec env -u TZ {} -q --heartbeat {} --every 60 --format iso8601",
        bin(),
        log.display()
    );
    let before = epoch_now();
    let out = std::process::Command::new("unshare").args(["-m", "--propagation", "private", "sh", "-c", &script]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(wait_for(10, || !lines(&log).is_empty()));
    let after = epoch_now();
    let pids = pids_with_arg(&log.display().to_string());
    pids.iter().for_each(|&p| {
        t.track(p);
    });
    let line = lines(&log)[0].clone();
    let expected = python_says(PY_ISO, "Asia/Kolkata", before, after);
    assert!(expected.contains(&line), "/etc/localtime: dfork wrote {line:?}, Python says one of {expected:?}");
    // A root with nothing but dfork and /dev/null: a POSIX rule needs no file,
    // a zone name that is not there means UTC, and chdir / changes nothing.
    let root = empty_root(&t);
    for (tz, want) in [("CET-1CEST,M3.5.0,M10.5.0/3", "CET-1CEST,M3.5.0,M10.5.0/3"), ("Europe/Berlin", "UTC")] {
        let before = epoch_now();
        let out = t.run(chrooted(&root, &["-p", "/hb.pid", "--heartbeat", "/hb.log", "--every", "60", "--format", "iso8601"]).env("TZ", tz));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let log = root.join("hb.log");
        assert!(wait_for(10, || !lines(&log).is_empty()));
        let after = epoch_now();
        let line = lines(&log)[0].clone();
        kill_and_reap(daemon_pid(&out));
        std::fs::remove_file(&log).unwrap();
        let expected = python_says(PY_ISO, want, before, after);
        assert!(expected.contains(&line), "empty root, TZ={tz}: dfork wrote {line:?}, Python ({want}) says one of {expected:?}");
    }
}

#[test]
fn ctime_matches_python_under_several_zones() {
    if !have("python3", "ctime_matches_python_under_several_zones") {
        return;
    }
    compare_with_python("ctime", PY_CTIME);
}

#[test]
fn iso8601_matches_python_under_several_zones() {
    if !have("python3", "iso8601_matches_python_under_several_zones") {
        return;
    }
    compare_with_python("iso8601", PY_ISO);
}

/// Epoch values of the lines of `p` (each must be a whole number).
fn epochs(p: &Path) -> Vec<i64> {
    lines(p).iter().map(|l| l.parse().unwrap_or_else(|_| panic!("torn line {l:?}"))).collect()
}

#[test]
fn no_burst_after_sigstop_and_sigcont() {
    let t = Test::new("hb-stop");
    let log = t.path("log");
    let (pid, _) = start_hb(&t, &log, &["--every", "1", "--format", "epoch"], "UTC");
    assert!(wait_for(10, || lines(&log).len() >= 2));
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    std::thread::sleep(std::time::Duration::from_millis(3500)); // three ticks missed: no test timing depends on it
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let n = lines(&log).len();
    assert!(wait_for(15, || lines(&log).len() >= n + 2), "ticks go on after SIGCONT");
    // Catching up would write the missed ticks at once: lines of the same second.
    let got = epochs(&log);
    assert!(got.windows(2).all(|w| w[1] > w[0]), "one line per second at most, no burst: {got:?}");
    assert!(got.windows(2).any(|w| w[1] - w[0] >= 3), "the stop left a gap: {got:?}");
}

/// The absolute deadlines of the `clock_nanosleep` calls in an strace log,
/// each with whether the call was interrupted (injected EINTR).
fn deadlines(trace: &str) -> Vec<(i128, bool)> {
    trace
        .lines()
        .filter(|l| l.contains("clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {tv_sec="))
        .filter(|l| l.contains(") = "))
        .map(|l| {
            let num = |key: &str| -> i128 {
                let rest = &l[l.find(key).unwrap() + key.len()..];
                rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap()].parse().unwrap()
            };
            (num("tv_sec=") * 1_000_000_000 + num("tv_nsec="), l.contains("EINTR"))
        })
        .collect()
}

#[test]
fn injected_eintr_never_moves_the_grid() {
    if !have("strace", "injected_eintr_never_moves_the_grid") {
        return;
    }
    let t = Test::new("hb-eintr");
    let log = t.path("log");
    let trace = t.path("trace");
    // Every second clock_nanosleep fails with EINTR (no real signal): 600+
    // ticks of 10 ms, in the foreground under strace.
    let (mut child, pid) = t.spawn_wrapped(
        std::process::Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=clock_nanosleep", "-e", "inject=clock_nanosleep:error=EINTR:when=2+2", "-o"])
            .arg(&trace)
            .args([bin(), "-f", "--heartbeat"])
            .arg(&log)
            .args(["--every", "0.01", "--format", "epoch"]),
    );
    let done = wait_for(120, || deadlines(&std::fs::read_to_string(&trace).unwrap_or_default()).len() >= 1300);
    kill_and_reap(pid);
    child.wait().ok();
    assert!(done, "600 ticks under strace within two minutes");
    let d = deadlines(&std::fs::read_to_string(&trace).unwrap());
    let first = d[0].0;
    let mut ticks = std::collections::BTreeSet::new();
    for (i, &(at, intr)) in d.iter().enumerate() {
        // Every deadline is t0 + k x 10 ms, exactly: no drift, ever.
        assert_eq!((at - first) % 10_000_000, 0, "deadline {i} off the grid: {at} vs {first}");
        // An interrupted sleep is resumed to the same deadline.
        if intr {
            if let Some(next) = d.get(i + 1) {
                assert_eq!(next.0, at, "an interrupted sleep resumes the same deadline ({i})");
            }
        }
        ticks.insert(at);
    }
    assert!(d.iter().filter(|x| x.1).count() >= 600, "EINTR was injected");
    assert!(ticks.len() >= 600, "{} ticks", ticks.len());
    // A line per tick, none torn.
    assert!(epochs(&log).len() >= 600);
}

#[test]
fn huge_monotonic_clock_in_a_time_namespace() {
    let name = "huge_monotonic_clock_in_a_time_namespace";
    if !root(name) || !have("unshare", name) {
        return;
    }
    let t = Test::new("hb-timens");
    let log = t.path("log");
    // 2^32 s of uptime: about as far as the kernel lets a time namespace go.
    let (mut child, pid) = t.spawn_wrapped(
        std::process::Command::new("unshare")
            .args(["-T", "--monotonic", "4294967296", "--fork", bin(), "-f", "--heartbeat"])
            .arg(&log)
            .args(["--every", "0.1", "--format", "epoch"]),
    );
    let ok = wait_for(20, || lines(&log).len() >= 5);
    let got = epochs(&log);
    kill_and_reap(pid);
    child.wait().ok();
    assert!(ok, "ticks go on with a monotonic clock near 2^32 s: {got:?}");
    assert!((epoch_now() - got.last().unwrap()).abs() <= 1, "{got:?}");
    assert!(got.windows(2).all(|w| w[1] - w[0] <= 1), "{got:?}");
}

fn set_nofile(pid: i32, n: u64) {
    let lim = libc::rlimit { rlim_cur: n, rlim_max: 4096 };
    let r = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &lim, std::ptr::null_mut()) };
    assert_eq!(r, 0, "prlimit: {}", std::io::Error::last_os_error());
}

#[test]
fn emfile_on_reopen_keeps_the_old_log_and_retries() {
    let t = Test::new("hb-emfile");
    let log = t.path("log");
    let (pid, _) = start_hb(&t, &log, &["--every", "0.1", "--format", "epoch"], "UTC");
    // No descriptor number left: the limit is the lowest free one.
    let held: Vec<i32> = fds(pid).iter().map(|f| f.0).collect();
    let lowest_free = (0..).find(|n| !held.contains(n)).unwrap();
    set_nofile(pid, lowest_free as u64);
    let rotated = t.path("log.1");
    std::fs::rename(&log, &rotated).unwrap();
    let n = lines(&rotated).len();
    assert!(wait_for(10, || lines(&rotated).len() >= n + 3), "the old descriptor keeps the lines");
    assert!(!log.exists() && alive(pid), "no reopen possible, still alive");
    set_nofile(pid, 1024);
    assert!(wait_for(10, || lines(&log).len() >= 2), "reopened once descriptors are available");
}

#[test]
fn file_size_limit_drops_lines_not_the_daemon() {
    use std::os::unix::process::CommandExt;
    let t = Test::new("hb-fsize");
    let log = t.path("log");
    let pidfile = t.path("hb.pid");
    let mut cmd = dfork(["-p".as_ref(), pidfile.as_os_str(), "--heartbeat".as_ref(), log.as_os_str()]);
    cmd.args(["--every", "0.05", "--format", "epoch"]);
    // 100 bytes: nine lines of 11 bytes, then a line that is cut after one byte.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit { rlim_cur: 100, rlim_max: 100 };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            Ok(())
        });
    }
    let out = t.run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pid = daemon_pid(&out);
    assert!(wait_for(10, || std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) == 100), "the log fills to the limit");
    std::thread::sleep(std::time::Duration::from_millis(300)); // several ticks at the limit: EFBIG, not SIGXFSZ
    assert!(alive(pid), "SIGXFSZ did not kill the daemon");
    let full = std::fs::read(&log).unwrap();
    assert_eq!(full.len(), 100);
    // copytruncate: the rest of the cut line comes first, then whole lines.
    std::fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    assert!(wait_for(10, || lines(&log).len() >= 3), "lines resume");
    let mut both = full.clone();
    both.extend(std::fs::read(&log).unwrap());
    let text = String::from_utf8(both).unwrap();
    for l in text.lines() {
        assert!(l.len() == 10 && l.parse::<i64>().is_ok(), "old + new content are whole lines: {l:?}");
    }
}
