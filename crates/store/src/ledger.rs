//! The ledger: earnings against payments.
//!
//! Runs say what was *earned* in each pay period (earnings and prior-period
//! adjustments). The ledger turns that into what is *paid*, pay period by
//! pay period, person by person:
//!
//! ```text
//! net     = earned + manual adjustments − withheld + released + carried in
//! payment = max(net, draw)   with a draw in force, else max(net, 0)
//!           then at most the cap, if one is in force
//! carried = net − payment    when negative: a recoverable draw's shortfall
//!                            or a clawback larger than the earnings, repaid
//!                            from later earnings (a non-recoverable draw's
//!                            shortfall is forgiven); when positive: the
//!                            excess over a cap that carries
//! ```
//!
//! Nothing here is stored: the ledger is computed from stored facts (runs,
//! closes, draws, manual adjustments, releases), so it is always the same
//! for the same store, and a closed period's payment is what its approved
//! run and the facts recorded before its close say.

use crate::driver::{self, Driver, Value};
use crate::periods::{PeriodStatus, PAY_PERIOD};
use crate::runs::result_row;
use crate::snapshot::{self, LATEST};
use crate::{audit, Error, Store};
use attain_core::calendar::{FiscalCalendar, Period, PeriodKind};
use attain_core::money::{round, Currency, RoundingMode};
use attain_core::plan::{Release, Workspace};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

/// One person's ledger for one pay period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine {
    pub participant: String,
    pub pay_period: String,
    pub status: PeriodStatus,
    /// Earnings and prior-period adjustments paid in this period.
    pub earned: Decimal,
    /// Manual adjustments, with their reasons.
    pub manual: Decimal,
    pub held: Decimal,
    pub released: Decimal,
    /// The balance carried in from earlier periods (negative: owed by the
    /// person).
    pub carried_in: Decimal,
    /// What a draw added to reach its guaranteed amount.
    pub draw: Decimal,
    pub payment: Decimal,
    pub carried_out: Decimal,
    /// Withheld and not yet released, after this period.
    pub held_balance: Decimal,
    pub notes: Vec<String>,
}

/// Totals for one person over the year.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LedgerTotals {
    pub earned: Decimal,
    /// Paid in closed pay periods.
    pub paid: Decimal,
    /// Withheld, not yet released.
    pub held: Decimal,
    /// Due in pay periods not yet closed.
    pub due: Decimal,
    /// Owed by the person (a recoverable draw not yet earned back, a
    /// clawback larger than the earnings), as a positive amount.
    pub owed_by_person: Decimal,
}

/// A term of pay in force for some pay periods: a draw (a floor) or a
/// payment cap (a ceiling).
#[derive(Debug, Clone)]
struct Term {
    import: i64,
    amount: Decimal,
    start: String,
    end: Option<String>,
    /// A draw: recoverable. A cap: the excess is carried.
    carries: bool,
}

fn stored_amount(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_default()
}

/// `v` in whole minor units of `money` (cents, yen, fils), half away from
/// zero. Every amount enters the ledger this way, so the sums after it are
/// exact: what is withheld plus what is paid is what was earned, and no
/// rounding of a printed column can make or lose a unit.
pub(crate) fn in_unit(v: Decimal, money: &Currency) -> Decimal {
    round(v, money.minor_unit, RoundingMode::HalfAwayFromZero)
}

impl Store {
    /// `year`, or the stored workspace's `calendar.year` when not given.
    pub fn fiscal_year(&mut self, year: Option<i16>) -> Result<i16, Error> {
        self.read(|db| snapshot::fiscal_year(&snapshot::workspace_at(db, LATEST)?.ws, year))
    }

    /// Every participant's ledger for the pay periods of fiscal `year` that
    /// a run has calculated, by participant then period.
    pub fn ledger(
        &mut self,
        year: i16,
        participant: Option<&str>,
    ) -> Result<Vec<LedgerLine>, Error> {
        self.read(|db| ledger(db, year, participant))
    }

    /// What a pay period pays each person, for payroll: only once the
    /// period is approved (or closed).
    pub fn payroll(&mut self, pay_period: &str) -> Result<Vec<LedgerLine>, Error> {
        let period = crate::periods::parse_pay_period(pay_period)?;
        self.read(|db| {
            let status = db
                .query_one(
                    "SELECT status FROM periods WHERE period = $1",
                    &[pay_period.into()],
                )?
                .map_or(PeriodStatus::Open, |r| {
                    PeriodStatus::parse(&driver::text(&r, 0))
                });
            if !matches!(status, PeriodStatus::Approved | PeriodStatus::Closed) {
                return Err(Error::new(format!(
                    "{pay_period} is {}: payroll is exported from approved or closed periods",
                    status.name()
                ))
                .with_hint(format!(
                    "review it, then `attain period approve {pay_period}`"
                )));
            }
            Ok(ledger(db, period.year, None)?
                .into_iter()
                .filter(|l| l.pay_period == pay_period)
                .collect())
        })
    }

    /// Adds a manual adjustment to an open pay period: an amount of the
    /// workspace's currency, no finer than its minor unit.
    pub fn adjust(
        &mut self,
        participant: &str,
        pay_period: &str,
        amount: Decimal,
        reason: &str,
    ) -> Result<(), Error> {
        let period = crate::periods::parse_pay_period(pay_period)?;
        self.write(|db, cx| {
            known_participant(db, participant)?;
            not_closed(db, &period.to_string())?;
            let money = snapshot::workspace_at(db, LATEST)?.ws.money();
            if money.is_finer_than_unit(amount) {
                return Err(Error::new(format!(
                    "`{amount}` has more decimals than {} has",
                    money.code
                ))
                .with_hint(format!(
                    "{}: write e.g. {} or {}",
                    money.decimals_rule(),
                    money.written(Decimal::new(250, 0)),
                    money.written(Decimal::new(-7550, 2))
                )));
            }
            db.execute(
                "INSERT INTO manual_adjustments (participant_id, pay_period, amount, reason, recorded_at, actor) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    participant.into(),
                    pay_period.into(),
                    amount.to_string().into(),
                    reason.into(),
                    cx.now.as_str().into(),
                    cx.actor.as_str().into(),
                ],
            )?;
            withdraw_approval(db, pay_period)?;
            audit(
                db,
                cx,
                "adjust",
                participant,
                &format!("{amount} in {pay_period}: {reason}"),
            )
        })
    }

    /// Releases everything withheld until a manual release from
    /// `participant`, paid in `pay_period`.
    pub fn release_holdbacks(
        &mut self,
        participant: &str,
        pay_period: &str,
        reason: &str,
    ) -> Result<(), Error> {
        let period = crate::periods::parse_pay_period(pay_period)?;
        self.write(|db, cx| {
            known_participant(db, participant)?;
            not_closed(db, &period.to_string())?;
            db.execute(
                "INSERT INTO holdback_releases (participant_id, pay_period, reason, recorded_at, actor) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    participant.into(),
                    pay_period.into(),
                    reason.into(),
                    cx.now.as_str().into(),
                    cx.actor.as_str().into(),
                ],
            )?;
            withdraw_approval(db, pay_period)?;
            audit(db, cx, "release", participant, &format!("in {pay_period}: {reason}"))
        })
    }
}

fn known_participant(db: &mut dyn Driver, participant: &str) -> Result<(), Error> {
    let n = db
        .query_one(
            "SELECT count(*) FROM participant_versions WHERE participant_id = $1",
            &[participant.into()],
        )?
        .map_or(0, |r| driver::int(&r, 0));
    if n == 0 {
        return Err(Error::new(format!(
            "no participant `{participant}` in the store"
        )));
    }
    Ok(())
}

fn not_closed(db: &mut dyn Driver, period: &str) -> Result<(), Error> {
    let status = db
        .query_one(
            "SELECT status FROM periods WHERE period = $1",
            &[period.into()],
        )?
        .map(|r| driver::text(&r, 0));
    if status.as_deref() == Some("closed") {
        return Err(Error::new(format!("{period} is closed")).with_hint(
            "a closed period is final; record the change in the first open pay period",
        ));
    }
    Ok(())
}

/// A change to what an approved period pays takes its approval back.
fn withdraw_approval(db: &mut dyn Driver, period: &str) -> Result<(), Error> {
    db.execute(
        "UPDATE periods SET status = 'calculated', approved_run = NULL WHERE period = $1 AND status = 'approved'",
        &[period.into()],
    )?;
    Ok(())
}

pub(crate) fn ledger(
    db: &mut dyn Driver,
    year: i16,
    only: Option<&str>,
) -> Result<Vec<LedgerLine>, Error> {
    let ws = snapshot::workspace_at(db, LATEST)?.ws;
    let money = ws.money();
    let cal = ws.calendar;
    let months = cal.periods(year, PAY_PERIOD);
    // Per pay period: its status, the run it pays, and the last import it
    // may see (a closed period: the last one before its close).
    let statuses: BTreeMap<String, (PeriodStatus, i64, i64)> = db
        .query(
            "SELECT period, status, run_id, approved_run, closed_through_import FROM periods",
            &[],
        )?
        .iter()
        .map(|r| {
            let status = PeriodStatus::parse(&driver::text(r, 1));
            let run = match status {
                PeriodStatus::Approved | PeriodStatus::Closed => driver::int(r, 3),
                _ => driver::int(r, 2),
            };
            let through = match status {
                PeriodStatus::Closed => driver::int(r, 4),
                _ => i64::MAX,
            };
            (driver::text(r, 0), (status, run, through))
        })
        .collect();

    // Earned per person and pay period, and what of it is withheld.
    let mut earned: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let mut withheld: BTreeMap<(String, String, Release), Decimal> = BTreeMap::new();
    let mut people: std::collections::BTreeSet<String> = Default::default();
    for m in &months {
        let period = m.to_string();
        let Some((_, run, _)) = statuses.get(&period) else {
            continue;
        };
        let rows = db.query(
            "SELECT participant_id, period, component, kind, plan, pay_period, amount, trace \
             FROM results WHERE run_id = $1 AND pay_period = $2",
            &[Value::Int(*run), period.as_str().into()],
        )?;
        for r in rows.iter().map(|r| result_row(r, None)) {
            if only.is_some_and(|p| p != r.participant) {
                continue;
            }
            people.insert(r.participant.clone());
            *earned
                .entry((r.participant.clone(), period.clone()))
                .or_default() += r.amount;
            if r.kind == "earning" && r.amount > Decimal::ZERO {
                if let Some(h) = holdback(&ws, &r.plan, &r.component) {
                    *withheld
                        .entry((r.participant.clone(), period.clone(), h.until))
                        .or_default() += in_unit(r.amount * h.percent, &money);
                }
            }
        }
    }
    let mut manual: BTreeMap<(String, String), (Decimal, Vec<String>)> = BTreeMap::new();
    for r in db.query(
        "SELECT participant_id, pay_period, amount, reason FROM manual_adjustments ORDER BY id",
        &[],
    )? {
        let who = driver::text(&r, 0);
        if only.is_some_and(|p| p != who) {
            continue;
        }
        people.insert(who.clone());
        let e = manual.entry((who, driver::text(&r, 1))).or_default();
        // Stored as given; in whole units even if the currency changed since.
        let amount = in_unit(stored_amount(&driver::text(&r, 2)), &money);
        e.0 += amount;
        e.1.push(format!(
            "manual adjustment {}: {}",
            money.format_signed(amount),
            driver::text(&r, 3)
        ));
    }
    let mut releases: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for r in db.query(
        "SELECT participant_id, pay_period, reason FROM holdback_releases ORDER BY id",
        &[],
    )? {
        releases
            .entry((driver::text(&r, 0), driver::text(&r, 1)))
            .or_default()
            .push(driver::text(&r, 2));
    }
    let draws = terms(db, "draws", "recoverable", &money)?;
    let caps = terms(db, "payment_caps", "carry", &money)?;

    let mut out = Vec::new();
    for person in &people {
        let mut carried = Decimal::ZERO;
        let mut held_by: BTreeMap<Release, Decimal> = BTreeMap::new();
        for m in &months {
            let period = m.to_string();
            let Some((status, _, through)) = statuses.get(&period) else {
                continue;
            };
            let key = (person.clone(), period.clone());
            let mut notes = Vec::new();
            // A plan may round finer than the currency: the ledger pays
            // whole units of it.
            let earned_here = in_unit(earned.get(&key).copied().unwrap_or_default(), &money);
            let (manual_here, manual_notes) = manual.get(&key).cloned().unwrap_or_default();
            notes.extend(manual_notes);
            let mut held = Decimal::ZERO;
            for until in [Release::QuarterEnd, Release::YearEnd, Release::Manual] {
                let h = withheld
                    .get(&(person.clone(), period.clone(), until))
                    .copied()
                    .unwrap_or_default();
                if !h.is_zero() {
                    held += h;
                    *held_by.entry(until).or_default() += h;
                    notes.push(format!(
                        "withheld {} until {}",
                        money.format(h),
                        until.name()
                    ));
                }
            }
            let mut released = Decimal::ZERO;
            let mut release = |until: Release, why: String, notes: &mut Vec<String>| {
                let r = held_by.remove(&until).unwrap_or_default();
                if !r.is_zero() {
                    released += r;
                    notes.push(format!(
                        "released {} withheld until {}: {why}",
                        money.format(r),
                        until.name()
                    ));
                }
            };
            if is_last_of(&cal, *m, PeriodKind::Quarter) {
                release(Release::QuarterEnd, "end of the quarter".into(), &mut notes);
            }
            if is_last_of(&cal, *m, PeriodKind::Year) {
                release(Release::QuarterEnd, "end of the year".into(), &mut notes);
                release(Release::YearEnd, "end of the year".into(), &mut notes);
            }
            if let Some(reasons) = releases.get(&key) {
                release(Release::Manual, reasons.join("; "), &mut notes);
            }
            let carried_in = carried;
            let net = earned_here + manual_here - held + released + carried_in;
            let draw = draws
                .get(person)
                .and_then(|list| term_for(list, &period, *through));
            let (payment, carried_out, topped) = match draw {
                Some(d) if net < d.amount => {
                    let shortfall = d.amount - net;
                    let (draw, shortfall_text) = (money.format(d.amount), money.format(shortfall));
                    notes.push(if d.carries {
                        format!("recoverable draw of {draw}: {shortfall_text} to earn back")
                    } else {
                        format!("non-recoverable draw of {draw}: {shortfall_text} forgiven")
                    });
                    let carried = if d.carries { -shortfall } else { Decimal::ZERO };
                    (d.amount, carried, shortfall)
                }
                _ if net < Decimal::ZERO => (Decimal::ZERO, net, Decimal::ZERO),
                _ => (net, Decimal::ZERO, Decimal::ZERO),
            };
            // A cap is a ceiling on the payment.
            let cap = caps
                .get(person)
                .and_then(|list| term_for(list, &period, *through));
            let (payment, carried_out) = match cap {
                Some(c) if payment > c.amount => {
                    let excess = payment - c.amount;
                    let (cap, excess_text) = (money.format(c.amount), money.format(excess));
                    if c.carries {
                        notes.push(format!(
                            "capped at {cap}: {excess_text} carried into later periods"
                        ));
                        (c.amount, carried_out + excess)
                    } else {
                        notes.push(format!("capped at {cap}: {excess_text} forfeited"));
                        (c.amount, carried_out)
                    }
                }
                _ => (payment, carried_out),
            };
            if !carried_in.is_zero() {
                notes.push(format!(
                    "carried in from earlier periods: {}",
                    money.format_signed(carried_in)
                ));
            }
            carried = carried_out;
            // Every amount with the currency's decimals, so `0` and `0.00`
            // print alike. Only padding: every amount is in whole units
            // already, so nothing is rounded here.
            let unit = |mut v: Decimal| {
                v.rescale(money.minor_unit);
                v
            };
            out.push(LedgerLine {
                participant: person.clone(),
                pay_period: period,
                status: *status,
                earned: unit(earned_here),
                manual: unit(manual_here),
                held: unit(held),
                released: unit(released),
                carried_in: unit(carried_in),
                draw: unit(topped),
                payment: unit(payment),
                carried_out: unit(carried_out),
                held_balance: unit(held_by.values().copied().sum()),
                notes,
            });
        }
    }
    Ok(out)
}

fn holdback(ws: &Workspace, plan: &str, component: &str) -> Option<attain_core::plan::Holdback> {
    ws.plans
        .iter()
        .find(|p| p.id == plan)?
        .components
        .iter()
        .find(|c| c.id == component)?
        .holdback
}

/// Whether pay period `m` is the last of its quarter (or year).
fn is_last_of(cal: &FiscalCalendar, m: Period, kind: PeriodKind) -> bool {
    cal.end(m) == cal.end(cal.period_of(cal.end(m), kind))
}

fn in_force(d: &Term, period: &str) -> bool {
    d.start.as_str() <= period && d.end.as_deref().is_none_or(|e| period <= e)
}

/// Every draw (or cap: `table` and its flag) ever imported, by
/// participant, with its import.
fn terms(
    db: &mut dyn Driver,
    table: &str,
    flag: &str,
    money: &Currency,
) -> Result<BTreeMap<String, Vec<Term>>, Error> {
    let mut out: BTreeMap<String, Vec<Term>> = BTreeMap::new();
    for r in db.query(
        &format!(
            "SELECT participant_id, amount, start_period, end_period, {flag}, import_id FROM {table} \
             ORDER BY participant_id, import_id, start_period"
        ),
        &[],
    )? {
        out.entry(driver::text(&r, 0)).or_default().push(Term {
            import: driver::int(&r, 5),
            amount: in_unit(stored_amount(&driver::text(&r, 1)), money),
            start: driver::text(&r, 2),
            end: driver::opt_text(&r, 3),
            carries: driver::int(&r, 4) != 0,
        });
    }
    Ok(out)
}

/// The draw in force for `period` among the draws known by import
/// `through`: a closed period keeps the draws it was closed with.
fn term_for<'a>(list: &'a [Term], period: &str, through: i64) -> Option<&'a Term> {
    let latest = list
        .iter()
        .filter(|d| d.import <= through)
        .map(|d| d.import)
        .max()?;
    list.iter()
        .filter(|d| d.import == latest)
        .find(|d| in_force(d, period))
}

/// Sums a person's lines: earned, paid, withheld, due and owed.
pub fn totals(lines: &[LedgerLine]) -> LedgerTotals {
    let mut t = LedgerTotals::default();
    for l in lines {
        t.earned += l.earned + l.manual;
        if l.status == PeriodStatus::Closed {
            t.paid += l.payment;
        } else {
            t.due += l.payment;
        }
    }
    if let Some(last) = lines.last() {
        t.held = last.held_balance;
        t.owed_by_person = -last.carried_out.min(Decimal::ZERO);
        t.due += last.carried_out.max(Decimal::ZERO);
    }
    t
}
