//! The deal flow of past and current periods, as the forecast samples it.
//!
//! A period is cut into *units* of a week (a month or a quarter) or four
//! weeks (a year), counted from its first day; the last unit takes the days
//! left over. For every period of the history and every unit, each
//! person's *increment* of each base measure (a sum, a count, a distinct
//! or group count) is its value over the period's first days up to the
//! unit's end less its value up to the unit's start. Those values come
//! from the engine's own measures, computed on grids of periods cut short
//! ("the first 14 days of every quarter"), so a forecast reads exactly the
//! figures a calculation would.
//!
//! Sums and counts of credits are additive, so their increments are exact.
//! Distinct and group counts are not: their increment is what the count
//! gained over those days in that period (a group counts on the day it
//! first qualifies), which is the stated approximation of the forecast.

use crate::calendar::{days_between, Period, PeriodKind};
use crate::engine::credit;
use crate::engine::measures::{self, MeasureInputs, MeasureTable, PeriodGrid};
use crate::engine::RunError;
use crate::plan::MeasureKind;
use jiff::civil::Date;
use rust_decimal::Decimal;

/// Days observed of every period: the whole period.
pub(super) const WHOLE: i32 = i32::MAX;

/// Days in one unit of a period of `kind`.
pub(super) fn unit_days(kind: PeriodKind) -> i32 {
    match kind {
        PeriodKind::Month | PeriodKind::Quarter => 7,
        PeriodKind::Year => 28,
    }
}

/// How many units a period of `len` days has (at least one).
pub(super) fn units(len: i32, unit: i32) -> usize {
    ((len + unit / 2) / unit).max(1) as usize
}

/// Unit `k` of a `len`-day period: days `from..to` counted from its start.
pub(super) fn unit_bounds(len: i32, unit: i32, k: usize) -> (i32, i32) {
    let last = units(len, unit) - 1;
    let from = unit * k as i32;
    let to = if k >= last { len } else { from + unit };
    (from, to)
}

/// Whether a measure is read from credits (its increments are sampled) or
/// computed from other values (recomputed in each simulation).
pub(super) fn is_base(kind: &MeasureKind) -> bool {
    matches!(
        kind,
        MeasureKind::Sum { .. }
            | MeasureKind::Count { .. }
            | MeasureKind::CountDistinct { .. }
            | MeasureKind::CountGroups { .. }
    )
}

pub(super) struct History {
    pub kind: PeriodKind,
    pub unit: i32,
    pub periods: Vec<Period>,
    pub starts: Vec<Date>,
    pub ends: Vec<Date>,
    /// Whether the data (up to the last date read) covers the period: it
    /// has transactions in its first and its last unit.
    pub has_data: Vec<bool>,
    /// Indexes into `ws.measures` of the base measures.
    pub base: Vec<usize>,
    n_people: usize,
    /// Days observed for which values are kept, ascending; [`WHOLE`] last.
    cuts: Vec<i32>,
    /// Per cut: `[(period × people + person) × base + j]`.
    values: Vec<Vec<Decimal>>,
    /// Quotas and active days over whole periods.
    pub whole: MeasureTable,
}

impl History {
    /// Computes base measures of every period of `kind` in `years` over
    /// their first `d` days, for each `d` in `extra_cuts` and at every unit
    /// boundary; transactions after `through` are not read.
    pub fn build(
        inputs: &super::Inputs,
        kind: PeriodKind,
        years: &[i16],
        through: Option<Date>,
        extra_cuts: &[i32],
    ) -> Result<History, Vec<RunError>> {
        let super::Inputs {
            ws,
            people,
            txns,
            overrides,
        } = *inputs;
        let cal = &ws.calendar;
        let periods: Vec<Period> = years.iter().flat_map(|y| cal.periods(*y, kind)).collect();
        let starts: Vec<Date> = periods.iter().map(|p| cal.start(*p)).collect();
        let ends: Vec<Date> = periods.iter().map(|p| cal.end(*p)).collect();
        let (Some(&first), Some(&last)) = (starts.first(), ends.last()) else {
            return Err(vec![RunError {
                message: "no period to forecast".into(),
            }]);
        };
        let read = |i: usize| {
            let d = txns.date[i];
            d >= first && d <= last && through.is_none_or(|t| d <= t)
        };
        // A period is covered when the data has transactions in its first
        // and in its last unit: a file that starts with a period's last
        // month (deals of the previous year that slipped in) is no history.
        let unit = unit_days(kind);
        let mut first_unit = vec![false; periods.len()];
        let mut last_unit = vec![false; periods.len()];
        for i in 0..txns.len() {
            if read(i) {
                let q = ends.partition_point(|e| *e < txns.date[i]);
                if q < periods.len() {
                    let len = days_between(starts[q], ends[q]) + 1;
                    let day = days_between(starts[q], txns.date[i]);
                    let last = units(len, unit) - 1;
                    first_unit[q] |= day < unit_bounds(len, unit, 0).1;
                    last_unit[q] |= day >= unit_bounds(len, unit, last).0;
                }
            }
        }
        let has_data: Vec<bool> = first_unit
            .iter()
            .zip(&last_unit)
            .map(|(a, b)| *a && *b)
            .collect();
        let credits = credit::credit(ws, people, txns, read)
            .map_err(|errors| crate::engine::credit_errors(txns, errors))?;
        // Only base measures are computed on the cut grids: derived and
        // roll-up measures are recomputed in each simulation, and a formula
        // that divides by a figure of a few days has no business failing
        // here.
        let base: Vec<usize> = (0..ws.measures.len())
            .filter(|&m| is_base(&ws.measures[m].kind))
            .collect();
        let mut base_ws = ws.clone();
        base_ws.measures = base.iter().map(|&m| ws.measures[m].clone()).collect();
        base_ws.plans = Vec::new();
        let longest = (0..periods.len())
            .map(|i| days_between(starts[i], ends[i]) + 1)
            .max()
            .unwrap_or(0);
        let mut cuts: Vec<i32> = (1..units(longest, unit))
            .map(|k| unit * k as i32)
            .chain(
                extra_cuts
                    .iter()
                    .copied()
                    .filter(|d| *d > 0 && *d < longest),
            )
            .chain([WHOLE])
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let measure_inputs = MeasureInputs {
            ws: &base_ws,
            people,
            txns,
            credits: &credits,
            overrides,
        };
        let n_people = people.len();
        let nb = base.len();
        let mut values = Vec::with_capacity(cuts.len());
        let mut whole = None;
        for &cut in &cuts {
            let grid = PeriodGrid {
                kind,
                periods: periods.clone(),
                starts: starts.clone(),
                ends: (0..periods.len())
                    .map(|i| {
                        if cut == WHOLE {
                            ends[i]
                        } else {
                            starts[i]
                                .checked_add(jiff::Span::new().days(cut - 1))
                                .map_or(ends[i], |d| d.min(ends[i]))
                        }
                    })
                    .collect(),
            };
            let table = measures::compute(&measure_inputs, grid)
                .map_err(|e| crate::engine::measure_errors(people, e))?;
            let mut v = vec![Decimal::ZERO; periods.len() * n_people * nb];
            for q in 0..periods.len() {
                for p in 0..n_people {
                    for j in 0..nb {
                        v[(q * n_people + p) * nb + j] = table.value(j, p as u32, q);
                    }
                }
            }
            values.push(v);
            if cut == WHOLE {
                whole = Some(table);
            }
        }
        let Some(whole) = whole else {
            return Err(vec![RunError {
                message: "no whole-period figures".into(),
            }]);
        };
        Ok(History {
            kind,
            unit,
            periods,
            starts,
            ends,
            has_data,
            base,
            n_people,
            cuts,
            values,
            whole,
        })
    }

    pub fn len_of(&self, q: usize) -> i32 {
        days_between(self.starts[q], self.ends[q]) + 1
    }

    pub fn units_of(&self, q: usize) -> usize {
        units(self.len_of(q), self.unit)
    }

    /// Base measure `j` of person `p` over the first `days` days of period
    /// `q` (0 for none, the whole period from its length on).
    pub fn value(&self, q: usize, p: usize, j: usize, days: i32) -> Decimal {
        if days <= 0 {
            return Decimal::ZERO;
        }
        let cut = if days >= self.len_of(q) { WHOLE } else { days };
        match self.cuts.binary_search(&cut) {
            Ok(c) => self.values[c][(q * self.n_people + p) * self.base.len() + j],
            // Cuts are built for every day a caller asks about.
            Err(_) => Decimal::ZERO,
        }
    }

    /// What unit `k` of period `q` added to person `p`'s base measures.
    pub fn increment(&self, q: usize, k: usize, p: usize, out: &mut [Decimal]) {
        let (from, to) = unit_bounds(self.len_of(q), self.unit, k);
        for (j, o) in out.iter_mut().enumerate() {
            *o = self.value(q, p, j, to) - self.value(q, p, j, from);
        }
    }

    /// The period holding `date`, if the history has it.
    pub fn period_index(&self, period: Period) -> Option<usize> {
        self.periods.iter().position(|p| *p == period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_of_a_quarter_and_a_year() {
        // 90 days: 12 weeks and a last unit of 6 days; 92 days: of 8.
        assert_eq!(units(90, 7), 13);
        assert_eq!(unit_bounds(90, 7, 12), (84, 90));
        assert_eq!(unit_bounds(92, 7, 12), (84, 92));
        assert_eq!(unit_bounds(92, 7, 0), (0, 7));
        // A 31-day month: 3 weeks and a last unit of 10 days.
        assert_eq!(units(31, 7), 4);
        assert_eq!(unit_bounds(31, 7, 3), (21, 31));
        assert_eq!(units(365, 28), 13);
        assert_eq!(unit_bounds(365, 28, 12), (336, 365));
    }
}
