//! Forecasts: from the period to date, each person's end-of-period payout
//! and attainment and the plan's total cost, with their spread (P10, P50,
//! P90), by simulating the rest of the period from the history of deal
//! flow; and the backtest that says how good that is.
//!
//! The engine is not run per simulated period. Base measures (sums and
//! counts of credits, distinct and group counts) are computed once, by the
//! engine, per person over the first days of every period
//! ([`history`]); a simulation adds drawn units of past flow to the
//! period-to-date values and recomputes the rest exactly
//! ([`simulate`]). See DESIGN.md, "How does the forecast work?".

mod history;
mod simulate;

pub use simulate::Source;

use crate::calendar::{days_between, Period, PeriodKind};
use crate::data::{Participants, Transactions};
use crate::engine::measures::QuotaOverrides;
use crate::engine::{self, RunError};
use crate::plan::Workspace;
use crate::stats::nearest_rank;
use history::History;
use jiff::civil::Date;
use rust_decimal::Decimal;
use simulate::{Outcome, Simulation};

/// What a forecast reads.
pub struct Inputs<'a> {
    pub ws: &'a Workspace,
    pub people: &'a Participants,
    pub txns: &'a Transactions,
    pub overrides: &'a QuotaOverrides,
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub simulations: usize,
    pub seed: u64,
}

/// The 10th, 50th and 90th percentiles of the simulated outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    pub p10: Decimal,
    pub p50: Decimal,
    pub p90: Decimal,
}

impl Spread {
    /// Nearest-rank percentiles (the value at rank ⌈q·n/100⌉): always one
    /// of the simulated values, so exact and reproducible.
    pub fn of(values: &[Decimal]) -> Option<Spread> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        Some(Spread {
            p10: nearest_rank(&sorted, 10)?,
            p50: nearest_rank(&sorted, 50)?,
            p90: nearest_rank(&sorted, 90)?,
        })
    }

    pub fn contains(&self, v: Decimal) -> bool {
        self.p10 <= v && v <= self.p90
    }
}

/// One person's projected end of period.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonForecast {
    pub participant: u32,
    pub plan: usize,
    pub source: Source,
    /// What the period's components pay on the period to date.
    pub to_date: Decimal,
    pub payout: Spread,
    /// The attainment of the first component (in id order) with a measure
    /// and a quota; `None` when it has no value (a zero quota).
    pub attainment: Option<AttainmentForecast>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttainmentForecast {
    /// Index into the plan's components.
    pub component: usize,
    pub to_date: Option<Decimal>,
    pub spread: Spread,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub period: Period,
    pub as_of: Date,
    /// Days of the period on or before `as_of`, and all its days.
    pub days_observed: i32,
    pub period_days: i32,
    pub simulations: usize,
    pub seed: u64,
    /// The earlier periods whose flow was drawn from.
    pub history: Vec<Period>,
    /// In participant id order.
    pub people: Vec<PersonForecast>,
    pub to_date_total: Decimal,
    pub total: Spread,
}

fn fail(message: impl Into<String>) -> Vec<RunError> {
    vec![RunError {
        message: message.into(),
    }]
}

/// Days of `period` on or before `as_of` (0 to the period's length).
fn days_observed(ws: &Workspace, period: Period, as_of: Date) -> i32 {
    let len = ws.calendar.days(period);
    (days_between(ws.calendar.start(period), as_of) + 1).clamp(0, len)
}

/// The periods of the fiscal year before `period`'s and of its own: the
/// history a forecast may draw from.
fn years_for(period: Period) -> [i16; 2] {
    [period.year - 1, period.year]
}

/// Forecasts `period` as of the end of `as_of`: transactions dated after
/// it are not read.
pub fn forecast(
    inputs: &Inputs,
    period: Period,
    as_of: Date,
    settings: Settings,
) -> Result<Forecast, Vec<RunError>> {
    let observed = days_observed(inputs.ws, period, as_of);
    let h = History::build(
        inputs,
        period.kind,
        &years_for(period),
        Some(as_of),
        &[observed],
    )?;
    project(inputs, &h, period, as_of, observed, settings)
}

fn project(
    inputs: &Inputs,
    h: &History,
    period: Period,
    as_of: Date,
    observed: i32,
    settings: Settings,
) -> Result<Forecast, Vec<RunError>> {
    let Some(t) = h.period_index(period) else {
        return Err(fail(format!("{period} is not in the history")));
    };
    let sim = Simulation::new(inputs.ws, inputs.people, h, t, observed);
    let outcome = sim
        .run(settings.simulations.max(1), settings.seed)
        .map_err(|e| vec![e])?;
    let history = (0..t)
        .filter(|&q| h.has_data[q] && h.ends[q] < h.starts[t])
        .map(|q| h.periods[q])
        .collect();
    Ok(summarize(
        outcome,
        period,
        as_of,
        observed,
        h.len_of(t),
        settings,
        history,
    ))
}

fn summarize(
    o: Outcome,
    period: Period,
    as_of: Date,
    observed: i32,
    period_days: i32,
    settings: Settings,
    history: Vec<Period>,
) -> Forecast {
    let zero = Spread {
        p10: Decimal::ZERO,
        p50: Decimal::ZERO,
        p90: Decimal::ZERO,
    };
    let people = (0..o.payees.len())
        .map(|i| {
            let attainment = o.attainment_component[i].and_then(|component| {
                let values: Option<Vec<Decimal>> = o.attainments[i].iter().copied().collect();
                Some(AttainmentForecast {
                    component,
                    to_date: o.to_date_attainment[i],
                    spread: Spread::of(&values?)?,
                })
            });
            PersonForecast {
                participant: o.payees[i],
                plan: o.plans[i],
                source: o.sources[i],
                to_date: o.to_date[i],
                payout: Spread::of(&o.payouts[i]).unwrap_or(zero),
                attainment,
            }
        })
        .collect();
    Forecast {
        period,
        as_of,
        days_observed: observed,
        period_days,
        simulations: settings.simulations.max(1),
        seed: settings.seed,
        history,
        people,
        to_date_total: o.to_date.iter().copied().sum(),
        total: Spread::of(&o.totals).unwrap_or(zero),
    }
}

/// One period forecast at its middle and compared with what it paid.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestPeriod {
    pub forecast: Forecast,
    /// The full calculation's total for the period's components.
    pub actual_total: Decimal,
    /// Per person, in the forecast's order: what the calculation paid.
    pub actual: Vec<Decimal>,
}

impl BacktestPeriod {
    /// |P50 − actual| per person, sorted ascending.
    pub fn person_errors(&self) -> Vec<Decimal> {
        let mut e: Vec<Decimal> = self
            .forecast
            .people
            .iter()
            .zip(&self.actual)
            .map(|(f, a)| (f.payout.p50 - a).abs())
            .collect();
        e.sort_unstable();
        e
    }

    /// How many people's actual payout fell within their P10–P90.
    pub fn people_within(&self) -> usize {
        self.forecast
            .people
            .iter()
            .zip(&self.actual)
            .filter(|(f, a)| f.payout.contains(**a))
            .count()
    }
}

/// Forecasts every period of `kind` in fiscal `year` that the data covers,
/// each as of its middle day from the data up to then, and compares each
/// with the full calculation of the year.
pub fn backtest(
    inputs: &Inputs,
    year: i16,
    kind: PeriodKind,
    settings: Settings,
) -> Result<Vec<BacktestPeriod>, Vec<RunError>> {
    let ws = inputs.ws;
    let calc = engine::calculate(ws, inputs.people, inputs.txns, inputs.overrides, year)?;
    let periods = ws.calendar.periods(year, kind);
    let mids: Vec<i32> = periods.iter().map(|p| ws.calendar.days(*p) / 2).collect();
    // One history for every period: a period's own figures are read only
    // up to its middle, and only earlier periods are drawn from, so no
    // forecast sees a day after its own as-of date.
    let h = History::build(inputs, kind, &[year - 1, year], None, &mids)?;
    let mut out = Vec::new();
    for (period, observed) in periods.into_iter().zip(mids) {
        let Some(t) = h.period_index(period) else {
            continue;
        };
        // A period the data does not cover to its end has no actual
        // result to compare with.
        if !h.has_data[t] {
            continue;
        }
        let start = ws.calendar.start(period);
        let as_of = start
            .checked_add(jiff::Span::new().days(observed - 1))
            .unwrap_or(start);
        let f = project(inputs, &h, period, as_of, observed, settings)?;
        let mut actual = vec![Decimal::ZERO; f.people.len()];
        let position: std::collections::HashMap<u32, usize> = f
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.participant, i))
            .collect();
        let mut actual_total = Decimal::ZERO;
        for p in calc.payouts.iter().filter(|p| p.period == period) {
            actual_total += p.amount;
            if let Some(&i) = position.get(&p.participant) {
                actual[i] += p.amount;
            }
        }
        out.push(BacktestPeriod {
            forecast: f,
            actual_total,
            actual,
        });
    }
    Ok(out)
}
