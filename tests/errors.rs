//! Every failure a user can cause: one line, a documented exit code, and
//! nothing left behind (no daemon, no pidfile).
mod common;
use common::*;

fn check(t: &Test, args: &[&std::ffi::OsStr], code: i32, line: &str, tag: &str) {
    let out = t.run(&mut dfork(args));
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
    assert_eq!(stderr(&out), format!("{line}\n"), "{args:?}");
    assert!(out.stdout.is_empty());
    assert!(pids_with_arg(tag).is_empty(), "nothing left running for {args:?}");
}

#[test]
fn missing_command_is_127() {
    let t = Test::new("e127");
    let pidfile = t.path("x.pid");
    let tag = format!("dfork-missing-{}", unique());
    check(&t, &["-p".as_ref(), pidfile.as_os_str(), tag.as_ref()], 127, &format!("dfork: exec {tag}: No such file or directory"), &tag);
    assert!(!pidfile.exists(), "no pidfile left behind");
    let abs = t.path(&tag);
    check(&t, &["-p".as_ref(), pidfile.as_os_str(), abs.as_os_str()], 127, &format!("dfork: exec {}: No such file or directory", abs.display()), &tag);
    assert!(!pidfile.exists());
}

#[test]
fn non_executable_command_is_126() {
    let t = Test::new("e126");
    let pidfile = t.path("x.pid");
    let file = t.path("not-executable");
    std::fs::write(&file, "#!/bin/sh\n").unwrap();
    let tag = file.to_string_lossy().into_owned();
    check(&t, &["-p".as_ref(), pidfile.as_os_str(), file.as_os_str()], 126, &format!("dfork: exec {tag}: Permission denied"), &tag);
    assert!(!pidfile.exists());
    // A directory named as the command is found but cannot be executed either.
    check(&t, &["-p".as_ref(), pidfile.as_os_str(), t.dir.0.as_os_str()], 126, &format!("dfork: exec {}: Permission denied", t.dir.0.display()), "dfork-e126-never");
    assert!(!pidfile.exists());
}

#[test]
fn usage_errors_are_2() {
    let t = Test::new("e2");
    let tag = sleep_tag();
    let s = |x: &'static str| -> &'static std::ffi::OsStr { x.as_ref() };
    let cases: Vec<(Vec<&std::ffi::OsStr>, String)> = vec![
        (vec![s("--bogus"), s("sleep"), tag.as_ref()], "dfork: unknown option '--bogus': see dfork --help".into()),
        (vec![s("-x"), s("sleep"), tag.as_ref()], "dfork: unknown option '-x': see dfork --help".into()),
        (vec![s("-m"), s("999"), s("sleep"), tag.as_ref()], "dfork: --umask '999': expected an octal mode from 0 to 0777".into()),
        (vec![s("-m"), s("1000"), s("sleep"), tag.as_ref()], "dfork: --umask '1000': expected an octal mode from 0 to 0777".into()),
        (vec![s("-m"), s(""), s("sleep"), tag.as_ref()], "dfork: empty argument '': options take no empty values".into()),
        (vec![s("-E"), s("NOEQUALS"), s("sleep"), tag.as_ref()], "dfork: --env 'NOEQUALS': expected NAME=VALUE".into()),
        (vec![s("-E"), s("=v"), s("sleep"), tag.as_ref()], "dfork: --env '=v': expected NAME=VALUE".into()),
        (vec![s("-p")], "dfork: option '-p': needs a value".into()),
        (vec![s("--quiet=yes"), s("sleep"), tag.as_ref()], "dfork: option '--quiet=yes': takes no value".into()),
        (vec![s("-q")], "dfork: no command: see dfork --help".into()),
        (vec![], "dfork: no command: see dfork --help".into()),
        (vec![s("--every"), s("1"), s("sleep"), tag.as_ref()], "dfork: --every and --format: only go with --heartbeat".into()),
        (vec![s("-p"), s(""), s("sleep"), tag.as_ref()], "dfork: empty argument '': options take no empty values".into()),
    ];
    for (args, line) in cases {
        check(&t, &args, 2, &line, &tag);
    }
}

#[test]
fn unwritable_pidfile_is_125() {
    let t = Test::new("e125");
    let tag = sleep_tag();
    let missing = t.path("no-such-dir/x.pid");
    check(&t, &["-p".as_ref(), missing.as_os_str(), "sleep".as_ref(), tag.as_ref()], 125, &format!("dfork: open {}: No such file or directory", missing.display()), &tag);
    // /proc refuses new files whoever we are (root included).
    check(&t, &["-p".as_ref(), "/proc/dfork.pid".as_ref(), "sleep".as_ref(), tag.as_ref()], 125, "dfork: open /proc/dfork.pid: No such file or directory", &tag);
    let out_missing = t.path("no-such-dir/out.log");
    let pidfile = t.path("ok.pid");
    check(&t, &["-p".as_ref(), pidfile.as_os_str(), "-o".as_ref(), out_missing.as_os_str(), "sleep".as_ref(), tag.as_ref()], 125, &format!("dfork: open {}: No such file or directory", out_missing.display()), &tag);
    assert!(!pidfile.exists(), "the pidfile taken before the failure is removed");
}

#[test]
fn failure_inside_the_daemon_reaches_the_launcher() {
    let t = Test::new("echdir");
    let pidfile = t.path("x.pid");
    let tag = sleep_tag();
    let dir = t.path("no-such-dir");
    check(&t, &["-p".as_ref(), pidfile.as_os_str(), "-c".as_ref(), dir.as_os_str(), "sleep".as_ref(), tag.as_ref()], 125, &format!("dfork: chdir {}: No such file or directory", dir.display()), &tag);
    assert!(!pidfile.exists(), "the daemon's pidfile is removed");
    // The pidfile lock was released too: a correct start now works.
    let out = t.run(&mut dfork(["-p".as_ref(), pidfile.as_os_str(), "sleep".as_ref(), tag.as_ref()]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
