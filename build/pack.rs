//! Byte-pair encoding of dfork's messages (`src/messages.txt`), as BusyBox
//! packs its usage texts: about 40 % of the words' bytes saved for an
//! 80-byte decoder (`report::out::unpack` in the binary).
//!
//! Used by `build.rs` (which includes this file) at build time, and by a
//! unit test that unpacks every entry again; it is not part of the no_std
//! library. The texts are printable ASCII and newlines; each byte from 128
//! on, and each control byte from 1 to 31 but tab and newline, stands for a
//! pair of bytes (either of which may stand for a pair itself), and entries
//! are ended by NUL bytes, which are never paired. The pair of byte `b` is
//! rule `b + 128` (mod 256): 0 to 127 for the high bytes, 129 to 159 for the
//! control bytes (rules 128, 137 and 138, for NUL, tab and newline, are
//! placeholders), so the decoder is one table lookup.

/// One entry of `messages.txt`: its name, the heading it stands under, and
/// its text.
#[allow(dead_code)] // the unit test reads no group
pub struct Entry {
    pub name: String,
    pub group: String,
    pub text: String,
}

/// The entries of `text` (the `messages.txt` format), in order.
pub fn entries(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut group = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(head) = line.strip_prefix('@') {
            group = head.split(':').next().unwrap_or("").trim().to_string();
            continue;
        }
        let (name, rest) = line.split_once(' ').unwrap_or_else(|| panic!("messages.txt: no text: {line:?}"));
        assert!(
            !name.is_empty() && name.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_'),
            "messages.txt: a name is CAPITALS, digits and _: {name:?}"
        );
        let text = if rest == "<<" {
            let mut block = Vec::new();
            for l in lines.by_ref() {
                if l == ">>" {
                    break;
                }
                block.push(l);
            }
            block.join("\n")
        } else {
            let t = rest.strip_prefix('"').and_then(|r| r.strip_suffix('"'));
            t.unwrap_or_else(|| panic!("messages.txt: text in double quotes: {line:?}")).to_string()
        };
        assert!(text.bytes().all(|c| c == b'\n' || (b' '..=b'~').contains(&c)), "messages.txt: not printable ASCII: {text:?}");
        assert!(out.iter().all(|e| e.name != name), "messages.txt: {name} twice");
        out.push(Entry { name: name.to_string(), group: group.clone(), text });
    }
    out
}

/// Whether byte `b` is never a code: NUL ends entries; tab and newline are text.
fn literal(b: u8) -> bool {
    b == 0 || b == b'\t' || b == b'\n'
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
        if literal((rules.len() as u8).wrapping_add(128)) {
            rules.push([0, 0]); // a placeholder: that byte is never a code
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
            Some(&[x, y]) if !literal(b) => {
                expand(rules, x, out);
                expand(rules, y, out);
            }
            _ => out.push(b),
        }
    }
    let mut out = Vec::new();
    for &b in packed.split(|&c| c == 0).nth(id).unwrap_or_default() {
        expand(rules, b, &mut out);
    }
    out
}
