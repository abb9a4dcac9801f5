//! Parameter sweeps: a rate, a band edge or a quota amount varied over a
//! grid, each point's cost and payout distribution computed on the credits
//! and measures of the plans in force.

use super::{Basis, Scope};
use crate::engine::measures::{with_quotas, MeasureTable};
use crate::engine::{evaluate_one, RunError};
use crate::money::{format_number, parse_literal};
use crate::plan::{PayRule, Workspace};
use crate::stats::Distribution;
use rust_decimal::Decimal;
use std::collections::BTreeSet;

/// The most points one sweep may have.
pub const MAX_POINTS: usize = 10_000;

/// What a parameter changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `rate`, `amount` or `cap` of a component, or a field of one of its
    /// bands (`from`, `rate`; `pay` in per-point tables).
    Component {
        plan: usize,
        component: usize,
        field: ComponentField,
    },
    /// The amount of a quota (before proration).
    Quota(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentField {
    Rate,
    Amount,
    Cap,
    BandFrom(usize),
    BandRate(usize),
}

/// What a parameter's values are, for showing them as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A rate or an attainment: shown as a percentage.
    Ratio,
    Money,
    Plain,
}

/// One parameter and the values it takes.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// As written: `retention_commission.commission.rate`.
    pub path: String,
    pub target: Target,
    pub unit: Unit,
    /// Its value in the plans in force.
    pub current: Decimal,
    pub values: Vec<Decimal>,
}

/// Reads `PATH=VALUES`: PATH is `quota.NAME` or `PLAN.COMPONENT.FIELD`
/// (FIELD: `rate`, `amount`, `cap`, `bands[N].from`, `bands[N].rate`,
/// `bands[N].pay`, N counted from 0); VALUES is `FROM..TO/STEP` or a list
/// `A,B,C`, written as in plans (`10%`, `$250_000`, `0.12`).
pub fn parse_parameter(spec: &str, ws: &Workspace) -> Result<Parameter, String> {
    let Some((path, values)) = spec.split_once('=') else {
        return Err(format!(
            "`{spec}` has no `=`: write PATH=FROM..TO/STEP, e.g. `plan.component.rate=10%..15%/1%`"
        ));
    };
    let (path, values) = (path.trim(), values.trim());
    let target = parse_target(path, ws)?;
    let current = current_value(ws, &target);
    let values = parse_values(values).map_err(|e| format!("`{path}`: {e}"))?;
    Ok(Parameter {
        path: path.to_string(),
        unit: unit_of(ws, &target),
        target,
        current,
        values,
    })
}

fn unit_of(ws: &Workspace, target: &Target) -> Unit {
    let Target::Component {
        plan,
        component,
        field,
    } = target
    else {
        return Unit::Money;
    };
    let rule = &ws.plans[*plan].components[*component].rule;
    match (field, rule) {
        (ComponentField::Rate, _) => Unit::Ratio,
        (ComponentField::Amount | ComponentField::Cap, _) => Unit::Money,
        (ComponentField::BandRate(_), PayRule::PerPoint { .. }) => Unit::Money,
        (ComponentField::BandRate(_), _) => Unit::Ratio,
        (ComponentField::BandFrom(_), PayRule::Tiers { basis, .. }) => match basis {
            crate::plan::Basis::Attainment => Unit::Ratio,
            crate::plan::Basis::Amount => Unit::Money,
            crate::plan::Basis::Value => Unit::Plain,
        },
        (ComponentField::BandFrom(_), _) => Unit::Ratio,
    }
}

fn parse_target(path: &str, ws: &Workspace) -> Result<Target, String> {
    if let Some(name) = path.strip_prefix("quota.") {
        return ws.quota(name).map(Target::Quota).ok_or_else(|| {
            let names: Vec<&str> = ws.quotas.iter().map(|q| q.name.as_str()).collect();
            format!("no quota `{name}`; quotas: {}", names.join(", "))
        });
    }
    let mut parts = path.splitn(3, '.');
    let (Some(plan_id), Some(component_id), Some(field)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "`{path}` names no parameter: write `quota.NAME` or `PLAN.COMPONENT.FIELD`"
        ));
    };
    let plan = ws.plan(plan_id).ok_or_else(|| {
        let ids: Vec<&str> = ws.plans.iter().map(|p| p.id.as_str()).collect();
        format!("no plan `{plan_id}`; plans: {}", ids.join(", "))
    })?;
    let components = &ws.plans[plan].components;
    let component = components
        .iter()
        .position(|c| c.id == component_id)
        .ok_or_else(|| {
            let ids: Vec<&str> = components.iter().map(|c| c.id.as_str()).collect();
            format!(
                "plan `{plan_id}` has no component `{component_id}`; components: {}",
                ids.join(", ")
            )
        })?;
    let c = &components[component];
    let bands = match &c.rule {
        PayRule::Tiers { bands, .. } | PayRule::PerPoint { bands, .. } => Some(bands.len()),
        _ => None,
    };
    let field = match field {
        "rate" if matches!(c.rule, PayRule::Rate(_)) => ComponentField::Rate,
        "amount" if matches!(c.rule, PayRule::Fixed(_)) => ComponentField::Amount,
        "cap" => ComponentField::Cap,
        other => {
            let band = other
                .strip_prefix("bands[")
                .or_else(|| other.strip_prefix("per_point["))
                .and_then(|rest| rest.split_once("]."));
            match (band, bands) {
                (Some((n, f)), Some(len)) => {
                    let i: usize = n
                        .parse()
                        .map_err(|_| format!("`{n}` in `{path}` is not a band number"))?;
                    if i >= len {
                        return Err(format!(
                            "component `{component_id}` has {len} bands, numbered from 0: there is no band {i}"
                        ));
                    }
                    match f {
                        "from" => ComponentField::BandFrom(i),
                        "rate" | "pay" => ComponentField::BandRate(i),
                        _ => {
                            return Err(format!(
                                "`{f}` in `{path}`: a band's parameters are `from` and `rate` (`pay` per point)"
                            ))
                        }
                    }
                }
                _ => {
                    let what = match &c.rule {
                        PayRule::Rate(_) => "`rate` and `cap`",
                        PayRule::Fixed(_) => "`amount` and `cap`",
                        PayRule::Tiers { .. } | PayRule::PerPoint { .. } => {
                            "`bands[N].from`, `bands[N].rate` (`pay` per point) and `cap`"
                        }
                        _ => "`cap`",
                    };
                    return Err(format!(
                        "`{other}` is not a parameter of component `{component_id}`; it has {what}"
                    ));
                }
            }
        }
    };
    Ok(Target::Component {
        plan,
        component,
        field,
    })
}

fn parse_values(text: &str) -> Result<Vec<Decimal>, String> {
    let number = |t: &str| {
        parse_literal(t)
            .map(|(v, _)| v)
            .map_err(|e| format!("`{}` is not a number: {e}", t.trim()))
    };
    let values: Vec<Decimal> = if let Some((range, step)) = text.split_once('/') {
        let Some((from, to)) = range.split_once("..") else {
            return Err(format!(
                "`{text}`: write FROM..TO/STEP, e.g. `10%..15%/0.5%`"
            ));
        };
        let (from, to, step) = (number(from)?, number(to)?, number(step)?);
        if step <= Decimal::ZERO {
            return Err(format!("the step `{step}` must be above zero"));
        }
        if to < from {
            return Err(format!(
                "the range ends at {} before it starts at {}",
                format_number(to),
                format_number(from)
            ));
        }
        let mut out = Vec::new();
        let mut v = from;
        while v <= to {
            if out.len() >= MAX_POINTS {
                return Err(format!("more than {MAX_POINTS} points: take a larger step"));
            }
            out.push(v);
            v += step;
        }
        out
    } else {
        text.split(',').map(number).collect::<Result<_, _>>()?
    };
    if values.is_empty() {
        return Err("no value to try".into());
    }
    Ok(values)
}

fn current_value(ws: &Workspace, target: &Target) -> Decimal {
    match target {
        Target::Quota(q) => ws.quotas[*q].amount,
        Target::Component {
            plan,
            component,
            field,
        } => {
            let c = &ws.plans[*plan].components[*component];
            let bands = match &c.rule {
                PayRule::Tiers { bands, .. } | PayRule::PerPoint { bands, .. } => bands.as_slice(),
                _ => &[],
            };
            match (field, &c.rule) {
                (ComponentField::Rate, PayRule::Rate(r)) => *r,
                (ComponentField::Amount, PayRule::Fixed(a)) => *a,
                (ComponentField::Cap, _) => c.cap.unwrap_or_default(),
                (ComponentField::BandFrom(i), _) => {
                    bands.get(*i).map(|b| b.from).unwrap_or_default()
                }
                (ComponentField::BandRate(i), _) => {
                    bands.get(*i).map(|b| b.rate).unwrap_or_default()
                }
                _ => Decimal::ZERO,
            }
        }
    }
}

/// Sets `target` to `value` in `ws`, keeping the workspace well formed: a
/// band edge must stay between its neighbours (the previous band then ends
/// where this one starts). A component is changed in every plan that pays
/// it (plans including its plan too).
fn apply(ws: &mut Workspace, target: &Target, value: Decimal, path: &str) -> Result<(), String> {
    let shown = format_number(value);
    match target {
        Target::Quota(q) => {
            if value < Decimal::ZERO {
                return Err(format!("`{path}` = {shown}: a quota cannot be negative"));
            }
            ws.quotas[*q].amount = value;
            Ok(())
        }
        Target::Component {
            plan,
            component,
            field,
        } => {
            let (id, origin) = {
                let c = &ws.plans[*plan].components[*component];
                (c.id.clone(), c.origin.clone())
            };
            for p in &mut ws.plans {
                for c in &mut p.components {
                    if c.id != id || c.origin != origin {
                        continue;
                    }
                    match (field, &mut c.rule) {
                        (ComponentField::Rate, PayRule::Rate(r)) => *r = value,
                        (ComponentField::Amount, PayRule::Fixed(a)) => *a = value,
                        (ComponentField::Cap, _) => c.cap = Some(value),
                        (
                            ComponentField::BandRate(i),
                            PayRule::Tiers { bands, .. } | PayRule::PerPoint { bands, .. },
                        ) => bands[*i].rate = value,
                        (
                            ComponentField::BandFrom(i),
                            PayRule::Tiers { bands, .. } | PayRule::PerPoint { bands, .. },
                        ) => {
                            let i = *i;
                            let below = i.checked_sub(1).map(|j| bands[j].from);
                            if below.is_some_and(|b| value <= b)
                                || bands[i].to.is_some_and(|t| value >= t)
                            {
                                return Err(format!(
                                    "`{path}` = {shown} does not fit between the band's neighbours ({} to {})",
                                    below.map_or("-".into(), format_number),
                                    bands[i].to.map_or("no end".into(), format_number)
                                ));
                            }
                            let old = bands[i].from;
                            bands[i].from = value;
                            if i > 0 && bands[i - 1].to == Some(old) {
                                bands[i - 1].to = Some(value);
                            }
                        }
                        _ => return Err(format!("`{path}` does not apply to component `{id}`")),
                    }
                }
            }
            Ok(())
        }
    }
}

/// For each plan's components, whether it reads one of `quotas`:
/// as its quota, or through its measure, gate or formula, directly or
/// through measures derived from the quotas. The others pay the same
/// whatever the quotas' amounts.
fn components_reading(ws: &Workspace, quotas: &[usize]) -> Vec<Vec<bool>> {
    use crate::plan::{MeasureKind, ValueRef};
    let mut dirty = vec![false; ws.measures.len()];
    let is_read = |dirty: &[bool], name: &str| {
        ws.quota(name).is_some_and(|q| quotas.contains(&q))
            || ws.measure(name).is_some_and(|m| dirty[m])
    };
    for (mi, m) in ws.measures.iter().enumerate() {
        dirty[mi] = match &m.kind {
            MeasureKind::Rollup { of, .. } => match of {
                ValueRef::Quota(q) => quotas.contains(q),
                ValueRef::Measure(d) => dirty[*d],
            },
            MeasureKind::Derived(e) => e.references().into_iter().any(|n| is_read(&dirty, n)),
            _ => false,
        };
    }
    ws.plans
        .iter()
        .map(|plan| {
            plan.components
                .iter()
                .map(|c| {
                    let formulas = c.gate.iter().chain(match &c.rule {
                        PayRule::Formula(f) => Some(f),
                        _ => None,
                    });
                    c.quota.is_some_and(|q| quotas.contains(&q))
                        || c.measure.is_some_and(|m| dirty[m])
                        || formulas
                            .flat_map(|f| f.expr.references())
                            .any(|n| is_read(&dirty, n))
                })
                .collect()
        })
        .collect()
}

/// One point of a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// The value of each parameter, in the order given.
    pub values: Vec<Decimal>,
    pub cost: Decimal,
    /// Of each person paid: their total payout in scope.
    pub payouts: Distribution,
    /// People paid more and less than under the plans in force.
    pub gainers: usize,
    pub losers: usize,
}

/// A parameter as a sweep reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Varied {
    pub path: String,
    pub unit: Unit,
    /// Its value in the plans in force.
    pub in_force: Decimal,
}

/// A sweep's result: plain data for renderers and charts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    pub parameters: Vec<Varied>,
    pub year: i16,
    pub periods: Vec<String>,
    /// Credited revenue in scope.
    pub revenue: Decimal,
    /// The measure counted as credited revenue; `None`: every credit.
    pub revenue_measure: Option<String>,
    /// The plans in force: their cost and payout distribution.
    pub current: Point,
    pub points: Vec<Point>,
}

/// Evaluates every combination of `parameters`' values (the first varies
/// slowest) on `basis`'s credits and measures.
pub fn sweep(basis: &mut Basis, parameters: &[Parameter], scope: &Scope) -> Result<Sweep, String> {
    let ws = basis.ws;
    let n_people = basis.people.len();
    let in_scope: Vec<bool> = basis
        .baseline
        .iter()
        .map(|p| basis.in_scope(scope, p.period))
        .collect();
    let mut paid = vec![false; n_people];
    let mut current_totals = vec![Decimal::ZERO; n_people];
    for (p, _) in basis.baseline.iter().zip(&in_scope).filter(|(_, s)| **s) {
        paid[p.participant as usize] = true;
        current_totals[p.participant as usize] += p.amount;
    }
    let point_of = |values: Vec<Decimal>, totals: &[Decimal]| -> Point {
        let list: Vec<Decimal> = (0..n_people)
            .filter(|&p| paid[p])
            .map(|p| totals[p])
            .collect();
        let (mut gainers, mut losers) = (0, 0);
        for p in (0..n_people).filter(|&p| paid[p]) {
            gainers += usize::from(totals[p] > current_totals[p]);
            losers += usize::from(totals[p] < current_totals[p]);
        }
        Point {
            values,
            cost: list.iter().sum(),
            payouts: Distribution::of(&list),
            gainers,
            losers,
        }
    };
    let current = point_of(
        parameters.iter().map(|p| p.current).collect(),
        &current_totals,
    );

    let total_points = parameters
        .iter()
        .try_fold(1usize, |n, p| n.checked_mul(p.values.len()))
        .filter(|n| *n <= MAX_POINTS)
        .ok_or_else(|| format!("more than {MAX_POINTS} points: take larger steps"))?;
    let mut points = Vec::with_capacity(total_points);
    for k in 0..total_points {
        // The k-th combination, the last parameter varying fastest.
        let mut rest = k;
        let mut values = vec![Decimal::ZERO; parameters.len()];
        for (j, p) in parameters.iter().enumerate().rev() {
            values[j] = p.values[rest % p.values.len()];
            rest /= p.values.len();
        }
        let mut variant = ws.clone();
        let mut quotas: Vec<usize> = Vec::new();
        let mut components: BTreeSet<(String, String)> = BTreeSet::new();
        for (p, v) in parameters.iter().zip(&values) {
            apply(&mut variant, &p.target, *v, &p.path)?;
            match &p.target {
                Target::Quota(q) => quotas.push(*q),
                Target::Component {
                    plan, component, ..
                } => {
                    let c = &ws.plans[*plan].components[*component];
                    components.insert((c.id.clone(), c.origin.clone()));
                }
            }
        }
        quotas.sort_unstable();
        quotas.dedup();
        // A quota change moves its values and what derives from them; a
        // component change, only that component's payouts.
        let requota: Vec<MeasureTable>;
        let tables: &[MeasureTable] = if quotas.is_empty() {
            &basis.tables
        } else {
            requota = basis
                .tables
                .iter()
                .map(|t| with_quotas(t, &variant, basis.people, basis.overrides, &quotas))
                .collect::<Result<_, _>>()
                .map_err(|errors| {
                    errors
                        .into_iter()
                        .map(|e| format!("measure `{}` in {}: {}", e.measure, e.period, e.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                })?;
            basis.work.quota_tables += requota.len();
            &requota
        };
        let reads_changed = components_reading(&variant, &quotas);
        let mut totals = current_totals.clone();
        let mut errors: Vec<RunError> = Vec::new();
        for (payout, _) in basis.baseline.iter().zip(&in_scope).filter(|(_, s)| **s) {
            let c = &variant.plans[payout.plan].components[payout.component];
            let changed = if quotas.is_empty() {
                components.contains(&(c.id.clone(), c.origin.clone()))
            } else {
                reads_changed[payout.plan][payout.component]
                    || components.contains(&(c.id.clone(), c.origin.clone()))
            };
            if !changed {
                continue;
            }
            let Some(table) = tables.iter().find(|t| t.grid.kind == payout.period.kind) else {
                continue;
            };
            let Some(i) = table.grid.periods.iter().position(|x| *x == payout.period) else {
                continue;
            };
            basis.work.evaluations += 1;
            match evaluate_one(&variant, table, c, payout.participant, i, false) {
                Ok(e) => totals[payout.participant as usize] += e.amount - payout.amount,
                Err(message) => {
                    if errors.len() < 5 {
                        errors.push(RunError {
                            message: format!(
                                "`{}`, {}, component `{}`: {message}",
                                basis.people.ids[payout.participant as usize], payout.period, c.id
                            ),
                        });
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join("; "));
        }
        points.push(point_of(values, &totals));
    }
    let cal = &ws.calendar;
    let mut periods = scope.periods.clone();
    periods.sort_by_key(|p| (cal.start(*p), std::cmp::Reverse(cal.end(*p))));
    Ok(Sweep {
        parameters: parameters
            .iter()
            .map(|p| Varied {
                path: p.path.clone(),
                unit: p.unit,
                in_force: p.current,
            })
            .collect(),
        year: basis.year,
        periods: periods.iter().map(ToString::to_string).collect(),
        revenue: basis.revenue(scope).iter().sum(),
        revenue_measure: basis
            .revenue_measure
            .map(|m| basis.ws.measures[m].name.clone()),
        current,
        points,
    })
}
