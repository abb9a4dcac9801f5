//! attain's system of record: where a company's compensation lives.
//!
//! Data comes in through imports that are all or nothing; plans are
//! versioned documents with effective dates; every run is recorded with
//! its inputs' fingerprint, the plan versions it used and the explanation
//! of every payout; pay periods move open → calculated → approved →
//! closed, and a closed period is never rewritten: later changes to its
//! data become prior-period adjustments in the open period.
//!
//! [`Store`] speaks the domain (`import_transactions`, `record_run`,
//! `close_period`). Underneath, the two backends (SQLite, the default, and
//! PostgreSQL) differ only in a small [`driver::Driver`]: every query and
//! every migration is shared, so both behave the same, and one test
//! suite proves it on both.
//!
//! **Architecture Invariant:** every write happens inside one transaction
//! that either commits whole or leaves the store as it was; a process
//! killed at any point leaves the last committed state.

pub mod diff;
pub mod driver;
mod imports;
pub mod laps;
pub mod ledger;
pub mod live;
pub mod migrate;
pub mod modeling;
mod periods;
mod plans;
pub mod postgres;
mod records;
mod runs;
mod snapshot;
pub mod sqlite;
mod statement;

pub use diff::RunDiff;
pub use imports::{ImportFormat, ImportKind, ImportReport};
pub use ledger::{LedgerLine, LedgerTotals};
pub use periods::{PeriodRow, PeriodStatus};
pub use plans::{show_date as show_effective, PlanFile, PlanVersion};
pub use runs::{AdjustmentLine, RunReport, RunRow};
pub use statement::{Statement, YearToDate};

use attain_core::diag::{Diagnostic, Location};
use driver::Driver;

/// Why a store operation did not happen. Nothing was written.
#[derive(Debug, Clone)]
pub struct Error(pub Vec<Diagnostic>);

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error(vec![Diagnostic::error(Location::file("store"), message)])
    }

    pub fn database(backend: &str, message: impl Into<String>) -> Error {
        Error(vec![Diagnostic::error(
            Location::file(format!("store ({backend})")),
            message,
        )])
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        if let Some(d) = self.0.last_mut() {
            d.hint = Some(hint.into());
        }
        self
    }
}

impl From<Vec<Diagnostic>> for Error {
    fn from(d: Vec<Diagnostic>) -> Error {
        Error(d)
    }
}

/// Why the engine stopped: each message under `calculation`.
impl From<Vec<attain_core::engine::RunError>> for Error {
    fn from(errors: Vec<attain_core::engine::RunError>) -> Error {
        Error(
            errors
                .into_iter()
                .map(|e| Diagnostic::error(Location::file("calculation"), e.message))
                .collect(),
        )
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&attain_core::diag::render(&self.0))
    }
}

/// Where a store lives, as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Sqlite(String),
    Postgres(String),
}

/// Reads a store address: `postgres://…` (or `postgresql://…`) is a
/// PostgreSQL server; `sqlite:PATH` or a plain path is a SQLite file.
pub fn parse_address(address: &str) -> Address {
    if address.starts_with("postgres://") || address.starts_with("postgresql://") {
        Address::Postgres(address.to_string())
    } else {
        let path = address
            .strip_prefix("sqlite://")
            .or_else(|| address.strip_prefix("sqlite:"))
            .unwrap_or(address);
        Address::Sqlite(path.to_string())
    }
}

/// The store: one database, the person acting, and a clock.
pub struct Store {
    db: Box<dyn Driver>,
    actor: String,
    clock: Box<dyn Fn() -> jiff::Timestamp + Send>,
    progress: Progress,
}

/// Told what a long operation is doing now ("checking 1,000,000 rows").
pub type Progress = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

impl Store {
    /// Opens the store at `address` (see [`parse_address`]), creating and
    /// migrating it as needed.
    pub fn open(address: &str, actor: &str) -> Result<Store, Error> {
        match parse_address(address) {
            Address::Sqlite(path) => {
                Store::with_driver(Box::new(sqlite::Sqlite::open(&path)?), actor)
            }
            Address::Postgres(url) => {
                Store::with_driver(Box::new(postgres::Postgres::connect(&url, None)?), actor)
            }
        }
    }

    /// Wraps an opened driver and brings its schema up to date.
    pub fn with_driver(mut db: Box<dyn Driver>, actor: &str) -> Result<Store, Error> {
        let now = jiff::Timestamp::now().to_string();
        migrate::migrate(db.as_mut(), migrate::MIGRATIONS, &now)?;
        Ok(Store {
            db,
            actor: actor.to_string(),
            clock: Box::new(jiff::Timestamp::now),
            progress: std::sync::Arc::new(|_| {}),
        })
    }

    /// Where long operations report what they are doing (a terminal's
    /// spinner).
    pub fn set_progress(&mut self, progress: Progress) {
        self.progress = progress;
    }

    /// Replaces the clock (tests and reproducible examples).
    pub fn set_clock(&mut self, clock: impl Fn() -> jiff::Timestamp + Send + 'static) {
        self.clock = Box::new(clock);
    }

    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    fn now(&self) -> String {
        (self.clock)().to_string()
    }

    /// Runs `work` in one transaction: committed if it succeeds, rolled
    /// back (nothing written) if it fails.
    fn write<T>(
        &mut self,
        work: impl FnOnce(&mut dyn Driver, &Context) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let cx = Context {
            actor: self.actor.clone(),
            now: self.now(),
        };
        self.db.begin(true)?;
        match work(self.db.as_mut(), &cx) {
            Ok(v) => {
                self.db.commit()?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.db.rollback();
                Err(e)
            }
        }
    }

    /// Runs `work` over one consistent snapshot of the store.
    fn read<T>(
        &mut self,
        work: impl FnOnce(&mut dyn Driver) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.db.begin(false)?;
        let result = work(self.db.as_mut());
        let _ = self.db.rollback();
        result
    }

    /// The audit log, oldest first.
    pub fn audit_log(&mut self) -> Result<Vec<AuditEntry>, Error> {
        self.read(|db| {
            Ok(db
                .query(
                    "SELECT seq, recorded_at, actor, action, subject, detail FROM audit_log ORDER BY seq",
                    &[],
                )?
                .iter()
                .map(|r| AuditEntry {
                    seq: driver::int(r, 0),
                    at: driver::text(r, 1),
                    actor: driver::text(r, 2),
                    action: driver::text(r, 3),
                    subject: driver::text(r, 4),
                    detail: driver::text(r, 5),
                })
                .collect())
        })
    }

    /// A consistent copy of the store at `path` (SQLite), while in use.
    pub fn backup(&mut self, path: &str) -> Result<(), Error> {
        self.db.backup(path)
    }
}

/// Who is acting and when, for one write.
pub(crate) struct Context {
    pub actor: String,
    pub now: String,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

/// Appends to the audit log, inside the caller's transaction: the entry
/// exists exactly when the change it describes does.
pub(crate) fn audit(
    db: &mut dyn Driver,
    cx: &Context,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<(), Error> {
    db.execute(
        "INSERT INTO audit_log (recorded_at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
        &[
            cx.now.as_str().into(),
            cx.actor.as_str().into(),
            action.into(),
            subject.into(),
            detail.into(),
        ],
    )?;
    Ok(())
}

/// A 128-bit digest, as hex: row contents and run inputs. xxh3 is a
/// published, stable algorithm, so stored digests stay comparable across
/// attain versions.
/// The digest the store keeps of a file's text (a clone records it when
/// there is no store version to name).
pub fn file_digest(text: &str) -> String {
    digest(text.as_bytes())
}

pub(crate) fn digest(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}
