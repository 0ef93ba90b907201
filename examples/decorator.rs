//! The reference demo's decorator, in Rust: daemonize any function.
//!
//! The Python original forks twice, `chdir /`, writes its pid to
//! `/var/run/instance_monitor.pid` and calls the function. Here the same takes
//! one builder call, and the launcher only returns once the daemon really
//! started (exit code 0, `Daemon PID N`), with the pidfile locked.
//!
//! Run: `cargo run --example decorator -- /tmp/demo.pid /tmp/demo.log 3`
//! (pidfile, log, number of lines; the daemon writes one line a second).
use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStringExt;

/// `@daemon` from the reference: run `body` as a daemon holding `pidfile`.
fn daemon(pidfile: &CString, body: impl FnOnce()) {
    let d = dfork::Daemon::new().pidfile(pidfile);
    match d.start() {
        Ok(mut running) => {
            running.ready(); // the launcher prints `Daemon PID N` and exits 0
            body();
            running.abandon(); // remove the pidfile: we are done
        }
        Err(e) => {
            e.print(d.path_of(e.stage));
            std::process::exit(e.exit_code() as i32);
        }
    }
}

fn main() {
    let mut args = std::env::args_os().skip(1).map(|a| a.into_vec());
    let pidfile = CString::new(args.next().unwrap_or(b"/tmp/instance_monitor.pid".to_vec())).unwrap();
    // The daemon runs in `/`: make the log path absolute first.
    let log = std::path::absolute(std::ffi::OsString::from_vec(args.next().unwrap_or(b"/tmp/daemon-log".to_vec()))).unwrap();
    let lines: u32 = args.next().and_then(|n| String::from_utf8(n).ok()?.parse().ok()).unwrap_or(3);
    daemon(&pidfile, move || {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        for i in 0..lines {
            writeln!(f, "tick {i} from pid {}", std::process::id()).unwrap();
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        // libc's raise signals the thread id libc cached: the library forks
        // the daemon so that it is this process's own (see Daemon::bare_fork).
        writeln!(f, "raise: {}", if raise_reaches_us() { "delivered" } else { "lost" }).unwrap();
    });
}

static RAISED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_usr1(_: libc::c_int) {
    RAISED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Whether libc's `raise(SIGUSR1)` runs this process's handler.
fn raise_reaches_us() -> bool {
    // SAFETY: the handler only stores to an atomic; raise is always safe to call.
    unsafe {
        libc::signal(libc::SIGUSR1, on_usr1 as extern "C" fn(libc::c_int) as libc::sighandler_t);
        libc::raise(libc::SIGUSR1) == 0 && RAISED.load(std::sync::atomic::Ordering::SeqCst)
    }
}
