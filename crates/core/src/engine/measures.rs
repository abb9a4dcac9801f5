//! Measures and quotas per participant and period.
//!
//! Aggregates over credits accumulate in integer minor units; roll-ups and
//! derived measures work in exact decimals, in the dependency order the
//! checker established.

use super::credit::Credits;
use super::filter::{field_value, ClassMasks, CreditView, Filter};
use super::trace::Step;
use crate::calendar::{days_between, FiscalCalendar, Period, PeriodKind};
use crate::data::{Column, Participants, Transactions, MISSING, NONE};
use crate::expr::{eval, BinaryOp, Scope, Value};
use crate::plan::{FieldType, MeasureKind, Quota, RollupScope, ValueRef, Workspace};
use jiff::civil::Date;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

/// The periods of one kind in the fiscal year being calculated.
#[derive(Debug, Clone)]
pub struct PeriodGrid {
    pub kind: PeriodKind,
    pub periods: Vec<Period>,
    pub starts: Vec<Date>,
    pub ends: Vec<Date>,
}

impl PeriodGrid {
    pub fn new(calendar: &FiscalCalendar, year: i16, kind: PeriodKind) -> PeriodGrid {
        let periods = calendar.periods(year, kind);
        PeriodGrid {
            kind,
            starts: periods.iter().map(|p| calendar.start(*p)).collect(),
            ends: periods.iter().map(|p| calendar.end(*p)).collect(),
            periods,
        }
    }

    pub fn len(&self) -> usize {
        self.periods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.periods.is_empty()
    }

    /// The index of the period holding `date`, if it is in this year.
    pub fn index_of(&self, date: Date) -> Option<usize> {
        let i = self.ends.partition_point(|end| *end < date);
        (i < self.len() && self.starts[i] <= date).then_some(i)
    }

    pub fn days(&self, i: usize) -> i32 {
        days_between(self.starts[i], self.ends[i]) + 1
    }
}

/// Days each participant is active in each period (0: not active).
pub fn active_days(people: &Participants, grid: &PeriodGrid) -> Vec<i32> {
    let n = grid.len();
    let mut out = vec![0; people.len() * n];
    for p in 0..people.len() {
        for i in 0..n {
            let from = people.start[p].map_or(grid.starts[i], |s| s.max(grid.starts[i]));
            let to = people.end[p].map_or(grid.ends[i], |e| e.min(grid.ends[i]));
            out[p * n + i] = (days_between(from, to) + 1).max(0);
        }
    }
    out
}

/// Quota amounts replacing the plan's, per quota, participant and period.
pub type QuotaOverrides = HashMap<(usize, u32, Period), Decimal>;

/// How a participant's quota for one period was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaValue {
    /// Before proration: the plan's amount or the override.
    pub full: Decimal,
    pub overridden: bool,
    pub active_days: i32,
    pub period_days: i32,
    /// After proration and its rounding.
    pub value: Decimal,
}

impl QuotaValue {
    /// The one rule of proration: a participant active `active_days` of a
    /// `period_days`-day period gets `full × active/period`, rounded by the
    /// quota's rule, unless the quota says `prorate = "none"`.
    pub fn new(
        def: &Quota,
        full: Decimal,
        overridden: bool,
        active_days: i32,
        period_days: i32,
    ) -> QuotaValue {
        let value = if !def.prorate || active_days >= period_days {
            full
        } else if active_days <= 0 {
            Decimal::ZERO
        } else {
            def.rounding
                .apply(full * Decimal::from(active_days) / Decimal::from(period_days))
        };
        QuotaValue {
            full,
            overridden,
            active_days,
            period_days,
            value,
        }
    }

    /// The explanation of this value: the full amount, the days, the
    /// rounding when it was prorated.
    pub fn step(&self, def: &Quota) -> Step {
        let prorated = def.prorate && self.active_days < self.period_days;
        Step::Quota {
            name: def.name.clone(),
            full: self.full,
            overridden: self.overridden,
            active_days: self.active_days,
            period_days: self.period_days,
            value: self.value,
            rounding: prorated.then_some(def.rounding),
        }
    }
}

/// Every measure and quota for every participant and period of one kind.
#[derive(Debug, Clone)]
pub struct MeasureTable {
    pub grid: PeriodGrid,
    pub active: Vec<i32>,
    n_people: usize,
    /// `[measure][participant][period]`
    values: Vec<Decimal>,
    /// `[quota][participant][period]`
    quotas: Vec<QuotaValue>,
}

impl MeasureTable {
    fn at(&self, p: usize, period: usize) -> usize {
        p * self.grid.len() + period
    }

    pub fn value(&self, measure: usize, p: u32, period: usize) -> Decimal {
        self.values[measure * self.n_people * self.grid.len() + self.at(p as usize, period)]
    }

    pub fn quota(&self, quota: usize, p: u32, period: usize) -> &QuotaValue {
        &self.quotas[quota * self.n_people * self.grid.len() + self.at(p as usize, period)]
    }

    pub fn active_days(&self, p: u32, period: usize) -> i32 {
        self.active[self.at(p as usize, period)]
    }

    /// The value of a measure or quota for a participant and period.
    pub fn of(&self, r: ValueRef, p: u32, period: usize) -> Decimal {
        match r {
            ValueRef::Measure(m) => self.value(m, p, period),
            ValueRef::Quota(q) => self.quota(q, p, period).value,
        }
    }

    /// The value of a name (measure or quota) for a participant and period.
    pub fn named(&self, ws: &Workspace, name: &str, p: u32, period: usize) -> Option<Decimal> {
        if let Some(m) = ws.measure(name) {
            return Some(self.value(m, p, period));
        }
        ws.quota(name).map(|q| self.quota(q, p, period).value)
    }
}

/// A measure that could not be computed (a formula dividing by zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureError {
    pub participant: u32,
    pub period: Period,
    pub measure: String,
    pub message: String,
}

pub struct MeasureInputs<'a> {
    pub ws: &'a Workspace,
    pub people: &'a Participants,
    pub txns: &'a Transactions,
    pub credits: &'a Credits,
    pub overrides: &'a QuotaOverrides,
}

/// The period of each day from the grid's first: a table by day, not a
/// search per transaction. `u8::MAX` where no period holds the day.
pub(crate) fn periods_by_day(grid: &PeriodGrid) -> (i32, Vec<u8>) {
    let by_day: Vec<u8> = match (grid.starts.first(), grid.ends.last()) {
        (Some(&first), Some(&last)) => (0..=days_between(first, last))
            .map(|d| {
                first
                    .checked_add(jiff::Span::new().days(d))
                    .ok()
                    .and_then(|date| grid.index_of(date))
                    .map_or(u8::MAX, |i| i as u8)
            })
            .collect(),
        _ => Vec::new(),
    };
    let first_day = grid
        .starts
        .first()
        .map_or(0, |&d| crate::calendar::day_number(d));
    (first_day, by_day)
}

/// The measures that add up credits with no field read (`sum = "credit"`
/// and `count`), in measure order, with their filter and whether they
/// count: the bulk of the work, done in one pass over the credits (or, in
/// a [`super::fold`], while the file is read).
pub(crate) fn summed_measures(ws: &Workspace) -> Vec<(usize, Option<&crate::expr::Expr>, bool)> {
    ws.measures
        .iter()
        .enumerate()
        .filter_map(|(mi, m)| match &m.kind {
            MeasureKind::Sum {
                field: None,
                filter,
            } => Some((mi, filter.as_ref(), false)),
            MeasureKind::Count { filter } => Some((mi, filter.as_ref(), true)),
            _ => None,
        })
        .collect()
}

/// The measures that read credits one by one (grouped, distinct and field
/// sums), with their places and filters: the rest read sums
/// ([`summed_measures`]) or other measures and quotas.
fn row_measures(
    ws: &Workspace,
) -> impl Iterator<Item = (usize, &MeasureKind, Option<&crate::expr::Expr>)> {
    ws.measures
        .iter()
        .enumerate()
        .filter_map(|(mi, m)| match &m.kind {
            MeasureKind::Sum {
                field: Some(_),
                filter,
            }
            | MeasureKind::CountDistinct { filter, .. }
            | MeasureKind::CountGroups { filter, .. } => Some((mi, &m.kind, filter.as_ref())),
            MeasureKind::Sum { field: None, .. }
            | MeasureKind::Count { .. }
            | MeasureKind::Rollup { .. }
            | MeasureKind::Derived(_) => None,
        })
}

/// The filters of [`row_measures`]. A [`super::fold`] keeps the rows these
/// read (unless [`group_shapes`] counts them).
pub(crate) fn row_filters(ws: &Workspace) -> Vec<Option<&crate::expr::Expr>> {
    row_measures(ws).map(|(_, _, filter)| filter).collect()
}

/// A grouped measure a fold counts as it reads: `count_groups` with a
/// `having` of `distinct(field) OP number`, grouping and counting fields
/// whose values a fold keys exactly (text kept as written, participants,
/// whole numbers, money).
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupShape {
    pub measure: usize,
    pub field: usize,
    pub distinct: usize,
    pub op: BinaryOp,
    pub threshold: Decimal,
}

impl GroupShape {
    /// Whether a group with `n` distinct values counts.
    pub fn holds(&self, n: usize) -> bool {
        holds(self.op, n, self.threshold)
    }
}

/// `n OP threshold`, for the comparisons [`distinct_threshold`] takes.
fn holds(op: BinaryOp, n: usize, threshold: Decimal) -> bool {
    let n = Decimal::from(n);
    match op {
        BinaryOp::Ge => n >= threshold,
        BinaryOp::Gt => n > threshold,
        BinaryOp::Eq => n == threshold,
        BinaryOp::Ne => n != threshold,
        BinaryOp::Le => n <= threshold,
        _ => n < threshold,
    }
}

/// The measures of [`row_measures`], in its order, when every one is a
/// [`GroupShape`]: a fold then keeps no row.
pub(crate) fn group_shapes(ws: &Workspace) -> Option<Vec<GroupShape>> {
    let schema = &ws.transactions;
    let keyed = |f: usize| {
        schema.fields.get(f).is_some_and(|field| match field.ty {
            FieldType::Text => !field.interned,
            FieldType::Participant | FieldType::Integer | FieldType::Money => true,
            FieldType::Decimal | FieldType::Date => false,
        })
    };
    row_measures(ws)
        .map(|(measure, kind, _)| match kind {
            MeasureKind::CountGroups { field, having, .. } => {
                let (distinct, op, threshold) = distinct_threshold(having, schema)?;
                (keyed(*field) && keyed(distinct)).then_some(GroupShape {
                    measure,
                    field: *field,
                    distinct,
                    op,
                    threshold,
                })
            }
            _ => None,
        })
        .collect()
}

/// Computes every quota and measure on `grid`.
pub fn compute(
    inputs: &MeasureInputs,
    grid: PeriodGrid,
) -> Result<MeasureTable, Vec<MeasureError>> {
    compute_with(inputs, grid, None, &[])
}

/// [`compute`], with the [`summed_measures`] given already added up
/// (`presummed[j × cells + cell]` for the j-th, in minor units or as a
/// count), so that `inputs` need hold only the credits the other measures
/// read; and with the grouped measures of `grouped` counted already
/// (measure, count per cell: see [`group_shapes`]).
pub(crate) fn compute_with(
    inputs: &MeasureInputs,
    grid: PeriodGrid,
    presummed: Option<&[i128]>,
    grouped: &[(usize, Vec<u32>)],
) -> Result<MeasureTable, Vec<MeasureError>> {
    let MeasureInputs {
        ws,
        people,
        txns,
        credits,
        overrides,
    } = *inputs;
    let n_people = people.len();
    let n_periods = grid.len();
    let cells = n_people * n_periods;
    let active = active_days(people, &grid);

    let quotas = quota_values(ws, 0..ws.quotas.len(), &grid, &active, n_people, overrides);

    // Which period each credited transaction falls in.
    let (first_day, by_day) = periods_by_day(&grid);
    let period_of: Vec<u8> = txns
        .date
        .par_iter()
        .map(|d| {
            let day = crate::calendar::day_number(*d) - first_day;
            usize::try_from(day)
                .ok()
                .and_then(|i| by_day.get(i).copied())
                .unwrap_or(u8::MAX)
        })
        .collect();

    let mut table = MeasureTable {
        grid,
        active,
        n_people,
        // Zeros written on every core (8 MB at L, a page fault per 4 KB).
        values: (0..ws.measures.len() * cells)
            .into_par_iter()
            .map(|_| Decimal::ZERO)
            .collect(),
        quotas,
    };
    let mut errors = Vec::new();
    let unit = ws.minor_unit;
    let schema = &ws.transactions;
    let view = CreditView::new(ws, txns, credits);
    // Sums of credit and counts of credits, the bulk of the work, in one
    // pass over the credits, split across cores; each core adds into its own
    // integer accumulators, which are then added up (exact, so the split
    // changes nothing).
    let simple: Vec<(usize, Filter, bool)> = summed_measures(ws)
        .into_iter()
        .map(|(mi, filter, is_count)| (mi, Filter::compile(filter, schema, txns), is_count))
        .collect();
    if let Some(pre) = presummed {
        for (j, (mi, _, is_count)) in simple.iter().enumerate() {
            let scale = if *is_count { 0 } else { unit };
            let sums = pre.get(j * cells..(j + 1) * cells).unwrap_or_default();
            if let Some(column) = table.values.get_mut(mi * cells..(mi + 1) * cells) {
                column
                    .par_iter_mut()
                    .zip(sums)
                    .for_each(|(slot, &v)| *slot = Decimal::from_i128_with_scale(v, scale));
            }
        }
    } else if !simple.is_empty() {
        let k = simple.len();
        let chunks = rayon::current_num_threads().max(1) * 2;
        let chunk = credits.len().div_ceil(chunks).max(1);
        // Most plans filter on one text column and `credited_as`: each
        // credit then finds the measures it counts in from its class, with
        // no filter evaluated, and adds into one cache line of 64-bit
        // accumulators (per cell, the measures side by side). An overflow
        // of 64 bits sends the whole pass the general way.
        let filters: Vec<&Filter> = simple.iter().map(|(_, f, _)| f).collect();
        let fast: Option<Vec<Vec<i64>>> = match ClassMasks::new(&filters, txns) {
            None => None,
            Some(classes) => {
                let counts: u64 = simple
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, _, is_count))| *is_count)
                    .fold(0u64, |m, (j, _)| m | 1 << j);
                (0..chunks)
                    .into_par_iter()
                    .map(|ci| {
                        let mut acc = vec![0i64; cells * k];
                        let end = ((ci + 1) * chunk).min(credits.len());
                        for c in (ci * chunk).min(end)..end {
                            let t = credits.txn[c] as usize;
                            let per = period_of[t];
                            if per == u8::MAX {
                                continue;
                            }
                            let mut mask = classes.of(credits, c, t);
                            let at =
                                (credits.participant[c] as usize * n_periods + per as usize) * k;
                            let amount = credits.amount[c];
                            while mask != 0 {
                                let j = mask.trailing_zeros() as usize;
                                mask &= mask - 1;
                                let add = if counts >> j & 1 == 1 { 1 } else { amount };
                                acc[at + j] = acc[at + j].checked_add(add)?;
                            }
                        }
                        Some(acc)
                    })
                    .collect()
            }
        };
        // Where measure j of `cell` sits in the accumulators.
        let cell_major = fast.is_some();
        let slot = |j: usize, cell: usize| {
            if cell_major {
                cell * k + j
            } else {
                j * cells + cell
            }
        };
        let accs: Vec<&[i64]> = fast.iter().flatten().map(Vec::as_slice).collect();
        let partials: Vec<Vec<i128>> = if cell_major {
            Vec::new()
        } else {
            (0..chunks)
                .into_par_iter()
                .map(|ci| {
                    let mut acc = vec![0i128; k * cells];
                    let end = ((ci + 1) * chunk).min(credits.len());
                    for c in (ci * chunk).min(end)..end {
                        let t = credits.txn[c] as usize;
                        let per = period_of[t];
                        if per == u8::MAX {
                            continue;
                        }
                        let cell = credits.participant[c] as usize * n_periods + per as usize;
                        for (j, (_, f, is_count)) in simple.iter().enumerate() {
                            if f.matches(&view, c) {
                                acc[j * cells + cell] += if *is_count {
                                    1
                                } else {
                                    i128::from(credits.amount[c])
                                };
                            }
                        }
                    }
                    acc
                })
                .collect()
        };
        for (j, (mi, _, is_count)) in simple.iter().enumerate() {
            let base = mi * cells;
            for cell in 0..cells {
                let at = slot(j, cell);
                let v: i128 = accs.iter().map(|a| i128::from(a[at])).sum::<i128>()
                    + partials.iter().map(|a| a[at]).sum::<i128>();
                table.values[base + cell] = if *is_count {
                    Decimal::from_i128_with_scale(v, 0)
                } else {
                    Decimal::from_i128_with_scale(v, unit)
                };
            }
        }
    }

    for (mi, m) in ws.measures.iter().enumerate() {
        let base = mi * cells;
        let counted = grouped.iter().find(|(measure, _)| *measure == mi);
        match &m.kind {
            MeasureKind::Sum { field: None, .. } | MeasureKind::Count { .. } => {}
            MeasureKind::Sum {
                field: Some(fi),
                filter,
            } => {
                let f = Filter::compile(filter.as_ref(), schema, txns);
                for (c, t, per) in matching(inputs, &period_of, &f) {
                    if let Some(Value::Num(v)) =
                        field_value(&txns.fields[*fi], t, &txns.text, unit, None)
                    {
                        table.values
                            [base + credits.participant[c] as usize * n_periods + per as usize] +=
                            v;
                    }
                }
            }
            MeasureKind::CountDistinct { field, filter } => {
                let f = Filter::compile(filter.as_ref(), schema, txns);
                let mut seen: HashSet<(u32, u8, i128)> = HashSet::new();
                let mut keys = KeyMaker::new(&txns.fields[*field]);
                for (c, t, per) in matching(inputs, &period_of, &f) {
                    let Some(key) = keys.key(t) else {
                        continue;
                    };
                    if seen.insert((credits.participant[c], per, key)) {
                        table.values
                            [base + credits.participant[c] as usize * n_periods + per as usize] +=
                            Decimal::ONE;
                    }
                }
            }
            MeasureKind::CountGroups { .. } if counted.is_some() => {
                if let Some((_, counts)) = counted {
                    for (v, &n) in table.values[base..base + cells].iter_mut().zip(counts) {
                        *v = Decimal::from(n);
                    }
                }
            }
            MeasureKind::CountGroups {
                field,
                filter,
                having,
            } => {
                let f = Filter::compile(filter.as_ref(), schema, txns);
                // Group by sorting (participant, period, key, credit): no map
                // and no list per group; runs of equal keys are the groups.
                // The filter runs on every core; raw text is keyed by its
                // hash, and the text is compared within each run, so a
                // (64-bit) collision is caught and the exact path taken.
                let column = &txns.fields[*field];
                let classes = ClassMasks::new(&[&f], txns);
                let threshold = distinct_threshold(having, schema);
                // Raw text counted by `distinct` is hashed here too, in
                // transaction order, so that groups need not read the text
                // at random (only hashes that repeat within a group are
                // checked against the text).
                let distinct_raw = match threshold.map(|(d, _, _)| &txns.fields[d]) {
                    Some(Column::Raw(r)) => Some(r),
                    _ => None,
                };
                let chunks = rayon::current_num_threads().max(1) * 2;
                let chunk = credits.len().div_ceil(chunks).max(1);
                // Keys are 64 bits: exact for ids, whole numbers and dates,
                // a hash for raw text and decimals, whose runs are then
                // checked against the values themselves.
                let hashed_keys = matches!(column, Column::Raw(_) | Column::Decimal(_));
                let parts: Vec<Vec<GroupRow>> = (0..chunks)
                    .into_par_iter()
                    .map(|ci| {
                        let end = ((ci + 1) * chunk).min(credits.len());
                        // Most credits of the rows kept for a group pass
                        // its filter: room for all, so the part is never
                        // copied as it grows.
                        let mut out = Vec::with_capacity(end.saturating_sub(ci * chunk));
                        for c in (ci * chunk).min(end)..end {
                            let t = credits.txn[c] as usize;
                            let per = period_of[t];
                            let pass = match &classes {
                                Some(m) => m.of(credits, c, t) != 0,
                                None => f.matches(&view, c),
                            };
                            if per == u8::MAX || !pass {
                                continue;
                            }
                            let key = match column {
                                Column::Raw(r) => {
                                    let text = r.get(t);
                                    (!text.is_empty()).then(|| crate::data::text_hash(text))
                                }
                                other => group_key(other, t).map(key_bits),
                            };
                            let dkey = distinct_raw.map_or(0, |r| {
                                let text = r.get(t);
                                if text.is_empty() {
                                    0
                                } else {
                                    crate::data::text_hash(text).max(1)
                                }
                            });
                            if let Some(key) = key {
                                out.push(GroupRow {
                                    key,
                                    dkey,
                                    cell: credits.participant[c] * n_periods as u32
                                        + u32::from(per),
                                    credit: c as u32,
                                });
                            }
                        }
                        out
                    })
                    .collect();
                let mut rows = in_group_order(parts, cells);
                if hashed_keys {
                    let exact = |row: &GroupRow| {
                        let t = credits.txn[row.credit as usize] as usize;
                        match column {
                            Column::Raw(r) => (Some(r.get(t)), None),
                            other => (None, group_key(other, t)),
                        }
                    };
                    let collision = rows.par_chunk_by(|a, b| a.cell == b.cell).any(|cell| {
                        cell.chunk_by(|a, b| a.key == b.key)
                            .filter(|run| run.len() > 1)
                            .any(|run| run.iter().any(|x| exact(x) != exact(&run[0])))
                    });
                    if collision {
                        // Exact keys, numbered in the order first met.
                        let mut keys = KeyMaker::new(column);
                        let mut numbers: HashMap<i128, u64> = HashMap::new();
                        for row in &mut rows {
                            let key = keys
                                .key(credits.txn[row.credit as usize] as usize)
                                .unwrap_or_default();
                            let next = numbers.len() as u64;
                            row.key = *numbers.entry(key).or_insert(next);
                        }
                        rows.par_sort_unstable_by_key(GroupRow::order);
                    }
                }
                // The common `distinct(field) >= N` is counted on keys, with
                // no evaluation per group; anything else is evaluated.
                if let Some((distinct_field, op, threshold)) = threshold {
                    // Cell by cell on the cores: how many of its groups
                    // hold. Keys made for exactness are compared within a
                    // group only, so each core may make its own.
                    let scratch = || {
                        let dkeys = KeyMaker::new(&txns.fields[distinct_field]);
                        (dkeys, Vec::<i128>::new(), Vec::<(u64, u32)>::new())
                    };
                    let distinct = Distinct {
                        raw: distinct_raw,
                        credits,
                    };
                    let holding: Vec<(u32, u32)> = rows
                        .par_chunk_by(|a, b| a.cell == b.cell)
                        .map_init(scratch, |(dkeys, seen, hashed), cell| {
                            let holding = cell
                                .chunk_by(|a, b| a.key == b.key)
                                .filter(|group| {
                                    let n = distinct.count(group, dkeys, seen, hashed);
                                    holds(op, n, threshold)
                                })
                                .count();
                            (cell.first().map_or(0, |r| r.cell), holding as u32)
                        })
                        .collect();
                    for (cell, n) in holding {
                        if let Some(v) = table.values.get_mut(base + cell as usize) {
                            *v += Decimal::from(n);
                        }
                    }
                    continue;
                }
                let mut members: Vec<u32> = Vec::new();
                for run in rows.chunk_by(|a, b| a.order() == b.order()) {
                    let cell = run[0].cell as usize;
                    let (p, per) = ((cell / n_periods) as u32, cell % n_periods);
                    members.clear();
                    members.extend(run.iter().map(|r| r.credit));
                    let scope = GroupScope {
                        ws,
                        txns,
                        credits,
                        members: &members,
                    };
                    match eval(having, &scope) {
                        Ok(Value::Bool(true)) => {
                            table.values[base + p as usize * n_periods + per] += Decimal::ONE;
                        }
                        Ok(_) => {}
                        Err(e) => errors.push(MeasureError {
                            participant: p,
                            period: table.grid.periods[per],
                            measure: m.name.clone(),
                            message: e.message,
                        }),
                    }
                }
            }
            MeasureKind::Rollup { scope, of, filter } => {
                roll_up(&mut table, ws, people, mi, *scope, *of, filter.as_ref())
            }
            MeasureKind::Derived(expr) => derive(&mut table, ws, mi, expr, &mut errors),
        }
    }
    if errors.is_empty() {
        Ok(table)
    } else {
        Err(errors)
    }
}

/// The quotas `quotas` (indexes into the workspace's) of every participant
/// and period of `grid`, quota by quota, participant by participant, worked
/// out on every core and written in place (each value is a proration in
/// decimals: at L, 120,000 of them took ≈ 5 ms on one).
fn quota_values(
    ws: &Workspace,
    quotas: std::ops::Range<usize>,
    grid: &PeriodGrid,
    active: &[i32],
    n_people: usize,
    overrides: &QuotaOverrides,
) -> Vec<QuotaValue> {
    let n_periods = grid.len().max(1);
    let cells = (n_people * grid.len()).max(1);
    let all = quotas.start * cells..quotas.end * cells;
    all.into_par_iter()
        .with_min_len(1024)
        .map(|at| {
            let (qi, cell) = (at / cells, at % cells);
            let q = &ws.quotas[qi];
            let (p, i) = (cell / n_periods, cell % n_periods);
            let days = active.get(cell).copied().unwrap_or(0);
            let overridden = grid
                .periods
                .get(i)
                .and_then(|period| overrides.get(&(qi, p as u32, *period)));
            let (full, overridden) = match overridden {
                Some(v) => (*v, true),
                None => (q.amount, false),
            };
            QuotaValue::new(q, full, overridden, days, grid.days(i))
        })
        .collect()
}

/// Whose values a roll-up of `p` adds: the people in `scope` (their
/// reports, or their team) who pass `filter`, active or not.
pub fn rollup_members(
    ws: &Workspace,
    people: &Participants,
    p: u32,
    scope: RollupScope,
    filter: Option<&crate::expr::Expr>,
) -> Vec<u32> {
    let reports = match scope {
        RollupScope::DirectReports => people.direct_reports[p as usize].clone(),
        RollupScope::AllReports => people.all_reports(p),
        RollupScope::Team => match people.manager[p as usize] {
            Some(m) => people.direct_reports[m as usize].clone(),
            None => vec![p],
        },
    };
    match filter {
        None => reports,
        Some(f) => reports
            .into_iter()
            .filter(|&r| {
                let scope = |name: &str| participant_value(ws, people, r, name);
                matches!(eval(f, &scope), Ok(Value::Bool(true)))
            })
            .collect(),
    }
}

/// A measure's own values, to write, beside a view of every other value
/// of the table, to read: a measure reads others, never itself (the checker
/// rejects cycles), so it is computed on every core straight into its
/// place, with no list of results written in afterwards.
fn split_at_measure(table: &mut MeasureTable, mi: usize) -> (&mut [Decimal], Others<'_>) {
    let n_periods = table.grid.len();
    let cells = table.n_people * n_periods;
    let len = table.values.len();
    let (before, rest) = table.values.split_at_mut((mi * cells).min(len));
    let (mine, after) = rest.split_at_mut(cells.min(rest.len()));
    let others = Others {
        before,
        after,
        quotas: &table.quotas,
        active: &table.active,
        mi,
        cells,
        n_periods,
    };
    (mine, others)
}

/// Every value of a table but one measure's ([`split_at_measure`]).
struct Others<'a> {
    before: &'a [Decimal],
    after: &'a [Decimal],
    quotas: &'a [QuotaValue],
    active: &'a [i32],
    mi: usize,
    cells: usize,
    n_periods: usize,
}

impl Others<'_> {
    fn of(&self, r: ValueRef, p: u32, i: usize) -> Decimal {
        let at = p as usize * self.n_periods + i;
        let value = match r {
            ValueRef::Measure(m) if m < self.mi => self.before.get(m * self.cells + at),
            ValueRef::Measure(m) if m > self.mi => {
                self.after.get((m - self.mi - 1) * self.cells + at)
            }
            ValueRef::Measure(_) => None,
            ValueRef::Quota(q) => self.quotas.get(q * self.cells + at).map(|q| &q.value),
        };
        value.copied().unwrap_or_default()
    }

    fn active_days(&self, p: u32, i: usize) -> i32 {
        let at = p as usize * self.n_periods + i;
        self.active.get(at).copied().unwrap_or(0)
    }
}

/// Measure `mi`, the sum of `of` over the people in `scope` of each
/// participant who pass `filter`, active in the period.
fn roll_up(
    table: &mut MeasureTable,
    ws: &Workspace,
    people: &Participants,
    mi: usize,
    scope: RollupScope,
    of: ValueRef,
    filter: Option<&crate::expr::Expr>,
) {
    let n_periods = table.grid.len().max(1);
    let (mine, read) = split_at_measure(table, mi);
    // Person by person on the cores: a team's members are found, and
    // filtered, person by person.
    mine.par_chunks_mut(n_periods)
        .with_min_len(64)
        .enumerate()
        .for_each(|(p, slots)| {
            let reports = rollup_members(ws, people, p as u32, scope, filter);
            for (i, slot) in slots.iter_mut().enumerate() {
                let mut sum = Decimal::ZERO;
                for &r in &reports {
                    if read.active_days(r, i) != 0 {
                        sum += read.of(of, r, i);
                    }
                }
                *slot = sum;
            }
        });
}

/// Measure `mi`, a formula over other measures and quotas.
fn derive(
    table: &mut MeasureTable,
    ws: &Workspace,
    mi: usize,
    expr: &crate::expr::Expr,
    errors: &mut Vec<MeasureError>,
) {
    let n_periods = table.grid.len().max(1);
    let periods = table.grid.periods.clone();
    // The formula's names found once, not by a search of every measure's
    // name at each cell (which was most of a derived measure's time).
    let names: Vec<(&str, ValueRef)> = expr
        .references()
        .into_iter()
        .filter_map(|name| {
            let found = ws.measure(name).map(ValueRef::Measure);
            found
                .or_else(|| ws.quota(name).map(ValueRef::Quota))
                .map(|r| (name, r))
        })
        .collect();
    let (mine, read) = split_at_measure(table, mi);
    // Every cell on the cores, written in place; errors in cell order.
    let failed: Vec<(usize, String)> = mine
        .par_iter_mut()
        .with_min_len(256)
        .enumerate()
        .filter_map(|(cell, slot)| {
            let (p, i) = ((cell / n_periods) as u32, cell % n_periods);
            let scope = |name: &str| {
                let (_, r) = names.iter().find(|(n, _)| *n == name)?;
                Some(Value::Num(read.of(*r, p, i)))
            };
            match eval(expr, &scope) {
                Ok(Value::Num(v)) => {
                    *slot = v;
                    None
                }
                Ok(_) => None,
                Err(e) => Some((cell, e.message)),
            }
        })
        .collect();
    for (cell, message) in failed {
        if errors.len() < 20 {
            errors.push(MeasureError {
                participant: (cell / n_periods) as u32,
                period: periods[cell % n_periods],
                measure: ws.measures[mi].name.clone(),
                message,
            });
        }
    }
}

/// `table` with the quotas in `changed` recomputed from `ws` (where their
/// amounts differ from those the table was computed with), and the
/// measures that read them, directly or through other measures. Credits
/// and the aggregates over them are kept: a quota never changes them.
pub fn with_quotas(
    table: &MeasureTable,
    ws: &Workspace,
    people: &Participants,
    overrides: &QuotaOverrides,
    changed: &[usize],
) -> Result<MeasureTable, Vec<MeasureError>> {
    let mut out = table.clone();
    let cells = out.n_people * out.grid.len();
    for &qi in changed {
        let fresh: Vec<QuotaValue> = quota_values(
            ws,
            qi..qi + 1,
            &out.grid,
            &out.active,
            out.n_people,
            overrides,
        );
        out.quotas[qi * cells..(qi + 1) * cells].clone_from_slice(&fresh);
    }
    let mut dirty = vec![false; ws.measures.len()];
    let mut errors = Vec::new();
    // Measures are in dependency order: whatever a measure reads is
    // settled before it.
    for (mi, m) in ws.measures.iter().enumerate() {
        let reads = |name: &str| {
            ws.quota(name).is_some_and(|q| changed.contains(&q))
                || ws.measure(name).is_some_and(|d| dirty[d])
        };
        match &m.kind {
            MeasureKind::Rollup { scope, of, filter } => {
                let stale = match of {
                    ValueRef::Quota(q) => changed.contains(q),
                    ValueRef::Measure(d) => dirty[*d],
                };
                if stale {
                    dirty[mi] = true;
                    roll_up(&mut out, ws, people, mi, *scope, *of, filter.as_ref());
                }
            }
            MeasureKind::Derived(expr) if expr.references().into_iter().any(reads) => {
                dirty[mi] = true;
                derive(&mut out, ws, mi, expr, &mut errors);
            }
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A credit in a group (24 bytes: groups are made by sorting these).
#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct GroupRow {
    /// The group's key in 64 bits (see `hashed_keys` where they are made).
    key: u64,
    /// The hash of the text `distinct` counts, when that is raw text (never
    /// 0); 0 when there is none.
    dkey: u64,
    /// Participant × periods + period.
    cell: u32,
    credit: u32,
}

impl GroupRow {
    /// Rows of one group are equal here, and sort together.
    fn order(&self) -> u128 {
        u128::from(self.cell) << 64 | u128::from(self.key)
    }
}

/// What `distinct(field)` counts in a group: the field's raw text, by its
/// hash in [`GroupRow::dkey`], or else its exact keys.
struct Distinct<'a> {
    raw: Option<&'a crate::data::RawText>,
    credits: &'a Credits,
}

impl Distinct<'_> {
    /// How many distinct values the credits of `group` hold. Equal hashes
    /// must be equal texts; where two are not, the group is counted on
    /// exact keys (`dkeys`). `seen` and `hashed` are room reused from
    /// group to group.
    fn count(
        &self,
        group: &[GroupRow],
        dkeys: &mut KeyMaker,
        seen: &mut Vec<i128>,
        hashed: &mut Vec<(u64, u32)>,
    ) -> usize {
        let credits = self.credits;
        if let Some(r) = self.raw {
            hashed.clear();
            hashed.extend(
                group
                    .iter()
                    .filter(|x| x.dkey != 0)
                    .map(|x| (x.dkey, x.credit)),
            );
            hashed.sort_unstable();
            let text = |c: u32| r.get(credits.txn[c as usize] as usize);
            let exact = hashed
                .windows(2)
                .all(|w| w[0].0 != w[1].0 || text(w[0].1) == text(w[1].1));
            if exact {
                hashed.dedup_by_key(|x| x.0);
                return hashed.len();
            }
        }
        seen.clear();
        seen.extend(
            group
                .iter()
                .filter_map(|r| dkeys.key(credits.txn[r.credit as usize] as usize)),
        );
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }
}

/// Cells per bucket of [`in_group_order`]: a bucket's rows (≈ 4,000 at L)
/// fit a core's own cache, and the buckets (≈ 160 at L) are few enough for
/// each part to write to all of them at once.
const CELLS_PER_BUCKET: usize = 256;

/// The rows of `parts` in [`GroupRow::order`], in two passes that both
/// run on every core and write near where they last wrote: each part
/// deals its rows out to buckets of [`CELLS_PER_BUCKET`] cells, then each
/// bucket is placed by cell (a counting sort, as cells are dense and hold
/// few rows each) and each cell's rows sorted by key. Placing all rows by
/// cell at once wrote each to one of 40,000 places at random, on one core
/// (at L, 593,000 rows: ≈ 12 ms, of which 9 for that). A cell's rows keep
/// the parts' order (credit order) until sorted by key, as before. It
/// leaves each cell's rows together, which the checks and counts after it
/// take cell by cell.
fn in_group_order(parts: Vec<Vec<GroupRow>>, cells: usize) -> Vec<GroupRow> {
    let cell_of = |row: &GroupRow| row.cell as usize;
    let buckets = cells.div_ceil(CELLS_PER_BUCKET).max(1);
    let bucket_of = |row: &GroupRow| (cell_of(row) / CELLS_PER_BUCKET).min(buckets - 1);
    let counts: Vec<Vec<usize>> = parts
        .par_iter()
        .map(|part| {
            let mut counts = vec![0usize; buckets];
            for row in part {
                if let Some(n) = counts.get_mut(bucket_of(row)) {
                    *n += 1;
                }
            }
            counts
        })
        .collect();
    let sizes: Vec<usize> = (0..buckets)
        .map(|b| counts.iter().map(|c| c.get(b).copied().unwrap_or(0)).sum())
        .collect();
    // Made on every core: the first touch of each page of fresh memory is
    // most of the cost (≈ 5 ms at L on one core).
    let mut rows: Vec<GroupRow> = Vec::new();
    rows.par_extend(rayon::iter::repeat_n(
        GroupRow::default(),
        sizes.iter().sum(),
    ));
    // Each part's place in each bucket, the buckets one after another.
    let mut places: Vec<Vec<&mut [GroupRow]>> = parts.iter().map(|_| Vec::new()).collect();
    let mut rest: &mut [GroupRow] = &mut rows;
    for b in 0..buckets {
        for (part_places, counts) in places.iter_mut().zip(&counts) {
            let n = counts.get(b).copied().unwrap_or(0).min(rest.len());
            let (place, tail) = std::mem::take(&mut rest).split_at_mut(n);
            part_places.push(place);
            rest = tail;
        }
    }
    parts
        .par_iter()
        .zip(places.par_iter_mut())
        .for_each(|(part, places)| {
            let mut filled = vec![0usize; buckets];
            for row in part {
                let b = bucket_of(row);
                let (Some(place), Some(n)) = (places.get_mut(b), filled.get_mut(b)) else {
                    continue;
                };
                if let Some(slot) = place.get_mut(*n) {
                    *slot = *row;
                }
                *n += 1;
            }
        });
    drop(places);
    drop(parts);
    let mut by_bucket: Vec<&mut [GroupRow]> = Vec::with_capacity(buckets);
    let mut rest: &mut [GroupRow] = &mut rows;
    for &n in &sizes {
        let n = n.min(rest.len());
        let (bucket, tail) = std::mem::take(&mut rest).split_at_mut(n);
        by_bucket.push(bucket);
        rest = tail;
    }
    by_bucket.into_par_iter().enumerate().for_each_init(
        Vec::new,
        |placed: &mut Vec<GroupRow>, (b, bucket)| {
            let first = b * CELLS_PER_BUCKET;
            place_by_cell(bucket, placed, |row| cell_of(row).saturating_sub(first));
            bucket.copy_from_slice(placed);
            for cell in bucket.chunk_by_mut(|a, b| cell_of(a) == cell_of(b)) {
                cell.sort_unstable_by_key(|r| r.key);
            }
        },
    );
    rows
}

/// `rows`, of one bucket, into `placed` by cell (`local`: the cell's
/// place in the bucket), a counting sort: cells are dense and hold few
/// rows each. A cell's rows keep their order.
fn place_by_cell<T: Copy + Default>(rows: &[T], placed: &mut Vec<T>, local: impl Fn(&T) -> usize) {
    let mut starts = [0usize; CELLS_PER_BUCKET + 1];
    for row in rows {
        if let Some(n) = starts.get_mut(local(row) + 1) {
            *n += 1;
        }
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    placed.clear();
    placed.resize(rows.len(), T::default());
    for row in rows {
        if let Some(at) = starts.get_mut(local(row)) {
            if let Some(slot) = placed.get_mut(*at) {
                *slot = *row;
            }
            *at += 1;
        }
    }
}

/// What `visit` makes of each cell of `parts` (its items together, put in
/// order by `order_cell`), cell by cell, in the order of
/// [`in_group_order`], with no copy of all the items: each part is dealt out to buckets
/// of [`CELLS_PER_BUCKET`] cells in place, then each bucket is gathered
/// from every part into room its core reuses, placed by cell and visited.
/// The copy `in_group_order` makes is fresh memory, a page fault per 4 KB
/// (at L, 24 MB of a grouped measure's credits).
pub(crate) fn visit_cells<T: Copy + Default + Send + Sync, R: Send>(
    mut parts: Vec<Vec<T>>,
    cells: usize,
    cell_of: impl Fn(&T) -> usize + Sync,
    order_cell: impl Fn(&mut [T]) + Sync,
    visit: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let buckets = cells.div_ceil(CELLS_PER_BUCKET).max(1);
    let bucket_of = |row: &T| (cell_of(row) / CELLS_PER_BUCKET).min(buckets - 1);
    // Per part, where each bucket starts (and, last, the part's end).
    let starts: Vec<Vec<usize>> = parts
        .par_iter_mut()
        .map_init(Vec::new, |dealt: &mut Vec<T>, part| {
            let mut starts = vec![0usize; buckets + 1];
            for row in part.iter() {
                if let Some(n) = starts.get_mut(bucket_of(row) + 1) {
                    *n += 1;
                }
            }
            for b in 1..starts.len() {
                starts[b] += starts[b - 1];
            }
            let mut next = starts.clone();
            dealt.clear();
            dealt.resize(part.len(), T::default());
            for row in part.iter() {
                if let Some(at) = next.get_mut(bucket_of(row)) {
                    if let Some(slot) = dealt.get_mut(*at) {
                        *slot = *row;
                    }
                    *at += 1;
                }
            }
            part.copy_from_slice(dealt);
            starts
        })
        .collect();
    let parts = &parts;
    let starts = &starts;
    let by_bucket: Vec<Vec<R>> = (0..buckets)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(gathered, placed): &mut (Vec<T>, Vec<T>), b| {
                gathered.clear();
                for (part, starts) in parts.iter().zip(starts) {
                    let (from, to) = (starts[b], starts[b + 1]);
                    gathered.extend_from_slice(part.get(from..to).unwrap_or_default());
                }
                let first = b * CELLS_PER_BUCKET;
                place_by_cell(gathered, placed, |row| cell_of(row).saturating_sub(first));
                placed
                    .chunk_by_mut(|a, b| cell_of(a) == cell_of(b))
                    .map(|cell| {
                        order_cell(cell);
                        visit(cell)
                    })
                    .collect()
            },
        )
        .collect();
    by_bucket.into_iter().flatten().collect()
}

/// A group key of a column whose keys fit 64 bits exactly (ids, whole
/// numbers, dates), or a hash of it (decimals).
fn key_bits(key: i128) -> u64 {
    match i64::try_from(key) {
        Ok(k) => k as u64,
        Err(_) => {
            use std::hash::BuildHasher;
            foldhash::fast::FixedState::with_seed(0x9e).hash_one(key)
        }
    }
}

/// The credits that fall in a period of the grid and pass `filter`, as
/// (credit, transaction, period index).
fn matching<'a>(
    inputs: &'a MeasureInputs,
    period_of: &'a [u8],
    filter: &'a Filter,
) -> impl Iterator<Item = (usize, usize, u8)> + 'a {
    let MeasureInputs {
        ws, txns, credits, ..
    } = *inputs;
    let view = CreditView::new(ws, txns, credits);
    (0..credits.len()).filter_map(move |c| {
        let t = credits.txn[c] as usize;
        let per = period_of[t];
        (per != u8::MAX && filter.matches(&view, c)).then_some((c, t, per))
    })
}

/// `distinct(field) OP number`, the usual `having`: the field, the
/// comparison and the number.
fn distinct_threshold(
    having: &crate::expr::Expr,
    schema: &crate::plan::TransactionSchema,
) -> Option<(usize, BinaryOp, Decimal)> {
    use crate::expr::ExprKind;
    let ExprKind::Binary(op, lhs, rhs) = &having.kind else {
        return None;
    };
    if !matches!(
        op,
        BinaryOp::Ge | BinaryOp::Gt | BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Le | BinaryOp::Lt
    ) {
        return None;
    }
    let (ExprKind::Call(name, args), ExprKind::Number(n, _)) = (&lhs.kind, &rhs.kind) else {
        return None;
    };
    if name != "distinct" || args.len() != 1 {
        return None;
    }
    let ExprKind::Name(field) = &args[0].kind else {
        return None;
    };
    Some((schema.field(field)?, *op, *n))
}

/// Exact keys of a grouping field. Raw text is interned here, for the
/// credits that pass the measure's filter only.
enum KeyMaker<'a> {
    Stored(&'a Column),
    Raw(&'a crate::data::RawText, crate::data::Interner),
}

impl<'a> KeyMaker<'a> {
    fn new(column: &'a Column) -> KeyMaker<'a> {
        match column {
            Column::Raw(r) => KeyMaker::Raw(r, crate::data::Interner::default()),
            other => KeyMaker::Stored(other),
        }
    }

    fn key(&mut self, row: usize) -> Option<i128> {
        match self {
            KeyMaker::Stored(c) => group_key(c, row),
            KeyMaker::Raw(r, interner) => {
                let text = r.get(row);
                (!text.is_empty()).then(|| i128::from(interner.intern(text)))
            }
        }
    }
}

/// A hashable key for grouping and distinct counts; `None` when empty.
fn group_key(column: &Column, row: usize) -> Option<i128> {
    match column {
        Column::Text(v) | Column::Participant(v) => (v[row] != NONE).then_some(i128::from(v[row])),
        // Raw text has no stored key: `KeyMaker` interns it where needed.
        Column::Raw(_) => None,
        Column::Money(v) | Column::Integer(v) => (v[row] != MISSING).then_some(i128::from(v[row])),
        Column::Decimal(v) => v[row].map(|d| d.normalize().mantissa()),
        Column::Date(v) => v[row].map(|d| i128::from(crate::calendar::day_number(d))),
    }
}

/// The value of a participant field, for roll-up filters.
pub fn participant_value(
    ws: &Workspace,
    people: &Participants,
    p: u32,
    name: &str,
) -> Option<Value> {
    match name {
        "id" => Some(Value::Text(people.ids[p as usize].clone())),
        "plan" => Some(Value::Text(
            people.plan[p as usize].map_or(String::new(), |i| ws.plans[i].id.clone()),
        )),
        _ => {
            let f = ws.participants.fields.iter().position(|f| f.name == name)?;
            field_value(
                &people.fields[f],
                p as usize,
                &people.text,
                ws.minor_unit,
                Some(&people.ids),
            )
        }
    }
}

/// `count()`, `distinct(field)` and `sum(field)` over a group of credits.
struct GroupScope<'a> {
    ws: &'a Workspace,
    txns: &'a Transactions,
    credits: &'a Credits,
    members: &'a [u32],
}

impl Scope for GroupScope<'_> {
    fn value(&self, _name: &str) -> Option<Value> {
        None
    }

    fn group(&self, function: &str, field: Option<&str>) -> Option<Value> {
        let schema = &self.ws.transactions;
        let view = CreditView::new(self.ws, self.txns, self.credits);
        let value_of = |c: u32, name: &str| view.value(c as usize, name);
        match (function, field) {
            ("count", _) => Some(Value::Num(Decimal::from(self.members.len()))),
            ("distinct", Some(name)) => {
                // Fields compare by their stored key (interned id, minor
                // units...), not by text: no allocation per credit.
                if let Some(Column::Raw(r)) = schema.field(name).map(|f| &self.txns.fields[f]) {
                    let mut texts: Vec<&str> = self
                        .members
                        .iter()
                        .map(|&c| r.get(self.credits.txn[c as usize] as usize))
                        .filter(|t| !t.is_empty())
                        .collect();
                    texts.sort_unstable();
                    texts.dedup();
                    return Some(Value::Num(Decimal::from(texts.len())));
                }
                let mut seen: Vec<i128> = match schema.field(name) {
                    Some(f) => self
                        .members
                        .iter()
                        .filter_map(|&c| {
                            group_key(&self.txns.fields[f], self.credits.txn[c as usize] as usize)
                        })
                        .collect(),
                    None => {
                        let mut texts: Vec<String> = self
                            .members
                            .iter()
                            .filter_map(|&c| value_of(c, name))
                            .map(|v| v.to_string())
                            .collect();
                        texts.sort();
                        texts.dedup();
                        return Some(Value::Num(Decimal::from(texts.len())));
                    }
                };
                seen.sort_unstable();
                seen.dedup();
                Some(Value::Num(Decimal::from(seen.len())))
            }
            ("sum", Some(name)) => {
                let mut total = Decimal::ZERO;
                for &c in self.members {
                    if let Some(Value::Num(v)) = value_of(c, name) {
                        total += v;
                    }
                }
                Some(Value::Num(total))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)]
mod tests {
    #[test]
    fn rows_come_in_group_order() {
        use super::{in_group_order, GroupRow};
        let (parts, cells) = rows_in_parts();
        let mut expected: Vec<GroupRow> = parts.iter().flatten().copied().collect();
        expected.sort_by_key(|r| (r.cell, r.key, r.credit));
        let mut got = in_group_order(parts, cells);
        assert!(got.windows(2).all(|w| w[0].order() <= w[1].order()));
        got.sort_by_key(|r| (r.cell, r.key, r.credit));
        assert_eq!(got, expected);
    }

    /// Cells are visited in order, each once, with its rows only, ordered
    /// as asked.
    #[test]
    fn cells_are_visited_in_order() {
        use super::{visit_cells, GroupRow};
        let (parts, cells) = rows_in_parts();
        let mut expected: Vec<GroupRow> = parts.iter().flatten().copied().collect();
        expected.sort_by_key(|r| (r.cell, r.key, r.credit));
        let visited = visit_cells(
            parts,
            cells,
            |r| r.cell as usize,
            |cell| cell.sort_unstable_by_key(|r| (r.key, r.credit)),
            |cell| cell.to_vec(),
        );
        assert!(visited
            .iter()
            .all(|cell| !cell.is_empty() && cell.iter().all(|r| r.cell == cell[0].cell)));
        assert!(visited.windows(2).all(|w| w[0][0].cell < w[1][0].cell));
        let got: Vec<GroupRow> = visited.into_iter().flatten().collect();
        assert_eq!(got, expected);
    }

    /// Rows in parts of uneven length (one empty), their cells across
    /// several buckets (the last partly used), their keys repeating; and
    /// the number of cells.
    fn rows_in_parts() -> (Vec<Vec<super::GroupRow>>, usize) {
        use super::{GroupRow, CELLS_PER_BUCKET};
        let cells = 3 * CELLS_PER_BUCKET + 17;
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        let mut credit = 0u32;
        let parts: Vec<Vec<GroupRow>> = [0usize, 1, 500, 3000, 40]
            .iter()
            .map(|&n| {
                (0..n)
                    .map(|_| {
                        credit += 1;
                        GroupRow {
                            key: next() % 5,
                            dkey: next(),
                            cell: (next() % cells as u64) as u32,
                            credit,
                        }
                    })
                    .collect()
            })
            .collect();
        (parts, cells)
    }

    use crate::data::{load_participants, load_transactions};
    use crate::diag::SourceFile;
    use rust_decimal::Decimal;

    const WORKSPACE: &str = r#"
[workspace]
currency = "USD"
[calendar]
first_month = 1
year = 2026
[participants]
id = "id"
plan = "plan"
[transactions]
id = "id"
date = "date"
amount = "amount"
[transactions.fields]
owner = { type = "participant" }
account = "text"
product = "text"
[credit]
to = "owner"
[measures]
multi = { count_groups = "account", having = "distinct(product) >= 2" }
repeat = { count_groups = "account", having = "count() >= 3" }
"#;

    const PLAN: &str = r#"
[plan]
id = "p"
[[components]]
id = "pay"
period = "quarter"
measure = "multi"
payout = "$100 * multi"
"#;

    /// Groups are counted per participant and quarter: the same account
    /// in two quarters, or of two owners, is two groups; a product sold
    /// twice counts once.
    #[test]
    fn groups_are_counted_per_participant_and_period() {
        let checked = crate::plan::check_workspace(
            &SourceFile::new("attain.toml", WORKSPACE),
            &[SourceFile::new("plans/p.toml", PLAN)],
        );
        let Some(ws) = checked.workspace else {
            panic!("{}", crate::diag::render(&checked.diagnostics));
        };
        let people = load_participants(&ws, "p.csv", "id,plan\na,p\nb,p\n".as_bytes()).unwrap();
        let csv = "id,date,amount,owner,account,product\n\
                   t01,2026-01-05,1.00,a,X,P1\n\
                   t02,2026-02-05,1.00,a,X,P2\n\
                   t03,2026-03-05,1.00,a,Y,P1\n\
                   t04,2026-03-06,1.00,a,Y,P1\n\
                   t05,2026-03-07,1.00,a,Y,P1\n\
                   t06,2026-04-05,1.00,a,X,P3\n\
                   t07,2026-01-09,1.00,b,X,P1\n\
                   t08,2026-01-10,1.00,b,X,P9\n\
                   t09,2026-01-11,1.00,b,Z,P1\n\
                   t10,2026-01-12,1.00,b,Z,P2\n\
                   t11,2026-01-13,1.00,b,Z,P2\n";
        let txns = load_transactions(&ws, &people, "d.csv", csv.as_bytes()).unwrap();
        let overrides = super::QuotaOverrides::new();
        let calc = crate::engine::calculate(&ws, &people, &txns, &overrides, 2026).unwrap();
        let table = &calc.tables[0];
        let (multi, repeat) = (ws.measure("multi").unwrap(), ws.measure("repeat").unwrap());
        let value = |m: usize, p: u32, q: usize| table.value(m, p, q);
        // a, Q1: X has P1 and P2 (holds); Y has P1 three times (one product).
        assert_eq!(value(multi, 0, 0), Decimal::ONE);
        assert_eq!(value(repeat, 0, 0), Decimal::ONE, "Y, three credits");
        // a, Q2: X again, with one product this quarter.
        assert_eq!(value(multi, 0, 1), Decimal::ZERO);
        // b, Q1: X (P1, P9) and Z (P1, P2, P2) both hold; Z has three credits.
        assert_eq!(value(multi, 1, 0), Decimal::TWO);
        assert_eq!(value(repeat, 1, 0), Decimal::ONE);
        let paid: Vec<(u32, String, Decimal)> = calc
            .payouts
            .iter()
            .filter(|p| !p.amount.is_zero())
            .map(|p| (p.participant, p.period.to_string(), p.amount))
            .collect();
        assert_eq!(
            paid,
            [
                (0, "2026-Q1".to_string(), Decimal::from(100)),
                (1, "2026-Q1".to_string(), Decimal::from(200)),
            ]
        );
    }
}
