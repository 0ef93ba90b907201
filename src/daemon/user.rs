//! `-u USER[:GROUP]`: who the daemon runs as, and the privilege drop.
//!
//! Names are resolved before forking, from `/etc/passwd` and `/etc/group`
//! read directly (a static binary has no NSS, and musl's `getpwnam_r` would
//! allocate); numbers need no file at all, as in an initramfs. A name made of
//! digits is taken as a number. The drop is one function with one order:
//! [`setgroups(2)`], [`setgid(2)`], [`setuid(2)`], then proof that it holds:
//! `setuid(0)` must fail and no capability may be left.
//!
//! [`setgroups(2)`]: https://man7.org/linux/man-pages/man2/setgroups.2.html
//! [`setgid(2)`]: https://man7.org/linux/man-pages/man2/setgid.2.html
//! [`setuid(2)`]: https://man7.org/linux/man-pages/man2/setuid.2.html

use crate::report::{Error, Stage, Text};
use crate::text::decimal;
use crate::sys;
use core::ffi::CStr;
use rustix::fd::AsFd;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{Gid, Uid};
use rustix::thread as th;

/// The most groups a daemon can have (its primary group included).
pub const GROUPS_MAX: usize = 32;
/// Room for `USER=`, `LOGNAME=` and `HOME=` with their values.
const ENV_BYTES: usize = 320;

/// A resolved `USER[:GROUP]`.
#[derive(Clone, Copy, Debug)]
pub struct Ident {
    /// The user to become; None for `:GROUP` alone (the user is kept).
    pub uid: Option<u32>,
    /// The primary group.
    pub gid: u32,
    groups: [u32; GROUPS_MAX],
    ngroups: usize,
    /// `USER=name\0LOGNAME=name\0HOME=dir\0` when the user has a name.
    env: [u8; ENV_BYTES],
    env_len: usize,
}

/// Why `-u` cannot be resolved.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Refused {
    /// Not `USER[:GROUP]` with names or numbers below 4294967295: a usage error.
    Syntax,
    /// The caller is not root.
    NotRoot,
    /// No such user in /etc/passwd.
    NoUser,
    /// No such group in /etc/group.
    NoGroup,
    /// The user has more than [`GROUPS_MAX`] groups, or a longer home than fits.
    TooMany,
}

impl Refused {
    /// The error to print, about the `-u` argument.
    pub fn error(self) -> Error {
        match self {
            Refused::NotRoot => Error::os(Stage::User, Errno::PERM),
            Refused::NoGroup => Error::text(Stage::User, Text::NoGroup),
            Refused::TooMany => Error::text(Stage::User, Text::TooManyGroups),
            _ => Error::text(Stage::User, Text::NoUser),
        }
    }
}

/// One line of a colon-separated database, split into its first seven
/// fields (missing ones are empty).
type Fields<'f> = [&'f [u8]; 7];

/// The two databases, and how many fields a line of each has.
#[derive(Clone, Copy)]
enum Db {
    /// `/etc/passwd`: name, password, uid, gid, gecos, home, shell.
    Passwd,
    /// `/etc/group`: name, password, gid, members.
    Group,
}

impl Db {
    fn path(self) -> &'static CStr {
        match self {
            Db::Passwd => c"/etc/passwd",
            Db::Group => c"/etc/group",
        }
    }

    /// Whether `f` (a line with `n` fields) is an entry: every field there,
    /// and the ids numbers. musl and glibc skip any other line.
    fn entry(self, f: &Fields<'_>, n: usize) -> bool {
        match self {
            Db::Passwd => n >= 7 && id(f[2]).is_some() && id(f[3]).is_some(),
            Db::Group => n >= 4 && id(f[2]).is_some(),
        }
    }
}

/// Call `f` on each entry of `db` until it returns true; lines that are not
/// entries (missing fields, an id that is not a number) are skipped, as
/// musl and glibc skip them. A missing or unreadable file has no lines; a
/// NUL byte ends a line too, so no field holds one (they become C strings).
/// `f` is a trait object: one copy of this function, not one per caller.
fn scan(db: Db, f: &mut dyn FnMut(&Fields<'_>) -> bool) {
    let Ok(fd) = rustix::fs::open(db.path(), OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK, Mode::empty()) else { return };
    sys::with_mapped(fd.as_fd(), 1 << 24, &mut |text| {
        for line in text.split(|&c| matches!(c, b'\n' | 0)) {
            let mut fields: Fields<'_> = [b""; 7];
            let mut n = 0;
            for (slot, v) in fields.iter_mut().zip(line.split(|&c| c == b':')) {
                *slot = v;
                n += 1;
            }
            if db.entry(&fields, n) && f(&fields) {
                return;
            }
        }
    });
}

/// A uid or gid: strict digits, not 4294967295 (-1).
fn id(b: &[u8]) -> Option<u32> {
    decimal(b).filter(|&v| v != u32::MAX)
}

/// USER or GROUP of `-u`: a number, None for a name; a syntax error when it
/// is empty, or starts with a digit but is not a valid id.
fn number(b: &[u8]) -> Result<Option<u32>, Refused> {
    match b.first() {
        Some(b'0'..=b'9') => id(b).map(Some).ok_or(Refused::Syntax),
        Some(_) => Ok(None),
        None => Err(Refused::Syntax),
    }
}

impl Ident {
    /// Resolve `USER[:GROUP]` (`nobody`, `65534:65534`, `:1000`,
    /// `www:adm`). The primary group is GROUP, else the user's from
    /// /etc/passwd, else (a number with no entry) the uid's own number. The
    /// supplementary groups are the primary one and, for a named user, every
    /// group of /etc/group that lists the name: nothing of the caller's.
    pub fn resolve(spec: &CStr) -> Result<Ident, Refused> {
        let b = spec.to_bytes();
        let (user, group) = match b.iter().position(|&c| c == b':') {
            Some(i) => (&b[..i], Some(&b[i + 1..])),
            None => (b, None),
        };
        let mut me = Ident { uid: None, gid: 0, groups: [0; GROUPS_MAX], ngroups: 1, env: [0; ENV_BYTES], env_len: 0 };
        // The user: a number (no file needed), or a name from /etc/passwd.
        let mut name_len = 0;
        if !user.is_empty() {
            let number = number(user)?;
            let mut fits = true;
            scan(Db::Passwd, &mut |f| {
                let uid = id(f[2]);
                let hit = uid.is_some() && if number.is_some() { uid == number } else { f[0] == user };
                if hit {
                    (me.uid, me.gid) = (uid, id(f[3]).unwrap_or(0)); // an entry's gid is a number
                    fits = me.set_env(f[0], f[5]);
                    name_len = f[0].len();
                }
                hit
            });
            if !fits {
                return Err(Refused::TooMany);
            }
            if me.uid.is_none() {
                me.uid = Some(number.ok_or(Refused::NoUser)?);
                me.gid = me.uid.unwrap_or(0);
            }
        }
        // The group: a number, or a name from /etc/group.
        match group {
            Some(g) => {
                me.gid = match number(g)? {
                    Some(n) => n,
                    None => {
                        let mut gid = None;
                        scan(Db::Group, &mut |f| {
                            gid = id(f[2]).filter(|_| f[0] == g);
                            gid.is_some()
                        });
                        gid.ok_or(Refused::NoGroup)?
                    }
                }
            }
            None if user.is_empty() => return Err(Refused::Syntax),
            None => {}
        }
        if !rustix::process::geteuid().is_root() {
            return Err(Refused::NotRoot);
        }
        // The primary group, then every group that lists the user's name.
        me.groups[0] = me.gid;
        let name = &me.env[5..5 + name_len];
        let (mut groups, mut n) = (me.groups, 1);
        if !name.is_empty() {
            scan(Db::Group, &mut |f| {
                if let Some(g) = id(f[2]).filter(|_| f[3].split(|&c| c == b',').any(|m| m == name)) {
                    if !groups[..n.min(GROUPS_MAX)].contains(&g) {
                        if let Some(slot) = groups.get_mut(n) {
                            *slot = g;
                        }
                        n += 1;
                    }
                }
                false
            });
        }
        if n > GROUPS_MAX {
            return Err(Refused::TooMany);
        }
        (me.groups, me.ngroups) = (groups, n);
        Ok(me)
    }

    /// Record `USER`, `LOGNAME` and `HOME` (`/` when the entry has none);
    /// false when they do not fit.
    fn set_env(&mut self, name: &[u8], home: &[u8]) -> bool {
        let home = if home.is_empty() { &b"/"[..] } else { home };
        let mut n = 0;
        for part in [&b"USER="[..], name, b"\0LOGNAME=", name, b"\0HOME=", home, b"\0"] {
            let Some(dst) = self.env.get_mut(n..n + part.len()) else { return false };
            dst.copy_from_slice(part);
            n += part.len();
        }
        self.env_len = n;
        true
    }

    /// The supplementary groups, the primary one first.
    pub fn groups(&self) -> &[u32] {
        &self.groups[..self.ngroups]
    }

    /// How many variables [`each_env`](Self::each_env) gives: 3, or 0.
    pub fn vars(&self) -> usize {
        if self.env_len > 0 {
            3
        } else {
            0
        }
    }

    /// Call `f` with `USER=`, `LOGNAME=` and `HOME=` (none for a user given
    /// by a number without a passwd entry, or for `:GROUP`).
    pub fn each_env<'s>(&'s self, mut f: impl FnMut(&'s CStr)) {
        for kv in self.env[..self.env_len].split_inclusive(|&c| c == 0) {
            f(sys::cstr_of(kv));
        }
    }

    /// Become this identity, for good: [`setgroups(2)`] to exactly
    /// [`groups`](Self::groups), then the real, effective and saved gid, then
    /// the uid ([`setresgid(2)`], [`setresuid(2)`]; rustix's per-thread calls,
    /// and dfork has one thread). Then the proof: for a uid other than 0,
    /// `setuid(0)` must fail and no capability may remain (a launcher started
    /// with `SECBIT_NO_SETUID_FIXUP` keeps them through a plain drop), or
    /// the daemon must not run at all.
    ///
    /// [`setgroups(2)`]: https://man7.org/linux/man-pages/man2/setgroups.2.html
    /// [`setresgid(2)`]: https://man7.org/linux/man-pages/man2/setresgid.2.html
    /// [`setresuid(2)`]: https://man7.org/linux/man-pages/man2/setresuid.2.html
    pub fn become_it(&self) -> Result<(), Error> {
        let e = |x| Error::os(Stage::Become, x);
        let mut gids = [Gid::ROOT; GROUPS_MAX];
        for (g, &raw) in gids.iter_mut().zip(self.groups()) {
            *g = Gid::from_raw(raw);
        }
        th::set_thread_groups(&gids[..self.ngroups]).map_err(e)?;
        let g = Gid::from_raw(self.gid);
        th::set_thread_res_gid(g, g, g).map_err(e)?;
        let Some(uid) = self.uid else { return Ok(()) };
        let u = Uid::from_raw(uid);
        th::set_thread_res_uid(u, u, u).map_err(e)?;
        let caps = th::capabilities(None).map_err(e)?;
        if uid != 0 && (th::set_thread_uid(Uid::ROOT).is_ok() || !caps.permitted.is_empty() || !caps.effective.is_empty()) {
            return Err(Error::text(Stage::Become, Text::StillPrivileged));
        }
        Ok(())
    }
}
