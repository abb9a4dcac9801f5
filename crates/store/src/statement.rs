//! A person's statement for one pay period: what it pays them and why,
//! from the stored explanations (text, so last year's statement reads as
//! it did; an adjustment stores its amounts as numbers, printed in the
//! workspace's currency), and what the closed pay periods of the year have
//! paid them.

use crate::diff::{check_participant, latest_run, run_info};
use crate::driver::{self, Value};
use crate::periods::{closed_in_year, PeriodStatus, PAY_PERIOD};
use crate::runs::{result_row, RunRow};
use crate::snapshot::{self, LATEST};
use crate::{Error, Store};
use rust_decimal::Decimal;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub participant: String,
    /// The participant's `name` field, when the schema has one.
    pub name: Option<String>,
    pub manager: Option<String>,
    /// The plans paying the lines, or the person's plan when none does.
    pub plans: Vec<String>,
    pub pay_period: String,
    pub status: PeriodStatus,
    /// The run the lines come from.
    pub run: i64,
    /// The run the pay period pays, when it is not `run` (a statement of
    /// another run, asked for with `--run`).
    pub period_run: Option<i64>,
    /// Earnings paid in the pay period, in period and component order.
    pub earnings: Vec<RunRow>,
    /// Prior-period adjustments paid in it, explained by the deals that
    /// changed.
    pub adjustments: Vec<RunRow>,
    /// Earnings plus adjustments.
    pub total_due: Decimal,
    /// The ledger's line for the pay period (manual adjustments, holdbacks,
    /// draws, caps, carried balances), for the run the period pays; `None`
    /// for a statement of another run.
    pub ledger: Option<crate::LedgerLine>,
    pub year_to_date: YearToDate,
}

/// What the closed pay periods of the fiscal year, up to the statement's,
/// paid the participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearToDate {
    pub paid: Decimal,
    /// What the ledger paid out in those periods (after holdbacks, draws and
    /// caps), when it has lines for them.
    pub paid_out: Option<Decimal>,
    /// The closed pay periods counted, in order.
    pub periods: Vec<String>,
}

impl Store {
    /// `participant`'s statement for `pay_period` (`2026-M03`): the lines of
    /// `run`, or by default of the run the pay period pays.
    pub fn statement(
        &mut self,
        participant: &str,
        pay_period: &str,
        run: Option<i64>,
    ) -> Result<Statement, Error> {
        let period = crate::periods::parse_pay_period(pay_period)?;
        self.read(|db| {
            check_participant(db, participant)?;
            let row = db.query_one(
                "SELECT status, run_id, approved_run FROM periods WHERE period = $1",
                &[pay_period.into()],
            )?;
            let (status, pays) = match &row {
                Some(r) => {
                    let status = PeriodStatus::parse(&driver::text(r, 0));
                    let pays = match status {
                        PeriodStatus::Approved | PeriodStatus::Closed => driver::opt_int(r, 2),
                        _ => driver::opt_int(r, 1),
                    };
                    (status, pays)
                }
                None => (PeriodStatus::Open, None),
            };
            let run = match (run, pays) {
                (Some(r), _) => run_info(db, r)?.0.id,
                (None, Some(r)) => r,
                (None, None) => {
                    let hint = if latest_run(db)? == 0 {
                        "record a run with `attain run`".to_string()
                    } else {
                        format!(
                            "no run has calculated its year yet: `attain run --year {}`, or name a run with --run N",
                            period.year
                        )
                    };
                    return Err(Error::new(format!(
                        "{pay_period} has not been calculated"
                    ))
                    .with_hint(hint));
                }
            };
            let ws = snapshot::workspace_at(db, LATEST)?.ws;
            let money = ws.money();
            let rows: Vec<RunRow> = db
                .query(
                    "SELECT participant_id, period, component, kind, plan, pay_period, amount, trace \
                     FROM results WHERE run_id = $1 AND pay_period = $2 AND participant_id = $3 \
                     ORDER BY period, component, kind",
                    &[Value::Int(run), pay_period.into(), participant.into()],
                )?
                .iter()
                .map(|r| result_row(r, Some(&money)))
                .collect();
            let (adjustments, earnings): (Vec<RunRow>, Vec<RunRow>) =
                rows.into_iter().partition(|r| r.kind == "adjustment");
            let total_due = earnings
                .iter()
                .chain(adjustments.iter())
                .map(|r| r.amount)
                .sum();

            // Who they are as of the pay period's last day, with today's
            // files: the header of a statement, not a calculation.
            let end = ws.calendar.end(period).to_string();
            let mut found = None;
            for date in [end.as_str(), LATEST] {
                found = header_fields(db, &ws, participant, date)?;
                if found.is_some() {
                    break;
                }
            }
            let Who {
                name,
                manager,
                plan: own_plan,
            } = found.unwrap_or_default();
            let mut plans: Vec<String> = earnings
                .iter()
                .chain(adjustments.iter())
                .map(|r| r.plan.clone())
                .filter(|p| !p.is_empty())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if plans.is_empty() {
                plans.extend(own_plan);
            }

            let mut ytd = YearToDate {
                paid: Decimal::ZERO,
                paid_out: None,
                periods: Vec::new(),
            };
            let cal = ws.calendar;
            let months: Vec<String> = cal
                .periods(period.year, PAY_PERIOD)
                .iter()
                .filter(|p| p.index <= period.index)
                .map(|p| p.to_string())
                .collect();
            // What the ledger paid out (earnings after holdbacks, draws and
            // caps), beside the earnings the closed periods paid.
            let ledger_lines = crate::ledger::ledger(db, period.year, Some(participant))?;
            let paid_by_ledger = |p: &str| {
                ledger_lines
                    .iter()
                    .find(|l| l.pay_period == p)
                    .map(|l| l.payment)
            };
            for closed in closed_in_year(db, &cal, period.year)? {
                if !months.contains(&closed.period) {
                    continue;
                }
                if let Some(paid) = paid_by_ledger(&closed.period) {
                    *ytd.paid_out.get_or_insert(Decimal::ZERO) += paid;
                }
                db.scan(
                    "SELECT amount FROM results WHERE run_id = $1 AND pay_period = $2 AND participant_id = $3",
                    &[
                        Value::Int(closed.approved_run),
                        closed.period.as_str().into(),
                        participant.into(),
                    ],
                    &mut |r| {
                        ytd.paid += r[0].text().parse::<Decimal>().unwrap_or_default();
                        Ok(())
                    },
                )?;
                ytd.periods.push(closed.period);
            }
            Ok(Statement {
                participant: participant.to_string(),
                name,
                manager,
                plans,
                pay_period: pay_period.to_string(),
                status,
                run,
                period_run: pays.filter(|p| *p != run),
                earnings,
                adjustments,
                total_due,
                ledger: match pays {
                    Some(p) if p != run => None,
                    _ => ledger_lines
                        .iter()
                        .find(|l| l.pay_period == pay_period)
                        .cloned(),
                },
                year_to_date: ytd,
            })
        })
    }
}

/// A statement's header fields, from the participant's record.
#[derive(Default)]
struct Who {
    name: Option<String>,
    manager: Option<String>,
    plan: Option<String>,
}

/// The participant's name, manager and plan columns in the version in
/// force on `date`, if they had one then.
fn header_fields(
    db: &mut dyn crate::driver::Driver,
    ws: &attain_core::plan::Workspace,
    participant: &str,
    date: &str,
) -> Result<Option<Who>, Error> {
    let csv = snapshot::participants_csv(db, date)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&csv[..]);
    let names: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(_) => return Ok(None),
    };
    let column = |c: &str| names.iter().position(|n| n == c);
    let schema = &ws.participants;
    let id_at = column(&schema.id_column);
    let found = reader
        .records()
        .filter_map(Result::ok)
        .find(|fields| id_at.and_then(|i| fields.get(i)) == Some(participant));
    let Some(fields) = found else {
        return Ok(None);
    };
    let get = |c: Option<&String>| {
        c.and_then(|c| column(c))
            .and_then(|i| fields.get(i))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let name = schema.fields.iter().find(|f| f.name == "name");
    Ok(Some(Who {
        name: get(name.map(|f| &f.column)),
        manager: get(schema.manager_column.as_ref()),
        plan: get(schema.plan_column.as_ref()),
    }))
}
