//! Local time without libc: the zone of `TZ` (a POSIX rule string, a zoneinfo
//! name, `:/path`) or of `/etc/localtime`, UTC when there is none.
//!
//! The zone is read once, in the launcher, before `chdir` (so a relative
//! `:./zone` still means what the user meant, and a chroot without zoneinfo
//! keeps the zone it started with), into a fixed [`Zone`] of a few hundred
//! bytes: no allocation, no mapped file, nothing read per tick. It follows
//! musl's `localtime_r(3)` rules ([tzfile(5)], [RFC 8536] for the file format,
//! POSIX `TZ` for the strings), with these choices:
//! - a zone keeps the transitions from a given time on (a daemon's time only
//!   moves forward), up to [`KEEP`] of them; after the last one the file's
//!   footer rule applies, as RFC 8536 says;
//! - a rule string with a daylight name but no dates uses the US dates
//!   (`M3.2.0,M11.1.0`), as glibc does; an invalid date means standard time;
//! - leap-second records (`right/` zones) are ignored.
//!
//! [tzfile(5)]: https://man7.org/linux/man-pages/man5/tzfile.5.html
//! [RFC 8536]: https://www.rfc-editor.org/rfc/rfc8536

use crate::sys;
use super::Tm;
use core::ffi::CStr;
use rustix::fd::AsFd;
use rustix::fs::{Mode, OFlags};

/// How many future transitions a [`Zone`] keeps (16 years of twice-yearly
/// changes); later times follow the zone's rule.
pub const KEEP: usize = 32;

/// The POSIX default dates when a rule names daylight time but gives no
/// dates (the US rules, as glibc uses).
const US: [When; 2] = [When { kind: b'M', n: 3, week: 2, wday: 0, secs: 7200 }, When { kind: b'M', n: 11, week: 1, wday: 0, secs: 7200 }];

/// A time zone, valid for times from the `from` it was loaded for.
#[derive(Clone, Copy, Debug)]
pub struct Zone {
    n: usize,
    at: [i64; KEEP],
    /// The UTC offset (east positive) from `at[i]` on.
    off: [i32; KEEP],
    /// The offset before `at[0]`, or always when there is neither a
    /// transition nor a rule.
    base: i32,
    /// What holds after the last kept transition.
    rule: Rule,
}

/// A POSIX `TZ` rule: `std offset [dst [offset] [,start[/time],end[/time]]]`.
#[derive(Clone, Copy, Debug, Default)]
struct Rule {
    /// 0: no rule (the table decides), 1: standard time only, 2: with
    /// daylight time.
    kind: u8,
    std: i32,
    dst: i32,
    /// When daylight time starts and ends.
    dates: [When; 2],
}

/// A date of a rule and the local time of day of the change.
#[derive(Clone, Copy, Debug, Default)]
struct When {
    /// `J` (day 1-365, no Feb 29), `D` (day 0-365), or `M` (month.week.day).
    kind: u8,
    /// The day (J, D) or the month (M).
    n: u16,
    week: u8,
    wday: u8,
    secs: i32,
}

impl Zone {
    /// Coordinated Universal Time.
    pub fn utc() -> Zone {
        // A literal, not Rule::default(): that one is built apart and copied
        // field by field around its padding (128 bytes more, measured).
        const NEVER: When = When { kind: 0, n: 0, week: 0, wday: 0, secs: 0 };
        Zone { n: 0, at: [0; KEEP], off: [0; KEEP], base: 0, rule: Rule { kind: 0, std: 0, dst: 0, dates: [NEVER; 2] } }
    }

    /// The zone of this process: `TZ`, else `/etc/localtime`, else UTC.
    pub fn from_env(from: i64) -> Zone {
        Zone::load(sys::var(b"TZ"), from)
    }

    /// The zone `TZ` would give (None: `TZ` unset), for times from `from` on.
    /// A file that cannot be read or is not a zoneinfo file gives UTC.
    pub fn load(tz: Option<&CStr>, from: i64) -> Zone {
        let mut z = Zone::utc();
        let tz = tz.unwrap_or(c"/etc/localtime");
        let s = tz.to_bytes();
        // musl's test: a leading colon, or a slash before any comma, names a file.
        let colon = s.first() == Some(&b':');
        let slash = s.iter().position(|&c| c == b'/');
        if !colon && !slash.is_some_and(|p| !s[..p].iter().any(|&c| c == b',')) {
            z.rule = parse_rule(s);
            return z;
        }
        let name = sys::cstr_tail(tz, colon as usize);
        // A relative name is looked up under /usr/share/zoneinfo; openat
        // ignores the directory for an absolute one.
        let dir = match name.to_bytes().first() {
            Some(b'/') => None,
            _ => rustix::fs::open(c"/usr/share/zoneinfo", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).ok(),
        };
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let read = rustix::fs::openat(sys::path::base(&dir), name, flags, Mode::empty())
            .ok()
            .and_then(|fd| sys::with_mapped(fd.as_fd(), 1 << 20, &mut |f| parse_file(&mut z, f, from)));
        if read.flatten().is_none() {
            z = Zone::utc();
        }
        z
    }

    /// The zone a zoneinfo file's bytes describe, for times from `from` on;
    /// None when they are not a zoneinfo file. (What [`load`]
    /// does with a mapped file; here for the fuzzer and for library users.)
    ///
    /// [`load`]: Self::load
    pub fn from_tzif(file: &[u8], from: i64) -> Option<Zone> {
        let mut z = Zone::utc();
        parse_file(&mut z, file, from)?;
        Some(z)
    }

    /// The UTC offset in seconds (east positive) at `t`.
    pub fn offset(&self, t: i64) -> i32 {
        self.span(t).0
    }

    /// The offset at `t`, and the first time after `t` at which it may change.
    fn span(&self, t: i64) -> (i32, i64) {
        let i = self.at[..self.n].iter().take_while(|&&a| a <= t).count();
        let off = match i {
            _ if i == self.n && self.rule.kind > 0 => return self.rule.span(t),
            0 => self.base,
            _ => self.off[i - 1],
        };
        (off, self.at[..self.n].get(i).copied().unwrap_or(i64::MAX))
    }

    /// The broken-down local time of `t` (seconds since the epoch), None for
    /// times so far off (beyond a hundred million years) that no line needs them.
    pub fn local(&self, t: i64) -> Option<Tm> {
        Local::new(self).at(t)
    }
}

/// The farthest time from the epoch that has a local time (2^51 s, a
/// hundred million years): no line needs more, and no arithmetic overflows.
const LIMIT: i64 = 1 << 51;

/// Local time for a clock read again and again, as the heartbeat's is: it
/// keeps the local date and the span of UTC time over which both it and the
/// offset hold, so a tick inside the span costs a subtraction and the split
/// into hours, minutes and seconds. The calendar and the zone's rules are
/// worked out again once a local day, and at each change of offset.
pub struct Local<'z> {
    zone: &'z Zone,
    /// The date, weekday and offset (hours, minutes and seconds unused).
    day: Tm,
    /// The UTC time of the day's local midnight, at that offset.
    midnight: i64,
    /// `day` holds for UTC times in `[from, until)`.
    from: i64,
    until: i64,
}

impl<'z> Local<'z> {
    /// Nothing kept yet.
    pub fn new(zone: &'z Zone) -> Self {
        Local { zone, day: Tm::default(), midnight: 0, from: 0, until: 0 }
    }

    /// The broken-down local time of `t`, None beyond a hundred million years.
    pub fn at(&mut self, t: i64) -> Option<Tm> {
        if t < self.from || t >= self.until {
            self.fill(t)?;
        }
        let s = (t - self.midnight) as u32;
        Some(Tm { hour: (s / 3600) as u8, min: (s / 60 % 60) as u8, sec: (s % 60) as u8, ..self.day })
    }

    fn fill(&mut self, t: i64) -> Option<()> {
        if t.unsigned_abs() > LIMIT as u64 {
            return None;
        }
        let (off, next) = self.zone.span(t);
        let days = (t + off as i64).div_euclid(86400);
        let (year, mon, mday) = civil(days);
        let wday = (days + 4).rem_euclid(7) as u8;
        self.day = Tm { year, mon: mon as u8 - 1, mday: mday as u8, wday, gmtoff: off, ..Tm::default() };
        self.midnight = days * 86400 - off as i64;
        // Never past the limit beyond which local() refuses a time.
        (self.from, self.until) = (t, next.min(self.midnight + 86400).min(LIMIT + 1));
        Some(())
    }
}

impl Rule {
    /// The offset at `t`, and when it may change next: the first of this
    /// year's two changes after `t`, or else the rule's next year (the year
    /// is counted in standard time, as the dates are worked out: a change on
    /// 1 January can come before the next local midnight).
    fn span(&self, t: i64) -> (i32, i64) {
        if self.kind < 2 {
            return (self.std, i64::MAX);
        }
        let (y, _, _) = civil((t + self.std as i64).div_euclid(86400));
        let (a, b) = (self.dates[0].utc(y, self.std), self.dates[1].utc(y, self.dst));
        let mut next = days_from_civil(y + 1, 1, 1) * 86400 - self.std as i64;
        for c in [a, b] {
            if c > t && c < next {
                next = c;
            }
        }
        // Northern rules start before they end within a year; southern ones
        // end first (daylight time spans the new year).
        let dst = (a <= t && t < b) || (b < a && (t < b || a <= t));
        (if dst { self.dst } else { self.std }, next)
    }
}

impl When {
    /// The UTC time of this change in year `y`, its time of day being local
    /// time at offset `off`.
    fn utc(&self, y: i64, off: i32) -> i64 {
        let n = self.n as u32;
        let day = if self.kind == b'M' {
            let first = days_from_civil(y, n, 1);
            let next = days_from_civil(y + (n == 12) as i64, n % 12 + 1, 1);
            // Week 5 means the last such day: step back while past the month.
            let mut d = first + (self.wday as i64 - first - 4).rem_euclid(7) + 7 * (self.week as i64 - 1);
            while d >= next {
                d -= 7;
            }
            d
        } else {
            let jan1 = days_from_civil(y, 1, 1);
            let j = self.kind == b'J';
            let skip = j && n >= 60 && days_from_civil(y, 3, 1) - jan1 == 60;
            jan1 + n as i64 - j as i64 + skip as i64
        };
        day * 86400 + (self.secs - off) as i64
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12), after
/// Howard Hinnant's `days_from_civil`: only divisions by constants.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = y - (m <= 2) as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy as i64 - 719_468
}

/// The date (year, month 1-12, day 1-31) of a day number, the inverse of
/// [`days_from_civil`].
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = (doe - (365 * yoe + yoe / 4 - yoe / 100)) as u32;
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// A cursor over a rule string, with musl's lenient grammar.
struct Scan<'a>(&'a [u8]);

impl Scan<'_> {
    fn peek(&self) -> u8 {
        self.0.first().copied().unwrap_or(0)
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == c;
        if hit {
            self.0 = &self.0[1..];
        }
        hit
    }

    /// `CET`, or `<+0330>`; true when a name was there.
    fn name(&mut self) -> bool {
        let quoted = self.eat(b'<');
        let n = self.0.iter().position(|&c| if quoted { c == b'>' } else { !c.is_ascii_alphabetic() });
        let n = n.map_or(self.0.len(), |n| n + quoted as usize);
        self.0 = &self.0[n..];
        n > 0 || quoted
    }

    fn int(&mut self) -> u32 {
        let mut x: u32 = 0;
        while let Some(d) = self.peek().checked_sub(b'0').filter(|&d| d < 10) {
            x = (x * 10 + d as u32).min(9999);
            self.0 = &self.0[1..];
        }
        x
    }

    /// `[+-]hh[:mm[:ss]]` in seconds, hours at most 167.
    fn hms(&mut self) -> i32 {
        let neg = self.eat(b'-');
        let _ = neg || self.eat(b'+');
        let mut s = 0;
        for unit in [3600, 60, 1] {
            s += unit * self.int().min(167) as i32;
            if unit == 1 || !self.eat(b':') {
                break;
            }
        }
        if neg {
            -s
        } else {
            s
        }
    }

    /// `Jn[/time]`, `n[/time]` or `Mm.w.d[/time]` after a comma; None when
    /// absent or out of range.
    fn date(&mut self) -> Option<When> {
        if !self.eat(b',') {
            return None;
        }
        let kind = if self.eat(b'J') { b'J' } else if self.eat(b'M') { b'M' } else { b'D' };
        let n = self.int();
        let (mut week, mut wday) = (1, 0);
        if kind == b'M' {
            self.eat(b'.');
            week = self.int();
            self.eat(b'.');
            wday = self.int();
        }
        let secs = if self.eat(b'/') { self.hms() } else { 7200 };
        let ok = match kind {
            b'J' => (1..=365).contains(&n),
            b'D' => n <= 365,
            _ => (1..=12).contains(&n) && (1..=5).contains(&week) && wday <= 6,
        };
        ok.then_some(When { kind, n: n as u16, week: week as u8, wday: wday as u8, secs })
    }
}

/// A POSIX `TZ` rule string. Whatever does not parse means offset 0 or
/// standard time only, as with musl: a heartbeat never fails over its zone.
fn parse_rule(s: &[u8]) -> Rule {
    let mut p = Scan(s);
    p.name();
    // POSIX offsets count west: `CET-1` is one hour east of UTC.
    let std = -p.hms();
    let mut r = Rule { kind: 1, std, dst: std, dates: US };
    if p.name() {
        r.dst = if matches!(p.peek(), b'+' | b'-' | b'0'..=b'9') { -p.hms() } else { std + 3600 };
        r.kind = 2;
        if p.peek() != 0 {
            match (p.date(), p.date()) {
                (Some(a), Some(b)) => r.dates = [a, b],
                _ => r.kind = 1,
            }
        }
    }
    r
}

/// A cursor over a zoneinfo file.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = self.0.split_at_checked(n)?;
        self.0 = b;
        Some(a)
    }

    /// A header: its version byte (0 for version 1, else `2`, `3`...) and
    /// its six counts: isut, isstd, leap, time, type, char.
    fn header(&mut self) -> Option<(u8, [usize; 6])> {
        let h = self.take(44)?;
        let mut c = [0; 6];
        for (v, b) in c.iter_mut().zip(h[20..].chunks_exact(4)) {
            *v = be32(b) as usize;
        }
        h.starts_with(b"TZif").then_some((h[4], c))
    }
}

fn be32(b: &[u8]) -> u32 {
    b.first_chunk().map_or(0, |b| u32::from_be_bytes(*b))
}

/// A zoneinfo file ([tzfile(5)], [RFC 8536]): the transitions after `from`,
/// the offset in force at `from`, and the footer rule. A version 2 or later
/// file (every tzdata since 2005) is read from its 64-bit part; a version 1
/// file has only the 32-bit part and no footer, and is read from that, as
/// musl and glibc read it (after its last transition its last offset holds).
///
/// [tzfile(5)]: https://man7.org/linux/man-pages/man5/tzfile.5.html
/// [RFC 8536]: https://www.rfc-editor.org/rfc/rfc8536
fn parse_file(z: &mut Zone, f: &[u8], from: i64) -> Option<()> {
    let mut f = Bytes(f);
    let (version, mut counts) = f.header()?;
    // The width of a time: 4 bytes in the 32-bit part, 8 in the 64-bit one.
    let mut width = 4;
    if version != 0 {
        // Skip the 32-bit part: the 64-bit one follows it.
        let [isut, isstd, leap, times, types, chars] = counts;
        f.take(times * 5 + types * 6 + chars + leap * 8 + isstd + isut)?;
        (counts, width) = (f.header()?.1, 8);
    }
    let [isut, isstd, leap, times, types, chars] = counts;
    let at = f.take(times * width)?;
    let idx = f.take(times)?;
    let info = f.take(types * 6)?;
    f.take(chars + leap * (width + 4) + isstd + isut)?;
    let off = |i: u8| info.get(6 * i as usize..).filter(|r| r.len() >= 6).map(|r| be32(r) as i32);
    // Type 0 holds before the first transition (RFC 8536); transitions at or
    // before `from` only decide the offset in force at `from`.
    z.base = off(0)?;
    for (t, &i) in at.chunks_exact(width).zip(idx) {
        let t = match width {
            4 => be32(t) as i32 as i64,
            _ => ((be32(t) as u64) << 32 | be32(&t[4..]) as u64) as i64,
        };
        let o = off(i)?;
        if t <= from {
            z.base = o;
        } else if z.n < KEEP {
            z.at[z.n] = t;
            z.off[z.n] = o;
            z.n += 1;
        }
    }
    // `\nRULE\n` (version 2 on); an empty rule means none.
    let foot = if version == 0 { &[][..] } else { f.0.get(1..).unwrap_or(&[]) };
    let rule = &foot[..foot.iter().position(|&c| c == b'\n').unwrap_or(0)];
    if !rule.is_empty() {
        z.rule = parse_rule(rule);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for d in (-800_000..800_000).step_by(7) {
            let (y, m, dd) = civil(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(11_016), (2000, 2, 29));
    }

    fn at(rule: &str, t: i64) -> i32 {
        let tz = std::ffi::CString::new(rule).unwrap();
        Zone::load(Some(&tz), t).offset(t)
    }

    #[test]
    fn rule_strings() {
        // 2026-03-29 01:00 UTC: Europe's change; 2026-10-25 01:00 UTC back.
        let eu = "CET-1CEST,M3.5.0,M10.5.0/3";
        assert_eq!(at(eu, 1_774_745_999), 3600);
        assert_eq!(at(eu, 1_774_746_000), 7200);
        assert_eq!(at(eu, 1_792_889_999), 7200);
        assert_eq!(at(eu, 1_792_890_000), 3600);
        // Southern hemisphere: daylight time spans the new year.
        let au = "AEST-10AEDT,M10.1.0,M4.1.0/3";
        assert_eq!(at(au, 1_767_225_600), 39_600); // 2026-01-01
        assert_eq!(at(au, 1_782_864_000), 36_000); // 2026-07-01
        // Angle-bracket names, minutes, no daylight time.
        assert_eq!(at("<+0545>-5:45", 0), 20_700);
        assert_eq!(at("<-03>3", 0), -10_800);
        // A daylight name without dates: US dates, one hour ahead.
        assert_eq!(at("EST5EDT", 1_782_864_000), -14_400);
        assert_eq!(at("EST5EDT", 1_767_225_600), -18_000);
        // Julian days: J60 is March 1 in any year; zero-based 59 is February
        // 29 in a leap year and March 1 in others.
        assert_eq!(at("A0B,J60/0,J61/0", 1_772_323_200), 3600); // 2026-03-01
        assert_eq!(at("A0B,J60/0,J61/0", 951_868_800), 3600); // 2000-03-01
        assert_eq!(at("A0B,J60/0,J61/0", 951_825_600), 0); // 2000-02-29 12:00
        assert_eq!(at("A0B,59/0,60/0", 951_825_600), 3600); // 2000-02-29 12:00
        assert_eq!(at("A0B,59/0,60/0", 983_404_800), 3600); // 2001-03-01
        // Garbage is UTC, an invalid date standard time; neither panics.
        assert_eq!(at("", 0), 0);
        assert_eq!(at("garbage", 0), 0);
        assert_eq!(at("X-2Y,M13.1.0,M1.1.0", 0), 7200);
        assert_eq!(at("X-2Y,M", 0), 7200);
        assert_eq!(at(":", 0), 0);
        assert_eq!(at("/nonexistent/zone", 0), 0);
    }

    /// A [`Local`] walked through time agrees, second by second, with a
    /// fresh computation: across DST changes (both hemispheres, a zoneinfo
    /// table and its footer rule), local midnights, and a new year, and when
    /// the clock is set back.
    #[test]
    fn cached_local_time_is_never_stale() {
        let zones: [&CStr; 5] = [c"CET-1CEST,M3.5.0,M10.5.0/3", c"AEST-10AEDT,M10.1.0,M4.1.0/3", c"Europe/Berlin", c"America/St_Johns", c"<+0545>-5:45"];
        // Around Europe's 2026 spring change, its autumn change, and the 2026/2027 new year.
        let starts = [1_774_738_800, 1_792_882_800, 1_798_750_800, 1_775_343_600];
        for tz in zones {
            let z = Zone::load(Some(tz), 1_700_000_000);
            let mut cached = Local::new(&z);
            for &t0 in &starts {
                for t in (t0..t0 + 6 * 3600).chain((t0 - 7200..t0).rev()) {
                    assert_eq!(cached.at(t), z.local(t), "TZ={tz:?} t={t}");
                }
            }
            // Daily refills over a year keep up with every date and change.
            for t in (1_767_225_600..1_798_761_600).step_by(997) {
                assert_eq!(cached.at(t), z.local(t), "TZ={tz:?} t={t}");
            }
        }
    }

    /// Fuzzing found it: a span filled just inside the limit must not
    /// answer for times past it (cached and fresh disagreed).
    #[test]
    fn the_cache_stops_at_the_limit() {
        let z = Zone::load(Some(c"ccc0\xe5\xb4"), 0);
        let mut cached = Local::new(&z);
        for t in [LIMIT - 100, LIMIT, LIMIT + 1, -LIMIT, -LIMIT - 1] {
            assert_eq!(cached.at(t), z.local(t), "t={t}");
        }
        assert!(cached.at(LIMIT + 1).is_none() && cached.at(LIMIT).is_some());
    }

    /// Fuzzing found it: daylight time from 1 March to 1 January 02:00.
    /// Filled on 31 December (the rule's year in standard time), a span must
    /// end at the rule's new year, not at the next local midnight.
    #[test]
    fn a_change_on_new_years_day_is_not_missed() {
        let z = Zone::load(Some(c"STD2DST,J60/-1,0"), 0);
        let mut cached = Local::new(&z);
        for t in [192, 193, 3791, 86_591, 10_799, 10_800, 31_536_000 - 7300, 31_536_000 + 3600] {
            assert_eq!(cached.at(t), z.local(t), "t={t}");
        }
    }

    #[test]
    fn extreme_times_never_panic() {
        let z = Zone::load(Some(c"AEST-10AEDT,M10.1.0,M4.1.0/3"), 0);
        for t in [i64::MIN, -(1 << 51), -1, 0, 1 << 51, i64::MAX] {
            let _ = z.local(t);
        }
        assert!(z.local(i64::MAX).is_none());
    }
}
