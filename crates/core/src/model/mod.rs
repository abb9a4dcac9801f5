//! Plan modeling: candidate plans and parameter variants evaluated on the
//! actual data, compared with the plans in force.
//!
//! Credits and measure tables are computed once ([`Basis::new`]); every
//! scenario and every variant of a sweep is evaluated on them, and only
//! what a change needs is recomputed: a rate or a band edge re-evaluates
//! the payouts of the components it changes; a quota amount recomputes that
//! quota's values and the measures derived from it, never the credits.
//!
//! **Architecture Invariant:** modeling performs no I/O and records
//! nothing; its results are plain data ([`compare::Comparison`],
//! [`sweep::Sweep`]) that renderers and charts read.

pub mod compare;
pub mod render;
pub mod sweep;

use crate::calendar::Period;
use crate::data::{Participants, Transactions};
use crate::engine::credit::Credits;
use crate::engine::measures::{MeasureTable, QuotaOverrides};
use crate::engine::{self, Payout, RunError};
use crate::plan::Workspace;
use rayon::prelude::*;
use rust_decimal::Decimal;

/// What modeling computed, counted: a sweep that shares credits and
/// measures shows one credit pass however many variants it evaluates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Work {
    /// Passes crediting every transaction.
    pub credit_passes: usize,
    /// Measure tables computed from credits (one per period kind each time).
    pub measure_tables: usize,
    /// Tables whose quotas (and the measures derived from them) were
    /// recomputed for a variant.
    pub quota_tables: usize,
    /// Component evaluations (one payout each).
    pub evaluations: usize,
}

/// The periods a comparison counts: payouts whose period lies inside one
/// of them. Empty: the whole fiscal year.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub periods: Vec<Period>,
}

/// The data, the plans in force and their payouts, computed once.
pub struct Basis<'a> {
    pub ws: &'a Workspace,
    pub people: &'a Participants,
    pub txns: &'a Transactions,
    pub overrides: &'a QuotaOverrides,
    pub year: i16,
    pub credits: Credits,
    pub tables: Vec<MeasureTable>,
    /// The payouts of the plans in force, as `engine::calculate` gives them.
    pub baseline: Vec<Payout>,
    pub work: Work,
    /// What credited revenue counts: every credit (`None`), or a measure
    /// summed over everyone ([`revenue_measure`]).
    pub revenue_measure: Option<usize>,
}

impl<'a> Basis<'a> {
    /// Credits, measures and the payouts of the plans in force.
    pub fn new(
        ws: &'a Workspace,
        people: &'a Participants,
        txns: &'a Transactions,
        overrides: &'a QuotaOverrides,
        year: i16,
    ) -> Result<Basis<'a>, Vec<RunError>> {
        let (credits, tables) = engine::prepare(ws, people, txns, overrides, year)?;
        let mut work = Work {
            credit_passes: 1,
            measure_tables: tables.len(),
            ..Work::default()
        };
        let baseline = evaluate_all(ws, people, &tables, &|plan| plan)?;
        work.evaluations += baseline.len();
        Ok(Basis {
            ws,
            people,
            txns,
            overrides,
            year,
            credits,
            tables,
            baseline,
            work,
            revenue_measure: None,
        })
    }

    /// Whether `period` is counted by `scope`.
    pub fn in_scope(&self, scope: &Scope, period: Period) -> bool {
        let cal = &self.ws.calendar;
        scope.periods.is_empty()
            || scope
                .periods
                .iter()
                .any(|s| cal.start(*s) <= cal.start(period) && cal.end(period) <= cal.end(*s))
    }

    /// Each participant's credited revenue in `scope`, in the currency:
    /// their credits, or the revenue measure's value.
    pub fn revenue(&self, scope: &Scope) -> Vec<Decimal> {
        if let Some(m) = self.revenue_measure {
            return self.measure_revenue(m, scope);
        }
        let cal = &self.ws.calendar;
        let ranges: Vec<_> = scope
            .periods
            .iter()
            .map(|p| (cal.start(*p), cal.end(*p)))
            .collect();
        let n = self.people.len();
        let credits = &self.credits;
        // Integer sums per core, added up: exact whatever the split.
        let minor = (0..credits.len())
            .into_par_iter()
            .with_min_len(1 << 16)
            .fold(
                || vec![0i128; n],
                |mut acc, c| {
                    let date = self.txns.date[credits.txn[c] as usize];
                    if ranges.is_empty() || ranges.iter().any(|(a, b)| *a <= date && date <= *b) {
                        acc[credits.participant[c] as usize] += i128::from(credits.amount[c]);
                    }
                    acc
                },
            )
            .reduce(
                || vec![0i128; n],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        *x += y;
                    }
                    a
                },
            );
        minor
            .into_iter()
            .map(|v| Decimal::from_i128_with_scale(v, self.ws.minor_unit))
            .collect()
    }

    /// Counts `measure` (checked by [`revenue_measure`]) as credited
    /// revenue over `scope`, or says why it cannot: the measure is read
    /// from the finest period kind the plans use, so the periods asked for
    /// must hold whole periods of that kind.
    pub fn count_revenue_as(&mut self, measure: usize, scope: &Scope) -> Result<(), String> {
        let table = self.finest_table().ok_or("the plans pay in no period")?;
        let whole = table
            .grid
            .periods
            .iter()
            .any(|period| self.in_scope(scope, *period));
        if !whole {
            return Err(format!(
                "`{}` is computed by {}, and the periods asked for hold no whole one",
                self.ws.measures[measure].name,
                table.grid.kind.name()
            ));
        }
        self.revenue_measure = Some(measure);
        Ok(())
    }

    fn finest_table(&self) -> Option<&MeasureTable> {
        self.tables.iter().max_by_key(|t| t.grid.len())
    }

    fn measure_revenue(&self, measure: usize, scope: &Scope) -> Vec<Decimal> {
        let mut out = vec![Decimal::ZERO; self.people.len()];
        let Some(table) = self.finest_table() else {
            return out;
        };
        for (i, period) in table.grid.periods.iter().enumerate() {
            if !self.in_scope(scope, *period) {
                continue;
            }
            for (p, sum) in out.iter_mut().enumerate() {
                *sum += table.value(measure, p as u32, i);
            }
        }
        out
    }
}

/// "`a` is", or "`a` reads `b`, which is".
fn what_is(named: &str, reached: &str) -> String {
    if named == reached {
        format!("`{named}` is")
    } else {
        format!("`{named}` reads `{reached}`, which is")
    }
}

/// The measure named `name`, if it can stand for credited revenue: money,
/// built only from sums of credits (directly or through formulas), so that
/// summed over everyone it counts each credited dollar once. A roll-up
/// (a manager's sum of their reports' values) would count it again.
pub fn revenue_measure(ws: &Workspace, name: &str) -> Result<usize, String> {
    use crate::plan::MeasureKind;
    let Some(m) = ws.measure(name) else {
        let names: Vec<&str> = ws.measures.iter().map(|m| m.name.as_str()).collect();
        return Err(format!(
            "no measure `{name}`; measures: {}",
            names.join(", ")
        ));
    };
    if ws.measures[m].ty != crate::expr::Type::Money {
        return Err(format!("`{name}` is not an amount of money"));
    }
    let mut todo = vec![m];
    let mut seen = vec![false; ws.measures.len()];
    while let Some(i) = todo.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let reached = &ws.measures[i];
        match &reached.kind {
            MeasureKind::Sum { field: None, .. } => {}
            MeasureKind::Sum { field: Some(_), .. } => {
                return Err(format!(
                    "{} a sum of a transaction field: a split deal would count it once per credit",
                    what_is(name, &reached.name)
                ))
            }
            MeasureKind::Derived(e) => {
                for r in e.references() {
                    match ws.measure(r) {
                        Some(j) => todo.push(j),
                        None => {
                            return Err(format!(
                                "`{name}` reads `{r}`, which is not a sum of credits"
                            ))
                        }
                    }
                }
            }
            MeasureKind::Rollup { .. } => {
                return Err(format!(
                    "{} a roll-up of other people's values: summed over everyone it would count a deal more than once",
                    what_is(name, &reached.name)
                ))
            }
            _ => {
                return Err(format!(
                    "{} a count, not an amount of credits",
                    what_is(name, &reached.name)
                ))
            }
        }
    }
    Ok(m)
}

/// Every participant's payouts in participant id order, each paid by the
/// plan `plan_for` gives for the plan they are on.
pub(crate) fn evaluate_all(
    ws: &Workspace,
    people: &Participants,
    tables: &[MeasureTable],
    plan_for: &(dyn Fn(usize) -> usize + Sync),
) -> Result<Vec<Payout>, Vec<RunError>> {
    engine::payouts_in_id_order(ws, people, tables, plan_for, None)
}
