//! Writing to stdout and stderr without allocation and without `core::fmt`.
//!
//! A [`Line`] is a fixed stack buffer that collects the pieces of one line
//! (bytes, C strings, decimal numbers) and hands them to [`write(2)`] in as few
//! calls as possible: one for any line that fits the buffer, which every error
//! line does unless a path is very long.
//!
//! [`write(2)`]: https://man7.org/linux/man-pages/man2/write.2.html

use core::ffi::CStr;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

/// dfork's message tables, packed by `build.rs` from `src/messages.txt`
/// (`src/pack.rs`): `PACKED`, `RULES`, and the first entry of each section
/// (`HELP`, `VERBS`, `TEXTS`, `PROBLEMS`, `ERRNO`) and one past its last.
pub mod msg {
    include!(concat!(env!("OUT_DIR"), "/messages.rs"));
}

/// Call `f` with each byte of message `id` (an index into [`msg`]),
/// unpacked: a byte from 128 on, or from 1 to 31, stands for the pair
/// [`msg::RULES`] gives at `b + 128` (mod 256); text bytes fall past its end.
pub fn unpack(id: usize, f: &mut dyn FnMut(u8)) {
    fn expand(b: u8, f: &mut dyn FnMut(u8)) {
        match msg::RULES.get(b.wrapping_add(128) as usize) {
            Some(&[x, y]) => {
                expand(x, f);
                expand(y, f);
            }
            None => f(b),
        }
    }
    for &b in msg::PACKED.split(|&c| c == 0).nth(id).unwrap_or_default() {
        expand(b, f);
    }
}

/// Capacity of a [`Line`]; longer lines are written in several pieces.
const CAP: usize = 512;

/// One output line under construction, flushed to `fd` when full and on [`Line::end`].
pub struct Line<'f> {
    fd: BorrowedFd<'f>,
    len: usize,
    buf: [u8; CAP],
}

impl<'f> Line<'f> {
    /// A line for standard output.
    #[inline(never)] // measured: the binary is smaller with it out of line
    pub fn stdout() -> Line<'static> {
        Line::to(crate::sys::stdout())
    }

    /// A line for standard error.
    pub fn stderr() -> Line<'static> {
        Line::to(crate::sys::stderr())
    }

    /// A line for any descriptor.
    #[inline(never)] // one zeroing of the buffer, not one per caller
    pub fn to(fd: BorrowedFd<'f>) -> Self {
        Line { fd, len: 0, buf: [0; CAP] }
    }

    /// Append raw bytes.
    pub fn bytes(&mut self, mut b: &[u8]) -> &mut Self {
        while !b.is_empty() {
            if self.len == CAP {
                self.flush();
            }
            let n = b.len().min(CAP - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
            self.len += n;
            b = &b[n..];
        }
        self
    }

    /// Append message `id` of [`msg`], unpacked.
    pub fn msg(&mut self, id: usize) -> &mut Self {
        unpack(id, &mut |b| {
            self.bytes(&[b]);
        });
        self
    }

    /// Append a C string without its NUL.
    #[inline(never)] // measured: the binary is smaller with it out of line
    pub fn cstr(&mut self, s: &CStr) -> &mut Self {
        self.bytes(s.to_bytes())
    }

    /// Append an unsigned decimal number.
    pub fn num(&mut self, n: u64) -> &mut Self {
        let mut d = [0u8; 20];
        let s = itoa(n, &mut d);
        self.bytes(s)
    }

    /// Append the OS's description of `e`, as [`strerror(3)`] words it.
    ///
    /// [`strerror(3)`]: https://man7.org/linux/man-pages/man3/strerror.3.html
    pub fn errno(&mut self, e: Errno) -> &mut Self {
        match crate::error::describe(e) {
            Some(i) => self.msg(msg::ERRNO + i),
            None => self.bytes(b"error ").num(e.raw_os_error() as u64),
        }
    }

    /// Append a newline and write everything out.
    pub fn end(&mut self) {
        self.bytes(b"\n");
        self.flush();
    }

    /// Write out what is buffered; a failing or closed descriptor loses it (there is
    /// nobody left to tell), an interrupted or short write is completed.
    pub fn flush(&mut self) {
        write_all(self.fd, &self.buf[..self.len]).ok();
        self.len = 0;
    }
}

/// Write all of `b` to `fd`, retrying on EINTR and completing short writes.
pub fn write_all(fd: BorrowedFd<'_>, mut b: &[u8]) -> Result<(), Errno> {
    while !b.is_empty() {
        match rustix::io::write(fd, b) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => b = &b[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Format `n` in decimal into the end of `buf`, returning the digits.
pub fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Start an error line on stderr: `dfork: ` followed by `what`.
///
/// The caller appends details and ends it; [`fail`] covers the common
/// `dfork: <what> <path>: <why>` shape.
pub fn err_line(what: &[u8]) -> Line<'static> {
    let mut l = Line::stderr();
    l.bytes(b"dfork: ").bytes(what);
    l
}

/// [`err_line`] with message `what` of [`msg`].
pub fn err_msg(what: usize) -> Line<'static> {
    let mut l = err_line(b"");
    l.msg(what);
    l
}

/// Print `dfork: <what>[ <path>]: <why>` on stderr, as one line.
pub fn fail(what: &[u8], path: Option<&CStr>, why: Errno) {
    let mut l = err_line(what);
    if let Some(p) = path {
        l.bytes(b" ").cstr(p);
    }
    l.bytes(b": ").errno(why).end();
}

/// Print `dfork: <what>: <why>` on stderr for a usage problem (no errno).
pub fn usage(what: &[u8], arg: Option<&CStr>, why: &[u8]) {
    let mut l = err_line(what);
    if let Some(a) = arg {
        l.bytes(b" '").cstr(a).bytes(b"'");
    }
    l.bytes(b": ").bytes(why).end();
}

#[cfg(test)]
mod tests {
    use super::itoa;

    #[test]
    fn itoa_edges() {
        let mut b = [0u8; 20];
        assert_eq!(itoa(0, &mut b), b"0");
        assert_eq!(itoa(7, &mut b), b"7");
        assert_eq!(itoa(4194304, &mut b), b"4194304");
        assert_eq!(itoa(u64::MAX, &mut b), b"18446744073709551615");
    }
}
