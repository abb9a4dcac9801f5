//! Problems found in plans and data, as data.
//!
//! Every stage (plan parsing, checking, data loading, evaluation) reports
//! [`Diagnostic`]s that name the file, line and column, quote the offending
//! text and add a hint. Stages collect every problem they can before giving
//! up, so a person fixes a file in one pass.
//!
//! Rendering is a few lines of our own rather than a crate: one plain-text
//! format with a quoted source line is all attain prints.

use std::fmt;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    /// Information about other problems, e.g. how many were not listed.
    Note,
}

/// Where a problem is: a file and, when known, a byte range in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    /// 1-based line and column, 0 when unknown.
    pub line: usize,
    pub column: usize,
    /// The source line quoted under the message, and the columns to underline.
    pub snippet: Option<(String, Range<usize>)>,
}

impl Location {
    pub fn file(file: impl Into<String>) -> Location {
        Location {
            file: file.into(),
            line: 0,
            column: 0,
            snippet: None,
        }
    }

    pub fn line_column(file: impl Into<String>, line: usize, column: usize) -> Location {
        Location {
            file: file.into(),
            line,
            column,
            snippet: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Location,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(location: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            location,
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(location: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(location, message)
        }
    }

    pub fn note(location: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(location, message)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let loc = &self.location;
        if loc.line > 0 && loc.column > 0 {
            write!(
                f,
                "{level}: {}:{}:{}: {}",
                loc.file, loc.line, loc.column, self.message
            )?;
        } else if loc.line > 0 {
            write!(f, "{level}: {}:{}: {}", loc.file, loc.line, self.message)?;
        } else {
            write!(f, "{level}: {}: {}", loc.file, self.message)?;
        }
        // The `= help` lines up under the snippet's `|`.
        let mut pad = " ".to_string();
        if let Some((text, cols)) = &loc.snippet {
            let gutter = loc.line.to_string();
            pad = " ".repeat(gutter.len());
            let underline_start = text[..cols.start.min(text.len())].chars().count();
            let underline_len = text
                .get(cols.start.min(text.len())..cols.end.min(text.len()))
                .map_or(1, |s| s.chars().count().max(1));
            write!(
                f,
                "\n{pad} |\n{gutter} | {text}\n{pad} | {}{}",
                " ".repeat(underline_start),
                "^".repeat(underline_len)
            )?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n{pad} = help: {hint}")?;
        }
        Ok(())
    }
}

/// A text file being read, to turn byte offsets into lines and columns.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// The location of a byte range, with the first line it touches quoted.
    pub fn locate(&self, span: Range<usize>) -> Location {
        let start = span.start.min(self.text.len());
        let line_index = self.line_starts.partition_point(|&s| s <= start) - 1;
        let line_start = self.line_starts[line_index];
        let line_end = self.text[line_start..]
            .find('\n')
            .map_or(self.text.len(), |i| line_start + i);
        let line_text = self.text[line_start..line_end].trim_end_matches('\r');
        let col_start = start - line_start;
        let col_end = span.end.clamp(start, line_end) - line_start;
        let column = self.text[line_start..start].chars().count() + 1;
        Location {
            file: self.path.clone(),
            line: line_index + 1,
            column,
            snippet: Some((line_text.to_string(), col_start..col_end.max(col_start + 1))),
        }
    }

    pub fn slice(&self, span: Range<usize>) -> &str {
        self.text.get(span).unwrap_or("")
    }
}

/// Renders problems one after another, errors first, in a stable order.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by(|a, b| {
        (
            a.severity,
            &a.location.file,
            a.location.line,
            a.location.column,
        )
            .cmp(&(
                b.severity,
                &b.location.file,
                b.location.line,
                b.location.column,
            ))
    });
    let mut out = String::new();
    for d in sorted {
        out.push_str(&d.to_string());
        out.push_str("\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diagnostic_quotes_its_line() {
        let src = SourceFile::new("plans/am.toml", "id = \"am\"\nrate = \"7,5%\"\n");
        let at = src.text.find("\"7,5%\"").unwrap_or(0);
        let d = Diagnostic::error(src.locate(at..at + 6), "`7,5%` is not a number")
            .with_hint("write a rate as `7.5%` or `0.075`");
        assert_eq!(
            d.to_string(),
            "error: plans/am.toml:2:8: `7,5%` is not a number\n  |\n2 | rate = \"7,5%\"\n  |        ^^^^^^\n  = help: write a rate as `7.5%` or `0.075`"
        );
    }
}
