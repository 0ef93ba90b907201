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
