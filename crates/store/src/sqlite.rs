//! The embedded backend: one SQLite file, created on first use.

use crate::driver::{Driver, Row, Value, ValueRef};
use crate::Error;
use rusqlite::types::{ToSqlOutput, ValueRef as SqlRef};
use rusqlite::{Connection, OpenFlags};
use std::time::Duration;

/// The trigger that keeps the audit log append-only, for the migrations.
const APPEND_ONLY_AUDIT_LOG: &str = "\
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END";

pub struct Sqlite {
    conn: Connection,
}

fn db_error(e: rusqlite::Error) -> Error {
    Error::database("sqlite", e.to_string())
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(SqlRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(SqlRef::Integer(*i)),
            Value::Text(t) => ToSqlOutput::Borrowed(SqlRef::Text(t.as_bytes())),
        })
    }
}

impl Sqlite {
    /// Opens (creating if needed) the store file at `path`.
    pub fn open(path: &str) -> Result<Sqlite, Error> {
        let conn = Connection::open_with_flags(
            path,
            // One connection, one thread: SQLite's own mutexes would only
            // cost time on every page read.
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::database("sqlite", format!("cannot open `{path}`: {e}")))?;
        // WAL: readers never block the writer, and a killed process leaves
        // the last committed state. NORMAL sync is durable against a
        // process kill (only an OS crash may lose the last commit).
        conn.busy_timeout(Duration::from_secs(60))
            .map_err(db_error)?;
        // Large pages and a memory-mapped file: a run reads every stored
        // transaction, and copying pages through read() calls doubled its
        // time (page size only takes effect when the file is new).
        conn.execute_batch(
            "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA foreign_keys = ON; PRAGMA mmap_size = 17179869184; PRAGMA cache_size = -262144;",
        )
        .map_err(db_error)?;
        Ok(Sqlite { conn })
    }
}

fn value_ref(v: SqlRef<'_>) -> ValueRef<'_> {
    match v {
        SqlRef::Null => ValueRef::Null,
        SqlRef::Integer(i) => ValueRef::Int(i),
        SqlRef::Text(t) => ValueRef::Text(std::str::from_utf8(t).unwrap_or("")),
        // Neither appears in attain's schema; read as text for messages.
        SqlRef::Real(_) | SqlRef::Blob(_) => ValueRef::Null,
    }
}

impl Driver for Sqlite {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn begin(&mut self, exclusive: bool) -> Result<(), Error> {
        let sql = if exclusive {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN"
        };
        self.conn.execute_batch(sql).map_err(db_error)
    }

    fn commit(&mut self) -> Result<(), Error> {
        self.conn.execute_batch("COMMIT").map_err(db_error)
    }

    fn rollback(&mut self) -> Result<(), Error> {
        self.conn.execute_batch("ROLLBACK").map_err(db_error)
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        if params.is_empty() && sql.contains(';') {
            self.conn.execute_batch(sql).map_err(db_error)?;
            return Ok(0);
        }
        let mut stmt = self.conn.prepare_cached(sql).map_err(db_error)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(db_error)?;
        Ok(n as u64)
    }

    fn scan(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db_error)?;
        let width = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(db_error)?;
        // Rows of up to 16 columns are handed over from the stack: a scan
        // of millions of rows allocates nothing per row.
        while let Some(row) = rows.next().map_err(db_error)? {
            if width <= 16 {
                let mut values = [ValueRef::Null; 16];
                for (i, v) in values.iter_mut().enumerate().take(width) {
                    *v = value_ref(row.get_ref(i).map_err(db_error)?);
                }
                each(&values[..width])?;
            } else {
                let mut values: Vec<ValueRef<'_>> = Vec::with_capacity(width);
                for i in 0..width {
                    values.push(value_ref(row.get_ref(i).map_err(db_error)?));
                }
                each(&values)?;
            }
        }
        Ok(())
    }

    fn append(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Row>,
    ) -> Result<u64, Error> {
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            marks.join(", ")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db_error)?;
        let mut n = 0;
        for row in rows {
            stmt.execute(rusqlite::params_from_iter(row.iter()))
                .map_err(db_error)?;
            n += 1;
        }
        Ok(n)
    }

    fn ddl(&self, portable: &str) -> String {
        portable
            .replace("{id}", "INTEGER PRIMARY KEY")
            .replace("{append_only audit_log}", APPEND_ONLY_AUDIT_LOG)
    }

    fn has_table(&mut self, table: &str) -> Result<bool, Error> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(db_error)?;
        Ok(n > 0)
    }

    fn backup(&mut self, path: &str) -> Result<(), Error> {
        // VACUUM INTO reads one consistent snapshot, whatever writers do
        // meanwhile, and writes a compact copy.
        self.conn
            .execute("VACUUM INTO ?1", [path])
            .map_err(db_error)?;
        Ok(())
    }
}
