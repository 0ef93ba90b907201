//! Readiness (`--ready-fd`, `--notify`, `--wait`) and supervision
//! (`--respawn`): the real binary.
mod common;
use common::*;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

/// A datagram sender for `NOTIFY_SOCKET`, as sd_notify(3) speaks it: each
/// argument is a message (`\n` separates lines), `sleep=S` pauses; then it
/// runs for a long time, so the daemon stays up.
const NOTIFY: &str = r#"
import os, socket, sys, time
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"): addr = "\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for m in sys.argv[1:]:
    if m.startswith("sleep="): time.sleep(float(m[6:])); continue
    s.sendto(m.replace("\\n", "\n").encode(), addr)
time.sleep(1000)
"#;

fn start(t: &Test, args: &[&str]) -> Output {
    t.run(&mut dfork(args))
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn ready_fd_the_launcher_returns_after_the_newline_not_before() {
    let t = Test::new("ready-fd");
    let (p, mark) = (t.path("d.pid"), t.path("mark"));
    let script = format!("sleep 1; : > {}; echo >&3; exec sleep {}", mark.display(), sleep_tag());
    let t0 = Instant::now();
    let out = start(&t, &["--ready-fd", "3", "-p", path_str(&p), "sh", "-c", &script]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(t0.elapsed() >= Duration::from_secs(1), "returned before the daemon was ready");
    assert!(mark.exists(), "the daemon wrote its newline after the mark");
    let pid = daemon_pid(&out);
    assert_eq!(read_pidfile(&p), pid);
    assert!(alive(pid));
}

#[test]
fn ready_fd_is_descriptor_n_even_where_dfork_keeps_its_own() {
    // N = 3 and N = 4 are where dfork's pidfile and /dev/null land without
    // care; N = 9 is above them. The daemon sees a pipe there, nothing more.
    for n in ["3", "4", "9"] {
        let t = Test::new("ready-fd-n");
        let p = t.path("d.pid");
        let script = format!("[ -p /proc/self/fd/{n} ] || exit 9; echo >&{n}; exec sleep {}", sleep_tag());
        let out = start(&t, &["--ready-fd", n, "-p", path_str(&p), "sh", "-c", &script]);
        assert_eq!(code(&out), 0, "fd {n}: {}", stderr(&out));
        let pid = daemon_pid(&out);
        let open: Vec<i32> = fds(pid).into_iter().map(|(fd, _)| fd).collect();
        assert!(open.contains(&n.parse().unwrap()), "fd {n} stays open in the daemon: {open:?}");
        assert_eq!(read_pidfile(&p), pid, "the lock survived");
    }
}

#[test]
fn notify_ready_1_from_the_daemon() {
    if !have("python3", "notify_ready_1_from_the_daemon") {
        return;
    }
    let t = Test::new("notify");
    let p = t.path("d.pid");
    let t0 = Instant::now();
    let out = start(&t, &["--notify", "-p", path_str(&p), "python3", "-c", NOTIFY, "STATUS=warming up", "sleep=1", "READY=1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(t0.elapsed() >= Duration::from_secs(1), "returned before READY=1");
    let pid = daemon_pid(&out);
    assert_eq!(read_pidfile(&p), pid);
    // NOTIFY_SOCKET names an abstract socket: nothing on any file system.
    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let var = env.split(|&c| c == 0).find(|v| v.starts_with(b"NOTIFY_SOCKET=")).expect("NOTIFY_SOCKET set");
    assert!(var.starts_with(b"NOTIFY_SOCKET=@"), "{}", String::from_utf8_lossy(var));
}

#[test]
fn notify_from_another_process_is_ignored() {
    if !have("python3", "notify_from_another_process_is_ignored") {
        return;
    }
    let t = Test::new("notify-other");
    let p = t.path("d.pid");
    // The daemon is sh; READY=1 comes from its child, so it is not heard.
    let script = format!("python3 -c '{}' READY=1 & exec sleep {}", NOTIFY.replace('\'', "'\\''"), sleep_tag());
    let out = start(&t, &["--notify", "-w", "1.5", "-p", path_str(&p), "sh", "-c", &script]);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let pid = read_pidfile(&p);
    t.track(pid);
    for c in children(pid) {
        t.track(c);
    }
    assert!(stderr(&out).contains("not ready after 1500 ms; left running as pid"), "{}", stderr(&out));
}

#[test]
fn readiness_works_where_the_subreaper_is_refused() {
    // Older qemu-user and some Linux layers refuse PR_SET_CHILD_SUBREAPER:
    // --ready-fd and --notify still start the daemon and wait for it.
    let name = "readiness_works_where_the_subreaper_is_refused";
    if !have("strace", name) || !have("python3", name) {
        return;
    }
    let t = Test::new("no-subreaper");
    for (ready, file) in [("--notify", "n.pid"), ("--ready-fd", "r.pid")] {
        let p = t.path(file);
        let mut cmd = std::process::Command::new("strace");
        // The launcher alone is traced (no -f): it is the one that asks.
        cmd.args(["-qq", "-o", "/dev/null", "-e", "trace=prctl", "-e", "inject=prctl:error=EINVAL", bin(), ready]);
        if ready == "--ready-fd" {
            cmd.args(["3", "-p", path_str(&p), "sh", "-c", &format!("sleep 1; echo >&3; exec sleep {}", sleep_tag())]);
        } else {
            cmd.args(["-p", path_str(&p), "python3", "-c", NOTIFY, "sleep=1", "READY=1"]);
        }
        let t0 = Instant::now();
        let out = t.run(&mut cmd);
        assert_eq!(code(&out), 0, "{ready}: {}", stderr(&out));
        assert!(t0.elapsed() >= Duration::from_secs(1), "{ready}: returned before the daemon was ready");
        let pid = daemon_pid(&out);
        assert_eq!(read_pidfile(&p), pid);
        assert!(alive(pid));
    }
}

#[test]
fn notify_mainpid_and_extend_timeout() {
    if !have("python3", "notify_mainpid_and_extend_timeout") {
        return;
    }
    let t = Test::new("notify-extend");
    let p = t.path("d.pid");
    // -w 2, but the daemon asks for 20 s more at once and is ready after 3.
    let t0 = Instant::now();
    let out = start(&t, &["--notify", "-w", "2", "-p", path_str(&p), "python3", "-c", NOTIFY, "EXTEND_TIMEOUT_USEC=20000000", "sleep=3", "READY=1"]);
    assert!(t0.elapsed() >= Duration::from_secs(3));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    t.track(daemon_pid(&out));
    // MAINPID= names the pid the launcher prints and the pidfile holds.
    let tag = sleep_tag();
    let script = format!("sleep {tag} & exec python3 -c '{}' \"MAINPID=$!\" READY=1", NOTIFY.replace('\'', "'\\''"));
    let p2 = t.path("m.pid");
    let out = start(&t, &["--notify", "-p", path_str(&p2), "sh", "-c", &script]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let main = daemon_pid(&out);
    assert_eq!(sleepers(&tag), vec![main], "MAINPID is the sleep");
    assert_eq!(read_pidfile(&p2), main);
    t.track(stat_num(main, 4) as i32); // python, the daemon, is its parent
    t.track(main);
}

/// A MAINPID= that names a process outside the service (here one the test
/// started) is not taken: the pidfile keeps the daemon's pid, and --stop
/// never reaches the bystander.
#[test]
fn notify_mainpid_of_a_bystander_is_ignored() {
    if !have("python3", "notify_mainpid_of_a_bystander_is_ignored") {
        return;
    }
    let t = Test::new("notify-bystander");
    let other = sleep_tag();
    let _cleanup = KillTagged(other.clone());
    let bystander = t.track(std::process::Command::new("sleep").arg(&other).spawn().unwrap().id() as i32);
    let p = t.path("b.pid");
    let main = format!("MAINPID={bystander}");
    let out = start(&t, &["--notify", "-p", path_str(&p), "python3", "-c", NOTIFY, &main, "READY=1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let daemon = daemon_pid(&out);
    assert_ne!(daemon, bystander);
    assert_eq!(read_pidfile(&p), daemon, "the pidfile names the daemon");
    let out = t.run(dfork(["--stop", "-p"]).arg(&p));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(alive(bystander), "the bystander lives");
}

#[test]
fn exit_7_before_ready_is_exit_3_and_no_pidfile() {
    let t = Test::new("ready-died");
    let p = t.path("d.pid");
    let out = start(&t, &["--ready-fd", "3", "-p", path_str(&p), "sh", "-c", "exit 7"]);
    assert_eq!(code(&out), 3);
    assert_eq!(stderr(&out), "dfork: sh exited with status 7 before it was ready\n");
    assert!(!p.exists(), "the pidfile is removed");
    let out = start(&t, &["--ready-fd", "3", "-p", path_str(&p), "sh", "-c", "kill -9 $$"]);
    assert_eq!((code(&out), stderr(&out).as_str()), (3, "dfork: sh killed by signal 9 before it was ready\n"));
    assert!(!p.exists());
}

#[test]
fn a_readiness_launcher_killed_before_it_forks_leaves_no_pidfile() {
    let name = "a_readiness_launcher_killed_before_it_forks_leaves_no_pidfile";
    if !have("strace", name) {
        return;
    }
    let t = Test::new("ready-killed");
    let p = t.path("d.pid");
    for how in [&["--ready-fd", "3"][..], &["--notify"]] {
        let tag = sleep_tag();
        let out = std::process::Command::new("strace")
            .args(["-qq", "-o", "/dev/null", "-e", "inject=fork,clone:signal=SIGKILL:when=1", bin()])
            .args(how)
            .args(["-p", path_str(&p), "sleep", &tag])
            .output()
            .unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&out.status), Some(libc::SIGKILL), "{how:?}");
        assert!(sleepers(&tag).is_empty() && !p.exists(), "{how:?}: nothing runs, no pidfile");
    }
}

#[test]
fn never_ready_with_wait_1_is_exit_4_and_the_daemon_runs() {
    let t = Test::new("ready-timeout");
    let p = t.path("d.pid");
    let tag = sleep_tag();
    let out = start(&t, &["--ready-fd", "3", "-w", "1", "-p", path_str(&p), "sleep", &tag]);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let pid = t.track(read_pidfile(&p));
    assert_eq!(stderr(&out), format!("dfork: sleep not ready after 1000 ms; left running as pid {pid}\n"));
    assert_eq!(sleepers(&tag), vec![pid], "the daemon still runs, as the pidfile says");
}

#[test]
fn readiness_usage_errors() {
    for args in [
        &["--ready-fd", "2", "true"][..],
        &["--ready-fd", "x", "true"],
        &["--wait", "1", "true"],
        &["--ready-fd", "3", "--notify", "true"],
        &["--ready-fd", "3", "--respawn", "true"],
        &["--notify", "-f", "true"],
        &["--respawn-max", "5/60", "true"],
        &["--respawn", "--respawn-max", "0/60", "true"],
        &["--respawn", "--respawn-max", "5", "true"],
        &["--heartbeat", "--respawn"],
        &["--stop", "-p", "x", "--notify"],
    ] {
        let o = dfork(args).output().unwrap();
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{args:?}: {}", stderr(&o));
    }
    // A repeated --ready-fd or --notify is no conflict: the last value counts.
    let t = Test::new("ready-again");
    let p = t.path("d.pid");
    let script = format!("echo >&4; exec sleep {}", sleep_tag());
    let out = start(&t, &["--ready-fd", "3", "--ready-fd", "4", "-p", path_str(&p), "sh", "-c", &script]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (n, tag) = (t.path("n.pid"), sleep_tag());
    let out = start(&t, &["--notify", "--notify", "-w", "0.2", "-p", path_str(&n), "sleep", &tag]);
    t.track(read_pidfile(&n));
    assert_eq!(code(&out), 4, "never ready: --wait expired, not a usage error; {}", stderr(&out));
}

/// A command that can no longer be executed at a restart: the log names
/// the exec error and exit status 126 (found, not executable), as a shell
/// would, and 127 once it is gone.
#[test]
fn respawn_logs_126_for_a_command_that_became_unexecutable() {
    let t = Test::new("respawn-126");
    let (p, log, cmd) = (t.path("s.pid"), t.path("s.log"), t.path("run"));
    std::fs::write(&cmd, "#!/bin/sh\nexit 3\n").unwrap();
    std::fs::set_permissions(&cmd, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = start(&t, &["--respawn", "--respawn-delay", "0.2", "--respawn-max", "5/60", "-p", path_str(&p), "-e", path_str(&log), path_str(&cmd)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sup = daemon_pid(&out);
    std::fs::set_permissions(&cmd, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    assert!(wait_for(10, || std::fs::read_to_string(&log).unwrap_or_default().contains("status 126")));
    std::fs::remove_file(&cmd).unwrap();
    let st = reap(sup);
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 1, "gave up with exit 1: {st:#x}");
    let text = std::fs::read_to_string(&log).unwrap();
    let c = cmd.display();
    assert!(text.contains(&format!("dfork: exec {c}: Permission denied\n")), "{text}");
    assert!(text.contains(&format!("dfork: {c} exited with status 126; restart in")), "{text}");
    assert!(text.contains(&format!("dfork: exec {c}: No such file or directory\n")), "{text}");
    // (Restarts come 0.4, 0.8 and 1.6 s apart: time enough for the removal.)
    assert!(text.contains(&format!("dfork: {c} exited with status 127; ")), "{text}");
    assert!(text.lines().last().unwrap().ends_with("giving up (--respawn-max 5/60)"), "{text}");
}

/// The `restart in N ms` delays of a supervisor's log, in order.
fn delays(log: &str) -> Vec<u64> {
    log.lines().filter_map(|l| l.split("restart in ").nth(1)?.strip_suffix(" ms")?.parse().ok()).collect()
}

#[test]
fn respawn_restarts_with_growing_delays_and_gives_up() {
    let t = Test::new("respawn");
    let (p, log) = (t.path("s.pid"), t.path("s.log"));
    let out = start(&t, &["--respawn", "--respawn-delay", "0.1", "--respawn-max", "4/60", "-p", path_str(&p), "-e", path_str(&log), "sh", "-c", "exit 5"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sup = daemon_pid(&out);
    let st = reap(sup);
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 1, "gave up with exit 1: {st:#x}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(delays(&text), [100, 200, 400], "{text}");
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(" dfork: sh exited with status 5; giving up (--respawn-max 4/60)"), "{text}");
    // Each line starts with the time: 2026-11-26T08:40:10Z or +01:00.
    assert!(text.lines().all(|l| l.as_bytes().get(10) == Some(&b'T') && l.contains(" dfork: sh exited with status 5")), "{text}");
    assert!(!p.exists(), "giving up removes the pidfile");
}

#[test]
fn respawn_children_get_the_environment_at_every_restart() {
    let t = Test::new("respawn-env");
    let (p, log, out_log) = (t.path("s.pid"), t.path("s.log"), t.path("env.log"));
    // -E and the inherited variables, in each run: the supervisor's children
    // build their environment after the fork (the supervisor keeps no table).
    let script = format!("echo \"$A $B $KEEP\" >> {}; exit 5", out_log.display());
    let mut cmd = dfork(["--respawn", "--respawn-delay", "0.1", "--respawn-max", "3/60", "-E", "A=1", "-E", "B=x=y", "-E", "A=2", "-p", path_str(&p), "-e", path_str(&log), "sh", "-c", &script]);
    cmd.env("KEEP", "kept");
    let out = t.run(&mut cmd);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let st = reap(daemon_pid(&out));
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 1, "gave up with exit 1: {st:#x}");
    assert_eq!(std::fs::read_to_string(&out_log).unwrap(), "2 x=y kept\n".repeat(3));
}

#[test]
fn respawn_forwards_sighup_and_stop_stops_both_without_zombies() {
    let t = Test::new("respawn-stop");
    let (p, log) = (t.path("s.pid"), t.path("child.log"));
    let tag = sleep_tag();
    let script = format!("trap 'echo HUP >> {}' HUP; echo up >> {0}; while :; do sleep {tag}; done", log.display());
    let out = start(&t, &["--respawn", "-p", path_str(&p), "sh", "-c", &script]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sup = daemon_pid(&out);
    assert_eq!(read_pidfile(&p), sup, "the pidfile names the supervisor");
    let kids = children(sup);
    assert_eq!(kids.len(), 1, "one child: {kids:?}");
    let child = t.track(kids[0]);
    assert!(wait_for(10, || std::fs::read_to_string(&log).is_ok_and(|s| s.contains("up"))));
    // The lock is the supervisor's alone: its child does not inherit it.
    assert!(fds(sup).iter().any(|(_, f)| f == &p), "{:?}", fds(sup));
    assert!(!fds(child).iter().any(|(_, f)| f == &p), "{:?}", fds(child));
    unsafe { libc::kill(sup, libc::SIGHUP) };
    // sh runs the trap once its foreground sleep ends: end that sleep.
    assert!(wait_for(10, || {
        for s in sleepers(&tag) {
            unsafe { libc::kill(s, libc::SIGTERM) };
        }
        std::fs::read_to_string(&log).is_ok_and(|s| s.contains("HUP"))
    }), "SIGHUP reached the child");
    assert!(alive(sup) && alive(child), "SIGHUP restarts nothing");
    let o = dfork(["--stop", "-p", path_str(&p)]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let st = reap(sup);
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, "the supervisor exits 0: {st:#x}");
    assert!(!alive(child), "the child is gone with it");
    assert!(!p.exists());
    // sh's own child, the sleep of its loop, is not the supervisor's to stop.
    for s in sleepers(&tag) {
        kill_and_reap(s);
    }
}

#[test]
fn respawn_reaps_every_child_no_zombie() {
    let t = Test::new("respawn-zombie");
    let p = t.path("s.pid");
    // Each run forks a grandchild and exits at once: restarts every 0.1 s.
    let out = start(&t, &["--respawn", "--respawn-delay", "0.1", "-p", path_str(&p), "sh", "-c", "sleep 0.05 & exit 3"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sup = daemon_pid(&out);
    std::thread::sleep(Duration::from_millis(500));
    let zombies = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&q| {
                let s = std::fs::read_to_string(format!("/proc/{q}/stat")).unwrap_or_default();
                stat_field(&s, 3) == "Z" && stat_field(&s, 4) == sup.to_string()
            })
            .count()
    };
    // A zombie lives only between its exit and the supervisor's SIGCHLD.
    assert!(wait_for(10, || zombies() == 0), "a child of the supervisor lingers as a zombie");
    let o = dfork(["--stop", "-p", path_str(&p)]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    reap(sup);
}

#[test]
fn respawn_of_a_missing_command_fails_the_start() {
    let t = Test::new("respawn-127");
    let p = t.path("s.pid");
    let out = start(&t, &["--respawn", "-p", path_str(&p), "/nonexistent/cmd"]);
    assert_eq!((code(&out), stderr(&out).as_str()), (127, "dfork: exec /nonexistent/cmd: No such file or directory\n"));
    assert!(!p.exists());
}

#[test]
fn respawn_in_the_foreground_is_pid_1_material() {
    let t = Test::new("respawn-fg");
    let out = dfork(["-f", "--respawn", "--respawn-delay", "0.05", "--respawn-max", "2/60", "sh", "-c", "exit 4"]).output().unwrap();
    assert_eq!(code(&out), 1, "gave up: {}", stderr(&out));
    assert_eq!(delays(&stderr(&out)), [50], "{}", stderr(&out));
    drop(t);
}

#[test]
fn respawn_as_pid_1_of_a_pid_namespace_restarts_and_stops_on_sigterm() {
    let name = "respawn_as_pid_1_of_a_pid_namespace_restarts_and_stops_on_sigterm";
    if !root(name) || !have("unshare", name) {
        return;
    }
    let t = Test::new("respawn-pid1");
    let (starts, log) = (t.path("starts"), t.path("sup.log"));
    let script = format!("echo $$ >> {}; exec sleep {}", starts.display(), sleep_tag());
    // unshare forks, and its child (dfork) is pid 1 of the new namespace.
    let mut c = std::process::Command::new("unshare");
    c.args(["-pf", bin(), "-f", "--respawn", "--respawn-delay", "0.05", "-e", path_str(&log), "sh", "-c", &script]);
    let unshare = c.stdin(std::process::Stdio::null()).spawn().unwrap();
    let upid = t.track(unshare.id() as i32);
    let lines = || std::fs::read_to_string(&starts).unwrap_or_default().lines().map(String::from).collect::<Vec<_>>();
    assert!(wait_for(10, || lines().len() == 1), "the first start");
    assert_eq!(lines()[0], "2", "the child is pid 2: dfork is pid 1");
    let sup = children(upid)[0];
    t.track(sup);
    let child = children(sup)[0];
    unsafe { libc::kill(child, libc::SIGKILL) };
    assert!(wait_for(10, || lines().len() == 2), "restarted after SIGKILL: {:?}", lines());
    unsafe { libc::kill(sup, libc::SIGTERM) };
    let st = reap(upid);
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, "pid 1 took SIGTERM and exited 0: {st:#x}");
    assert!(std::fs::read_to_string(&log).unwrap().contains("killed by signal 9; restart in 50 ms"));
}

#[test]
fn readiness_and_respawn_as_another_user() {
    let name = "readiness_and_respawn_as_another_user";
    if !root(name) || !have("python3", name) {
        return;
    }
    let t = Test::new("supervise-user");
    // The pidfiles are created as root, before the drop; the daemons run as
    // 65534, and the notify socket still hears the one it started.
    let p = t.path("n.pid");
    let out = start(&t, &["-u", "65534:65534", "--notify", "-w", "10", "-p", path_str(&p), "python3", "-c", NOTIFY, "READY=1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = daemon_pid(&out);
    assert_eq!(status(pid, "Uid").split_whitespace().next(), Some("65534"), "the notifier runs as 65534 and is heard");
    let p2 = t.path("r.pid");
    let out = start(&t, &["-u", "65534:65534", "--respawn", "-p", path_str(&p2), "sleep", &sleep_tag()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sup = daemon_pid(&out);
    let kids = children(sup);
    assert_eq!(kids.len(), 1);
    t.track(kids[0]);
    for q in [sup, kids[0]] {
        assert_eq!(status(q, "Uid").split_whitespace().next(), Some("65534"), "pid {q}");
    }
}
