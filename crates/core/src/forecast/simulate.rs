//! The Monte Carlo part of a forecast: each simulation draws, for every
//! person and every unit of the period still to come, a unit of past deal
//! flow, adds its increments to the period-to-date base measures, then
//! recomputes roll-ups and derived measures and evaluates the components
//! exactly, as a calculation would.
//!
//! Where a draw comes from (a person's *pool*):
//! - units at the same place in earlier periods the data covers (one unit
//!   either side too), so a quarter's last weeks are drawn from earlier
//!   quarters' last weeks: that is the seasonality;
//! - the whole units already observed in the period: the run rate;
//! - a person with neither (hired lately, or the first weeks of the data)
//!   borrows the pool of a peer on the same plan, drawn anew each time.

use super::history::{unit_bounds, History};
use crate::calendar::days_between;
use crate::data::Participants;
use crate::engine::evaluate::{evaluate, ComponentInputs};
use crate::engine::measures::rollup_members;
use crate::engine::RunError;
use crate::expr::{eval, Value};
use crate::plan::{MeasureKind, ValueRef, Workspace};
use crate::random::SplitMix64;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Where a person's remaining deal flow is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Their own earlier periods and the weeks observed so far.
    Own,
    /// The weeks observed so far in this period only (no earlier period).
    PeriodToDate,
    /// Peers on the same plan: too little history of their own.
    Peers,
    /// Nothing more is expected (no remaining active day, or no one to
    /// borrow from).
    Nothing,
}

enum Pool {
    Own {
        periods: Vec<usize>,
        observed: Vec<usize>,
    },
    Peers(Vec<u32>),
    Nothing,
}

/// Bounds of the level of this period against earlier ones.
const LEVEL_MIN: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
const LEVEL_MAX: Decimal = Decimal::TWO;

/// Fewer observed units than this, and no earlier period: borrow.
const THIN: usize = 2;

pub(super) struct Simulation<'a> {
    ws: &'a Workspace,
    people: &'a Participants,
    h: &'a History,
    t: usize,
    /// Base measures to date: `[person × base + j]`.
    to_date: Vec<Decimal>,
    /// `[q][k]` → `[person × base + j]`; empty where never drawn.
    increments: Vec<Vec<Vec<Decimal>>>,
    pools: Vec<Pool>,
    /// Remaining active days of each person: `from..to` from the period
    /// start (empty when none).
    window: Vec<(i32, i32)>,
    eval: Evaluator<'a>,
    /// The earlier periods the data covers.
    earlier: Vec<usize>,
    /// People in id order: draws are made in this order, so a seed gives
    /// the same forecast whatever the order of the participants file.
    order: Vec<u32>,
}

/// What every simulation gave, per payee (in id order) and in total.
pub(super) struct Outcome {
    pub payees: Vec<u32>,
    pub plans: Vec<usize>,
    pub sources: Vec<Source>,
    pub attainment_component: Vec<Option<usize>>,
    pub to_date: Vec<Decimal>,
    pub to_date_attainment: Vec<Option<Decimal>>,
    /// `[payee][simulation]`.
    pub payouts: Vec<Vec<Decimal>>,
    pub attainments: Vec<Vec<Option<Decimal>>>,
    pub totals: Vec<Decimal>,
}

impl<'a> Simulation<'a> {
    pub fn new(
        ws: &'a Workspace,
        people: &'a Participants,
        h: &'a History,
        t: usize,
        observed: i32,
    ) -> Simulation<'a> {
        let n = people.len();
        let nb = h.base.len();
        let len = h.len_of(t);
        let start = h.starts[t];
        let eval = Evaluator::new(ws, people, h, t);
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|a, b| people.ids[*a as usize].cmp(&people.ids[*b as usize]));

        let earlier: Vec<usize> = (0..t)
            .filter(|&q| h.has_data[q] && h.ends[q] < start)
            .collect();
        let mut increments: Vec<Vec<Vec<Decimal>>> = vec![Vec::new(); t + 1];
        let mut scratch = vec![Decimal::ZERO; nb];
        for &q in earlier.iter().chain([&t]) {
            increments[q] = (0..h.units_of(q))
                .map(|k| {
                    if q == t && unit_bounds(len, h.unit, k).1 > observed {
                        return Vec::new();
                    }
                    let mut v = vec![Decimal::ZERO; n * nb];
                    for p in 0..n {
                        h.increment(q, k, p, &mut scratch);
                        v[p * nb..(p + 1) * nb].copy_from_slice(&scratch);
                    }
                    v
                })
                .collect();
        }

        let active_from =
            |p: usize, day: jiff::civil::Date| people.start[p].is_none_or(|s| s <= day);
        let active_to = |p: usize, day: jiff::civil::Date| people.end[p].is_none_or(|e| e >= day);
        let window: Vec<(i32, i32)> = (0..n)
            .map(|p| {
                let from = people.start[p].map_or(0, |s| days_between(start, s).max(0));
                let to = people.end[p].map_or(len, |e| (days_between(start, e) + 1).min(len));
                (from.max(observed), to)
            })
            .collect();
        let own: Vec<Pool> = (0..n)
            .map(|p| {
                let periods: Vec<usize> = earlier
                    .iter()
                    .copied()
                    .filter(|&q| active_from(p, h.starts[q]) && active_to(p, h.ends[q]))
                    .collect();
                let observed_units: Vec<usize> = (0..h.units_of(t))
                    .filter(|&k| {
                        let (from, to) = unit_bounds(len, h.unit, k);
                        to <= observed
                            && active_from(
                                p,
                                start
                                    .checked_add(jiff::Span::new().days(from))
                                    .unwrap_or(start),
                            )
                    })
                    .collect();
                if periods.is_empty() && observed_units.len() < THIN {
                    Pool::Nothing
                } else {
                    Pool::Own {
                        periods,
                        observed: observed_units,
                    }
                }
            })
            .collect();
        // Peers: the people on the same plan in this period with a pool of
        // their own, in id order.
        let plan_of: Vec<Option<usize>> = (0..n)
            .map(|p| people.plan_at(p as u32, start, h.ends[t]))
            .collect();
        let mut peers: HashMap<Option<usize>, Vec<u32>> = HashMap::new();
        for &p in &order {
            if matches!(own[p as usize], Pool::Own { .. }) {
                peers.entry(plan_of[p as usize]).or_default().push(p);
            }
        }
        let pools: Vec<Pool> = own
            .into_iter()
            .enumerate()
            .map(|(p, pool)| match pool {
                Pool::Nothing if window[p].0 < window[p].1 => {
                    match peers.get(&plan_of[p]).filter(|l| !l.is_empty()) {
                        Some(list) => Pool::Peers(list.clone()),
                        None => Pool::Nothing,
                    }
                }
                other => other,
            })
            .collect();
        // The level, per earlier period and base measure: this period's
        // flow to date over that period's flow over the same days, measured
        // on the people who were there in both (newcomers' flow is growth
        // already forecast from their peers, not a change of level). A
        // period's amounts are scaled by it when drawn: replaying a quarter's
        // second half is replaying how it related to its first half, so a
        // year that grows is not forecast at last quarter's level, and
        // quarters whose halves related differently give the spread. Counts
        // are not scaled, nor is anything when either flow is not positive.
        // Bounded to between 0.5 and 2.
        let minor = crate::money::Rounding {
            places: ws.minor_unit,
            mode: crate::money::RoundingMode::HalfEven,
        };
        for &q in &earlier {
            let level: Vec<Decimal> = (0..nb)
                .map(|j| {
                    let is_amount = matches!(ws.measures[h.base[j]].kind, MeasureKind::Sum { .. });
                    if !is_amount {
                        return Decimal::ONE;
                    }
                    let (mut now, mut before) = (Decimal::ZERO, Decimal::ZERO);
                    for (p, pool) in pools.iter().enumerate() {
                        if matches!(pool, Pool::Own { periods, .. } if periods.contains(&q)) {
                            now += h.value(t, p, j, observed);
                            before += h.value(q, p, j, observed);
                        }
                    }
                    if now <= Decimal::ZERO || before <= Decimal::ZERO {
                        Decimal::ONE
                    } else {
                        // Bounded: one unusual deal must not scale everyone.
                        (now / before).round_dp(6).clamp(LEVEL_MIN, LEVEL_MAX)
                    }
                })
                .collect();
            // Scaled once here, not in every draw.
            for unit in increments[q].iter_mut() {
                for (i, v) in unit.iter_mut().enumerate() {
                    let j = i % nb;
                    if level[j] != Decimal::ONE {
                        *v = minor.apply(*v * level[j]);
                    }
                }
            }
        }
        let to_date: Vec<Decimal> = (0..n)
            .flat_map(|p| (0..nb).map(move |j| (p, j)))
            .map(|(p, j)| h.value(t, p, j, observed))
            .collect();
        Simulation {
            ws,
            people,
            h,
            t,
            to_date,
            increments,
            pools,
            window,
            eval,
            earlier,
            order,
        }
    }

    fn source(&self, p: usize) -> Source {
        if self.window[p].0 >= self.window[p].1 {
            return Source::Nothing;
        }
        match &self.pools[p] {
            Pool::Own { periods, .. } if periods.is_empty() => Source::PeriodToDate,
            Pool::Own { .. } => Source::Own,
            Pool::Peers(_) => Source::Peers,
            Pool::Nothing => Source::Nothing,
        }
    }

    /// Whose flow `p` draws in one simulation, and from which earlier
    /// period (`None`: from the units observed so far in this period).
    /// One period for the whole rest of the period, not one per unit: a
    /// strong or a weak quarter stays strong or weak throughout, which is
    /// what makes the spread honest.
    fn donor(
        &self,
        p: usize,
        common: Option<usize>,
        rng: &mut SplitMix64,
    ) -> Option<(usize, Option<usize>)> {
        let who = match &self.pools[p] {
            Pool::Own { .. } => p,
            Pool::Peers(list) => list[rng.index(list.len())] as usize,
            Pool::Nothing => return None,
        };
        match &self.pools[who] {
            Pool::Own { periods, .. } if !periods.is_empty() => match common {
                Some(q) if periods.contains(&q) => Some((who, Some(q))),
                _ => Some((who, Some(periods[rng.index(periods.len())]))),
            },
            Pool::Own { observed, .. } if !observed.is_empty() => Some((who, None)),
            _ => None,
        }
    }

    /// One simulated end of period: base measures of everyone in `vals`.
    fn draw(&self, rng: &mut SplitMix64, vals: &mut [Decimal]) {
        let nm = self.ws.measures.len();
        let nb = self.h.base.len();
        let len = self.h.len_of(self.t);
        let unit = self.h.unit;
        // The earlier period this simulation repeats for everyone who was
        // there: good and bad quarters are good or bad for most people at
        // once, and the plan's total varies accordingly.
        let common =
            (!self.earlier.is_empty()).then(|| self.earlier[rng.index(self.earlier.len())]);
        for &p in &self.order {
            let p = p as usize;
            for (j, &m) in self.h.base.iter().enumerate() {
                vals[p * nm + m] = self.to_date[p * nb + j];
            }
            let (from, to) = self.window[p];
            if from >= to {
                continue;
            }
            let Some((who, period)) = self.donor(p, common, rng) else {
                continue;
            };
            for k in 0..self.h.units_of(self.t) {
                let (lo, hi) = unit_bounds(len, unit, k);
                let days = hi.min(to) - lo.max(from);
                if days <= 0 {
                    continue;
                }
                // A unit partly to come counts whole with the odds of the
                // share of its days to come: counts stay whole numbers and
                // the expected flow is right.
                if days < hi - lo && rng.index((hi - lo) as usize) >= days as usize {
                    continue;
                }
                let (q, u) = match period {
                    // The same place in the earlier period, or a unit
                    // either side of it.
                    Some(q) => {
                        let last = self.h.units_of(q) - 1;
                        let (a, b) = (k.saturating_sub(1).min(last), (k + 1).min(last));
                        (q, a + rng.index(b - a + 1))
                    }
                    None => {
                        let Pool::Own { observed, .. } = &self.pools[who] else {
                            continue;
                        };
                        (self.t, observed[rng.index(observed.len())])
                    }
                };
                let Some(inc) = self.increments.get(q).and_then(|v| v.get(u)) else {
                    continue;
                };
                if inc.is_empty() {
                    continue;
                }
                for (j, &m) in self.h.base.iter().enumerate() {
                    vals[p * nm + m] += inc[who * nb + j];
                }
            }
        }
    }

    /// Runs `simulations` draws from `seed`, and the period as it stands.
    pub fn run(&self, simulations: usize, seed: u64) -> Result<Outcome, RunError> {
        let nm = self.ws.measures.len();
        let n = self.people.len();
        let nb = self.h.base.len();
        let mut vals = vec![Decimal::ZERO; n * nm];
        for p in 0..n {
            for (j, &m) in self.h.base.iter().enumerate() {
                vals[p * nm + m] = self.to_date[p * nb + j];
            }
        }
        let (to_date, to_date_attainment) = self.eval.run(&mut vals)?;
        let results: Vec<(Vec<Decimal>, Vec<Option<Decimal>>)> = (0..simulations)
            .into_par_iter()
            .map_init(
                || vec![Decimal::ZERO; n * nm],
                |vals, s| {
                    let mut rng = SplitMix64::stream(seed, s as u64);
                    self.draw(&mut rng, vals);
                    self.eval.run(vals)
                },
            )
            .collect::<Result<_, _>>()?;
        let payees = self.eval.payees.clone();
        let k = payees.len();
        let mut payouts = vec![Vec::with_capacity(simulations); k];
        let mut attainments = vec![Vec::with_capacity(simulations); k];
        let mut totals = Vec::with_capacity(simulations);
        for (pay, att) in results {
            totals.push(pay.iter().copied().sum());
            for i in 0..k {
                payouts[i].push(pay[i]);
                attainments[i].push(att[i]);
            }
        }
        Ok(Outcome {
            sources: payees.iter().map(|&p| self.source(p as usize)).collect(),
            plans: self.eval.plans.clone(),
            attainment_component: self.eval.attainment_component.clone(),
            payees,
            to_date,
            to_date_attainment,
            payouts,
            attainments,
            totals,
        })
    }
}

/// How a name in a formula is found.
#[derive(Clone, Copy)]
enum Name {
    Measure(usize),
    Quota(usize),
}

/// Roll-ups, derived measures and components of one period, evaluated over
/// base measures given for everyone.
struct Evaluator<'a> {
    ws: &'a Workspace,
    h: &'a History,
    t: usize,
    n: usize,
    active: Vec<bool>,
    /// Measures computed from others that some payee's plan reads, in
    /// dependency order.
    derived: Vec<usize>,
    /// Per roll-up measure: for each person, the people summed.
    members: HashMap<usize, Vec<Vec<u32>>>,
    names: HashMap<&'a str, Name>,
    payees: Vec<u32>,
    plans: Vec<usize>,
    /// Per payee: the components of the period's kind, in id order.
    components: Vec<Vec<usize>>,
    /// Per payee: the component whose attainment is reported (the first,
    /// in id order, with a measure and a quota).
    attainment_component: Vec<Option<usize>>,
}

impl<'a> Evaluator<'a> {
    fn new(ws: &'a Workspace, people: &'a Participants, h: &'a History, t: usize) -> Evaluator<'a> {
        let n = people.len();
        let active: Vec<bool> = (0..n)
            .map(|p| h.whole.active_days(p as u32, t) > 0)
            .collect();
        let mut order: Vec<u32> = (0..n as u32).filter(|&p| active[p as usize]).collect();
        order.sort_by(|a, b| people.ids[*a as usize].cmp(&people.ids[*b as usize]));
        let (start, end) = (h.starts[t], h.ends[t]);
        let mut payees = Vec::new();
        let mut plans = Vec::new();
        let mut components = Vec::new();
        let mut attainment_component = Vec::new();
        let mut needed = vec![false; ws.measures.len()];
        for p in order {
            let Some(plan_index) = people.plan_at(p, start, end) else {
                continue;
            };
            let plan = &ws.plans[plan_index];
            let mut list: Vec<usize> = (0..plan.components.len())
                .filter(|&c| plan.components[c].period == h.kind)
                .collect();
            if list.is_empty() {
                continue;
            }
            list.sort_by(|a, b| plan.components[*a].id.cmp(&plan.components[*b].id));
            for m in ws.measures_read_by(plan) {
                needed[m] = true;
            }
            attainment_component.push(list.iter().copied().find(|&c| {
                plan.components[c].measure.is_some() && plan.components[c].quota.is_some()
            }));
            payees.push(p);
            plans.push(plan_index);
            components.push(list);
        }
        let derived: Vec<usize> = (0..ws.measures.len())
            .filter(|&m| needed[m] && !super::history::is_base(&ws.measures[m].kind))
            .collect();
        let mut members = HashMap::new();
        for &m in &derived {
            if let MeasureKind::Rollup { scope, filter, .. } = &ws.measures[m].kind {
                let lists: Vec<Vec<u32>> = (0..n as u32)
                    .map(|p| {
                        rollup_members(ws, people, p, *scope, filter.as_ref())
                            .into_iter()
                            .filter(|&r| active[r as usize])
                            .collect()
                    })
                    .collect();
                members.insert(m, lists);
            }
        }
        let mut names = HashMap::new();
        for (i, m) in ws.measures.iter().enumerate() {
            names.insert(m.name.as_str(), Name::Measure(i));
        }
        for (i, q) in ws.quotas.iter().enumerate() {
            names.entry(q.name.as_str()).or_insert(Name::Quota(i));
        }
        Evaluator {
            ws,
            h,
            t,
            n,
            active,
            derived,
            members,
            names,
            payees,
            plans,
            components,
            attainment_component,
        }
    }

    fn quota(&self, q: usize, p: usize) -> Decimal {
        self.h.whole.quota(q, p as u32, self.t).value
    }

    /// Each payee's payout and reported attainment, from `vals` holding
    /// everyone's base measures (the rest is filled in here).
    fn run(&self, vals: &mut [Decimal]) -> Result<(Vec<Decimal>, Vec<Option<Decimal>>), RunError> {
        let ws = self.ws;
        let nm = ws.measures.len();
        for &m in &self.derived {
            match &ws.measures[m].kind {
                MeasureKind::Rollup { of, .. } => {
                    let Some(lists) = self.members.get(&m) else {
                        continue;
                    };
                    for p in 0..self.n {
                        let mut sum = Decimal::ZERO;
                        for &r in &lists[p] {
                            sum += match of {
                                ValueRef::Measure(om) => vals[r as usize * nm + om],
                                ValueRef::Quota(q) => self.quota(*q, r as usize),
                            };
                        }
                        vals[p * nm + m] = sum;
                    }
                }
                MeasureKind::Derived(expr) => {
                    for p in 0..self.n {
                        if !self.active[p] {
                            continue;
                        }
                        let scope = |name: &str| -> Option<Value> {
                            match self.names.get(name)? {
                                Name::Measure(i) => Some(Value::Num(vals[p * nm + i])),
                                Name::Quota(q) => Some(Value::Num(self.quota(*q, p))),
                            }
                        };
                        match eval(expr, &scope) {
                            Ok(Value::Num(v)) => vals[p * nm + m] = v,
                            Ok(_) => {}
                            Err(e) => {
                                return Err(RunError {
                                    message: format!(
                                        "measure `{}` of a simulated period: {}",
                                        ws.measures[m].name, e.message
                                    ),
                                })
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let mut payouts = Vec::with_capacity(self.payees.len());
        let mut attainments = Vec::with_capacity(self.payees.len());
        for (i, &p) in self.payees.iter().enumerate() {
            let p = p as usize;
            let plan = &ws.plans[self.plans[i]];
            let named = |name: &str| -> Option<Decimal> {
                match self.names.get(name)? {
                    Name::Measure(m) => Some(vals[p * nm + m]),
                    Name::Quota(q) => Some(self.quota(*q, p)),
                }
            };
            let mut total = Decimal::ZERO;
            for &ci in &self.components[i] {
                let c = &plan.components[ci];
                let quota = c
                    .quota
                    .map(|q| (self.h.whole.quota(q, p as u32, self.t), &ws.quotas[q]));
                let inputs = ComponentInputs {
                    ws,
                    named: &named,
                    measure: c.measure.map(|m| vals[p * nm + m]),
                    quota,
                    explain: false,
                };
                total += evaluate(c, &inputs)
                    .map_err(|message| RunError {
                        message: format!("component `{}` of a simulated period: {message}", c.id),
                    })?
                    .amount;
            }
            payouts.push(total);
            attainments.push(self.attainment_component[i].and_then(|ci| {
                let c = &plan.components[ci];
                let (m, q) = (c.measure?, c.quota?);
                vals[p * nm + m].checked_div(self.quota(q, p))
            }));
        }
        Ok((payouts, attainments))
    }
}
