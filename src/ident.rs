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

use crate::args::decimal;
use crate::error::{Error, Stage, Text};
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

/// Call `f` on each line of `/etc/passwd` or `/etc/group` until it returns
/// true. A missing or unreadable file has no lines.
/// One function, not one per caller: `f` is a trait object.
fn scan(path: &CStr, f: &mut dyn FnMut(&Fields<'_>) -> bool) {
    let Ok(fd) = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK, Mode::empty()) else { return };
    sys::with_mapped(fd.as_fd(), 1 << 24, &mut |text| {
        for line in text.split(|&c| c == b'\n') {
            let mut fields: Fields<'_> = [b""; 7];
            for (slot, v) in fields.iter_mut().zip(line.split(|&c| c == b':')) {
                *slot = v;
            }
            if f(&fields) {
                return;
            }
        }
    });
}

/// A uid or gid as `-u` writes it: strict digits, not 4294967295 (-1).
fn id(b: &[u8]) -> Option<u32> {
    decimal(b).filter(|&v| v != u32::MAX)
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
        if group == Some(b"") || (user.is_empty() && group.is_none()) {
            return Err(Refused::Syntax);
        }
        let mut me = Ident { uid: None, gid: 0, groups: [0; GROUPS_MAX], ngroups: 0, env: [0; ENV_BYTES], env_len: 0 };
        let mut primary = None;
        let mut name_buf = [0u8; 64];
        let mut name_len = 0;
        if !user.is_empty() {
            let number = match user[0] {
                b'0'..=b'9' => Some(id(user).ok_or(Refused::Syntax)?),
                _ => None,
            };
            let mut found = false;
            let mut too_long = false;
            scan(c"/etc/passwd", &mut |f| {
                let hit = match number {
                    Some(n) => id(f[2]) == Some(n),
                    None => f[0] == user,
                };
                if hit && id(f[2]).is_some() {
                    found = true;
                    me.uid = id(f[2]);
                    primary = id(f[3]);
                    too_long = f[0].len() > name_buf.len() || !me.set_env(f[0], f[5]);
                    if !too_long {
                        name_buf[..f[0].len()].copy_from_slice(f[0]);
                        name_len = f[0].len();
                    }
                }
                hit
            });
            if too_long {
                return Err(Refused::TooMany);
            }
            match (found, number) {
                (false, None) => return Err(Refused::NoUser),
                (false, Some(n)) => me.uid = Some(n),
                _ => {}
            }
            primary = primary.or(me.uid);
        }
        if let Some(g) = group {
            primary = Some(match g[0] {
                b'0'..=b'9' => id(g).ok_or(Refused::Syntax)?,
                _ => {
                    let mut gid = None;
                    scan(c"/etc/group", &mut |f| {
                        if f[0] == g {
                            gid = id(f[2]);
                        }
                        gid.is_some()
                    });
                    gid.ok_or(Refused::NoGroup)?
                }
            });
        }
        if !rustix::process::geteuid().is_root() {
            return Err(Refused::NotRoot);
        }
        me.gid = primary.unwrap_or(0);
        me.add_group(me.gid);
        let mut full = false;
        let name = &name_buf[..name_len];
        if !name.is_empty() {
            scan(c"/etc/group", &mut |f| {
                if let Some(g) = id(f[2]).filter(|_| f[3].split(|&c| c == b',').any(|m| m == name)) {
                    full |= !me.add_group(g);
                }
                false
            });
        }
        if full {
            return Err(Refused::TooMany);
        }
        Ok(me)
    }

    /// Add a supplementary group once; false when the table is full.
    fn add_group(&mut self, g: u32) -> bool {
        if self.groups[..self.ngroups].contains(&g) {
            return true;
        }
        let Some(slot) = self.groups.get_mut(self.ngroups) else { return false };
        *slot = g;
        self.ngroups += 1;
        true
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
