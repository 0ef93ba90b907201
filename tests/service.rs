//! The whole service: `--stop` and `--status` find every process of it (the
//! daemon, whatever holds the pidfile's lock, the daemon's session), stop
//! them all, and never touch anything else.
mod common;
use common::*;
use std::path::Path;
use std::process::Output;

fn ctl(t: &Test, args: &[&str], pidfile: &Path) -> Output {
    t.run(dfork(args).arg("-p").arg(pidfile))
}

fn start(t: &Test, pidfile: &Path, script: &str) -> i32 {
    let out = t.run(&mut dfork(["-p".as_ref(), pidfile.as_os_str(), "sh".as_ref(), "-c".as_ref(), script.as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    daemon_pid(&out)
}

/// `sh -c 'while :; do sleep ...; done'`: the shell's children hold the lock
/// too. --status counts them; when the shell is gone they are what is left
/// (LSB 1, named); --stop ends them all and removes the pidfile.
#[test]
fn a_shell_loop_is_stopped_whole() {
    let t = Test::new("service-loop");
    let p = t.path("l.pid");
    let tag = sleep_tag();
    let _cleanup = KillTagged(tag.clone());
    let sh = start(&t, &p, &format!("while :; do sleep {tag}; done"));
    assert!(wait_for(5, || sleepers(&tag).len() == 1));
    let out = ctl(&t, &["--status"], &p);
    assert_eq!((code(&out), stdout(&out)), (0, format!("running as pid {sh}, 2 processes in all\n")));
    // The shell killed alone: its sleep holds the lock on.
    kill_and_reap(sh);
    let sleeper = sleepers(&tag)[0];
    let out = ctl(&t, &["--status"], &p);
    assert_eq!((code(&out), stdout(&out)), (1, format!("not running: pid {sleeper} holds its lock, but its daemon is gone (pid {sh})\n")));
    let out = ctl(&t, &["--stop"], &p);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(wait_for(5, || sleepers(&tag).is_empty()), "the sleep is stopped too");
    assert!(!p.exists(), "the pidfile is removed");
    let out = ctl(&t, &["--status"], &p);
    assert_eq!(code(&out), 3);
}

/// A tree that tries to escape: a grandchild in a session of its own that
/// keeps the lock, a double fork, a child that ignores TERM and closed the
/// lock but stayed in the session. --stop ends every one (KILL after the
/// first wait) and exits 0 only then.
#[test]
fn escapes_from_the_tree_are_caught() {
    let t = Test::new("service-escape");
    let p = t.path("e.pid");
    let tag = sleep_tag();
    let _cleanup = KillTagged(tag.clone());
    let script = format!(
        "setsid sleep {tag} & (sleep {tag} &) & (trap '' TERM; exec 9>&-; for fd in /proc/self/fd/*; do :; done; exec sleep {tag}) 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- & exec sleep {tag}"
    );
    start(&t, &p, &script);
    assert!(wait_for(5, || sleepers(&tag).len() == 4), "{:?}", sleepers(&tag));
    let out = ctl(&t, &["--stop", "-t", "1"], &p);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(sleepers(&tag).is_empty(), "survivors: {:?}", sleepers(&tag));
    assert!(!p.exists());
}

/// Processes that are not members are never signalled: one that opened the
/// pidfile itself (read-only, or for writing), and one whose pid is written
/// into the pidfile while the service's real members hold the lock.
#[test]
fn a_process_that_is_not_a_member_is_never_signalled() {
    let t = Test::new("service-bystander");
    let p = t.path("b.pid");
    let (tag, other) = (sleep_tag(), sleep_tag());
    let _cleanup = (KillTagged(tag.clone()), KillTagged(other.clone()));
    start(&t, &p, &format!("exec sleep {tag}"));
    assert!(wait_for(5, || sleepers(&tag).len() == 1));
    // Bystanders, outside the service: a process holding the pidfile open
    // read-only, and one holding it open for writing; started from the test.
    let reader = std::process::Command::new("sh").arg("-c").arg(format!("exec 9< '{}'; exec sleep {other}", p.display())).spawn().unwrap();
    let writer = std::process::Command::new("sh").arg("-c").arg(format!("exec 9>> '{}'; exec sleep {other}", p.display())).spawn().unwrap();
    let (r, w) = (t.track(reader.id() as i32), t.track(writer.id() as i32));
    assert!(wait_for(5, || sleepers(&other).len() == 2));
    let out = ctl(&t, &["--status"], &p);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(!stdout(&out).contains("processes in all"), "bystanders are not counted: {}", stdout(&out));
    let out = ctl(&t, &["--stop"], &p);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(sleepers(&tag).is_empty());
    assert!(alive(r) && alive(w), "the bystanders live");
    // A member holds the lock while the pidfile names a bystander.
    let daemon = start(&t, &p, &format!("sleep {tag} & exec sleep {tag}"));
    assert!(wait_for(5, || sleepers(&tag).len() == 2));
    kill_and_reap(daemon);
    std::fs::write(&p, format!("{r}\n")).unwrap();
    let out = ctl(&t, &["--stop"], &p);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(wait_for(5, || sleepers(&tag).is_empty()), "the member is stopped");
    assert!(alive(r), "the bystander named in the pidfile lives");
}

/// BusyBox httpd forks itself into the background unless given -f: the pid
/// dfork started exits at once, the real httpd holds the lock. --status
/// says so (LSB 1, naming it), --stop stops it and nothing is left.
#[test]
fn a_daemon_that_forks_itself_is_stopped() {
    if !have("busybox", "a_daemon_that_forks_itself_is_stopped") {
        return;
    }
    let t = Test::new("service-httpd");
    let p = t.path("h.pid");
    let www = t.path("www");
    std::fs::create_dir(&www).unwrap();
    let port = 20000 + (std::process::id() % 10000) as u16;
    let _cleanup = KillTagged(format!("127.0.0.1:{port}"));
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "busybox".as_ref(), "httpd".as_ref(), "-p".as_ref(), format!("127.0.0.1:{port}").as_ref(), "-h".as_ref(), www.as_os_str()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let started = daemon_pid(&out);
    let httpd = || pids_with_arg(&format!("127.0.0.1:{port}"));
    assert!(wait_for(5, || matches!(httpd()[..], [p] if p != started)), "httpd forked itself: {:?}", httpd());
    let server = t.track(httpd()[0]);
    assert!(wait_for(5, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()), "httpd serves");
    let out = ctl(&t, &["--status"], &p);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("pid {server} holds its lock")), "{}", stdout(&out));
    let out = ctl(&t, &["--stop"], &p);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(httpd().is_empty() && !p.exists());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "nothing serves");
}

/// 200 starts and stops of a small tree: none leaves a survivor, and every
/// stop says 0 only once nothing is left.
#[test]
fn two_hundred_stops_leave_no_survivor() {
    let t = Test::new("service-200");
    let p = t.path("s.pid");
    let tag = sleep_tag();
    let _cleanup = KillTagged(tag.clone());
    for i in 0..200 {
        start(&t, &p, &format!("sleep {tag} & (sleep {tag} &) & exec sleep {tag}"));
        let out = ctl(&t, &["--stop"], &p);
        assert_eq!((code(&out), stderr(&out)), (0, String::new()), "round {i}");
        assert!(sleepers(&tag).is_empty(), "round {i}: survivors {:?}", sleepers(&tag));
    }
}
