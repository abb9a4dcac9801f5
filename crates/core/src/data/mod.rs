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
use std::io::Read;

mod adjustments;
mod day_reader;
mod digits;
mod numbered_ids;
mod separators;
mod transactions;
pub use adjustments::{load_assignments, load_quotas, Assignment};
pub use transactions::{
    load_transactions, short_text_key, sift_file, sift_file_in_blocks, sift_transactions,
    sift_transactions_in_blocks, Keep, KeepAll, Row, RowSift, Sift, Sifted,
};

/// Hash maps keyed by ids and text values: foldhash is several times faster
/// than the default SipHash on short strings, and these maps hold no
/// attacker-chosen keys that need DoS resistance.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

pub fn fast_map<K, V>() -> FastMap<K, V> {
    FastMap::with_hasher(foldhash::fast::FixedState::default())
}

/// Stop collecting row errors after this many: the first screenful is what
/// a person fixes first.
pub(crate) const MAX_ROW_ERRORS: usize = 50;

/// Text values stored once and referred to by number.
///
/// Values live end to end in one string (one allocation, not one per value)
/// and each keeps its hash, so that merging interners built in parallel
/// does not hash any value twice.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    table: hashbrown::HashTable<u32>,
    text: String,
    ends: Vec<u32>,
    hashes: Vec<u64>,
}

pub(crate) fn text_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x1d).hash_one(text)
}

impl Interner {
    pub fn intern(&mut self, text: &str) -> u32 {
        self.intern_hashed(text, text_hash(text))
    }

    fn intern_hashed(&mut self, text: &str, hash: u64) -> u32 {
        let Interner {
            table,
            text: all,
            ends,
            hashes,
        } = self;
        let value = |id: u32| {
            let start = if id == 0 {
                0
            } else {
                ends[id as usize - 1] as usize
            };
            &all[start..ends[id as usize] as usize]
        };
        if let Some(&id) = table.find(hash, |&id| value(id) == text) {
            return id;
        }
        let id = ends.len() as u32;
        all.push_str(text);
        ends.push(all.len() as u32);
        hashes.push(hash);
        table.insert_unique(hash, id, |&id| hashes[id as usize]);
        id
    }

    pub fn get(&self, text: &str) -> Option<u32> {
        self.table
            .find(text_hash(text), |&id| self.text(id) == text)
            .copied()
    }

    pub fn text(&self, id: u32) -> &str {
        let i = id as usize;
        if i >= self.ends.len() {
            return "";
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Adds every value of `other`; returns the new id of each of its ids.
    pub fn absorb(&mut self, other: &Interner) -> Vec<u32> {
        (0..other.len())
            .map(|i| self.intern_hashed(other.text(i as u32), other.hashes[i]))
            .collect()
    }
}

/// Marks a missing value in integer columns.
pub const MISSING: i64 = i64::MIN;
/// Marks a missing participant or text value.
pub const NONE: u32 = u32::MAX;

/// Text kept as written, for fields no filter compares: interning them
/// would cost a hash-table probe per row for nothing (measures that group by
/// such a field intern only the rows they read).
///
/// Values of one width (codes, ids) are common: while every value has the
/// same length, no end is stored (4 bytes a row less to write and to keep).
#[derive(Debug, Clone, Default)]
pub struct RawText {
    text: String,
    /// Where each value ends; empty while `width` is known.
    ends: Vec<u32>,
    /// The length of every value, while they all have the same one.
    width: Option<usize>,
    len: usize,
}

impl RawText {
    /// Writes out the end of every value, from when they stop sharing a
    /// width.
    fn spell_out(&mut self) {
        if let Some(w) = self.width.take() {
            self.ends = (1..=self.len).map(|i| (i * w) as u32).collect();
        }
    }

    pub(crate) fn push(&mut self, value: &str) {
        match self.width {
            Some(w) if w == value.len() => {}
            None if self.len == 0 => self.width = Some(value.len()),
            _ => self.spell_out(),
        }
        self.text.push_str(value);
        if self.width.is_none() {
            self.ends.push(self.text.len() as u32);
        }
        self.len += 1;
    }

    pub(crate) fn reserve(&mut self, rows: usize) {
        if self.width.is_none() {
            self.ends.reserve(rows);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.width = None;
        self.len = 0;
    }

    /// Keeps the first `rows` values.
    pub(crate) fn truncate(&mut self, rows: usize) {
        if rows >= self.len {
            return;
        }
        match self.width {
            Some(w) => self.text.truncate(rows * w),
            None => {
                let end = rows.checked_sub(1).map_or(0, |r| self.ends[r] as usize);
                self.text.truncate(end);
                self.ends.truncate(rows);
            }
        }
        self.len = rows;
        if rows == 0 {
            self.width = None;
        }
    }

    /// Appends `other`; false when the text would pass 4 GB.
    pub(crate) fn append(&mut self, other: &RawText) -> bool {
        let base = self.text.len() as u64;
        if base + other.text.len() as u64 > u64::from(u32::MAX) {
            return false;
        }
        if other.len == 0 {
            return true;
        }
        if self.len == 0 {
            self.width = other.width;
        }
        match (self.width, other.width) {
            (Some(a), Some(b)) if a == b => self.text.push_str(&other.text),
            _ => {
                self.spell_out();
                self.text.push_str(&other.text);
                match other.width {
                    Some(w) => self
                        .ends
                        .extend((1..=other.len).map(|i| (base as usize + i * w) as u32)),
                    None => self.ends.extend(other.ends.iter().map(|e| e + base as u32)),
                }
            }
        }
        self.len += other.len;
        true
    }

    pub fn get(&self, row: usize) -> &str {
        let (start, end) = match self.width {
            Some(w) => (row * w, (row + 1) * w),
            None => (
                row.checked_sub(1).map_or(0, |r| self.ends[r] as usize),
                self.ends[row] as usize,
            ),
        };
        self.text.get(start..end).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One field's values, one per row.
#[derive(Debug, Clone)]
pub enum Column {
    /// Interned ids (`NONE` when empty).
    Text(Vec<u32>),
    /// Text as written (empty when missing).
    Raw(RawText),
    /// Participant indexes (`NONE` when empty).
    Participant(Vec<u32>),
    /// Integers of the currency's minor unit (`MISSING` when empty).
    Money(Vec<i64>),
    Integer(Vec<i64>),
    Decimal(Vec<Option<Decimal>>),
    Date(Vec<Option<Date>>),
}

impl Column {
    /// Keeps the first `rows` values.
    pub(crate) fn truncate(&mut self, rows: usize) {
        match self {
            Column::Text(v) | Column::Participant(v) => v.truncate(rows),
            Column::Raw(r) => r.truncate(rows),
            Column::Money(v) | Column::Integer(v) => v.truncate(rows),
            Column::Decimal(v) => v.truncate(rows),
            Column::Date(v) => v.truncate(rows),
        }
    }

    pub(crate) fn reserve(&mut self, rows: usize) {
        match self {
            Column::Text(v) | Column::Participant(v) => v.reserve(rows),
            Column::Raw(r) => r.reserve(rows),
            Column::Money(v) | Column::Integer(v) => v.reserve(rows),
            Column::Decimal(v) => v.reserve(rows),
            Column::Date(v) => v.reserve(rows),
        }
    }

    /// The column for a field: text that filters compare is interned,
    /// other text is kept raw.
    pub(crate) fn for_field(field: &Field) -> Column {
        match field.ty {
            FieldType::Text if !field.interned => Column::Raw(RawText::default()),
            ty => Column::new(ty),
        }
    }

    pub(crate) fn new(ty: FieldType) -> Column {
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
#[derive(Debug, Clone)]
pub struct Participants {
    pub ids: Vec<String>,
    pub index: FastMap<String, u32>,
    pub manager: Vec<Option<u32>>,
    /// Index into `Workspace::plans`.
    pub plan: Vec<Option<usize>>,
    pub start: Vec<Option<Date>>,
    pub end: Vec<Option<Date>>,
    pub fields: Vec<Column>,
    pub text: Interner,
    pub direct_reports: Vec<Vec<u32>>,
    /// Effective-dated plans from an assignments file; when a participant
    /// has any, they replace the plan column.
    pub assignments: Vec<Vec<Assignment>>,
}

impl Default for Participants {
    fn default() -> Self {
        Participants {
            ids: Vec::new(),
            index: fast_map(),
            manager: Vec::new(),
            plan: Vec::new(),
            start: Vec::new(),
            end: Vec::new(),
            fields: Vec::new(),
            text: Interner::default(),
            direct_reports: Vec::new(),
            assignments: Vec::new(),
        }
    }
}

impl Participants {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The plan in force for `p` in the period from `start` to `end`: the
    /// assignment covering the period's last day, else the latest one
    /// overlapping the period, else the plan column.
    pub fn plan_at(&self, p: u32, start: Date, end: Date) -> Option<usize> {
        let list = match self.assignments.get(p as usize) {
            Some(list) if !list.is_empty() => list,
            _ => return self.plan[p as usize],
        };
        let covers =
            |a: &&Assignment, d: Date| a.from.is_none_or(|f| f <= d) && a.to.is_none_or(|t| d <= t);
        if let Some(a) = list.iter().find(|a| covers(a, end)) {
            return Some(a.plan);
        }
        list.iter()
            .rev()
            .find(|a| a.from.is_none_or(|f| f <= end) && a.to.is_none_or(|t| start <= t))
            .map(|a| a.plan)
    }

    /// Everyone below `p`, depth first, in a stable order.
    pub fn all_reports(&self, p: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut stack: Vec<u32> = self.direct_reports[p as usize]
            .iter()
            .rev()
            .copied()
            .collect();
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
    /// Every id, as written.
    pub(crate) ids: RawText,
    pub date: Vec<Date>,
    /// In the currency's minor unit.
    pub amount: Vec<i64>,
    pub fields: Vec<Column>,
    pub text: Interner,
    /// The line of each row in its file, to point back at it.
    pub(crate) lines: Lines,
}

impl Transactions {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn id(&self, i: usize) -> &str {
        self.ids.get(i)
    }

    /// The line of row `i` in its file.
    pub fn line(&self, i: usize) -> u32 {
        self.lines.get(i)
    }

    /// Appends every row of `other`, re-interning its text; false (and
    /// nothing certain appended) when the text would pass 4 GB.
    pub(crate) fn append(&mut self, other: &Transactions) -> bool {
        if !self.ids.append(&other.ids) {
            return false;
        }
        self.date.extend_from_slice(&other.date);
        self.amount.extend_from_slice(&other.amount);
        self.lines.append(&other.lines);
        let remap = self.text.absorb(&other.text);
        // Blocks start from the same seed, so ids often keep their number.
        let same_ids = remap.iter().enumerate().all(|(i, &r)| r as usize == i);
        let mut fits = true;
        for (dst, src) in self.fields.iter_mut().zip(&other.fields) {
            match (dst, src) {
                (Column::Raw(d), Column::Raw(s)) => fits &= d.append(s),
                (Column::Text(d), Column::Text(s)) if same_ids => d.extend_from_slice(s),
                (Column::Text(d), Column::Text(s)) => {
                    d.extend(
                        s.iter()
                            .map(|&v| if v == NONE { NONE } else { remap[v as usize] }),
                    )
                }
                (Column::Participant(d), Column::Participant(s)) => d.extend_from_slice(s),
                (Column::Money(d), Column::Money(s)) | (Column::Integer(d), Column::Integer(s)) => {
                    d.extend_from_slice(s)
                }
                (Column::Decimal(d), Column::Decimal(s)) => d.extend_from_slice(s),
                (Column::Date(d), Column::Date(s)) => d.extend_from_slice(s),
                _ => {}
            }
        }
        fits
    }

    /// Appends rows `rows` (ascending) of `other`, as [`Transactions::append`].
    pub(crate) fn append_rows(&mut self, other: &Transactions, rows: &[u32]) -> bool {
        let rows = || rows.iter().map(|&r| r as usize);
        let fits = |t: &RawText, s: &RawText| {
            (t.text.len() as u64).saturating_add(s.text.len() as u64) <= u64::from(u32::MAX)
        };
        if !fits(&self.ids, &other.ids) {
            return false;
        }
        for r in rows() {
            self.ids.push(other.ids.get(r));
            self.lines.push(other.lines.get(r));
        }
        self.date.extend(rows().map(|r| other.date[r]));
        self.amount.extend(rows().map(|r| other.amount[r]));
        let remap = self.text.absorb(&other.text);
        let mut all_fit = true;
        for (dst, src) in self.fields.iter_mut().zip(&other.fields) {
            match (dst, src) {
                (Column::Raw(d), Column::Raw(s)) => {
                    if fits(d, s) {
                        rows().for_each(|r| d.push(s.get(r)));
                    } else {
                        all_fit = false;
                    }
                }
                (Column::Text(d), Column::Text(s)) => d.extend(rows().map(|r| match s[r] {
                    NONE => NONE,
                    v => remap[v as usize],
                })),
                (Column::Participant(d), Column::Participant(s)) => d.extend(rows().map(|r| s[r])),
                (Column::Money(d), Column::Money(s)) | (Column::Integer(d), Column::Integer(s)) => {
                    d.extend(rows().map(|r| s[r]))
                }
                (Column::Decimal(d), Column::Decimal(s)) => d.extend(rows().map(|r| s[r])),
                (Column::Date(d), Column::Date(s)) => d.extend(rows().map(|r| s[r])),
                _ => {}
            }
        }
        all_fit
    }
}

/// Line numbers of rows, kept as the places where a row is not on the line
/// after the previous one (blank lines, quoted line ends, the first row):
/// one number a row would be 4 bytes a row to write and keep for what
/// usually is `row + 2`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lines {
    /// (row, its line), rows ascending.
    jumps: Vec<(u32, u32)>,
    len: usize,
    last: u32,
}

impl Lines {
    pub(crate) fn push(&mut self, line: u32) {
        if self.len == 0 || self.last.checked_add(1) != Some(line) {
            self.jumps.push((self.len as u32, line));
        }
        self.last = line;
        self.len += 1;
    }

    /// Moves every line `by` further down the file.
    pub(crate) fn shift(&mut self, by: u32) {
        for (_, line) in &mut self.jumps {
            *line = line.saturating_add(by);
        }
        self.last = self.last.saturating_add(by);
    }

    /// Keeps the first `rows` lines.
    pub(crate) fn truncate(&mut self, rows: usize) {
        if rows >= self.len {
            return;
        }
        let keep = self
            .jumps
            .partition_point(|&(row, _)| (row as usize) < rows);
        self.jumps.truncate(keep);
        self.len = rows;
        self.last = rows.checked_sub(1).map_or(0, |r| self.get(r));
    }

    /// Appends the lines of `other`'s rows.
    pub(crate) fn append(&mut self, other: &Lines) {
        let base = self.len as u32;
        for &(row, line) in &other.jumps {
            let continues = row == 0 && self.len > 0 && self.last.checked_add(1) == Some(line);
            if !continues {
                self.jumps.push((base + row, line));
            }
        }
        if other.len > 0 {
            self.last = other.last;
            self.len += other.len;
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, i: usize) -> u32 {
        let k = self.jumps.partition_point(|&(row, _)| row as usize <= i);
        match k.checked_sub(1).and_then(|k| self.jumps.get(k)) {
            Some(&(row, line)) => line.saturating_add((i - row as usize) as u32),
            None => 0,
        }
    }
}

pub(crate) struct RowErrors {
    file: String,
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) more: usize,
}

impl RowErrors {
    pub(crate) fn new(file: &str) -> RowErrors {
        RowErrors {
            file: file.to_string(),
            errors: Vec::new(),
            more: 0,
        }
    }

    pub(crate) fn push(&mut self, line: u64, column: usize, message: String, hint: Option<String>) {
        if self.errors.len() >= MAX_ROW_ERRORS {
            self.more += 1;
            return;
        }
        let d = Diagnostic::error(
            Location::line_column(&self.file, line as usize, column),
            message,
        );
        self.errors.push(match hint {
            Some(h) => d.with_hint(h),
            None => d,
        });
    }

    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        if self.more > 0 {
            self.errors.push(Diagnostic::note(
                Location::file(&self.file),
                format!("and {} more problems in this file", self.more),
            ));
        }
        self.errors
    }
}

/// Positions of the schema's columns in a file's header.
pub(crate) fn bind_columns(
    file: &str,
    header: &csv::StringRecord,
    wanted: &[(&str, bool)],
) -> Result<Vec<Option<usize>>, Vec<Diagnostic>> {
    let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    if names.iter().all(String::is_empty) {
        let expected: Vec<&str> = wanted
            .iter()
            .filter(|(_, required)| *required)
            .map(|(c, _)| *c)
            .collect();
        return Err(vec![Diagnostic::error(
            Location::file(file),
            "the file is empty",
        )
        .with_hint(format!(
            "the first line must name the columns: {}",
            expected.join(",")
        ))]);
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (col, required) in wanted {
        let mut found = names
            .iter()
            .enumerate()
            .filter(|(_, n)| !col.is_empty() && n.as_str() == *col)
            .map(|(i, _)| i + 1);
        if let (Some(first), Some(second)) = (found.next(), found.next()) {
            errors.push(
                Diagnostic::error(
                    Location::line_column(file, 1, second),
                    format!("column `{col}` appears twice: columns {first} and {second}"),
                )
                .with_hint(format!("keep one column named `{col}`")),
            );
            out.push(None);
            continue;
        }
        match names.iter().position(|n| n == col) {
            Some(i) => out.push(Some(i)),
            None if !required => out.push(None),
            None => {
                let hint = match expr::closest(col, &names) {
                    Some(n) => format!("did you mean `{n}`? the file has: {}", names.join(", ")),
                    None => format!("the file has: {}", names.join(", ")),
                };
                errors.push(
                    Diagnostic::error(
                        Location::line_column(file, 1, 0),
                        format!("column `{col}` is missing"),
                    )
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

pub(crate) fn csv_error(file: &str, e: &csv::Error) -> Diagnostic {
    let line = e.position().map_or(0, |p| p.line() as usize);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("this row has {len} fields, but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "this row is not valid UTF-8 text".to_string(),
        _ => format!("cannot read the file: {e}"),
    };
    Diagnostic::error(Location::line_column(file, line, 0), message)
}

/// Calls `row` with each record and its line (`line_offset` added, for a
/// reader started in the middle of a file) until the end, or until a record
/// cannot be read: that problem is returned.
pub(crate) fn each_record<R: Read>(
    file: &str,
    rdr: &mut csv::Reader<R>,
    line_offset: u64,
    mut row: impl FnMut(u64, &csv::StringRecord),
) -> Option<Diagnostic> {
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => return None,
            Ok(true) => row(
                line_offset + record.position().map_or(1, |p| p.line()),
                &record,
            ),
            Err(e) => {
                let mut d = csv_error(file, &e);
                d.location.line += line_offset as usize;
                return Some(d);
            }
        }
    }
}

/// Parses a date written `2026-03-31`.
pub fn parse_date(text: &str) -> Option<Date> {
    parse_date_bytes(text.as_bytes())
}

/// [`parse_date`] of bytes.
pub(crate) fn parse_date_bytes(b: &[u8]) -> Option<Date> {
    let (y, m, d) = parse_ymd(b)?;
    Date::new(y, m, d).ok()
}

/// The year, month and day of a date written `2026-03-31`, when they make
/// a date (every one [`Date::new`] accepts): what a row read in one pass
/// needs, its date made only if it is stored.
pub(crate) fn parse_ymd(b: &[u8]) -> Option<(i16, i8, i8)> {
    let b: &[u8; 10] = b.try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    // Digits read by hand: this runs once per transaction.
    let digit = |i: usize| -> Option<i32> {
        let d = b[i].wrapping_sub(b'0');
        (d < 10).then_some(i32::from(d))
    };
    let year = digit(0)? * 1000 + digit(1)? * 100 + digit(2)? * 10 + digit(3)?;
    let month = digit(5)? * 10 + digit(6)?;
    let day = digit(8)? * 10 + digit(9)?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days)
        .contains(&day)
        .then_some((year as i16, month as i8, day as i8))
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

pub(crate) struct FieldReader<'a> {
    pub(crate) field: &'a Field,
    pub(crate) column_index: usize,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn read_field(
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
    let col_no = f.column_index.saturating_add(1);
    let empty = raw.is_empty();
    if empty && !field.optional {
        errors.push(
            line,
            col_no,
            format!("`{}` is empty", field.column),
            Some(format!("every row needs a {} here", field.ty.name())),
        );
    }
    // Text with a list of allowed values, interned or raw alike.
    if let (false, Some(allowed)) = (empty, &field.values) {
        if !allowed.iter().any(|a| a == raw) {
            let hint = match expr::closest(raw, allowed) {
                Some(n) => format!("did you mean `{n}`? expected one of {}", allowed.join(", ")),
                None => format!("expected one of {}", allowed.join(", ")),
            };
            errors.push(
                line,
                col_no,
                format!(
                    "`{}` is `{raw}`, which is not an allowed value",
                    field.column
                ),
                Some(hint),
            );
        }
    }
    let mut bad = |expected: &str, why: Option<String>| {
        let message = match why {
            Some(w) => format!(
                "`{}` is `{raw}`, which is not {expected}: {w}",
                field.column
            ),
            None => format!("`{}` is `{raw}`, which is not {expected}", field.column),
        };
        errors.push(line, col_no, message, None);
    };
    let below_min = |v: Decimal| field.min.is_some_and(|m| v < m);
    match column {
        Column::Text(values) => {
            values.push(if empty { NONE } else { text.intern(raw) });
        }
        Column::Raw(values) => {
            values.push(raw);
        }
        Column::Participant(values) => {
            let idx = if empty {
                NONE
            } else {
                match people.and_then(|p| p.index.get(raw)) {
                    Some(&i) => i,
                    None => {
                        bad(
                            "a known participant",
                            Some("no row of the participants file has this id".into()),
                        );
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
                            bad(
                                "allowed",
                                Some(format!(
                                    "the schema requires at least {}",
                                    field.min.unwrap_or_default()
                                )),
                            );
                        }
                        v
                    }
                    Err(why) => {
                        bad(
                            "an amount",
                            Some(format!("{why}; {}", amount_expected(minor_unit))),
                        );
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
                            bad(
                                "allowed",
                                Some(format!(
                                    "the schema requires at least {}",
                                    field.min.unwrap_or_default()
                                )),
                            );
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
                            bad(
                                "allowed",
                                Some(format!(
                                    "the schema requires at least {}",
                                    field.min.unwrap_or_default()
                                )),
                            );
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
                    bad(
                        "a date",
                        Some("expected YYYY-MM-DD, like 2026-03-31".into()),
                    );
                }
                d
            };
            values.push(v);
        }
    }
}

/// Reads the participants file.
pub fn load_participants<R: Read>(
    ws: &Workspace,
    file: &str,
    reader: R,
) -> Result<Participants, Vec<Diagnostic>> {
    let schema = &ws.participants;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let header = rdr
        .headers()
        .map_err(|e| vec![csv_error(file, &e)])?
        .clone();
    let mut wanted: Vec<(&str, bool)> = vec![(schema.id_column.as_str(), true)];
    let specials = [
        &schema.manager_column,
        &schema.plan_column,
        &schema.start_column,
        &schema.end_column,
    ];
    for s in specials {
        wanted.push((s.as_deref().unwrap_or(""), s.is_some()));
    }
    for f in &schema.fields {
        wanted.push((f.column.as_str(), !f.optional));
    }
    let cols = bind_columns(file, &header, &wanted)?;
    let mut errors = RowErrors::new(file);
    let mut p = Participants {
        fields: schema.fields.iter().map(|f| Column::new(f.ty)).collect(),
        ..Participants::default()
    };
    let mut manager_ids: Vec<(u64, String)> = Vec::new();
    let read_error = each_record(file, &mut rdr, 0, |line, record| {
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let id = get(cols[0]);
        if id.is_empty() {
            errors.push(
                line,
                cols[0].unwrap_or(0) + 1,
                format!("`{}` is empty", schema.id_column),
                Some("every participant needs an id".into()),
            );
        } else if p.index.contains_key(id) {
            errors.push(
                line,
                cols[0].unwrap_or(0) + 1,
                format!("participant `{id}` appears twice"),
                Some("each participant id must be unique".into()),
            );
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
                    errors.push(
                        line,
                        cols[2].unwrap_or(0) + 1,
                        format!("plan `{plan_text}` is not defined in the workspace"),
                        Some(hint),
                    );
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
                    let name = if k == 3 {
                        &schema.start_column
                    } else {
                        &schema.end_column
                    };
                    errors.push(
                        line,
                        cols[k].unwrap_or(0) + 1,
                        format!(
                            "`{}` is `{raw}`, which is not a date",
                            name.as_deref().unwrap_or("")
                        ),
                        Some("expected YYYY-MM-DD, like 2026-03-31".into()),
                    );
                }
                target.push(d);
            }
        }
        if let (Some(Some(from)), Some(Some(to))) = (p.start.last(), p.end.last()) {
            if to < from {
                let (start_name, end_name) = (
                    schema.start_column.as_deref().unwrap_or(""),
                    schema.end_column.as_deref().unwrap_or(""),
                );
                errors.push(
                    line,
                    cols[4].unwrap_or(0) + 1,
                    format!(
                        "`{end_name}` is {to}, before `{start_name}` {from}: the last active day cannot come before the first"
                    ),
                    Some(format!("expected `{end_name}` on or after {from}, or empty")),
                );
            }
        }
        for (i, f) in schema.fields.iter().enumerate() {
            let ci = cols[5 + i];
            let reader = FieldReader {
                field: f,
                column_index: ci.unwrap_or(0),
            };
            read_field(
                &reader,
                get(ci),
                line,
                &mut p.fields[i],
                &mut p.text,
                None,
                ws.minor_unit,
                &mut errors,
            );
        }
    });
    errors.errors.extend(read_error);
    // Managers, once every id is known.
    p.direct_reports = vec![Vec::new(); p.ids.len()];
    for (i, (line, m)) in manager_ids.iter().enumerate() {
        if m.is_empty() {
            p.manager.push(None);
            continue;
        }
        match p.index.get(m) {
            Some(&mi) if mi as usize == i => {
                errors.push(
                    *line,
                    cols[1].unwrap_or(0) + 1,
                    format!("participant `{m}` is their own manager"),
                    None,
                );
                p.manager.push(None);
            }
            Some(&mi) => {
                p.manager.push(Some(mi));
                p.direct_reports[mi as usize].push(i as u32);
            }
            None => {
                errors.push(
                    *line,
                    cols[1].unwrap_or(0) + 1,
                    format!("manager `{m}` is not a participant"),
                    Some("every manager must have a row of their own".into()),
                );
                p.manager.push(None);
            }
        }
    }
    // A manager chain that loops would make roll-ups endless.
    for (i, (line, _)) in manager_ids.iter().enumerate() {
        let mut seen = 0usize;
        let mut cur = p.manager[i];
        while let Some(m) = cur {
            seen += 1;
            if m as usize == i || seen > p.len() {
                errors.push(
                    *line,
                    cols[1].unwrap_or(0) + 1,
                    format!(
                        "participant `{}` is their own manager through the chain of managers",
                        p.ids[i]
                    ),
                    Some("the management hierarchy must be a tree".into()),
                );
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

/// What an amount of a currency with `minor_unit` decimals looks like.
fn amount_expected(minor_unit: u32) -> String {
    if minor_unit == 0 {
        return "expected whole units, digits only, like 1234".to_string();
    }
    let example = crate::money::written_amount(Decimal::new(123_450, 2), minor_unit);
    format!("expected digits with an optional `.` and up to {minor_unit} decimals, like {example}")
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_amount_has_the_currency_s_decimals() {
        assert_eq!(
            amount_expected(0),
            "expected whole units, digits only, like 1234"
        );
        assert_eq!(
            amount_expected(2),
            "expected digits with an optional `.` and up to 2 decimals, like 1234.50"
        );
        assert_eq!(
            amount_expected(3),
            "expected digits with an optional `.` and up to 3 decimals, like 1234.500"
        );
    }

    #[test]
    fn lines_kept_as_jumps() {
        let given = [2u32, 3, 4, 6, 7, 10, 11, 11, u32::MAX, 12];
        let mut lines = Lines::default();
        for &l in &given {
            lines.push(l);
        }
        for (i, &l) in given.iter().enumerate() {
            assert_eq!(lines.get(i), l, "row {i}");
        }
        assert_eq!(lines.jumps.len(), 6);
        // Appended in two pieces, cut anywhere, and truncated: the same.
        for cut in 0..=given.len() {
            let (a, b) = given.split_at(cut);
            let (mut x, mut y) = (Lines::default(), Lines::default());
            a.iter().for_each(|&l| x.push(l));
            b.iter().for_each(|&l| y.push(l));
            x.append(&y);
            assert_eq!(x.len(), given.len());
            for (i, &l) in given.iter().enumerate() {
                assert_eq!(x.get(i), l, "cut {cut}, row {i}");
            }
            assert_eq!(x.jumps.len(), 6, "cut {cut}");
            x.truncate(cut);
            x.push(99);
            assert_eq!(x.len(), cut + 1);
            assert_eq!(x.get(cut), 99, "cut {cut}");
            for (i, &l) in given[..cut].iter().enumerate() {
                assert_eq!(x.get(i), l, "cut {cut}, row {i}");
            }
        }
    }

    #[test]
    fn raw_text_of_one_width_or_many() {
        let values = ["ab", "cd", "ef", "g", "", "hij", "kl"];
        for cut in 0..values.len() {
            // Pushed one by one, or in two parts appended.
            let mut whole = RawText::default();
            let (mut a, mut b) = (RawText::default(), RawText::default());
            for (i, v) in values.iter().enumerate() {
                whole.push(v);
                if i < cut {
                    a.push(v)
                } else {
                    b.push(v)
                }
            }
            assert!(a.append(&b));
            for t in [&whole, &a] {
                assert_eq!(t.len(), values.len());
                for (i, v) in values.iter().enumerate() {
                    assert_eq!(t.get(i), *v, "cut {cut} row {i}");
                }
            }
            let mut short = a.clone();
            short.truncate(cut);
            assert_eq!(short.len(), cut);
            short.push("zz");
            assert_eq!(short.get(cut), "zz");
            for (i, v) in values.iter().enumerate().take(cut) {
                assert_eq!(short.get(i), *v);
            }
        }
    }

    #[test]
    fn minor_units_are_exact() {
        assert_eq!(parse_minor_units("1234.5", 2), Ok(123450));
        assert_eq!(parse_minor_units("0.07", 2), Ok(7));
        assert_eq!(parse_minor_units("-3", 2), Ok(-300));
        assert_eq!(parse_minor_units("1.230", 2), Ok(123));
        assert_eq!(
            parse_minor_units("1.234", 2),
            Err("it has more than 2 decimals".into())
        );
        assert!(parse_minor_units("1,234", 2).is_err());
    }

    #[test]
    fn dates_parse_as_jiff_makes_them() {
        for year in [0, 4, 100, 1900, 1999, 2000, 2024, 2026, 2100, 2400, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    let text = format!("{year:04}-{month:02}-{day:02}");
                    let expected = Date::new(year as i16, month as i8, day as i8).ok();
                    assert_eq!(parse_date(&text), expected, "{text}");
                    let ymd = parse_ymd(text.as_bytes());
                    assert_eq!(ymd.is_some(), expected.is_some(), "{text}");
                    if let (Some(d), Some((y, m, dd))) = (expected, ymd) {
                        assert_eq!((d.year(), d.month(), d.day()), (y, m, dd));
                    }
                }
            }
        }
        assert_eq!(parse_ymd(b"2026-1-011"), None);
        assert_eq!(parse_ymd(b"2026-01-1x"), None);
    }

    /// DESIGN.md ("Data: participants and transactions"): a period is paid
    /// whole on the plan in force on its last day, else on the last one
    /// that ends inside it; assignments replace the plan column.
    #[test]
    fn a_period_is_paid_on_the_plan_of_its_last_day() {
        let day = |s: &str| parse_date(s);
        let assign = |plan, from: &str, to: &str| Assignment {
            plan,
            from: day(from),
            to: day(to),
            line: 2,
        };
        let people = Participants {
            plan: vec![Some(9), Some(9), Some(9)],
            assignments: vec![
                // Moved from plan 0 to plan 1 on 16 May.
                vec![assign(0, "", "2026-05-15"), assign(1, "2026-05-16", "")],
                // On plan 0 until 15 May, nothing after; plan 2 from July.
                vec![assign(0, "", "2026-05-15"), assign(2, "2026-07-01", "")],
                Vec::new(),
            ],
            ..Participants::default()
        };
        let quarter = |q: i8| {
            let (Some(start), Some(end)) = (
                day(&format!("2026-{:02}-01", q * 3 - 2)),
                day(&format!(
                    "2026-{:02}-{}",
                    q * 3,
                    [31, 30, 30, 31][q as usize - 1]
                )),
            ) else {
                panic!("quarter {q}");
            };
            (start, end)
        };
        let plans = |p: u32| -> Vec<Option<usize>> {
            (1..=4)
                .map(|q| {
                    let (start, end) = quarter(q);
                    people.plan_at(p, start, end)
                })
                .collect()
        };
        assert_eq!(plans(0), [Some(0), Some(1), Some(1), Some(1)]);
        assert_eq!(plans(1), [Some(0), Some(0), Some(2), Some(2)]);
        assert_eq!(plans(2), [Some(9); 4]);
    }

    #[test]
    fn dates_are_iso() {
        assert_eq!(
            parse_date("2026-02-28").map(|d| d.to_string()),
            Some("2026-02-28".into())
        );
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("26-02-28"), None);
        assert_eq!(parse_date("2026/02/28"), None);
    }
}
