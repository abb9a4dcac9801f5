//! A run that needs payouts only, calculated while the transactions are
//! read: each block is credited and added up on the core that parsed it,
//! while it is still in cache, and only the rows that some measure must
//! read one by one (grouped, distinct and field sums) are kept.
//!
//! The sums are the ones [`super::measures`] makes from every credit,
//! made in a different order: exact integers, so the order changes
//! nothing, and the payouts are byte for byte those of
//! [`super::calculate`]. What is saved is holding the whole file, and its
//! credits, in memory (at 10 M transactions, ≈ 1 GB written once and read
//! back): fresh memory costs a page fault every 4 KB, the largest single
//! cost of a large run.
//!
//! A fold explains payouts down to measures and quotas, not down to each
//! credited transaction: `explain` and statements take the ordinary path.

use super::credit::{credit, credit_row, credit_serial, Credits};
use super::filter::{ClassMasks, CreditView, Filter};
use super::measures::{self, MeasureInputs, PeriodGrid, QuotaOverrides};
use super::{credit_errors, measure_errors, payouts_with, Calculation, RunError};
use crate::calendar::day_number;
use crate::data::{Keep, Participants, Sift, Transactions, NONE};
use crate::expr::Expr;
use crate::plan::{MeasureKind, Workspace};
use std::collections::HashMap;
use std::sync::Mutex;

/// Sums of every block read so far, and how to add a block to them.
pub struct Fold<'a> {
    ws: &'a Workspace,
    year: i16,
    n_people: usize,
    /// The first and last day of the fiscal year, as day numbers: only
    /// transactions between them are credited.
    days: (i32, i32),
    grids: Vec<GridDays>,
    /// The measures added up here, as [`measures::summed_measures`] lists
    /// them.
    summed: Vec<(usize, Option<&'a Expr>, bool)>,
    /// The filters of the measures that read credits one by one: a row with
    /// a credit passing one of them is kept.
    kept_by: Vec<Option<&'a Expr>>,
    /// Bit j: the j-th summed measure counts credits.
    counted: u32,
    /// Credits can wait in [`Totals::pending`]: each cell's place fits 32
    /// bits and there are at most 32 summed measures.
    buffered: bool,
    /// One set of sums per thread (the last for threads outside the pool),
    /// each locked by its own thread only.
    totals: Vec<Mutex<Totals>>,
}

/// A period grid with the period of each of its days.
struct GridDays {
    grid: PeriodGrid,
    first_day: i32,
    by_day: Vec<u8>,
}

/// Sums in minor units (counts for counted measures), per grid, at
/// `(participant × periods + period) × measures + measure`; a sum that
/// would pass 64 bits moves into `spill`, exactly.
#[derive(Default)]
struct Totals {
    sums: Vec<Vec<i64>>,
    spill: HashMap<(usize, usize), i128>,
    /// The most any sum can have moved since the sums were last set
    /// aside: under 2^62, credits add with no check.
    bound: u64,
    /// Credits not added yet, per grid.
    pending: Vec<Vec<Pending>>,
}

/// A credit waiting to be added: where its cell's sums start, which of
/// them it adds to, and its amount.
#[derive(Clone, Copy)]
struct Pending {
    at: u32,
    mask: u32,
    amount: i64,
}

/// Credits a buffer holds before they are added (16 bytes each).
const PENDING: usize = 1 << 18;

impl Totals {
    /// Adds the credits waiting for grid `g`, with no branch per measure:
    /// measure j adds the amount, or 1 when `counted` has bit j, where the
    /// credit's mask has bit j.
    fn add_pending(&mut self, g: usize, k: usize, counted: u32) {
        let (Some(sums), Some(pending)) = (self.sums.get_mut(g), self.pending.get_mut(g)) else {
            return;
        };
        for p in pending.iter() {
            let at = p.at as usize;
            let Some(cell) = sums.get_mut(at..at + k) else {
                continue;
            };
            for (j, sum) in cell.iter_mut().enumerate() {
                let pass = i64::from(p.mask >> j & 1);
                let count = i64::from(counted >> j & 1);
                // pass × (count ? 1 : amount), branch-free.
                let add = (p.amount & -(pass & (1 - count))) + (pass & count);
                *sum = sum.wrapping_add(add);
            }
        }
        pending.clear();
    }

    /// Moves every sum into `spill` and starts the sums again from 0.
    fn set_aside(&mut self, k: usize, counted: u32) {
        for g in 0..self.pending.len() {
            self.add_pending(g, k, counted);
        }
        for (g, sums) in self.sums.iter_mut().enumerate() {
            for (at, v) in sums.iter_mut().enumerate() {
                if *v != 0 {
                    *self.spill.entry((g, at)).or_default() += i128::from(*v);
                    *v = 0;
                }
            }
        }
        self.bound = 0;
    }
}

/// What a fold made of one block: the crediting errors found in it, as a
/// run reports them.
pub struct BlockOutcome {
    errors: Vec<RunError>,
}

impl<'a> Fold<'a> {
    pub fn new(ws: &'a Workspace, people: &Participants, year: i16) -> Fold<'a> {
        let year_grid = PeriodGrid::new(&ws.calendar, year, crate::calendar::PeriodKind::Year);
        let days = (
            year_grid.starts.first().map_or(0, |&d| day_number(d)),
            year_grid.ends.first().map_or(-1, |&d| day_number(d)),
        );
        let grids: Vec<GridDays> = ws
            .period_kinds()
            .into_iter()
            .map(|kind| {
                let grid = PeriodGrid::new(&ws.calendar, year, kind);
                let (first_day, by_day) = measures::periods_by_day(&grid);
                GridDays {
                    grid,
                    first_day,
                    by_day,
                }
            })
            .collect();
        let kept_by = ws
            .measures
            .iter()
            .filter_map(|m| match &m.kind {
                MeasureKind::Sum {
                    field: Some(_),
                    filter,
                }
                | MeasureKind::CountDistinct { filter, .. }
                | MeasureKind::CountGroups { filter, .. } => Some(filter.as_ref()),
                _ => None,
            })
            .collect();
        let threads = rayon::current_num_threads().max(1) + 1;
        let summed = measures::summed_measures(ws);
        let counted = summed
            .iter()
            .enumerate()
            .filter(|(_, s)| s.2)
            .fold(0u32, |m, (j, _)| {
                m | 1u32.checked_shl(j as u32).unwrap_or(0)
            });
        let widest = grids
            .iter()
            .map(|g: &GridDays| g.grid.len())
            .max()
            .unwrap_or(0);
        let buffered = summed.len() <= 32
            && (people.len() as u64)
                .saturating_mul(widest as u64)
                .saturating_mul(summed.len() as u64)
                < u64::from(u32::MAX);
        Fold {
            ws,
            year,
            n_people: people.len(),
            days,
            grids,
            summed,
            counted,
            buffered,
            kept_by,
            totals: (0..threads)
                .map(|_| Mutex::new(Totals::default()))
                .collect(),
        }
    }

    /// The payouts, from the sums of every block and `kept`, the rows
    /// kept (with `outcomes`, what each block gave, in file order). The
    /// calculation's credits are those of the kept rows only, and its
    /// payouts carry amounts, not traces: what `attain calc` writes.
    pub fn finish(
        self,
        people: &Participants,
        kept: &Transactions,
        overrides: &QuotaOverrides,
        outcomes: Vec<BlockOutcome>,
    ) -> Result<Calculation, Vec<RunError>> {
        let errors: Vec<RunError> = outcomes
            .into_iter()
            .flat_map(|o| o.errors)
            .take(50)
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let ws = self.ws;
        let (first, last) = self.days;
        let credits = credit(ws, people, kept, |i| {
            (first..=last).contains(&day_number(kept.date[i]))
        })
        .map_err(|errors| credit_errors(kept, errors))?;
        let inputs = MeasureInputs {
            ws,
            people,
            txns: kept,
            credits: &credits,
            overrides,
        };
        let k = self.summed.len();
        let totals: Vec<Totals> = self
            .totals
            .into_iter()
            .map(|t| {
                let mut t = t.into_inner().unwrap_or_else(|e| e.into_inner());
                for g in 0..t.pending.len() {
                    t.add_pending(g, k, self.counted);
                }
                t
            })
            .collect();
        let mut tables = Vec::new();
        for (g, grid_days) in self.grids.into_iter().enumerate() {
            let cells = people.len() * grid_days.grid.len();
            // Cell-major sums into the measure-major layout `compute_with` reads.
            let mut presummed = vec![0i128; k * cells];
            for t in &totals {
                if let Some(sums) = t.sums.get(g) {
                    for (at, &v) in sums.iter().enumerate() {
                        presummed[(at % k) * cells + at / k] += i128::from(v);
                    }
                }
                for (&(tg, at), &v) in &t.spill {
                    if tg == g {
                        presummed[(at % k) * cells + at / k] += v;
                    }
                }
            }
            let table = measures::compute_with(&inputs, grid_days.grid, Some(&presummed))
                .map_err(|e| measure_errors(people, e))?;
            tables.push(table);
        }
        let payouts = payouts_with(ws, people, &tables, &|plan| plan, None, false)?;
        Ok(Calculation {
            year: self.year,
            credits,
            tables,
            payouts,
        })
    }

    fn add(&self, rows: &Transactions, credits: &Credits) {
        let k = self.summed.len();
        if k == 0 || credits.is_empty() {
            return;
        }
        let schema = &self.ws.transactions;
        let filters: Vec<Filter> = self
            .summed
            .iter()
            .map(|(_, f, _)| Filter::compile(*f, schema, rows))
            .collect();
        let filter_refs: Vec<&Filter> = filters.iter().collect();
        let classes = ClassMasks::new(&filter_refs, rows);
        let view = CreditView::new(self.ws, rows, credits);
        let is_count = |j: usize| self.summed.get(j).is_some_and(|s| s.2);
        // What a credit adds can never pass 64 bits in this block when the
        // most it could add to any sum, with what the sums may hold
        // already, stays under 2^62.
        let most: u64 = credits
            .amount
            .iter()
            .fold(0u64, |m, a| m.saturating_add(a.unsigned_abs().max(1)));
        let slot = rayon::current_thread_index().unwrap_or(self.totals.len() - 1);
        let Some(mutex) = self.totals.get(slot).or(self.totals.last()) else {
            return;
        };
        let mut guard = mutex.lock().unwrap_or_else(|e| e.into_inner());
        let totals = &mut *guard;
        if totals.sums.is_empty() {
            totals.sums = self
                .grids
                .iter()
                .map(|g| vec![0i64; self.n_people * g.grid.len() * k])
                .collect();
            totals.pending = self.grids.iter().map(|_| Vec::new()).collect();
        }
        const ROOM: u64 = 1 << 62;
        if totals.bound.saturating_add(most) >= ROOM {
            totals.set_aside(k, self.counted);
        }
        let unchecked = most < ROOM && self.buffered;
        if unchecked {
            totals.bound += most;
        }
        let mut period = Vec::with_capacity(rows.len());
        for (g, grid) in self.grids.iter().enumerate() {
            let n_periods = grid.grid.len();
            period.clear();
            period.extend(rows.date.iter().map(|&d| {
                usize::try_from(day_number(d) - grid.first_day)
                    .ok()
                    .and_then(|i| grid.by_day.get(i).copied())
                    .unwrap_or(u8::MAX)
            }));
            let Some(sums) = totals.sums.get_mut(g) else {
                continue;
            };
            match (&classes, unchecked) {
                (Some(m), true) => {
                    // Credits wait in a buffer and are added a few hundred
                    // thousand at a time: their cells are random, and
                    // added block by block (between parses, which push the
                    // cells out of the cache) each one is a cache miss.
                    let pending = &mut totals.pending[g];
                    for c in 0..credits.len() {
                        let t = credits.txn[c] as usize;
                        let per = period[t];
                        if per == u8::MAX {
                            continue;
                        }
                        let mask = m.of(credits, c, t);
                        if mask == 0 {
                            continue;
                        }
                        let at = (credits.participant[c] as usize * n_periods + per as usize) * k;
                        pending.push(Pending {
                            at: at as u32,
                            mask: mask as u32,
                            amount: credits.amount[c],
                        });
                    }
                    if pending.len() >= PENDING {
                        totals.add_pending(g, k, self.counted);
                    }
                }
                _ => {
                    for c in 0..credits.len() {
                        let t = credits.txn[c] as usize;
                        let per = period[t];
                        if per == u8::MAX {
                            continue;
                        }
                        let mut mask = match &classes {
                            Some(m) => m.of(credits, c, t),
                            None => filters
                                .iter()
                                .enumerate()
                                .filter(|(_, f)| f.matches(&view, c))
                                .fold(0u64, |m, (j, _)| m | 1 << j),
                        };
                        let at = (credits.participant[c] as usize * n_periods + per as usize) * k;
                        let amount = credits.amount[c];
                        while mask != 0 {
                            let j = mask.trailing_zeros() as usize;
                            mask &= mask - 1;
                            let add = if is_count(j) { 1 } else { amount };
                            let Some(sum) = sums.get_mut(at + j) else {
                                continue;
                            };
                            match sum.checked_add(add) {
                                Some(v) => *sum = v,
                                None => {
                                    *totals.spill.entry((g, at + j)).or_default() +=
                                        i128::from(*sum) + i128::from(add);
                                    *sum = 0;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The rows with a credit that a measure reads one by one.
    fn kept_rows(&self, rows: &Transactions, credits: &Credits) -> Vec<u32> {
        if self.kept_by.is_empty() {
            return Vec::new();
        }
        let schema = &self.ws.transactions;
        let filters: Vec<Filter> = self
            .kept_by
            .iter()
            .map(|f| Filter::compile(*f, schema, rows))
            .collect();
        let filter_refs: Vec<&Filter> = filters.iter().collect();
        let classes = ClassMasks::new(&filter_refs, rows);
        let view = CreditView::new(self.ws, rows, credits);
        let mut kept: Vec<u32> = Vec::new();
        for c in 0..credits.len() {
            let t = credits.txn[c];
            if kept.last() == Some(&t) {
                continue;
            }
            let pass = match &classes {
                Some(m) => m.of(credits, c, t as usize) != 0,
                None => filters.iter().any(|f| f.matches(&view, c)),
            };
            if pass {
                kept.push(t);
            }
        }
        kept
    }
}

impl Sift for Fold<'_> {
    type Out = BlockOutcome;

    fn sift(&self, rows: &Transactions) -> (Keep, BlockOutcome) {
        if let Some(done) = self.sift_in_one_pass(rows) {
            return done;
        }
        let (first, last) = self.days;
        let in_year = |i: usize| (first..=last).contains(&day_number(rows.date[i]));
        match credit_serial(self.ws, rows, in_year) {
            Ok(credits) => {
                self.add(rows, &credits);
                let kept = self.kept_rows(rows, &credits);
                (Keep::Rows(kept), BlockOutcome { errors: Vec::new() })
            }
            Err(errors) => (
                Keep::Rows(Vec::new()),
                BlockOutcome {
                    errors: credit_errors(rows, errors),
                },
            ),
        }
    }
}

/// Grids a one-pass sift handles (month, quarter, year, and one more).
const MAX_GRIDS: usize = 4;

impl Fold<'_> {
    /// The usual case in one pass over the rows, with no credit written
    /// down: each row is credited ([`credit_row`], the rule the columnar
    /// pass follows) and each credit goes straight to the sums it adds to
    /// and decides whether the row is kept. `None` when the filters read
    /// more than one text column and `credited_as`, or the block's amounts
    /// are too large to add unchecked: [`Fold::add`] then does it.
    fn sift_in_one_pass(&self, rows: &Transactions) -> Option<(Keep, BlockOutcome)> {
        let ws = self.ws;
        let k = self.summed.len();
        if !self.buffered || self.grids.len() > MAX_GRIDS {
            return None;
        }
        let schema = &ws.transactions;
        let compile = |filters: &[Option<&Expr>]| -> Vec<Filter> {
            filters
                .iter()
                .map(|f| Filter::compile(*f, schema, rows))
                .collect()
        };
        let summed_filters = compile(&self.summed.iter().map(|s| s.1).collect::<Vec<_>>());
        let kept_filters = compile(&self.kept_by);
        let summed_refs: Vec<&Filter> = summed_filters.iter().collect();
        let kept_refs: Vec<&Filter> = kept_filters.iter().collect();
        let sums_by = ClassMasks::new(&summed_refs, rows)?;
        let keep_by = if kept_refs.is_empty() {
            None
        } else {
            Some(ClassMasks::new(&kept_refs, rows)?)
        };
        let splits = ws.credit.splits.len() as u64 + 1;
        let most: u64 = rows.amount.iter().fold(0u64, |m, a| {
            m.saturating_add(a.unsigned_abs().max(1).saturating_mul(splits))
        });
        const ROOM: u64 = 1 << 62;
        if most >= ROOM {
            return None;
        }
        let crate::data::Column::Participant(owner) = &rows.fields[ws.credit.to] else {
            return None;
        };
        let slot = rayon::current_thread_index().unwrap_or(self.totals.len() - 1);
        let mutex = self.totals.get(slot).or(self.totals.last())?;
        let mut guard = mutex.lock().unwrap_or_else(|e| e.into_inner());
        let totals = &mut *guard;
        if totals.sums.is_empty() {
            totals.sums = self
                .grids
                .iter()
                .map(|g| vec![0i64; self.n_people * g.grid.len() * k])
                .collect();
            totals.pending = self.grids.iter().map(|_| Vec::new()).collect();
        }
        if totals.bound.saturating_add(most) >= ROOM {
            totals.set_aside(k, self.counted);
        }
        totals.bound += most;

        let (first, last) = self.days;
        let mut kept: Vec<u32> = Vec::new();
        let mut errors = Vec::new();
        let mut periods = [u8::MAX; MAX_GRIDS];
        for (t, (&date, &owner)) in rows.date.iter().zip(owner).enumerate() {
            let day = day_number(date);
            if !(first..=last).contains(&day) {
                continue;
            }
            for (g, grid) in self.grids.iter().enumerate() {
                periods[g] = usize::try_from(day - grid.first_day)
                    .ok()
                    .and_then(|i| grid.by_day.get(i).copied())
                    .unwrap_or(u8::MAX);
            }
            let mut keep = false;
            let mut add = |p: u32, amount: i64, split: bool| {
                let mask = sums_by.mask(sums_by.class_of_row(t, split));
                if mask != 0 {
                    for (g, grid) in self.grids.iter().enumerate() {
                        let per = periods[g];
                        if per == u8::MAX {
                            continue;
                        }
                        let at = (p as usize * grid.grid.len() + per as usize) * k;
                        if let Some(pending) = totals.pending.get_mut(g) {
                            pending.push(Pending {
                                at: at as u32,
                                mask: mask as u32,
                                amount,
                            });
                        }
                    }
                }
                if let Some(m) = &keep_by {
                    keep |= m.mask(m.class_of_row(t, split)) != 0;
                }
            };
            match credit_row(ws, rows, t, |to, share| add(to, share, true)) {
                Ok(remaining) => {
                    if owner != NONE {
                        add(owner, remaining, false);
                    }
                }
                Err(found) => errors.extend(found),
            }
            if keep {
                kept.push(t as u32);
            }
        }
        for g in 0..self.grids.len() {
            if totals.pending.get(g).is_some_and(|p| p.len() >= PENDING) {
                totals.add_pending(g, k, self.counted);
            }
        }
        let errors = credit_errors(rows, errors);
        Some((Keep::Rows(kept), BlockOutcome { errors }))
    }
}
