//! Pay periods and their close: open → calculated → approved → closed.
//!
//! A payout is paid in the pay period (a fiscal month) holding its
//! period's last day: a quarterly commission for Q1 is paid in the third
//! month. Closing a pay period freezes what it pays (the approved run's
//! rows); it is never rewritten afterwards.

use crate::driver::{self, Driver, Value};
use crate::runs::{result_rows, RunRow};
use crate::snapshot::{self, LATEST};
use crate::{audit, Error, Store};
use attain_core::calendar::{FiscalCalendar, Period, PeriodKind};

/// The cadence of pay periods.
pub const PAY_PERIOD: PeriodKind = PeriodKind::Month;

/// The pay period a payout of `period` is paid in.
pub fn pay_period(cal: &FiscalCalendar, period: Period) -> Period {
    cal.period_of(cal.end(period), PAY_PERIOD)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodStatus {
    Open,
    Calculated,
    Approved,
    Closed,
}

impl PeriodStatus {
    pub fn name(self) -> &'static str {
        match self {
            PeriodStatus::Open => "open",
            PeriodStatus::Calculated => "calculated",
            PeriodStatus::Approved => "approved",
            PeriodStatus::Closed => "closed",
        }
    }

    pub(crate) fn parse(s: &str) -> PeriodStatus {
        match s {
            "calculated" => PeriodStatus::Calculated,
            "approved" => PeriodStatus::Approved,
            "closed" => PeriodStatus::Closed,
            _ => PeriodStatus::Open,
        }
    }
}

/// A pay period and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodRow {
    pub period: String,
    pub status: PeriodStatus,
    /// The run whose results it pays: the approved one once approved.
    pub run: Option<i64>,
    pub closed_at: Option<String>,
}

pub(crate) struct Closed {
    pub period: String,
    pub approved_run: i64,
    pub through_import: i64,
}

pub(crate) fn closed_in_year(
    db: &mut dyn Driver,
    cal: &FiscalCalendar,
    year: i16,
) -> Result<Vec<Closed>, Error> {
    let months: Vec<String> = cal
        .periods(year, PAY_PERIOD)
        .iter()
        .map(|p| p.to_string())
        .collect();
    let rows = db.query(
        "SELECT period, approved_run, closed_through_import FROM periods WHERE status = 'closed' ORDER BY period",
        &[],
    )?;
    Ok(rows
        .iter()
        .filter(|r| months.contains(&driver::text(r, 0)))
        .map(|r| Closed {
            period: driver::text(r, 0),
            approved_run: driver::int(r, 1),
            through_import: driver::int(r, 2),
        })
        .collect())
}

/// After a run: every pay period of the year that is not closed is
/// calculated by it. An approved period whose rows the run changed loses
/// its approval; those periods are returned.
pub(crate) fn mark_calculated(
    db: &mut dyn Driver,
    cal: &FiscalCalendar,
    year: i16,
    run_id: i64,
) -> Result<Vec<String>, Error> {
    let mut unapproved = Vec::new();
    for p in cal.periods(year, PAY_PERIOD) {
        let period = p.to_string();
        let row = db.query_one(
            "SELECT status, approved_run FROM periods WHERE period = $1",
            &[period.as_str().into()],
        )?;
        match row {
            None => {
                db.execute(
                    "INSERT INTO periods (period, status, run_id) VALUES ($1, 'calculated', $2)",
                    &[period.as_str().into(), Value::Int(run_id)],
                )?;
            }
            Some(r) => match PeriodStatus::parse(&driver::text(&r, 0)) {
                PeriodStatus::Closed => {}
                PeriodStatus::Approved => {
                    let approved = driver::int(&r, 1);
                    if same_rows(db, approved, run_id, &period)? {
                        db.execute(
                            "UPDATE periods SET run_id = $1 WHERE period = $2",
                            &[Value::Int(run_id), period.as_str().into()],
                        )?;
                    } else {
                        db.execute(
                            "UPDATE periods SET status = 'calculated', run_id = $1, approved_run = NULL WHERE period = $2",
                            &[Value::Int(run_id), period.as_str().into()],
                        )?;
                        unapproved.push(period);
                    }
                }
                PeriodStatus::Open | PeriodStatus::Calculated => {
                    db.execute(
                        "UPDATE periods SET status = 'calculated', run_id = $1 WHERE period = $2",
                        &[Value::Int(run_id), period.as_str().into()],
                    )?;
                }
            },
        }
    }
    Ok(unapproved)
}

fn rows_of(db: &mut dyn Driver, run: i64, period: &str) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    db.scan(
        "SELECT participant_id || '|' || period || '|' || component || '|' || kind, amount FROM results \
         WHERE run_id = $1 AND pay_period = $2 ORDER BY 1",
        &[Value::Int(run), period.into()],
        &mut |r| {
            out.push((r[0].text().to_string(), r[1].text().to_string()));
            Ok(())
        },
    )?;
    Ok(out)
}

fn same_rows(db: &mut dyn Driver, a: i64, b: i64, period: &str) -> Result<bool, Error> {
    Ok(rows_of(db, a, period)? == rows_of(db, b, period)?)
}

pub(crate) fn parse_pay_period(period: &str) -> Result<Period, Error> {
    match Period::parse(period) {
        Some(p) if p.kind == PAY_PERIOD => Ok(p),
        _ => Err(Error::new(format!("`{period}` is not a pay period"))
            .with_hint("pay periods are fiscal months, written like 2026-M03")),
    }
}

impl Store {
    /// Every pay period a run has touched, in order.
    pub fn periods(&mut self) -> Result<Vec<PeriodRow>, Error> {
        self.read(|db| {
            Ok(db
                .query(
                    "SELECT period, status, run_id, approved_run, closed_at FROM periods ORDER BY period",
                    &[],
                )?
                .iter()
                .map(|r| {
                    let status = PeriodStatus::parse(&driver::text(r, 1));
                    PeriodRow {
                        period: driver::text(r, 0),
                        status,
                        run: match status {
                            PeriodStatus::Approved | PeriodStatus::Closed => driver::opt_int(r, 3),
                            _ => driver::opt_int(r, 2),
                        },
                        closed_at: driver::opt_text(r, 4),
                    }
                })
                .collect())
        })
    }

    /// Approves a calculated pay period: its current results are the ones
    /// to pay.
    pub fn approve_period(&mut self, period: &str) -> Result<PeriodRow, Error> {
        parse_pay_period(period)?;
        self.write(|db, cx| {
            let row = db.query_one(
                "SELECT status, run_id FROM periods WHERE period = $1",
                &[period.into()],
            )?;
            let (status, run) = match &row {
                Some(r) => (PeriodStatus::parse(&driver::text(r, 0)), driver::int(r, 1)),
                None => (PeriodStatus::Open, 0),
            };
            match status {
                PeriodStatus::Open => {
                    return Err(Error::new(format!("{period} has not been calculated"))
                        .with_hint("run `attain run` first"))
                }
                PeriodStatus::Approved => {
                    return Err(Error::new(format!("{period} is already approved (run {run})")))
                }
                PeriodStatus::Closed => {
                    return Err(Error::new(format!("{period} is closed")).with_hint(
                        "a closed period is final; later changes are paid as adjustments in the open period",
                    ))
                }
                PeriodStatus::Calculated => {}
            }
            db.execute(
                "UPDATE periods SET status = 'approved', approved_run = run_id WHERE period = $1",
                &[period.into()],
            )?;
            audit(db, cx, "approve", period, &format!("results of run {run}"))?;
            Ok(PeriodRow {
                period: period.to_string(),
                status: PeriodStatus::Approved,
                run: Some(run),
                closed_at: None,
            })
        })
    }

    /// Closes an approved pay period, after every earlier one. What it
    /// pays is frozen from now on.
    pub fn close_period(&mut self, period: &str) -> Result<PeriodRow, Error> {
        let p = parse_pay_period(period)?;
        self.write(|db, cx| {
            let row = db.query_one(
                "SELECT status, approved_run FROM periods WHERE period = $1",
                &[period.into()],
            )?;
            let status = row
                .as_ref()
                .map_or(PeriodStatus::Open, |r| PeriodStatus::parse(&driver::text(r, 0)));
            match status {
                PeriodStatus::Approved => {}
                PeriodStatus::Closed => {
                    return Err(Error::new(format!("{period} is already closed")))
                }
                _ => {
                    return Err(Error::new(format!(
                        "{period} is {}, not approved",
                        status.name()
                    ))
                    .with_hint(format!("approve it first: `attain period approve {period}`")))
                }
            }
            let cal = snapshot::workspace_at(db, LATEST)?.ws.calendar;
            let earlier: Vec<String> = cal
                .periods(p.year, PAY_PERIOD)
                .iter()
                .filter(|q| q.index < p.index)
                .map(|q| q.to_string())
                .collect();
            let closed: Vec<String> = db
                .query("SELECT period FROM periods WHERE status = 'closed'", &[])?
                .iter()
                .map(|r| driver::text(r, 0))
                .collect();
            if let Some(first_open) = earlier.iter().find(|q| !closed.contains(q)) {
                return Err(Error::new(format!(
                    "{first_open} is not closed yet; pay periods close in order"
                ))
                .with_hint(format!("close {first_open} first")));
            }
            let through = db
                .query_one("SELECT max(id) FROM imports", &[])?
                .and_then(|r| driver::opt_int(&r, 0))
                .unwrap_or(0);
            let run = row.as_ref().map_or(0, |r| driver::int(r, 1));
            db.execute(
                "UPDATE periods SET status = 'closed', closed_through_import = $1, closed_at = $2 WHERE period = $3",
                &[Value::Int(through), cx.now.as_str().into(), period.into()],
            )?;
            audit(db, cx, "close", period, &format!("pays the results of run {run}"))?;
            Ok(PeriodRow {
                period: period.to_string(),
                status: PeriodStatus::Closed,
                run: Some(run),
                closed_at: Some(cx.now.clone()),
            })
        })
    }

    /// What a pay period pays: the rows of its approved run (closed or
    /// approved) or of the latest run that calculated it.
    pub fn pay_period_results(&mut self, period: &str) -> Result<Vec<RunRow>, Error> {
        parse_pay_period(period)?;
        self.read(|db| {
            let row = db.query_one(
                "SELECT status, run_id, approved_run FROM periods WHERE period = $1",
                &[period.into()],
            )?;
            let Some(row) = row else {
                return Ok(Vec::new());
            };
            let run = match PeriodStatus::parse(&driver::text(&row, 0)) {
                PeriodStatus::Approved | PeriodStatus::Closed => driver::int(&row, 2),
                _ => driver::int(&row, 1),
            };
            let rows = db.query(
                "SELECT participant_id, period, component, kind, plan, pay_period, amount, trace \
                 FROM results WHERE run_id = $1 AND pay_period = $2 \
                 ORDER BY participant_id, period, component, kind",
                &[Value::Int(run), period.into()],
            )?;
            result_rows(db, &rows)
        })
    }
}
