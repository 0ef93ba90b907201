//! The process's arguments and environment: NULL-terminated arrays of C
//! strings that live for the whole run, and a fixed table to build a new
//! environment in.

use core::ffi::{c_char, c_int, CStr};

/// A NULL-terminated array of C string pointers, as `execve(2)` takes it.
/// Only this module makes one, from arrays known to be valid for the whole
/// run (the process's argv and environ, or an [`EnvTable`] of pointers into
/// them), which is what makes the safe functions taking it sound.
#[derive(Clone, Copy)]
pub struct CArgv(*const *const c_char);

impl CArgv {
    /// The raw array, for `execve(2)`.
    pub(super) fn as_ptr(self) -> *const *const c_char {
        self.0
    }
}

extern "C" {
    /// musl's process environment (`environ(7)`).
    static mut environ: *const *const c_char;
}

/// The process environment as inherited ([`environ(7)`]).
///
/// [`environ(7)`]: https://man7.org/linux/man-pages/man7/environ.7.html
pub fn env() -> CArgv {
    // SAFETY: reading the pointer value; nothing in dfork writes environ.
    CArgv(unsafe { environ })
}

/// The value of the environment variable `name` ([`environ(7)`]), found by
/// walking `environ` as [`getenv(3)`] does.
///
/// [`environ(7)`]: https://man7.org/linux/man-pages/man7/environ.7.html
/// [`getenv(3)`]: https://man7.org/linux/man-pages/man3/getenv.3.html
pub fn var(name: &[u8]) -> Option<&'static CStr> {
    let mut found = None;
    each_cstr(env(), |kv| {
        let b = kv.to_bytes();
        if b.len() > name.len() && b[name.len()] == b'=' && b.starts_with(name) {
            found = Some(cstr_tail(kv, name.len() + 1));
        }
        found.is_none()
    });
    found
}

/// The program's arguments as the C runtime hands them to `main`: `argc`
/// pointers to NUL-terminated byte strings, followed by a NULL pointer.
/// Arguments are bytes, not UTF-8.
#[derive(Clone, Copy)]
pub struct Argv<'a> {
    /// The `argc` pointers; the NULL after them is part of the same array.
    base: &'a [*const c_char],
}

/// What an absent argv stands for: no arguments, just the terminating NULL.
struct NullArgv([*const c_char; 1]);
// SAFETY: the array holds only a NULL pointer and is never written.
unsafe impl Sync for NullArgv {}
static NULL_ARGV: NullArgv = NullArgv([core::ptr::null()]);

impl<'a> Argv<'a> {
    /// Wrap the `argc`/`argv` pair of `main`.
    ///
    /// # Safety
    /// `argv` must point to `argc` valid C strings followed by a NULL pointer, all
    /// living and unchanged for `'a` (true of `main`'s arguments for the whole run).
    pub unsafe fn from_raw(argc: c_int, argv: *const *const c_char) -> Self {
        if argv.is_null() || argc <= 0 {
            return Argv { base: &NULL_ARGV.0[..0] };
        }
        // SAFETY: guaranteed by the caller: argc valid pointers (the final NULL
        // follows them in the same array).
        Argv { base: unsafe { core::slice::from_raw_parts(argv, argc as usize) } }
    }

    /// How many arguments there are.
    pub fn len(&self) -> usize {
        self.base.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Argument `i`; panics (aborts) if `i >= len()`, like slice indexing.
    pub fn get(&self, i: usize) -> &'a CStr {
        // SAFETY: from_raw's contract: every pointer below argc is a valid C string
        // that lives for 'a.
        unsafe { CStr::from_ptr(self.base[i]) }
    }

    /// The NULL-terminated array from argument `i` (at most `len()`) on, for
    /// `execve(2)`.
    pub fn raw_from(&self, i: usize) -> CArgv {
        // In bounds: the array has len() + 1 entries, the last one NULL.
        CArgv(self.base.as_ptr().wrapping_add(i.min(self.len())))
    }
}

/// Call `f` on each string of a NULL-terminated array (`environ`, argv) until
/// it returns false.
pub fn each_cstr(arr: CArgv, mut f: impl FnMut(&'static CStr) -> bool) {
    let arr = arr.0;
    if arr.is_null() {
        return;
    }
    let mut i = 0;
    loop {
        // SAFETY: arr is a NULL-terminated array of C strings that live for the
        // whole program (the kernel-provided environ and argv, never freed).
        let p = unsafe { *arr.add(i) };
        if p.is_null() {
            return;
        }
        // SAFETY: as above: p is a valid, immutable C string.
        if !f(unsafe { CStr::from_ptr(p) }) {
            return;
        }
        i += 1;
    }
}

/// An environment for `execve(2)` built on the stack: the inherited one with
/// `NAME=VALUE` entries set on top. Holds at most [`ENV_MAX`] variables.
pub struct EnvTable<'a> {
    ptrs: [*const c_char; ENV_MAX + 1],
    len: usize,
    /// The strings the pointers point to live at least this long.
    strings: core::marker::PhantomData<&'a CStr>,
}

impl Default for EnvTable<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// The most environment variables a daemon started with `-E` can get.
pub const ENV_MAX: usize = 1024;

impl<'a> EnvTable<'a> {
    /// An empty table.
    pub fn new() -> Self {
        EnvTable { ptrs: [core::ptr::null(); ENV_MAX + 1], len: 0, strings: core::marker::PhantomData }
    }

    /// Add the array `base` (environ); false if the table cannot hold it
    /// all ([`ENV_MAX`] entries). Filled in place: the table is 8 KiB, and
    /// returning one by value would copy it twice.
    pub fn inherit(&mut self, base: CArgv) -> bool {
        let mut ok = true;
        each_cstr(base, |kv| {
            ok = self.push(kv);
            ok
        });
        ok
    }

    fn push(&mut self, kv: &'a CStr) -> bool {
        if self.len == ENV_MAX {
            return false;
        }
        self.ptrs[self.len] = kv.as_ptr();
        self.len += 1;
        true
    }

    /// Set `kv` (`NAME=VALUE`), replacing an entry of the same NAME; false if full.
    pub fn set(&mut self, kv: &'a CStr) -> bool {
        let b = kv.to_bytes();
        let Some(eq) = b.iter().position(|&c| c == b'=') else { return self.push(kv) };
        let name = &b[..=eq];
        for p in &mut self.ptrs[..self.len] {
            // SAFETY: every pointer below len came from a &'a CStr, alive as long as self.
            if unsafe { CStr::from_ptr(*p) }.to_bytes().starts_with(name) {
                *p = kv.as_ptr();
                return true;
            }
        }
        self.push(kv)
    }

    /// The NULL-terminated array.
    pub fn as_ptr(&self) -> CArgv {
        CArgv(self.ptrs.as_ptr())
    }
}

/// How many entries a NULL-terminated array has.
pub fn count(arr: CArgv) -> usize {
    let mut n = 0;
    each_cstr(arr, |_| {
        n += 1;
        true
    });
    n
}

/// `b`, which ends with its only NUL, as a C string (a table dfork built
/// itself: `KEY=VALUE\0`, a directory name and its NUL). Anything else
/// aborts: a cheaper check than [`CStr::from_bytes_with_nul`]'s.
pub fn cstr_of(b: &[u8]) -> &CStr {
    if b.last() != Some(&0) || b[..b.len() - 1].iter().any(|&c| c == 0) {
        super::abort();
    }
    // SAFETY: checked just above: one NUL, at the end.
    unsafe { CStr::from_bytes_with_nul_unchecked(b) }
}

/// The suffix of `s` from byte `from` on, still a C string.
pub fn cstr_tail(s: &CStr, from: usize) -> &CStr {
    let b = s.to_bytes_with_nul();
    // SAFETY: a suffix of a NUL-terminated string with no interior NUL, that
    // still contains the final NUL (from is clamped), is itself such a string.
    unsafe { CStr::from_bytes_with_nul_unchecked(&b[from.min(b.len() - 1)..]) }
}
