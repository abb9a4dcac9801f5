//! The server backend: PostgreSQL, chosen by a `postgres://` URL.

use crate::driver::{Driver, Row, Value, ValueRef};
use crate::Error;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, NoTls};
use std::io::Write;

/// Every writer takes this transaction-scoped advisory lock first, so
/// writers run one at a time, as SQLite's do.
const WRITER_LOCK: i64 = 0x0a77_a1e5;

/// The trigger that keeps the audit log append-only, for the migrations.
const APPEND_ONLY_AUDIT_LOG: &str = "\
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()";

pub struct Postgres {
    client: Client,
}

fn db_error(e: postgres::Error) -> Error {
    let message = match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    };
    Error::database("postgres", message)
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(t) => t.as_str().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty) || <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl Postgres {
    /// Connects to `url`; with `schema`, works inside that schema (created
    /// if needed), so that tests can each have their own.
    pub fn connect(url: &str, schema: Option<&str>) -> Result<Postgres, Error> {
        let mut client = Client::connect(url, NoTls)
            .map_err(|e| Error::database("postgres", format!("cannot connect to `{url}`: {e}")))?;
        client
            .batch_execute("SET client_min_messages = warning")
            .map_err(db_error)?;
        if let Some(schema) = schema {
            let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
            client
                .batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS {quoted}; SET search_path TO {quoted}"
                ))
                .map_err(db_error)?;
        }
        Ok(Postgres { client })
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// COPY's text format: backslash escapes, `\N` for null.
fn copy_field(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"\\N"),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Text(t) => {
            for b in t.bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
        }
    }
}

impl Driver for Postgres {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn begin(&mut self, exclusive: bool) -> Result<(), Error> {
        if exclusive {
            self.client
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock({WRITER_LOCK})"
                ))
                .map_err(db_error)
        } else {
            self.client
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                .map_err(db_error)
        }
    }

    fn commit(&mut self) -> Result<(), Error> {
        self.client.batch_execute("COMMIT").map_err(db_error)
    }

    fn rollback(&mut self) -> Result<(), Error> {
        self.client.batch_execute("ROLLBACK").map_err(db_error)
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, Error> {
        if values.is_empty() && sql.contains(';') {
            self.client.batch_execute(sql).map_err(db_error)?;
            return Ok(0);
        }
        self.client.execute(sql, &params(values)).map_err(db_error)
    }

    fn scan(
        &mut self,
        sql: &str,
        values: &[Value],
        each: &mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut rows = self
            .client
            .query_raw(sql, params(values))
            .map_err(db_error)?;
        while let Some(row) = rows.next().map_err(db_error)? {
            let mut values: Vec<ValueRef<'_>> = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let int = |n: Option<i64>| n.map_or(ValueRef::Null, ValueRef::Int);
                let v = if *ty == Type::INT8 {
                    int(row.try_get::<_, Option<i64>>(i).map_err(db_error)?)
                } else if *ty == Type::INT4 {
                    int(row
                        .try_get::<_, Option<i32>>(i)
                        .map_err(db_error)?
                        .map(i64::from))
                } else if *ty == Type::BOOL {
                    int(row
                        .try_get::<_, Option<bool>>(i)
                        .map_err(db_error)?
                        .map(i64::from))
                } else {
                    row.try_get::<_, Option<&str>>(i)
                        .map_err(db_error)?
                        .map_or(ValueRef::Null, ValueRef::Text)
                };
                values.push(v);
            }
            each(&values)?;
        }
        Ok(())
    }

    fn append(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Row>,
    ) -> Result<u64, Error> {
        let sql = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let mut writer = self.client.copy_in(&sql).map_err(db_error)?;
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        let io = |e: std::io::Error| Error::database("postgres", e.to_string());
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    buf.push(b'\t');
                }
                copy_field(&mut buf, v);
            }
            buf.push(b'\n');
            if buf.len() >= 1 << 16 {
                writer.write_all(&buf).map_err(io)?;
                buf.clear();
            }
        }
        writer.write_all(&buf).map_err(io)?;
        writer.finish().map_err(db_error)
    }

    fn ddl(&self, portable: &str) -> String {
        portable
            .replace(
                "{id}",
                "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            )
            .replace("{append_only audit_log}", APPEND_ONLY_AUDIT_LOG)
    }

    fn has_table(&mut self, table: &str) -> Result<bool, Error> {
        let row = self
            .client
            .query_one(
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1",
                &[&table],
            )
            .map_err(db_error)?;
        Ok(row.get::<_, i64>(0) > 0)
    }

    fn backup(&mut self, _path: &str) -> Result<(), Error> {
        Err(Error::new(
            "`attain backup` copies SQLite stores; back up PostgreSQL with its own tools",
        )
        .with_hint("pg_dump --format=custom DATABASE > attain.dump"))
    }
}
