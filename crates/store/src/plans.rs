//! Plans as versioned documents. `attain plan apply` stores each changed
//! workspace file as a new version effective from a date; nothing is
//! overwritten, and every run records the versions it used.

use crate::driver::{self, Value};
use crate::snapshot::{BEGINNING, LATEST};
use crate::{audit, digest, Error, Store};
use attain_core::diag::SourceFile;
use attain_core::money::Currency;
use attain_core::plan::check_workspace;

/// A workspace file to apply: its path in the workspace (`attain.toml`,
/// `plans/am.toml`) and its text.
#[derive(Debug, Clone)]
pub struct PlanFile {
    pub path: String,
    pub text: String,
}

/// One stored version of a workspace file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    pub id: i64,
    pub path: String,
    pub version: i64,
    pub effective: String,
    pub removed: bool,
    pub at: String,
    pub actor: String,
    pub origin: Option<String>,
}

impl Store {
    /// Stores the workspace `files` (the whole workspace: a stored file
    /// missing from them is recorded as removed). Checked first: a
    /// workspace with errors stores nothing. `effective` is the first day
    /// the new versions apply; it may be left out until a period has been
    /// closed (the versions then apply from the beginning).
    pub fn apply_plans(
        &mut self,
        files: &[PlanFile],
        effective: Option<&str>,
    ) -> Result<Vec<PlanVersion>, Error> {
        let Some(ws_file) = files.iter().find(|f| f.path == "attain.toml") else {
            return Err(Error::new("no attain.toml among the files to apply"));
        };
        let ws_src = SourceFile::new(ws_file.path.clone(), ws_file.text.clone());
        let plans: Vec<SourceFile> = files
            .iter()
            .filter(|f| f.path != "attain.toml")
            .map(|f| SourceFile::new(f.path.clone(), f.text.clone()))
            .collect();
        let checked = check_workspace(&ws_src, &plans);
        let Some(ws) = checked.workspace else {
            return Err(Error(checked.diagnostics));
        };
        // A cloned plan's version records where it came from.
        let origin_of = |path: &str| {
            ws.plans
                .iter()
                .find(|p| p.file == path)
                .and_then(|p| p.cloned_from.as_ref())
                .map(|c| format!("cloned from {}", c.describe()))
        };
        self.write(|db, cx| {
            let closed = db
                .query_one("SELECT count(*) FROM periods WHERE status = 'closed'", &[])?
                .map_or(0, |r| driver::int(&r, 0));
            let stored = db.query(
                "SELECT path, version, body FROM plan_versions v WHERE NOT EXISTS \
                 (SELECT 1 FROM plan_versions w WHERE w.path = v.path AND w.version > v.version)",
                &[],
            )?;
            let mut changes: Vec<(String, i64, Option<&str>)> = Vec::new();
            for f in files {
                match stored.iter().find(|r| driver::text(r, 0) == f.path) {
                    Some(r) if driver::opt_text(r, 2).as_deref() == Some(f.text.as_str()) => {}
                    Some(r) => changes.push((f.path.clone(), driver::int(r, 1) + 1, Some(&f.text))),
                    None => changes.push((f.path.clone(), 1, Some(&f.text))),
                }
            }
            for r in &stored {
                let path = driver::text(r, 0);
                let live = driver::opt_text(r, 2).is_some();
                if live && !files.iter().any(|f| f.path == path) {
                    changes.push((path, driver::int(r, 1) + 1, None));
                }
            }
            let effective = match effective {
                Some(d) => d.to_string(),
                None if closed == 0 || changes.iter().all(|c| c.1 == 1) => BEGINNING.to_string(),
                None => {
                    return Err(Error::new(
                        "periods are closed, so a new plan version needs the date it takes effect",
                    )
                    .with_hint(
                        "pass `--effective YYYY-MM-DD`: the first day the new versions apply",
                    ))
                }
            };
            let mut out = Vec::new();
            for (path, version, body) in changes {
                let origin = body.and(origin_of(&path));
                let row = db.query_one(
                    "INSERT INTO plan_versions (path, version, effective, body, digest, recorded_at, actor, origin) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        path.as_str().into(),
                        Value::Int(version),
                        effective.as_str().into(),
                        body.into(),
                        digest(body.unwrap_or("").as_bytes()).into(),
                        cx.now.as_str().into(),
                        cx.actor.as_str().into(),
                        origin.as_deref().into(),
                    ],
                )?;
                let what = if body.is_some() { "version" } else { "removed in version" };
                let from = origin.as_deref().map_or(String::new(), |o| format!(", {o}"));
                audit(
                    db,
                    cx,
                    "plan apply",
                    &path,
                    &format!("{what} {version}, effective {}{from}", show_date(&effective)),
                )?;
                out.push(PlanVersion {
                    id: row.map_or(0, |r| driver::int(&r, 0)),
                    path,
                    version,
                    effective: effective.clone(),
                    removed: body.is_none(),
                    at: cx.now.clone(),
                    actor: cx.actor.clone(),
                    origin,
                });
            }
            Ok(out)
        })
    }

    /// Every version of every workspace file, by path then version.
    pub fn plan_history(&mut self) -> Result<Vec<PlanVersion>, Error> {
        self.read(|db| {
            Ok(db
                .query(
                    "SELECT id, path, version, effective, body IS NULL, recorded_at, actor, origin \
                     FROM plan_versions ORDER BY path, version",
                    &[],
                )?
                .iter()
                .map(|r| PlanVersion {
                    id: driver::int(r, 0),
                    path: driver::text(r, 1),
                    version: driver::int(r, 2),
                    effective: driver::text(r, 3),
                    removed: driver::int(r, 4) != 0,
                    at: driver::text(r, 5),
                    actor: driver::text(r, 6),
                    origin: driver::opt_text(r, 7),
                })
                .collect())
        })
    }

    /// The workspace files in force on `date` (`YYYY-MM-DD`).
    pub fn plan_files_at(&mut self, date: &str) -> Result<Vec<PlanFile>, Error> {
        self.read(|db| {
            Ok(crate::snapshot::files_at(db, date)?
                .into_iter()
                .map(|(_, path, text)| PlanFile { path, text })
                .collect())
        })
    }

    /// The currency of the latest stored workspace: how the amounts the
    /// store holds are printed.
    pub fn currency(&mut self) -> Result<Currency, Error> {
        self.read(|db| Ok(crate::snapshot::workspace_at(db, LATEST)?.ws.money()))
    }
}

/// `0001-01-01` reads as "the beginning".
pub fn show_date(date: &str) -> String {
    if date == BEGINNING {
        "from the beginning".to_string()
    } else {
        date.to_string()
    }
}
