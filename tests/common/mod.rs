//! Shared helpers for the integration tests: spawn the real binary, read
//! `/proc`, wait on conditions with deadlines, and kill by pid whatever a test
//! started, even when an assertion fails.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_dfork")
}

/// A `dfork` command with the given arguments, stdin closed to /dev/null.
pub fn dfork<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    subreaper();
    let mut c = Command::new(bin());
    c.args(args).stdin(Stdio::null());
    c
}

/// Make this test process the subreaper of its descendants, so daemons that
/// dfork starts are reparented to us (not to the sandbox's pid 1) and can be
/// reaped by pid. Only specific pids are ever waited for, so parallel tests
/// never steal each other's children.
pub fn subreaper() {
    rustix::process::set_child_subreaper(Some(rustix::process::getpid())).ok();
}

/// One test's resources: a scratch directory and the pids it started. On drop
/// (also after a failed assertion) every tracked pid is killed and reaped, and
/// under nextest's process-per-test mode every other child we inherited as
/// subreaper (daemons that exited on their own) is reaped too, so no zombie
/// outlives the test. Under plain `cargo test`, where tests share a process,
/// only tracked pids are reaped: waiting for any child there could steal
/// another test's `Command`.
pub struct Test {
    pub dir: Scratch,
    pids: std::cell::RefCell<Vec<i32>>,
}

impl Test {
    pub fn new(tag: &str) -> Test {
        subreaper();
        Test { dir: Scratch::new(tag), pids: Default::default() }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }
    /// An attacker's setup: a file `victim` holding `precious\n`, and a
    /// symlink to it named `link`. Returns (victim, link).
    pub fn planted_symlink(&self, link: &str) -> (PathBuf, PathBuf) {
        let victim = self.path("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let link = self.path(link);
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        (victim, link)
    }
    /// Kill and reap `pid` when the test ends.
    pub fn track(&self, pid: i32) -> i32 {
        self.pids.borrow_mut().push(pid);
        pid
    }
    /// Run a launcher to completion; track the daemon it reports.
    pub fn run(&self, cmd: &mut Command) -> Output {
        let out = cmd.output().expect("spawn dfork");
        if out.status.code() == Some(0) && out.stdout.starts_with(b"Daemon PID ") {
            self.track(daemon_pid(&out));
        }
        out
    }
}

impl Drop for Test {
    fn drop(&mut self) {
        for &pid in self.pids.borrow().iter() {
            kill_and_reap(pid);
        }
        if std::env::var("NEXTEST_EXECUTION_MODE").as_deref() == Ok("process-per-test") {
            let mut st = 0;
            while unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) } > 0 {}
        }
    }
}

/// A fresh scratch directory, removed at the end of the test.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let base = std::env::var_os("DFORK_TEST_TMP").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        let p = base.join(format!("dfork-{tag}-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// A number no other call in this process returns.
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    N.fetch_add(1, Ordering::Relaxed) * 1_000_000_000 + t
}

/// A unique `sleep` argument (`1000.<n>`): finds our own daemon and nobody else's.
pub fn sleep_tag() -> String {
    format!("1000.{}", unique() % 1_000_000_000)
}

/// SIGKILL `pid` and wait (bounded) until it is gone or reaped.
pub fn kill_and_reap(pid: i32) {
    if pid <= 1 {
        return;
    }
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let mut st = 0;
        let r = unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) };
        if r == pid || (r < 0 && !alive(pid)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The children of `pid` (from `/proc/PID/task/*/children`).
pub fn children(pid: i32) -> Vec<i32> {
    let mut out = vec![];
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten() {
        let s = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
    }
    out
}

impl Test {
    /// Spawn a wrapper (strace, unshare --fork) that runs the binary under
    /// test as its child; track both, and return (wrapper, child) once the
    /// child runs the binary. The child is found by its command line, not
    /// as the first child: strace forks short-lived probes of its own first.
    pub fn spawn_wrapped(&self, cmd: &mut Command) -> (std::process::Child, i32) {
        let child = cmd.stdin(Stdio::null()).spawn().expect("spawn wrapper");
        let wrapper = self.track(child.id() as i32);
        let mut inner = 0;
        assert!(wait_for(30, || {
            inner = children(wrapper).into_iter().find(|&c| cmdline(c).first().map(|a| a == bin().as_bytes()).unwrap_or(false)).unwrap_or(0);
            inner > 0
        }), "the wrapper started the binary");
        // Killed first at the end: a killed strace or unshare leaves it running.
        self.pids.borrow_mut().insert(0, inner);
        (child, inner)
    }
}

/// A free TCP port on 127.0.0.1 for one test (bound and released at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Whether `pid` exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => stat_field(&s, 3) != "Z",
        Err(_) => false,
    }
}

/// Field `n` (1-based, as in proc(5)) of a `/proc/PID/stat` line.
pub fn stat_field(stat: &str, n: usize) -> String {
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.split(' ').nth(n - 3).unwrap().to_string()
}

/// A numeric field of `/proc/PID/stat`.
pub fn stat_num(pid: i32, n: usize) -> i64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat_field(&s, n).parse().unwrap()
}

/// A line of `/proc/PID/status`, e.g. `status(pid, "Umask")` -> "0022".
pub fn status(pid: i32, key: &str) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

/// The open descriptors of `pid` and what they point to; none once it is
/// gone (a child listed a moment ago, such as one of strace's probes, may
/// have exited since).
pub fn fds(pid: i32) -> Vec<(i32, PathBuf)> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return vec![] };
    let mut v: Vec<(i32, PathBuf)> = dir
        .filter_map(|e| e.ok())
        .map(|e| {
            let n: i32 = e.file_name().to_str().unwrap().parse().unwrap();
            (n, std::fs::read_link(e.path()).unwrap_or_default())
        })
        .collect();
    v.sort();
    v
}

/// Whether `pid` has exactly fds 0-2 on /dev/null and one more: the lock on
/// `pidfile`, read in one snapshot. A dynamically linked command (our `sleep`)
/// opens its loader's and locale files for a moment while starting, so tests
/// wait for this to hold rather than read the list once.
pub fn only_stdio_and_lock(pid: i32, pidfile: &Path) -> bool {
    let f = fds(pid);
    let null = Path::new("/dev/null");
    f.len() == 4 && f[..3].iter().enumerate().all(|(i, (n, p))| *n == i as i32 && p == null) && f[3].1 == pidfile
}

/// The argv of `pid`, as bytes.
pub fn cmdline(pid: i32) -> Vec<Vec<u8>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    raw.split(|&b| b == 0).filter(|s| !s.is_empty()).map(|s| s.to_vec()).collect()
}

/// Pids of live processes whose command line contains `needle`.
pub fn pids_with_arg(needle: &str) -> Vec<i32> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        if pid == std::process::id() as i32 {
            continue;
        }
        if cmdline(pid).iter().any(|a| a.windows(needle.len()).any(|w| w == needle.as_bytes())) && alive(pid) {
            out.push(pid);
        }
    }
    out
}

/// Pids of live `sleep TAG` processes (exactly that argv).
pub fn sleepers(tag: &str) -> Vec<i32> {
    pids_with_arg(tag).into_iter().filter(|&p| cmdline(p) == [b"sleep".to_vec(), tag.as_bytes().to_vec()]).collect()
}

/// Poll `cond` every few ms until it holds or `secs` pass; never a fixed sleep.
pub fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The pid in `Daemon PID N` on the launcher's stdout.
pub fn daemon_pid(out: &Output) -> i32 {
    let s = String::from_utf8_lossy(&out.stdout);
    let n = s.trim().strip_prefix("Daemon PID ").unwrap_or_else(|| panic!("no 'Daemon PID' in {s:?}; stderr {:?}", String::from_utf8_lossy(&out.stderr)));
    n.parse().unwrap()
}

/// The pid a pidfile holds (strict `N\n`).
pub fn read_pidfile(p: &Path) -> i32 {
    let s = std::fs::read_to_string(p).unwrap();
    assert!(s.ends_with('\n') && s.trim_end().chars().all(|c| c.is_ascii_digit()), "pidfile {s:?}");
    s.trim_end().parse().unwrap()
}

/// A process's exit code (-1 when killed by a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A process's stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The wait status of `pid`, a daemon reparented to us (we are its
/// subreaper), once it exits (within 10 s).
pub fn reap(pid: i32) -> i32 {
    let mut st = 0;
    assert!(wait_for(10, || unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) } == pid), "pid {pid} exits");
    st
}

/// Start `sleep TAG` (a fresh tag) as a daemon with pidfile `p`; its pid.
pub fn start_sleeper(t: &Test, p: &Path) -> i32 {
    let tag = sleep_tag();
    let out = t.run(&mut dfork(["-p".as_ref(), p.as_os_str(), "sleep".as_ref(), tag.as_ref()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    daemon_pid(&out)
}

/// The launcher's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whether `tool` is on PATH. Under CI (`CI` set) a missing tool fails the test:
/// CI installs everything, so nothing real may be skipped there. Elsewhere the
/// test says loudly that it skipped.
pub fn have(tool: &str, test: &str) -> bool {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().map(|o| o.status.success()).unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("{test}: needs {tool}, which CI must install");
        }
        eprintln!("\n*** SKIPPED {test}: needs {tool} (install it; CI does) ***\n");
    }
    found
}

/// Whether we are root. Under CI a non-root run fails tests that need root.
pub fn root(test: &str) -> bool {
    let is_root = rustix::process::geteuid().is_root();
    if !is_root {
        if std::env::var_os("CI").is_some() {
            panic!("{test}: needs root, and CI runs as root");
        }
        eprintln!("\n*** SKIPPED {test}: needs root ***\n");
    }
    is_root
}

/// An `OsStr` from raw bytes (arguments are bytes, not UTF-8).
pub fn os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

/// Start the launcher with hostile inherited state: `extra_fd` open (not
/// close-on-exec) as fd 7, SIGTERM blocked, SIGPIPE and SIGHUP ignored,
/// optionally SIGCHLD ignored, umask 000.
pub fn hostile(cmd: &mut Command, ignore_chld: bool) {
    unsafe {
        cmd.pre_exec(move || {
            let fd = libc::open(c"/etc/hostname".as_ptr(), libc::O_RDONLY);
            let fd = if fd < 0 { libc::open(c"/".as_ptr(), libc::O_RDONLY) } else { fd };
            libc::dup2(fd, 7);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            if ignore_chld {
                libc::signal(libc::SIGCHLD, libc::SIG_IGN);
            }
            libc::umask(0);
            Ok(())
        });
    }
}

/// A root holding only a copy of the static binary (as `/dfork`) and /dev/null.
pub fn empty_root(t: &Test) -> std::path::PathBuf {
    let root = t.path("root");
    std::fs::create_dir_all(root.join("dev")).unwrap();
    std::fs::copy(bin(), root.join("dfork")).unwrap();
    let null = std::ffi::CString::new(root.join("dev/null").into_os_string().into_encoded_bytes()).unwrap();
    let rc = unsafe { libc::mknod(null.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(rc, 0, "mknod /dev/null: {}", std::io::Error::last_os_error());
    root
}

/// `/dfork ARGS` run chrooted into `root`, with an empty environment.
pub fn chrooted(root: &std::path::Path, args: &[&str]) -> std::process::Command {
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

/// What `dfork --version` prints: the version and the target it was built for.
pub fn version_line() -> String {
    format!("dfork {} {}\n", env!("CARGO_PKG_VERSION"), env!("DFORK_TARGET"))
}

/// Kills, when dropped, every process whose argv holds `needle` (a unique
/// tag): the processes a daemon started that no pid was tracked for, even
/// when an assertion fails first.
pub struct KillTagged(pub String);

impl Drop for KillTagged {
    fn drop(&mut self) {
        // For half a second: a start held back (by strace, say) may exec
        // its command only after the test gave up on it.
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            for pid in pids_with_arg(&self.0) {
                kill_and_reap(pid);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Kill `pid` and every process below it, children first (from
/// `/proc/PID/task/*/children`, walked again until none is left).
pub fn kill_tree(pid: i32) {
    for child in children(pid) {
        kill_tree(child);
    }
    kill_and_reap(pid);
}
