//! The zoneinfo (TZif) reader on arbitrary files: it accepts or refuses,
//! never panics, and a zone it accepts gives the same local time cached or
//! fresh.
#![no_main]
use dfork::time::{Local, Zone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let from = i64::from_le_bytes(data[..8].try_into().unwrap());
    let Some(zone) = Zone::from_tzif(&data[8..], from) else { return };
    let mut local = Local::new(&zone);
    for x in [from, from.wrapping_add(1), from.wrapping_add(86_400 * 400), 0, -1, 1 << 40, i64::MIN, i64::MAX] {
        assert_eq!(local.at(x), zone.local(x), "at {x}");
    }
});
