//! The store's current data for modeling (`attain whatif`, `attain
//! sweep`): read only, nothing is recorded.

use crate::plans::PlanFile;
use crate::snapshot::{self, LATEST};
use crate::{Error, Store};
use attain_core::data::{Participants, Transactions};
use attain_core::diag::SourceFile;
use attain_core::engine::measures::QuotaOverrides;
use attain_core::plan::{check_workspace, Workspace};

/// What a what-if reads: the plans in force with the candidates beside
/// them, the participants, quotas, assignments and current transactions.
pub struct ModelingInputs {
    pub ws: Workspace,
    pub people: Participants,
    pub overrides: QuotaOverrides,
    pub txns: Transactions,
    pub year: i16,
}

impl Store {
    /// The store as `attain run` reads it, with the latest version of every
    /// file in force over the whole year, plus `candidates` (workspace
    /// files holding candidate plans, not applied): a file of the same path
    /// replaces the stored one. Reads only.
    pub fn modeling_inputs(
        &mut self,
        candidates: &[PlanFile],
        year: Option<i16>,
    ) -> Result<ModelingInputs, Error> {
        self.read(|db| {
            let mut files: Vec<(String, String)> = snapshot::files_at(db, LATEST)?
                .into_iter()
                .map(|(_, path, text)| (path, text))
                .filter(|(path, _)| !candidates.iter().any(|c| &c.path == path))
                .collect();
            files.extend(candidates.iter().map(|c| (c.path.clone(), c.text.clone())));
            files.sort();
            let Some((ws_path, ws_text)) = files.iter().find(|f| f.0 == "attain.toml") else {
                return Err(Error::new("the store holds no plans yet").with_hint(
                    "run `attain plan apply` in the workspace folder to store its attain.toml and plans",
                ));
            };
            let ws_src = SourceFile::new(ws_path.clone(), ws_text.clone());
            let plans: Vec<SourceFile> = files
                .iter()
                .filter(|f| f.0 != "attain.toml")
                .map(|f| SourceFile::new(f.0.clone(), f.1.clone()))
                .collect();
            let checked = check_workspace(&ws_src, &plans);
            let Some(ws) = checked.workspace else {
                return Err(Error(checked.diagnostics));
            };
            let year = snapshot::fiscal_year(&ws, year)?;
            let (mut people, _) = snapshot::participants_at(db, &ws, LATEST)?;
            let (overrides, _, _) = snapshot::overrides(db, &ws, &mut people)?;
            let mut digest = xxhash_rust::xxh3::Xxh3::new();
            let txns = snapshot::transactions_streamed(db, &ws, &people, &mut digest)?;
            Ok(ModelingInputs {
                ws,
                people,
                overrides,
                txns,
                year,
            })
        })
    }

    /// The latest stored version of the workspace file at `path`, if its
    /// text is `text` (a clone records which version it copied).
    pub fn stored_version(&mut self, path: &str, text: &str) -> Result<Option<i64>, Error> {
        self.read(|db| {
            Ok(db
                .query_one(
                    "SELECT version, body FROM plan_versions WHERE path = $1 ORDER BY version DESC LIMIT 1",
                    &[path.into()],
                )?
                .filter(|r| crate::driver::opt_text(r, 1).as_deref() == Some(text))
                .map(|r| crate::driver::int(&r, 0)))
        })
    }
}
