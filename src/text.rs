//! Bytes to numbers and back, without `core::fmt` and without allocation:
//! a fixed line buffer, decimal digits, strict decimal parsing.

/// The longest line a [`Buf`] holds: a heartbeat line, newline included,
/// twice (room for the unwritten tail of a line and the next line).
pub const LINE_MAX: usize = 96;

/// A line under construction in a fixed stack buffer.
pub struct Buf {
    b: [u8; LINE_MAX],
    n: usize,
}

impl Default for Buf {
    fn default() -> Self {
        Self::new()
    }
}

impl Buf {
    /// An empty line.
    pub const fn new() -> Self {
        Buf { b: [0; LINE_MAX], n: 0 }
    }

    /// The bytes so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.b[..self.n]
    }

    /// A line holding a copy of `b`.
    pub fn copy_of(b: &[u8]) -> Buf {
        let mut x = Buf::new();
        x.push(b);
        x
    }

    /// Append bytes (silently cut at [`LINE_MAX`], which no caller's line reaches).
    pub fn push(&mut self, s: &[u8]) {
        for &c in s {
            if self.n < LINE_MAX {
                self.b[self.n] = c;
                self.n += 1;
            }
        }
    }

    /// Append a signed decimal number.
    pub fn int(&mut self, v: i64) {
        if v < 0 {
            self.push(b"-");
        }
        let mut d = [0u8; 20];
        self.push(itoa(v.unsigned_abs(), &mut d));
    }
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

/// Strict decimal digits: no sign, no leading zero (but `0` itself), at most
/// `u32::MAX`.
pub fn decimal(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 || (b[0] == b'0' && b.len() > 1) {
        return None;
    }
    let mut v = 0u64;
    for &d in b {
        v = v * 10 + digit(d)?;
    }
    u32::try_from(v).ok()
}

/// The value of an ASCII decimal digit.
pub fn digit(d: u8) -> Option<u64> {
    d.is_ascii_digit().then(|| (d - b'0') as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itoa_edges() {
        let mut b = [0u8; 20];
        assert_eq!(itoa(0, &mut b), b"0");
        assert_eq!(itoa(7, &mut b), b"7");
        assert_eq!(itoa(4194304, &mut b), b"4194304");
        assert_eq!(itoa(u64::MAX, &mut b), b"18446744073709551615");
    }

    #[test]
    fn decimal_is_strict() {
        assert_eq!(decimal(b"0"), Some(0));
        assert_eq!(decimal(b"4294967295"), Some(u32::MAX));
        for bad in [&b""[..], b"01", b"+1", b"-1", b"4294967296", b"1 ", b"\xd9\xa1"] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn buf_cuts_at_its_size() {
        let mut b = Buf::new();
        b.int(-42);
        assert_eq!(b.as_bytes(), b"-42");
        b.push(&[b'x'; 200]);
        assert_eq!(b.as_bytes().len(), LINE_MAX);
    }
}
