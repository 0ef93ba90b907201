//! dfork needs nothing but itself and /dev/null: no /etc, no /lib, no /proc.
mod common;
use common::*;
use std::os::unix::process::CommandExt;

/// A root holding only a copy of the static binary and /dev/null.
fn empty_root(t: &Test) -> std::path::PathBuf {
    let root = t.path("root");
    std::fs::create_dir_all(root.join("dev")).unwrap();
    std::fs::copy(bin(), root.join("dfork")).unwrap();
    let null = std::ffi::CString::new(root.join("dev/null").into_os_string().into_encoded_bytes()).unwrap();
    let rc = unsafe { libc::mknod(null.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(rc, 0, "mknod /dev/null: {}", std::io::Error::last_os_error());
    root
}

fn chrooted(root: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new("/dfork");
    c.args(args).env_clear().stdin(std::process::Stdio::null());
    let root = root.to_path_buf();
    unsafe {
        c.pre_exec(move || {
            std::os::unix::fs::chroot(&root)?;
            std::env::set_current_dir("/")
        });
    }
    c
}

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
    assert!(wait_for(10, || std::fs::read_to_string(root.join("out.log")).unwrap_or_default() == format!("dfork {}\n", env!("CARGO_PKG_VERSION"))));
    // The daemon was exec'd with a pidfile; without /proc it still closed fds.
    let tag = sleep_tag();
    let out = t.run(&mut chrooted(&root, &["-q", "/dfork", "-f", "/dfork-no-such", &tag]));
    assert_eq!(out.status.code(), Some(0), "the launcher reports the start of dfork -f");
    // Errors are reported in the empty root too.
    let out = t.run(&mut chrooted(&root, &["/bin/sh"]));
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(stderr(&out), "dfork: exec /bin/sh: No such file or directory\n");
}
