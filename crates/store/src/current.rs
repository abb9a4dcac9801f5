//! The store's current data, read for modeling (forecasts, estimates):
//! the plans and people in force at the latest date, quota overrides,
//! assignments and every current transaction, as `attain run` and
//! `attain live` read them. Read only: nothing is recorded.

use crate::snapshot::{self, LATEST};
use crate::{Error, Store};
use attain_core::data::Participants;
use attain_core::engine::measures::QuotaOverrides;
use attain_core::plan::Workspace;

pub struct CurrentData {
    pub ws: Workspace,
    pub year: i16,
    pub people: Participants,
    pub overrides: QuotaOverrides,
    /// Every current, uncancelled transaction as CSV (a header at least).
    pub transactions_csv: Vec<u8>,
}

impl Store {
    /// The data a run of fiscal `year` (default: the workspace's) would
    /// read now.
    pub fn current_data(&mut self, year: Option<i16>) -> Result<CurrentData, Error> {
        self.read(|db| {
            let ws = snapshot::workspace_at(db, LATEST)?.ws;
            let year = snapshot::fiscal_year(&ws, year)?;
            let (mut people, _) = snapshot::participants_at(db, &ws, LATEST)?;
            let (overrides, _, _) = snapshot::overrides(db, &ws, &mut people)?;
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
}
