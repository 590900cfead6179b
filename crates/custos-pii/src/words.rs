//! Words of a value, for the name and address detectors: runs of letters (with inner
//! hyphens and apostrophes, `Jean-Luc`, `O'Brien`), runs starting with a digit (`12`,
//! `221B`), and what separates them. Each word is looked up in the lexicon once.

use crate::lexicon::Lexicon;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Letters.
    Word,
    /// Starts with a digit: a house number, a postcode, an amount.
    Number,
}

/// One token of a value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    /// Byte offset of its first byte.
    pub(crate) start: usize,
    /// Byte offset just past it.
    pub(crate) end: usize,
    /// Word or number.
    pub(crate) shape: Shape,
    /// Its first letter is upper-case.
    pub(crate) capital: bool,
    /// Every letter is upper-case.
    pub(crate) all_caps: bool,
    /// A comma, semicolon, colon or line break stands between it and the token before.
    pub(crate) break_before: bool,
    /// A sentence ends between it and the token before (`.`, `!`, `?`).
    pub(crate) sentence_before: bool,
    /// A `.` follows it directly (`St.`, `Mme.`, `J.`).
    pub(crate) dot_after: bool,
    /// Its lexicon bits (see [`crate::lexicon::flag`]); 0 for numbers.
    pub(crate) flags: u16,
    /// Where its key (lower-case, folded) lies in [`Tokens::keys`].
    key: (u32, u32),
}

/// The tokens of a value, with their keys. Reused from value to value (see
/// [`tokenize_into`]) so that scanning allocates nothing once warm.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    /// The tokens, in order.
    pub(crate) list: Vec<Token>,
    /// Every word's key, one after the other.
    keys: String,
    /// Scratch space for one key.
    buf: String,
}

impl Tokens {
    /// The key of token `i` (empty for numbers).
    pub(crate) fn key(&self, i: usize) -> &str {
        let (a, b) = self.list[i].key;
        &self.keys[a as usize..b as usize]
    }

    /// Whether token `i` exists and has one of `bits`.
    pub(crate) fn has(&self, i: usize, bits: u16) -> bool {
        self.list.get(i).is_some_and(|t| t.flags & bits != 0)
    }
}

/// The char at byte `i` of `value` (a char boundary).
fn char_at(value: &str, i: usize) -> Option<char> {
    value.get(i..).and_then(|s| s.chars().next())
}

/// Whether byte `i` starts a letter.
fn letter_at(value: &str, i: usize) -> bool {
    match value.as_bytes().get(i) {
        Some(b) if b.is_ascii() => b.is_ascii_alphabetic(),
        Some(_) => char_at(value, i).is_some_and(char::is_alphabetic),
        None => false,
    }
}

/// Splits `value` into tokens and looks each word up in `lex`.
#[cfg(test)]
pub(crate) fn tokenize(value: &str, lex: &Lexicon) -> Tokens {
    let mut tokens = Tokens::default();
    tokenize_into(value, lex, &mut tokens);
    tokens
}

/// Splits `value` into `tokens` (cleared first) and looks each word up in `lex`.
pub(crate) fn tokenize_into(value: &str, lex: &Lexicon, tokens: &mut Tokens) {
    let b = value.as_bytes();
    tokens.list.clear();
    tokens.keys.clear();
    let mut buf = std::mem::take(&mut tokens.buf);
    let mut break_before = false;
    let mut sentence_before = true;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if letter_at(value, i) {
            let first = char_at(value, i).unwrap_or('a');
            let capital = first.is_uppercase();
            let mut all_caps = capital;
            let mut end = i + first.len_utf8();
            loop {
                match b.get(end) {
                    Some(&x) if x.is_ascii_alphabetic() => {
                        all_caps &= x.is_ascii_uppercase();
                        end += 1;
                    }
                    Some(&x) if x >= 0x80 => match char_at(value, end) {
                        Some(d) if d.is_alphabetic() => {
                            all_caps &= d.is_uppercase();
                            end += d.len_utf8();
                        }
                        // Inner typographic apostrophe: O’Brien.
                        Some('’') if letter_at(value, end + 3) => end += 3,
                        _ => break,
                    },
                    // Inner hyphen or apostrophe: only when a letter follows.
                    Some(b'-' | b'\'') if letter_at(value, end + 1) => end += 1,
                    _ => break,
                }
            }
            let dot_after = b.get(end) == Some(&b'.');
            // Every listed word is short; a word with capitals inside ("AppleWebKit", not
            // "McAllister" or "O'Brien") is the name of a thing.
            let word = &value[i..end];
            let camel = !all_caps
                && word
                    .as_bytes()
                    .windows(2)
                    .filter(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
                    .count()
                    >= 2;
            // Lower-case words matter only as particles, introductions and street types, all
            // short.
            let (k, flags) = if word.len() > 24 || camel || !capital && word.len() > 12 {
                ("", 0)
            } else {
                let k = key(word, &mut buf);
                (k, lex.flags(k))
            };
            let from = tokens.keys.len() as u32;
            tokens.keys.push_str(k);
            let key_range = (from, tokens.keys.len() as u32);
            tokens.list.push(Token {
                start: i,
                end,
                shape: Shape::Word,
                capital,
                all_caps,
                break_before,
                sentence_before,
                dot_after,
                flags,
                key: key_range,
            });
            break_before = false;
            sentence_before = false;
            i = end;
        } else if c.is_ascii_digit() {
            let mut end = i + 1;
            while end < b.len() && b[end].is_ascii_alphanumeric() {
                end += 1;
            }
            tokens.list.push(Token {
                start: i,
                end,
                shape: Shape::Number,
                capital: false,
                all_caps: false,
                break_before,
                sentence_before,
                dot_after: b.get(end) == Some(&b'.'),
                flags: 0,
                key: (0, 0),
            });
            break_before = false;
            sentence_before = false;
            i = end;
        } else {
            match c {
                b',' | b';' | b':' | b'\n' | b'\r' | b'|' | b'(' | b')' | b'"' | b'<' | b'>' | b'[' | b']' => {
                    break_before = true
                }
                b'.' | b'!' | b'?' => {
                    sentence_before = true;
                    break_before = true;
                }
                _ => {}
            }
            i += char_at(value, i).map_or(1, char::len_utf8);
        }
    }
    tokens.buf = buf;
}

/// The lookup key of a word: lower-case, accents folded, into `buf`.
pub(crate) fn key<'a>(word: &str, buf: &'a mut String) -> &'a str {
    buf.clear();
    if word.is_ascii() {
        buf.extend(word.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        for c in word.chars() {
            if c == '’' {
                buf.push('\'');
                continue;
            }
            for l in c.to_lowercase() {
                crate::field::fold_into(l, buf);
            }
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_numbers_and_breaks() {
        let lex = Lexicon::new();
        let v = "Jean-Luc O'Brien, 221B Baker St. London";
        let tokens = tokenize(v, &lex);
        let t = &tokens.list;
        let words: Vec<&str> = t.iter().map(|t| &v[t.start..t.end]).collect();
        assert_eq!(words, ["Jean-Luc", "O'Brien", "221B", "Baker", "St", "London"]);
        assert!(t[2].break_before && t[2].shape == Shape::Number);
        assert!(t[4].dot_after && t[5].sentence_before);
        let mut buf = String::new();
        assert_eq!(key("Müller", &mut buf), "muller");
        assert_eq!(tokens.key(1), "o'brien");
        assert!(tokens.has(4, crate::lexicon::flag::STREET_AFTER));
    }
}
