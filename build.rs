//! Link musl's static libc into the binary, and fail early, with one line, when
//! the target's standard library (which carries musl) is not installed.
use std::{env, path::Path, process::Command};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DFORK_LIBC_DIR");
    let target = env::var("TARGET").unwrap_or_default();
    if !target.contains("musl") {
        return;
    }
    // Cross builds of targets without a rustup std (nightly -Zbuild-std) bring
    // their own musl: crt objects and libc.a in DFORK_LIBC_DIR.
    if let Ok(dir) = env::var("DFORK_LIBC_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
    } else {
        let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let sysroot = Command::new(&rustc)
            .args(["--print", "sysroot"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let libc_a = Path::new(&sysroot).join("lib/rustlib").join(&target).join("lib/self-contained/libc.a");
        if !libc_a.exists() {
            eprintln!("error: the Rust target {target} is not installed; run: rustup target add {target}");
            println!("cargo:warning=the Rust target {target} is not installed; run: rustup target add {target}");
            std::process::exit(1);
        }
    }
    // libc.a is static: name it for the binary and the examples explicitly, so
    // every profile resolves strlen/memcmp & co. from musl.
    println!("cargo:rustc-link-arg-bins=-lc");
    // Drop the unwind tables nothing reads (see link.ld), and their index.
    let ld = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("link.ld");
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", ld.display());
    println!("cargo:rustc-link-arg-bins=-Wl,--no-eh-frame-hdr");
}
