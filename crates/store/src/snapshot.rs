//! The store's contents as the engine reads them, as of a date: the
//! workspace files in force, the participants' versions in force, quota
//! overrides, assignments and the current revision of every transaction.
//! Each is rebuilt as the CSV text `attain calc` would read and read by the
//! same readers, so a run from the store and a run from files agree.

use crate::driver::{self, Driver};
use crate::records::CsvBuilder;
use crate::Error;
use attain_core::data::{self, Participants, Transactions};
use attain_core::diag::SourceFile;
use attain_core::engine::measures::QuotaOverrides;
use attain_core::plan::{check_workspace, Workspace};

/// Far enough in the future that every version is in force.
pub const LATEST: &str = "9999-12-31";
/// Before any date: a version effective from the beginning.
pub const BEGINNING: &str = "0001-01-01";

/// The workspace files in force on `date`, checked.
pub struct WorkspaceAt {
    pub ws: Workspace,
    /// `plan_versions.id` of every file used, in path order.
    pub versions: Vec<i64>,
    pub files: Vec<SourceFile>,
}

/// `year`, or the workspace's `calendar.year` when not given.
pub fn fiscal_year(ws: &Workspace, year: Option<i16>) -> Result<i16, Error> {
    year.or(ws.default_year).ok_or_else(|| {
        Error::new("no fiscal year to calculate")
            .with_hint("pass `--year 2026`, or set `year` in [calendar]")
    })
}

/// The text of each workspace file in force on `date`: per path, the
/// latest version effective on or before it (a removed file has no text).
pub fn files_at(db: &mut dyn Driver, date: &str) -> Result<Vec<(i64, String, String)>, Error> {
    let rows = db.query(
        "SELECT id, path, body FROM plan_versions v WHERE effective <= $1 \
         AND NOT EXISTS (SELECT 1 FROM plan_versions w WHERE w.path = v.path \
           AND w.effective <= $1 AND (w.effective > v.effective \
             OR (w.effective = v.effective AND w.version > v.version))) \
         ORDER BY path",
        &[date.into()],
    )?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            driver::opt_text(r, 2).map(|body| (driver::int(r, 0), driver::text(r, 1), body))
        })
        .collect())
}

pub fn workspace_at(db: &mut dyn Driver, date: &str) -> Result<WorkspaceAt, Error> {
    workspace_with(db, date, &[])
}

/// [`workspace_at`] with `replacing` (path, text) files laid over the
/// stored ones: a file of the same path replaces the stored version, a new
/// path is added. Modeling checks candidate plans beside the plans in force
/// this way without storing them.
pub fn workspace_with(
    db: &mut dyn Driver,
    date: &str,
    replacing: &[(String, String)],
) -> Result<WorkspaceAt, Error> {
    let mut files: Vec<(i64, String, String)> = files_at(db, date)?
        .into_iter()
        .filter(|(_, path, _)| !replacing.iter().any(|(p, _)| p == path))
        .collect();
    // A file not stored has no version: 0 marks it in `versions`.
    files.extend(replacing.iter().map(|(p, t)| (0, p.clone(), t.clone())));
    files.sort_by(|a, b| a.1.cmp(&b.1));
    let Some(ws_file) = files.iter().find(|f| f.1 == "attain.toml") else {
        return Err(Error::new("the store holds no plans yet").with_hint(
            "run `attain plan apply` in the workspace folder to store its attain.toml and plans",
        ));
    };
    let ws_src = SourceFile::new(ws_file.1.clone(), ws_file.2.clone());
    let plans: Vec<SourceFile> = files
        .iter()
        .filter(|f| f.1 != "attain.toml")
        .map(|f| SourceFile::new(f.1.clone(), f.2.clone()))
        .collect();
    let checked = check_workspace(&ws_src, &plans);
    let Some(ws) = checked.workspace else {
        return Err(Error(checked.diagnostics));
    };
    let mut all = vec![ws_src];
    all.extend(plans);
    Ok(WorkspaceAt {
        ws,
        versions: files.iter().map(|f| f.0).filter(|v| *v != 0).collect(),
        files: all,
    })
}

/// The participant versions in force on `$1` (a date): per participant,
/// the version with the latest effective date on or before it, the latest
/// import breaking ties. Columns: id, layout header, record, layout id.
pub const PARTICIPANTS_IN_FORCE: &str =
    "SELECT v.participant_id, l.header, v.record, v.layout \
     FROM participant_versions v JOIN layouts l ON l.id = v.layout \
     WHERE v.effective <= $1 AND NOT EXISTS (SELECT 1 FROM participant_versions w \
       WHERE w.participant_id = v.participant_id AND w.effective <= $1 \
       AND (w.effective > v.effective OR (w.effective = v.effective AND w.import_id > v.import_id))) \
     ORDER BY v.participant_id";

/// The participants in force on `date`, as one CSV under the newest
/// layout (the latest import's columns).
pub fn participants_csv(db: &mut dyn Driver, date: &str) -> Result<Vec<u8>, Error> {
    let rows = db.query(PARTICIPANTS_IN_FORCE, &[date.into()])?;
    let header = rows
        .iter()
        .max_by_key(|r| driver::int(r, 3))
        .map(|r| driver::text(r, 1))
        .unwrap_or_default();
    let mut b = CsvBuilder::new(&header, 0);
    for r in &rows {
        b.push(&driver::text(r, 1), &driver::text(r, 2));
    }
    Ok(b.out)
}

pub fn participants_at(
    db: &mut dyn Driver,
    ws: &Workspace,
    date: &str,
) -> Result<(Participants, Vec<u8>), Error> {
    let csv = participants_csv(db, date)?;
    if csv.len() <= 1 {
        return Err(Error::new("the store holds no participants yet")
            .with_hint("run `attain import participants FILE`"));
    }
    let people = data::load_participants(ws, "participants in the store", &csv[..])?;
    Ok((people, csv))
}

/// The quota values in force: per participant, quota and period, the
/// amount of the latest import.
pub const LATEST_QUOTAS: &str =
    "SELECT participant_id, quota, period, amount FROM quota_values q WHERE NOT EXISTS \
     (SELECT 1 FROM quota_values r WHERE r.participant_id = q.participant_id \
      AND r.quota = q.quota AND r.period = q.period AND r.import_id > q.import_id) \
     ORDER BY participant_id, quota, period";

/// The assignments in force: per participant, the rows of their latest
/// assignments import.
pub const LATEST_ASSIGNMENTS: &str =
    "SELECT participant_id, plan, start_date, end_date FROM assignments a WHERE NOT EXISTS \
     (SELECT 1 FROM assignments b WHERE b.participant_id = a.participant_id \
      AND b.import_id > a.import_id) \
     ORDER BY participant_id, start_date, plan";

/// Quota overrides as the CSV `attain calc --quotas` reads.
pub fn quotas_csv(db: &mut dyn Driver) -> Result<Vec<u8>, Error> {
    query_csv(
        db,
        LATEST_QUOTAS,
        ["participant_id", "quota", "period", "amount"],
    )
}

/// Assignments as the CSV `attain calc --assignments` reads.
pub fn assignments_csv(db: &mut dyn Driver) -> Result<Vec<u8>, Error> {
    query_csv(
        db,
        LATEST_ASSIGNMENTS,
        ["participant_id", "plan", "start", "end"],
    )
}

/// A four-column query's rows as CSV under `header`.
fn query_csv(db: &mut dyn Driver, sql: &str, header: [&str; 4]) -> Result<Vec<u8>, Error> {
    let rows = db.query(sql, &[])?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let io = |e: csv::Error| Error::new(e.to_string());
    w.write_record(header).map_err(io)?;
    for r in &rows {
        w.write_record((0..4).map(|i| driver::text(r, i)))
            .map_err(io)?;
    }
    w.into_inner().map_err(|e| Error::new(e.to_string()))
}

pub fn overrides(
    db: &mut dyn Driver,
    ws: &Workspace,
    people: &mut Participants,
) -> Result<(QuotaOverrides, Vec<u8>, Vec<u8>), Error> {
    let assignments = assignments_csv(db)?;
    if assignments.iter().filter(|b| **b == b'\n').count() > 1 {
        data::load_assignments(ws, people, "assignments in the store", &assignments[..])?;
    }
    let quotas = quotas_csv(db)?;
    let overrides = data::load_quotas(ws, people, "quotas in the store", &quotas[..])?;
    Ok((overrides, quotas, assignments))
}

/// The current revision of every transaction not cancelled, as CSV, in the
/// order they were first stored.
pub fn transactions_csv(db: &mut dyn Driver) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    stream_transactions(db, usize::MAX, &mut |chunk| {
        if out.is_empty() {
            out = chunk;
        } else {
            out.extend_from_slice(&chunk);
        }
        Ok(())
    })?;
    Ok(out)
}

/// The same text as [`transactions_csv`], handed to `sink` in chunks of
/// about `chunk` bytes as the store is scanned, so that a reader can parse
/// while the scan goes on. Nothing is sent when the store holds no
/// transaction.
pub fn stream_transactions(
    db: &mut dyn Driver,
    chunk: usize,
    sink: &mut dyn FnMut(Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    let layouts = db.query("SELECT id, header FROM layouts ORDER BY id", &[])?;
    let newest = db
        .query_one(
            "SELECT layout FROM transactions ORDER BY seq DESC LIMIT 1",
            &[],
        )?
        .map(|r| driver::int(&r, 0));
    let Some(newest) = newest else {
        return Ok(());
    };
    let header_of = |id: i64| {
        layouts
            .iter()
            .find(|l| driver::int(l, 0) == id)
            .map(|l| driver::text(l, 1))
            .unwrap_or_default()
    };
    let header = header_of(newest);
    let capacity = if chunk == usize::MAX {
        // Room for every row up front (from the length of the latest
        // thousand and the number stored), so the buffer is not copied as
        // it grows; reserved pages that stay unused cost nothing.
        let sample = db.query_one(
            "SELECT sum(length(record)), count(*) FROM (SELECT record FROM transactions ORDER BY seq DESC LIMIT 1000) s",
            &[],
        )?;
        let rows = db
            .query_one("SELECT max(seq) FROM transactions", &[])?
            .map_or(0, |r| driver::int(&r, 0).max(0) as usize);
        sample.map_or(0, |r| {
            let (bytes, n) = (
                driver::int(&r, 0).max(0) as usize,
                driver::int(&r, 1).max(1) as usize,
            );
            rows.saturating_mul(bytes / n + 2)
        })
    } else {
        chunk + (chunk >> 4)
    };
    let mut b = CsvBuilder::new(&header, capacity);
    let mut layout_text: Vec<(i64, String)> = Vec::new();
    db.scan(
        "SELECT layout, record FROM transactions WHERE is_current = 1 AND cancelled = 0 ORDER BY seq",
        &[],
        &mut |row| {
            let layout = row[0].int();
            if layout == newest {
                b.push(&header, row[1].text());
            } else {
                let text = match layout_text.iter().find(|(id, _)| *id == layout) {
                    Some((_, t)) => t.clone(),
                    None => {
                        let t = header_of(layout);
                        layout_text.push((layout, t.clone()));
                        t
                    }
                };
                b.push(&text, row[1].text());
            }
            if b.out.len() >= chunk {
                let full = std::mem::replace(&mut b.out, Vec::with_capacity(capacity));
                sink(full)?;
            }
            Ok(())
        },
    )?;
    if !b.out.is_empty() {
        sink(std::mem::take(&mut b.out))?;
    }
    Ok(())
}

/// Reads the chunks a scan sends, in order, as one stream.
pub struct ChunkReader {
    chunks: std::sync::mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
}

impl ChunkReader {
    pub fn new(chunks: std::sync::mpsc::Receiver<Vec<u8>>) -> ChunkReader {
        ChunkReader {
            chunks,
            current: Vec::new(),
            at: 0,
        }
    }
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.current.len() {
            match self.chunks.recv() {
                Ok(next) => {
                    self.current = next;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Parses transactions from a scan running on this thread while the
/// engine's reader parses on others: the two overlap. `digest` sees every
/// byte, in order.
pub fn transactions_streamed(
    db: &mut dyn Driver,
    ws: &Workspace,
    people: &Participants,
    digest: &mut xxhash_rust::xxh3::Xxh3,
) -> Result<Transactions, Error> {
    const CHUNK: usize = 4 << 20;
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let parser = scope.spawn(move || {
            data::load_transactions(
                ws,
                people,
                "transactions in the store",
                ChunkReader::new(receive),
            )
        });
        let mut any = false;
        let scanned = stream_transactions(db, CHUNK, &mut |chunk| {
            any = true;
            digest.update(&chunk);
            // A parser that stopped (bad data) drops its end: stop scanning
            // and report its error below.
            send.send(chunk)
                .map_err(|_| Error::new("the transactions reader stopped"))
        });
        drop(send);
        let parsed = parser
            .join()
            .map_err(|_| Error::new("the transactions reader failed"))?;
        if !any && scanned.is_ok() {
            // No transaction at all: the reader saw no header either.
            return transactions(ws, people, &[]);
        }
        match (parsed, scanned) {
            (Err(d), _) => Err(Error(d)),
            (Ok(_), Err(e)) => Err(e),
            (Ok(t), Ok(())) => Ok(t),
        }
    })
}

pub fn transactions(
    ws: &Workspace,
    people: &Participants,
    csv: &[u8],
) -> Result<Transactions, Error> {
    if csv.is_empty() {
        return Ok(data::load_transactions(
            ws,
            people,
            "transactions in the store",
            header_only(ws).as_bytes(),
        )?);
    }
    Ok(data::load_transactions(
        ws,
        people,
        "transactions in the store",
        csv,
    )?)
}

/// A header naming every column the schema reads: an empty transactions
/// file that the reader accepts.
pub fn header_only(ws: &Workspace) -> String {
    let mut names = vec![
        ws.transactions.id_column.clone(),
        ws.transactions.date_column.clone(),
        ws.transactions.amount.column.clone(),
    ];
    names.extend(ws.transactions.fields.iter().map(|f| f.column.clone()));
    names.join(",") + "\n"
}

/// Every column a participants file may have under the workspace schema,
/// in the order JSON lines are written as CSV.
pub fn participant_columns(ws: &Workspace) -> Vec<String> {
    let s = &ws.participants;
    let mut names = vec![s.id_column.clone()];
    for c in [
        &s.manager_column,
        &s.plan_column,
        &s.start_column,
        &s.end_column,
    ]
    .into_iter()
    .flatten()
    {
        names.push(c.clone());
    }
    names.extend(s.fields.iter().map(|f| f.column.clone()));
    names
}

pub fn transaction_columns(ws: &Workspace) -> Vec<String> {
    header_only(ws)
        .trim_end()
        .split(',')
        .map(str::to_string)
        .collect()
}
