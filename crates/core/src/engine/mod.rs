//! The calculation: transactions → credits → measures → payouts.
//!
//! **Architecture Invariant:** this module performs no I/O. It takes loaded
//! data and a checked workspace and returns payouts with their traces, the
//! same bytes for the same inputs whatever the order of the input rows.

pub mod credit;
pub mod evaluate;
pub mod filter;
pub mod fold;
pub mod incremental;
pub mod measures;
pub mod probe;
pub mod trace;

use crate::calendar::{Period, PeriodKind};
use crate::data::{Participants, Transactions};
use crate::plan::Workspace;
use credit::Credits;
use evaluate::{evaluate, ComponentInputs};
use measures::{MeasureInputs, MeasureTable, PeriodGrid, QuotaOverrides};
use rayon::prelude::*;
use rust_decimal::Decimal;
use trace::Trace;

/// One payout: a participant, a period, a component of their plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Payout {
    pub participant: u32,
    pub period: Period,
    pub plan: usize,
    pub component: usize,
    pub amount: Decimal,
    pub trace: Trace,
}

/// Everything one run computed, kept so payouts can be explained.
#[derive(Debug, Clone)]
pub struct Calculation {
    pub year: i16,
    pub credits: Credits,
    /// One table per period kind the plans use.
    pub tables: Vec<MeasureTable>,
    /// Sorted by participant id, period, component id.
    pub payouts: Vec<Payout>,
}

impl Calculation {
    pub fn table(&self, kind: PeriodKind) -> Option<&MeasureTable> {
        self.tables.iter().find(|t| t.grid.kind == kind)
    }

    /// Every payout added up (exactly, so the order of the additions on
    /// the cores changes nothing).
    pub fn total(&self) -> Decimal {
        use rayon::prelude::*;
        self.payouts.par_iter().map(|p| p.amount).sum()
    }
}

/// Crediting errors as a run reports them: the transaction's id and line,
/// the first 50.
pub fn credit_errors(txns: &Transactions, errors: Vec<credit::CreditError>) -> Vec<RunError> {
    errors
        .into_iter()
        .take(50)
        .map(|e| RunError {
            message: format!(
                "transaction `{}` (line {}): {}",
                txns.id(e.txn as usize),
                txns.line(e.txn as usize),
                e.message
            ),
        })
        .collect()
}

/// Measure errors as a run reports them: the measure, the participant and
/// the period.
pub fn measure_errors(people: &Participants, errors: Vec<measures::MeasureError>) -> Vec<RunError> {
    errors
        .into_iter()
        .map(|e| RunError {
            message: format!(
                "measure `{}` for `{}` in {}: {}",
                e.measure, people.ids[e.participant as usize], e.period, e.message
            ),
        })
        .collect()
}

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError {
    pub message: String,
}

/// Calculates every payout of fiscal `year`.
pub fn calculate(
    ws: &Workspace,
    people: &Participants,
    txns: &Transactions,
    overrides: &QuotaOverrides,
    year: i16,
) -> Result<Calculation, Vec<RunError>> {
    calculate_for(ws, people, txns, overrides, year, None)
}

/// [`calculate`], evaluating the payouts of `only` (when given) and of
/// nobody else: measures are still computed for everyone, since roll-ups
/// read them, but a live update that moves three people's payouts does not
/// evaluate a thousand.
pub fn calculate_for(
    ws: &Workspace,
    people: &Participants,
    txns: &Transactions,
    overrides: &QuotaOverrides,
    year: i16,
    only: Option<&std::collections::BTreeSet<u32>>,
) -> Result<Calculation, Vec<RunError>> {
    let (credits, tables) = prepare(ws, people, txns, overrides, year)?;
    let payouts = payouts_in_id_order(ws, people, &tables, &|plan| plan, only)?;
    Ok(Calculation {
        year,
        credits,
        tables,
        payouts,
    })
}

/// What every payout of fiscal `year` reads: the credits, and the measure
/// and quota tables of each period kind the plans use. Modeling computes
/// these once and evaluates several plans on them.
pub fn prepare(
    ws: &Workspace,
    people: &Participants,
    txns: &Transactions,
    overrides: &QuotaOverrides,
    year: i16,
) -> Result<(Credits, Vec<MeasureTable>), Vec<RunError>> {
    let year_grid = PeriodGrid::new(&ws.calendar, year, PeriodKind::Year);
    let (first, last) = (year_grid.starts[0], year_grid.ends[0]);
    let credits = credit::credit(ws, people, txns, |i| {
        txns.date[i] >= first && txns.date[i] <= last
    })
    .map_err(|errors| credit_errors(txns, errors))?;
    let inputs = MeasureInputs {
        ws,
        people,
        txns,
        credits: &credits,
        overrides,
    };
    let mut tables = Vec::new();
    for kind in ws.period_kinds() {
        let grid = PeriodGrid::new(&ws.calendar, year, kind);
        let table = measures::compute(&inputs, grid).map_err(|e| measure_errors(people, e))?;
        tables.push(table);
    }

    Ok((credits, tables))
}

/// The payouts of everyone (or of `only`), sorted by participant id, each
/// paid by the plan `plan_for` gives for the plan they are on. Each
/// participant's payouts are evaluated on any core and joined in id order,
/// so the result is the same as one pass in that order.
pub fn payouts_in_id_order(
    ws: &Workspace,
    people: &Participants,
    tables: &[MeasureTable],
    plan_for: &(dyn Fn(usize) -> usize + Sync),
    only: Option<&std::collections::BTreeSet<u32>>,
) -> Result<Vec<Payout>, Vec<RunError>> {
    payouts_with(ws, people, tables, plan_for, only, true)
}

/// [`payouts_in_id_order`], keeping each payout's trace or not: a run that
/// writes amounts only drops each trace as soon as it is made, so the
/// memory is used again (at 100,000 payouts the traces are ≈ 60 MB, each
/// 4 KB of it a page fault when first touched).
pub(crate) fn payouts_with(
    ws: &Workspace,
    people: &Participants,
    tables: &[MeasureTable],
    plan_for: &(dyn Fn(usize) -> usize + Sync),
    only: Option<&std::collections::BTreeSet<u32>>,
    traces: bool,
) -> Result<Vec<Payout>, Vec<RunError>> {
    let mut order: Vec<u32> = (0..people.len() as u32)
        .filter(|p| only.is_none_or(|set| set.contains(p)))
        .collect();
    order.sort_by(|a, b| people.ids[*a as usize].cmp(&people.ids[*b as usize]));
    let by = PayBy::new(ws, plan_for, traces);
    let per_person: Vec<(Vec<Payout>, Vec<RunError>)> = order
        .par_iter()
        .map(|&p| {
            let (mut found, mut failed) = (Vec::new(), Vec::new());
            payouts_of(ws, people, tables, p, &by, &mut found, &mut failed);
            (found, failed)
        })
        .collect();
    let mut payouts = Vec::with_capacity(per_person.iter().map(|(v, _)| v.len()).sum());
    let mut errors = Vec::new();
    for (mut found, failed) in per_person {
        payouts.append(&mut found);
        errors.extend(failed);
    }
    errors.truncate(50);
    if errors.is_empty() {
        Ok(payouts)
    } else {
        Err(errors)
    }
}

/// How a participant's payouts are made.
pub struct PayBy<'a> {
    /// The plan that pays for the plan they are on: the plan itself in a
    /// run; a candidate in a what-if.
    plan_for: &'a (dyn Fn(usize) -> usize + Sync),
    /// Whether each payout carries its trace.
    explain: bool,
    /// Per plan, its components in id order, the order payouts are made
    /// in: sorted once, not for every participant and period.
    component_order: Vec<Vec<usize>>,
}

impl<'a> PayBy<'a> {
    pub fn new(
        ws: &Workspace,
        plan_for: &'a (dyn Fn(usize) -> usize + Sync),
        explain: bool,
    ) -> PayBy<'a> {
        let component_order = ws
            .plans
            .iter()
            .map(|plan| {
                let mut order: Vec<usize> = (0..plan.components.len()).collect();
                order.sort_by(|a, b| plan.components[*a].id.cmp(&plan.components[*b].id));
                order
            })
            .collect();
        PayBy {
            plan_for,
            explain,
            component_order,
        }
    }
}

/// Appends the payouts of participant `p`, in period then component order,
/// paid as `by` says.
pub fn payouts_of(
    ws: &Workspace,
    people: &Participants,
    tables: &[MeasureTable],
    p: u32,
    by: &PayBy,
    payouts: &mut Vec<Payout>,
    errors: &mut Vec<RunError>,
) {
    let (plan_for, explain) = (by.plan_for, by.explain);
    // Periods in time order across kinds: a year sorts after its quarters.
    let mut cells: Vec<(Period, usize, usize)> = Vec::new();
    for (ti, table) in tables.iter().enumerate() {
        for (i, period) in table.grid.periods.iter().enumerate() {
            if table.active_days(p, i) > 0 {
                cells.push((*period, ti, i));
            }
        }
    }
    // One kind of period is in time order already.
    if tables.len() > 1 {
        cells.sort_by_cached_key(|(period, _, _)| period.to_string());
    }
    for (period, ti, i) in cells {
        let table = &tables[ti];
        let Some(plan_index) = people.plan_at(p, table.grid.starts[i], table.grid.ends[i]) else {
            continue;
        };
        let plan_index = plan_for(plan_index);
        let plan = &ws.plans[plan_index];
        let component_order = by
            .component_order
            .get(plan_index)
            .map_or(&[][..], Vec::as_slice);
        for &ci in component_order {
            let c = &plan.components[ci];
            if c.period != period.kind {
                continue;
            }
            match evaluate_one(ws, table, c, p, i, explain) {
                Ok(e) => payouts.push(Payout {
                    participant: p,
                    period,
                    plan: plan_index,
                    component: ci,
                    amount: e.amount,
                    trace: e.trace,
                }),
                Err(message) => {
                    if errors.len() < 50 {
                        errors.push(RunError {
                            message: format!(
                                "`{}`, {}, component `{}`: {message}",
                                people.ids[p as usize], period, c.id
                            ),
                        });
                    }
                }
            }
        }
    }
}

/// One component of one participant in period `i` of `table`'s grid; its
/// trace only when `explain`.
pub fn evaluate_one(
    ws: &Workspace,
    table: &MeasureTable,
    c: &crate::plan::Component,
    p: u32,
    i: usize,
    explain: bool,
) -> Result<evaluate::Evaluated, String> {
    let named = |name: &str| table.named(ws, name, p, i);
    let quota = c.quota.map(|q| (table.quota(q, p, i), &ws.quotas[q]));
    let inputs = ComponentInputs {
        ws,
        named: &named,
        measure: c.measure.map(|m| table.value(m, p, i)),
        quota,
        explain,
    };
    evaluate(c, &inputs)
}

/// The outcome of one plan test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub plan: String,
    pub name: String,
    pub location: String,
    /// (component, expected, actual) that differ; empty when the test passes.
    pub failures: Vec<(String, Decimal, Result<Decimal, String>)>,
}

/// Runs the examples written next to each plan. Measures not given are
/// zero, except derived measures, which are computed from the others as in
/// a real run. A test with data is read and calculated as a run is.
pub fn run_plan_tests(ws: &Workspace) -> Vec<TestOutcome> {
    let mut out = Vec::new();
    let year = ws.default_year.unwrap_or(2026);
    for (plan_index, plan) in ws.plans.iter().enumerate() {
        for test in &plan.tests {
            let mut failures = Vec::new();
            // Each expected component with the period of its kind holding
            // the test's period.
            let expected: Vec<(usize, Decimal, Period)> = test
                .expect
                .iter()
                .map(|&(ci, amount)| {
                    let kind = plan.components[ci].period;
                    let period = match test.period {
                        Some(p) => ws.calendar.period_of(ws.calendar.start(p), kind),
                        None => Period {
                            year,
                            kind,
                            index: 1,
                        },
                    };
                    (ci, amount, period)
                })
                .collect();
            if let Some(data) = &test.data {
                let calculated = data_test_payouts(ws, plan_index, test, data, &expected);
                for (&(ci, amount, _), actual) in expected.iter().zip(calculated) {
                    if actual.as_ref() != Ok(&amount) {
                        failures.push((plan.components[ci].id.clone(), amount, actual));
                    }
                }
            }
            for &(ci, expected, period) in expected.iter().filter(|_| test.data.is_none()) {
                let c = &plan.components[ci];
                let period_start = ws.calendar.start(period);
                let period_days = ws.calendar.days(period);
                let active_days = match test.start {
                    Some(s) if s > period_start => {
                        (crate::calendar::days_between(s, ws.calendar.end(period)) + 1).max(0)
                    }
                    _ => period_days,
                };
                let quotas: Vec<measures::QuotaValue> = (0..ws.quotas.len())
                    .map(|q| quota_for(ws, test, q, active_days, period_days))
                    .collect();
                let actual = evaluate_example(ws, c, test, &quotas).map(|e| e.amount);
                if actual.as_ref() != Ok(&expected) {
                    failures.push((c.id.clone(), expected, actual));
                }
            }
            out.push(TestOutcome {
                plan: plan.id.clone(),
                name: test.name.clone(),
                location: test.location.clone(),
                failures,
            });
        }
    }
    out
}

/// What the participant of a test with data is paid by each expected
/// component in its period: the test's rows read and calculated as a run
/// reads and calculates files, the participant on the test's plan.
fn data_test_payouts(
    ws: &Workspace,
    plan_index: usize,
    test: &crate::plan::PlanTest,
    data: &crate::plan::TestData,
    expected: &[(usize, Decimal, Period)],
) -> Vec<Result<Decimal, String>> {
    let calculated = (|| -> Result<Vec<Result<Decimal, String>>, String> {
        // An error in the rows names its line in the plan file.
        let at = |line_before: usize| {
            move |errors: Vec<crate::diag::Diagnostic>| {
                let first = errors.into_iter().find(|d| d.is_error());
                first.map_or_else(String::new, |d| {
                    let line = d.location.line + line_before;
                    match d.hint {
                        Some(h) => format!("{}:{line}: {} ({h})", data.file, d.message),
                        None => format!("{}:{line}: {}", data.file, d.message),
                    }
                })
            }
        };
        let mut people =
            crate::data::load_participants(ws, &data.file, data.participants.as_bytes())
                .map_err(at(data.participants_line))?;
        let Some(&p) = people.index.get(&data.participant) else {
            return Err(format!(
                "`{}` is not one of the test's participants",
                data.participant
            ));
        };
        if let Some(plan) = people.plan.get_mut(p as usize) {
            *plan = Some(plan_index);
        }
        people.assignments.clear();
        let txns =
            crate::data::load_transactions(ws, &people, &data.file, data.transactions.as_bytes())
                .map_err(at(data.transactions_line))?;
        let mut overrides = QuotaOverrides::new();
        for &(_, _, period) in expected {
            for &(q, amount) in &test.quotas {
                overrides.insert((q, p, period), amount);
            }
        }
        let year = expected
            .first()
            .map_or(ws.default_year.unwrap_or(2026), |(_, _, period)| {
                period.year
            });
        let calc = calculate(ws, &people, &txns, &overrides, year).map_err(|errors| {
            errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        Ok(expected
            .iter()
            .map(|&(ci, _, period)| {
                let mine = calc.payouts.iter().filter(|x| {
                    x.participant == p
                        && x.plan == plan_index
                        && x.component == ci
                        && x.period == period
                });
                mine.map(|x| x.amount).reduce(|a, b| a + b).ok_or_else(|| {
                    format!(
                        "`{}` is paid nothing in {period}: not active in it",
                        data.participant
                    )
                })
            })
            .collect())
    })();
    match calculated {
        Ok(each) => each,
        Err(e) => expected.iter().map(|_| Err(e.clone())).collect(),
    }
}

/// Component `c` evaluated on the measures a worked example gives (the
/// others derived or zero, as [`test_measures`] says) and on `quotas`: how
/// plan tests and the plan lint's probe ask what a component pays without
/// data.
pub(crate) fn evaluate_example(
    ws: &Workspace,
    c: &crate::plan::Component,
    test: &crate::plan::PlanTest,
    quotas: &[measures::QuotaValue],
) -> Result<evaluate::Evaluated, String> {
    let values = test_measures(ws, test, quotas)?;
    let value_of = |name: &str| -> Option<Decimal> {
        match ws.measure(name) {
            Some(m) => Some(values[m]),
            None => ws.quota(name).map(|q| quotas[q].value),
        }
    };
    let quota = c.quota.map(|q| (&quotas[q], &ws.quotas[q]));
    let inputs = ComponentInputs {
        ws,
        named: &value_of,
        measure: c.measure.map(|m| values[m]),
        quota,
        explain: true,
    };
    evaluate(c, &inputs)
}

/// Every measure's value in a plan test: given, derived from the given, or 0.
pub(crate) fn test_measures(
    ws: &Workspace,
    test: &crate::plan::PlanTest,
    quotas: &[measures::QuotaValue],
) -> Result<Vec<Decimal>, String> {
    let mut values = vec![Decimal::ZERO; ws.measures.len()];
    for (mi, m) in ws.measures.iter().enumerate() {
        if let Some((_, v)) = test.measures.iter().find(|(i, _)| *i == mi) {
            values[mi] = *v;
        } else if let crate::plan::MeasureKind::Derived(e) = &m.kind {
            let scope = |name: &str| -> Option<crate::expr::Value> {
                ws.measure(name)
                    .map(|i| values[i])
                    .or_else(|| ws.quota(name).map(|q| quotas[q].value))
                    .map(crate::expr::Value::Num)
            };
            match crate::expr::eval(e, &scope) {
                Ok(crate::expr::Value::Num(v)) => values[mi] = v,
                Ok(_) => {}
                Err(err) => return Err(format!("measure `{}`: {}", m.name, err.message)),
            }
        }
    }
    Ok(values)
}

fn quota_for(
    ws: &Workspace,
    test: &crate::plan::PlanTest,
    q: usize,
    active_days: i32,
    period_days: i32,
) -> measures::QuotaValue {
    let def = &ws.quotas[q];
    match test.quotas.iter().find(|(i, _)| *i == q) {
        Some((_, v)) => measures::QuotaValue::new(def, *v, true, active_days, period_days),
        None => measures::QuotaValue::new(def, def.amount, false, active_days, period_days),
    }
}
