//! Input files as records: the CSV header (a *layout*) and each row's
//! exact text, with its key, date and line.
//!
//! The store keeps a row as the CSV text it arrived as (under its
//! layout), not as parsed values. A run rebuilds a CSV from those texts and
//! reads it with the same reader as `attain calc`, so a run from the store
//! and a run from files cannot disagree, and whatever the engine learns to
//! read, the store already holds. JSON lines are turned into CSV text on
//! the way in.

use crate::Error;
use attain_core::diag::{Diagnostic, Location};
use std::ops::Range;

/// Which input format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

/// One row: where its text is in [`Records::csv`], where its key and date
/// (unquoted, trimmed; empty when the layout has no date) are in
/// [`Records::fields`], and its line in the user's file.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub text: Range<usize>,
    pub key: Range<usize>,
    pub date: Range<usize>,
    pub line: u64,
}

/// A file as CSV text (the user's own CSV, or JSON lines written as CSV)
/// with its rows located.
pub struct Records {
    pub csv: Vec<u8>,
    pub fields: String,
    pub header: String,
    pub rows: Vec<RecordRow>,
    /// For JSON lines: the user's line of each CSV line (index: CSV line).
    line_map: Option<Vec<u64>>,
}

impl Records {
    pub fn text(&self, row: &RecordRow) -> &str {
        std::str::from_utf8(&self.csv[row.text.clone()]).unwrap_or("")
    }

    pub fn key(&self, row: &RecordRow) -> &str {
        self.fields.get(row.key.clone()).unwrap_or("")
    }

    pub fn date(&self, row: &RecordRow) -> &str {
        self.fields.get(row.date.clone()).unwrap_or("")
    }

    /// Diagnostics about the CSV text, pointed back at the user's file:
    /// for JSON lines, the line of the object, without a column.
    pub fn locate(&self, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
        let Some(map) = &self.line_map else {
            return diags;
        };
        diags
            .into_iter()
            .map(|mut d| {
                if d.location.line > 0 {
                    d.location.line = map.get(d.location.line).copied().unwrap_or(0) as usize;
                    d.location.column = 0;
                    d.location.snippet = None;
                }
                d
            })
            .collect()
    }
}

fn utf8_error(file: &str, e: &std::str::Utf8Error, bytes: &[u8]) -> Error {
    let line = bytes[..e.valid_up_to()]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1;
    Error(vec![Diagnostic::error(
        Location::line_column(file, line, 0),
        "this line is not UTF-8 text",
    )
    .with_hint("save the file as UTF-8")])
}

/// Locates the rows of a CSV file. `key` and `date` name columns of the
/// header (the date is optional).
pub fn from_csv(
    file: &str,
    bytes: Vec<u8>,
    key: &str,
    date: Option<&str>,
) -> Result<Records, Error> {
    if let Err(e) = std::str::from_utf8(&bytes) {
        return Err(utf8_error(file, &e, &bytes));
    }
    let header_end = memchr::memchr(b'\n', &bytes).unwrap_or(bytes.len());
    let header = String::from_utf8_lossy(&bytes[..header_end])
        .trim_end_matches('\r')
        .to_string();
    let names: Vec<String> = split_line(header.as_bytes())
        .iter()
        .map(|r| header[r.clone()].trim().to_string())
        .collect();
    let column = |name: &str| names.iter().position(|n| n == name);
    let key_col = column(key).ok_or_else(|| {
        Error(vec![Diagnostic::error(
            Location::line_column(file, 1, 0),
            format!("no column `{key}` in the header"),
        )
        .with_hint(format!("the header is `{header}`"))])
    })?;
    let date_col = date.and_then(column);
    let mut rows = Vec::new();
    let mut fields = String::new();
    if memchr::memchr(b'"', &bytes).is_none() {
        let mut start = (header_end + 1).min(bytes.len());
        let mut line = 1u64;
        while start < bytes.len() {
            line += 1;
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            let mut text_end = end;
            if text_end > start && bytes[text_end - 1] == b'\r' {
                text_end -= 1;
            }
            if text_end > start {
                let cut = split_line(&bytes[start..text_end]);
                let mut field = |c: Option<usize>| {
                    let text = c
                        .and_then(|c| cut.get(c))
                        .and_then(|r| {
                            std::str::from_utf8(&bytes[start + r.start..start + r.end]).ok()
                        })
                        .unwrap_or("");
                    push_field(&mut fields, text)
                };
                rows.push(RecordRow {
                    text: start..text_end,
                    key: field(Some(key_col)),
                    date: field(date_col),
                    line,
                });
            }
            start = end + 1;
        }
    } else {
        quoted_rows(file, &bytes, key_col, date_col, &mut rows, &mut fields)?;
    }
    Ok(Records {
        csv: bytes,
        fields,
        header,
        rows,
        line_map: None,
    })
}

fn push_field(fields: &mut String, text: &str) -> Range<usize> {
    let start = fields.len();
    fields.push_str(text.trim());
    start..fields.len()
}

/// Field ranges of an unquoted CSV line.
fn split_line(line: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in memchr::memchr_iter(b',', line) {
        out.push(start..i);
        start = i + 1;
    }
    out.push(start..line.len());
    out
}

/// Rows of a file with quoted fields, by the `csv` crate: a quoted field
/// may hold commas and line ends.
fn quoted_rows(
    file: &str,
    bytes: &[u8],
    key_col: usize,
    date_col: Option<usize>,
    rows: &mut Vec<RecordRow>,
    fields: &mut String,
) -> Result<(), Error> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    // Read the header first, so each position taken below is a record's.
    if let Err(e) = rdr.byte_headers() {
        return Err(Error(vec![Diagnostic::error(
            Location::line_column(file, 1, 0),
            format!("the header is not valid CSV: {e}"),
        )]));
    }
    let mut starts: Vec<(u64, usize, Range<usize>, Range<usize>)> = Vec::new();
    loop {
        let pos = rdr.position().clone();
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(Error(vec![Diagnostic::error(
                    Location::line_column(file, pos.line() as usize, 0),
                    format!("this line is not valid CSV: {e}"),
                )]))
            }
        }
        let mut field = |c: Option<usize>| {
            let text = c
                .and_then(|c| record.get(c))
                .and_then(|f| std::str::from_utf8(f).ok())
                .unwrap_or("");
            push_field(fields, text)
        };
        let key = field(Some(key_col));
        let date = field(date_col);
        starts.push((pos.line(), pos.byte() as usize, key, date));
    }
    for (i, (line, start, key, date)) in starts.iter().enumerate() {
        let mut end = starts.get(i + 1).map_or(bytes.len(), |s| s.1);
        while end > *start && (bytes[end - 1] == b'\n' || bytes[end - 1] == b'\r') {
            end -= 1;
        }
        rows.push(RecordRow {
            text: *start..end,
            key: key.clone(),
            date: date.clone(),
            line: *line,
        });
    }
    Ok(())
}

/// JSON lines (one object per line) written as CSV under `columns`: each
/// value as the text it was written as (numbers keep every digit), a
/// missing key or `null` as an empty field. Keys not in `columns` are
/// ignored, as extra CSV columns are.
pub fn from_json_lines(
    file: &str,
    bytes: &[u8],
    columns: &[String],
    key: &str,
    date: Option<&str>,
) -> Result<Records, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| utf8_error(file, &e, bytes))?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let io = |e: csv::Error| Error::new(e.to_string());
    writer.write_record(columns).map_err(io)?;
    let mut line_map = vec![0u64, 1];
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(line) {
            Ok(o) => o,
            Err(e) => {
                errors.push(
                    Diagnostic::error(
                        Location::line_column(file, line_no as usize, e.column()),
                        format!("this line is not a JSON object: {e}"),
                    )
                    .with_hint("each line holds one object, like {\"deal_id\": \"D1\", \"amount\": 1200.50}"),
                );
                continue;
            }
        };
        let mut fields = Vec::with_capacity(columns.len());
        for c in columns {
            let v = match object.get(c) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                Some(serde_json::Value::Bool(b)) => b.to_string(),
                Some(other) => {
                    errors.push(
                        Diagnostic::error(
                            Location::line_column(file, line_no as usize, 0),
                            format!("`{c}` is `{other}`, which is neither text nor a number"),
                        )
                        .with_hint("give each field as a string or a number"),
                    );
                    String::new()
                }
            };
            fields.push(v);
        }
        writer.write_record(&fields).map_err(io)?;
        line_map.push(line_no);
    }
    if !errors.is_empty() {
        return Err(Error(errors));
    }
    let csv = writer.into_inner().map_err(|e| Error::new(e.to_string()))?;
    let mut records = from_csv(file, csv, key, date)?;
    for row in &mut records.rows {
        row.line = line_map.get(row.line as usize).copied().unwrap_or(0);
    }
    records.line_map = Some(line_map);
    Ok(records)
}

/// Rebuilds one CSV from stored records under possibly different
/// layouts. Records already under `header` are copied as they are (the
/// common case: one layout); others are re-read and rewritten under it,
/// with a column the older layout lacked left empty.
pub struct CsvBuilder {
    header: String,
    names: Vec<String>,
    pub out: Vec<u8>,
    converters: Vec<(String, Vec<Option<usize>>)>,
}

impl CsvBuilder {
    pub fn new(header: &str, capacity: usize) -> CsvBuilder {
        let mut out = Vec::with_capacity(capacity + header.len() + 1);
        out.extend_from_slice(header.as_bytes());
        out.push(b'\n');
        let names = parse_line(header);
        CsvBuilder {
            header: header.to_string(),
            names,
            out,
            converters: Vec::new(),
        }
    }

    pub fn push(&mut self, layout: &str, record: &str) {
        if layout == self.header {
            self.out.extend_from_slice(record.as_bytes());
            self.out.push(b'\n');
            return;
        }
        let index = match self.converters.iter().position(|(h, _)| h == layout) {
            Some(i) => i,
            None => {
                let theirs = parse_line(layout);
                let map = self
                    .names
                    .iter()
                    .map(|n| theirs.iter().position(|t| t == n))
                    .collect();
                self.converters.push((layout.to_string(), map));
                self.converters.len() - 1
            }
        };
        let values = parse_line(record);
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let fields: Vec<&str> = self.converters[index]
            .1
            .iter()
            .map(|c| c.and_then(|c| values.get(c)).map_or("", |s| s.as_str()))
            .collect();
        if writer.write_record(&fields).is_ok() {
            if let Ok(bytes) = writer.into_inner() {
                self.out.extend_from_slice(&bytes);
            }
        }
    }
}

/// The fields of one CSV record (quotes honoured).
pub fn parse_line(line: &str) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match rdr.read_record(&mut record) {
        Ok(true) => record.iter().map(|f| f.trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_located_with_or_without_quotes() {
        let plain = b"id,date,amount\nD1,2026-01-05,10\r\n\nD2 ,2026-02-01,20\n".to_vec();
        let r = from_csv("t.csv", plain, "id", Some("date")).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(&str, &str, &str, u64)> = r
            .rows
            .iter()
            .map(|x| (r.text(x), r.key(x), r.date(x), x.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("D1,2026-01-05,10", "D1", "2026-01-05", 2),
                ("D2 ,2026-02-01,20", "D2", "2026-02-01", 4)
            ]
        );
        let quoted = b"id,note,date\nD1,\"a, b\nc\",2026-01-05\nD2,x,2026-02-01\n".to_vec();
        let r = from_csv("t.csv", quoted, "id", Some("date")).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(&str, &str, &str, u64)> = r
            .rows
            .iter()
            .map(|x| (r.text(x), r.key(x), r.date(x), x.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("D1,\"a, b\nc\",2026-01-05", "D1", "2026-01-05", 2),
                ("D2,x,2026-02-01", "D2", "2026-02-01", 4)
            ]
        );
    }

    #[test]
    fn json_lines_keep_numbers_as_written() {
        let cols = vec!["id".to_string(), "amount".to_string(), "note".to_string()];
        let r = from_json_lines(
            "t.jsonl",
            b"{\"id\": \"D1\", \"amount\": 1200.50, \"note\": \"a, b\"}\n\n{\"id\":\"D2\",\"amount\":0.075,\"extra\":1}\n",
            &cols,
            "id",
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(&str, u64)> = r.rows.iter().map(|x| (r.text(x), x.line)).collect();
        assert_eq!(got, vec![("D1,1200.50,\"a, b\"", 1), ("D2,0.075,", 3)]);
    }

    #[test]
    fn older_layouts_are_rewritten_under_the_new_header() {
        let mut b = CsvBuilder::new("id,amount,region", 0);
        b.push("id,amount,region", "D1,10,EU");
        b.push("amount,id", "20,D2");
        assert_eq!(
            String::from_utf8_lossy(&b.out),
            "id,amount,region\nD1,10,EU\nD2,20,\n"
        );
    }
}
