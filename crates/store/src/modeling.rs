//! The store's current data for modeling (`attain whatif`, `sweep`,
//! `forecast`, `estimate`): read only, nothing is recorded.

use crate::driver::Driver;
use crate::plans::PlanFile;
use crate::snapshot::{self, LATEST};
use crate::{Error, Store};
use attain_core::data::{Participants, Transactions};
use attain_core::engine::measures::QuotaOverrides;
use attain_core::plan::Workspace;

/// What a what-if reads: the plans in force with the candidates beside
/// them, the participants, quotas, assignments and current transactions.
pub struct ModelingInputs {
    pub ws: Workspace,
    pub people: Participants,
    pub overrides: QuotaOverrides,
    pub txns: Transactions,
    pub year: i16,
}

/// What a forecast or an estimate reads: [`ModelingInputs`] without
/// candidates, the transactions kept as CSV text so that a hypothetical
/// deal can be added to them and read again.
pub struct CurrentData {
    pub ws: Workspace,
    pub year: i16,
    pub people: Participants,
    pub overrides: QuotaOverrides,
    /// Every current, uncancelled transaction as CSV (a header at least).
    pub transactions_csv: Vec<u8>,
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
        let replacing: Vec<(String, String)> = candidates
            .iter()
            .map(|c| (c.path.clone(), c.text.clone()))
            .collect();
        self.read(|db| {
            let (ws, year, people, overrides) = in_force(db, &replacing, year)?;
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

    /// The data a run of fiscal `year` (default: the workspace's) would
    /// read now, the transactions as text. Reads only.
    pub fn current_data(&mut self, year: Option<i16>) -> Result<CurrentData, Error> {
        self.read(|db| {
            let (ws, year, people, overrides) = in_force(db, &[], year)?;
            let csv = snapshot::transactions_csv(db)?;
            let transactions_csv = if csv.is_empty() {
                snapshot::header_only(&ws).into_bytes()
            } else {
                csv
            };
            Ok(CurrentData {
                ws,
                year,
                people,
                overrides,
                transactions_csv,
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

/// The workspace (with `replacing` laid over the stored files), the fiscal
/// year, and the participants and quota overrides in force at the latest
/// date.
fn in_force(
    db: &mut dyn Driver,
    replacing: &[(String, String)],
    year: Option<i16>,
) -> Result<(Workspace, i16, Participants, QuotaOverrides), Error> {
    let ws = snapshot::workspace_with(db, LATEST, replacing)?.ws;
    let year = snapshot::fiscal_year(&ws, year)?;
    let (mut people, _) = snapshot::participants_at(db, &ws, LATEST)?;
    let (overrides, _, _) = snapshot::overrides(db, &ws, &mut people)?;
    Ok((ws, year, people, overrides))
}
