//! Words of a value, for the name and address detectors: runs of letters (with inner
//! hyphens and apostrophes, `Jean-Luc`, `O'Brien`), runs starting with a digit (`12`,
//! `221B`), and what separates them.

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
}

/// Splits `value` into tokens.
pub(crate) fn tokenize(value: &str, out: &mut Vec<Token>) {
    out.clear();
    let mut break_before = false;
    let mut sentence_before = true;
    let mut chars = value.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_alphabetic() {
            let mut end = i + c.len_utf8();
            let capital = c.is_uppercase();
            let mut all_caps = capital;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_alphabetic() {
                    all_caps &= d.is_uppercase();
                    end = j + d.len_utf8();
                    chars.next();
                } else if matches!(d, '-' | '\'' | '’') {
                    // Inner hyphen or apostrophe: only when a letter follows.
                    let mut look = chars.clone();
                    look.next();
                    if look.peek().is_some_and(|&(_, e)| e.is_alphabetic()) {
                        chars.next();
                    } else {
                        break;
                    }
                } else {
                    break;
                }
            }
            let dot_after = value.as_bytes().get(end) == Some(&b'.');
            out.push(Token {
                start: i,
                end,
                shape: Shape::Word,
                capital,
                all_caps,
                break_before,
                sentence_before,
                dot_after,
            });
            break_before = false;
            sentence_before = false;
        } else if c.is_ascii_digit() {
            let mut end = i + 1;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Token {
                start: i,
                end,
                shape: Shape::Number,
                capital: false,
                all_caps: false,
                break_before,
                sentence_before,
                dot_after: value.as_bytes().get(end) == Some(&b'.'),
            });
            break_before = false;
            sentence_before = false;
        } else {
            match c {
                ',' | ';' | ':' | '\n' | '\r' | '|' | '(' | ')' | '"' | '<' | '>' | '[' | ']' => break_before = true,
                '.' | '!' | '?' => {
                    sentence_before = true;
                    break_before = true;
                }
                _ => {}
            }
        }
    }
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
        let mut t = Vec::new();
        let v = "Jean-Luc O'Brien, 221B Baker St. London";
        tokenize(v, &mut t);
        let words: Vec<&str> = t.iter().map(|t| &v[t.start..t.end]).collect();
        assert_eq!(words, ["Jean-Luc", "O'Brien", "221B", "Baker", "St", "London"]);
        assert!(t[2].break_before && t[2].shape == Shape::Number);
        assert!(t[4].dot_after && t[5].sentence_before);
        let mut buf = String::new();
        assert_eq!(key("Müller", &mut buf), "muller");
    }
}
