//! The time formatter with the TZ rule parser: any i64 epoch under any rule
//! string must format or be refused, never panic (a panic aborts the
//! heartbeat); the cached local time never differs from a fresh one.
#![no_main]
use dfork::text::{Buf, LINE_MAX};
use dfork::time::{ctime, iso8601, Local, Zone};
use libfuzzer_sys::fuzz_target;
use std::ffi::CString;

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 || data[16..].contains(&0) {
        return;
    }
    let t = i64::from_le_bytes(data[..8].try_into().unwrap());
    let from = i64::from_le_bytes(data[8..16].try_into().unwrap());
    let rule = &data[16..];
    // Rule strings only: a TZ that names a file (a leading colon, or a slash
    // before any comma) is the tzif target's.
    let slash = rule.iter().position(|&c| c == b'/');
    if rule.first() == Some(&b':') || slash.is_some_and(|p| !rule[..p].contains(&b',')) {
        return;
    }
    let tz = CString::new(rule).unwrap();
    let zone = Zone::load(Some(&tz), from);
    let mut local = Local::new(&zone);
    for dt in [0i64, 1, 59, 3599, 3600, 86_399, 86_400, -1, -86_400 * 40, 86_400 * 200, 86_400 * 366 * 3] {
        let x = t.wrapping_add(dt);
        let fresh = zone.local(x);
        assert_eq!(local.at(x), fresh, "TZ={tz:?}: cached and fresh differ at {x}");
        match fresh {
            Some(tm) => {
                assert!(tm.mon < 12 && (1..=31).contains(&tm.mday) && tm.hour < 24 && tm.min < 60 && tm.sec < 60 && tm.wday < 7, "{tm:?}");
                let (mut a, mut b) = (Buf::new(), Buf::new());
                ctime(&tm, &mut a);
                iso8601(&tm, &mut b);
                assert!(a.as_bytes().len() < LINE_MAX / 2 && b.as_bytes().len() < LINE_MAX / 2);
            }
            None => assert!(x.unsigned_abs() > 1 << 51, "only absurd times are refused: {x}"),
        }
    }
});
