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
