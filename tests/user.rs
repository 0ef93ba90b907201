//! `-u USER[:GROUP]` and `-r DIR`: the daemon's identity and root, checked
//! in `/proc/PID/status`. Dropping privileges needs root; CI runs as root, so
//! these tests fail there rather than skip.
mod common;
use common::*;
use std::process::Command;

/// Start `sleep TAG` as a daemon with `args`; its pid.
fn start(t: &Test, args: &[&str]) -> i32 {
    let tag = sleep_tag();
    let pidfile = t.path(&format!("u{}.pid", unique()));
    let out = t.run(dfork(args).arg("-p").arg(&pidfile).arg("sleep").arg(&tag));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    daemon_pid(&out)
}

/// The environment of `pid`.
fn environ(pid: i32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    raw.split(|&b| b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect()
}

/// The primary group of `user` in /etc/passwd, and the groups of /etc/group
/// that list it: what `-u user` must give.
fn groups_of(user: &str) -> (u32, Vec<u32>) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let f: Vec<&str> = passwd.lines().map(|l| l.split(':').collect::<Vec<_>>()).find(|f| f[0] == user).expect("user in /etc/passwd").to_vec();
    let gid: u32 = f[3].parse().unwrap();
    let mut groups = vec![gid];
    for l in std::fs::read_to_string("/etc/group").unwrap_or_default().lines() {
        let g: Vec<&str> = l.split(':').collect();
        if g.len() >= 4 && g[3].split(',').any(|m| m == user) {
            let n: u32 = g[2].parse().unwrap();
            if !groups.contains(&n) {
                groups.push(n);
            }
        }
    }
    (gid, groups)
}

fn ids(pid: i32, key: &str) -> Vec<u32> {
    status(pid, key).split_whitespace().map(|v| v.parse().unwrap()).collect()
}

#[test]
fn user_by_name_gets_its_ids_groups_and_environment() {
    if !root("user_by_name_gets_its_ids_groups_and_environment") {
        return;
    }
    let t = Test::new("user-name");
    let pid = start(&t, &["-u", "nobody"]);
    let (gid, groups) = groups_of("nobody");
    assert_eq!(ids(pid, "Uid"), vec![65534; 4]);
    assert_eq!(ids(pid, "Gid"), vec![gid; 4]);
    let mut got = ids(pid, "Groups");
    got.sort();
    let mut want = groups.clone();
    want.sort();
    assert_eq!(got, want, "only nobody's groups; none of root's");
    assert_eq!(status(pid, "CapPrm"), "0000000000000000");
    assert_eq!(status(pid, "CapEff"), "0000000000000000");
    let env = environ(pid);
    for kv in ["USER=nobody", "LOGNAME=nobody"] {
        assert!(env.iter().any(|e| e == kv), "{kv} in {env:?}");
    }
    assert!(env.iter().any(|e| e.starts_with("HOME=") && e != "HOME=/root"), "HOME is nobody's: {env:?}");
}

#[test]
fn numbers_need_no_passwd_entry() {
    if !root("numbers_need_no_passwd_entry") {
        return;
    }
    let t = Test::new("user-number");
    let pid = start(&t, &["-u", "12345:12346"]);
    assert_eq!(ids(pid, "Uid"), vec![12345; 4]);
    assert_eq!(ids(pid, "Gid"), vec![12346; 4]);
    assert_eq!(ids(pid, "Groups"), vec![12346]);
    // A number alone: its own number as the group.
    let pid = start(&t, &["-u", "12345"]);
    assert_eq!((ids(pid, "Gid"), ids(pid, "Groups")), (vec![12345; 4], vec![12345]));
    // A group alone: the user stays, the groups are exactly that one.
    let pid = start(&t, &["--user=:4242"]);
    assert_eq!((ids(pid, "Uid"), ids(pid, "Gid"), ids(pid, "Groups")), (vec![0; 4], vec![4242; 4], vec![4242]));
}

#[test]
fn bad_users_fail_before_forking() {
    if !root("bad_users_fail_before_forking") {
        return;
    }
    let t = Test::new("user-bad");
    let pidfile = t.path("u.pid");
    let tag = sleep_tag();
    for (spec, want_code, msg) in [
        ("no-such-user-here", 125, "dfork: user no-such-user-here: no such user\n"),
        ("nobody:no-such-group-here", 125, "dfork: user nobody:no-such-group-here: no such group\n"),
        ("4294967296", 2, "dfork: --user '4294967296': expected USER[:GROUP], names or numbers below 4294967295\n"),
        ("4294967295", 2, "dfork: --user '4294967295': expected USER[:GROUP], names or numbers below 4294967295\n"),
        ("+0", 125, "dfork: user +0: no such user\n"),
        ("00", 2, "dfork: --user '00': expected USER[:GROUP], names or numbers below 4294967295\n"),
        ("nobody:", 2, "dfork: --user 'nobody:': expected USER[:GROUP], names or numbers below 4294967295\n"),
    ] {
        let out = t.run(dfork(["-u", spec, "-p"]).arg(&pidfile).arg("sleep").arg(&tag));
        assert_eq!((code(&out), stderr(&out)), (want_code, msg.to_string()), "-u {spec}");
        assert!(!pidfile.exists(), "-u {spec}: no pidfile");
        assert!(sleepers(&tag).is_empty(), "-u {spec}: no daemon");
    }
}

#[test]
fn a_caller_who_is_not_root_cannot_ask_for_a_user() {
    let name = "a_caller_who_is_not_root_cannot_ask_for_a_user";
    if !root(name) || !have("setpriv", name) {
        return;
    }
    let t = Test::new("user-nonroot");
    let tag = sleep_tag();
    let out = Command::new("setpriv").args(["--reuid", "65534", "--regid", "65534", "--clear-groups", bin(), "-u", "65534", "sleep", &tag]).output().unwrap();
    assert_eq!((code(&out), stderr(&out)), (125, "dfork: user 65534: Operation not permitted\n".to_string()));
    assert!(sleepers(&tag).is_empty());
    drop(t);
}

#[test]
fn a_drop_that_does_not_hold_leaves_nothing_running() {
    let name = "a_drop_that_does_not_hold_leaves_nothing_running";
    if !root(name) || !have("setpriv", name) || !have("strace", name) {
        return;
    }
    let t = Test::new("user-drop");
    let pidfile = t.path("u.pid");
    // Capabilities kept through setuid (SECBIT_NO_SETUID_FIXUP): refused.
    let tag = sleep_tag();
    let out = Command::new("setpriv").args(["--securebits", "+no_setuid_fixup", bin(), "-u", "65534", "-p"]).arg(&pidfile).args(["sleep", &tag]).output().unwrap();
    assert_eq!(code(&out), 125);
    assert_eq!(stderr(&out), "dfork: become: privileges survived the drop (setuid(0) or a capability still works); refusing to run\n");
    assert!(sleepers(&tag).is_empty() && !pidfile.exists());
    // A failing setresuid: reported, and no command runs as root.
    let tag = sleep_tag();
    let out = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "inject=setresuid:error=EAGAIN", bin(), "-u", "65534", "-p"])
        .arg(&pidfile)
        .args(["sleep", &tag])
        .output()
        .unwrap();
    assert_eq!((code(&out), stderr(&out)), (125, "dfork: become: Resource temporarily unavailable\n".to_string()));
    assert!(sleepers(&tag).is_empty() && !pidfile.exists());
    drop(t);
}

#[test]
fn chroot_into_a_root_holding_only_the_binary() {
    if !root("chroot_into_a_root_holding_only_the_binary") {
        return;
    }
    let t = Test::new("user-chroot");
    let root_dir = t.path("jail");
    std::fs::create_dir(&root_dir).unwrap();
    std::fs::copy(bin(), root_dir.join("dfork")).unwrap();
    std::fs::set_permissions(&root_dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // Exec mode: the command is looked up in the new root, as a user given
    // by number (the root has no /etc), its output in a file of the host.
    let out_file = t.path("out.log");
    let pidfile = t.path("c.pid");
    let out = t.run(dfork(["-u", "65534:65534", "-r"]).arg(&root_dir).arg("-o").arg(&out_file).arg("-p").arg(&pidfile).args(["/dfork", "--version"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(wait_for(10, || std::fs::read_to_string(&out_file).unwrap_or_default() == version_line()));
    // The heartbeat: its log is a file inside the new root.
    let out = t.run(dfork(["-r"]).arg(&root_dir).arg("-p").arg(&pidfile).args(["--heartbeat", "/hb.log", "--every", "0.1", "--format", "epoch"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = daemon_pid(&out);
    let log = root_dir.join("hb.log");
    assert!(wait_for(10, || std::fs::read_to_string(&log).unwrap_or_default().lines().count() >= 3), "lines inside the root");
    assert_eq!(std::fs::read_link(format!("/proc/{pid}/root")).unwrap(), root_dir);
    // Rotation after the chroot reopens the same path inside the root.
    std::fs::rename(&log, root_dir.join("hb.log.1")).unwrap();
    assert!(wait_for(10, || log.exists()), "reopened inside the root");
    // Numbers need no file at all: the launcher itself in a root with no /etc.
    let bare = empty_root(&t);
    let out = t.run(&mut chrooted(&bare, &["-u", "12345:12345", "-p", "/n.pid", "-o", "/id.log", "/dfork", "--version"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!bare.join("etc").exists());
    assert!(wait_for(10, || std::fs::read_to_string(bare.join("id.log")).unwrap_or_default().starts_with("dfork ")));
    let out = t.run(&mut chrooted(&bare, &["-u", "nobody", "/dfork", "--version"]));
    assert_eq!((code(&out), stderr(&out)), (125, "dfork: user nobody: no such user\n".to_string()), "a name needs /etc/passwd");
    // A root that does not exist: an error before forking.
    let missing = t.path("no-such-root");
    let out = t.run(dfork(["-r"]).arg(&missing).args(["/dfork", "--version"]));
    assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: chroot {}: No such file or directory\n", missing.display())));
}

/// Lines of /etc/passwd and /etc/group with missing fields or an id that is
/// not a number are not entries (musl and glibc skip them): `-u` finds no
/// such user or group rather than one with made-up values. The files are
/// bind-mounted over the real ones in a mount namespace of the test's own.
#[test]
fn malformed_account_lines_are_skipped() {
    if !root("malformed_account_lines_are_skipped") || !have("unshare", "malformed_account_lines_are_skipped") {
        return;
    }
    let t = Test::new("user-malformed");
    let (passwd, group) = (t.path("passwd"), t.path("group"));
    std::fs::write(
        &passwd,
        "root:x:0:0:root:/root:/bin/sh\nshort:x:1500\nbadgid:x:1600:abc:g:/home/b:/bin/sh\nbaduid:x:1x:1700:g:/:/bin/sh\n\
         nohome:x:1750:1750:g\ngood:x:1800:1800:g:/home/g:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(&group, "root:x:0:\nshortg:x:1900\nbadg:x:abc:\ngoodg:x:2000:good\n").unwrap();
    let pidfile = t.path("m.pid");
    let tag = sleep_tag();
    let run = |spec: &str| {
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "sh", "-c", "mount --bind \"$1\" /etc/passwd && mount --bind \"$2\" /etc/group && shift 2 && exec \"$@\"", "sh"]);
        cmd.arg(&passwd).arg(&group).arg(bin()).args(["-u", spec, "-p"]).arg(&pidfile).args(["sleep", &tag]);
        t.run(&mut cmd)
    };
    for (spec, msg) in [
        ("short", "no such user"),
        ("badgid", "no such user"),
        ("baduid", "no such user"),
        ("nohome", "no such user"),
        ("good:shortg", "no such group"),
        ("good:badg", "no such group"),
    ] {
        let out = run(spec);
        assert_eq!((code(&out), stderr(&out)), (125, format!("dfork: user {spec}: {msg}\n")), "-u {spec}");
        assert!(!pidfile.exists() && sleepers(&tag).is_empty(), "-u {spec}: nothing started");
    }
    // The well-formed entries around them still work.
    let out = run("good:goodg");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let pid = t.track(daemon_pid(&out));
    assert_eq!((ids(pid, "Uid"), ids(pid, "Gid")), (vec![1800; 4], vec![2000; 4]));
    kill_and_reap(pid);
}
