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
        (&dir, "Is a directory"),
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
