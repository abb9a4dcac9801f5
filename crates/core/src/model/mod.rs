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
pub mod stats;
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

    /// Each participant's credited revenue in `scope`, in the currency.
    pub fn revenue(&self, scope: &Scope) -> Vec<Decimal> {
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
