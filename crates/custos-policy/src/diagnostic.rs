//! Errors in a policy file, with their positions.

use std::fmt;
use std::ops::Range;

/// One thing wrong in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// A stable code, such as `purpose.no_legal_basis`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to change.
    pub help: Option<String>,
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column, in characters.
    pub column: usize,
}

/// Everything wrong in a policy file, reported at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// The file name (or other origin) the positions refer to.
    pub origin: String,
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl PolicyError {
    /// Whether any diagnostic has `code`.
    pub fn has(&self, code: &str) -> bool {
        self.diagnostics.iter().any(|d| d.code == code)
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        writeln!(f, "{} has {n} error{}:", self.origin, if n == 1 { "" } else { "s" })?;
        for d in &self.diagnostics {
            writeln!(f, "{}:{}:{}: {} [{}]", self.origin, d.line, d.column, d.message, d.code)?;
            if let Some(help) = &d.help {
                writeln!(f, "    help: {help}")?;
            }
        }
        Ok(())
    }
}

/// Turns byte ranges into diagnostics with lines and columns.
pub(crate) struct Diagnostics<'a> {
    text: &'a str,
    found: Vec<(usize, Diagnostic)>,
}

impl<'a> Diagnostics<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, found: Vec::new() }
    }

    /// Records a problem at `span`.
    pub(crate) fn error(&mut self, span: Range<usize>, code: &'static str, message: String, help: Option<String>) {
        let (line, column) = line_col(self.text, span.start);
        self.found.push((span.start, Diagnostic { code, message, help, line, column }));
    }

    /// The 1-based line of byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        line_col(self.text, offset).0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// The problems in file order.
    pub(crate) fn finish(mut self, origin: &str) -> PolicyError {
        self.found.sort_by_key(|(offset, d)| (*offset, d.code));
        PolicyError { origin: origin.to_owned(), diagnostics: self.found.into_iter().map(|(_, d)| d).collect() }
    }
}

/// The 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
