//! A run that needs payouts only, calculated while the transactions are
//! read: each block is credited and added up on the core that parsed it,
//! while it is still in cache, and only the rows that some measure must
//! read one by one (grouped, distinct and field sums) are kept. Grouped
//! measures of the usual shape keep none: their credits are recorded with
//! exact keys as the rows are read (`GroupCredit`) and counted at the
//! end.
//!
//! The sums are the ones [`super::measures`] makes from every credit,
//! made in a different order: exact integers, so the order changes
//! nothing, and the payouts are byte for byte those of
//! [`super::calculate`]. What is saved is holding the whole file, and its
//! credits, in memory (at 10 M transactions, ≈ 700 MB written once and read
//! back): fresh memory costs a page fault every 4 KB, the largest single
//! cost of a large run.
//!
//! A fold explains payouts down to measures and quotas, not down to each
//! credited transaction: `explain` and statements take the ordinary path.

use super::credit::{credit, credit_row, credit_serial, div_round, CreditError, StoredRow};
use super::filter::{ClassMasks, ClassTable, CreditView, Filter};
use super::measures::{self, GroupShape, MeasureInputs, PeriodGrid, QuotaOverrides};
use super::{credit_errors, measure_errors, payouts_with, Calculation, RunError};
use crate::calendar::day_number;
use crate::data::{
    short_text_key, Column, Keep, Participants, Row, RowSift, Sift, Transactions, MISSING, NONE,
};
use crate::expr::Expr;
use crate::plan::FieldType;
use crate::plan::Workspace;
use rayon::prelude::*;
use std::sync::{Mutex, MutexGuard};

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
    /// Periods in the longest grid.
    widest: usize,
    /// When every measure of `kept_by` is a grouped measure of the usual
    /// shape, in that order: their credits are then recorded as
    /// [`GroupCredit`]s and counted in [`Fold::finish`], and no row is
    /// kept (but those whose crediting fails, for `finish` to name).
    groups: Option<Vec<GroupShape>>,
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
/// `(participant × periods + period) × measures + measure`. They are kept
/// in 32 bits, so that the sums of 10,000 people fit in a core's own
/// cache; what would pass 32 bits moves to `high`, exactly.
#[derive(Default)]
struct Totals {
    sums: Vec<Vec<i32>>,
    /// Allocated at the first sum that passes 32 bits.
    high: Vec<Vec<i128>>,
    /// Credits not added yet, per grid.
    pending: Vec<Vec<Pending>>,
    /// The credits of grouped measures ([`Fold::groups`]), in lists of
    /// [`GROUP_CHUNK`]: a list that grew by doubling was copied each time
    /// into fresh memory (a page fault per 4 KB).
    grouped: Vec<Vec<GroupCredit>>,
    /// Text longer than [`short_text_key`] keys, which [`GroupCredit`]s
    /// name by place here (see [`LONG_KEY`]).
    long: Vec<String>,
    /// The keys of the values `distinct` counts, numbered from 1 in the
    /// order met: `value_keys[n - 1]` is the key numbered `n`.
    values: crate::data::FastMap<(u64, u64), u32>,
    value_keys: Vec<(u64, u64)>,
    /// The place of these totals in [`Fold::totals`].
    slot: usize,
}

/// A credit of a grouped measure: its count, cell, group and the value
/// `distinct` counts, each key exact (no hash: two keys are equal only
/// when the values are).
#[derive(Clone, Copy, Default)]
struct GroupCredit {
    group: (u64, u64),
    /// Its count's cell ([`Fold::group_cell`]; cells past 32 bits keep
    /// their rows instead, see [`Fold::new`]).
    at: u32,
    /// The value `distinct` counts, by its number in its thread's
    /// [`Totals::values`], then across threads ([`Fold::counted_groups`]);
    /// 0: empty, not counted. A number, not the value's 16-byte key: 24
    /// bytes a credit instead of 40 (the credits are most of a grouped
    /// measure's memory, and are dealt and sorted by cell).
    value: u32,
}

/// Keys of [`GroupCredit`]: text of up to 15 bytes is its own key
/// ([`short_text_key`]: the second word's top byte is its length, below
/// 16); a number is tagged [`NUMBER_KEY`]; longer text is numbered in its
/// thread's [`Totals::long`], `(place, LONG_KEY | slot)`, and numbered
/// across threads in [`Fold::finish`], `(number, GLOBAL_LONG_KEY)`.
const NUMBER_KEY: u64 = 0x20 << 56;
const LONG_KEY: u64 = 0x40 << 56;
const GLOBAL_LONG_KEY: u64 = 0xff << 56;

/// Credits per list of [`Totals::grouped`] (640 KB).
const GROUP_CHUNK: usize = 1 << 14;

/// A field's value as a grouped measure keys it.
#[derive(Clone, Copy)]
enum KeyValue<'t> {
    Text(&'t [u8]),
    /// `None`: empty.
    Number(Option<i64>),
}

impl KeyValue<'_> {
    /// Field `f` of a row read one at a time.
    fn of_row<'r>(ws: &Workspace, row: &'r Row, f: usize) -> KeyValue<'r> {
        match ws.transactions.fields.get(f).map(|field| field.ty) {
            Some(FieldType::Participant) => {
                let p = row.participant(f);
                KeyValue::Number((p != NONE).then_some(i64::from(p)))
            }
            Some(FieldType::Integer | FieldType::Money) => {
                let x = row.integer(f);
                KeyValue::Number((x != MISSING).then_some(x))
            }
            _ => KeyValue::Text(row.raw(f)),
        }
    }

    /// Field `f` of stored row `t`.
    fn of_stored(rows: &Transactions, t: usize, f: usize) -> KeyValue<'_> {
        match rows.fields.get(f) {
            Some(Column::Participant(v)) => {
                KeyValue::Number(v.get(t).filter(|&&p| p != NONE).map(|&p| i64::from(p)))
            }
            Some(Column::Integer(v) | Column::Money(v)) => {
                KeyValue::Number(v.get(t).filter(|&&x| x != MISSING).copied())
            }
            Some(Column::Raw(r)) => KeyValue::Text(r.get(t).as_bytes()),
            _ => KeyValue::Number(None),
        }
    }
}

/// A credit waiting to be added: where its cell's sums start, which of
/// them it adds to, and its amount.
#[derive(Clone, Copy)]
struct Pending {
    at: u32,
    mask: u32,
    amount: i64,
}

/// Credits a buffer holds before they are added (16 bytes each). Credits
/// wait because their cells are random: added block by block, between
/// parses that push the sums out of the cache, each was a cache miss;
/// added a few hundred thousand at a time, most find their cell cached.
const PENDING: usize = 1 << 18;

/// Grids a fold handles (month, quarter, year, and one more).
const MAX_GRIDS: usize = 4;

impl Totals {
    /// Makes room for the fold's sums, for the totals at `slot` in
    /// [`Fold::totals`].
    fn ready(&mut self, fold: &Fold, slot: usize) {
        self.slot = slot;
        if self.sums.is_empty() {
            let k = fold.summed.len();
            self.sums = fold
                .grids
                .iter()
                .map(|g| vec![0i32; fold.n_people * g.grid.len() * k])
                .collect();
            self.high = fold.grids.iter().map(|_| Vec::new()).collect();
            self.pending = fold.grids.iter().map(|_| Vec::new()).collect();
        }
    }

    /// The number of the value keyed `key` (see [`GroupCredit::value`]).
    fn number(&mut self, key: (u64, u64)) -> u32 {
        let next = self.value_keys.len() as u32 + 1;
        let n = *self.values.entry(key).or_insert(next);
        if n == next {
            self.value_keys.push(key);
        }
        n
    }

    /// The exact key of `value` (`None`: empty).
    fn key(&mut self, value: KeyValue) -> Option<(u64, u64)> {
        match value {
            KeyValue::Number(x) => x.map(|x| (x as u64, NUMBER_KEY)),
            KeyValue::Text(b"") => None,
            KeyValue::Text(text) => Some(short_text_key(text).unwrap_or_else(|| {
                let place = self.long.len() as u64;
                self.long.push(String::from_utf8_lossy(text).into_owned());
                (place, LONG_KEY | self.slot as u64)
            })),
        }
    }

    /// Adds the credits waiting for grid `g`: measure j adds the amount, or
    /// 1 when `counted` has bit j, where the credit's mask has bit j.
    fn add_pending(&mut self, g: usize, k: usize, counted: u32) {
        let (Some(sums), Some(high), Some(pending)) = (
            self.sums.get_mut(g),
            self.high.get_mut(g),
            self.pending.get_mut(g),
        ) else {
            return;
        };
        let len = sums.len();
        for p in pending.iter() {
            let at = p.at as usize;
            let Some(cell) = sums.get_mut(at..at + k) else {
                continue;
            };
            // Only the sums the credit adds to: most credits pass one or
            // two filters of the several a cell holds.
            let mut bits = p.mask;
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let add = if counted >> j & 1 == 1 { 1 } else { p.amount };
                let Some(sum) = cell.get_mut(j) else {
                    continue;
                };
                let total = i64::from(*sum).checked_add(add);
                match total.and_then(|t| i32::try_from(t).ok()) {
                    Some(t) => *sum = t,
                    None => {
                        if high.is_empty() {
                            *high = vec![0; len];
                        }
                        if let Some(h) = high.get_mut(at + j) {
                            *h += i128::from(*sum) + i128::from(add);
                        }
                        *sum = 0;
                    }
                }
            }
        }
        pending.clear();
    }
}

/// What a fold made of one block: the crediting errors found in it, as a
/// run reports them.
pub struct BlockOutcome {
    errors: Vec<RunError>,
}

impl<'a> Fold<'a> {
    /// A fold of the workspace's measures for fiscal `year`; `None` when
    /// its shape is out of the fold's reach (more than 32 measures adding
    /// up credits, more than four period kinds, or more cells than 32 bits
    /// number), and the file is then read whole.
    pub fn new(ws: &'a Workspace, people: &Participants, year: i16) -> Option<Fold<'a>> {
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
        let kept_by = measures::row_filters(ws);
        let summed = measures::summed_measures(ws);
        let widest = grids.iter().map(|g| g.grid.len()).max().unwrap_or(0);
        // Grouped measures past 32 bits of cells keep their rows instead.
        let groups = measures::group_shapes(ws).filter(|g| {
            let cells = (grids.len() * g.len()) as u64 * people.len() as u64 * widest as u64;
            !g.is_empty() && cells < u64::from(u32::MAX)
        });
        let cells = (people.len() as u64)
            .saturating_mul(widest as u64)
            .saturating_mul(summed.len() as u64);
        if summed.len() > 32 || grids.len() > MAX_GRIDS || cells >= u64::from(u32::MAX) {
            return None;
        }
        let counted = summed
            .iter()
            .enumerate()
            .filter(|(_, s)| s.2)
            .fold(0u32, |m, (j, _)| m | 1 << j);
        let threads = rayon::current_num_threads().max(1) + 1;
        Some(Fold {
            ws,
            year,
            n_people: people.len(),
            days,
            grids,
            summed,
            counted,
            widest,
            kept_by,
            groups,
            totals: (0..threads)
                .map(|_| Mutex::new(Totals::default()))
                .collect(),
        })
    }

    /// The payouts, from the sums of every block and `kept`, the rows
    /// kept (with `outcomes`, what each block gave, in file order). The
    /// calculation's credits are those of the kept rows only, and its
    /// payouts carry amounts, not traces: what `attain calc` writes.
    pub fn finish(
        mut self,
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
        // Each thread's queued credits added on a core of its own.
        let counted = self.counted;
        let mut totals: Vec<Totals> = std::mem::take(&mut self.totals)
            .into_par_iter()
            .map(|t| {
                let mut t = t.into_inner().unwrap_or_else(|e| e.into_inner());
                for g in 0..t.pending.len() {
                    t.add_pending(g, k, counted);
                }
                t
            })
            .collect();
        let grouped = self.counted_groups(&mut totals);
        let mut tables = Vec::new();
        for ((g, grid_days), grouped) in self.grids.into_iter().enumerate().zip(grouped) {
            let cells = people.len() * grid_days.grid.len();
            // Cell-major sums into the measure-major layout `compute_with`
            // reads, a measure to a core.
            let mut presummed = vec![0i128; k * cells];
            presummed
                .par_chunks_mut(cells.max(1))
                .enumerate()
                .for_each(|(j, column)| {
                    for t in &totals {
                        if let Some(sums) = t.sums.get(g) {
                            let own = sums.iter().skip(j).step_by(k.max(1));
                            for (slot, &v) in column.iter_mut().zip(own) {
                                *slot += i128::from(v);
                            }
                        }
                        if let Some(high) = t.high.get(g) {
                            let own = high.iter().skip(j).step_by(k.max(1));
                            for (slot, &v) in column.iter_mut().zip(own) {
                                *slot += v;
                            }
                        }
                    }
                });
            let table = measures::compute_with(&inputs, grid_days.grid, Some(&presummed), &grouped)
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

    /// The period of `day` in each grid (`u8::MAX`: none).
    fn periods(&self, day: i32) -> [u8; MAX_GRIDS] {
        let mut periods = [u8::MAX; MAX_GRIDS];
        for (slot, grid) in periods.iter_mut().zip(&self.grids) {
            *slot = usize::try_from(day - grid.first_day)
                .ok()
                .and_then(|i| grid.by_day.get(i).copied())
                .unwrap_or(u8::MAX);
        }
        periods
    }

    /// Queues a credit of `amount` to participant `p`, adding to the sums
    /// `mask` names, in the periods of `periods`.
    fn queue(
        &self,
        totals: &mut Totals,
        periods: &[u8; MAX_GRIDS],
        p: u32,
        amount: i64,
        mask: u64,
    ) {
        if mask == 0 {
            return;
        }
        let k = self.summed.len();
        for ((grid, &per), pending) in self.grids.iter().zip(periods).zip(&mut totals.pending) {
            if per == u8::MAX {
                continue;
            }
            let at = (p as usize * grid.grid.len() + per as usize) * k;
            pending.push(Pending {
                at: at as u32,
                mask: mask as u32,
                amount,
            });
        }
    }

    /// Whether a credit to participant `p`, passing the filters of
    /// `kept_by` that `mask` names, keeps its row: it does unless the
    /// grouped measures are counted here, when it is recorded instead.
    fn keeps<'t>(
        &self,
        totals: &mut Totals,
        periods: &[u8; MAX_GRIDS],
        p: u32,
        mask: u64,
        value_of: impl Fn(usize) -> KeyValue<'t>,
    ) -> bool {
        if mask == 0 {
            return false;
        }
        if self.groups.is_none() {
            return true;
        }
        self.count_groups(totals, periods, p, mask, value_of);
        false
    }

    /// Records a credit to participant `p` for the grouped measures
    /// `mask` names, in the periods of `periods`; `value_of` gives a field
    /// of the credit's row.
    fn count_groups<'t>(
        &self,
        totals: &mut Totals,
        periods: &[u8; MAX_GRIDS],
        p: u32,
        mask: u64,
        value_of: impl Fn(usize) -> KeyValue<'t>,
    ) {
        let Some(groups) = &self.groups else {
            return;
        };
        let mut bits = mask;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let Some(shape) = groups.get(j) else {
                continue;
            };
            let Some(group) = totals.key(value_of(shape.field)) else {
                continue;
            };
            let value = match totals.key(value_of(shape.distinct)) {
                Some(key) => totals.number(key),
                None => 0,
            };
            for (g, &per) in periods.iter().enumerate().take(self.grids.len()) {
                if per == u8::MAX {
                    continue;
                }
                let credit = GroupCredit {
                    at: self.group_cell(g, j, p, per) as u32,
                    group,
                    value,
                };
                match totals.grouped.last_mut() {
                    Some(list) if list.len() < list.capacity() => list.push(credit),
                    _ => {
                        let mut list = Vec::with_capacity(GROUP_CHUNK);
                        list.push(credit);
                        totals.grouped.push(list);
                    }
                }
            }
        }
    }

    /// Where grouped measure `j` of grid `g` counts for participant `p` in
    /// period `per`: the grids one after another, in each the measures, in
    /// each the people, each with room for the widest grid's periods.
    fn group_cell(&self, g: usize, j: usize, p: u32, per: u8) -> usize {
        let measures = self.groups.as_ref().map_or(0, Vec::len);
        ((g * measures + j) * self.n_people + p as usize) * self.widest + usize::from(per)
    }

    /// The grid, grouped measure, participant and period of a
    /// [`Fold::group_cell`].
    fn group_cell_parts(&self, cell: usize) -> (usize, usize, usize, usize) {
        let measures = self.groups.as_ref().map_or(0, Vec::len).max(1);
        let (widest, people) = (self.widest.max(1), self.n_people.max(1));
        let (per, rest) = (cell % widest, cell / widest);
        let (p, rest) = (rest % people, rest / people);
        (rest / measures, rest % measures, p, per)
    }

    /// [`Fold::count_groups`] for the credits of a row of the usual shape
    /// ([`plain_row`]): kept out of line, as few rows have any.
    #[inline(never)]
    fn count_plain(
        &self,
        totals: &mut Totals,
        per: u8,
        (shares, owner): (&[(u32, i64)], u32),
        (split_keep, owner_keep): (u64, u64),
        row: &Row,
    ) {
        let periods = [per, u8::MAX, u8::MAX, u8::MAX];
        let value_of = |f| KeyValue::of_row(self.ws, row, f);
        for &(to, _) in shares {
            if to != NONE {
                self.count_groups(totals, &periods, to, split_keep, value_of);
            }
        }
        if owner != NONE {
            self.count_groups(totals, &periods, owner, owner_keep, value_of);
        }
    }

    /// The counts of the grouped measures from every thread's credits:
    /// per grid, (measure, count per cell).
    fn counted_groups(&self, totals: &mut [Totals]) -> Vec<Vec<(usize, Vec<u32>)>> {
        let Some(groups) = &self.groups else {
            return self.grids.iter().map(|_| Vec::new()).collect();
        };
        let grouped: Vec<Vec<Vec<GroupCredit>>> = totals
            .iter_mut()
            .map(|t| std::mem::take(&mut t.grouped))
            .collect();
        // Long text numbered across threads, the same text the same number.
        let mut numbers: crate::data::FastMap<&str, u64> = crate::data::fast_map();
        let renumbered: Vec<Vec<u64>> = totals
            .iter()
            .map(|t| {
                t.long
                    .iter()
                    .map(|text| {
                        let next = numbers.len() as u64;
                        *numbers.entry(text.as_str()).or_insert(next)
                    })
                    .collect()
            })
            .collect();
        let global = |(lo, hi): (u64, u64)| -> (u64, u64) {
            if numbers.is_empty() || hi & 0xff << 56 != LONG_KEY {
                return (lo, hi);
            }
            let slot = (hi & 0xffff_ffff) as usize;
            let number = renumbered
                .get(slot)
                .and_then(|n| n.get(lo as usize))
                .copied()
                .unwrap_or(u64::MAX);
            (number, GLOBAL_LONG_KEY)
        };
        // Values numbered across threads, the same key the same number
        // (0 stays empty): per thread, its numbers' numbers.
        let mut value_numbers: crate::data::FastMap<(u64, u64), u32> = crate::data::fast_map();
        let mut parts: Vec<Vec<GroupCredit>> = Vec::new();
        for (t, mut lists) in totals.iter().zip(grouped) {
            let mut own = vec![0u32];
            for &key in &t.value_keys {
                let next = value_numbers.len() as u32 + 1;
                own.push(*value_numbers.entry(global(key)).or_insert(next));
            }
            lists.par_iter_mut().flatten().for_each(|c| {
                c.group = global(c.group);
                c.value = own.get(c.value as usize).copied().unwrap_or(0);
            });
            parts.append(&mut lists);
        }
        let cells = self.grids.len() * groups.len() * self.n_people * self.widest;
        // Per cell: where it is, and how many of its groups hold.
        let holding = measures::visit_cells(
            parts,
            cells,
            |c| c.at as usize,
            |cell| cell.sort_unstable_by_key(|c| (c.group, c.value)),
            |cell| {
                let at = cell.first().map_or(0, |c| c.at as usize);
                let (_, j, _, _) = self.group_cell_parts(at);
                let holding = cell
                    .chunk_by(|a, b| a.group == b.group)
                    .filter(|group| {
                        let distinct = group
                            .chunk_by(|a, b| a.value == b.value)
                            .filter(|run| run.first().is_some_and(|c| c.value != 0))
                            .count();
                        groups.get(j).is_some_and(|shape| shape.holds(distinct))
                    })
                    .count();
                (at, holding as u32)
            },
        );
        let mut counts: Vec<Vec<(usize, Vec<u32>)>> = self
            .grids
            .iter()
            .map(|grid| {
                let cells = self.n_people * grid.grid.len();
                groups
                    .iter()
                    .map(|s| (s.measure, vec![0u32; cells]))
                    .collect()
            })
            .collect();
        for (at, holding) in holding {
            let (g, j, p, per) = self.group_cell_parts(at);
            let periods = self.grids.get(g).map_or(0, |grid| grid.grid.len());
            let slot = counts
                .get_mut(g)
                .and_then(|c| c.get_mut(j))
                .and_then(|(_, slots)| slots.get_mut(p * periods + per));
            if let Some(slot) = slot {
                *slot = holding;
            }
        }
        counts
    }

    /// Adds the queued credits where a buffer is full.
    fn add_full(&self, totals: &mut Totals) {
        for g in 0..self.grids.len() {
            if totals.pending.get(g).is_some_and(|p| p.len() >= PENDING) {
                totals.add_pending(g, self.summed.len(), self.counted);
            }
        }
    }

    /// The usual case, in one pass over the rows with no credit written
    /// down: each row is credited by [`credit_row`] (the rule the columnar
    /// pass follows), and each credit is queued for the sums it adds to and
    /// decides whether its row is kept, by its class. `None` when a filter
    /// reads more than one text column and `credited_as`.
    fn sift_in_one_pass(
        &self,
        rows: &Transactions,
        totals: &mut Totals,
    ) -> Option<(Vec<u32>, Vec<CreditError>)> {
        let ws = self.ws;
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
        let crate::data::Column::Participant(owners) = &rows.fields[ws.credit.to] else {
            return None;
        };
        let (first, last) = self.days;
        let mut kept: Vec<u32> = Vec::new();
        let mut errors = Vec::new();
        for (t, (&date, &owner)) in rows.date.iter().zip(owners).enumerate() {
            let day = day_number(date);
            if !(first..=last).contains(&day) {
                continue;
            }
            let periods = self.periods(day);
            let mut keep = false;
            let mut add = |p: u32, amount: i64, split: bool| {
                self.queue(
                    totals,
                    &periods,
                    p,
                    amount,
                    sums_by.mask(sums_by.class_of_row(t, split)),
                );
                let mask = keep_by
                    .as_ref()
                    .map_or(0, |m| m.mask(m.class_of_row(t, split)));
                let value_of = |f| KeyValue::of_stored(rows, t, f);
                keep |= self.keeps(totals, &periods, p, mask, value_of);
            };
            match credit_row(
                ws,
                &StoredRow { txns: rows, i: t },
                t as u32,
                |to, share| add(to, share, true),
            ) {
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
        Some((kept, errors))
    }

    /// Any filters: the block's credits written down, each filter
    /// evaluated on each credit.
    fn sift_by_credits(
        &self,
        rows: &Transactions,
        totals: &mut Totals,
    ) -> Result<Vec<u32>, Vec<CreditError>> {
        let (first, last) = self.days;
        let in_year = |i: usize| (first..=last).contains(&day_number(rows.date[i]));
        let credits = credit_serial(self.ws, rows, in_year)?;
        let schema = &self.ws.transactions;
        let summed: Vec<Filter> = self
            .summed
            .iter()
            .map(|(_, f, _)| Filter::compile(*f, schema, rows))
            .collect();
        let kept_by: Vec<Filter> = self
            .kept_by
            .iter()
            .map(|f| Filter::compile(*f, schema, rows))
            .collect();
        let view = CreditView::new(self.ws, rows, &credits);
        let mut kept: Vec<u32> = Vec::new();
        for c in 0..credits.len() {
            let t = credits.txn[c];
            // Bit j: the credit passes the j-th filter.
            let mask = |filters: &[Filter]| {
                filters
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.matches(&view, c))
                    .fold(0u64, |m, (j, _)| m | 1 << j)
            };
            let periods = self.periods(day_number(rows.date[t as usize]));
            let p = credits.participant[c];
            self.queue(totals, &periods, p, credits.amount[c], mask(&summed));
            let value_of = |f| KeyValue::of_stored(rows, t as usize, f);
            let keep = self.keeps(totals, &periods, p, mask(&kept_by), value_of);
            if keep && kept.last() != Some(&t) {
                kept.push(t);
            }
        }
        Ok(kept)
    }
}

/// A fold taking one block's rows as they are read: each row is credited,
/// its credits queued for the sums they add to, and only the rows that some
/// measure reads one by one are kept. Nothing of the other rows is stored.
pub struct FoldRows<'s, 'a> {
    fold: &'s Fold<'a>,
    totals: MutexGuard<'s, Totals>,
    /// Which sums each class of credit adds to.
    sums_by: ClassTable,
    /// Which classes of credit keep their row (none: no row is kept).
    keep_by: Option<ClassTable>,
    /// The usual shape, when the workspace has it.
    plain: Option<Plain<'s>>,
}

/// The usual shape of a fold, credited by a shorter step
/// ([`plain_row`]): one period grid, and every split's percent
/// read from a field (a whole number, as every row a fold sees holds it).
/// The general step makes the same credits through [`credit_row`]; the
/// tests hold the two to the same sums.
struct Plain<'s> {
    grid: &'s GridDays,
    /// Per split: its participant field, its percent field and its
    /// rounding.
    splits: Vec<(usize, usize, crate::money::RoundingMode)>,
}

impl<'s> Plain<'s> {
    fn new(fold: &'s Fold) -> Option<Plain<'s>> {
        let [grid] = fold.grids.as_slice() else {
            return None;
        };
        let splits = fold
            .ws
            .credit
            .splits
            .iter()
            .map(|s| match s.percent {
                crate::plan::SplitPercent::Field(f) => Some((s.to, f, s.rounding)),
                crate::plan::SplitPercent::Fixed(_) => None,
            })
            .collect::<Option<Vec<_>>>()
            .filter(|s| s.len() <= PLAIN_SPLITS)?;
        Some(Plain { grid, splits })
    }
}

/// Splits the usual shape takes (more go the general way).
const PLAIN_SPLITS: usize = 4;

/// [`RowSift::row`] in the usual shape: the rule of [`credit_row`] (split
/// shares rounded from the amount, the owner keeping the rest, the same
/// errors found) with nothing of the general case in the way. `None`, with
/// nothing queued, where the general step must decide: a row out of the
/// ordinary (an error to report, an amount too large to split here).
#[inline(always)]
fn plain_row(
    fold: &Fold,
    totals: &mut Totals,
    (sums_by, keep_by): (&ClassTable, Option<&ClassTable>),
    plain: &Plain,
    row: &Row,
) -> Option<bool> {
    let day = row.day;
    if !(fold.days.0..=fold.days.1).contains(&day) {
        return Some(false);
    }
    let per = usize::try_from(day - plain.grid.first_day)
        .ok()
        .and_then(|i| plain.grid.by_day.get(i).copied())
        .filter(|&p| p != u8::MAX)?;
    let amount = row.amount;
    let mut remaining = amount;
    let mut shares = [(NONE, 0i64); PLAIN_SPLITS];
    for (&(to, percent, rounding), slot) in plain.splits.iter().zip(&mut shares) {
        let to = row.participant(to);
        if to == NONE {
            continue;
        }
        let p = row.integer(percent);
        if p == crate::data::MISSING {
            return None;
        }
        let share = div_round(i128::from(amount) * i128::from(p), 100, rounding);
        let share = i64::try_from(share).ok()?;
        remaining = remaining.checked_sub(share)?;
        *slot = (to, share);
    }
    if (amount >= 0 && remaining < 0) || (amount < 0 && remaining > 0) {
        return None;
    }
    let owner = row.participant(fold.ws.credit.to);
    if owner == NONE && remaining != 0 {
        return None;
    }
    let text = sums_by.column().map_or(NONE, |c| row.text(c));
    let keep_text = keep_by
        .and_then(|k| k.column())
        .map_or(NONE, |c| row.text(c));
    let (split_mask, owner_mask) = (sums_by.mask(text, true), sums_by.mask(text, false));
    let keeps = keep_by.map_or((0, 0), |k| {
        (k.mask(keep_text, true), k.mask(keep_text, false))
    });
    let pending = totals.pending.first_mut()?;
    let periods = plain.grid.grid.len();
    let cell = |p: u32| ((p as usize * periods + per as usize) * fold.summed.len()) as u32;
    let mut keep = false;
    let shares = shares.get(..plain.splits.len()).unwrap_or_default();
    for &(to, share) in shares {
        if to != NONE {
            queue_plain(pending, cell(to), split_mask, share);
            keep = keep || keeps.0 != 0;
        }
    }
    if owner != NONE {
        queue_plain(pending, cell(owner), owner_mask, remaining);
        keep = keep || keeps.1 != 0;
    }
    if keep && fold.groups.is_some() {
        fold.count_plain(totals, per, (shares, owner), keeps, row);
        return Some(false);
    }
    Some(keep)
}

/// Queues a credit of `amount` to the sums at `at` that `mask` names, if
/// any.
#[inline(always)]
fn queue_plain(pending: &mut Vec<Pending>, at: u32, mask: u64, amount: i64) {
    if mask != 0 {
        pending.push(Pending {
            at,
            mask: mask as u32,
            amount,
        });
    }
}

impl FoldRows<'_, '_> {
    /// The general step: each row credited by [`credit_row`]. Kept out of
    /// line, so that the usual one is small enough to be inlined into the
    /// reader's loop.
    #[inline(never)]
    fn general_row(&mut self, row: &Row) -> bool {
        let fold = self.fold;
        let day = row.day;
        if !(fold.days.0..=fold.days.1).contains(&day) {
            return false;
        }
        let periods = fold.periods(day);
        let ws = fold.ws;
        let owner = row.participant(ws.credit.to);
        let text = self.sums_by.column().map_or(NONE, |c| row.text(c));
        let keep_text = self
            .keep_by
            .as_ref()
            .and_then(|k| k.column())
            .map_or(NONE, |c| row.text(c));
        let totals = &mut *self.totals;
        let (sums_by, keep_by) = (&self.sums_by, &self.keep_by);
        let mut keep = false;
        let mut add = |p: u32, amount: i64, split: bool| {
            fold.queue(totals, &periods, p, amount, sums_by.mask(text, split));
            let mask = keep_by.as_ref().map_or(0, |k| k.mask(keep_text, split));
            let value_of = |f| KeyValue::of_row(ws, row, f);
            keep |= fold.keeps(totals, &periods, p, mask, value_of);
        };
        match credit_row(ws, row, 0, |to, share| add(to, share, true)) {
            Ok(remaining) => {
                if owner != NONE {
                    add(owner, remaining, false);
                }
                keep
            }
            // Kept, so that `finish`, crediting the kept rows again, finds
            // the error and names the row.
            Err(_) => true,
        }
    }
}

impl RowSift for FoldRows<'_, '_> {
    type Out = BlockOutcome;

    #[inline(always)]
    fn row(&mut self, row: &Row) -> bool {
        if let Some(plain) = &self.plain {
            let tables = (&self.sums_by, self.keep_by.as_ref());
            if let Some(kept) = plain_row(self.fold, &mut self.totals, tables, plain, row) {
                return kept;
            }
        }
        self.general_row(row)
    }

    fn finish(mut self) -> BlockOutcome {
        self.fold.add_full(&mut self.totals);
        BlockOutcome { errors: Vec::new() }
    }
}

impl<'a> Sift for Fold<'a> {
    type Out = BlockOutcome;
    type Rows<'s>
        = FoldRows<'s, 'a>
    where
        Self: 's;

    /// Rows one at a time when every filter reads only `credited_as` and
    /// one text column.
    fn rows<'s>(&'s self, empty: &Transactions) -> Option<FoldRows<'s, 'a>> {
        let schema = &self.ws.transactions;
        let table = |filters: &[Option<&Expr>]| -> Option<ClassTable> {
            let compiled: Vec<Filter> = filters
                .iter()
                .map(|f| Filter::compile(*f, schema, empty))
                .collect();
            let refs: Vec<&Filter> = compiled.iter().collect();
            ClassMasks::new(&refs, empty).map(|m| m.table())
        };
        let sums_by = table(&self.summed.iter().map(|s| s.1).collect::<Vec<_>>())?;
        let keep_by = if self.kept_by.is_empty() {
            None
        } else {
            Some(table(&self.kept_by)?)
        };
        let slot = rayon::current_thread_index().unwrap_or(self.totals.len() - 1);
        let mutex = self.totals.get(slot).or(self.totals.last())?;
        let mut totals = mutex.lock().unwrap_or_else(|e| e.into_inner());
        totals.ready(self, slot);
        Some(FoldRows {
            fold: self,
            totals,
            sums_by,
            keep_by,
            plain: Plain::new(self),
        })
    }

    fn sift(&self, rows: &Transactions) -> (Keep, BlockOutcome) {
        let slot = rayon::current_thread_index().unwrap_or(self.totals.len() - 1);
        let Some(mutex) = self.totals.get(slot).or(self.totals.last()) else {
            return (Keep::All, BlockOutcome { errors: Vec::new() });
        };
        let mut guard = mutex.lock().unwrap_or_else(|e| e.into_inner());
        let totals = &mut *guard;
        totals.ready(self, slot);
        let (kept, errors) = match self.sift_in_one_pass(rows, totals) {
            Some(done) => done,
            None => match self.sift_by_credits(rows, totals) {
                Ok(kept) => (kept, Vec::new()),
                Err(errors) => (Vec::new(), errors),
            },
        };
        self.add_full(totals);
        let errors = credit_errors(rows, errors);
        (Keep::Rows(kept), BlockOutcome { errors })
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::data::{load_participants, load_transactions, sift_transactions_in_blocks, Sifted};
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
kind = { type = "text", values = ["new", "refund"] }
owner = { type = "participant" }
helper = { type = "participant", optional = true }
pct = { type = "integer", optional = true }
[credit]
to = "owner"
[[credit.split]]
to = "helper"
percent = "pct"
rounding = "half_even"
[measures]
sold = { sum = "credit", where = "kind == 'new'" }
refunded = { sum = "credit", where = "kind == 'refund'" }
deals = { count = "credits", where = "credited_as == 'owner'" }
net = "sold - refunded"
"#;

    const PLAN: &str = r#"
[plan]
id = "p"
[[components]]
id = "pay"
period = "quarter"
measure = "net"
rate = "1%"
[[components]]
id = "each"
period = "month"
measure = "deals"
payout = "$10 * deals"
[[components]]
id = "all"
period = "quarter"
measure = "sold"
rate = "100%"
"#;

    /// Sums far past 32 bits (and past 64 bits of cents in a month), with
    /// splits rounded half to even and negative credits, pay what the
    /// columnar calculation pays, in blocks of any size: by classes, and
    /// with a filter that is not (every credit written down).
    #[test]
    fn large_sums_fold_exactly() {
        let general =
            format!("{WORKSPACE}large = {{ sum = \"credit\", where = \"credit > $1000\" }}\n");
        for plan in [PLAN, &one_grid()] {
            fold_like_calculate(WORKSPACE, plan);
            fold_like_calculate(&general, plan);
        }
    }

    /// [`PLAN`] with every component paid by the quarter: one period grid,
    /// the shape credited by the usual step ([`plain_row`]).
    fn one_grid() -> String {
        PLAN.replace("period = \"month\"", "period = \"quarter\"")
    }

    /// A row that cannot be credited (no owner to keep what its split
    /// leaves) fails the fold as it fails the columnar calculation, naming
    /// the row, whether rows are taken one at a time or in blocks.
    #[test]
    fn rows_that_cannot_be_credited_are_named() {
        let optional_owner = WORKSPACE.replace(
            "owner = { type = \"participant\" }",
            "owner = { type = \"participant\", optional = true }",
        );
        let general =
            format!("{optional_owner}large = {{ sum = \"credit\", where = \"credit > $1000\" }}\n");
        let one_grid = one_grid();
        for (workspace, plan) in [
            (&optional_owner, PLAN),
            (&general, PLAN),
            (&optional_owner, &one_grid),
        ] {
            let (ws, people) = workspace_and_people(workspace, plan);
            let csv = "id,date,amount,kind,owner,helper,pct\n\
                       t1,2026-01-05,100.00,new,a,,\n\
                       t2,2026-02-05,100.00,new,,b,40\n\
                       t3,2026-03-05,100.00,new,a,b,50\n";
            let txns = load_transactions(&ws, &people, "d.csv", csv.as_bytes()).unwrap();
            let overrides = QuotaOverrides::new();
            let Err(expected) = super::super::calculate(&ws, &people, &txns, &overrides, 2026)
            else {
                panic!("t2 credited");
            };
            let fold = Fold::new(&ws, &people, 2026).unwrap();
            let read =
                sift_transactions_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), &fold, 64);
            let Ok(Sifted::Read { kept, outs }) = read else {
                panic!("sifted read failed");
            };
            let Err(got) = fold.finish(&people, &kept, &overrides, outs) else {
                panic!("t2 credited by the fold");
            };
            let messages = |e: &[RunError]| e.iter().map(|e| e.message.clone()).collect::<Vec<_>>();
            assert_eq!(messages(&got), messages(&expected));
            assert_eq!(
                messages(&got),
                ["transaction `t2` (line 3): the transaction has no owner to keep the part not split"]
            );
        }
    }

    /// Grouped measures of the usual shape are counted as the fold reads,
    /// keeping no row, and count what the columnar calculation counts: by
    /// text kept as written (short, longer than 15 bytes, empty), by a
    /// participant, over two period grids, for rows read one at a time,
    /// rows read the general way (a padded field), rows after a quoted
    /// field (the rest of the file read record by record, sifted as a
    /// block) and with a filter that needs every credit written down.
    #[test]
    fn grouped_measures_fold_like_calculate() {
        let workspace = WORKSPACE
            .replace(
                "pct = { type = \"integer\", optional = true }",
                "pct = { type = \"integer\", optional = true }\n\
                 account = \"text\"\nproduct = { type = \"text\", optional = true }",
            )
            .replace(
                "net = \"sold - refunded\"",
                "net = \"sold - refunded\"\n\
                 multi = { count_groups = \"account\", where = \"kind == 'new' and credited_as == 'owner'\", having = \"distinct(product) >= 2\" }\n\
                 helped = { count_groups = \"helper\", where = \"kind == 'new'\", having = \"distinct(product) == 4\" }\n",
            );
        let general = workspace.replace(
            "where = \"kind == 'new'\", having",
            "where = \"credit > $1\", having",
        );
        let plan = format!(
            "{PLAN}[[components]]\nid = \"spiff\"\nperiod = \"quarter\"\nmeasure = \"multi\"\n\
             payout = \"$1_000 * multi\"\n[[components]]\nid = \"help\"\nperiod = \"month\"\n\
             measure = \"helped\"\npayout = \"$100 * helped\"\n"
        );
        let accounts = [
            "acc1",
            "an account named at length",
            "acc2",
            "another account at length",
        ];
        let products = [
            "p1",
            "a product named at length",
            "",
            "another product at length",
            "p2",
        ];
        let mut rows = Vec::new();
        for i in 0..160 {
            let account = accounts[i % accounts.len()];
            let product = products[i % products.len()];
            let kind = if i % 9 == 4 { "refund" } else { "new" };
            let (helper, pct) = if i % 3 == 0 { ("b", "20") } else { ("", "") };
            let month = i % 12 + 1;
            rows.push(format!(
                "t{i:04},2026-{month:02}-15,{}.00,{kind},a,{helper},{pct},{account},{product}\n",
                10 + i
            ));
        }
        let header = "id,date,amount,kind,owner,helper,pct,account,product\n";
        let plain: String = std::iter::once(header.to_string())
            .chain(rows.iter().cloned())
            .collect();
        // A padded field sends its row the general way; a quoted one sends
        // the rest of the file through the record reader.
        let mut padded = rows.clone();
        padded[18] = padded[18].replace(",acc2,", ", acc2 ,");
        padded[102] = padded[102].replace(",acc2,", ",\"acc2\",");
        let padded: String = std::iter::once(header.to_string()).chain(padded).collect();
        for workspace in [&workspace, &general] {
            for csv in [&plain, &padded] {
                for plan in [
                    plan.as_str(),
                    &plan.replace("period = \"month\"", "period = \"quarter\""),
                ] {
                    let got = fold_grouped(workspace, plan, csv);
                    assert!(got > 0, "some group counts");
                }
            }
        }
    }

    /// Folds `csv` in blocks of several sizes and checks the payouts
    /// against the columnar calculation; the SPIFF's total paid.
    fn fold_grouped(workspace: &str, plan: &str, csv: &str) -> usize {
        let (ws, people) = workspace_and_people(workspace, plan);
        let txns = load_transactions(&ws, &people, "d.csv", csv.as_bytes()).unwrap();
        let overrides = QuotaOverrides::new();
        let expected = super::super::calculate(&ws, &people, &txns, &overrides, 2026).unwrap();
        for block in [100, 700, 1 << 20] {
            let fold = Fold::new(&ws, &people, 2026).unwrap();
            assert!(fold.groups.is_some());
            let read =
                sift_transactions_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), &fold, block);
            let Ok(Sifted::Read { kept, outs }) = read else {
                panic!("sifted read failed");
            };
            assert!(kept.is_empty(), "no row kept, block {block}");
            let got = fold.finish(&people, &kept, &overrides, outs).unwrap();
            assert_eq!(amounts_of(&got), amounts_of(&expected), "block {block}");
        }
        expected
            .payouts
            .iter()
            .filter(|p| p.amount >= Decimal::from(1_000) && p.component == 3)
            .count()
    }

    /// The workspace and plan checked, with two participants, `a` and
    /// `b`, on the plan.
    fn workspace_and_people(workspace: &str, plan: &str) -> (Workspace, Participants) {
        let checked = crate::plan::check_workspace(
            &SourceFile::new("attain.toml", workspace),
            &[SourceFile::new("plans/p.toml", plan)],
        );
        let Some(ws) = checked.workspace else {
            panic!("{}", crate::diag::render(&checked.diagnostics));
        };
        let people = load_participants(&ws, "p.csv", "id,plan\na,p\nb,p\n".as_bytes()).unwrap();
        (ws, people)
    }

    /// Each payout's participant, period, component and amount.
    fn amounts_of(c: &Calculation) -> Vec<(u32, String, usize, Decimal)> {
        c.payouts
            .iter()
            .map(|p| (p.participant, p.period.to_string(), p.component, p.amount))
            .collect()
    }

    fn fold_like_calculate(workspace: &str, plan: &str) {
        let (ws, people) = workspace_and_people(workspace, plan);
        let mut csv = String::from("id,date,amount,kind,owner,helper,pct\n");
        let amounts = [
            "90000000000000000.00",
            "90000000000000000.00",
            "21474836.47",
            "0.03",
            "12345678901.25",
            "0.05",
        ];
        for i in 0..120 {
            let amount = amounts[i % amounts.len()];
            let kind = if i % 7 == 3 { "refund" } else { "new" };
            // 50% of an odd number of cents, and 30% of 5 cents: halves,
            // which rounding half to even settles.
            let (helper, pct) = match i % 6 {
                0 | 3 => ("b", "50"),
                5 => ("b", "30"),
                _ => ("", ""),
            };
            let month = i % 12 + 1;
            csv.push_str(&format!(
                "t{i:04},2026-{month:02}-15,{amount},{kind},a,{helper},{pct}\n"
            ));
        }
        let txns = load_transactions(&ws, &people, "d.csv", csv.as_bytes()).unwrap();
        let overrides = QuotaOverrides::new();
        let expected = super::super::calculate(&ws, &people, &txns, &overrides, 2026).unwrap();
        assert!(expected
            .payouts
            .iter()
            .any(|p| p.amount > Decimal::from(1u64 << 40)));
        for block in [60, 200, 1 << 20] {
            let fold = Fold::new(&ws, &people, 2026).unwrap();
            assert_eq!(Plain::new(&fold).is_some(), plan != PLAN);
            let read =
                sift_transactions_in_blocks(&ws, &people, "d.csv", csv.as_bytes(), &fold, block);
            let Ok(Sifted::Read { kept, outs }) = read else {
                panic!("sifted read failed");
            };
            assert_eq!(kept.len(), 0, "no measure reads rows one by one");
            let got = fold.finish(&people, &kept, &overrides, outs).unwrap();
            assert_eq!(amounts_of(&got), amounts_of(&expected), "block {block}");
        }
    }
}
