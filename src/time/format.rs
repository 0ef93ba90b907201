//! Pure formatting of a broken-down time: `ctime`, RFC 3339, epoch.
//!
//! No `core::fmt`, no allocation, no division but the few by constants that
//! split a number into digit pairs: two-digit fields come from a 200-byte
//! table. Every [`Tm`] formats (a year of any size, any offset), so a heartbeat
//! can never panic here.

use super::Local;
use crate::text::Buf;

/// How a timestamp is written: the heartbeat's `--format`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    /// `Mon Nov 23 22:46:00 2026`, as C's and Python's `ctime`.
    Ctime,
    /// RFC 3339 local time with its offset: `2026-11-23T22:46:00+01:00`.
    Iso8601,
    /// Decimal seconds since 1970-01-01 UTC.
    Epoch,
}

/// Append the timestamp of `secs` (seconds since the epoch) in `format`, in
/// the zone of `local`; the epoch seconds when the zone cannot place them.
pub fn stamp(out: &mut Buf, local: &mut Local<'_>, secs: i64, format: Format) {
    match (format, local.at(secs)) {
        (Format::Ctime, Some(tm)) => ctime(&tm, out),
        (Format::Iso8601, Some(tm)) => iso8601(&tm, out),
        _ => out.int(secs),
    }
}

/// A broken-down local time, as [`Zone::local`](super::Zone::local) gives it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Tm {
    /// The year (e.g. 2026).
    pub year: i64,
    /// Month, 0-11.
    pub mon: u8,
    /// Day of the month, 1-31.
    pub mday: u8,
    /// Hours, 0-23.
    pub hour: u8,
    /// Minutes, 0-59.
    pub min: u8,
    /// Seconds, 0-60.
    pub sec: u8,
    /// Day of the week, 0-6, Sunday = 0.
    pub wday: u8,
    /// Offset from UTC in seconds, east positive.
    pub gmtoff: i32,
}

const DAYS: &[u8; 21] = b"SunMonTueWedThuFriSat";
const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";

/// "00" to "99": a two-digit field without dividing.
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Append `v` (at most 99) as two digits.
fn pair(out: &mut Buf, v: u8) {
    let i = 2 * (v.min(99) as usize);
    out.push(&PAIRS[i..i + 2]);
}

/// Append a year with at least four digits, as `%Y` and RFC 3339 write it.
fn year4(out: &mut Buf, y: i64) {
    if (0..10_000).contains(&y) {
        pair(out, (y / 100) as u8);
        pair(out, (y % 100) as u8);
    } else {
        out.int(y);
    }
}

/// `Mon Nov 23 22:46:00 2026`: C's `asctime` and Python's `time.ctime()`, day
/// of the month padded with a space (`Nov  3`).
pub fn ctime(t: &Tm, out: &mut Buf) {
    let w = 3 * (t.wday.min(6) as usize);
    let m = 3 * (t.mon.min(11) as usize);
    out.push(&DAYS[w..w + 3]);
    out.push(b" ");
    out.push(&MONTHS[m..m + 3]);
    out.push(b" ");
    if t.mday < 10 {
        out.push(&[b' ', b'0' + t.mday]);
    } else {
        pair(out, t.mday);
    }
    out.push(b" ");
    hms(t, out);
    out.push(b" ");
    out.int(t.year);
}

/// `2026-11-23T22:46:00+01:00`: RFC 3339 local time with its offset, `Z` when
/// the offset is zero, and `+HH:MM:SS` for the odd historical offset with
/// seconds (as Python's `isoformat()` writes it).
pub fn iso8601(t: &Tm, out: &mut Buf) {
    year4(out, t.year);
    out.push(b"-");
    pair(out, t.mon.saturating_add(1));
    out.push(b"-");
    pair(out, t.mday);
    out.push(b"T");
    hms(t, out);
    if t.gmtoff == 0 {
        out.push(b"Z");
        return;
    }
    out.push(if t.gmtoff < 0 { b"-" } else { b"+" });
    let off = t.gmtoff.unsigned_abs();
    let (h, m, s) = (off / 3600, off / 60 % 60, off % 60);
    pair(out, h.min(99) as u8);
    out.push(b":");
    pair(out, m as u8);
    if s != 0 {
        out.push(b":");
        pair(out, s as u8);
    }
}

fn hms(t: &Tm, out: &mut Buf) {
    pair(out, t.hour);
    out.push(b":");
    pair(out, t.min);
    out.push(b":");
    pair(out, t.sec);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn tm(year: i64, mon: u8, mday: u8, hour: u8, min: u8, sec: u8, wday: u8, gmtoff: i32) -> Tm {
        Tm { year, mon, mday, hour, min, sec, wday, gmtoff }
    }

    fn fmt(f: fn(&Tm, &mut Buf), t: Tm) -> String {
        let mut b = Buf::new();
        f(&t, &mut b);
        String::from_utf8(b.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn ctime_shapes() {
        assert_eq!(fmt(ctime, tm(2026, 10, 23, 22, 46, 0, 1, 3600)), "Mon Nov 23 22:46:00 2026");
        assert_eq!(fmt(ctime, tm(2026, 10, 3, 5, 6, 7, 2, 0)), "Tue Nov  3 05:06:07 2026");
        assert_eq!(fmt(ctime, tm(12345, 0, 1, 0, 0, 0, 0, 0)), "Sun Jan  1 00:00:00 12345");
        assert_eq!(fmt(ctime, tm(-1, 11, 31, 23, 59, 60, 6, 0)), "Sat Dec 31 23:59:60 -1");
    }

    #[test]
    fn iso_shapes() {
        assert_eq!(fmt(iso8601, tm(2026, 10, 23, 22, 46, 0, 1, 3600)), "2026-11-23T22:46:00+01:00");
        assert_eq!(fmt(iso8601, tm(2026, 10, 23, 22, 46, 0, 1, 0)), "2026-11-23T22:46:00Z");
        assert_eq!(fmt(iso8601, tm(2026, 6, 1, 9, 0, 0, 3, -9000)), "2026-07-01T09:00:00-02:30");
        assert_eq!(fmt(iso8601, tm(1850, 0, 1, 0, 0, 0, 2, 3208)), "1850-01-01T00:00:00+00:53:28");
        assert_eq!(fmt(iso8601, tm(99, 0, 1, 0, 0, 0, 2, 0)), "0099-01-01T00:00:00Z");
    }

    #[test]
    fn extreme_values_never_panic() {
        use crate::text::LINE_MAX;
        for t in [tm(i64::MIN, 255, 255, 255, 255, 255, 255, i32::MIN), tm(i64::MAX, 0, 0, 0, 0, 0, 0, i32::MAX)] {
            let mut b = Buf::new();
            ctime(&t, &mut b);
            iso8601(&t, &mut b);
            assert!(b.as_bytes().len() <= LINE_MAX);
        }
    }
}

/// The formatter and the zone reader together, against what Python
/// printed for the same epochs and TZ values (`scripts/gen_time_vectors.py`
/// wrote `tests/data/time_vectors.tsv` once; it is committed).
#[cfg(test)]
mod python_vectors {
    use super::*;

    /// Check every vector whose epoch is at least `since`, each with a zone
    /// loaded for `from(epoch)`; the count checked.
    fn check(since: i64, from: impl Fn(i64) -> i64) -> usize {
        let data = include_str!("../../tests/data/time_vectors.tsv");
        let mut n = 0;
        for row in data.lines() {
            let f: Vec<&str> = row.split('\t').collect();
            let (tz, epoch, want_ctime, want_iso) = (f[0], f[1].parse::<i64>().unwrap(), f[2], f[3]);
            if epoch < since {
                continue;
            }
            let tz = std::ffi::CString::new(tz).unwrap();
            let tm = crate::time::Zone::load(Some(&tz), from(epoch)).local(epoch).expect("in range");
            let (mut c, mut i) = (Buf::new(), Buf::new());
            ctime(&tm, &mut c);
            iso8601(&tm, &mut i);
            assert_eq!(std::str::from_utf8(c.as_bytes()).unwrap(), want_ctime, "ctime TZ={tz:?} {epoch}");
            assert_eq!(std::str::from_utf8(i.as_bytes()).unwrap(), want_iso, "iso8601 TZ={tz:?} {epoch}");
            n += 1;
        }
        n
    }

    #[test]
    fn match_python_ctime_and_isoformat() {
        let n = check(i64::MIN, |epoch| epoch);
        assert!(n >= 600, "{n} vectors");
    }

    /// The version 1 part of a zoneinfo file alone, marked version 1: what
    /// an old or minimal system ships (no 64-bit part, no footer).
    fn v1_only(file: &[u8]) -> Vec<u8> {
        let n = |at: usize| u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        let (isut, isstd, leap, times, types, chars) = (n(20), n(24), n(28), n(32), n(36), n(40));
        let mut v1 = file[..44 + times * 5 + types * 6 + chars + leap * 8 + isstd + isut].to_vec();
        v1[4] = 0;
        v1
    }

    /// Version 1 files read as musl and glibc read them: every vector of a
    /// zoneinfo zone within the 32-bit part's range (to 2038) matches Python
    /// with the zone given as a version 1 file.
    #[test]
    fn version_1_files_match_python_too() {
        let dir = std::env::temp_dir().join(format!("dfork-tzif-v1-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut n = 0;
        for row in include_str!("../../tests/data/time_vectors.tsv").lines() {
            let f: Vec<&str> = row.split('\t').collect();
            let (tz, epoch, want_ctime) = (f[0], f[1].parse::<i64>().unwrap(), f[2]);
            let Ok(file) = std::fs::read(std::path::Path::new("/usr/share/zoneinfo").join(tz)) else { continue };
            if !(i32::MIN as i64..i32::MAX as i64).contains(&epoch) {
                continue;
            }
            let path = dir.join(tz.replace('/', "_"));
            std::fs::write(&path, v1_only(&file)).unwrap();
            let spec = std::ffi::CString::new(format!(":{}", path.display())).unwrap();
            let tm = crate::time::Zone::load(Some(&spec), epoch).local(epoch).expect("in range");
            let mut c = Buf::new();
            ctime(&tm, &mut c);
            assert_eq!(std::str::from_utf8(c.as_bytes()).unwrap(), want_ctime, "version 1 {tz} at {epoch}");
            n += 1;
        }
        std::fs::remove_dir_all(&dir).ok();
        assert!(n >= 200, "{n} vectors: is tzdata installed?");
    }

    /// A daemon reads its zone once, at start: one zone loaded in 2023 must
    /// still be right for every later vector (kept transitions, then the rule).
    #[test]
    fn one_zone_serves_a_long_run() {
        let n = check(1_700_000_000, |_| 1_700_000_000);
        assert!(n >= 300, "{n} vectors");
    }
}
