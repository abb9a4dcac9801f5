//! Schema migrations: numbered SQL scripts, one text for both backends
//! (each driver writes out the few placeholders its dialect spells its own
//! way, [`Driver::ddl`]), applied in order, each recorded in
//! `schema_migrations`.
//!
//! Hand-written rather than `refinery`: one runner over [`Driver`] serves
//! both backends through the same code path, where refinery would need one
//! per database crate and pins the SQLite crate to older versions.

use crate::driver::{Driver, Value};
use crate::Error;

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "ledger",
        sql: include_str!("../migrations/0002_ledger.sql"),
    },
];

/// Brings the store's schema up to date. Runs in one exclusive
/// transaction, so two processes opening a new store at once do not both
/// migrate it, and a failed migration leaves the schema as it was.
pub fn migrate(db: &mut dyn Driver, migrations: &[Migration], now: &str) -> Result<(), Error> {
    db.begin(true)?;
    let result = apply(db, migrations, now);
    match result {
        Ok(()) => db.commit(),
        Err(e) => {
            let _ = db.rollback();
            Err(e)
        }
    }
}

fn apply(db: &mut dyn Driver, migrations: &[Migration], now: &str) -> Result<(), Error> {
    if !db.has_table("schema_migrations")? {
        db.execute(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
            &[],
        )?;
    }
    let applied = db
        .query_one("SELECT max(version) FROM schema_migrations", &[])?
        .and_then(|r| crate::driver::opt_int(&r, 0))
        .unwrap_or(0);
    let known = migrations.last().map_or(0, |m| m.version);
    if applied > known {
        return Err(Error::new(format!(
            "this store has schema version {applied}, newer than this attain knows ({known})"
        ))
        .with_hint("upgrade attain to open it"));
    }
    for m in migrations.iter().filter(|m| m.version > applied) {
        let sql = db.ddl(m.sql);
        db.execute(&sql, &[])?;
        db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[Value::Int(m.version), m.name.into(), now.into()],
        )?;
    }
    Ok(())
}
