//! Batches and files in a character set other than UTF-8.
//!
//! Spreadsheets in Western Europe save "CSV" in Windows-1252 unless told otherwise, so a
//! partner's export of `Müller;Köln` arrives as bytes that are not UTF-8. The sender names
//! the set (`Content-Type: text/csv; charset=windows-1252`, `custos pii scan --encoding
//! windows-1252`); the bytes are turned into UTF-8 before anything reads them, with the
//! WHATWG Encoding Standard's labels and decoders (`encoding_rs`, which axum's multipart
//! already brings). Bytes that are not valid in the named set are an error naming the
//! byte's offset, never a guess: a replacement character could hide a digit of an IBAN.

use std::io::{self, Read};

use encoding_rs::{DecoderResult, Encoding, UTF_8};

/// A character set named in a request or on the command line that custos does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown character set {label:?}: name one of the WHATWG Encoding Standard (utf-8, windows-1252, iso-8859-1, iso-8859-15, ...)"
)]
pub struct UnknownCharset {
    /// The label as given (a label is a name, not personal data).
    pub label: String,
}

/// Bytes that are not valid in the named character set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset} is not valid {charset}")]
pub struct Malformed {
    /// The name of the set.
    pub charset: &'static str,
    /// The offset of the first invalid byte, from 1.
    pub offset: u64,
}

/// The character set a label names (`latin1`, `cp1252` and `iso-8859-1` all name
/// Windows-1252, as browsers read them).
pub fn named(label: &str) -> Result<&'static Encoding, UnknownCharset> {
    Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| UnknownCharset { label: label.to_owned() })
}

/// The `charset` parameter of a `Content-Type`, if it has one.
pub fn of_content_type(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches('"'))
    })
}

/// `body`, written in `charset`, as UTF-8; UTF-8 is returned as it is (its own reader
/// checks it, and names the line).
pub fn to_utf8(body: Vec<u8>, charset: &'static Encoding) -> Result<Vec<u8>, Malformed> {
    if charset == UTF_8 {
        return Ok(body);
    }
    let mut decoder = charset.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(decoder.max_utf8_buffer_length_without_replacement(body.len()).unwrap_or(0));
    let (result, read) = decoder.decode_to_string_without_replacement(&body, &mut out, true);
    match result {
        DecoderResult::InputEmpty => Ok(out.into_bytes()),
        DecoderResult::Malformed(bad, _) => {
            Err(Malformed { charset: charset.name(), offset: (read - usize::from(bad)) as u64 + 1 })
        }
        // The capacity was reserved for the whole input.
        DecoderResult::OutputFull => Err(Malformed { charset: charset.name(), offset: read as u64 + 1 }),
    }
}

/// `input`, written in `charset`, read as UTF-8 a chunk at a time (for files of any size).
/// An invalid byte is an [`io::ErrorKind::InvalidData`] error naming its offset.
pub struct Utf8Reader<R> {
    inner: R,
    charset: &'static Encoding,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    decoded: String,
    /// How much of `decoded` has been handed out.
    given: usize,
    /// Bytes of `inner` decoded so far.
    consumed: u64,
    done: bool,
}

impl<R: Read> Utf8Reader<R> {
    /// Reads `inner` as text in `charset`.
    pub fn new(inner: R, charset: &'static Encoding) -> Self {
        Self {
            inner,
            charset,
            decoder: charset.new_decoder_without_bom_handling(),
            raw: vec![0; 64 * 1024],
            decoded: String::new(),
            given: 0,
            consumed: 0,
            done: false,
        }
    }
}

impl<R> std::fmt::Debug for Utf8Reader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Utf8Reader").field("charset", &self.charset.name()).finish_non_exhaustive()
    }
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.given == self.decoded.len() && !self.done {
            let n = self.inner.read(&mut self.raw)?;
            let last = n == 0;
            self.decoded.clear();
            self.given = 0;
            // `None` only on overflow, which a chunk of 64 KiB cannot reach.
            let need = self.decoder.max_utf8_buffer_length_without_replacement(n).unwrap_or(4 * n + 4);
            self.decoded.reserve(need);
            let (result, read) =
                self.decoder.decode_to_string_without_replacement(&self.raw[..n], &mut self.decoded, last);
            match result {
                DecoderResult::InputEmpty => {}
                DecoderResult::Malformed(bad, _) => {
                    let offset = self.consumed + (read - usize::from(bad)) as u64 + 1;
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        Malformed { charset: self.charset.name(), offset },
                    ));
                }
                DecoderResult::OutputFull => {
                    return Err(io::Error::other("the decoding buffer was too small"));
                }
            }
            self.consumed += n as u64;
            self.done = last;
        }
        let available = &self.decoded.as_bytes()[self.given..];
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.given += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_content_types_name_the_set() {
        assert_eq!(named("latin1").expect("latin1").name(), "windows-1252");
        assert_eq!(named(" Windows-1252 ").expect("cp").name(), "windows-1252");
        assert!(named("klingon").is_err());
        assert_eq!(of_content_type("text/csv; charset=windows-1252"), Some("windows-1252"));
        assert_eq!(of_content_type("text/csv;CHARSET=\"ISO-8859-1\""), Some("ISO-8859-1"));
        assert_eq!(of_content_type("text/csv"), None);
    }

    #[test]
    fn windows_1252_becomes_utf8_and_invalid_bytes_are_named() {
        let cp1252 = named("windows-1252").expect("set");
        let body = b"nachname;ort\nM\xfcller;K\xf6ln \x80\n".to_vec();
        let utf8 = to_utf8(body.clone(), cp1252).expect("decoded");
        assert_eq!(String::from_utf8(utf8).expect("utf-8"), "nachname;ort\nMüller;Köln €\n");
        let mut streamed = String::new();
        Utf8Reader::new(&body[..], cp1252).read_to_string(&mut streamed).expect("streamed");
        assert_eq!(streamed, "nachname;ort\nMüller;Köln €\n");
        // Shift_JIS has bytes that begin nothing.
        let sjis = named("shift_jis").expect("set");
        assert_eq!(to_utf8(b"ab\xa0".to_vec(), sjis), Err(Malformed { charset: "Shift_JIS", offset: 3 }));
        let err = Utf8Reader::new(&b"ab\xa0"[..], sjis).read_to_string(&mut String::new()).expect_err("malformed");
        assert!(err.to_string().contains("byte 3"), "{err}");
        // UTF-8 passes through untouched.
        assert_eq!(to_utf8(b"\xff".to_vec(), UTF_8), Ok(b"\xff".to_vec()));
    }
}
