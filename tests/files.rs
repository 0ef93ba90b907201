//! Files that block or alias, paths with trailing slashes, and a start-up
//! killed by a resource limit: every path dfork opens gets a clear answer,
//! never a hang, and the same path the same answer in every mode.
mod common;
use common::*;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Run a launcher, but fail the test (and kill it) if it has not finished
/// within 5 s: a FIFO must never hang a start.
fn run_within(t: &Test, cmd: &mut Command) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn dfork");
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let pid = child.id() as i32;
            kill_and_reap(pid);
            panic!("{cmd:?} still running after 5 s: it hangs");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    if out.status.code() == Some(0) && out.stdout.starts_with(b"Daemon PID ") {
        t.track(daemon_pid(&out));
    }
    out
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// A reader of the FIFO at `p`, opened without waiting for a writer.
fn reader(p: &Path) -> std::fs::File {
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(p).unwrap()
}

#[test]
fn a_fifo_never_hangs_a_start() {
    let t = Test::new("files-fifo");
    let fifo = t.path("fifo");
    mkfifo(&fifo);
    let pidfile = t.path("f.pid");
    let tag = sleep_tag();
    let f = fifo.display();
    // The heartbeat's log must be a regular file: a FIFO is refused, read or not.
    let out = run_within(&t, &mut dfork(["-p".as_ref(), pidfile.as_os_str(), "--heartbeat".as_ref(), fifo.as_os_str()]));
    assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: open {f}: not a regular file\n")));
    let r = reader(&fifo);
    let out = run_within(&t, &mut dfork(["-p".as_ref(), pidfile.as_os_str(), "--heartbeat".as_ref(), fifo.as_os_str()]));
    assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: open {f}: not a regular file\n")));
    drop(r);
    // -o and -e may be FIFOs, but one that nobody reads fails the start at
    // once instead of waiting for a reader.
    for opt in ["-o", "-e"] {
        let out = run_within(&t, &mut dfork([opt.as_ref(), fifo.as_os_str(), "-p".as_ref(), pidfile.as_os_str(), "sleep".as_ref(), tag.as_ref()]));
        assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: open {f}: a FIFO or socket that nobody reads; start its reader first\n")), "{opt}");
        assert!(!pidfile.exists() && sleepers(&tag).is_empty(), "{opt}: nothing started");
    }
    // With its reader there, the daemon's output goes through it, and its
    // writes wait for the reader as a shell redirection's would.
    let mut r = reader(&fifo);
    let out = run_within(&t, &mut dfork(["-o".as_ref(), fifo.as_os_str(), "-p".as_ref(), pidfile.as_os_str(), "sh".as_ref(), "-c".as_ref(), "echo through the fifo".as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mut got = String::new();
    assert!(wait_for(5, || {
        let mut b = [0u8; 64];
        if let Ok(n) = std::io::Read::read(&mut r, &mut b) {
            got.push_str(std::str::from_utf8(&b[..n]).unwrap());
        }
        got == "through the fifo\n"
    }), "{got:?}");
}

/// A FIFO renamed over the heartbeat's log later (by anyone who can write its
/// directory) is not opened for good: the heartbeat keeps its old file, and
/// takes the next regular file put there.
#[test]
fn a_log_swapped_for_a_fifo_keeps_the_heartbeat_going() {
    let t = Test::new("files-swap");
    let (log, pidfile, fifo, fresh) = (t.path("hb.log"), t.path("hb.pid"), t.path("fifo"), t.path("fresh"));
    let out = t.run(&mut dfork(["-p".as_ref(), pidfile.as_os_str(), "--heartbeat".as_ref(), log.as_os_str(), "--every".as_ref(), "0.05".as_ref(), "--format".as_ref(), "epoch".as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    mkfifo(&fifo);
    std::fs::rename(&fifo, &log).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&fresh, "").unwrap();
    std::fs::rename(&fresh, &log).unwrap();
    assert!(wait_for(5, || std::fs::read_to_string(&log).unwrap_or_default().lines().count() >= 2), "the new log gets lines");
}

#[test]
fn one_file_for_two_purposes_is_refused() {
    let t = Test::new("files-alias");
    let tag = sleep_tag();
    let f = t.path("same");
    let fs = f.to_str().unwrap();
    let why = "is the pidfile too; nothing but the pid goes there";
    // The file missing, or left by a daemon that is gone; by the same or
    // another spelling of the path.
    let rel = format!("{}/./same", t.path("").display());
    for stale in [false, true] {
        for args in [
            vec!["-p", fs, "-o", fs, "sleep", &tag],
            vec!["-p", fs, "-e", &rel, "sleep", &tag],
            vec!["-p", &rel, "--heartbeat", fs],
            vec!["--heartbeat", fs, "-p", fs],
        ] {
            if stale {
                std::fs::write(&f, "999999\n").unwrap();
            }
            let out = t.run(&mut dfork(&args));
            let shown = if args[0] == "--heartbeat" || args[2] == "--heartbeat" { fs } else { args[3] };
            assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: open {shown}: {why}\n")), "{args:?}");
            assert!(!f.exists(), "{args:?}: the file is left neither as a pidfile nor as output");
            assert!(sleepers(&tag).is_empty(), "{args:?}: nothing started");
        }
    }
    // stdout and stderr into one file is one purpose.
    let (out_file, pidfile) = (t.path("out"), t.path("ok.pid"));
    let out = t.run(&mut dfork(["-o".as_ref(), out_file.as_os_str(), "-e".as_ref(), out_file.as_os_str(), "-p".as_ref(), pidfile.as_os_str(), "sh".as_ref(), "-c".as_ref(), "echo out; echo err >&2".as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(wait_for(5, || std::fs::read_to_string(&out_file).unwrap_or_default() == "out\nerr\n"));
}

/// `-p DIR/` is `-p DIR`: a trailing slash changes no answer, in any mode.
#[test]
fn trailing_slashes_get_the_same_answer() {
    let t = Test::new("files-slash");
    let dir = t.path("d");
    std::fs::create_dir(&dir).unwrap();
    let d = dir.display().to_string();
    for p in [d.clone(), format!("{d}/"), format!("{d}//")] {
        let out = t.run(&mut dfork(["-p", &p, "sleep", "1"]));
        assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: open {p}: not a regular file\n")), "start -p {p}");
        let out = t.run(&mut dfork(["--status", "-p", &p]));
        assert_eq!((code(&out), stderr(&out)), (4, format!("dfork: pidfile {p}: not a regular file\n")), "status -p {p}");
        let out = t.run(&mut dfork(["--stop", "-p", &p]));
        assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: pidfile {p}: not a regular file\n")), "stop -p {p}");
    }
    // A regular file named with a slash after it is no file at all.
    let reg = t.path("reg");
    std::fs::write(&reg, "").unwrap();
    let p = format!("{}/", reg.display());
    let out = t.run(&mut dfork(["-p", &p, "sleep", "1"]));
    assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: open {p}: Not a directory\n")));
    let out = t.run(&mut dfork(["--status", "-p", &p]));
    assert_eq!((code(&out), stderr(&out)), (4, format!("dfork: open {p}: Not a directory\n")));
}

/// Under a file size limit of 0 the daemon is killed by SIGXFSZ as it
/// writes its pid: the launcher names the signal and the step, removes the
/// pidfile, and nothing runs.
#[test]
fn a_start_killed_by_a_limit_is_named() {
    let t = Test::new("files-limit");
    let pidfile = t.path("x.pid");
    let tag = sleep_tag();
    let out = t.run(Command::new("sh").args(["-c", "ulimit -f 0 && exec \"$@\"", "sh", bin(), "-p"]).arg(&pidfile).args(["sleep", &tag]));
    let p = pidfile.display();
    assert_eq!(
        (code(&out), stderr(&out)),
        (125, format!("dfork: write {p}: the daemon was killed during start-up by signal {} (SIGXFSZ)\n", libc::SIGXFSZ))
    );
    assert!(!pidfile.exists() && sleepers(&tag).is_empty());
}

/// A zone file that is a FIFO (`TZ=:/path`), or a device, never hangs the
/// heartbeat's start: it is opened without blocking, is no zoneinfo file,
/// and the heartbeat runs in UTC.
#[test]
fn a_zone_file_that_is_a_fifo_or_a_device_is_utc() {
    let t = Test::new("files-tz");
    let fifo = t.path("zone");
    mkfifo(&fifo);
    for tz in [format!(":{}", fifo.display()), ":/dev/zero".to_string()] {
        let (log, p) = (t.path("tz.log"), t.path("tz.pid"));
        let out = run_within(&t, dfork(["-p".as_ref(), p.as_os_str(), "--heartbeat".as_ref(), log.as_os_str(), "--format".as_ref(), "iso8601".as_ref()]).env("TZ", &tz));
        assert_eq!(code(&out), 0, "TZ={tz}: {}", stderr(&out));
        assert!(wait_for(5, || std::fs::read_to_string(&log).unwrap_or_default().trim_end().ends_with('Z')), "TZ={tz}: UTC");
        kill_and_reap(daemon_pid(&out));
        std::fs::remove_file(&log).ok();
    }
}
