//! Real time: one transaction posted, the payouts it moves recalculated,
//! nobody else's.
//!
//! A [`Live`] session loads the store once (as a run does) and keeps the
//! year's payouts in memory. Posting a transaction recalculates only the
//! people it can move
//! ([`attain_core::engine::incremental::affected`]) from only the
//! transactions their payouts read (those crediting
//! [`attain_core::engine::incremental::inputs_of`]), with the same engine
//! as a full run, so the result is the full run's for them.
//!
//! A session starts by recording a run (the year as it stands); each
//! posting then updates that run in the same transaction that stores the
//! transaction: the moved people's rows are replaced, prior-period
//! adjustments for them recomputed, the pay periods marked, and the audit
//! log told. What `attain payouts`, `statement` and `ledger` read is
//! current after every posting.

use crate::records::{self, CsvBuilder};
use crate::runs::{adjustment_row, Computed, RESULT_COLUMNS};
use crate::snapshot::{self, LATEST};
use crate::{audit, digest, driver, Error, Store};
use attain_core::calendar::FiscalCalendar;
use attain_core::data::{self, Participants};
use attain_core::engine::{self, incremental, measures::QuotaOverrides};
use attain_core::plan::{FieldType, Workspace};
use attain_core::report::trace_lines;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

type Key = (String, String, String);

/// A year's payouts held in memory, kept current as transactions arrive.
pub struct Live {
    year: i16,
    /// The run this session keeps current.
    run: i64,
    ws: Workspace,
    people: Participants,
    overrides: QuotaOverrides,
    header: String,
    columns: Vec<String>,
    id_column: usize,
    credit_columns: Vec<usize>,
    /// The current text of every transaction not cancelled; `None` once
    /// cancelled.
    lines: Vec<Option<String>>,
    by_deal: HashMap<String, usize>,
    /// For each participant, the lines that credit them (a line that
    /// stopped crediting someone is skipped when read).
    by_person: Vec<Vec<usize>>,
    payouts: BTreeMap<Key, Decimal>,
}

/// A payout a posting moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub participant: String,
    pub period: String,
    pub component: String,
    pub before: Decimal,
    pub after: Decimal,
}

/// What one posting did.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    pub deal: String,
    /// The revision stored; `None` when the transaction was already stored
    /// as it is (nothing to do).
    pub revision: Option<i64>,
    pub moved: Vec<Moved>,
    /// How many people were recalculated, and from how many transactions.
    pub recalculated: usize,
    pub transactions_read: usize,
    pub elapsed: Duration,
}

impl Store {
    /// Loads fiscal `year` for live updates, recording a run of the year
    /// as it stands that the postings then keep current. Needs one version
    /// of the plans and people in force over the whole year.
    pub fn live(&mut self, year: Option<i16>) -> Result<Live, Error> {
        let checked = self.read(|db| {
            let at = snapshot::workspace_at(db, LATEST)?;
            let ws = at.ws;
            let year = snapshot::fiscal_year(&ws, year)?;
            let changes = db
                .query_one(
                    "SELECT count(*) FROM (SELECT DISTINCT effective FROM plan_versions \
                     UNION SELECT DISTINCT effective FROM participant_versions) e \
                     WHERE effective > '0001-01-01'",
                    &[],
                )?
                .map_or(0, |r| driver::int(&r, 0));
            if changes > 0 {
                return Err(Error::new(
                    "plan or participant versions take effect during the year; live updates need one version in force",
                )
                .with_hint("use `attain run`, which calculates each stretch of the year"));
            }
            Ok(year)
        })?;
        let run = self.record_run(Some(checked))?;
        self.read(|db| {
            let ws = snapshot::workspace_at(db, LATEST)?.ws;
            let year = run.year;
            let (mut people, _) = snapshot::participants_at(db, &ws, LATEST)?;
            let (overrides, _, _) = snapshot::overrides(db, &ws, &mut people)?;
            let csv = snapshot::transactions_csv(db)?;
            let csv = if csv.is_empty() {
                snapshot::header_only(&ws).into_bytes()
            } else {
                csv
            };
            Live::new(year, run.id, ws, people, overrides, csv)
        })
    }

    /// Whether `record` is stored exactly so already as `deal`'s current,
    /// uncancelled revision.
    fn is_stored(&mut self, deal: &str, canonical: &str) -> Result<bool, Error> {
        self.read(|db| {
            Ok(db
                .query_one(
                    "SELECT digest, cancelled FROM transactions WHERE deal_id = $1 AND is_current = 1",
                    &[deal.into()],
                )?
                .is_some_and(|r| driver::text(&r, 0) == canonical && driver::int(&r, 1) == 0))
        })
    }

    /// In one transaction: stores `p.record` as a new revision of its
    /// deal, replaces the moved people's rows in the session's run, records
    /// their prior-period adjustments and marks the pay periods. Returns the
    /// revision.
    fn record_posting(&mut self, p: &Posting<'_>) -> Result<i64, Error> {
        self.write(|db, cx| {
            let previous = db
                .query_one(
                    "SELECT revision FROM transactions WHERE deal_id = $1 AND is_current = 1",
                    &[p.deal.into()],
                )?
                .map(|r| driver::int(&r, 0));
            let import = crate::imports::begin_import(
                db,
                cx,
                crate::ImportKind::Transactions,
                "posted",
                None,
                &digest(p.record.as_bytes()),
            )?;
            db.execute(
                "UPDATE imports SET row_count = 1, added = $1, revised = $2 WHERE id = $3",
                &[
                    driver::Value::Int(i64::from(previous.is_none())),
                    driver::Value::Int(i64::from(previous.is_some())),
                    driver::Value::Int(import),
                ],
            )?;
            let layout = crate::imports::layout_id(db, p.header)?;
            let revision = crate::imports::add_revision(
                db,
                &crate::imports::Revision {
                    deal: p.deal,
                    previous,
                    date: p.date.into(),
                    layout: driver::Value::Int(layout),
                    record: p.record.into(),
                    digest: p.canonical.into(),
                    cancelled: false,
                    import,
                    reason: None,
                },
            )?;
            for who in p.people {
                db.execute(
                    "DELETE FROM results WHERE run_id = $1 AND participant_id = $2",
                    &[driver::Value::Int(p.run), who.as_str().into()],
                )?;
            }
            let mut rows = p.computed.iter().map(|c| c.row(p.run, p.cal));
            db.append("results", RESULT_COLUMNS, &mut rows)?;
            let adjustments =
                crate::runs::adjustments(db, p.ws, p.cal, p.year, p.computed, Some(p.people))?;
            let mut rows = adjustments.iter().map(|a| adjustment_row(a, p.run));
            db.append("results", RESULT_COLUMNS, &mut rows)?;
            db.execute(
                "UPDATE runs SET through_import = $1, payouts = $2, total = $3 WHERE id = $4",
                &[
                    driver::Value::Int(import),
                    driver::Value::Int(p.payouts as i64),
                    p.total.to_string().into(),
                    driver::Value::Int(p.run),
                ],
            )?;
            crate::periods::mark_calculated(db, p.cal, p.year, p.run)?;
            audit(
                db,
                cx,
                "post",
                "transactions",
                &format!(
                    "{} revision {revision}: run {} updated for {} (total {})",
                    p.deal,
                    p.run,
                    p.people.iter().cloned().collect::<Vec<_>>().join(", "),
                    p.total
                ),
            )?;
            Ok(revision)
        })
    }
}

/// Payouts recalculated from a slice of the transactions.
struct Slice {
    payouts: BTreeMap<Key, Decimal>,
    /// With their explanations, when only some people were recalculated.
    computed: Vec<Computed>,
    /// How many transactions were read.
    read: usize,
}

/// What one posting writes.
struct Posting<'a> {
    header: &'a str,
    record: &'a str,
    canonical: &'a str,
    deal: &'a str,
    date: &'a str,
    run: i64,
    ws: &'a Workspace,
    cal: &'a FiscalCalendar,
    year: i16,
    people: &'a BTreeSet<String>,
    computed: &'a [Computed],
    payouts: usize,
    total: Decimal,
}

impl Live {
    fn new(
        year: i16,
        run: i64,
        ws: Workspace,
        people: Participants,
        overrides: QuotaOverrides,
        csv: Vec<u8>,
    ) -> Result<Live, Error> {
        let schema = &ws.transactions;
        let recs = records::from_csv(
            "transactions in the store",
            csv,
            &schema.id_column,
            Some(&schema.date_column),
        )?;
        let header = recs.header.clone();
        let names = records::parse_line(&header);
        let position = |c: &str| names.iter().position(|n| n == c);
        let id_column = position(&schema.id_column).unwrap_or(0);
        let credit_columns: Vec<usize> = schema
            .fields
            .iter()
            .filter(|f| f.ty == FieldType::Participant)
            .filter_map(|f| position(&f.column))
            .collect();
        let columns = snapshot::transaction_columns(&ws);
        let mut live = Live {
            year,
            run,
            ws,
            by_person: vec![Vec::new(); people.len()],
            people,
            overrides,
            header,
            columns,
            id_column,
            credit_columns,
            lines: Vec::with_capacity(recs.rows.len()),
            by_deal: HashMap::with_capacity(recs.rows.len()),
            payouts: BTreeMap::new(),
        };
        for row in &recs.rows {
            let text = recs.text(row).to_string();
            live.add_line(recs.key(row).to_string(), text);
        }
        let all: Vec<usize> = (0..live.lines.len()).collect();
        let everyone: BTreeSet<u32> = (0..live.people.len() as u32).collect();
        live.payouts = live.calculate(&all, &everyone)?.payouts;
        Ok(live)
    }

    pub fn payouts(&self) -> &BTreeMap<Key, Decimal> {
        &self.payouts
    }

    pub fn header(&self) -> &str {
        &self.header
    }

    /// The run this session keeps current.
    pub fn run(&self) -> i64 {
        self.run
    }

    fn fields(&self, line: &str) -> Vec<String> {
        if line.contains('"') {
            records::parse_line(line)
        } else {
            line.split(',').map(|f| f.trim().to_string()).collect()
        }
    }

    /// The participants a transaction's text credits.
    fn credited(&self, line: &str) -> Vec<u32> {
        let fields = self.fields(line);
        self.credit_columns
            .iter()
            .filter_map(|c| fields.get(*c))
            .filter_map(|id| self.people.index.get(id.as_str()).copied())
            .collect()
    }

    fn add_line(&mut self, deal: String, text: String) {
        let index = match self.by_deal.get(&deal) {
            Some(&i) => {
                self.lines[i] = Some(text);
                i
            }
            None => {
                self.lines.push(Some(text));
                self.by_deal.insert(deal, self.lines.len() - 1);
                self.lines.len() - 1
            }
        };
        if let Some(text) = &self.lines[index] {
            for p in self.credited(text) {
                let list = &mut self.by_person[p as usize];
                if list.last() != Some(&index) {
                    list.push(index);
                }
            }
        }
    }

    /// The payouts of `keep` from the transactions at `lines`.
    fn calculate(&self, lines: &[usize], keep: &BTreeSet<u32>) -> Result<Slice, Error> {
        let mut b = CsvBuilder::new(&self.header, lines.len() * 96);
        for &i in lines {
            if let Some(text) = &self.lines[i] {
                b.push(&self.header, text);
            }
        }
        let txns = data::load_transactions(&self.ws, &self.people, "transactions", &b.out[..])?;
        let calc = engine::calculate_for(
            &self.ws,
            &self.people,
            &txns,
            &self.overrides,
            self.year,
            Some(keep),
        )?;
        let mut out = BTreeMap::new();
        let mut computed = Vec::new();
        let money = self.ws.money();
        for p in &calc.payouts {
            if !keep.contains(&p.participant) {
                continue;
            }
            let plan = &self.ws.plans[p.plan];
            let who = self.people.ids[p.participant as usize].clone();
            let component = plan.components[p.component].id.clone();
            out.insert(
                (who.clone(), p.period.to_string(), component.clone()),
                p.amount,
            );
            if keep.len() < self.people.len() {
                computed.push(Computed {
                    participant: who,
                    period: p.period,
                    plan: plan.id.clone(),
                    component,
                    amount: p.amount,
                    steps: trace_lines(&p.trace.steps, &money),
                });
            }
        }
        Ok(Slice {
            payouts: out,
            computed,
            read: txns.len(),
        })
    }

    /// Posts one transaction, a CSV record under [`Live::header`]: stored
    /// as a new revision, and the payouts it moves recalculated.
    pub fn post(&mut self, store: &mut Store, record: &str) -> Result<Posted, Error> {
        let start = Instant::now();
        let record = record.trim_end_matches(['\r', '\n']);
        let text = format!("{}\n{record}\n", self.header);
        // Checked by the engine's own reader: types, allowed values, known
        // participants.
        data::load_transactions(&self.ws, &self.people, "posted", text.as_bytes())?;
        let fields = self.fields(record);
        let deal = fields.get(self.id_column).cloned().unwrap_or_default();
        let date_column = records::parse_line(&self.header)
            .iter()
            .position(|n| *n == self.ws.transactions.date_column)
            .unwrap_or(0);
        let date = fields.get(date_column).cloned().unwrap_or_default();
        let canonical = crate::imports::canonical_digest(&self.header, &self.columns, record);
        if store.is_stored(&deal, &canonical)? {
            return Ok(Posted {
                deal,
                revision: None,
                moved: Vec::new(),
                recalculated: 0,
                transactions_read: 0,
                elapsed: start.elapsed(),
            });
        }
        let old = self.by_deal.get(&deal).and_then(|&i| self.lines[i].clone());
        let mut credited = old.as_deref().map(|o| self.credited(o)).unwrap_or_default();
        credited.extend(self.credited(record));
        self.add_line(deal.clone(), record.to_string());

        let affected = incremental::affected(&self.ws, &self.people, &credited);
        let inputs = incremental::inputs_of(&self.ws, &self.people, &affected);
        let mut lines: Vec<usize> = inputs
            .iter()
            .flat_map(|p| self.by_person[*p as usize].iter().copied())
            .collect();
        lines.sort_unstable();
        lines.dedup();
        let calculated = self.calculate(&lines, &affected);
        let ids: BTreeSet<String> = affected
            .iter()
            .map(|p| self.people.ids[*p as usize].clone())
            .collect();
        let written = calculated.and_then(|slice| {
            let Slice {
                payouts: fresh,
                computed,
                read,
            } = slice;
            let mut payouts = self.payouts.clone();
            payouts.retain(|k, _| !ids.contains(&k.0));
            payouts.extend(fresh.iter().map(|(k, v)| (k.clone(), *v)));
            let total: Decimal = payouts.values().copied().sum();
            let cal = self.ws.calendar;
            let revision = store.record_posting(&Posting {
                header: &self.header,
                record,
                canonical: &canonical,
                deal: &deal,
                date: &date,
                run: self.run,
                ws: &self.ws,
                cal: &cal,
                year: self.year,
                people: &ids,
                computed: &computed,
                payouts: payouts.len(),
                total,
            })?;
            Ok((revision, fresh, payouts, read))
        });
        let (revision, fresh, payouts, read) = match written {
            Ok(w) => w,
            Err(e) => {
                // Nothing was stored: the session forgets the posting too.
                match old {
                    Some(text) => self.add_line(deal.clone(), text),
                    None => {
                        if let Some(i) = self.by_deal.remove(&deal) {
                            self.lines[i] = None;
                        }
                    }
                }
                return Err(e);
            }
        };
        let revision = Some(revision);
        let mut moved = Vec::new();
        let before: BTreeMap<&Key, Decimal> = self
            .payouts
            .iter()
            .filter(|(k, _)| ids.contains(&k.0))
            .map(|(k, v)| (k, *v))
            .collect();
        let keys: BTreeSet<&Key> = before.keys().copied().chain(fresh.keys()).collect();
        for k in keys {
            let was = before.get(k).copied().unwrap_or_default();
            let is = fresh.get(k).copied().unwrap_or_default();
            if was != is {
                moved.push(Moved {
                    participant: k.0.clone(),
                    period: k.1.clone(),
                    component: k.2.clone(),
                    before: was,
                    after: is,
                });
            }
        }
        self.payouts = payouts;
        Ok(Posted {
            deal,
            revision,
            moved,
            recalculated: ids.len(),
            transactions_read: read,
            elapsed: start.elapsed(),
        })
    }
}
