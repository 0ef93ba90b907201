//! Strict parsers of option values: each takes the bytes and gives a typed
//! value, or None (the caller says which option and what it expects).

use crate::control::{Schedule, Step, SCHEDULE_MAX};
use crate::heartbeat::MAX_EVERY_MS;
use crate::supervise::{Limit, MAX_COUNT};
use crate::text::{decimal, digit};
use core::ffi::CStr;

/// An octal umask: one to four octal digits, at most 0777.
pub fn umask(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 4 {
        return None;
    }
    let mut m = 0u32;
    for &d in b {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        m = m * 8 + (d - b'0') as u32;
    }
    (m <= 0o777).then_some(m)
}

/// Positive decimal seconds with up to three decimals (`10`, `0.5`, `1.250`),
/// as milliseconds, at most `max_ms`. No sign, no exponent, no spaces.
pub fn seconds(b: &[u8], max_ms: u64) -> Option<u64> {
    let (int, frac) = match b.iter().position(|&c| c == b'.') {
        Some(k) => (&b[..k], &b[k + 1..]),
        None => (b, &b""[..]),
    };
    if int.is_empty() || int.len() > 6 || frac.len() > 3 || (b.len() > int.len() && frac.is_empty()) {
        return None;
    }
    let mut ms = 0u64;
    for &d in int {
        ms = ms * 10 + digit(d)?;
    }
    let mut scale = 1000;
    for &d in frac {
        scale /= 10;
        ms = ms * 10 + digit(d)?;
    }
    ms *= scale;
    (ms > 0 && ms <= max_ms).then_some(ms)
}

/// A signal by name (`TERM`, `SIGTERM`, `term`) or number (`15`; 1 to
/// 64, no sign, no leading zero).
pub fn signal(b: &[u8]) -> Option<i32> {
    let mut up = [0u8; 10];
    if b.is_empty() || b.len() > up.len() {
        return None;
    }
    for (u, c) in up.iter_mut().zip(b) {
        *u = c.to_ascii_uppercase();
    }
    let name = &up[..b.len()];
    let name = name.strip_prefix(b"SIG").unwrap_or(name);
    if let Some(n) = decimal(name) {
        return (1..=64).contains(&n).then_some(n as i32);
    }
    crate::sys::signal_by_name(name)
}

/// `--respawn-max COUNT/SECONDS`: COUNT from 1 to [`MAX_COUNT`], SECONDS as
/// [`seconds`] reads them, up to a day.
pub fn respawn_max(v: &CStr) -> Option<Limit<'_>> {
    let b = v.to_bytes();
    let k = b.iter().position(|&c| c == b'/')?;
    let count = decimal(&b[..k]).filter(|n| (1..=MAX_COUNT).contains(n))?;
    Some(Limit { count, window_ms: seconds(&b[k + 1..], MAX_EVERY_MS)?, spelled: v })
}

/// start-stop-daemon's `--retry`: `N` (seconds; `SIG/N/KILL/N`, SIG being
/// `-s`'s), or items separated by `/`: a signal (`TERM`, `-TERM`, `-15`), a
/// wait in seconds (`30`, `0.5`), or `forever` (repeat what follows it). A
/// schedule has at most [`SCHEDULE_MAX`] steps and at least one signal.
pub fn schedule(b: &[u8], sig: i32) -> Option<Schedule> {
    if let Some(ms) = seconds(b, MAX_EVERY_MS) {
        return Some(Schedule::simple(sig, ms as u32, ms as u32));
    }
    let mut s = Schedule { steps: [Step::Wait(0); SCHEDULE_MAX], len: 0, repeat: u8::MAX };
    // Whether a signal was seen at all, and since `forever`.
    let (mut any, mut repeated) = (false, false);
    for item in b.split(|&c| c == b'/') {
        if item == b"forever" && s.repeat == u8::MAX {
            (s.repeat, repeated) = (s.len, false);
            continue;
        }
        let step = match item.first() {
            Some(b'0'..=b'9') => Step::Wait(seconds(item, MAX_EVERY_MS)? as u32),
            _ => {
                (any, repeated) = (true, true);
                Step::Signal(signal(item.strip_prefix(b"-").unwrap_or(item))?)
            }
        };
        *s.steps.get_mut(s.len as usize)? = step;
        s.len += 1;
    }
    // `forever` must have something to repeat, with a signal in it.
    let ok = any && (s.repeat == u8::MAX || repeated);
    s.repeat = s.repeat.min(s.len);
    ok.then_some(s)
}

/// The index of `v` among `words`.
pub fn pick(v: &CStr, words: &[&[u8]]) -> Option<usize> {
    words.iter().position(|w| *w == v.to_bytes())
}

/// NAME in `NAME=VALUE`: non-empty, without `=`; None when there is no `=`.
pub fn env_name(kv: &[u8]) -> Option<&[u8]> {
    let k = kv.iter().position(|&c| c == b'=')?;
    (k > 0).then(|| &kv[..k])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_or_number() {
        for (v, n) in [(&b"TERM"[..], libc::SIGTERM), (b"SIGHUP", libc::SIGHUP), (b"usr1", libc::SIGUSR1), (b"sigKill", 9), (b"9", 9), (b"64", 64), (b"WINCH", libc::SIGWINCH)] {
            assert_eq!(signal(v), Some(n), "{:?}", v);
        }
        for bad in [&b""[..], b"0", b"65", b"09", b"-9", b"+9", b"SIG", b"TERMX", b"FOO", b"4294967296", b"SIGSIGTERM", b"\xff"] {
            assert_eq!(signal(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn schedules_as_start_stop_daemon_writes_them() {
        use Step::{Signal, Wait};
        let s = |b: &[u8]| schedule(b, libc::SIGTERM);
        assert_eq!(s(b"30"), Some(Schedule::simple(libc::SIGTERM, 30_000, 30_000)));
        assert_eq!(schedule(b"5", libc::SIGINT), Some(Schedule::simple(libc::SIGINT, 5000, 5000)));
        let t = s(b"TERM/30/KILL/5").unwrap();
        assert_eq!((&t.steps[..4], t.len, t.repeat), (&[Signal(15), Wait(30_000), Signal(9), Wait(5000)][..], 4, 4));
        let t = s(b"-HUP/0.5/forever/-9/1").unwrap();
        assert_eq!((&t.steps[..4], t.len, t.repeat), (&[Signal(libc::SIGHUP), Wait(500), Signal(9), Wait(1000)][..], 4, 2));
        for bad in [&b""[..], b"/", b"30/", b"TERM//5", b"30/40", b"TERM/forever", b"TERM/forever/5", b"forever/forever/TERM", b"TERM/+5", b"TERM/1/2/3/4/5/6/7/8", b"TERM/86401", b"0"] {
            assert_eq!(s(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn respawn_max_is_count_and_seconds() {
        let l = respawn_max(c"5/60").unwrap();
        assert_eq!((l.count, l.window_ms), (5, 60_000));
        for bad in [c"0/60", c"65/60", c"5", c"5/", c"/60", c"5/0", c"x/1"] {
            assert_eq!(respawn_max(bad), None, "{bad:?}");
        }
    }
}
