//! Reading a partner's batch: a JSON array, NDJSON (one object per line) or CSV with a
//! header row, chosen by the request's `Content-Type`.
//!
//! Records are read one at a time, so the row limit stops reading at the first record past
//! it. Every error names where it is (record index, line, field) and never echoes a value,
//! which might be personal data. A record is a flat object whose field names are short
//! identifiers and whose values are strings, numbers, booleans or null; the partner's
//! pseudonym field must be a non-empty string of at most 128 printable characters.

use serde_json::{Map, Value};

/// The most bytes of a field name.
const MAX_FIELD_NAME: usize = 64;
/// The most fields of a record.
const MAX_FIELDS: usize = 100;
/// The most bytes of a pseudonym.
pub const MAX_PSEUDONYM: usize = 128;

/// How a batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchFormat {
    /// `application/json`: one array of objects.
    Json,
    /// `application/x-ndjson` (or `application/jsonl`): one object per line.
    Ndjson,
    /// `text/csv`: a header row, then one record per row.
    Csv,
}

impl BatchFormat {
    /// The format a `Content-Type` names, parameters ignored; `None` for any other type.
    pub fn from_content_type(content_type: &str) -> Option<BatchFormat> {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Some(BatchFormat::Json),
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/x-jsonlines" => {
                Some(BatchFormat::Ndjson)
            }
            "text/csv" | "application/csv" => Some(BatchFormat::Csv),
            _ => None,
        }
    }

    /// Its name in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchFormat::Json => "json",
            BatchFormat::Ndjson => "ndjson",
            BatchFormat::Csv => "csv",
        }
    }
}

/// One record of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRecord {
    /// Its position in the batch, from 0.
    pub index: usize,
    /// The line it starts on, from 1 (NDJSON and CSV; for JSON, the line of the error-free
    /// parse is not tracked per element and this is `None`).
    pub line: Option<u64>,
    /// Its fields.
    pub fields: Map<String, Value>,
}

/// What is wrong with a batch, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BatchError {
    /// Stable code: `malformed_batch`, `not_an_object`, `nested_value`, `bad_field_name`,
    /// `too_many_fields`, `missing_pseudonym`, `bad_pseudonym`, `too_many_records`,
    /// `empty_batch`, `invalid_value` (a value holding U+0000).
    pub code: &'static str,
    /// What is wrong, where, and how to fix it; never a value from the batch.
    pub message: String,
    /// The record at fault, from 0.
    pub record: Option<usize>,
    /// The line at fault, from 1.
    pub line: Option<u64>,
    /// The field at fault.
    pub field: Option<String>,
}

impl BatchError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), record: None, line: None, field: None }
    }

    fn at(mut self, record: Option<usize>, line: Option<u64>, field: Option<&str>) -> Self {
        self.record = record;
        self.line = line;
        self.field = field.map(str::to_owned);
        self
    }
}

/// Reads a batch of at most `max_records` records, each carrying `pseudonym_field`.
pub fn parse(
    format: BatchFormat,
    body: &[u8],
    max_records: usize,
    pseudonym_field: &str,
) -> Result<Vec<BatchRecord>, BatchError> {
    let mut records = Vec::new();
    let mut push = |fields: Map<String, Value>, line: Option<u64>| -> Result<(), BatchError> {
        let index = records.len();
        if index >= max_records {
            return Err(BatchError::new(
                "too_many_records",
                format!("a batch holds at most {max_records} records; split it (record {index} is one too many)"),
            )
            .at(Some(index), line, None));
        }
        check_record(&fields, pseudonym_field).map_err(|e| {
            let field = e.field.clone();
            let message = match line {
                Some(l) => format!("record {index} (line {l}): {}", e.message),
                None => format!("record {index}: {}", e.message),
            };
            BatchError { message, ..e }.at(Some(index), line, field.as_deref())
        })?;
        records.push(BatchRecord { index, line, fields });
        Ok(())
    };
    match format {
        BatchFormat::Json => parse_json(body, &mut push)?,
        BatchFormat::Ndjson => parse_ndjson(body, &mut push)?,
        BatchFormat::Csv => parse_csv(body, &mut push)?,
    }
    if records.is_empty() {
        return Err(BatchError::new("empty_batch", "the batch holds no records"));
    }
    Ok(records)
}

type Push<'a> = dyn FnMut(Map<String, Value>, Option<u64>) -> Result<(), BatchError> + 'a;

fn parse_json(body: &[u8], push: &mut Push<'_>) -> Result<(), BatchError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        BatchError::new(
            "malformed_batch",
            format!("the body is not valid JSON at line {} column {}: {}", e.line(), e.column(), kind_of(&e)),
        )
        .at(None, Some(e.line() as u64), None)
    })?;
    let Value::Array(items) = value else {
        return Err(BatchError::new("malformed_batch", "a JSON batch is an array of objects: `[{…}, {…}]`"));
    };
    for (index, item) in items.into_iter().enumerate() {
        match item {
            Value::Object(fields) => push(fields, None)?,
            _ => {
                return Err(BatchError::new("not_an_object", format!("record {index}: each record is a JSON object"))
                    .at(Some(index), None, None));
            }
        }
    }
    Ok(())
}

fn parse_ndjson(body: &[u8], push: &mut Push<'_>) -> Result<(), BatchError> {
    let mut index = 0usize;
    for (n, line) in body.split(|b| *b == b'\n').enumerate() {
        let number = n as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(fields)) => push(fields, Some(number))?,
            Ok(_) => {
                return Err(BatchError::new(
                    "not_an_object",
                    format!("record {index} (line {number}): each line holds one JSON object"),
                )
                .at(Some(index), Some(number), None));
            }
            Err(e) => {
                return Err(BatchError::new(
                    "malformed_batch",
                    format!("record {index} (line {number}): not valid JSON at column {}: {}", e.column(), kind_of(&e)),
                )
                .at(Some(index), Some(number), None));
            }
        }
        index += 1;
    }
    Ok(())
}

fn parse_csv(body: &[u8], push: &mut Push<'_>) -> Result<(), BatchError> {
    let mut reader = super::csv_input::reader(body);
    let headers =
        reader.headers().map_err(|e| csv_error(&e, None))?.iter().map(|h| h.trim().to_owned()).collect::<Vec<_>>();
    if headers.iter().all(String::is_empty) {
        return Err(BatchError::new("malformed_batch", "a CSV batch starts with a header row naming the fields").at(
            None,
            Some(1),
            None,
        ));
    }
    for (position, name) in headers.iter().enumerate() {
        if headers[..position].contains(name) {
            return Err(BatchError::new(
                "malformed_batch",
                format!("header column {}: a field named twice", position + 1),
            )
            .at(None, Some(1), Some(name.as_str()).filter(|n| is_field_name(n))));
        }
    }
    let mut row = csv::StringRecord::new();
    let mut index = 0usize;
    loop {
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {
                let line = row.position().map(|p| p.line());
                let fields = headers.iter().cloned().zip(row.iter().map(|v| Value::String(v.to_owned()))).collect();
                push(fields, line)?;
                index += 1;
            }
            Err(e) => return Err(csv_error(&e, Some(index))),
        }
    }
    Ok(())
}

fn csv_error(e: &csv::Error, record: Option<usize>) -> BatchError {
    let line = e.position().map(|p| p.line());
    let what = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "it is not valid UTF-8 (for another character set, name it: text/csv; charset=windows-1252)".to_owned()
        }
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} fields where the header has {expected_len}")
        }
        _ => "it cannot be read as CSV".to_owned(),
    };
    let place = match (record, line) {
        (Some(r), Some(l)) => format!("record {r} (line {l})"),
        (None, Some(l)) => format!("line {l}"),
        _ => "the batch".to_owned(),
    };
    BatchError::new("malformed_batch", format!("{place}: {what}")).at(record, line, None)
}

/// serde_json's category of error, without the text around it (which may quote input).
fn kind_of(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "it could not be read",
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Eof => "it ends too early",
    }
}

/// Whether `name` is acceptable as a field name: 1 to 64 bytes of letters (of any script:
/// `größe`, `imię`), digits, `_`, `-` or `.`.
pub fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_FIELD_NAME
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn check_record(fields: &Map<String, Value>, pseudonym_field: &str) -> Result<(), BatchError> {
    if fields.len() > MAX_FIELDS {
        return Err(BatchError::new("too_many_fields", format!("a record has at most {MAX_FIELDS} fields")));
    }
    for (position, (name, value)) in fields.iter().enumerate() {
        if !is_field_name(name) {
            return Err(BatchError::new(
                "bad_field_name",
                format!(
                    "field {position}: a field name is 1 to {MAX_FIELD_NAME} bytes of letters, digits, `_`, `-` or `.`"
                ),
            ));
        }
        if value.is_object() || value.is_array() {
            return Err(BatchError::new(
                "nested_value",
                format!("field `{name}`: values are strings, numbers, booleans or null, not objects or arrays"),
            )
            .at(None, None, Some(name)));
        }
        // PostgreSQL cannot hold NUL in text, and no value needs it.
        if value.as_str().is_some_and(|v| v.contains('\0')) {
            return Err(BatchError::new("invalid_value", crate::nul::message(&format!("field `{name}`"))).at(
                None,
                None,
                Some(name),
            ));
        }
    }
    match fields.get(pseudonym_field) {
        None | Some(Value::Null) => Err(BatchError::new(
            "missing_pseudonym",
            format!("field `{pseudonym_field}`: every record carries the partner's pseudonym of the person"),
        )
        .at(None, None, Some(pseudonym_field))),
        Some(Value::String(p)) if is_pseudonym(p) => Ok(()),
        Some(_) => Err(BatchError::new(
            "bad_pseudonym",
            format!(
                "field `{pseudonym_field}`: a pseudonym is a string of 1 to {MAX_PSEUDONYM} printable characters without spaces"
            ),
        )
        .at(None, None, Some(pseudonym_field))),
    }
}

/// Whether `p` can be a pseudonym: 1 to 128 bytes of printable ASCII without spaces.
pub fn is_pseudonym(p: &str) -> bool {
    !p.is_empty() && p.len() <= MAX_PSEUDONYM && p.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(body: &str) -> Result<Vec<BatchRecord>, BatchError> {
        parse(BatchFormat::Json, body.as_bytes(), 10, "pseudonym")
    }

    #[test]
    fn a_value_holding_nul_is_refused_in_every_format() {
        let batches: [(BatchFormat, &[u8]); 3] = [
            (BatchFormat::Json, br#"[{"pseudonym": "a1", "n": "3"}, {"pseudonym": "b2", "n": "4\u0000"}]"#),
            (
                BatchFormat::Ndjson,
                b"{\"pseudonym\": \"a1\", \"n\": \"3\"}\n{\"pseudonym\": \"b2\", \"n\": \"\\u0000\"}\n",
            ),
            (BatchFormat::Csv, b"pseudonym,n\na1,3\nb2,4\0\n"),
        ];
        for (format, body) in batches {
            let err = parse(format, body, 10, "pseudonym").expect_err("a NUL");
            assert_eq!(
                (err.code, err.record, err.field.as_deref()),
                ("invalid_value", Some(1), Some("n")),
                "{format:?}"
            );
            assert!(err.message.contains("U+0000") && !err.message.contains('\0'), "{}", err.message);
        }
    }

    #[test]
    fn content_types_choose_the_format() {
        assert_eq!(BatchFormat::from_content_type("application/json; charset=utf-8"), Some(BatchFormat::Json));
        assert_eq!(BatchFormat::from_content_type("application/x-ndjson"), Some(BatchFormat::Ndjson));
        assert_eq!(BatchFormat::from_content_type("Text/CSV"), Some(BatchFormat::Csv));
        assert_eq!(BatchFormat::from_content_type("text/plain"), None);
    }

    #[test]
    fn the_three_formats_read_the_same_records() {
        let j = json(r#"[{"pseudonym": "a1", "n": "3"}, {"pseudonym": "b2", "n": "4"}]"#).expect("json");
        let n = parse(
            BatchFormat::Ndjson,
            b"{\"pseudonym\": \"a1\", \"n\": \"3\"}\n\n{\"pseudonym\": \"b2\", \"n\": \"4\"}\n",
            10,
            "pseudonym",
        )
        .expect("ndjson");
        let c = parse(BatchFormat::Csv, b"pseudonym,n\na1,3\nb2,4\n", 10, "pseudonym").expect("csv");
        for batch in [&j, &n, &c] {
            assert_eq!(
                batch.iter().map(|r| r.fields.clone()).collect::<Vec<_>>(),
                j.iter().map(|r| r.fields.clone()).collect::<Vec<_>>()
            );
        }
        assert_eq!(n[1].line, Some(3), "blank lines count");
        assert_eq!(c[1].line, Some(3), "the header is line 1");
        // A spreadsheet's CSV in a locale with a decimal comma: `;`, CRLF, a byte-order mark.
        let e = parse(BatchFormat::Csv, b"\xef\xbb\xbfpseudonym;n\r\na1;3\r\nb2;4\r\n", 10, "pseudonym").expect("csv");
        assert_eq!(
            e.iter().map(|r| r.fields.clone()).collect::<Vec<_>>(),
            j.iter().map(|r| r.fields.clone()).collect::<Vec<_>>()
        );
        assert_eq!(e[1].line, Some(3), "lines after CRLF are counted as after LF");
    }

    #[test]
    fn errors_name_the_record_line_and_field_without_values() {
        let e =
            parse(BatchFormat::Ndjson, b"{\"pseudonym\": \"a\"}\n{\"x\": 1}\n", 10, "pseudonym").expect_err("missing");
        assert_eq!(
            (e.code, e.record, e.line, e.field.as_deref()),
            ("missing_pseudonym", Some(1), Some(2), Some("pseudonym"))
        );
        let e = json(r#"[{"pseudonym": "a", "deep": {"x": "secret-value"}}]"#).expect_err("nested");
        assert_eq!((e.code, e.record, e.field.as_deref()), ("nested_value", Some(0), Some("deep")));
        assert!(!e.message.contains("secret-value"));
        let e = parse(BatchFormat::Ndjson, b"{\"pseudonym\": \"jane@example.com\"\n", 10, "pseudonym")
            .expect_err("bad json");
        assert_eq!((e.code, e.line), ("malformed_batch", Some(1)));
        assert!(!e.message.contains("jane"), "{}", e.message);
        let e = parse(BatchFormat::Csv, b"pseudonym,n\na,1\nb\n", 10, "pseudonym").expect_err("short row");
        assert_eq!((e.code, e.record, e.line), ("malformed_batch", Some(1), Some(3)));
        let e = parse(BatchFormat::Csv, b"pseudonym,n\r\na,1\r\nb\r\n", 10, "pseudonym").expect_err("short row");
        assert_eq!((e.code, e.record, e.line), ("malformed_batch", Some(1), Some(3)));
        let e = json(r#"[{"pseudonym": "has space"}]"#).expect_err("space");
        assert_eq!(e.code, "bad_pseudonym");
        let e = json(r#"[{"pseudonym": "a", "jane@example.com": 1}]"#).expect_err("name");
        assert_eq!(e.code, "bad_field_name");
        // Field names in the partner's language are names all the same.
        assert!(json(r#"[{"pseudonym": "a", "größe": "M", "imię": "x", "adres_dostawy": "y"}]"#).is_ok());
        assert_eq!(json(r#"[{"pseudonym": "a", "größe m": 1}]"#).expect_err("space").code, "bad_field_name");
        assert!(!e.message.contains("jane"));
        assert_eq!(json("[]").expect_err("empty").code, "empty_batch");
        assert_eq!(json("[1]").expect_err("number").code, "not_an_object");
    }

    #[test]
    fn the_row_limit_stops_at_the_first_record_past_it() {
        let body = (0..5).map(|i| format!("{{\"pseudonym\": \"p{i}\"}}\n")).collect::<String>();
        let e = parse(BatchFormat::Ndjson, body.as_bytes(), 3, "pseudonym").expect_err("limit");
        assert_eq!((e.code, e.record, e.line), ("too_many_records", Some(3), Some(4)));
        assert_eq!(parse(BatchFormat::Ndjson, body.as_bytes(), 5, "pseudonym").expect("fits").len(), 5);
    }
}
