//! `--init`: dfork as a container's PID 1 (or a subreaper elsewhere), the
//! scenarios of tini's and dumb-init's own tests: the exit status passed
//! through, 128+N for a signal, signals passed on, orphans reaped, what the
//! command leaves stopped, and `docker stop` (SIGTERM to PID 1).

mod common;
use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `dfork --init ARGS...` spawned, its output kept.
fn init(t: &Test, args: &[&str]) -> Child {
    let child = dfork(["--init"].iter().chain(args)).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    t.track(child.id() as i32);
    child
}

/// Its exit code, within 20 s (-1: killed by a signal).
fn exit_code(child: Child) -> i32 {
    let pid = child.id() as i32;
    assert!(wait_for(20, || !alive(pid)), "dfork --init exits");
    code(&child.wait_with_output().unwrap())
}

#[test]
fn the_exit_status_is_passed_through() {
    let t = Test::new("init-status");
    for n in [0, 3, 255] {
        let c = init(&t, &["sh", "-c", &format!("exit {n}")]);
        assert_eq!(exit_code(c), n, "sh exited {n}");
    }
    let c = init(&t, &["/nonexistent/tool"]);
    let out = c.wait_with_output().unwrap();
    assert_eq!((code(&out), stderr(&out)), (127, "dfork: exec /nonexistent/tool: No such file or directory\n".to_string()));
    assert_eq!(exit_code(init(&t, &["/etc/hostname"])), 126, "not executable");
}

#[test]
fn a_signal_is_reported_as_128_plus_its_number() {
    let t = Test::new("init-signal");
    assert_eq!(exit_code(init(&t, &["sh", "-c", "kill -KILL $$"])), 137);
    assert_eq!(exit_code(init(&t, &["sh", "-c", "kill -TERM $$"])), 143);
    assert_eq!(exit_code(init(&t, &["sh", "-c", "kill -SEGV $$"])), 139);
}

/// A Python child that records every signal it gets, one number a line, and
/// exits 0 on SIGTERM.
const RECORDER: &str = r#"
import os, signal, sys, time
log = open(sys.argv[1], "a", buffering=1)
def got(n, _):
    log.write("%d\n" % n)
    if n == signal.SIGTERM:
        sys.exit(0)
for n in [int(a) for a in sys.argv[2:]]:
    signal.signal(n, got)
log.write("ready\n")
while True:
    time.sleep(0.01)
"#;

#[test]
fn every_signal_is_passed_on_as_it_came() {
    let name = "every_signal_is_passed_on_as_it_came";
    if !have("python3", name) {
        return;
    }
    let t = Test::new("init-forward");
    let log = t.path("got");
    // The standard signals a program may want, SIGWINCH, SIGCONT and SIGTSTP
    // (as tini passes them), and real-time ones from 35 (SIGRTMIN) to 64.
    let sigs = [
        libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2, libc::SIGALRM, libc::SIGCONT, libc::SIGTSTP, libc::SIGURG,
        libc::SIGWINCH, libc::SIGVTALRM, libc::SIGPROF, libc::SIGIO, libc::SIGPWR, libc::SIGXCPU, 35, 40, 50, 64,
    ];
    let mut args = vec!["python3".to_string(), "-c".into(), RECORDER.into(), log.to_str().unwrap().into()];
    args.extend(sigs.iter().chain([&libc::SIGTERM]).map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let c = init(&t, &args);
    let pid = c.id() as i32;
    let lines = || std::fs::read_to_string(&log).unwrap_or_default().lines().map(String::from).collect::<Vec<_>>();
    assert!(wait_for(10, || lines().first().map(String::as_str) == Some("ready")), "the recorder is ready");
    // SIGINT stops dfork's service: it goes last, with SIGTERM after it.
    for &s in sigs.iter().filter(|&&s| s != libc::SIGINT).chain([&libc::SIGINT]) {
        unsafe { libc::kill(pid, s) };
        assert!(wait_for(10, || lines().last() == Some(&s.to_string())), "signal {s} reached the child: {:?}", lines());
    }
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(exit_code(c), 0, "the child's own status after SIGTERM");
    assert_eq!(lines().last().map(String::as_str), Some("15"));
}

#[test]
fn job_control_signals_do_not_stop_dfork() {
    let t = Test::new("init-tty");
    let tag = sleep_tag();
    let c = init(&t, &["sleep", &tag]);
    let pid = c.id() as i32;
    assert!(wait_for(10, || sleepers(&tag).len() == 1), "the child runs");
    for s in [libc::SIGTTIN, libc::SIGTTOU, libc::SIGTSTP] {
        unsafe { libc::kill(pid, s) };
    }
    let state = |p: i32| stat_field(&std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap(), 3);
    let sleeper = sleepers(&tag)[0];
    // dfork ran to pass SIGTSTP on: SIGTTIN and SIGTTOU, sent first, would
    // have stopped it before that if they could.
    assert!(wait_for(10, || state(sleeper) == "T"), "SIGTSTP reached the child");
    assert_ne!(state(pid), "T", "dfork is not stopped");
    unsafe { libc::kill(sleeper, libc::SIGCONT) };
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(exit_code(c), 143);
}

#[test]
fn orphans_are_reparented_and_what_is_left_is_stopped() {
    let t = Test::new("init-subreaper");
    let (tag, stubborn) = (sleep_tag(), sleep_tag());
    // Not PID 1: dfork is a subreaper. The sleepers escape into sessions of
    // their own; one ignores SIGTERM. When sh exits, both are stopped, the
    // stubborn one with SIGKILL after 5 s, and dfork waits for them.
    let script = format!("setsid sleep {tag} & (trap '' TERM; exec setsid sleep {stubborn}) & sleep 0.5; exit 4");
    let c = init(&t, &["sh", "-c", &script]);
    let pid = c.id() as i32;
    assert!(wait_for(10, || sleepers(&tag).len() == 1 && sleepers(&stubborn).len() == 1), "both run");
    let (a, b) = (sleepers(&tag)[0], sleepers(&stubborn)[0]);
    t.track(a);
    t.track(b);
    assert!(wait_for(10, || stat_num(a, 4) == pid as i64 && stat_num(b, 4) == pid as i64), "re-parented to dfork once sh exited");
    let started = Instant::now();
    assert_eq!(exit_code(c), 4, "sh's status");
    assert!(!alive(a) && !alive(b), "nothing is left");
    assert!(started.elapsed() >= Duration::from_secs(4), "the stubborn one had its 5 s");
}

#[test]
fn as_pid_1_it_reaps_every_orphan() {
    let name = "as_pid_1_it_reaps_every_orphan";
    if !root(name) || !have("unshare", name) {
        return;
    }
    let t = Test::new("init-pid1");
    let zombies = t.path("zombies");
    // 100 grandchildren, each orphaned at once by a double fork, then exit.
    let script = format!(
        "for i in $(seq 100); do (sleep 0.1 &); done; sleep 1; grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l > {}; echo $$ >> {}; exit 5",
        zombies.display(),
        zombies.display()
    );
    let out = Command::new("unshare").args(["-pf", "--mount-proc", bin(), "--init", "sh", "-c", &script]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(code(&out), 5, "sh's status: {}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&zombies).unwrap(), "0\n2\n", "no zombie left; sh was pid 2, so dfork was pid 1");
}

#[test]
fn docker_stop_ends_it_at_once_with_the_servers_status() {
    let name = "docker_stop_ends_it_at_once_with_the_servers_status";
    if !root(name) || !have("unshare", name) || !have("busybox", name) {
        return;
    }
    let t = Test::new("init-docker-stop");
    for run in 0..20 {
        let listen = format!("127.0.0.1:{}", free_port());
        let www = t.path("www");
        std::fs::create_dir_all(&www).unwrap();
        let mut c = Command::new("unshare");
        c.args(["-pf", bin(), "--init", "busybox", "httpd", "-f", "-p", &listen, "-h", www.to_str().unwrap()]);
        let (mut unshare, pid1) = t.spawn_wrapped(&mut c);
        assert!(wait_for(10, || std::net::TcpStream::connect(&listen).is_ok()), "run {run}: httpd serves");
        let sent = Instant::now();
        unsafe { libc::kill(pid1, libc::SIGTERM) };
        let st = unshare.wait().unwrap();
        assert!(sent.elapsed() < Duration::from_secs(1), "run {run}: out within 1 s, took {:?}", sent.elapsed());
        assert_eq!(st.code(), Some(143), "run {run}: httpd's own end (TERM), never KILL");
    }
}

#[test]
fn with_respawn_it_restarts_and_exits_with_the_last_status() {
    let t = Test::new("init-respawn");
    let starts = t.path("starts");
    let script = format!("echo $$ >> {}; exec sleep {}", starts.display(), sleep_tag());
    let c = init(&t, &["--respawn", "--respawn-delay", "0.05", "sh", "-c", &script]);
    let pid = c.id() as i32;
    let n = || std::fs::read_to_string(&starts).unwrap_or_default().lines().count();
    assert!(wait_for(10, || n() == 1 && children(pid).len() == 1), "the first start");
    unsafe { libc::kill(children(pid)[0], libc::SIGKILL) };
    assert!(wait_for(10, || n() == 2 && children(pid).len() == 1), "restarted");
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(exit_code(c), 143, "the last child's status");
}

#[test]
fn init_usage() {
    for args in [
        &["--init", "--heartbeat"][..],
        &["--init", "--respawn-delay", "1", "sleep", "1"],
        &["--stop", "-p", "/tmp/x.pid", "--init"],
        &["--init", "--notify", "sleep", "1"],
    ] {
        let out = dfork(args).output().unwrap();
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn with_the_hosts_proc_it_stops_nothing_it_cannot_tell() {
    let name = "with_the_hosts_proc_it_stops_nothing_it_cannot_tell";
    if !root(name) || !have("unshare", name) {
        return;
    }
    // PID 1 of a new namespace that still sees the host's /proc: its numbers
    // name other processes here, so dfork must not take them for what
    // COMMAND left (it would wait on them, and signal whoever has their
    // numbers here). It exits at once with COMMAND's status.
    let t = Test::new("init-hosts-proc");
    let started = Instant::now();
    let mut c = Command::new("unshare");
    c.args(["-pf", bin(), "--init", "sh", "-c", "sleep 0.2; exit 6"]);
    let (mut unshare, _) = t.spawn_wrapped(&mut c);
    assert!(wait_for(3, || unshare.try_wait().unwrap().is_some()), "no drain of the host's processes: still running after {:?}", started.elapsed());
    assert_eq!(unshare.wait().unwrap().code(), Some(6));
}
