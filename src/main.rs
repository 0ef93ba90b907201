//! The `dfork` executable: a thin shell over the library.
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int};

/// The C entry point: musl's start-up code calls it with the raw arguments.
#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes argc valid C strings followed by NULL, which
    // live, unchanged, for the whole run.
    let args = unsafe { dfork::sys::Argv::from_raw(argc, argv) };
    dfork::cli::run(args) as c_int
}

/// A panic cannot be reported without `core::fmt`: abort at once (SIGABRT)
/// rather than spin or unwind.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    dfork::sys::abort()
}

/// The precompiled `core` of the musl target is built for unwinding, and in
/// unoptimised builds (`cargo test` builds this binary so) its tables still
/// name the unwinding personality, so the linker asks for it. It is never
/// called: nothing here unwinds (the panic handler aborts).
#[no_mangle]
extern "C" fn rust_eh_personality() {}

/// Where rustix reaches the kernel through libc (always on big-endian MIPS),
/// it asks [`dlsym(3)`] for newer calls (`statx`, ...) before it falls back
/// to the older ones. In a static musl executable `dlsym` never finds
/// anything; musl's own says so through `dlerror`'s message, which links
/// `vsnprintf`, `printf`'s engine with soft floats, and `malloc`: 28 KB of a
/// MIPS binary. This one gives the same "not found" at once. It also keeps
/// musl's MIPS `dlsym` out: position-independent assembly that needs its
/// own address in `$t9`, which nothing sets in a static executable (a
/// crash; scripts/release.sh checks that no such code is left). Re-measure:
/// `scripts/release.sh VERSION mips-unknown-linux-musl`, with and without.
///
/// [`dlsym(3)`]: https://man7.org/linux/man-pages/man3/dlsym.3.html
#[cfg(target_arch = "mips")]
#[no_mangle]
extern "C" fn dlsym(_handle: *mut core::ffi::c_void, _symbol: *const c_char) -> *mut core::ffi::c_void {
    core::ptr::null_mut()
}

/// The same, under the name the libc crate links when it is built for musl
/// 1.2's 64-bit `time_t` (`--cfg libc_unstable_musl_v1_2`, as the
/// big-endian MIPS release build is).
#[cfg(target_arch = "mips")]
#[no_mangle]
extern "C" fn __dlsym_time64(handle: *mut core::ffi::c_void, symbol: *const c_char) -> *mut core::ffi::c_void {
    dlsym(handle, symbol)
}
