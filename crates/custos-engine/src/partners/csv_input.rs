//! CSV as partners' tools write it, for the batch reader and `custos pii scan`.
//!
//! - **The delimiter of the locale.** Spreadsheets in locales whose decimal mark is a comma
//!   (German, French, Dutch, Polish, Spanish, Italian Excel) save "CSV" with `;` between
//!   fields; other tools use a tab or `|`. The header row tells which: the candidate seen
//!   most often outside quotes, `,` when none is (a one-column file) or on a tie.
//! - **Lines ended by CRLF.** The `csv` crate reads them, but the line it reports for a
//!   record after a CRLF is the one before (it notes a record's start at the `\n` left from
//!   the `\r\n` before it). [`LfLines`] hands the parser `\n` for each `\r\n`, so every line
//!   named in an answer or an error is the line an editor shows. A `\r` alone is kept.
//! - A UTF-8 byte-order mark before the header is dropped by the `csv` crate itself.

use std::io::{self, BufRead, BufReader, Read};

/// The delimiters recognised, in the order that breaks a tie.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// A CSV reader over `input` with a header row, its delimiter taken from that row.
pub fn reader<R: Read>(input: R) -> csv::Reader<LfLines<BufReader<R>>> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    // An error here comes back at the first read, where the caller reports it.
    let delimiter = input.fill_buf().map_or(b',', sniff_delimiter);
    csv::ReaderBuilder::new().has_headers(true).delimiter(delimiter).from_reader(LfLines::new(input))
}

/// The delimiter of the first line of `head`: the candidate counted most often outside
/// double quotes, `,` if none is.
pub fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = DELIMITERS.iter().position(|&d| d == b) {
            counts[i] += 1;
        }
    }
    let mut best = 0;
    for i in 1..DELIMITERS.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    DELIMITERS[best]
}

/// `input` with each `\r\n` read as `\n`.
#[derive(Debug)]
pub struct LfLines<R> {
    inner: R,
    /// A `\r` ended the last buffer: whether it is kept depends on the next byte.
    pending_cr: bool,
}

impl<R: BufRead> LfLines<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self { inner, pending_cr: false }
    }
}

impl<R: BufRead> Read for LfLines<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        if self.pending_cr {
            self.pending_cr = false;
            if self.inner.fill_buf()?.first() != Some(&b'\n') {
                out[0] = b'\r';
                n = 1;
            }
        }
        let buf = self.inner.fill_buf()?;
        let mut used = 0;
        while used < buf.len() && n < out.len() {
            let b = buf[used];
            used += 1;
            if b == b'\r' {
                match buf.get(used) {
                    Some(b'\n') => continue,
                    None => {
                        self.pending_cr = true;
                        break;
                    }
                    Some(_) => {}
                }
            }
            out[n] = b;
            n += 1;
        }
        self.inner.consume(used);
        if n == 0 && self.pending_cr {
            // Only a `\r` was left in the buffer: the next byte decides.
            return self.read(out);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(input: &[u8]) -> Vec<(u64, Vec<String>)> {
        let mut r = reader(input);
        let mut out = vec![(1, r.headers().expect("headers").iter().map(str::to_owned).collect())];
        for record in r.records() {
            let record = record.expect("record");
            let line = record.position().expect("position").line();
            out.push((line, record.iter().map(str::to_owned).collect()));
        }
        out
    }

    #[test]
    fn the_delimiter_is_read_from_the_header() {
        assert_eq!(sniff_delimiter(b"name;email;amount\n"), b';');
        assert_eq!(sniff_delimiter(b"name,email\n"), b',');
        assert_eq!(sniff_delimiter(b"name\temail\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c\n"), b',', "quoted delimiters do not count");
        assert_eq!(sniff_delimiter(b"email\n"), b',');
        let semi = rows(b"name;email;amount\nJan Jansen;jan@example.nl;12,50\n");
        assert_eq!(semi[1].1, ["Jan Jansen", "jan@example.nl", "12,50"]);
    }

    #[test]
    fn lines_are_counted_the_same_after_crlf_and_lf() {
        let lf = rows(b"name,email\nA B,a@b.com\n\"C\nD\",c@d.com\nE,e@f.com\n");
        let crlf = rows(b"\xef\xbb\xbfname,email\r\nA B,a@b.com\r\n\"C\r\nD\",c@d.com\r\nE,e@f.com\r\n");
        let lines = |rows: &[(u64, Vec<String>)]| rows.iter().map(|r| r.0).collect::<Vec<_>>();
        assert_eq!(lines(&lf), [1, 2, 3, 5]);
        assert_eq!(lines(&crlf), [1, 2, 3, 5]);
        assert_eq!(crlf[0].1, ["name", "email"], "the byte-order mark is not part of the first field");
    }

    #[test]
    fn a_carriage_return_split_from_its_line_feed_is_still_one_line_end() {
        // One byte at a time: every `\r` ends a buffer.
        let bytes: &[u8] = b"a\r\nb\rc\r\n";
        let mut read = LfLines::new(BufReader::with_capacity(1, bytes));
        let mut out = Vec::new();
        read.read_to_end(&mut out).expect("read");
        assert_eq!(out, b"a\nb\rc\n");
    }
}
