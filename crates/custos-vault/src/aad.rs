//! [`Aad`]: where a sealed value belongs (table, row, subject), bound into its seal.

/// The associated data of a sealed value: the table name, the row id and the subject id.
///
/// A value sealed under one `Aad` opens only under an equal one, so a sealed value copied to
/// another row, table or person fails to open. [`Aad::encode`] length-prefixes each part, so
/// two different triples never encode alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aad<'a> {
    /// The table the value is stored in.
    pub table: &'a str,
    /// The id of the row that holds the value, as bytes.
    pub row_id: &'a [u8],
    /// The id of the subject the value is about, as bytes.
    pub subject_id: &'a [u8],
}

impl<'a> Aad<'a> {
    /// The associated data for a value in `table`, row `row_id`, about `subject_id`.
    pub fn new(table: &'a str, row_id: &'a [u8], subject_id: &'a [u8]) -> Self {
        Self { table, row_id, subject_id }
    }

    /// `u64 length ‖ table ‖ u64 length ‖ row id ‖ u64 length ‖ subject id`, big-endian.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.table.len() + self.row_id.len() + self.subject_id.len());
        for part in [self.table.as_bytes(), self.row_id, self.subject_id] {
            push_prefixed(&mut out, part);
        }
        out
    }
}

/// Appends `part` to `out` behind its length as a big-endian `u64`.
pub(crate) fn push_prefixed(out: &mut Vec<u8>, part: &[u8]) {
    out.extend_from_slice(&(part.len() as u64).to_be_bytes());
    out.extend_from_slice(part);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_each_part_behind_its_length() {
        let encoded = Aad::new("t", b"ab", b"").encode();
        assert_eq!(encoded, [&[0, 0, 0, 0, 0, 0, 0, 1][..], b"t", &[0, 0, 0, 0, 0, 0, 0, 2], b"ab", &[0; 8]].concat());
    }

    #[test]
    fn shifting_bytes_between_parts_changes_the_encoding() {
        let a = Aad::new("ab", b"c", b"d").encode();
        let b = Aad::new("a", b"bc", b"d").encode();
        let c = Aad::new("a", b"b", b"cd").encode();
        assert_ne!(a, b);
        assert_ne!(b, c);
        assert_ne!(a, c);
    }
}
