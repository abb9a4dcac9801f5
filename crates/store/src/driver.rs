//! The seam between the store and a database: the few things SQLite and
//! PostgreSQL must each do their own way. Everything else (the schema's
//! meaning, every query) is shared, so the two backends cannot drift apart.
//!
//! Queries are written once in the subset both databases accept: `$1`, `$2`
//! placeholders numbered in the order they appear, `TEXT` and 64-bit
//! integers only (amounts are exact decimal text, dates ISO text), and
//! `RETURNING`.

use crate::Error;

/// A parameter or a column value. Only the types both backends hold alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Value {
        v.map_or(Value::Null, |s| Value::Text(s.to_string()))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Value {
        v.map_or(Value::Null, Value::Text)
    }
}

/// A value borrowed from a row being scanned: nothing is copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

impl<'a> ValueRef<'a> {
    pub fn text(self) -> &'a str {
        match self {
            ValueRef::Text(t) => t,
            _ => "",
        }
    }

    pub fn int(self) -> i64 {
        match self {
            ValueRef::Int(i) => i,
            _ => 0,
        }
    }

    pub fn opt_text(self) -> Option<&'a str> {
        match self {
            ValueRef::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Text(t) => Value::Text(t.to_string()),
        }
    }
}

/// A row owned by the caller.
pub type Row = Vec<Value>;

pub fn text(row: &Row, i: usize) -> String {
    match row.get(i) {
        Some(Value::Text(t)) => t.clone(),
        Some(Value::Int(n)) => n.to_string(),
        _ => String::new(),
    }
}

pub fn opt_text(row: &Row, i: usize) -> Option<String> {
    match row.get(i) {
        Some(Value::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

pub fn int(row: &Row, i: usize) -> i64 {
    match row.get(i) {
        Some(Value::Int(n)) => *n,
        _ => 0,
    }
}

pub fn opt_int(row: &Row, i: usize) -> Option<i64> {
    match row.get(i) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    }
}

/// What a backend provides.
pub trait Driver: Send {
    /// `sqlite` or `postgres`, for messages.
    fn backend(&self) -> &'static str;

    /// Starts a transaction. An exclusive one waits for, and then shuts
    /// out, every other writer: two imports at once run one after the other.
    fn begin(&mut self, exclusive: bool) -> Result<(), Error>;
    fn commit(&mut self) -> Result<(), Error>;
    fn rollback(&mut self) -> Result<(), Error>;

    /// Runs a statement (or, with no parameters, several separated by `;`).
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error>;

    /// Runs a query and hands each row to `each` without copying it.
    fn scan(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), Error>,
    ) -> Result<(), Error>;

    /// Appends many rows to `table`: the fastest way each backend has
    /// (a prepared statement in SQLite, `COPY` in PostgreSQL).
    fn append(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Row>,
    ) -> Result<u64, Error>;

    /// A migration's text in this backend's dialect: `{id}` (an
    /// auto-assigned 64-bit key) and `{append_only audit_log}` (a trigger
    /// refusing `UPDATE` and `DELETE`) written out.
    fn ddl(&self, portable: &str) -> String;

    /// Whether `table` exists (the migration runner's first question).
    fn has_table(&mut self, table: &str) -> Result<bool, Error>;

    /// A consistent copy of the whole store at `path` while it is in use.
    fn backup(&mut self, path: &str) -> Result<(), Error>;
}

impl dyn Driver + '_ {
    /// Every row of a query, owned.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, Error> {
        let mut out = Vec::new();
        self.scan(sql, params, &mut |row| {
            out.push(row.iter().map(|v| v.to_value()).collect());
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, if any.
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, Error> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
}
