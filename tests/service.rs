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

/// What a `--forking` start must give, for any program that forks itself:
/// `Daemon PID N` of the process it left, that pid in the pidfile, `--status`
/// 0 naming it, `--stop` 0 with no process of it left.
fn forking_lifecycle(t: &Test, name: &str, args: &[&str], tag: &str, up: &dyn Fn() -> bool) {
    let _cleanup = KillTagged(tag.to_string());
    let p = t.path(&format!("{name}.pid"));
    let out = t.run(dfork(["-p".as_ref(), p.as_os_str(), "--forking".as_ref(), "-w".as_ref(), "10".as_ref()]).args(args));
    assert_eq!((code(&out), stderr(&out)), (0, String::new()), "{name} starts");
    let daemon = daemon_pid(&out);
    assert_eq!(read_pidfile(&p), daemon, "{name}: the pidfile names the process it left");
    assert_eq!(pids_with_arg(tag), vec![daemon], "{name}: that is its one process");
    assert!(wait_for(10, up), "{name} works");
    // (A server may have a child for the connection the check made.)
    let out = t.run(dfork(["--status", "-p"]).arg(&p));
    assert_eq!(code(&out), 0, "{name} status");
    assert!(stdout(&out).starts_with(&format!("running as pid {daemon}")), "{name} status: {}", stdout(&out));
    let out = t.run(dfork(["--stop", "-p"]).arg(&p));
    assert_eq!((code(&out), stderr(&out)), (0, String::new()), "{name} stop");
    assert!(pids_with_arg(tag).is_empty() && !p.exists(), "{name}: nothing left");
}

/// A `--forking` start of a program that fails: non-zero, and nothing of it
/// left, the pidfile removed.
fn forking_fails(t: &Test, name: &str, args: &[&str], tag: &str) {
    let _cleanup = KillTagged(tag.to_string());
    let p = t.path(&format!("{name}-bad.pid"));
    let out = t.run(dfork(["-p".as_ref(), p.as_os_str(), "--forking".as_ref(), "-w".as_ref(), "10".as_ref()]).args(args));
    assert_eq!(code(&out), 3, "{name}, broken: {}", stderr(&out));
    assert!(pids_with_arg(tag).is_empty() && !p.exists(), "{name}, broken: nothing left");
}

fn tcp_up(port: u16) -> impl Fn() -> bool {
    move || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[test]
fn forking_busybox_httpd_and_crond() {
    if !have("busybox", "forking_busybox_httpd_and_crond") {
        return;
    }
    let t = Test::new("forking-busybox");
    let www = t.path("www");
    std::fs::create_dir(&www).unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let www_s = www.to_str().unwrap();
    forking_lifecycle(&t, "httpd", &["busybox", "httpd", "-p", &listen, "-h", www_s], &listen, &tcp_up(port));
    // A port already taken: httpd exits 1.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = format!("127.0.0.1:{}", taken.local_addr().unwrap().port());
    forking_fails(&t, "httpd", &["busybox", "httpd", "-p", &busy, "-h", www_s], &busy);
    let crontabs = t.path("crontabs");
    std::fs::create_dir(&crontabs).unwrap();
    let c = crontabs.to_str().unwrap();
    forking_lifecycle(&t, "crond", &["busybox", "crond", "-c", c], c, &|| true);
    // A log level that is not a number: crond refuses to start (exit 1).
    forking_fails(&t, "crond", &["busybox", "crond", "-l", "x", "-c", c], c);
}

/// BusyBox syslogd binds /dev/log: run in a mount namespace with a /dev of
/// its own (a tmpfs holding /dev/null), so the machine's is untouched.
#[test]
fn forking_busybox_syslogd() {
    if !have("busybox", "forking_busybox_syslogd") || !have("unshare", "forking_busybox_syslogd") || !root("forking_busybox_syslogd") {
        return;
    }
    let t = Test::new("forking-syslogd");
    let (log, p) = (t.path("messages"), t.path("syslogd.pid"));
    let tag = log.to_str().unwrap().to_string();
    let _cleanup = KillTagged(tag.clone());
    let null = t.path("null");
    std::fs::write(&null, "").unwrap();
    let script = "mount --bind /dev/null \"$1\" && mount -t tmpfs tmpfs /dev && touch /dev/null && mount --bind \"$1\" /dev/null && shift && exec \"$@\"";
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", script, "sh"]).arg(&null).arg(bin());
    cmd.arg("-p").arg(&p).args(["--forking", "--", "busybox", "syslogd", "-O", &tag]);
    let out = t.run(&mut cmd);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    let daemon = daemon_pid(&out);
    assert_eq!(pids_with_arg(&tag), vec![daemon]);
    assert!(wait_for(5, || std::fs::read_to_string(&log).is_ok_and(|l| l.contains("syslogd started"))), "it logs");
    let out = t.run(dfork(["--status", "-p"]).arg(&p));
    assert_eq!((code(&out), stdout(&out)), (0, format!("running as pid {daemon}\n")));
    let out = t.run(dfork(["--stop", "-p"]).arg(&p));
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(pids_with_arg(&tag).is_empty() && !p.exists());
}

/// Packaged daemons that fork themselves: dropbear, lighttpd and nginx,
/// whole lifecycle; dnsmasq, which closes the lock as it daemonizes, refused with
/// a clear line (and run in the foreground instead).
#[test]
fn forking_packaged_daemons() {
    let name = "forking_packaged_daemons";
    if !have("dnsmasq", name) || !have("dropbear", name) || !have("dropbearkey", name) || !have("lighttpd", name) || !root(name) {
        return;
    }
    let t = Test::new("forking-packaged");
    // dnsmasq, with its own pidfile: --forking=THAT.
    let port = free_port();
    let own = t.path("dnsmasq-own.pid");
    let forking = format!("--forking={}", own.display());
    let conf = t.path("dnsmasq.conf");
    std::fs::write(&conf, "").unwrap();
    let dns_args = |conf: &str| {
        vec![
            "dnsmasq".to_string(),
            format!("--port={port}"),
            "--listen-address=127.0.0.1".into(),
            "--bind-interfaces".into(),
            "--no-resolv".into(),
            "--user=root".into(),
            format!("--pid-file={}", own.display()),
            format!("--conf-file={conf}"),
        ]
    };
    let args = dns_args(conf.to_str().unwrap());
    let mut all: Vec<&str> = vec![&forking];
    all.extend(args.iter().map(|s| s.as_str()));
    let tag = format!("--port={port}");
    {
        // dnsmasq closes every descriptor as it daemonizes: the lock is gone,
        // and nothing dfork sees would tie it to the pidfile later. The start
        // says so and takes it down (nothing half-done is left); dnsmasq -k
        // (in the foreground) under the supervisor, which holds the lock, is
        // the way to run it under dfork (it closes every descriptor even then).
        let _cleanup = KillTagged(tag.clone());
        let p = t.path("dnsmasq.pid");
        let out = t.run(dfork(["-p".as_ref(), p.as_os_str()]).args(&all));
        assert_eq!(code(&out), 3, "{}", stderr(&out));
        assert!(stderr(&out).starts_with("dfork: dnsmasq daemonized as pid "), "{}", stderr(&out));
        assert!(wait_for(5, || pids_with_arg(&tag).is_empty()) && !p.exists(), "nothing left");
        let mut fg: Vec<&str> = vec!["--respawn", "dnsmasq", "-k"];
        fg.extend(args[1..].iter().map(|s| s.as_str()));
        let out = t.run(dfork(["-p".as_ref(), p.as_os_str()]).args(&fg));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(wait_for(5, tcp_up(port)), "dnsmasq -k answers on TCP");
        let out = t.run(dfork(["--stop", "-p"]).arg(&p));
        assert_eq!((code(&out), stderr(&out)), (0, String::new()));
        assert!(pids_with_arg(&tag).is_empty() && !p.exists());
    }
    let bad = dns_args("/no/such/dnsmasq.conf");
    let mut bad_all: Vec<&str> = vec![&forking];
    bad_all.extend(bad.iter().map(|s| s.as_str()));
    forking_fails(&t, "dnsmasq", &bad_all[1..], &tag);
    // dropbear, with a host key of the test's own.
    let key = t.path("host_key");
    let out = std::process::Command::new("dropbearkey").args(["-t", "ed25519", "-f"]).arg(&key).output().unwrap();
    assert!(out.status.success());
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let k = key.to_str().unwrap();
    let dpid = t.path("dropbear-own.pid");
    let d = dpid.to_str().unwrap();
    forking_lifecycle(&t, "dropbear", &["dropbear", "-p", &listen, "-r", k, "-P", d], &listen, &tcp_up(port));
    forking_fails(&t, "dropbear", &["dropbear", "-p", &listen, "-r", "/no/such/key", "-P", d], &listen);
    // lighttpd, serving a directory of the test's own.
    let port = free_port();
    let www = t.path("lwww");
    std::fs::create_dir(&www).unwrap();
    let conf = t.path("lighttpd.conf");
    std::fs::write(
        &conf,
        format!("server.document-root = \"{}\"\nserver.port = {port}\nserver.bind = \"127.0.0.1\"\nserver.pid-file = \"{}\"\n", www.display(), t.path("lighttpd-own.pid").display()),
    )
    .unwrap();
    let c = conf.to_str().unwrap();
    forking_lifecycle(&t, "lighttpd", &["lighttpd", "-f", c], c, &tcp_up(port));
    let broken = t.path("broken.conf");
    std::fs::write(&broken, "server.port = \"not a number\n").unwrap();
    let b = broken.to_str().unwrap();
    forking_fails(&t, "lighttpd", &["lighttpd", "-f", b], b);
    // nginx: a master that forks itself, and its worker.
    if !have("nginx", name) {
        return;
    }
    let port = free_port();
    let prefix = t.path("nginx");
    std::fs::create_dir_all(prefix.join("www")).unwrap();
    std::fs::create_dir_all(prefix.join("logs")).unwrap();
    let d = prefix.display();
    let conf = prefix.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "pid {d}/own.pid;\nerror_log {d}/logs/error.log;\nevents {{}}\nhttp {{\n access_log off;\n client_body_temp_path {d}/tmp;\n proxy_temp_path {d}/tmp;\n fastcgi_temp_path {d}/tmp;\n server {{ listen 127.0.0.1:{port}; root {d}/www; }}\n}}\n"
        ),
    )
    .unwrap();
    let c = conf.to_str().unwrap();
    let _cleanup = KillTagged(c.to_string());
    let p = t.path("nginx.pid");
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "--forking".as_ref(), "nginx".as_ref(), "-c".as_ref(), c.as_ref(), "-p".as_ref(), prefix.as_os_str()]));
    assert_eq!((code(&out), stderr(&out)), (0, String::new()), "nginx starts");
    let master = daemon_pid(&out);
    assert_eq!(read_pidfile(&p), master);
    assert!(wait_for(5, tcp_up(port)), "nginx serves");
    let out = t.run(dfork(["--status", "-p"]).arg(&p));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with(&format!("running as pid {master}, ")), "master and worker: {}", stdout(&out));
    let out = t.run(dfork(["--stop", "-p"]).arg(&p));
    assert_eq!((code(&out), stderr(&out)), (0, String::new()), "nginx stop");
    assert!(!alive(master) && !p.exists() && !tcp_up(port)(), "nothing of nginx left");
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "--forking".as_ref(), "nginx".as_ref(), "-c".as_ref(), b.as_ref(), "-p".as_ref(), prefix.as_os_str()]));
    assert_eq!(code(&out), 3, "nginx, broken: {}", stderr(&out));
    assert!(!p.exists());
}

/// --forking's usage: it needs -p (but with --respawn), and goes with
/// neither readiness nor -f (but with --respawn).
#[test]
fn forking_usage() {
    let t = Test::new("forking-usage");
    let conflict = "dfork: --forking: goes with neither --ready-fd, --notify nor --foreground\n";
    for (args, why) in [
        (vec!["--forking", "x"], "dfork: --forking: needs -p FILE: the daemon is found by its lock\n"),
        (vec!["-p", "/tmp/x.pid", "--forking", "--notify", "x"], conflict),
        (vec!["-p", "/tmp/x.pid", "--forking", "--ready-fd", "3", "--respawn", "x"], conflict),
        (vec!["-p", "/tmp/x.pid", "--forking", "-f", "x"], conflict),
    ] {
        let out = t.run(&mut dfork(&args));
        assert_eq!((code(&out), stderr(&out)), (2, why.to_string()), "{args:?}");
    }
}

/// An `strace -f` running dfork in the background: killed with everything
/// below it when dropped (a tracee would go on when only strace is killed).
struct Traced(i32);

impl Drop for Traced {
    fn drop(&mut self) {
        kill_tree(self.0);
    }
}

/// `strace -f` running dfork with `inject`, in the background.
fn dfork_under_strace(inject: &str, args: &[&std::ffi::OsStr]) -> Traced {
    let child = std::process::Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", inject, bin()])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    Traced(child.id() as i32)
}

/// A pid that is surely dead: a child's, reaped.
fn dead_pid() -> i32 {
    let mut c = std::process::Command::new("true").spawn().unwrap();
    let pid = c.id() as i32;
    c.wait().unwrap();
    pid
}

/// While `--stop` holds the lock to remove the pidfile (its unlink delayed
/// here by strace), `--status` does not call the dead daemon running, and a
/// start does not say "already running" naming it: both wait the stop out.
#[test]
fn a_stop_in_progress_is_waited_out() {
    if !have("strace", "a_stop_in_progress_is_waited_out") {
        return;
    }
    let t = Test::new("race-stop");
    let p = t.path("r.pid");
    let tag = sleep_tag();
    let _cleanup = KillTagged(tag.clone());
    let daemon = start(&t, &p, &format!("exec sleep {tag}"));
    let _stop = dfork_under_strace("inject=unlinkat:delay_enter=800000", &["--stop".as_ref(), "-p".as_ref(), p.as_os_str()]);
    assert!(wait_for(5, || !alive(daemon)), "the stop ends the daemon");
    // The stop now holds the lock, its unlink delayed 0.8 s.
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Stale (1) before the stop takes the lock to remove it, not running (3)
    // after: never "running" (0) for the dead daemon.
    let out = ctl(&t, &["--status"], &p);
    assert!(code(&out) == 1 || code(&out) == 3, "not 'running': {}", stdout(&out));
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]));
    assert_eq!((code(&out), stderr(&out)), (0, String::new()), "the start waited the stop out");
}

/// While a start holds the lock but its daemon has not written its pid yet
/// (the write delayed here), `--status` and `--stop` wait for it instead of
/// calling the file "not a pidfile" (4, 125).
#[test]
fn a_start_in_progress_is_waited_out() {
    if !have("strace", "a_start_in_progress_is_waited_out") {
        return;
    }
    let t = Test::new("race-start");
    let p = t.path("s.pid");
    let tag = sleep_tag();
    let _cleanup = KillTagged(tag.clone());
    let _start = dfork_under_strace("inject=pwrite64:delay_enter=800000", &["-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]);
    assert!(wait_for(5, || p.exists()), "the daemon made the pidfile");
    let out = ctl(&t, &["--status"], &p);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).starts_with("running as pid "));
    let out = ctl(&t, &["--stop"], &p);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(sleepers(&tag).is_empty() && !p.exists());
}

/// Two starts on a stale pidfile: the loser names the winner's daemon, never
/// the stale pid it found in the file.
#[test]
fn a_start_racing_a_start_names_no_stale_pid() {
    if !have("strace", "a_start_racing_a_start_names_no_stale_pid") {
        return;
    }
    let t = Test::new("race-starts");
    let p = t.path("t.pid");
    let tag = sleep_tag();
    let _cleanup = KillTagged(tag.clone());
    let stale = dead_pid();
    std::fs::write(&p, format!("{stale}\n")).unwrap();
    let _winner = dfork_under_strace("inject=pwrite64:delay_enter=800000", &["-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]);
    assert!(wait_for(5, || sleepers(&tag).len() == 1 || pids_with_arg(&tag).len() >= 2), "the winner's daemon runs");
    std::thread::sleep(std::time::Duration::from_millis(100));
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(!stderr(&out).contains(&format!("pid {stale} ")), "the stale pid is never named: {}", stderr(&out));
    let winner = read_pidfile(&p);
    assert_eq!(stderr(&out), format!("dfork: already running as pid {winner} ({})\n", p.display()));
}

/// A launcher killed after it locked a stale pidfile leaves the file as it
/// was: `--status` still says 1 (stale), not 4 (an empty file).
#[test]
fn a_launcher_killed_after_locking_a_stale_pidfile_leaves_it_whole() {
    if !have("strace", "a_launcher_killed_after_locking_a_stale_pidfile_leaves_it_whole") {
        return;
    }
    let t = Test::new("race-killed");
    let p = t.path("k.pid");
    let stale = dead_pid();
    std::fs::write(&p, format!("{stale}\n")).unwrap();
    let out = std::process::Command::new("strace")
        .args(["-qq", "-o", "/dev/null", "-e", "inject=pipe2:signal=SIGKILL", bin(), "-p"])
        .arg(&p)
        .args(["sleep", "1"])
        .output()
        .unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&out.status), Some(libc::SIGKILL));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), format!("{stale}\n"));
    let out = ctl(&t, &["--status"], &p);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
}

/// Pid reuse, for real: in a pid namespace of its own, the daemon dies while
/// its child holds the lock, and its pid is handed to a bystander (through
/// `ns_last_pid`). `--stop` stops the member and never signals the bystander
/// that now has the daemon's pid.
#[test]
fn a_reused_pid_is_never_signalled() {
    let name = "a_reused_pid_is_never_signalled";
    if !have("unshare", name) || !root(name) {
        return;
    }
    let t = Test::new("race-reuse");
    let p = t.path("u.pid");
    let b = bin();
    let p = p.display();
    // Inside: start the service; kill its daemon (the shell, which leaves a
    // sleep holding the lock); start a bystander with the daemon's pid;
    // stop; report whether the bystander and the member live.
    let script = format!(
        "{b} -q -p {p} sh -c 'sleep 1000 & exec sleep 2000' || exit 9
         d=$(cat {p}); while [ -z \"$m\" ]; do m=$(cat /proc/$d/task/$d/children); done
         kill -9 $d; while [ -d /proc/$d ] && ! grep -q ') Z' /proc/$d/stat; do sleep 0.01; done; wait 2>/dev/null
         echo $((d - 1)) > /proc/sys/kernel/ns_last_pid; sleep 3000 & by=$!
         [ $by = $d ] || {{ echo \"no reuse: $by $d\"; exit 8; }}
         {b} --stop -p {p}; r=$?
         kill -0 $by && echo bystander-alive
         [ -d /proc/$m ] && ! grep -q ') Z' /proc/$m/stat && echo member-alive
         kill $by; exit $r"
    );
    let o = std::process::Command::new("unshare").args(["-pf", "--mount-proc", "sh", "-c", &script]).output().unwrap();
    assert_eq!((code(&o), stdout(&o)), (0, "bystander-alive\n".to_string()), "{}", stderr(&o));
}

/// `--respawn --forking`: the supervisor adopts what COMMAND left (here
/// BusyBox httpd, which forks itself), restarts it when it dies, and
/// `--stop` leaves nothing. The pidfile names the supervisor, as with any
/// `--respawn`.
#[test]
fn respawn_forking_restarts_a_self_forking_daemon() {
    if !have("busybox", "respawn_forking_restarts_a_self_forking_daemon") {
        return;
    }
    let t = Test::new("respawn-forking");
    let (p, log) = (t.path("r.pid"), t.path("r.log"));
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _cleanup = KillTagged(listen.clone());
    let out = t.run(dfork(["-p".as_ref(), p.as_os_str(), "-e".as_ref(), log.as_os_str()]).args(["--respawn", "--respawn-delay", "0.1", "--forking", "busybox", "httpd", "-p", &listen, "-h", "/"]));
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    let sup = daemon_pid(&out);
    assert_eq!(read_pidfile(&p), sup);
    // The supervisor's command line has the tag too.
    let httpd = || pids_with_arg(&listen).into_iter().filter(|&p| p != sup).collect::<Vec<_>>();
    // Started means adopted: the launcher returned with httpd in place.
    let first = httpd();
    assert_eq!(children(sup), first, "httpd, re-parented to the supervisor, is its one child");
    assert!(wait_for(5, tcp_up(port)), "httpd serves");
    kill_and_reap(first[0]);
    assert!(wait_for(5, || httpd().len() == 1 && httpd() != first), "restarted");
    assert!(wait_for(5, tcp_up(port)), "httpd serves again");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("dfork: busybox killed by signal 9; restart in 100 ms"), "{logged}");
    let out = ctl(&t, &["--stop"], &p);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(pids_with_arg(&listen).is_empty() && !alive(sup) && !p.exists(), "nothing left");
}

/// `--respawn --forking` takes a daemon that closes every descriptor and
/// makes a session of its own (dnsmasq): the supervisor is a subreaper, so
/// it is its child whatever it closed, and `--stop` ends it.
#[test]
fn respawn_forking_keeps_a_daemon_that_closes_everything() {
    let name = "respawn_forking_keeps_a_daemon_that_closes_everything";
    if !have("dnsmasq", name) || !root(name) {
        return;
    }
    let t = Test::new("respawn-forking-dnsmasq");
    let p = t.path("d.pid");
    let port = free_port();
    let tag = format!("--port={port}");
    let _cleanup = KillTagged(tag.clone());
    let conf = t.path("dnsmasq.conf");
    std::fs::write(&conf, "").unwrap();
    let conf_arg = format!("--conf-file={}", conf.display());
    let out = t.run(dfork(["-p".as_ref(), p.as_os_str()]).args(["--respawn", "--forking", "dnsmasq", &tag, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--user=root", &conf_arg]));
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    let sup = daemon_pid(&out);
    let dns: Vec<i32> = pids_with_arg(&tag).into_iter().filter(|&p| p != sup).collect();
    assert_eq!(children(sup), dns);
    assert_eq!(fds(dns[0]).iter().filter(|(_, f)| f == &p).count(), 0, "dnsmasq closed the lock");
    assert!(wait_for(5, tcp_up(port)), "dnsmasq answers on TCP");
    let out = ctl(&t, &["--stop"], &p);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(pids_with_arg(&tag).is_empty() && !alive(sup) && !p.exists(), "nothing left");
}

/// `--respawn --forking` whose first COMMAND does not daemonize: exit 3
/// with how it ended (4 when it stays in the foreground past `--wait`),
/// nothing of it left, no pidfile.
#[test]
fn respawn_forking_first_start_fails_whole() {
    let t = Test::new("respawn-forking-fails");
    let p = t.path("f.pid");
    let tag = sleep_tag();
    let _cleanup = KillTagged(tag.clone());
    let cases: [(&[&str], i32, String); 3] = [
        (&["sh", "-c", &format!("sleep {tag} & exit 2")], 3, "dfork: sh exited with status 2 before it was ready\n".into()),
        (&["true"], 3, "dfork: true exited with status 0, but left no process running (--forking)\n".into()),
        (&["-w", "0.3", "sleep", &tag], 4, "dfork: sleep not ready after 300 ms: still in the foreground, so killed (--forking)\n".into()),
    ];
    for (args, want, said) in cases {
        let out = t.run(dfork(["-p".as_ref(), p.as_os_str(), "--respawn".as_ref(), "--forking".as_ref()]).args(args));
        assert_eq!((code(&out), stderr(&out)), (want, said), "{args:?}");
        assert!(sleepers(&tag).is_empty() && !p.exists(), "{args:?}: nothing left");
    }
}

/// A double fork whose middle process outlives COMMAND for a moment: the
/// daemon taken is the process that stays, not the middle one (with and
/// without `--respawn`).
#[test]
fn forking_takes_the_process_that_stays() {
    let t = Test::new("forking-settle");
    let tag = sleep_tag();
    let _cleanup = KillTagged(tag.clone());
    let script = format!("(sleep 0.005; setsid sleep {tag} &) & exit 0");
    let p = t.path("s.pid");
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "--forking".as_ref(), "sh".as_ref(), "-c".as_ref(), script.as_ref()]));
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert_eq!(vec![daemon_pid(&out)], sleepers(&tag));
    assert_eq!(read_pidfile(&p), daemon_pid(&out));
    let out = ctl(&t, &["--stop"], &p);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(sleepers(&tag).is_empty());
    let (p, log) = (t.path("r.pid"), t.path("r.log"));
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "-e".as_ref(), log.as_os_str(), "--respawn".as_ref(), "--forking".as_ref(), "sh".as_ref(), "-c".as_ref(), script.as_ref()]));
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    let sup = daemon_pid(&out);
    let sleeper = sleepers(&tag);
    assert_eq!(children(sup), sleeper);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!((sleepers(&tag), std::fs::read_to_string(&log).unwrap()), (sleeper, String::new()), "no restart");
    let out = ctl(&t, &["--stop"], &p);
    assert_eq!((code(&out), stderr(&out)), (0, String::new()));
    assert!(sleepers(&tag).is_empty() && !alive(sup));
}

/// `-f --respawn --forking`, as procd runs it: the supervisor in the
/// foreground adopts what COMMAND left; SIGTERM to it stops everything; a
/// COMMAND that does not daemonize is said on its stderr (3).
#[test]
fn foreground_respawn_forking_under_a_supervisor() {
    if !have("busybox", "foreground_respawn_forking_under_a_supervisor") {
        return;
    }
    let t = Test::new("fg-respawn-forking");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _cleanup = KillTagged(listen.clone());
    let mut sup = dfork(["-f", "--respawn", "--forking", "busybox", "httpd", "-p", &listen, "-h", "/"]).spawn().unwrap();
    let pid = sup.id() as i32;
    let httpd = || pids_with_arg(&listen).into_iter().filter(|&p| p != pid).collect::<Vec<_>>();
    assert!(wait_for(5, || httpd().len() == 1 && children(pid) == httpd()), "httpd adopted");
    assert!(wait_for(5, tcp_up(port)), "httpd serves");
    rustix::process::kill_process(rustix::process::Pid::from_raw(pid).unwrap(), rustix::process::Signal::TERM).unwrap();
    let st = sup.wait().unwrap();
    assert_eq!(st.code(), Some(0));
    assert!(httpd().is_empty(), "httpd stopped with it");
    let out = t.run(&mut dfork(["-f", "--respawn", "--forking", "true"]));
    assert_eq!((code(&out), stderr(&out)), (3, "dfork: true exited with status 0, but left no process running (--forking)\n".to_string()));
}
