//! dfork in an initramfs: Debian's kernel boots under qemu (TCG) with
//! busybox-static and dfork; its /init runs a heartbeat, --status, --stop and
//! an exec-mode daemon and prints a verdict on the serial console
//! (scripts/initramfs.sh). Bounded by the script at 120 s.
mod common;
use common::*;

#[test]
fn boots_a_kernel_whose_init_uses_dfork() {
    let name = "boots_a_kernel_whose_init_uses_dfork";
    for tool in ["qemu-system-x86_64", "cpio", "busybox", "apt-get", "dpkg-deb"] {
        if !have(tool, name) {
            return;
        }
    }
    let out = std::process::Command::new("timeout")
        .args(["180", "bash", concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/initramfs.sh"), bin()])
        .output()
        .unwrap();
    let verdict = String::from_utf8_lossy(&out.stdout);
    eprintln!("{verdict}{}", stderr(&out));
    assert_eq!(code(&out), 0, "the boot did not pass: {verdict}");
    assert!(verdict.starts_with("DFORK-VERDICT: PASS"), "{verdict}");
}
