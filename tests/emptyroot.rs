//! dfork needs nothing but itself and /dev/null: no /etc, no /lib, no /proc.
mod common;
use common::*;

#[test]
fn runs_in_a_root_with_only_itself_and_dev_null() {
    let t = Test::new("emptyroot");
    if !root("runs_in_a_root_with_only_itself_and_dev_null") {
        return;
    }
    let root = empty_root(&t);
    let listing: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(listing.len(), 2, "{listing:?}");
    // Exec mode runs the binary itself as the command; its output lands in -o.
    let out = t.run(&mut chrooted(&root, &["-p", "/d.pid", "-o", "/out.log", "--", "/dfork", "--version"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(wait_for(10, || std::fs::read_to_string(root.join("out.log")).unwrap_or_default() == version_line()));
    // The daemon was exec'd with a pidfile; without /proc it still closed fds.
    let tag = sleep_tag();
    let out = t.run(&mut chrooted(&root, &["-q", "/dfork", "-f", "/dfork-no-such", &tag]));
    assert_eq!(out.status.code(), Some(0), "the launcher reports the start of dfork -f");
    // Without /proc the daemon cannot read which signals it inherited
    // ignored or blocked: it resets and unblocks every one.
    let mut cmd = chrooted(&root, &["-q", "-p", "/hb.pid", "--heartbeat", "/hb.log"]);
    hostile(&mut cmd, true);
    let out = t.run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let hb = t.track(read_pidfile(&root.join("hb.pid")));
    // (The heartbeat ignores SIGXFSZ itself; the launcher's SIGPIPE,
    // SIGHUP, SIGCHLD and blocked SIGTERM are gone.)
    let own = format!("{:016x}", 1u64 << (libc::SIGXFSZ - 1));
    assert_eq!((status(hb, "SigBlk"), status(hb, "SigIgn")), ("0000000000000000".into(), own));
    kill_and_reap(hb);
    // Errors are reported in the empty root too.
    let out = t.run(&mut chrooted(&root, &["/bin/sh"]));
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(stderr(&out), "dfork: exec /bin/sh: No such file or directory\n");
}

/// As a `FROM scratch` container runs it: new user, mount and pid
/// namespaces, a root holding only the binary and a bind-mounted /dev/null,
/// no /etc, /lib or /proc. The heartbeat writes UTC lines (no zoneinfo), and
/// exec mode runs the binary itself as the command.
#[test]
fn runs_in_namespaces_with_only_itself_and_a_bind_mounted_dev_null() {
    let name = "runs_in_namespaces_with_only_itself_and_a_bind_mounted_dev_null";
    if !root(name) || !have("unshare", name) {
        return;
    }
    let t = Test::new("container");
    let root = t.path("scratch");
    std::fs::create_dir_all(root.join("dev")).unwrap();
    std::fs::write(root.join("dev/null"), b"").unwrap();
    std::fs::copy(bin(), root.join("dfork")).unwrap();
    let r = root.display();
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let script = format!(
        "mount --bind /dev/null {r}/dev/null && exec chroot {r} /dfork -f --heartbeat /hb.log --every 1 --format epoch"
    );
    let mut child = std::process::Command::new("unshare")
        .args(["-rmpf", "--propagation", "private", "sh", "-c", &script])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wrapper = t.track(child.id() as i32);
    let log = root.join("hb.log");
    let ok = wait_for(20, || std::fs::read_to_string(&log).unwrap_or_default().lines().count() >= 3);
    let lines: Vec<u64> = std::fs::read_to_string(&log).unwrap_or_default().lines().filter_map(|l| l.parse().ok()).collect();
    for c in children(wrapper) {
        kill_and_reap(c);
    }
    kill_and_reap(wrapper);
    child.wait().ok();
    assert!(ok, "three heartbeat lines in the container: {lines:?}");
    let after = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(lines.iter().all(|&l| l + 1 >= before && l <= after), "UTC epoch lines of this run: {lines:?}");
    // Exec mode: the binary itself as the daemon's command, in the same kind of container.
    // The launcher must not be the namespace's pid 1: when that exits, the
    // kernel ends everything in the namespace, the daemon too. The shell
    // stays until the daemon wrote its output (bounded).
    let script = format!(
        "mount --bind /dev/null {r}/dev/null && chroot {r} /dfork -p /d.pid -o /out.log -- /dfork --version; rc=$?; \
         for i in $(seq 400); do [ -s {r}/out.log ] && break; sleep 0.05; done; exit $rc"
    );
    let out = std::process::Command::new("unshare").args(["-rmpf", "--propagation", "private", "sh", "-c", &script]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(wait_for(10, || std::fs::read_to_string(root.join("out.log")).unwrap_or_default() == version_line()));
}
