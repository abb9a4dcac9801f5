//! Participants and transactions, read from CSV as the workspace schema
//! maps them, into columns.
//!
//! Readers are handed in by the caller (this crate opens no file). Every
//! row is checked; every problem names the file, line, column, the value
//! and what was expected. Loading is all or nothing: a file with any bad row
//! yields errors and no data.

use crate::diag::{Diagnostic, Location};
use crate::expr;
use crate::money::parse_amount;
use crate::plan::{Field, FieldType, Workspace};
use jiff::civil::Date;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::io::Read;

/// Stop collecting row errors after this many: the first screenful is what
/// a person fixes first.
const MAX_ROW_ERRORS: usize = 50;

/// Text values stored once and referred to by number.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: HashMap<Box<str>, u32>,
    values: Vec<Box<str>>,
}

impl Interner {
    pub fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    pub fn get(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    pub fn text(&self, id: u32) -> &str {
        self.values.get(id as usize).map_or("", |s| s)
    }
}

/// Marks a missing value in integer columns.
pub const MISSING: i64 = i64::MIN;
/// Marks a missing participant or text value.
pub const NONE: u32 = u32::MAX;

/// One field's values, one per row.
#[derive(Debug, Clone)]
pub enum Column {
    /// Interned ids (`NONE` when empty).
    Text(Vec<u32>),
    /// Participant indexes (`NONE` when empty).
    Participant(Vec<u32>),
    /// Integers of the currency's minor unit (`MISSING` when empty).
    Money(Vec<i64>),
    Integer(Vec<i64>),
    Decimal(Vec<Option<Decimal>>),
    Date(Vec<Option<Date>>),
}

impl Column {
    fn new(ty: FieldType) -> Column {
        match ty {
            FieldType::Text => Column::Text(Vec::new()),
            FieldType::Participant => Column::Participant(Vec::new()),
            FieldType::Money => Column::Money(Vec::new()),
            FieldType::Integer => Column::Integer(Vec::new()),
            FieldType::Decimal => Column::Decimal(Vec::new()),
            FieldType::Date => Column::Date(Vec::new()),
        }
    }
}

/// The people paid, with their hierarchy and plan.
#[derive(Debug, Clone, Default)]
pub struct Participants {
    pub ids: Vec<String>,
    pub index: HashMap<String, u32>,
    pub manager: Vec<Option<u32>>,
    /// Index into `Workspace::plans`.
    pub plan: Vec<Option<usize>>,
    pub start: Vec<Option<Date>>,
    pub end: Vec<Option<Date>>,
    pub fields: Vec<Column>,
    pub text: Interner,
    pub direct_reports: Vec<Vec<u32>>,
}

impl Participants {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Everyone below `p`, depth first, in a stable order.
    pub fn all_reports(&self, p: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut stack: Vec<u32> = self.direct_reports[p as usize].iter().rev().copied().collect();
        while let Some(r) = stack.pop() {
            out.push(r);
            stack.extend(self.direct_reports[r as usize].iter().rev());
        }
        out
    }

    /// `p`'s managers, nearest first.
    pub fn managers(&self, p: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = self.manager[p as usize];
        while let Some(m) = cur {
            if out.contains(&m) || out.len() > self.len() {
                break;
            }
            out.push(m);
            cur = self.manager[m as usize];
        }
        out
    }
}

/// Business events in columns.
#[derive(Debug, Clone, Default)]
pub struct Transactions {
    pub ids: Vec<Box<str>>,
    pub date: Vec<Date>,
    /// In the currency's minor unit.
    pub amount: Vec<i64>,
    pub fields: Vec<Column>,
    pub text: Interner,
    /// Data line of each row in its file, to point back at it.
    pub line: Vec<u64>,
}

impl Transactions {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

struct RowErrors {
    file: String,
    errors: Vec<Diagnostic>,
    more: usize,
}

impl RowErrors {
    fn push(&mut self, line: u64, column: usize, message: String, hint: Option<String>) {
        if self.errors.len() >= MAX_ROW_ERRORS {
            self.more += 1;
            return;
        }
        let d = Diagnostic::error(Location::line_column(&self.file, line as usize, column), message);
        self.errors.push(match hint {
            Some(h) => d.with_hint(h),
            None => d,
        });
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        if self.more > 0 {
            self.errors.push(Diagnostic::error(
                Location::file(&self.file),
                format!("and {} more problems in this file", self.more),
            ));
        }
        self.errors
    }
}

/// Positions of the schema's columns in a file's header.
fn bind_columns(
    file: &str,
    header: &csv::StringRecord,
    wanted: &[(&str, bool)],
) -> Result<Vec<Option<usize>>, Vec<Diagnostic>> {
    let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (col, required) in wanted {
        match names.iter().position(|n| n == col) {
            Some(i) => out.push(Some(i)),
            None if !required => out.push(None),
            None => {
                let hint = match expr::closest(col, &names) {
                    Some(n) => format!("did you mean `{n}`? the file has: {}", names.join(", ")),
                    None => format!("the file has: {}", names.join(", ")),
                };
                errors.push(
                    Diagnostic::error(Location::line_column(file, 1, 0), format!("column `{col}` is missing"))
                        .with_hint(hint),
                );
                out.push(None);
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn csv_error(file: &str, e: &csv::Error) -> Diagnostic {
    let line = e.position().map_or(0, |p| p.line() as usize);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("this row has {len} fields, but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "this row is not valid UTF-8 text".to_string(),
        _ => format!("cannot read the file: {e}"),
    };
    Diagnostic::error(Location::line_column(file, line, 0), message)
}

/// Parses a date written `2026-03-31`.
pub fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i32> {
        text.get(r).filter(|s| s.bytes().all(|c| c.is_ascii_digit()))?.parse().ok()
    };
    Date::new(num(0..4)? as i16, num(5..7)? as i8, num(8..10)? as i8).ok()
}

/// Reads an amount in the currency's minor unit: `1234.5` → 123450 with
/// two decimals. More decimals than the currency has are an error, not a
/// silent rounding.
pub fn parse_minor_units(text: &str, minor_unit: u32) -> Result<i64, String> {
    let value = parse_amount(text).map_err(|e| e.to_string())?;
    if value.scale() > minor_unit {
        let normalized = value.normalize();
        if normalized.scale() > minor_unit {
            return Err(format!("it has more than {minor_unit} decimals"));
        }
    }
    let scaled = value
        .checked_mul(Decimal::from(10i64.pow(minor_unit)))
        .ok_or_else(|| "it is too large".to_string())?;
    i64::try_from(scaled.trunc().mantissa() / 10i128.pow(scaled.trunc().scale()))
        .map_err(|_| "it is too large".to_string())
}

struct FieldReader<'a> {
    field: &'a Field,
    column_index: usize,
}

fn read_field(
    f: &FieldReader,
    raw: &str,
    line: u64,
    column: &mut Column,
    text: &mut Interner,
    people: Option<&Participants>,
    minor_unit: u32,
    errors: &mut RowErrors,
) {
    let field = f.field;
    let raw = raw.trim();
    let col_no = f.column_index + 1;
    let empty = raw.is_empty();
    if empty && !field.optional {
        errors.push(
            line,
            col_no,
            format!("`{}` is empty", field.column),
            Some(format!("every row needs a {} here", field.ty.name())),
        );
    }
    let mut bad = |expected: &str, why: Option<String>| {
        let message = match why {
            Some(w) => format!("`{}` is `{raw}`, which is not {expected}: {w}", field.column),
            None => format!("`{}` is `{raw}`, which is not {expected}", field.column),
        };
        errors.push(line, col_no, message, None);
    };
    let below_min = |v: Decimal| field.min.is_some_and(|m| v < m);
    match column {
        Column::Text(values) => {
            if !empty {
                if let Some(allowed) = &field.values {
                    if !allowed.iter().any(|a| a == raw) {
                        let hint = match expr::closest(raw, allowed) {
                            Some(n) => format!("did you mean `{n}`? expected one of {}", allowed.join(", ")),
                            None => format!("expected one of {}", allowed.join(", ")),
                        };
                        errors.push(line, col_no, format!("`{}` is `{raw}`, which is not an allowed value", field.column), Some(hint));
                    }
                }
            }
            values.push(if empty { NONE } else { text.intern(raw) });
        }
        Column::Participant(values) => {
            let idx = if empty {
                NONE
            } else {
                match people.and_then(|p| p.index.get(raw)) {
                    Some(&i) => i,
                    None => {
                        bad("a known participant", Some("no row of the participants file has this id".into()));
                        NONE
                    }
                }
            };
            values.push(idx);
        }
        Column::Money(values) => {
            let v = if empty {
                MISSING
            } else {
                match parse_minor_units(raw, minor_unit) {
                    Ok(v) => {
                        if below_min(Decimal::new(v, minor_unit)) {
                            bad("allowed", Some(format!("the schema requires at least {}", field.min.unwrap_or_default())));
                        }
                        v
                    }
                    Err(why) => {
                        bad("an amount", Some(format!("{why}; expected digits with an optional `.` and up to {minor_unit} decimals, like 1234.50")));
                        MISSING
                    }
                }
            };
            values.push(v);
        }
        Column::Integer(values) => {
            let v = if empty {
                MISSING
            } else {
                match raw.parse::<i64>() {
                    Ok(v) => {
                        if below_min(Decimal::from(v)) {
                            bad("allowed", Some(format!("the schema requires at least {}", field.min.unwrap_or_default())));
                        }
                        v
                    }
                    Err(_) => {
                        bad("a whole number", None);
                        MISSING
                    }
                }
            };
            values.push(v);
        }
        Column::Decimal(values) => {
            let v = if empty {
                None
            } else {
                match parse_amount(raw) {
                    Ok(v) => {
                        if below_min(v) {
                            bad("allowed", Some(format!("the schema requires at least {}", field.min.unwrap_or_default())));
                        }
                        Some(v)
                    }
                    Err(e) => {
                        bad("a number", Some(e.to_string()));
                        None
                    }
                }
            };
            values.push(v);
        }
        Column::Date(values) => {
            let v = if empty {
                None
            } else {
                let d = parse_date(raw);
                if d.is_none() {
                    bad("a date", Some("expected YYYY-MM-DD, like 2026-03-31".into()));
                }
                d
            };
            values.push(v);
        }
    }
}

/// Reads the participants file.
pub fn load_participants<R: Read>(ws: &Workspace, file: &str, reader: R) -> Result<Participants, Vec<Diagnostic>> {
    let schema = &ws.participants;
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
    let header = rdr.headers().map_err(|e| vec![csv_error(file, &e)])?.clone();
    let mut wanted: Vec<(&str, bool)> = vec![(schema.id_column.as_str(), true)];
    let specials = [&schema.manager_column, &schema.plan_column, &schema.start_column, &schema.end_column];
    for s in specials {
        wanted.push((s.as_deref().unwrap_or(""), s.is_some()));
    }
    for f in &schema.fields {
        wanted.push((f.column.as_str(), !f.optional));
    }
    let cols = bind_columns(file, &header, &wanted)?;
    let mut errors = RowErrors { file: file.to_string(), errors: Vec::new(), more: 0 };
    let mut p = Participants::default();
    p.fields = schema.fields.iter().map(|f| Column::new(f.ty)).collect();
    let mut manager_ids: Vec<(u64, String)> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.errors.push(csv_error(file, &e));
                break;
            }
        }
        let line = record.position().map_or(0, |pos| pos.line());
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let id = get(cols[0]);
        if id.is_empty() {
            errors.push(line, cols[0].unwrap_or(0) + 1, format!("`{}` is empty", schema.id_column), Some("every participant needs an id".into()));
        } else if p.index.contains_key(id) {
            errors.push(line, cols[0].unwrap_or(0) + 1, format!("participant `{id}` appears twice"), Some("each participant id must be unique".into()));
        }
        let idx = p.ids.len() as u32;
        p.index.insert(id.to_string(), idx);
        p.ids.push(id.to_string());
        manager_ids.push((line, get(cols[1]).to_string()));
        let plan_text = get(cols[2]);
        let plan = if schema.plan_column.is_none() || plan_text.is_empty() {
            None
        } else {
            match ws.plan(plan_text) {
                Some(i) => Some(i),
                None => {
                    let ids: Vec<String> = ws.plans.iter().map(|p| p.id.clone()).collect();
                    let hint = match expr::closest(plan_text, &ids) {
                        Some(n) => format!("did you mean `{n}`? plans: {}", ids.join(", ")),
                        None => format!("plans: {}", ids.join(", ")),
                    };
                    errors.push(line, cols[2].unwrap_or(0) + 1, format!("plan `{plan_text}` is not defined in the workspace"), Some(hint));
                    None
                }
            }
        };
        p.plan.push(plan);
        for (k, target) in [(3usize, &mut p.start), (4, &mut p.end)] {
            let raw = get(cols[k]);
            if raw.is_empty() {
                target.push(None);
            } else {
                let d = parse_date(raw);
                if d.is_none() {
                    let name = if k == 3 { &schema.start_column } else { &schema.end_column };
                    errors.push(line, cols[k].unwrap_or(0) + 1, format!("`{}` is `{raw}`, which is not a date", name.as_deref().unwrap_or("")), Some("expected YYYY-MM-DD, like 2026-03-31".into()));
                }
                target.push(d);
            }
        }
        for (i, f) in schema.fields.iter().enumerate() {
            let ci = cols[5 + i];
            let reader = FieldReader { field: f, column_index: ci.unwrap_or(0) };
            read_field(&reader, get(ci), line, &mut p.fields[i], &mut p.text, None, ws.minor_unit, &mut errors);
        }
    }
    // Managers, once every id is known.
    p.direct_reports = vec![Vec::new(); p.ids.len()];
    for (i, (line, m)) in manager_ids.iter().enumerate() {
        if m.is_empty() {
            p.manager.push(None);
            continue;
        }
        match p.index.get(m) {
            Some(&mi) if mi as usize == i => {
                errors.push(*line, cols[1].unwrap_or(0) + 1, format!("participant `{m}` is their own manager"), None);
                p.manager.push(None);
            }
            Some(&mi) => {
                p.manager.push(Some(mi));
                p.direct_reports[mi as usize].push(i as u32);
            }
            None => {
                errors.push(*line, cols[1].unwrap_or(0) + 1, format!("manager `{m}` is not a participant"), Some("every manager must have a row of their own".into()));
                p.manager.push(None);
            }
        }
    }
    // A manager chain that loops would make roll-ups endless.
    for i in 0..p.len() {
        let mut seen = 0usize;
        let mut cur = p.manager[i];
        while let Some(m) = cur {
            seen += 1;
            if m as usize == i || seen > p.len() {
                errors.push(manager_ids[i].0, cols[1].unwrap_or(0) + 1, format!("participant `{}` is their own manager through the chain of managers", p.ids[i]), Some("the management hierarchy must be a tree".into()));
                break;
            }
            cur = p.manager[m as usize];
        }
    }
    let errors = errors.finish();
    if errors.is_empty() {
        Ok(p)
    } else {
        Err(errors)
    }
}

/// Reads the transactions file; `people` resolves participant fields.
pub fn load_transactions<R: Read>(
    ws: &Workspace,
    people: &Participants,
    file: &str,
    reader: R,
) -> Result<Transactions, Vec<Diagnostic>> {
    let schema = &ws.transactions;
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
    let header = rdr.headers().map_err(|e| vec![csv_error(file, &e)])?.clone();
    let mut wanted: Vec<(&str, bool)> = vec![
        (schema.id_column.as_str(), true),
        (schema.date_column.as_str(), true),
        (schema.amount.column.as_str(), true),
    ];
    for f in &schema.fields {
        wanted.push((f.column.as_str(), !f.optional));
    }
    let cols = bind_columns(file, &header, &wanted)?;
    let mut errors = RowErrors { file: file.to_string(), errors: Vec::new(), more: 0 };
    let mut t = Transactions::default();
    t.fields = schema.fields.iter().map(|f| Column::new(f.ty)).collect();
    let mut seen_ids: HashMap<Box<str>, u64> = HashMap::new();
    let mut amount_col = Column::Money(Vec::new());
    let amount_reader = FieldReader { field: &schema.amount, column_index: cols[2].unwrap_or(0) };
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.errors.push(csv_error(file, &e));
                break;
            }
        }
        let line = record.position().map_or(0, |pos| pos.line());
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let id = get(cols[0]);
        if id.is_empty() {
            errors.push(line, cols[0].unwrap_or(0) + 1, format!("`{}` is empty", schema.id_column), Some("every transaction needs an id".into()));
        } else if let Some(first) = seen_ids.insert(id.into(), line) {
            errors.push(line, cols[0].unwrap_or(0) + 1, format!("transaction `{id}` appears twice (first on line {first})"), Some("each transaction id must be unique; a changed row should replace the old one".into()));
        }
        t.ids.push(id.into());
        t.line.push(line);
        let raw_date = get(cols[1]);
        match parse_date(raw_date) {
            Some(d) => t.date.push(d),
            None => {
                errors.push(line, cols[1].unwrap_or(0) + 1, format!("`{}` is `{raw_date}`, which is not a date", schema.date_column), Some("expected YYYY-MM-DD, like 2026-03-31".into()));
                t.date.push(Date::MIN);
            }
        }
        read_field(&amount_reader, get(cols[2]), line, &mut amount_col, &mut t.text, None, ws.minor_unit, &mut errors);
        for (i, f) in schema.fields.iter().enumerate() {
            let ci = cols[3 + i];
            let reader = FieldReader { field: f, column_index: ci.unwrap_or(0) };
            read_field(&reader, get(ci), line, &mut t.fields[i], &mut t.text, Some(people), ws.minor_unit, &mut errors);
        }
    }
    if let Column::Money(a) = amount_col {
        t.amount = a;
    }
    let errors = errors.finish();
    if errors.is_empty() {
        Ok(t)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_are_exact() {
        assert_eq!(parse_minor_units("1234.5", 2), Ok(123450));
        assert_eq!(parse_minor_units("0.07", 2), Ok(7));
        assert_eq!(parse_minor_units("-3", 2), Ok(-300));
        assert_eq!(parse_minor_units("1.230", 2), Ok(123));
        assert_eq!(parse_minor_units("1.234", 2), Err("it has more than 2 decimals".into()));
        assert!(parse_minor_units("1,234", 2).is_err());
    }

    #[test]
    fn dates_are_iso() {
        assert_eq!(parse_date("2026-02-28").map(|d| d.to_string()), Some("2026-02-28".into()));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("26-02-28"), None);
        assert_eq!(parse_date("2026/02/28"), None);
    }
}
