//! One daemon per pidfile: the lock, stale takeover, refusals, cleanup.
mod common;
use common::*;

#[test]
fn second_start_is_refused_and_first_untouched() {
    let t = Test::new("twice");
    let pidfile = t.path("p.pid");
    let (a, b) = (sleep_tag(), sleep_tag());
    let out = t.run(&mut dfork(["-p".as_ref(), pidfile.as_os_str(), "sleep".as_ref(), a.as_ref()]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first = daemon_pid(&out);
    let before = std::fs::metadata(&pidfile).unwrap();
    let out = t.run(&mut dfork(["-p".as_ref(), pidfile.as_os_str(), "sleep".as_ref(), b.as_ref()]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), format!("dfork: already running as pid {first} ({})\n", pidfile.display()));
    assert!(out.stdout.is_empty());
    assert!(sleepers(&b).is_empty(), "no second daemon");
    assert!(alive(first));
    assert_eq!(read_pidfile(&pidfile), first);
    let after = std::fs::metadata(&pidfile).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((before.ino(), before.mtime_nsec()), (after.ino(), after.mtime_nsec()), "pidfile untouched");
}

#[test]
fn stale_pidfile_is_taken_over() {
    let t = Test::new("stale");
    let pidfile = t.path("p.pid");
    std::fs::write(&pidfile, "999999\n").unwrap();
    let tag = sleep_tag();
    let out = t.run(&mut dfork(["-p".as_ref(), pidfile.as_os_str(), "sleep".as_ref(), tag.as_ref()]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(read_pidfile(&pidfile), daemon_pid(&out));
    // And after kill -9 of that daemon, the next start takes over again.
    kill_and_reap(daemon_pid(&out));
    let tag2 = sleep_tag();
    let out = t.run(&mut dfork(["-p".as_ref(), pidfile.as_os_str(), "sleep".as_ref(), tag2.as_ref()]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(read_pidfile(&pidfile), daemon_pid(&out));
}

#[test]
fn relative_pidfile_is_resolved_before_chdir() {
    let t = Test::new("relative");
    let tag = sleep_tag();
    let mut cmd = dfork(["-p", "rel.pid", "sleep", &tag]);
    cmd.current_dir(&t.dir.0);
    let out = t.run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(read_pidfile(&t.path("rel.pid")), daemon_pid(&out));
}

#[test]
fn symlink_fifo_directory_and_hardlink_are_refused() {
    let t = Test::new("hostile");
    let (victim, link) = t.planted_symlink("link.pid");
    let dangling = t.path("dangling.pid");
    std::os::unix::fs::symlink(t.path("nowhere"), &dangling).unwrap();
    let fifo = t.path("fifo.pid");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let dir = t.path("dir.pid");
    std::fs::create_dir(&dir).unwrap();
    let hard = t.path("hard.pid");
    std::fs::hard_link(&victim, &hard).unwrap();
    let cases = [
        (&link, "is a symbolic link; refusing to follow it"),
        (&dangling, "is a symbolic link; refusing to follow it"),
        (&fifo, "not a regular file"),
        (&dir, "not a regular file"),
        (&hard, "has more than one hard link"),
    ];
    for (path, why) in cases {
        let tag = sleep_tag();
        let out = t.run(&mut dfork(["-p".as_ref(), path.as_os_str(), "sleep".as_ref(), tag.as_ref()]));
        assert_eq!(out.status.code(), Some(125), "{path:?}");
        assert_eq!(stderr(&out), format!("dfork: open {}: {why}\n", path.display()));
        assert!(sleepers(&tag).is_empty(), "no daemon for {path:?}");
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!t.path("nowhere").exists(), "nothing created through the dangling link");
}

#[test]
fn racing_launchers_start_exactly_one_daemon() {
    let t = Test::new("race");
    let pidfile = t.path("race.pid");
    let tag = sleep_tag();
    for round in 0..10 {
        let children: Vec<_> = (0..10)
            .map(|_| {
                dfork(["-q".as_ref(), "-p".as_ref(), pidfile.as_os_str(), "sleep".as_ref(), tag.as_ref()])
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let codes: Vec<i32> = children.into_iter().map(|c| c.wait_with_output().unwrap().status.code().unwrap()).collect();
        assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 1, "round {round}: {codes:?}");
        assert!(codes.iter().all(|&c| c == 0 || c == 1), "{codes:?}");
        let running = sleepers(&tag);
        assert_eq!(running.len(), 1, "round {round}");
        assert_eq!(read_pidfile(&pidfile), running[0]);
        kill_and_reap(running[0]); // the next round takes the stale pidfile over
    }
}

/// A launcher that opened a stale pidfile loses it to a rival before it
/// locks it: the rival removes the file and starts its own daemon, which
/// creates and locks a new one. The lock the first launcher then gets is on
/// an unlinked file; it must see that (link count 0), open the path again,
/// and find the rival's daemon running, not start a second one.
#[test]
fn a_pidfile_removed_between_open_and_lock_is_opened_again() {
    let name = "a_pidfile_removed_between_open_and_lock_is_opened_again";
    if !have("strace", name) {
        return;
    }
    let t = Test::new("relock");
    let p = t.path("p.pid");
    std::fs::write(&p, "999999\n").unwrap();
    let (a, b) = (sleep_tag(), sleep_tag());
    let _cleanup = (KillTagged(a.clone()), KillTagged(b.clone()));
    // Launcher A waits two seconds before its first flock (time for B to
    // start on a busy machine).
    let mut c = std::process::Command::new("strace");
    c.args(["-qq", "-o", "/dev/null", "-e", "inject=flock:delay_enter=2000000:when=1", bin(), "-p"]).arg(&p).args(["sleep", &a]);
    let launcher_a = c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    t.track(launcher_a.id() as i32);
    // Once A holds the stale file open, a rival removes it and starts B.
    assert!(wait_for(10, || children(launcher_a.id() as i32).iter().any(|&d| fds(d).iter().any(|(_, f)| f == &p))));
    std::fs::remove_file(&p).unwrap();
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "sleep".as_ref(), b.as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let daemon_b = t.track(daemon_pid(&out));
    let out = launcher_a.wait_with_output().unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(stderr(&out), format!("dfork: already running as pid {daemon_b} ({})\n", p.display()));
    assert!(sleepers(&a).is_empty(), "no second daemon");
    assert_eq!(read_pidfile(&p), daemon_b);
}
