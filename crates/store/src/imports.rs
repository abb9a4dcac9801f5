//! Imports that lose nothing: every row is checked (by the same readers as
//! `attain calc`) before anything is written, and an import is one
//! transaction. Re-importing a file changes no data; a changed row becomes
//! a new revision and the old one is kept.

use crate::driver::{self, Driver, Row, Value};
use crate::records::{self, Records};
use crate::snapshot::{self, BEGINNING, LATEST};
use crate::{audit, digest, Context, Error, Store};
use attain_core::data;
use attain_core::plan::Workspace;
use rayon::prelude::*;
use std::collections::HashMap;

pub use crate::records::Format as ImportFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Participants,
    Transactions,
    Quotas,
    Assignments,
    Draws,
    Caps,
}

impl ImportKind {
    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Participants => "participants",
            ImportKind::Transactions => "transactions",
            ImportKind::Quotas => "quotas",
            ImportKind::Assignments => "assignments",
            ImportKind::Draws => "draws",
            ImportKind::Caps => "caps",
        }
    }

    pub fn parse(text: &str) -> Option<ImportKind> {
        Some(match text {
            "participants" => ImportKind::Participants,
            "transactions" | "deals" => ImportKind::Transactions,
            "quotas" => ImportKind::Quotas,
            "assignments" => ImportKind::Assignments,
            "draws" => ImportKind::Draws,
            "caps" => ImportKind::Caps,
            _ => return None,
        })
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub id: i64,
    pub kind: ImportKind,
    pub source: String,
    pub rows: u64,
    pub added: u64,
    pub revised: u64,
    pub unchanged: u64,
}

impl Store {
    /// Imports one file. `effective` (participants only) is the first day
    /// the imported versions apply; without it they apply from the
    /// beginning.
    pub fn import(
        &mut self,
        kind: ImportKind,
        source: &str,
        bytes: Vec<u8>,
        format: ImportFormat,
        effective: Option<&str>,
    ) -> Result<ImportReport, Error> {
        let progress = self.progress.clone();
        self.write(|db, cx| {
            let ws = snapshot::workspace_at(db, LATEST)?.ws;
            let file_digest = digest(&bytes);
            progress(&format!("checking {source}"));
            let id = begin_import(db, cx, kind, source, effective, &file_digest)?;
            let (rows, added, revised) = match kind {
                ImportKind::Participants => {
                    participants(db, &ws, id, source, bytes, format, effective)?
                }
                ImportKind::Transactions => {
                    transactions(db, &ws, id, source, bytes, format, &*progress)?
                }
                ImportKind::Quotas => quotas(db, &ws, id, source, bytes, format)?,
                ImportKind::Assignments => assignments(db, &ws, id, source, bytes, format)?,
                ImportKind::Draws => pay_terms(db, &ws, id, source, bytes, format, &DRAWS)?,
                ImportKind::Caps => pay_terms(db, &ws, id, source, bytes, format, &CAPS)?,
            };
            let report = ImportReport {
                id,
                kind,
                source: source.to_string(),
                rows,
                added,
                revised,
                unchanged: rows - added - revised,
            };
            db.execute(
                "UPDATE imports SET row_count = $1, added = $2, revised = $3, unchanged = $4 WHERE id = $5",
                &[
                    Value::Int(report.rows as i64),
                    Value::Int(report.added as i64),
                    Value::Int(report.revised as i64),
                    Value::Int(report.unchanged as i64),
                    Value::Int(id),
                ],
            )?;
            audit(
                db,
                cx,
                "import",
                kind.name(),
                &format!(
                    "import {id} from `{source}`: {} rows, {} added, {} revised, {} unchanged",
                    report.rows, report.added, report.revised, report.unchanged
                ),
            )?;
            Ok(report)
        })
    }

    /// Cancels transactions: each gets a new revision marked cancelled
    /// (its values kept), so runs leave it out and a closed period it
    /// belonged to gets an adjustment.
    pub fn cancel_transactions(&mut self, ids: &[String], reason: &str) -> Result<u64, Error> {
        self.write(|db, cx| {
            let id = begin_import(db, cx, ImportKind::Transactions, "cancel", None, "")?;
            let mut missing = Vec::new();
            for deal in ids {
                let current = db.query_one(
                    "SELECT revision, deal_date, layout, record, digest, cancelled FROM transactions \
                     WHERE deal_id = $1 AND is_current = 1",
                    &[deal.as_str().into()],
                )?;
                let Some(row) = current else {
                    missing.push(deal.clone());
                    continue;
                };
                if driver::int(&row, 5) == 1 {
                    continue;
                }
                add_revision(
                    db,
                    &Revision {
                        deal,
                        previous: Some(driver::int(&row, 0)),
                        date: row[1].clone(),
                        layout: row[2].clone(),
                        record: row[3].clone(),
                        digest: row[4].clone(),
                        cancelled: true,
                        import: id,
                        reason: Some(reason),
                    },
                )?;
            }
            if !missing.is_empty() {
                return Err(Error::new(format!(
                    "no transaction {} in the store",
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .with_hint("nothing was cancelled; check the ids"));
            }
            let n = ids.len() as u64;
            db.execute(
                "UPDATE imports SET row_count = $1, revised = $1 WHERE id = $2",
                &[Value::Int(n as i64), Value::Int(id)],
            )?;
            audit(
                db,
                cx,
                "cancel",
                "transactions",
                &format!("{}: {reason}", ids.join(", ")),
            )?;
            Ok(n)
        })
    }

    /// Every import, oldest first.
    pub fn imports(&mut self) -> Result<Vec<ImportReport>, Error> {
        self.read(|db| {
            Ok(db
                .query(
                    "SELECT id, kind, source, row_count, added, revised, unchanged FROM imports ORDER BY id",
                    &[],
                )?
                .iter()
                .map(|r| ImportReport {
                    id: driver::int(r, 0),
                    kind: ImportKind::parse(&driver::text(r, 1)).unwrap_or(ImportKind::Transactions),
                    source: driver::text(r, 2),
                    rows: driver::int(r, 3) as u64,
                    added: driver::int(r, 4) as u64,
                    revised: driver::int(r, 5) as u64,
                    unchanged: driver::int(r, 6) as u64,
                })
                .collect())
        })
    }
}

/// One new revision of one deal.
pub(crate) struct Revision<'a> {
    pub deal: &'a str,
    /// The deal's current revision, superseded by this one.
    pub previous: Option<i64>,
    pub date: Value,
    pub layout: Value,
    pub record: Value,
    pub digest: Value,
    pub cancelled: bool,
    pub import: i64,
    pub reason: Option<&'a str>,
}

/// Stores `r` as its deal's current revision, keeping the one it replaces;
/// returns its number.
pub(crate) fn add_revision(db: &mut dyn Driver, r: &Revision<'_>) -> Result<i64, Error> {
    if r.previous.is_some() {
        db.execute(
            "UPDATE transactions SET is_current = 0 WHERE deal_id = $1 AND is_current = 1",
            &[r.deal.into()],
        )?;
    }
    let revision = r.previous.map_or(1, |p| p + 1);
    db.execute(
        "INSERT INTO transactions (deal_id, revision, deal_date, layout, record, digest, \
         cancelled, is_current, import_id, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)",
        &[
            r.deal.into(),
            Value::Int(revision),
            r.date.clone(),
            r.layout.clone(),
            r.record.clone(),
            r.digest.clone(),
            Value::Int(i64::from(r.cancelled)),
            Value::Int(r.import),
            r.reason.into(),
        ],
    )?;
    Ok(revision)
}

/// Records an import (its counts filled in when it is done) and returns
/// its id.
pub(crate) fn begin_import(
    db: &mut dyn Driver,
    cx: &Context,
    kind: ImportKind,
    source: &str,
    effective: Option<&str>,
    file_digest: &str,
) -> Result<i64, Error> {
    let row = db.query_one(
        "INSERT INTO imports (kind, source, recorded_at, actor, effective, row_count, added, revised, unchanged, digest) \
         VALUES ($1, $2, $3, $4, $5, 0, 0, 0, 0, $6) RETURNING id",
        &[
            kind.name().into(),
            source.into(),
            cx.now.as_str().into(),
            cx.actor.as_str().into(),
            effective.into(),
            file_digest.into(),
        ],
    )?;
    Ok(row.map_or(0, |r| driver::int(&r, 0)))
}

pub(crate) fn layout_id(db: &mut dyn Driver, header: &str) -> Result<i64, Error> {
    if let Some(r) = db.query_one("SELECT id FROM layouts WHERE header = $1", &[header.into()])? {
        return Ok(driver::int(&r, 0));
    }
    let r = db.query_one(
        "INSERT INTO layouts (header) VALUES ($1) RETURNING id",
        &[header.into()],
    )?;
    Ok(r.map_or(0, |r| driver::int(&r, 0)))
}

fn read_records(
    source: &str,
    bytes: Vec<u8>,
    format: ImportFormat,
    columns: &[String],
    key: &str,
    date: Option<&str>,
) -> Result<Records, Error> {
    match format {
        ImportFormat::Csv => records::from_csv(source, bytes, key, date),
        ImportFormat::JsonLines => records::from_json_lines(source, &bytes, columns, key, date),
    }
}

/// The digest deciding whether `record` (under `header`) differs from a
/// stored revision: see [`Canonical`].
pub(crate) fn canonical_digest(header: &str, columns: &[String], record: &str) -> String {
    Canonical::new(header, columns).digest(record, &mut String::new())
}

/// The values of a record that the schema reads, in schema order: what
/// decides whether a row changed. Columns the schema ignores, and their
/// order, do not.
struct Canonical {
    positions: Vec<Option<usize>>,
}

impl Canonical {
    fn new(header: &str, columns: &[String]) -> Canonical {
        let names = records::parse_line(header);
        Canonical {
            positions: columns
                .iter()
                .map(|c| names.iter().position(|n| n == c))
                .collect(),
        }
    }

    fn digest(&self, record: &str, scratch: &mut String) -> String {
        format!("{:032x}", self.digest128(record, scratch))
    }

    fn digest128(&self, record: &str, scratch: &mut String) -> u128 {
        scratch.clear();
        if record.contains('"') {
            let fields = records::parse_line(record);
            for p in &self.positions {
                if let Some(v) = p.and_then(|p| fields.get(p)) {
                    scratch.push_str(v);
                }
                scratch.push('\u{1f}');
            }
        } else {
            // Unquoted: cut at commas without allocating a list of fields.
            let mut cut: [(usize, usize); 64] = [(0, 0); 64];
            let mut n = 0;
            let mut start = 0;
            for i in memchr::memchr_iter(b',', record.as_bytes()).chain([record.len()]) {
                if n < cut.len() {
                    cut[n] = (start, i);
                    n += 1;
                }
                start = i + 1;
            }
            for p in &self.positions {
                if let Some(&(a, b)) = p.filter(|p| *p < n).map(|p| &cut[p]) {
                    scratch.push_str(record[a..b].trim());
                }
                scratch.push('\u{1f}');
            }
        }
        xxhash_rust::xxh3::xxh3_128(scratch.as_bytes())
    }
}

fn participants(
    db: &mut dyn Driver,
    ws: &Workspace,
    import: i64,
    source: &str,
    bytes: Vec<u8>,
    format: ImportFormat,
    effective: Option<&str>,
) -> Result<(u64, u64, u64), Error> {
    let columns = snapshot::participant_columns(ws);
    let records = read_records(
        source,
        bytes,
        format,
        &columns,
        &ws.participants.id_column,
        None,
    )?;
    data::load_participants(ws, source, &records.csv[..]).map_err(|d| Error(records.locate(d)))?;
    let effective = effective.unwrap_or(BEGINNING);
    let layout = layout_id(db, &records.header)?;
    let canonical = Canonical::new(&records.header, &columns);
    // What is in force on the effective date, to compare with.
    let current = db.query(snapshot::PARTICIPANTS_IN_FORCE, &[effective.into()])?;
    let known: std::collections::HashSet<String> = db
        .query(
            "SELECT DISTINCT participant_id FROM participant_versions",
            &[],
        )?
        .iter()
        .map(|r| driver::text(r, 0))
        .collect();
    let mut scratch = String::new();
    let mut in_force: HashMap<String, String> = HashMap::new();
    for r in &current {
        let c = Canonical::new(&driver::text(r, 1), &columns);
        in_force.insert(
            driver::text(r, 0),
            c.digest(&driver::text(r, 2), &mut scratch),
        );
    }
    let (mut added, mut revised) = (0, 0);
    let mut new_rows: Vec<Row> = Vec::new();
    for row in &records.rows {
        let key = records.key(row);
        let d = canonical.digest(records.text(row), &mut scratch);
        match in_force.get(key) {
            Some(old) if *old == d => continue,
            Some(_) => revised += 1,
            None if known.contains(key) => revised += 1,
            None => added += 1,
        }
        new_rows.push(vec![
            key.into(),
            effective.into(),
            Value::Int(layout),
            records.text(row).into(),
            Value::Int(import),
        ]);
    }
    db.append(
        "participant_versions",
        &[
            "participant_id",
            "effective",
            "layout",
            "record",
            "import_id",
        ],
        &mut new_rows.into_iter(),
    )?;
    Ok((records.rows.len() as u64, added, revised))
}

fn transactions(
    db: &mut dyn Driver,
    ws: &Workspace,
    import: i64,
    source: &str,
    bytes: Vec<u8>,
    format: ImportFormat,
    progress: &dyn Fn(&str),
) -> Result<(u64, u64, u64), Error> {
    let columns = snapshot::transaction_columns(ws);
    let schema = &ws.transactions;
    let records = read_records(
        source,
        bytes,
        format,
        &columns,
        &schema.id_column,
        Some(&schema.date_column),
    )?;
    // Every participant that ever had a version may be credited.
    let (people, _) = snapshot::participants_at(db, ws, LATEST)?;
    data::load_transactions(ws, &people, source, &records.csv[..])
        .map_err(|d| Error(records.locate(d)))?;
    let rows_text = attain_core::report::count(records.rows.len(), "row", "rows");
    progress(&format!("comparing {rows_text} with the store"));
    let layout = layout_id(db, &records.header)?;
    let canonical = Canonical::new(&records.header, &columns);

    // The current revision of every stored transaction: its content digest
    // and number, keyed by a 128-bit digest of the id (no collision in
    // practice, and a tenth of the memory of the ids themselves).
    let mut current: HashMap<u128, (u128, i64)> = HashMap::new();
    db.scan(
        "SELECT deal_id, digest, revision FROM transactions WHERE is_current = 1",
        &[],
        &mut |row| {
            let key = xxhash_rust::xxh3::xxh3_128(row[0].text().as_bytes());
            let d = u128::from_str_radix(row[1].text(), 16).unwrap_or(0);
            current.insert(key, (d, row[2].int()));
            Ok(())
        },
    )?;
    // Digests on every core: the one step of an import that grows with
    // the width of the rows.
    let digests: Vec<u128> = records
        .rows
        .par_iter()
        .map_init(String::new, |scratch, row| {
            canonical.digest128(records.text(row), scratch)
        })
        .collect();
    let (mut added, mut revised) = (0u64, 0u64);
    let mut superseded: Vec<String> = Vec::new();
    let mut new_rows: Vec<(usize, i64)> = Vec::new();
    for (i, row) in records.rows.iter().enumerate() {
        let key = records.key(row);
        let revision = match current.get(&xxhash_rust::xxh3::xxh3_128(key.as_bytes())) {
            Some((old, _)) if *old == digests[i] => continue,
            Some((_, rev)) => {
                revised += 1;
                superseded.push(key.to_string());
                rev + 1
            }
            None => {
                added += 1;
                1
            }
        };
        new_rows.push((i, revision));
    }
    progress(&format!(
        "writing {} new and {} revised rows",
        attain_core::money::group_thousands(&added.to_string()),
        attain_core::money::group_thousands(&revised.to_string())
    ));
    for deal in &superseded {
        db.execute(
            "UPDATE transactions SET is_current = 0 WHERE deal_id = $1 AND is_current = 1",
            &[deal.as_str().into()],
        )?;
    }
    let mut rows = new_rows.into_iter().map(|(i, revision)| {
        let row = &records.rows[i];
        let d = format!("{:032x}", digests[i]);
        vec![
            Value::Text(records.key(row).to_string()),
            Value::Int(revision),
            Value::Text(records.date(row).to_string()),
            Value::Int(layout),
            Value::Text(records.text(row).to_string()),
            Value::Text(d),
            Value::Int(0),
            Value::Int(1),
            Value::Int(import),
        ]
    });
    db.append(
        "transactions",
        &[
            "deal_id",
            "revision",
            "deal_date",
            "layout",
            "record",
            "digest",
            "cancelled",
            "is_current",
            "import_id",
        ],
        &mut rows,
    )?;
    Ok((records.rows.len() as u64, added, revised))
}

const QUOTA_COLUMNS: [&str; 4] = ["participant_id", "quota", "period", "amount"];
const ASSIGNMENT_COLUMNS: [&str; 4] = ["participant_id", "plan", "start", "end"];

/// A small fixed-column file (quotas, assignments), checked by the core
/// reader, as rows of its four columns.
fn fixed_rows(
    source: &str,
    bytes: Vec<u8>,
    format: ImportFormat,
    columns: [&str; 4],
    check: impl FnOnce(&[u8]) -> Result<(), Vec<attain_core::diag::Diagnostic>>,
) -> Result<Vec<Vec<String>>, Error> {
    let names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let records = read_records(source, bytes, format, &names, columns[0], None)?;
    check(&records.csv).map_err(|d| Error(records.locate(d)))?;
    let header = records::parse_line(&records.header);
    let at: Vec<Option<usize>> = columns
        .iter()
        .map(|c| header.iter().position(|h| h == c))
        .collect();
    Ok(records
        .rows
        .iter()
        .map(|row| {
            let fields = records::parse_line(records.text(row));
            at.iter()
                .map(|c| c.and_then(|c| fields.get(c)).cloned().unwrap_or_default())
                .collect()
        })
        .collect())
}

fn quotas(
    db: &mut dyn Driver,
    ws: &Workspace,
    import: i64,
    source: &str,
    bytes: Vec<u8>,
    format: ImportFormat,
) -> Result<(u64, u64, u64), Error> {
    let (people, _) = snapshot::participants_at(db, ws, LATEST)?;
    let rows = fixed_rows(source, bytes, format, QUOTA_COLUMNS, |csv| {
        data::load_quotas(ws, &people, source, csv).map(|_| ())
    })?;
    let latest: HashMap<(String, String, String), String> = db
        .query(snapshot::LATEST_QUOTAS, &[])?
        .iter()
        .map(|r| {
            (
                (driver::text(r, 0), driver::text(r, 1), driver::text(r, 2)),
                driver::text(r, 3),
            )
        })
        .collect();
    let (mut added, mut revised) = (0, 0);
    let mut new_rows = Vec::new();
    for f in &rows {
        let key = (f[0].clone(), f[1].clone(), f[2].clone());
        match latest.get(&key) {
            Some(old) if same_amount(old, &f[3]) => continue,
            Some(_) => revised += 1,
            None => added += 1,
        }
        new_rows.push(vec![
            f[0].as_str().into(),
            f[1].as_str().into(),
            f[2].as_str().into(),
            f[3].as_str().into(),
            Value::Int(import),
        ]);
    }
    db.append(
        "quota_values",
        &["participant_id", "quota", "period", "amount", "import_id"],
        &mut new_rows.into_iter(),
    )?;
    Ok((rows.len() as u64, added, revised))
}

/// `300000` and `300_000.00` are the same quota.
fn same_amount(a: &str, b: &str) -> bool {
    let parse = |s: &str| attain_core::money::parse_amount(s.trim()).ok();
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

fn assignments(
    db: &mut dyn Driver,
    ws: &Workspace,
    import: i64,
    source: &str,
    bytes: Vec<u8>,
    format: ImportFormat,
) -> Result<(u64, u64, u64), Error> {
    let (mut people, _) = snapshot::participants_at(db, ws, LATEST)?;
    let rows = fixed_rows(source, bytes, format, ASSIGNMENT_COLUMNS, |csv| {
        data::load_assignments(ws, &mut people, source, csv)
    })?;
    // An import replaces the assignments of each participant it names.
    let mut by_person: std::collections::BTreeMap<&str, Vec<&Vec<String>>> = Default::default();
    for f in &rows {
        by_person.entry(f[0].as_str()).or_default().push(f);
    }
    let stored = db.query(snapshot::LATEST_ASSIGNMENTS, &[])?;
    let mut old: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    for r in &stored {
        old.entry(driver::text(r, 0)).or_default().push(
            (1..4)
                .map(|i| driver::opt_text(r, i).unwrap_or_default())
                .collect(),
        );
    }
    let (mut added, mut revised) = (0, 0);
    let mut new_rows = Vec::new();
    for (person, list) in by_person {
        let mut mine: Vec<Vec<String>> = list.iter().map(|f| f[1..4].to_vec()).collect();
        mine.sort();
        match old.get_mut(person) {
            Some(before) => {
                before.sort();
                if *before == mine {
                    continue;
                }
                revised += list.len() as u64;
            }
            None => added += list.len() as u64,
        }
        for f in list {
            let opt = |s: &str| {
                if s.is_empty() {
                    Value::Null
                } else {
                    s.into()
                }
            };
            new_rows.push(vec![
                f[0].as_str().into(),
                f[1].as_str().into(),
                opt(&f[2]),
                opt(&f[3]),
                Value::Int(import),
            ]);
        }
    }
    db.append(
        "assignments",
        &[
            "participant_id",
            "plan",
            "start_date",
            "end_date",
            "import_id",
        ],
        &mut new_rows.into_iter(),
    )?;
    Ok((rows.len() as u64, added, revised))
}

/// Per-participant terms of pay the ledger applies each pay period: draws
/// (a floor) and payment caps (a ceiling). Both files read
/// `participant_id,amount,start,end,FLAG`: `amount` per pay period from
/// `start` to `end` (pay periods like `2026-M01`; `end` may be empty), and
/// a yes/no flag. An amount finer than the currency's minor unit is
/// refused. An import replaces the terms of each participant it names.
struct Terms {
    table: &'static str,
    columns: [&'static str; 5],
    flag_hint: &'static str,
}

const DRAWS: Terms = Terms {
    table: "draws",
    columns: ["participant_id", "amount", "start", "end", "recoverable"],
    flag_hint: "a recoverable draw is earned back from later earnings: yes or no",
};

const CAPS: Terms = Terms {
    table: "payment_caps",
    columns: ["participant_id", "amount", "start", "end", "carry"],
    flag_hint: "carry: the excess over the cap is paid in later periods (yes) or forfeited (no)",
};

fn pay_terms(
    db: &mut dyn Driver,
    ws: &Workspace,
    import: i64,
    source: &str,
    bytes: Vec<u8>,
    format: ImportFormat,
    terms: &Terms,
) -> Result<(u64, u64, u64), Error> {
    use attain_core::diag::{Diagnostic, Location};
    let (people, _) = snapshot::participants_at(db, ws, LATEST)?;
    let money = ws.money();
    let columns = terms.columns;
    let names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let records = read_records(source, bytes, format, &names, columns[0], None)?;
    let header = records::parse_line(&records.header);
    let mut errors = Vec::new();
    let mut at = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        match header.iter().position(|h| h == c) {
            Some(p) => at.push(Some(p)),
            None if i == 3 => at.push(None),
            None => errors.push(
                Diagnostic::error(
                    Location::line_column(source, 1, 0),
                    format!("no column `{c}` in the header"),
                )
                .with_hint(format!("the columns are {}", columns.join(","))),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(Error(errors));
    }
    let mut rows: Vec<(String, Vec<Value>)> = Vec::new();
    for row in &records.rows {
        let fields = records::parse_line(records.text(row));
        let get = |i: usize| at[i].and_then(|c| fields.get(c)).map_or("", String::as_str);
        let mut bad = |i: usize, message: String, hint: &str| {
            let column = at[i].map_or(0, |c| c + 1);
            errors.push(
                Diagnostic::error(
                    Location::line_column(source, row.line as usize, column),
                    message,
                )
                .with_hint(hint),
            );
        };
        let who = get(0);
        if !people.index.contains_key(who) {
            bad(
                0,
                format!("`participant_id` is `{who}`, which is not a participant"),
                "import the participant first",
            );
        }
        let example = money.written(rust_decimal::Decimal::new(1500, 0));
        let amount = match attain_core::money::parse_amount(get(1)) {
            Ok(a) if a >= rust_decimal::Decimal::ZERO => {
                if money.is_finer_than_unit(a) {
                    bad(
                        1,
                        format!(
                            "`amount` is `{}`, which has more decimals than {} has",
                            get(1),
                            money.code
                        ),
                        &format!("{}: write e.g. {example}", money.decimals_rule()),
                    );
                }
                a
            }
            _ => {
                bad(
                    1,
                    format!(
                        "`amount` is `{}`, which is not an amount of zero or more",
                        get(1)
                    ),
                    &format!("write e.g. {example}"),
                );
                rust_decimal::Decimal::ZERO
            }
        };
        let month = |text: &str| {
            attain_core::calendar::Period::parse(text)
                .is_some_and(|p| p.kind == crate::periods::PAY_PERIOD)
        };
        if !month(get(2)) {
            bad(
                2,
                format!("`start` is `{}`, which is not a pay period", get(2)),
                "write a fiscal month, like 2026-M01",
            );
        }
        if !get(3).is_empty() && !month(get(3)) {
            bad(
                3,
                format!("`end` is `{}`, which is not a pay period", get(3)),
                "write a fiscal month, like 2026-M06, or leave it empty",
            );
        }
        let flag = match get(4).to_ascii_lowercase().as_str() {
            "yes" | "true" => 1,
            "no" | "false" => 0,
            other => {
                bad(
                    4,
                    format!("`{}` is `{other}`, which is neither yes nor no", columns[4]),
                    terms.flag_hint,
                );
                0
            }
        };
        rows.push((
            who.to_string(),
            vec![
                who.into(),
                amount.to_string().into(),
                get(2).into(),
                if get(3).is_empty() {
                    Value::Null
                } else {
                    get(3).into()
                },
                Value::Int(flag),
                Value::Int(import),
            ],
        ));
    }
    if !errors.is_empty() {
        return Err(Error(errors));
    }
    let known: std::collections::HashSet<String> = db
        .query(
            &format!("SELECT DISTINCT participant_id FROM {}", terms.table),
            &[],
        )?
        .iter()
        .map(|r| driver::text(r, 0))
        .collect();
    let revised = rows.iter().filter(|(w, _)| known.contains(w)).count() as u64;
    // New terms change what approved periods pay: they need approving again.
    db.execute(
        "UPDATE periods SET status = 'calculated', approved_run = NULL WHERE status = 'approved'",
        &[],
    )?;
    let n = rows.len() as u64;
    let flag_column = if terms.table == "draws" {
        "recoverable"
    } else {
        "carry"
    };
    db.append(
        terms.table,
        &[
            "participant_id",
            "amount",
            "start_period",
            "end_period",
            flag_column,
            "import_id",
        ],
        &mut rows.into_iter().map(|(_, r)| r),
    )?;
    Ok((n, n - revised, revised))
}
