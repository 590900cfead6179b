//! `custos pii scan [FILE|-] [--format ndjson|csv]`: finds personal data in records, with no
//! database and no configuration.
//!
//! Input is one JSON object per line, or CSV with a header row (each row becomes an object
//! of header → value; the delimiter, `,`, `;`, tab or `|`, is read from the header row), in
//! UTF-8 or the character set `--encoding` names. Output is one JSON line per record, in order:
//! `{"line": N, "findings": [{"field", "type", "start", "end", "confidence"}]}`, offsets in
//! bytes into the field's value. A line that cannot be read is reported on standard error
//! (`line N: …`) and as `{"line": N, "error": "…"}` on standard output, and scanning goes
//! on. Error texts name the line and what was wrong, never the value.
//!
//! Exit status: 0 when no record holds PII, 1 when some do, 2 when a line could not be
//! read (or the input could not be opened).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use custos_engine::partners::charset;
use custos_pii::{Detector, FieldFinding};
use serde_json::{Map, Value, json};

/// `custos pii …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PiiCommand {
    /// Scan records for personal data and secrets; prints one JSON line per record. Exits 0
    /// when none holds any, 1 when some do, 2 when a line could not be read.
    Scan {
        /// The file to read; `-` or nothing for standard input.
        file: Option<PathBuf>,
        /// How records are written: one JSON object per line, or CSV with a header row.
        #[arg(long, value_enum, default_value_t = PiiFormat::Ndjson)]
        format: PiiFormat,
        /// The character set of the input, a label of the WHATWG Encoding Standard
        /// (`windows-1252` for what Western European spreadsheets save, `iso-8859-15`, ...).
        #[arg(long, default_value = "utf-8")]
        encoding: String,
    },
}

/// Input formats of `custos pii scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PiiFormat {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

/// What a scan saw, for the exit status.
#[derive(Debug, Default)]
struct Tally {
    with_pii: u64,
    bad_lines: u64,
}

impl Tally {
    fn exit_code(&self) -> ExitCode {
        if self.bad_lines > 0 {
            ExitCode::from(2)
        } else if self.with_pii > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// Runs a `custos pii` command and returns its exit status.
pub(crate) fn run(command: &PiiCommand) -> ExitCode {
    let PiiCommand::Scan { file, format, encoding } = command;
    let charset = match charset::named(encoding) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: --encoding: {e}");
            return ExitCode::from(2);
        }
    };
    let input: Box<dyn Read> = match file.as_deref() {
        None => Box::new(io::stdin().lock()),
        Some(path) if path.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(path) => match File::open(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("error: cannot open {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
    };
    // UTF-8 is read as it is: its readers name the line of a byte that is not.
    let input: Box<dyn Read> =
        if charset.name() == "UTF-8" { input } else { Box::new(charset::Utf8Reader::new(input, charset)) };
    let detector = Detector::new();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match format {
        PiiFormat::Ndjson => scan_ndjson(&detector, BufReader::new(input), &mut out),
        PiiFormat::Csv => scan_csv(&detector, input, &mut out),
    };
    match result.and_then(|tally| out.flush().map(|()| tally)) {
        Ok(tally) => tally.exit_code(),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// One JSON object per line; blank lines are skipped.
fn scan_ndjson(detector: &Detector, input: impl BufRead, out: &mut impl Write) -> io::Result<Tally> {
    let mut tally = Tally::default();
    for (index, line) in input.split(b'\n').enumerate() {
        let number = index as u64 + 1;
        let bytes = line?;
        let text = match std::str::from_utf8(&bytes) {
            Ok(text) => text.trim(),
            Err(e) => {
                let at = e.valid_up_to() + 1;
                bad_line(&mut tally, out, number, &format!("not UTF-8 (byte {at}; name another set with --encoding)"))?;
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(record @ Value::Object(_)) => report(detector, &mut tally, out, number, &record)?,
            Ok(other) => bad_line(&mut tally, out, number, &format!("expected a JSON object, found {}", kind(&other)))?,
            Err(e) => {
                bad_line(&mut tally, out, number, &format!("invalid JSON at column {}: {}", e.column(), category(&e)))?
            }
        }
    }
    Ok(tally)
}

/// CSV with a header row: each row is scanned as an object of header → value.
fn scan_csv(detector: &Detector, input: impl Read, out: &mut impl Write) -> io::Result<Tally> {
    let mut tally = Tally::default();
    let mut reader = custos_engine::partners::csv_input::reader(input);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            bad_line(&mut tally, out, 1, &csv_error(&e))?;
            return Ok(tally);
        }
    };
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, csv::Position::line);
                let object: Map<String, Value> = headers
                    .iter()
                    .zip(record.iter())
                    .map(|(h, v)| (h.to_owned(), Value::String(v.to_owned())))
                    .collect();
                report(detector, &mut tally, out, line, &Value::Object(object))?;
            }
            Err(e) => {
                let line = e.position().map_or(line, csv::Position::line);
                bad_line(&mut tally, out, line, &csv_error(&e))?;
                // An I/O error will not go away; anything else was one bad row.
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    Ok(tally)
}

fn report(detector: &Detector, tally: &mut Tally, out: &mut impl Write, line: u64, record: &Value) -> io::Result<()> {
    let findings = detector.scan_record(record);
    if !findings.is_empty() {
        tally.with_pii += 1;
    }
    let findings: Vec<Value> = findings.iter().map(finding_json).collect();
    writeln!(out, "{}", json!({"line": line, "findings": findings}))
}

fn finding_json(f: &FieldFinding) -> Value {
    json!({
        "field": f.field,
        "type": f.finding.kind.as_str(),
        "start": f.finding.start,
        "end": f.finding.end,
        "confidence": (f64::from(f.finding.confidence) * 100.0).round() / 100.0,
    })
}

fn bad_line(tally: &mut Tally, out: &mut impl Write, line: u64, error: &str) -> io::Result<()> {
    tally.bad_lines += 1;
    eprintln!("line {line}: {error}");
    writeln!(out, "{}", json!({"line": line, "error": error}))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What kind of JSON error, without serde_json's text (which may quote the input).
fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Eof => "unexpected end of line",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Io => "read error",
    }
}

/// A CSV error without the row's content.
fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("expected {expected_len} fields as in the header, found {len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("field {} is not UTF-8 (name another set with --encoding, such as windows-1252)", err.field() + 1)
        }
        csv::ErrorKind::Io(io) => format!("read error: {io}"),
        _ => "malformed CSV".to_owned(),
    }
}
