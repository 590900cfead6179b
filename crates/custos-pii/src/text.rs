//! Small helpers over the bytes of a value: boundaries and the words just before a match.

/// Whether `b` is part of a word: an ASCII letter or digit, or any byte of a non-ASCII
/// character (letters of other scripts).
pub(crate) fn is_word_byte(b: u8) -> bool {
    WORD[b as usize]
}

const WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).is_ascii_alphanumeric() || i >= 0x80;
        i += 1;
    }
    t
};

/// The byte before `i`, if any.
pub(crate) fn byte_before(bytes: &[u8], i: usize) -> Option<u8> {
    i.checked_sub(1).map(|j| bytes[j])
}

/// Whether the `window` bytes before `start` (lowercased, ASCII) contain one of `words`
/// as the start of a word.
pub(crate) fn preceded_by(value: &str, start: usize, window: usize, words: &[&str]) -> bool {
    let bytes = value.as_bytes();
    let from = start.saturating_sub(window);
    let mut buf = [0u8; 64];
    let len = (start - from).min(buf.len());
    let from = start - len;
    for (k, &b) in bytes[from..start].iter().enumerate() {
        buf[k] = b.to_ascii_lowercase();
    }
    let hay = &buf[..len];
    // Only where a word starts (nothing alphabetic before it in the window) can one of
    // `words` start.
    (0..hay.len()).filter(|&k| hay[k] != b' ' && (k == 0 || !hay[k - 1].is_ascii_alphabetic())).any(|k| {
        let rest = &hay[k..];
        words.iter().any(|w| {
            let w = w.as_bytes();
            w.first() == Some(&rest[0]) && rest.starts_with(w)
        })
    })
}

/// Rounds `i` down to a char boundary of `value`.
pub(crate) fn floor_boundary(value: &str, mut i: usize) -> usize {
    if i >= value.len() {
        return value.len();
    }
    while !value.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Rounds `i` up to a char boundary of `value`.
pub(crate) fn ceil_boundary(value: &str, mut i: usize) -> usize {
    if i >= value.len() {
        return value.len();
    }
    while !value.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Shannon entropy of `s` in bits per byte.
pub(crate) fn entropy(s: &[u8]) -> f32 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f32;
    counts.iter().filter(|&&c| c > 0).map(|&c| c as f32 / n).map(|p| -p * p.log2()).sum()
}

/// Whether `needle` occurs in `hay` (a first-byte scan; needles here are short and rare).
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle, 0).is_some()
}

/// The first offset at or after `from` where `needle` occurs in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let offset = hay[i..hay.len() - rest.len()].iter().position(|&c| c == first)?;
        let at = i + offset;
        if hay[at + 1..].starts_with(rest) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}
