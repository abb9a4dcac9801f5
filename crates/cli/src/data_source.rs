//! Where the commands that model on real data (`whatif`, `sweep`,
//! `forecast`, `estimate`, `chart distribution`) read it: CSV files named
//! as for `attain calc`, or, when none is named, the store's current data,
//! read only.

use crate::store_cmds::{self, StoreArg};
use crate::workspace::{self, Failed};
use attain_core::data::{self, Participants, Transactions};
use attain_core::diag::{Diagnostic, Location};
use attain_core::engine::measures::QuotaOverrides;
use attain_core::plan::Workspace;
use attain_store::PlanFile;
use clap::Args;
use std::path::{Path, PathBuf};

/// Data files, or the store when none is named.
#[derive(Args)]
pub struct DataSource {
    #[command(flatten)]
    pub at: StoreArg,
    /// The participants CSV (with --transactions; without both, the store
    /// is read).
    #[arg(long)]
    pub participants: Option<PathBuf>,
    /// The transactions CSV.
    #[arg(long)]
    pub transactions: Option<PathBuf>,
    /// Quota amounts per participant and period (CSV input only):
    /// participant_id,quota,period,amount.
    #[arg(long)]
    pub quotas: Option<PathBuf>,
    /// Effective-dated plan assignments (CSV input only):
    /// participant_id,plan,start,end.
    #[arg(long)]
    pub assignments: Option<PathBuf>,
    /// The fiscal year (default: the workspace's `calendar.year`).
    #[arg(long)]
    pub year: Option<i16>,
}

/// The data as read, everything but the transactions.
pub struct Setting {
    pub ws: Workspace,
    pub people: Participants,
    pub overrides: QuotaOverrides,
    pub year: i16,
}

/// The transactions as text, for callers that add a hypothetical deal
/// and read them again.
pub struct TransactionsText {
    /// Where they came from, as errors name it.
    pub name: String,
    pub csv: Vec<u8>,
}

fn error_hint(place: &str, message: impl Into<String>, hint: &str) -> Failed {
    Failed(vec![
        Diagnostic::error(Location::file(place), message).with_hint(hint)
    ])
}

/// The participants file with its assignments and quota overrides, as
/// `attain calc` reads them.
pub fn read_people(
    ws: &Workspace,
    participants: &Path,
    assignments: Option<&Path>,
    quotas: Option<&Path>,
) -> Result<(Participants, QuotaOverrides), Failed> {
    let mut people = workspace::participants(ws, participants)?;
    if let Some(path) = assignments {
        data::load_assignments(
            ws,
            &mut people,
            &path.display().to_string(),
            workspace::open(path)?,
        )?;
    }
    let overrides = match quotas {
        Some(path) => data::load_quotas(
            ws,
            &people,
            &path.display().to_string(),
            workspace::open(path)?,
        )?,
        None => QuotaOverrides::new(),
    };
    Ok((people, overrides))
}

/// The fiscal year asked for, or the workspace's.
pub fn fiscal_year(ws: &Workspace, asked: Option<i16>) -> Result<i16, Failed> {
    asked.or(ws.default_year).ok_or_else(|| {
        error_hint(
            "attain.toml",
            "no fiscal year to calculate",
            "pass `--year 2026`, or set `year` in [calendar]",
        )
    })
}

impl DataSource {
    /// Refuses an output file (`flag`) that is one of the data files, the
    /// store's SQLite file or a file of the workspace.
    pub fn refuse_output(&self, flag: &str, out: &Path) -> Result<(), Failed> {
        let db = self.at.sqlite_file();
        let mut files: Vec<(&str, &Path)> = Vec::new();
        for (what, path) in [
            ("participants file", &self.participants),
            ("transactions file", &self.transactions),
            ("quotas file", &self.quotas),
            ("assignments file", &self.assignments),
            ("store", &db),
        ] {
            if let Some(p) = path {
                files.push((what, p));
            }
        }
        workspace::refuse_output_onto_input(flag, out, Some(&self.at.workspace), &files)
    }

    /// The two data files, or `None` to read the store; a half-named pair
    /// or files that only go with data files are errors.
    pub fn files(&self) -> Result<Option<(&Path, &Path)>, Failed> {
        match (&self.participants, &self.transactions) {
            (Some(p), Some(t)) => Ok(Some((p, t))),
            (None, None) => {
                if self.quotas.is_some() || self.assignments.is_some() {
                    return Err(error_hint(
                        "--quotas/--assignments",
                        "quotas and assignments files are read with --participants and --transactions",
                        "without data files the store's quotas and assignments are used",
                    ));
                }
                if self.at.store.is_none() && !self.at.workspace.join("attain.db").exists() {
                    return Err(error_hint(
                        "data",
                        "no data: no data files were named and there is no store here",
                        "pass --participants and --transactions, or --store (or import into a store first)",
                    ));
                }
                Ok(None)
            }
            _ => Err(error_hint(
                "data",
                "--participants and --transactions go together",
                "name both files, or neither to read the store",
            )),
        }
    }

    /// The people side read from the participants file and the quotas and
    /// assignments files beside it.
    fn setting(&self, ws: Workspace, participants: &Path) -> Result<Setting, Failed> {
        let year = fiscal_year(&ws, self.year)?;
        let (people, overrides) = read_people(
            &ws,
            participants,
            self.assignments.as_deref(),
            self.quotas.as_deref(),
        )?;
        Ok(Setting {
            ws,
            people,
            overrides,
            year,
        })
    }

    fn workspace(&self) -> Result<Workspace, Failed> {
        let (ws, warnings) = workspace::load(&self.at.workspace)?;
        crate::print_warnings(&warnings);
        Ok(ws)
    }

    /// Everything, the transactions parsed. From the store, `candidates`
    /// (plan ids of the workspace, not applied) are checked beside the
    /// stored plans in force.
    pub fn load(&self, candidates: &[String]) -> Result<(Setting, Transactions), Failed> {
        let ws = self.workspace()?;
        if let Some((participants, transactions)) = self.files()? {
            let setting = self.setting(ws, participants)?;
            let txns = workspace::transactions(&setting.ws, &setting.people, transactions)?;
            return Ok((setting, txns));
        }
        let mut files = Vec::new();
        for id in candidates {
            let Some(plan) = ws.plan(id) else { continue };
            let shown = &ws.plans[plan].file;
            let text = std::fs::read_to_string(shown)
                .map_err(|e| workspace::io_error(Path::new(shown), &e))?;
            files.push(PlanFile {
                path: relative(&self.at.workspace, shown),
                text,
            });
        }
        let mut store = store_cmds::open(&self.at)?;
        let inputs = store
            .modeling_inputs(&files, self.year)
            .map_err(|e| Failed(e.0))?;
        Ok((
            Setting {
                ws: inputs.ws,
                people: inputs.people,
                overrides: inputs.overrides,
                year: inputs.year,
            },
            inputs.txns,
        ))
    }

    /// Everything, the transactions kept as text.
    pub fn load_text(&self) -> Result<(Setting, TransactionsText), Failed> {
        if let Some((participants, transactions)) = self.files()? {
            let setting = self.setting(self.workspace()?, participants)?;
            let csv =
                std::fs::read(transactions).map_err(|e| workspace::io_error(transactions, &e))?;
            let name = transactions.display().to_string();
            return Ok((setting, TransactionsText { name, csv }));
        }
        let mut store = store_cmds::open(&self.at)?;
        let current = store.current_data(self.year).map_err(|e| Failed(e.0))?;
        Ok((
            Setting {
                ws: current.ws,
                people: current.people,
                overrides: current.overrides,
                year: current.year,
            },
            TransactionsText {
                name: "transactions in the store".into(),
                csv: current.transactions_csv,
            },
        ))
    }
}

/// A path as the workspace names it (`plans/am.toml`).
pub fn relative(dir: &Path, shown: &str) -> String {
    let p = Path::new(shown);
    p.strip_prefix(dir).unwrap_or(p).display().to_string()
}
