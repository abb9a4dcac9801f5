//! A what-if: candidate plans paid instead of the plans they replace, on
//! the same credits and measures, compared with the plans in force.

use super::{evaluate_all, Basis, Scope};
use crate::engine::measures::participant_value;
use crate::engine::{Payout, RunError};
use crate::expr::Value;
use crate::stats::{even_bins, Bin, Distribution};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// Plans paid instead of others: `(replaced, candidate)` plan indexes.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub replacements: Vec<(usize, usize)>,
}

/// Money before (plans in force) and after (the scenario), and the credited
/// revenue it is paid on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Amounts {
    pub revenue: Decimal,
    pub before: Decimal,
    pub after: Decimal,
}

impl Amounts {
    pub fn change(&self) -> Decimal {
        self.after - self.before
    }

    /// Cost as a share of credited revenue, before and after.
    pub fn shares(&self) -> (Option<Decimal>, Option<Decimal>) {
        let share = |v: Decimal| {
            v.checked_div(self.revenue)
                .filter(|_| !self.revenue.is_zero())
        };
        (share(self.before), share(self.after))
    }
}

/// A group of payouts (a role, a plan, a component).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub key: String,
    /// People with a payout in the group, before or after.
    pub people: usize,
    pub amounts: Amounts,
    pub gainers: usize,
    pub losers: usize,
}

/// One person's pay before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonLine {
    pub id: String,
    /// Their value of the grouping field (`role`), or empty.
    pub group: String,
    /// The plans paying them, `replaced → candidate` when replaced.
    pub plan: String,
    pub amounts: Amounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Movement {
    pub gainers: usize,
    pub losers: usize,
    pub unchanged: usize,
    /// The sum of the gains (positive) and of the losses (negative).
    pub gained: Decimal,
    pub lost: Decimal,
}

/// A scenario compared with the plans in force. Plain data: the table, CSV
/// and JSON renderers and charts read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// `candidate replaces replaced`, joined by `; `.
    pub scenario: String,
    /// (replaced plan id, candidate plan id)
    pub replacements: Vec<(String, String)>,
    pub year: i16,
    /// The periods counted; empty for the whole year.
    pub periods: Vec<String>,
    /// The participant field people are grouped by (`role`), if any.
    pub group_field: Option<String>,
    /// The measure counted as credited revenue; `None`: every credit.
    pub revenue_measure: Option<String>,
    pub totals: Amounts,
    /// Payouts and revenue of the people holding credits: their ratio is
    /// the effective commission rate.
    pub credited: Amounts,
    pub by_group: Vec<Line>,
    pub by_plan: Vec<Line>,
    pub by_component: Vec<Line>,
    /// Everyone paid before or after, in id order.
    pub people: Vec<PersonLine>,
    pub movement: Movement,
    /// Of each person's change.
    pub changes: Distribution,
    pub histogram: Vec<Bin>,
}

/// Compares `scenario` with the plans in force, counting the payouts of
/// `scope`'s periods; people are grouped by `group_field` when given.
pub fn compare(
    basis: &mut Basis,
    scenario: &Scenario,
    scope: &Scope,
    group_field: Option<&str>,
) -> Result<Comparison, Vec<RunError>> {
    let ws = basis.ws;
    let people = basis.people;
    let replaced: BTreeMap<usize, usize> = scenario.replacements.iter().copied().collect();
    // Only people a replaced plan pays are evaluated again.
    let moved: BTreeSet<u32> = basis
        .baseline
        .iter()
        .filter(|p| replaced.contains_key(&p.plan))
        .map(|p| p.participant)
        .collect();
    // The scenario's payouts: those evaluated again, then the baseline's
    // of everyone else (borrowed, not copied: traces are large).
    let mut after: Vec<Payout> = Vec::new();
    if !moved.is_empty() {
        let plan_for = |plan: usize| replaced.get(&plan).copied().unwrap_or(plan);
        let mut errors = Vec::new();
        let by = crate::engine::PayBy::new(ws, &plan_for, true);
        for &p in &moved {
            crate::engine::payouts_of(ws, people, &basis.tables, p, &by, &mut after, &mut errors);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        basis.work.evaluations += after.len();
    }
    let unmoved = basis
        .baseline
        .iter()
        .filter(|p| !moved.contains(&p.participant));

    // A plan's label: `replaced → candidate` for both plans of a pair.
    let mut label: Vec<String> = ws.plans.iter().map(|p| p.id.clone()).collect();
    for (&old, &new) in &replaced {
        let text = format!("{} → {}", ws.plans[old].id, ws.plans[new].id);
        label[old] = text.clone();
        label[new] = text;
    }

    let component_label: Vec<Vec<String>> = ws
        .plans
        .iter()
        .enumerate()
        .map(|(i, plan)| {
            plan.components
                .iter()
                .map(|c| format!("{} · {}", label[i], c.id))
                .collect()
        })
        .collect();
    let revenue = basis.revenue(scope);
    let group_of = |p: u32| -> String {
        match group_field.and_then(|f| participant_value(ws, people, p, f)) {
            Some(Value::Text(t)) => t,
            Some(v) => v.to_string(),
            None => String::new(),
        }
    };

    #[derive(Default)]
    struct Acc<'a> {
        before: Decimal,
        after: Decimal,
        plans: BTreeSet<&'a str>,
    }
    type Members = BTreeMap<u32, (Decimal, Decimal)>;
    let mut per_person: BTreeMap<u32, Acc> = BTreeMap::new();
    let mut per_plan: BTreeMap<&str, Members> = BTreeMap::new();
    let mut per_component: BTreeMap<&str, Members> = BTreeMap::new();
    let lists: [(bool, Box<dyn Iterator<Item = &Payout>>); 2] = [
        (false, Box::new(basis.baseline.iter())),
        (true, Box::new(after.iter().chain(unmoved))),
    ];
    for (is_after, list) in lists {
        for p in list {
            if !basis.in_scope(scope, p.period) {
                continue;
            }
            let acc = per_person.entry(p.participant).or_default();
            let plan_label = &label[p.plan];
            acc.plans.insert(plan_label);
            let component = &component_label[p.plan][p.component];
            let add = |pair: &mut (Decimal, Decimal)| {
                if is_after {
                    pair.1 += p.amount;
                } else {
                    pair.0 += p.amount;
                }
            };
            if is_after {
                acc.after += p.amount;
            } else {
                acc.before += p.amount;
            }
            add(per_plan
                .entry(plan_label)
                .or_default()
                .entry(p.participant)
                .or_default());
            add(per_component
                .entry(component)
                .or_default()
                .entry(p.participant)
                .or_default());
        }
    }

    let mut totals = Amounts::default();
    let mut credited = Amounts::default();
    let mut movement = Movement::default();
    let mut changes = Vec::with_capacity(per_person.len());
    let mut person_lines = Vec::with_capacity(per_person.len());
    let mut per_group: BTreeMap<String, Members> = BTreeMap::new();
    for (&p, acc) in &per_person {
        let r = revenue[p as usize];
        let amounts = Amounts {
            revenue: r,
            before: acc.before,
            after: acc.after,
        };
        totals.before += acc.before;
        totals.after += acc.after;
        if !r.is_zero() {
            credited.revenue += r;
            credited.before += acc.before;
            credited.after += acc.after;
        }
        let change = amounts.change();
        match change.cmp(&Decimal::ZERO) {
            std::cmp::Ordering::Greater => {
                movement.gainers += 1;
                movement.gained += change;
            }
            std::cmp::Ordering::Less => {
                movement.losers += 1;
                movement.lost += change;
            }
            std::cmp::Ordering::Equal => movement.unchanged += 1,
        }
        changes.push(change);
        let group = group_of(p);
        per_group
            .entry(group.clone())
            .or_default()
            .insert(p, (acc.before, acc.after));
        person_lines.push(PersonLine {
            id: people.ids[p as usize].clone(),
            group,
            plan: acc.plans.iter().cloned().collect::<Vec<_>>().join(", "),
            amounts,
        });
    }
    // Revenue counts everyone credited in scope, paid or not.
    totals.revenue = revenue.iter().sum();
    person_lines.sort_by(|a, b| a.id.cmp(&b.id));

    let lines = |groups: Vec<(String, Members)>| -> Vec<Line> {
        groups
            .into_iter()
            .map(|(key, members)| {
                let mut line = Line {
                    key,
                    people: members.len(),
                    amounts: Amounts::default(),
                    gainers: 0,
                    losers: 0,
                };
                for (p, (b, a)) in members {
                    line.amounts.revenue += revenue[p as usize];
                    line.amounts.before += b;
                    line.amounts.after += a;
                    line.gainers += usize::from(a > b);
                    line.losers += usize::from(a < b);
                }
                line
            })
            .collect()
    };
    let cal = &ws.calendar;
    let mut periods = scope.periods.clone();
    periods.sort_by_key(|p| (cal.start(*p), std::cmp::Reverse(cal.end(*p))));
    Ok(Comparison {
        revenue_measure: basis.revenue_measure.map(|m| ws.measures[m].name.clone()),
        scenario: replaced
            .iter()
            .map(|(&old, &new)| format!("{} replaces {}", ws.plans[new].id, ws.plans[old].id))
            .collect::<Vec<_>>()
            .join("; "),
        replacements: replaced
            .iter()
            .map(|(&old, &new)| (ws.plans[old].id.clone(), ws.plans[new].id.clone()))
            .collect(),
        year: basis.year,
        periods: periods.iter().map(ToString::to_string).collect(),
        group_field: group_field.map(str::to_string),
        totals,
        credited,
        by_group: if group_field.is_some() {
            lines(per_group.into_iter().collect())
        } else {
            Vec::new()
        },
        by_plan: lines(
            per_plan
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ),
        by_component: lines(
            per_component
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ),
        people: person_lines,
        movement,
        histogram: even_bins(&changes, 10),
        changes: Distribution::of(&changes),
    })
}

/// The scenario's payouts for everyone (tests and tools that want rows).
pub fn scenario_payouts(basis: &Basis, scenario: &Scenario) -> Result<Vec<Payout>, Vec<RunError>> {
    let replaced: BTreeMap<usize, usize> = scenario.replacements.iter().copied().collect();
    evaluate_all(basis.ws, basis.people, &basis.tables, &|plan| {
        replaced.get(&plan).copied().unwrap_or(plan)
    })
}
