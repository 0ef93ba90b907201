//! Memory: a file mapped for one look, and stack pages given back.

/// Call `f` with the contents of the regular file `fd` (at most `max` bytes,
/// else None), mapped read-only with [`mmap(2)`] and unmapped when `f`
/// returns: no buffer, and no memory kept after.
///
/// [`mmap(2)`]: https://man7.org/linux/man-pages/man2/mmap.2.html
pub fn with_mapped<R>(fd: rustix::fd::BorrowedFd<'_>, max: u64, f: &mut dyn FnMut(&[u8]) -> R) -> Option<R> {
    use rustix::mm::{mmap, munmap, MapFlags, ProtFlags};
    // The size from lseek: mmap itself refuses what is not a file (ENODEV).
    let len = rustix::fs::seek(fd, rustix::fs::SeekFrom::End(0)).ok()?;
    if len == 0 || len > max {
        return None;
    }
    let len = len as usize;
    // SAFETY: a fresh private read-only mapping of `len` bytes of a file, at an
    // address the kernel picks; the slice lives only inside `f`, and the
    // mapping is removed after it. A file truncated meanwhile would raise
    // SIGBUS, as it does for musl's own zoneinfo mapping.
    unsafe {
        let p = mmap(core::ptr::null_mut(), len, ProtFlags::READ, MapFlags::PRIVATE, fd, 0).ok()?;
        let r = f(core::slice::from_raw_parts(p as *const u8, len));
        let _ = munmap(p, len);
        Some(r)
    }
}

/// Give back the stack pages below the caller's frame ([`madvise(2)`]
/// `MADV_DONTNEED`): pages the launcher's deeper calls touched before the
/// daemon was forked, which a long-lived daemon would otherwise keep
/// resident. Called by the supervisor and the heartbeat once, before their
/// loops. Assumes 4 KiB
/// pages; on a kernel with larger ones the call is refused and changes
/// nothing.
///
/// [`madvise(2)`]: https://man7.org/linux/man-pages/man2/madvise.2.html
#[inline(never)] // its own frame: what lies below it is not live
pub fn trim_stack() {
    const PAGE: usize = 4096;
    let here = 0u8;
    let at = core::hint::black_box(&here) as *const u8 as usize;
    // From the page boundary at least 1 KiB below this local, down 64 KiB:
    // below anything live (this frame and the madvise call use a few
    // hundred bytes), and inside the stack mapping, which Linux makes at
    // least 128 KiB and keeps 128 MiB from any other mapping.
    let end = (at - 1024) & !(PAGE - 1);
    let start = end - 16 * PAGE;
    // SAFETY: [start, end) is below every live stack frame (see above):
    // nothing refers to it, and the next touch gets a zeroed page. A part
    // that is not mapped makes the call fail (ENOMEM) and is not touched.
    let _ = unsafe { rustix::mm::madvise(start as *mut core::ffi::c_void, end - start, rustix::mm::Advice::LinuxDontNeed) };
}
