//! Calculation runs from the store, recorded with their inputs, and the
//! prior-period adjustments that keep closed periods untouched.
//!
//! A payout is computed with the workspace files and participant versions
//! in force on the last day of its period (the same rule the engine uses
//! for assignments). When nothing changes within the year, that is one
//! engine run; each effective date inside the year adds one.

use crate::driver::{self, Driver, Row, Value};
use crate::laps::Laps;
use crate::periods::{pay_period, PAY_PERIOD};
use crate::records;
use crate::snapshot::{self, LATEST};
use crate::{audit, Context, Error, Store};
use attain_core::calendar::{FiscalCalendar, Period, PeriodKind};
use attain_core::data::Participants;
use attain_core::engine;
use attain_core::money::Currency;
use attain_core::plan::{FieldType, Workspace};
use attain_core::report::trace_lines;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::str::FromStr;

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub id: i64,
    pub year: i16,
    pub payouts: usize,
    /// The sum of every payout of the year, as recalculated.
    pub total: Decimal,
    pub inputs_digest: String,
    /// How many engine runs the year took (one per stretch of time with
    /// the same plan and participant versions).
    pub stretches: usize,
    pub adjustments: Vec<AdjustmentLine>,
    /// Approved periods whose results this run changed: their approval is
    /// withdrawn.
    pub unapproved: Vec<String>,
}

/// A change to a closed period's payout, paid in the open period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdjustmentLine {
    pub participant: String,
    /// The closed period whose payout changed.
    pub period: String,
    pub component: String,
    pub plan: String,
    /// The open pay period the difference is paid in.
    pub pay_period: String,
    pub paid: Decimal,
    pub recalculated: Decimal,
    pub difference: Decimal,
    /// The transactions revised or cancelled since the period closed that
    /// credit this participant (or someone below them).
    pub deals: Vec<DealChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealChange {
    pub deal: String,
    pub change: String,
}

/// One stored result row.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub participant: String,
    pub period: String,
    pub component: String,
    pub kind: String,
    pub plan: String,
    pub pay_period: String,
    pub amount: Decimal,
    /// The explanation: the trace lines for an earning (stored text), the
    /// adjustment's reasons for an adjustment (written from its stored
    /// amounts in the latest workspace's currency).
    pub explanation: Vec<String>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct EarningTrace {
    pub steps: Vec<String>,
}

/// One payout as calculated, before it is recorded.
pub(crate) struct Computed {
    pub participant: String,
    pub period: Period,
    pub plan: String,
    pub component: String,
    pub amount: Decimal,
    pub steps: Vec<String>,
}

impl Computed {
    /// Its row in `results` (an earning) for run `run`.
    pub(crate) fn row(&self, run: i64, cal: &FiscalCalendar) -> Vec<Value> {
        let trace = EarningTrace {
            steps: self.steps.clone(),
        };
        vec![
            Value::Int(run),
            self.participant.as_str().into(),
            self.period.to_string().into(),
            self.component.as_str().into(),
            "earning".into(),
            self.plan.as_str().into(),
            pay_period(cal, self.period).to_string().into(),
            self.amount.to_string().into(),
            serde_json::to_string(&trace).unwrap_or_default().into(),
        ]
    }
}

/// An adjustment's row in `results` for run `run`.
pub(crate) fn adjustment_row(a: &AdjustmentLine, run: i64) -> Vec<Value> {
    vec![
        Value::Int(run),
        a.participant.as_str().into(),
        a.period.as_str().into(),
        a.component.as_str().into(),
        "adjustment".into(),
        a.plan.as_str().into(),
        a.pay_period.as_str().into(),
        a.difference.to_string().into(),
        serde_json::to_string(a).unwrap_or_default().into(),
    ]
}

fn date_text(d: Date) -> String {
    d.to_string()
}

impl Store {
    /// Calculates fiscal `year` (default: the workspace's) from the store
    /// and records the run, its results and any prior-period adjustments.
    pub fn record_run(&mut self, year: Option<i16>) -> Result<RunReport, Error> {
        let progress = self.progress.clone();
        self.write(|db, cx| record_run(db, cx, year, &*progress))
    }

    /// The latest run's id, if any.
    pub fn latest_run(&mut self) -> Result<Option<i64>, Error> {
        self.read(|db| {
            Ok(db
                .query_one("SELECT max(id) FROM runs", &[])?
                .and_then(|r| driver::opt_int(&r, 0)))
        })
    }

    /// A run's results, optionally for one participant and/or one pay
    /// period, in participant, period, component order.
    pub fn run_results(
        &mut self,
        run: i64,
        participant: Option<&str>,
    ) -> Result<Vec<RunRow>, Error> {
        self.read(|db| {
            let rows = match participant {
                Some(p) => db.query(
                    "SELECT participant_id, period, component, kind, plan, pay_period, amount, trace \
                     FROM results WHERE run_id = $1 AND participant_id = $2 \
                     ORDER BY participant_id, period, component, kind",
                    &[Value::Int(run), p.into()],
                )?,
                None => db.query(
                    "SELECT participant_id, period, component, kind, plan, pay_period, amount, trace \
                     FROM results WHERE run_id = $1 ORDER BY participant_id, period, component, kind",
                    &[Value::Int(run)],
                )?,
            };
            result_rows(db, &rows)
        })
    }
}

/// Stored result rows, explained. The latest workspace is read for its
/// currency only when an adjustment is among them: an empty store has none.
pub(crate) fn result_rows(db: &mut dyn Driver, rows: &[Row]) -> Result<Vec<RunRow>, Error> {
    let money = if rows.iter().any(|r| driver::text(r, 3) == "adjustment") {
        Some(snapshot::workspace_at(db, LATEST)?.ws.money())
    } else {
        None
    };
    Ok(rows.iter().map(|r| result_row(r, money.as_ref())).collect())
}

/// A stored result row. An adjustment keeps its amounts as numbers and is
/// explained in `money` when given (its explanation is left empty when
/// not: a caller reading amounts only).
pub(crate) fn result_row(r: &Row, money: Option<&Currency>) -> RunRow {
    let kind = driver::text(r, 3);
    let trace = driver::text(r, 7);
    let explanation = if kind == "adjustment" {
        match money {
            Some(money) => serde_json::from_str::<AdjustmentLine>(&trace)
                .map(|a| adjustment_lines(&a, money))
                .unwrap_or_default(),
            None => Vec::new(),
        }
    } else {
        serde_json::from_str::<EarningTrace>(&trace)
            .map(|t| t.steps)
            .unwrap_or_default()
    };
    RunRow {
        participant: driver::text(r, 0),
        period: driver::text(r, 1),
        component: driver::text(r, 2),
        kind,
        plan: driver::text(r, 4),
        pay_period: driver::text(r, 5),
        amount: Decimal::from_str(&driver::text(r, 6)).unwrap_or_default(),
        explanation,
    }
}

/// How an adjustment explains itself, line by line, amounts in `money`.
pub fn adjustment_lines(a: &AdjustmentLine, money: &Currency) -> Vec<String> {
    let mut out = vec![format!(
        "prior-period adjustment: {} of {} was paid {}, recalculated {}: difference {}, paid in {}",
        a.component,
        a.period,
        money.format(a.paid),
        money.format(a.recalculated),
        money.format_signed(a.difference),
        a.pay_period
    )];
    if a.deals.is_empty() {
        out.push(
            "no transaction of this participant changed since the close; the difference comes from plans, quotas, assignments or people below them".into(),
        );
    }
    for d in &a.deals {
        out.push(format!("  {}: {}", d.deal, d.change));
    }
    out
}

fn record_run(
    db: &mut dyn Driver,
    cx: &Context,
    year: Option<i16>,
    progress: &dyn Fn(&str),
) -> Result<RunReport, Error> {
    let laps = Laps::new();
    progress("reading the store");
    let latest = snapshot::workspace_at(db, LATEST)?;
    let year = snapshot::fiscal_year(&latest.ws, year)?;
    let cal = latest.ws.calendar;
    let year_period = Period {
        year,
        kind: PeriodKind::Year,
        index: 1,
    };
    let (first, last) = (cal.start(year_period), cal.end(year_period));

    // Stretches of the year with the same versions in force.
    let mut changes: BTreeSet<String> = BTreeSet::new();
    for sql in [
        "SELECT DISTINCT effective FROM plan_versions",
        "SELECT DISTINCT effective FROM participant_versions",
    ] {
        for r in db.query(sql, &[])? {
            let d = driver::text(&r, 0);
            if d.as_str() > date_text(first).as_str() && d.as_str() <= date_text(last).as_str() {
                changes.insert(d);
            }
        }
    }
    let mut stretches: Vec<(String, String)> = Vec::new();
    let mut from = date_text(first);
    for d in &changes {
        let Ok(day) = Date::from_str(d) else { continue };
        let until = day.yesterday().map(date_text).unwrap_or_else(|_| d.clone());
        stretches.push((from, until));
        from = d.clone();
    }
    stretches.push((from, date_text(last)));

    laps.lap("plans read");
    // One stretch (the usual case): the store is scanned while the engine
    // parses. Several: the text is read once and parsed per stretch.
    let mut txn_digest = xxhash_rust::xxh3::Xxh3::new();
    let mut txn_csv = if stretches.len() > 1 {
        let text = snapshot::transactions_csv(db)?;
        txn_digest.update(&text);
        laps.lap("transactions read from the store");
        Some(text)
    } else {
        None
    };
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    // The last stretch (it holds the year's last day, so it always has
    // periods ending in it) takes the text and drops it once parsed: at 10M
    // transactions it is most of a gigabyte.
    let last_stretch = stretches.len() - 1;
    let mut computed: Vec<Computed> = Vec::new();
    let mut versions_used: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut used = 0;
    for (stretch, (from, until)) in stretches.iter().enumerate() {
        let at = snapshot::workspace_at(db, until)?;
        let ends_here = |p: &Period| {
            let end = date_text(cal.end(*p));
            end.as_str() >= from.as_str() && end.as_str() <= until.as_str()
        };
        let any_period = at
            .ws
            .period_kinds()
            .into_iter()
            .flat_map(|k| cal.periods(year, k))
            .any(|p| ends_here(&p));
        if !any_period {
            continue;
        }
        used += 1;
        for f in &at.files {
            hasher.update(f.path.as_bytes());
            hasher.update(f.text.as_bytes());
        }
        let (mut people, people_csv) = snapshot::participants_at(db, &at.ws, until)?;
        hasher.update(&people_csv);
        let (overrides, quotas, assignments) = snapshot::overrides(db, &at.ws, &mut people)?;
        hasher.update(&quotas);
        hasher.update(&assignments);
        laps.lap("participants, quotas and assignments read");
        let txns = match txn_csv.as_deref() {
            None => snapshot::transactions_streamed(db, &at.ws, &people, &mut txn_digest)?,
            Some(_) if stretch == last_stretch => {
                let text = txn_csv.take().unwrap_or_default();
                snapshot::transactions(&at.ws, &people, &text)?
            }
            Some(text) => snapshot::transactions(&at.ws, &people, text)?,
        };
        laps.lap("transactions parsed");
        progress(&format!("calculating {from} to {until}"));
        let calc = engine::calculate(&at.ws, &people, &txns, &overrides, year)?;
        laps.lap("calculated");
        versions_used.insert(from.clone(), at.versions.clone());
        let money = at.ws.money();
        for p in calc.payouts {
            if !ends_here(&p.period) {
                continue;
            }
            let plan = &at.ws.plans[p.plan];
            computed.push(Computed {
                participant: people.ids[p.participant as usize].clone(),
                period: p.period,
                plan: plan.id.clone(),
                component: plan.components[p.component].id.clone(),
                amount: p.amount,
                steps: trace_lines(&p.trace.steps, &money),
            });
        }
    }
    computed.sort_by(|a, b| {
        (&a.participant, a.period.to_string(), &a.component).cmp(&(
            &b.participant,
            b.period.to_string(),
            &b.component,
        ))
    });
    // The transactions' digest first, then plans and people per stretch.
    let mut inputs = xxhash_rust::xxh3::Xxh3::new();
    inputs.update(&txn_digest.digest128().to_le_bytes());
    inputs.update(&hasher.digest128().to_le_bytes());
    let inputs_digest = format!("{:032x}", inputs.digest128());
    let total: Decimal = computed.iter().map(|c| c.amount).sum();
    let through_import = db
        .query_one("SELECT max(id) FROM imports", &[])?
        .and_then(|r| driver::opt_int(&r, 0))
        .unwrap_or(0);
    let run_id = db
        .query_one(
            "INSERT INTO runs (recorded_at, actor, fiscal_year, inputs_digest, plan_versions, through_import, payouts, total) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[
                cx.now.as_str().into(),
                cx.actor.as_str().into(),
                Value::Int(i64::from(year)),
                inputs_digest.as_str().into(),
                serde_json::to_string(&versions_used)
                    .unwrap_or_default()
                    .into(),
                Value::Int(through_import),
                Value::Int(computed.len() as i64),
                total.to_string().into(),
            ],
        )?
        .map_or(0, |r| driver::int(&r, 0));

    progress(&format!(
        "recording {}",
        attain_core::report::count(computed.len(), "payout", "payouts")
    ));
    let mut rows = computed.iter().map(|c| c.row(run_id, &cal));
    db.append("results", RESULT_COLUMNS, &mut rows)?;

    laps.lap("results recorded");
    let adjustments = adjustments(db, &latest.ws, &cal, year, &computed, None)?;
    let mut rows = adjustments.iter().map(|a| adjustment_row(a, run_id));
    db.append("results", RESULT_COLUMNS, &mut rows)?;

    laps.lap("adjustments");
    let unapproved = crate::periods::mark_calculated(db, &cal, year, run_id)?;
    laps.lap("periods marked");
    audit(
        db,
        cx,
        "run",
        &format!("run {run_id}"),
        &format!(
            "fiscal year {year}: {} payouts, total {total}, {} prior-period adjustments, inputs {inputs_digest}",
            computed.len(),
            adjustments.len()
        ),
    )?;
    Ok(RunReport {
        id: run_id,
        year,
        payouts: computed.len(),
        total,
        inputs_digest,
        stretches: used,
        adjustments,
        unapproved,
    })
}

pub(crate) const RESULT_COLUMNS: &[&str] = &[
    "run_id",
    "participant_id",
    "period",
    "component",
    "kind",
    "plan",
    "pay_period",
    "amount",
    "trace",
];

/// For every payout of a closed pay period: what was paid (the approved
/// results of every closed period, adjustments included) against what the
/// run finds now. A difference is paid in the first open pay period.
/// `only`: the participants `computed` covers (a live update); others are
/// left alone.
pub(crate) fn adjustments(
    db: &mut dyn Driver,
    ws: &Workspace,
    cal: &FiscalCalendar,
    year: i16,
    computed: &[Computed],
    only: Option<&BTreeSet<String>>,
) -> Result<Vec<AdjustmentLine>, Error> {
    let closed = crate::periods::closed_in_year(db, cal, year)?;
    if closed.is_empty() {
        return Ok(Vec::new());
    }
    let months = cal.periods(year, PAY_PERIOD);
    let Some(open) = months
        .iter()
        .map(|p| p.to_string())
        .find(|p| !closed.iter().any(|c| c.period == *p))
    else {
        // Every pay period is closed: the differences have nowhere to go.
        let changed = compare(db, computed, cal, &closed, only)?;
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        return Err(Error::new(format!(
            "every pay period of {year} is closed, and this run changes {} of their payouts",
            changed.len()
        ))
        .with_hint(
            "nothing was recorded; the changes will be paid once the next year's periods are open",
        ));
    };
    let changed = compare(db, computed, cal, &closed, only)?;
    let latest_people = snapshot::participants_at(db, ws, LATEST)?.0;
    let mut out = Vec::new();
    for (key, paid, now, plan) in changed {
        let (participant, period, component) = key;
        let Some(p) = Period::parse(&period) else {
            continue;
        };
        let pay = pay_period(cal, p).to_string();
        let closed_row = closed.iter().find(|c| c.period == pay);
        let through = closed_row.map_or(0, |c| c.through_import);
        let deals = changed_deals(
            db,
            ws,
            &latest_people,
            &participant,
            &date_text(cal.start(p)),
            &date_text(cal.end(p)),
            through,
        )?;
        out.push(AdjustmentLine {
            participant,
            period,
            component,
            plan,
            pay_period: open.clone(),
            paid,
            recalculated: now,
            difference: now - paid,
            deals,
        });
    }
    Ok(out)
}

type Key = (String, String, String);

/// Keys of closed pay periods whose recalculated amount differs from what
/// was paid: (key, paid, recalculated, plan).
fn compare(
    db: &mut dyn Driver,
    computed: &[Computed],
    cal: &FiscalCalendar,
    closed: &[crate::periods::Closed],
    only: Option<&BTreeSet<String>>,
) -> Result<Vec<(Key, Decimal, Decimal, String)>, Error> {
    let mut paid: BTreeMap<Key, (Decimal, String)> = BTreeMap::new();
    for c in closed {
        db.scan(
            "SELECT participant_id, period, component, amount, plan FROM results \
             WHERE run_id = $1 AND pay_period = $2",
            &[Value::Int(c.approved_run), c.period.as_str().into()],
            &mut |r| {
                if only.is_some_and(|o| !o.contains(r[0].text())) {
                    return Ok(());
                }
                let key = (
                    r[0].text().to_string(),
                    r[1].text().to_string(),
                    r[2].text().to_string(),
                );
                let amount = Decimal::from_str(r[3].text()).unwrap_or_default();
                let e = paid
                    .entry(key)
                    .or_insert((Decimal::ZERO, r[4].text().to_string()));
                e.0 += amount;
                Ok(())
            },
        )?;
    }
    let closed_set: HashSet<&str> = closed.iter().map(|c| c.period.as_str()).collect();
    let mut now: BTreeMap<Key, (Decimal, String)> = BTreeMap::new();
    for c in computed {
        if closed_set.contains(pay_period(cal, c.period).to_string().as_str()) {
            now.insert(
                (
                    c.participant.clone(),
                    c.period.to_string(),
                    c.component.clone(),
                ),
                (c.amount, c.plan.clone()),
            );
        }
    }
    let keys: BTreeSet<&Key> = paid.keys().chain(now.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let (was, plan_then) = paid.get(key).cloned().unwrap_or_default();
        let (is, plan_now) = now.get(key).cloned().unwrap_or_default();
        if was != is {
            let plan = if plan_now.is_empty() {
                plan_then
            } else {
                plan_now
            };
            out.push((key.clone(), was, is, plan));
        }
    }
    Ok(out)
}

/// Transactions revised or cancelled after import `through` (the last one
/// a period's close saw) dated in `start..=end` (before or after the
/// change) that credit `participant` or someone below them.
fn changed_deals(
    db: &mut dyn Driver,
    ws: &Workspace,
    people: &Participants,
    participant: &str,
    start: &str,
    end: &str,
    through: i64,
) -> Result<Vec<DealChange>, Error> {
    let rows = db.query(
        "SELECT t.deal_id, t.revision, t.deal_date, l.header, t.record, t.cancelled, t.import_id, t.reason \
         FROM transactions t JOIN layouts l ON l.id = t.layout \
         WHERE t.deal_id IN (SELECT deal_id FROM transactions WHERE import_id > $1) \
         ORDER BY t.deal_id, t.revision",
        &[Value::Int(through)],
    )?;
    let mut team: HashSet<String> = HashSet::new();
    team.insert(participant.to_string());
    if let Some(&p) = people.index.get(participant) {
        for r in people.all_reports(p) {
            team.insert(people.ids[r as usize].clone());
        }
    }
    let credit_columns: Vec<&str> = ws
        .transactions
        .fields
        .iter()
        .filter(|f| f.ty == FieldType::Participant)
        .map(|f| f.column.as_str())
        .collect();
    let mut by_deal: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        by_deal.entry(driver::text(r, 0)).or_default().push(r);
    }
    let mut out = Vec::new();
    for (deal, revisions) in by_deal {
        let before = revisions
            .iter()
            .rev()
            .find(|r| driver::int(r, 6) <= through)
            .copied();
        let Some(after) = revisions.last().copied() else {
            continue;
        };
        let in_window = |r: &Row| {
            let d = driver::text(r, 2);
            d.as_str() >= start && d.as_str() <= end
        };
        if !(in_window(after) || before.is_some_and(in_window)) {
            continue;
        }
        let values = |r: &Row| {
            let names = records::parse_line(&driver::text(r, 3));
            let fields = records::parse_line(&driver::text(r, 4));
            names
                .into_iter()
                .zip(fields)
                .collect::<BTreeMap<String, String>>()
        };
        let new = values(after);
        let old = before.map(values);
        let credits = |v: &BTreeMap<String, String>| {
            credit_columns
                .iter()
                .any(|c| v.get(*c).is_some_and(|id| team.contains(id)))
        };
        if !(credits(&new) || old.as_ref().is_some_and(credits)) {
            continue;
        }
        let change = if driver::int(after, 5) == 1 {
            match driver::opt_text(after, 7) {
                Some(reason) if !reason.is_empty() => format!("cancelled ({reason})"),
                _ => "cancelled".to_string(),
            }
        } else if let Some(old) = &old {
            let mut parts = Vec::new();
            for (k, v) in &new {
                let was = old.get(k).map_or("", String::as_str);
                if was != v {
                    parts.push(format!("{k} {was} → {v}"));
                }
            }
            if parts.is_empty() {
                "revised".to_string()
            } else {
                parts.join(", ")
            }
        } else {
            format!("new since the close, dated {}", driver::text(after, 2))
        };
        out.push(DealChange { deal, change });
    }
    Ok(out)
}
