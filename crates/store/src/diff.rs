//! "Why did my pay change?": two recorded runs compared, payout by payout,
//! with the inputs that differ between them.
//!
//! A run records the last import it saw (`through_import`) and the plan
//! versions it used, so its inputs can be rebuilt after the fact: a
//! transaction revision was among run R's inputs when it was the latest
//! revision of its deal imported up to R's `through_import`. Comparing the
//! two runs' inputs needs nothing the schema does not already keep.
//!
//! Earnings are compared, not adjustments: an adjustment is how a changed
//! earning of a closed period gets paid, so counting both would count the
//! change twice. The adjustment is shown next to the earning it pays.

use crate::driver::{self, Driver, Row, Value};
use crate::records;
use crate::snapshot::{self, LATEST};
use crate::{Error, Store};
use attain_core::calendar::{FiscalCalendar, Period};
use attain_core::data::Participants;
use attain_core::plan::{FieldType, Workspace};
use jiff::civil::Date;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;

/// Two runs compared.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDiff {
    pub a: RunInfo,
    pub b: RunInfo,
    /// The participant the comparison was narrowed to.
    pub participant: Option<String>,
    /// Earnings whose amount differs, in participant, period, component
    /// order.
    pub payouts: Vec<PayoutChange>,
    pub transactions: Vec<TransactionChange>,
    pub plans: Vec<PlanChange>,
    pub quotas: Vec<QuotaChange>,
    pub assignments: Vec<AssignmentChange>,
    /// Participant versions (hierarchy, plan column, dates, fields).
    pub people: Vec<PersonChange>,
    /// How many people have at least one changed earning.
    pub people_changed: usize,
    /// The sum of every payout difference (run B minus run A).
    pub total_difference: Decimal,
}

impl RunDiff {
    /// Neither a payout nor an input differs.
    pub fn is_empty(&self) -> bool {
        self.payouts.is_empty()
            && self.transactions.is_empty()
            && self.plans.is_empty()
            && self.quotas.is_empty()
            && self.assignments.is_empty()
            && self.people.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    pub id: i64,
    pub year: i64,
    pub through_import: i64,
    pub inputs_digest: String,
}

/// One earning that differs between the runs.
#[derive(Debug, Clone, PartialEq)]
pub struct PayoutChange {
    pub participant: String,
    pub period: String,
    pub component: String,
    pub plan: String,
    /// `None`: the run has no such payout.
    pub old: Option<Decimal>,
    pub new: Option<Decimal>,
    pub difference: Decimal,
    /// Indexes into [`RunDiff::transactions`]: changed deals dated in the
    /// period (before or after the change) that credit this person or
    /// someone below them.
    pub deals: Vec<usize>,
    /// Indexes into [`RunDiff::plans`]: versions of this plan's file (or of
    /// attain.toml) in force at the period's end.
    pub plans: Vec<usize>,
    /// Indexes into [`RunDiff::quotas`]: this person's quotas for a period
    /// overlapping this one.
    pub quotas: Vec<usize>,
    /// Indexes into [`RunDiff::assignments`]: this person's.
    pub assignments: Vec<usize>,
    /// Indexes into [`RunDiff::people`]: versions of this person, of
    /// someone below them, or naming them as manager.
    pub people: Vec<usize>,
    /// When the period is closed, run B pays the difference as a
    /// prior-period adjustment: its pay period and amount.
    pub adjustment: Option<(String, Decimal)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Revised,
    Cancelled,
    /// Cancelled in run A's inputs, a live revision in run B's.
    Reinstated,
    /// In run A's inputs, not yet imported when run B was (run B is the
    /// older one).
    Absent,
}

impl Change {
    pub fn name(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Revised => "revised",
            Change::Cancelled => "cancelled",
            Change::Reinstated => "reinstated",
            Change::Absent => "not in run B's inputs",
        }
    }
}

/// A value the schema reads, before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub column: String,
    pub old: String,
    pub new: String,
}

impl FieldChange {
    /// `amount 1000.00 → 1500.00`; an empty value shows as `(empty)`.
    pub fn describe(&self) -> String {
        let v = |s: &str| {
            if s.is_empty() {
                "(empty)".to_string()
            } else {
                s.to_string()
            }
        };
        format!("{} {} → {}", self.column, v(&self.old), v(&self.new))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionChange {
    pub deal: String,
    /// Its date in run B's inputs (run A's when absent from B's).
    pub date: String,
    pub change: Change,
    /// The values that differ (revised, reinstated).
    pub fields: Vec<FieldChange>,
    /// Why it was cancelled.
    pub reason: Option<String>,
    /// The imports that hold the revisions each run saw (0: none).
    pub import_a: i64,
    pub import_b: i64,
    /// Participants its participant fields name, before or after.
    pub credits: Vec<String>,
}

impl TransactionChange {
    /// `d4 revised: amount 150000.00 → 160000.00`.
    pub fn describe(&self) -> String {
        let mut text = format!("{} {}", self.deal, self.change.name());
        match self.change {
            Change::Added => text.push_str(&format!(", dated {}", self.date)),
            Change::Cancelled => {
                if let Some(r) = self.reason.as_deref().filter(|r| !r.is_empty()) {
                    text.push_str(&format!(" ({r})"));
                }
            }
            Change::Revised | Change::Reinstated | Change::Absent => {}
        }
        if !self.fields.is_empty() {
            let parts: Vec<String> = self.fields.iter().map(FieldChange::describe).collect();
            text.push_str(": ");
            text.push_str(&parts.join(", "));
        }
        text
    }
}

/// A workspace file whose version differs between the runs over a
/// stretch of the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanChange {
    pub path: String,
    /// The plan the file defines (none for attain.toml).
    pub plan: Option<String>,
    /// `None`: the run used no version of the file.
    pub old: Option<i64>,
    pub new: Option<i64>,
    /// The stretch of the year the difference covers: its first day, and
    /// its last unless it runs to the end of the year.
    pub from: String,
    pub until: Option<String>,
}

impl PlanChange {
    /// `plans/rep.toml version 1 → version 2, from 2026-02-01`.
    pub fn describe(&self) -> String {
        let v = |n: Option<i64>| n.map_or("none".to_string(), |n| format!("version {n}"));
        let span = match &self.until {
            Some(u) => format!("from {} to {u}", self.from),
            None => format!("from {}", self.from),
        };
        format!("{} {} → {}, {span}", self.path, v(self.old), v(self.new))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaChange {
    pub participant: String,
    pub quota: String,
    pub period: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl QuotaChange {
    pub fn describe(&self) -> String {
        let v = |s: &Option<String>| s.clone().unwrap_or_else(|| "the plan's".to_string());
        format!(
            "quota {} of {} for {}: {} → {}",
            self.quota,
            self.participant,
            self.period,
            v(&self.old),
            v(&self.new)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentChange {
    pub participant: String,
    /// Each assignment as `plan start..end` (an open end left empty).
    pub old: Vec<String>,
    pub new: Vec<String>,
}

impl AssignmentChange {
    pub fn describe(&self) -> String {
        let v = |list: &[String]| {
            if list.is_empty() {
                "the participants file's plan".to_string()
            } else {
                list.join(", ")
            }
        };
        format!(
            "assignments of {}: {} → {}",
            self.participant,
            v(&self.old),
            v(&self.new)
        )
    }
}

/// A participant version that differs between the runs' inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonChange {
    pub participant: String,
    /// The first day the version applies (`0001-01-01`: from the
    /// beginning).
    pub effective: String,
    /// Added, revised, or absent from run B's inputs.
    pub change: Change,
    pub fields: Vec<FieldChange>,
    /// The manager column's values, before and after.
    pub managers: Vec<String>,
}

impl PersonChange {
    /// `am2 revised, effective 2026-04-01: manager_id mgr1 → mgr2`.
    pub fn describe(&self) -> String {
        let when = crate::plans::show_date(&self.effective);
        let when = if when == self.effective {
            format!("effective {when}")
        } else {
            when
        };
        let mut text = format!(
            "participant {} {}, {when}",
            self.participant,
            self.change.name()
        );
        if !self.fields.is_empty() {
            let parts: Vec<String> = self.fields.iter().map(FieldChange::describe).collect();
            text.push_str(": ");
            text.push_str(&parts.join(", "));
        }
        text
    }
}

impl Store {
    /// Compares two recorded runs (default: the two latest; with only `a`,
    /// `a` against the latest), optionally for one participant.
    pub fn diff_runs(
        &mut self,
        a: Option<i64>,
        b: Option<i64>,
        participant: Option<&str>,
    ) -> Result<RunDiff, Error> {
        self.read(|db| diff_runs(db, a, b, participant))
    }
}

fn no_runs_hint(latest: i64) -> String {
    if latest == 0 {
        "record one with `attain run`".to_string()
    } else {
        format!("the store's runs are numbered 1 to {latest} (`attain audit` lists them)")
    }
}

pub(crate) fn latest_run(db: &mut dyn Driver) -> Result<i64, Error> {
    Ok(db
        .query_one("SELECT max(id) FROM runs", &[])?
        .and_then(|r| driver::opt_int(&r, 0))
        .unwrap_or(0))
}

/// A recorded run, or an error naming the id that is not one.
pub(crate) fn run_info(db: &mut dyn Driver, id: i64) -> Result<(RunInfo, String), Error> {
    let row = db.query_one(
        "SELECT id, fiscal_year, through_import, inputs_digest, plan_versions FROM runs WHERE id = $1",
        &[Value::Int(id)],
    )?;
    match row {
        Some(r) => Ok((
            RunInfo {
                id: driver::int(&r, 0),
                year: driver::int(&r, 1),
                through_import: driver::int(&r, 2),
                inputs_digest: driver::text(&r, 3),
            },
            driver::text(&r, 4),
        )),
        None => {
            let latest = latest_run(db)?;
            Err(Error::new(format!("no run {id} in the store")).with_hint(no_runs_hint(latest)))
        }
    }
}

/// Fails unless some import named `participant`.
pub(crate) fn check_participant(db: &mut dyn Driver, participant: &str) -> Result<(), Error> {
    if db
        .query_one(
            "SELECT 1 FROM participant_versions WHERE participant_id = $1",
            &[participant.into()],
        )?
        .is_some()
    {
        return Ok(());
    }
    let example = db
        .query_one(
            "SELECT participant_id FROM participant_versions ORDER BY participant_id LIMIT 1",
            &[],
        )?
        .map(|r| driver::text(&r, 0));
    let hint = match example {
        Some(e) => format!("participant ids are as imported, like `{e}` (ids are case-sensitive)"),
        None => "the store holds no participants yet: `attain import participants FILE`".into(),
    };
    Err(Error::new(format!("no participant `{participant}` in the store")).with_hint(hint))
}

fn diff_runs(
    db: &mut dyn Driver,
    a: Option<i64>,
    b: Option<i64>,
    participant: Option<&str>,
) -> Result<RunDiff, Error> {
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, latest_run(db)?),
        (None, _) => {
            let ids: Vec<i64> = db
                .query("SELECT id FROM runs ORDER BY id DESC LIMIT 2", &[])?
                .iter()
                .map(|r| driver::int(r, 0))
                .collect();
            match ids.as_slice() {
                [b, a] => (*a, *b),
                _ => {
                    return Err(Error::new(format!(
                        "the store holds {} run{}; a diff compares two",
                        ids.len(),
                        if ids.len() == 1 { "" } else { "s" }
                    ))
                    .with_hint("record another with `attain run`"))
                }
            }
        }
    };
    let (run_a, versions_a) = run_info(db, a)?;
    let (run_b, versions_b) = run_info(db, b)?;
    if let Some(p) = participant {
        check_participant(db, p)?;
    }
    let latest = snapshot::workspace_at(db, LATEST)?;
    let ws = &latest.ws;
    let cal = ws.calendar;
    let people = snapshot::participants_at(db, ws, LATEST)?.0;

    let earnings_a = results(db, run_a.id, participant)?;
    let earnings_b = results(db, run_b.id, participant)?;

    let mut transactions = transaction_changes(db, ws, &run_a, &run_b)?;
    for t in &mut transactions {
        t.reach = reach(&people, &t.change.credits);
    }
    let (persons, person_reach): (Vec<PersonChange>, Vec<HashSet<String>>) =
        person_changes(db, ws, &run_a, &run_b)?
            .into_iter()
            .map(|c| {
                // A new manager's pay is reached as well as the old one's.
                let mut r = reach(&people, std::slice::from_ref(&c.participant));
                r.extend(c.managers.iter().cloned());
                (c, r)
            })
            .filter(|(_, r)| participant.is_none_or(|p| r.contains(p)))
            .unzip();
    if let Some(p) = participant {
        transactions.retain(|t| t.reach.contains(p));
    }
    let mut plans = plan_changes(db, ws, &versions_a, &versions_b)?;
    if participant.is_some() {
        let theirs: HashSet<&str> = earnings_a
            .values()
            .chain(earnings_b.values())
            .map(|r| r.plan.as_str())
            .collect();
        plans.retain(|c| c.plan.as_deref().is_none_or(|p| theirs.contains(p)));
    }
    let mut quotas = quota_changes(db, &run_a, &run_b)?;
    let mut assignments = assignment_changes(db, &run_a, &run_b)?;
    if let Some(p) = participant {
        quotas.retain(|q| q.participant == p);
        assignments.retain(|c| c.participant == p);
    }

    // Per person, the deals that reach them: a payout looks only at its own
    // instead of every changed deal.
    let mut reached: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in transactions.iter().enumerate() {
        for who in &t.reach {
            reached.entry(who.as_str()).or_default().push(i);
        }
    }
    let keys: BTreeSet<&Key> = earnings_a.keys().chain(earnings_b.keys()).collect();
    let mut payouts = Vec::new();
    for key in keys {
        let was = earnings_a.get(key);
        let is = earnings_b.get(key);
        let (old, new) = (was.map(|r| r.amount), is.map(|r| r.amount));
        // A $0.00 payout that one run has and the other lacks pays the
        // same: no one's pay changed.
        if old.unwrap_or_default() == new.unwrap_or_default() {
            continue;
        }
        let (who, period_text, component) = key;
        let plan = is.or(was).map(|r| r.plan.clone()).unwrap_or_default();
        let adjustment = is.and_then(|r| r.adjustment.clone());
        let window = Period::parse(period_text).map(|p| (cal.start(p), cal.end(p)));
        let mut change = PayoutChange {
            participant: who.clone(),
            period: period_text.clone(),
            component: component.clone(),
            plan: plan.clone(),
            old,
            new,
            difference: new.unwrap_or_default() - old.unwrap_or_default(),
            deals: Vec::new(),
            plans: Vec::new(),
            quotas: Vec::new(),
            assignments: Vec::new(),
            people: Vec::new(),
            adjustment,
        };
        if let Some((start, end)) = window {
            let (start, end) = (start.to_string(), end.to_string());
            for &i in reached.get(who.as_str()).map_or(&[][..], Vec::as_slice) {
                let dated = transactions[i]
                    .dates
                    .iter()
                    .any(|d| *d >= start && *d <= end);
                if dated {
                    change.deals.push(i);
                }
            }
            for (i, c) in plans.iter().enumerate() {
                let covers = c.from <= end && c.until.as_ref().is_none_or(|u| *u >= end);
                if covers && c.plan.as_ref().is_none_or(|p| *p == plan) {
                    change.plans.push(i);
                }
            }
            for (i, q) in quotas.iter().enumerate() {
                if q.participant == *who && overlaps(&cal, &q.period, &start, &end) {
                    change.quotas.push(i);
                }
            }
        }
        for (i, c) in assignments.iter().enumerate() {
            if c.participant == *who {
                change.assignments.push(i);
            }
        }
        for (i, r) in person_reach.iter().enumerate() {
            if r.contains(who) {
                change.people.push(i);
            }
        }
        payouts.push(change);
    }
    let people_changed = payouts
        .iter()
        .map(|c| c.participant.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let total_difference = payouts.iter().map(|c| c.difference).sum();
    Ok(RunDiff {
        a: run_a,
        b: run_b,
        participant: participant.map(str::to_string),
        payouts,
        transactions: transactions.into_iter().map(|t| t.change).collect(),
        plans,
        quotas,
        assignments,
        people: persons,
        people_changed,
        total_difference,
    })
}

/// Whether a quota period (`2026`, `2026-Q1`, `2026-M02`) overlaps
/// `start..=end`; a period that does not parse is taken to overlap.
fn overlaps(cal: &FiscalCalendar, period: &str, start: &str, end: &str) -> bool {
    match Period::parse(period) {
        Some(p) => {
            cal.start(p).to_string().as_str() <= end && cal.end(p).to_string().as_str() >= start
        }
        None => true,
    }
}

type Key = (String, String, String);

struct Earning {
    amount: Decimal,
    plan: String,
    adjustment: Option<(String, Decimal)>,
}

/// A run's earnings, each with the adjustment that pays its change.
fn results(
    db: &mut dyn Driver,
    run: i64,
    participant: Option<&str>,
) -> Result<BTreeMap<Key, Earning>, Error> {
    let mut earnings: BTreeMap<Key, Earning> = BTreeMap::new();
    let mut adjustments: Vec<(Key, String, Decimal)> = Vec::new();
    let columns =
        "SELECT participant_id, period, component, kind, plan, pay_period, amount FROM results";
    let (sql, params) = match participant {
        Some(p) => (
            format!("{columns} WHERE run_id = $1 AND participant_id = $2"),
            vec![Value::Int(run), p.into()],
        ),
        None => (
            format!("{columns} WHERE run_id = $1"),
            vec![Value::Int(run)],
        ),
    };
    db.scan(&sql, &params, &mut |r| {
        let key = (
            r[0].text().to_string(),
            r[1].text().to_string(),
            r[2].text().to_string(),
        );
        let amount = Decimal::from_str(r[6].text()).unwrap_or_default();
        if r[3].text() == "adjustment" {
            adjustments.push((key, r[5].text().to_string(), amount));
        } else {
            earnings.insert(
                key,
                Earning {
                    amount,
                    plan: r[4].text().to_string(),
                    adjustment: None,
                },
            );
        }
        Ok(())
    })?;
    for (key, pay, amount) in adjustments {
        if let Some(e) = earnings.get_mut(&key) {
            e.adjustment = Some((pay, amount));
        }
    }
    Ok(earnings)
}

/// Whose pay a change to `ids` can reach: theirs and everyone's above
/// them, in the latest hierarchy.
fn reach(people: &Participants, ids: &[String]) -> HashSet<String> {
    let mut out: HashSet<String> = ids.iter().cloned().collect();
    for id in ids {
        let Some(&start) = people.index.get(id) else {
            continue;
        };
        let mut at = people.manager.get(start as usize).copied().flatten();
        // A loaded hierarchy has no cycle; the bound only guards the walk.
        let mut steps = 0;
        while let Some(m) = at {
            if let Some(id) = people.ids.get(m as usize) {
                out.insert(id.clone());
            }
            steps += 1;
            if steps > people.ids.len() {
                break;
            }
            at = people.manager.get(m as usize).copied().flatten();
        }
    }
    out
}

/// A transaction change with the dates it had in either run.
struct Dated {
    change: TransactionChange,
    dates: Vec<String>,
    /// Whose pay it can reach (see [`reach`]).
    reach: HashSet<String>,
}

struct Revision {
    import: i64,
    date: String,
    cancelled: bool,
    reason: Option<String>,
    values: BTreeMap<String, String>,
}

/// The imports one run saw and the other did not: `(lo, hi]`, whichever
/// run is older; `None` when both saw the same.
fn imports_between(a: &RunInfo, b: &RunInfo) -> Option<(i64, i64)> {
    let (lo, hi) = (
        a.through_import.min(b.through_import),
        a.through_import.max(b.through_import),
    );
    (lo != hi).then_some((lo, hi))
}

/// Deals whose revision differs between the runs' inputs.
fn transaction_changes(
    db: &mut dyn Driver,
    ws: &Workspace,
    a: &RunInfo,
    b: &RunInfo,
) -> Result<Vec<Dated>, Error> {
    let Some((lo, hi)) = imports_between(a, b) else {
        return Ok(Vec::new());
    };
    let rows = db.query(
        "SELECT t.deal_id, t.import_id, t.deal_date, l.header, t.record, t.cancelled, t.reason \
         FROM transactions t JOIN layouts l ON l.id = t.layout \
         WHERE t.import_id <= $1 AND t.deal_id IN \
           (SELECT deal_id FROM transactions WHERE import_id > $2 AND import_id <= $3) \
         ORDER BY t.deal_id, t.revision",
        &[Value::Int(hi), Value::Int(lo), Value::Int(hi)],
    )?;
    // Only the values the schema reads: a CRM's extra columns are no change.
    let columns = snapshot::transaction_columns(ws);
    let credit_columns: Vec<&str> = ws
        .transactions
        .fields
        .iter()
        .filter(|f| f.ty == FieldType::Participant)
        .map(|f| f.column.as_str())
        .collect();
    let revision = |r: &Row| {
        let names = records::parse_line(&driver::text(r, 3));
        let fields = records::parse_line(&driver::text(r, 4));
        let all: HashMap<String, String> = names.into_iter().zip(fields).collect();
        Revision {
            import: driver::int(r, 1),
            date: driver::text(r, 2),
            cancelled: driver::int(r, 5) == 1,
            reason: driver::opt_text(r, 6),
            values: columns
                .iter()
                .map(|c| (c.clone(), all.get(c).cloned().unwrap_or_default()))
                .collect(),
        }
    };
    let mut by_deal: BTreeMap<String, Vec<Revision>> = BTreeMap::new();
    for r in &rows {
        by_deal
            .entry(driver::text(r, 0))
            .or_default()
            .push(revision(r));
    }
    let seen_by = |revs: &[Revision], through: i64| {
        revs.iter()
            .rev()
            .position(|r| r.import <= through)
            .map(|i| revs.len() - 1 - i)
    };
    let mut out = Vec::new();
    for (deal, revs) in by_deal {
        let old = seen_by(&revs, a.through_import).and_then(|i| revs.get(i));
        let new = seen_by(&revs, b.through_import).and_then(|i| revs.get(i));
        let fields = |o: &Revision, n: &Revision| -> Vec<FieldChange> {
            columns
                .iter()
                .filter_map(|c| {
                    let (was, is) = (o.values.get(c)?, n.values.get(c)?);
                    (was != is).then(|| FieldChange {
                        column: c.clone(),
                        old: was.clone(),
                        new: is.clone(),
                    })
                })
                .collect()
        };
        let (change, fields, reason) = match (old, new) {
            (None, None) => continue,
            (None, Some(n)) if n.cancelled => continue,
            (None, Some(_)) => (Change::Added, Vec::new(), None),
            (Some(o), None) if o.cancelled => continue,
            (Some(_), None) => (Change::Absent, Vec::new(), None),
            (Some(o), Some(n)) => match (o.cancelled, n.cancelled) {
                (true, true) => continue,
                (false, true) => (Change::Cancelled, Vec::new(), n.reason.clone()),
                (true, false) => (Change::Reinstated, fields(o, n), None),
                (false, false) => {
                    let f = fields(o, n);
                    if f.is_empty() {
                        continue;
                    }
                    (Change::Revised, f, None)
                }
            },
        };
        let mut credits: BTreeSet<String> = BTreeSet::new();
        let mut dates: Vec<String> = Vec::new();
        for r in [old, new].into_iter().flatten() {
            for c in &credit_columns {
                if let Some(id) = r.values.get(*c).filter(|v| !v.is_empty()) {
                    credits.insert(id.clone());
                }
            }
            dates.push(r.date.clone());
        }
        let shown = new.or(old);
        out.push(Dated {
            change: TransactionChange {
                deal,
                date: shown.map(|r| r.date.clone()).unwrap_or_default(),
                change,
                fields,
                reason,
                import_a: old.map_or(0, |r| r.import),
                import_b: new.map_or(0, |r| r.import),
                credits: credits.into_iter().collect(),
            },
            dates,
            reach: HashSet::new(),
        });
    }
    Ok(out)
}

/// The plan version ids of a run by the first day of each stretch.
fn stretches(json: &str) -> BTreeMap<String, Vec<i64>> {
    serde_json::from_str(json).unwrap_or_default()
}

fn plan_changes(
    db: &mut dyn Driver,
    ws: &Workspace,
    a: &str,
    b: &str,
) -> Result<Vec<PlanChange>, Error> {
    let (a, b) = (stretches(a), stretches(b));
    if a == b {
        return Ok(Vec::new());
    }
    let mut versions: HashMap<i64, (String, i64)> = HashMap::new();
    for r in db.query("SELECT id, path, version FROM plan_versions", &[])? {
        versions.insert(
            driver::int(&r, 0),
            (driver::text(&r, 1), driver::int(&r, 2)),
        );
    }
    // The version of each file a run used on a day: its stretch holding it.
    let in_force = |run: &BTreeMap<String, Vec<i64>>, day: &str| -> BTreeMap<String, i64> {
        run.range(..=day.to_string())
            .next_back()
            .map(|(_, ids)| {
                ids.iter()
                    .filter_map(|id| versions.get(id).cloned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let plan_of = |path: &str| {
        ws.plans
            .iter()
            .find(|p| p.file == path || p.file.ends_with(&format!("/{path}")))
            .map(|p| p.id.clone())
    };
    let days: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out: Vec<PlanChange> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    for day in days {
        let (va, vb) = (in_force(&a, day), in_force(&b, day));
        let paths: BTreeSet<&String> = va.keys().chain(vb.keys()).collect();
        let before = Date::from_str(day)
            .ok()
            .and_then(|d| d.yesterday().ok())
            .map(|d| d.to_string());
        let mut still_open: HashMap<String, usize> = HashMap::new();
        for path in paths {
            let (old, new) = (va.get(path).copied(), vb.get(path).copied());
            if old == new {
                continue;
            }
            match open.get(path) {
                Some(&i) if out[i].old == old && out[i].new == new => {
                    still_open.insert(path.clone(), i);
                }
                _ => {
                    out.push(PlanChange {
                        path: path.clone(),
                        plan: plan_of(path),
                        old,
                        new,
                        from: day.clone(),
                        until: None,
                    });
                    still_open.insert(path.clone(), out.len() - 1);
                }
            }
        }
        for (path, i) in &open {
            if still_open.get(path) != Some(i) {
                out[*i].until = before.clone();
            }
        }
        open = still_open;
    }
    out.sort_by(|x, y| (&x.path, &x.from).cmp(&(&y.path, &y.from)));
    Ok(out)
}

fn quota_changes(db: &mut dyn Driver, a: &RunInfo, b: &RunInfo) -> Result<Vec<QuotaChange>, Error> {
    let Some((lo, hi)) = imports_between(a, b) else {
        return Ok(Vec::new());
    };
    let rows = db.query(
        "SELECT participant_id, quota, period, amount, import_id FROM quota_values \
         WHERE import_id <= $1 ORDER BY participant_id, quota, period, import_id",
        &[Value::Int(hi)],
    )?;
    let mut by_key: BTreeMap<Key, Vec<(i64, String)>> = BTreeMap::new();
    for r in &rows {
        by_key
            .entry((driver::text(r, 0), driver::text(r, 1), driver::text(r, 2)))
            .or_default()
            .push((driver::int(r, 4), driver::text(r, 3)));
    }
    let as_of = |values: &[(i64, String)], through: i64| {
        values
            .iter()
            .rev()
            .find(|(i, _)| *i <= through)
            .map(|(_, v)| v.clone())
    };
    let same = |x: &Option<String>, y: &Option<String>| match (x, y) {
        (Some(x), Some(y)) => {
            let parse = |s: &str| attain_core::money::parse_amount(s.trim()).ok();
            match (parse(x), parse(y)) {
                (Some(p), Some(q)) => p == q,
                _ => x == y,
            }
        }
        _ => x == y,
    };
    let mut out = Vec::new();
    for ((participant, quota, period), values) in by_key {
        if !values.iter().any(|(i, _)| *i > lo) {
            continue;
        }
        let old = as_of(&values, a.through_import);
        let new = as_of(&values, b.through_import);
        if !same(&old, &new) {
            out.push(QuotaChange {
                participant,
                quota,
                period,
                old,
                new,
            });
        }
    }
    Ok(out)
}

fn assignment_changes(
    db: &mut dyn Driver,
    a: &RunInfo,
    b: &RunInfo,
) -> Result<Vec<AssignmentChange>, Error> {
    let Some((lo, hi)) = imports_between(a, b) else {
        return Ok(Vec::new());
    };
    let rows = db.query(
        "SELECT participant_id, import_id, plan, start_date, end_date FROM assignments \
         WHERE import_id <= $1 ORDER BY participant_id, import_id",
        &[Value::Int(hi)],
    )?;
    // An assignments import replaces all of a person's rows: group by import.
    let mut by_person: BTreeMap<String, BTreeMap<i64, Vec<String>>> = BTreeMap::new();
    for r in &rows {
        let shown = format!(
            "{} {}..{}",
            driver::text(r, 2),
            driver::opt_text(r, 3).unwrap_or_default(),
            driver::opt_text(r, 4).unwrap_or_default()
        );
        by_person
            .entry(driver::text(r, 0))
            .or_default()
            .entry(driver::int(r, 1))
            .or_default()
            .push(shown);
    }
    let mut out = Vec::new();
    for (participant, imports) in by_person {
        if !imports.keys().any(|i| *i > lo) {
            continue;
        }
        let as_of = |through: i64| {
            let mut v = imports
                .range(..=through)
                .next_back()
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            v.sort();
            v
        };
        let (old, new) = (as_of(a.through_import), as_of(b.through_import));
        if old != new {
            out.push(AssignmentChange {
                participant,
                old,
                new,
            });
        }
    }
    Ok(out)
}

/// Participant versions whose text differs between the runs' inputs: per
/// participant and effective date, the latest import each run saw.
fn person_changes(
    db: &mut dyn Driver,
    ws: &Workspace,
    a: &RunInfo,
    b: &RunInfo,
) -> Result<Vec<PersonChange>, Error> {
    let Some((lo, hi)) = imports_between(a, b) else {
        return Ok(Vec::new());
    };
    let rows = db.query(
        "SELECT v.participant_id, v.effective, v.import_id, l.header, v.record \
         FROM participant_versions v JOIN layouts l ON l.id = v.layout \
         WHERE v.import_id <= $1 AND v.participant_id IN \
           (SELECT participant_id FROM participant_versions WHERE import_id > $2 AND import_id <= $3) \
         ORDER BY v.participant_id, v.effective, v.import_id",
        &[Value::Int(hi), Value::Int(lo), Value::Int(hi)],
    )?;
    let columns = snapshot::participant_columns(ws);
    let manager = ws.participants.manager_column.clone();
    type Versions = BTreeMap<String, Vec<(i64, BTreeMap<String, String>)>>;
    let mut by_person: BTreeMap<String, Versions> = BTreeMap::new();
    for r in &rows {
        let names = records::parse_line(&driver::text(r, 3));
        let fields = records::parse_line(&driver::text(r, 4));
        let all: HashMap<String, String> = names.into_iter().zip(fields).collect();
        let values = columns
            .iter()
            .map(|c| (c.clone(), all.get(c).cloned().unwrap_or_default()))
            .collect();
        by_person
            .entry(driver::text(r, 0))
            .or_default()
            .entry(driver::text(r, 1))
            .or_default()
            .push((driver::int(r, 2), values));
    }
    let field_changes = |o: &BTreeMap<String, String>, n: &BTreeMap<String, String>| {
        columns
            .iter()
            .filter_map(|c| {
                let (was, is) = (o.get(c)?, n.get(c)?);
                (was != is).then(|| FieldChange {
                    column: c.clone(),
                    old: was.clone(),
                    new: is.clone(),
                })
            })
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    for (participant, by_date) in &by_person {
        let as_of = |versions: &[(i64, BTreeMap<String, String>)], through: i64| {
            versions
                .iter()
                .rev()
                .find(|(i, _)| *i <= through)
                .map(|(_, v)| v.clone())
        };
        for (effective, versions) in by_date {
            let (old, new) = (
                as_of(versions, a.through_import),
                as_of(versions, b.through_import),
            );
            // A version with a new date is read against the one it takes
            // over from, as run A saw it.
            let before = || {
                by_date
                    .range(..effective.clone())
                    .rev()
                    .find_map(|(_, v)| as_of(v, a.through_import))
            };
            if old.is_none() && new.is_none() {
                continue;
            }
            let old = old.or_else(before);
            let (change, fields) = match (&old, &new) {
                (None, None) => continue,
                (None, Some(_)) => (Change::Added, Vec::new()),
                (Some(_), None) => (Change::Absent, Vec::new()),
                (Some(o), Some(n)) => {
                    let f = field_changes(o, n);
                    if f.is_empty() {
                        continue;
                    }
                    (Change::Revised, f)
                }
            };
            let managers: BTreeSet<String> = [old.as_ref(), new.as_ref()]
                .into_iter()
                .flatten()
                .filter_map(|v| manager.as_ref().and_then(|m| v.get(m)))
                .filter(|m| !m.is_empty())
                .cloned()
                .collect();
            out.push(PersonChange {
                participant: participant.clone(),
                effective: effective.clone(),
                change,
                fields,
                managers: managers.into_iter().collect(),
            });
        }
    }
    Ok(out)
}
