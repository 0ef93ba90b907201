//! `-u USER[:GROUP]` against this machine's /etc/passwd and /etc/group (run as
//! root, as dfork would be): a resolved identity is consistent, never the
//! caller's groups, and its environment entries are C strings.
#![no_main]
use dfork::daemon::user::{Ident, GROUPS_MAX};
use libfuzzer_sys::fuzz_target;
use std::ffi::CString;

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = CString::new(data) else { return };
    let Ok(id) = Ident::resolve(&spec) else { return };
    let g = id.groups();
    assert!(!g.is_empty() && g.len() <= GROUPS_MAX && g[0] == id.gid, "{spec:?}: {g:?}");
    assert!(id.uid != Some(u32::MAX) && id.gid != u32::MAX);
    let mut n = 0;
    id.each_env(|kv| {
        assert!(kv.to_bytes().contains(&b'='));
        n += 1;
    });
    assert_eq!(n, id.vars());
});
