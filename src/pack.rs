//! Byte-pair encoding of dfork's message tables (`src/messages.txt`), as
//! BusyBox packs its usage texts: about 40 % of 5 KB of words saved for an
//! 80-byte decoder ([`crate::out::unpack`] in the binary).
//!
//! Used by `build.rs` (which includes this file) at build time, and by a
//! unit test that unpacks every entry again; it is not part of the no_std
//! library. The texts are printable ASCII; each byte from 128 on, and each
//! control byte from 1 to 31, stands for a pair of bytes (either of which
//! may stand for a pair itself), and entries are ended by NUL bytes, which
//! are never paired. The pair of byte `b` is rule `b + 128` (mod 256): 0 to
//! 127 for the high bytes, 129 to 159 for the control bytes (rule 128, for
//! NUL, is a placeholder), so the decoder is one table lookup.

/// The sections of `text` (the `messages.txt` format) kept with `features`,
/// in order: each section's name and entries.
pub fn sections(text: &str, features: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut keep = false;
    for line in text.lines() {
        if line.starts_with('#') || (line.is_empty() && !keep) {
            continue;
        }
        if let Some(head) = line.strip_prefix('@') {
            let mut words = head.split_whitespace();
            let name = words.next().expect("a section name").to_string();
            keep = words.next().is_none_or(|f| features.contains(&f));
            if keep && out.last().is_none_or(|(n, _)| *n != name) {
                assert!(out.iter().all(|(n, _)| *n != name), "section {name} is split");
                out.push((name, Vec::new()));
            }
            continue;
        }
        if line.is_empty() || !keep {
            continue;
        }
        assert!(line.bytes().all(|c| (b' '..=b'~').contains(&c)), "not printable ASCII: {line:?}");
        let entry = if line == "." { String::new() } else { line.to_string() };
        out.last_mut().expect("an entry before any section").1.push(entry);
    }
    out
}

/// Pack `entries` (each will end with a NUL): the rules (the pair byte `b`
/// stands for is rule `b + 128`, mod 256) and the packed bytes. A pair
/// becomes a code while it occurs at least three times (a code costs two
/// bytes of table); ties go to the smallest pair, so the output is the same
/// on every machine.
pub fn pack(entries: &[Vec<u8>]) -> (Vec<[u8; 2]>, Vec<u8>) {
    let mut seq: Vec<u8> = Vec::new();
    for e in entries {
        seq.extend_from_slice(e);
        seq.push(0);
    }
    let mut rules = Vec::new();
    while rules.len() < 160 {
        if rules.len() == 128 {
            rules.push([0, 0]); // NUL's: never a code
            continue;
        }
        let mut counts = vec![0u32; 256 * 256];
        for w in seq.windows(2) {
            if w[0] != 0 && w[1] != 0 {
                counts[w[0] as usize * 256 + w[1] as usize] += 1;
            }
        }
        let (best, n) = counts.iter().enumerate().fold((0, 0), |(bi, bn), (i, &n)| if n > bn { (i, n) } else { (bi, bn) });
        if n < 3 {
            break;
        }
        let pair = [(best / 256) as u8, (best % 256) as u8];
        let code = (rules.len() as u8).wrapping_add(128);
        rules.push(pair);
        let mut out = Vec::with_capacity(seq.len());
        let mut i = 0;
        while i < seq.len() {
            if seq[i..].starts_with(&pair) {
                out.push(code);
                i += 2;
            } else {
                out.push(seq[i]);
                i += 1;
            }
        }
        seq = out;
    }
    (rules, seq)
}

/// The bytes of entry `id` of `packed`, unpacked (what the binary prints).
#[allow(dead_code)] // build.rs packs; the unit test unpacks
pub fn unpack(rules: &[[u8; 2]], packed: &[u8], id: usize) -> Vec<u8> {
    fn expand(rules: &[[u8; 2]], b: u8, out: &mut Vec<u8>) {
        match rules.get(b.wrapping_add(128) as usize) {
            Some(&[x, y]) => {
                expand(rules, x, out);
                expand(rules, y, out);
            }
            None => out.push(b),
        }
    }
    let mut out = Vec::new();
    for &b in packed.split(|&c| c == 0).nth(id).unwrap_or_default() {
        expand(rules, b, &mut out);
    }
    out
}
