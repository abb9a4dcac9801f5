//! Charts of plans and calculations: a component's payout curve, current
//! beside a candidate; histograms of attainment and of payouts across
//! people.

use super::{bins, Guide, Histogram, LineChart, Marker, Series, Unit};
use crate::data::Participants;
use crate::engine::probe::Probe;
use crate::engine::trace::Step;
use crate::engine::Calculation;
use crate::money::{format_percent, Currency};
use crate::plan::{lint, Component, Workspace};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One line of a payout curve: a component of a workspace, and its label.
pub struct CurveOf<'a> {
    pub ws: &'a Workspace,
    pub component: &'a Component,
    pub label: String,
}

/// Payout against attainment from 0 to 250% of quota (or against the
/// measure, for a component without a quota), one line per plan, cliffs
/// marked, the quota at 100%.
pub fn payout_curve(lines: &[CurveOf], title: &str) -> Result<LineChart, String> {
    let mut series = Vec::new();
    let mut markers = Vec::new();
    let mut by_attainment = None;
    let mut measure_names: Vec<String> = Vec::new();
    // Each line's workspace names its currency; an empty chart has none.
    let mut money = Currency::usd();
    let mut money_measure = true;
    // Gates on other measures than the one drawn: the curve assumes them met.
    let mut assumed: Vec<String> = Vec::new();
    let mut period = String::new();
    for (i, line) in lines.iter().enumerate() {
        let c = line.component;
        money = line.ws.money();
        let probe = Probe::new(line.ws, c).ok_or_else(|| {
            format!(
                "component `{}` cannot be drawn: it has no measure, or no quota and no band edges or curve points",
                c.id
            )
        })?;
        let has_quota = probe.quota.is_some();
        if *by_attainment.get_or_insert(has_quota) != has_quota {
            return Err(
                "one component has a quota and the other not: their curves share no axis".into(),
            );
        }
        let shape = probe
            .shape()
            .map_err(|e| format!("component `{}`: {e}", c.id))?;
        let x_of = |x: Decimal| match probe.quota {
            Some(q) => x / q,
            None => x,
        };
        let mut points: Vec<(Decimal, Decimal)> = Vec::new();
        for p in &shape.pieces {
            for pt in [(x_of(p.x0), p.y0), (x_of(p.x1), p.y1)] {
                if points.last() != Some(&pt) {
                    points.push(pt);
                }
            }
        }
        for cliff in lint::cliffs(&probe, &shape, c, &money) {
            markers.push(Marker {
                x: x_of(cliff.at),
                y: cliff.after,
                label: format!(
                    "{} at {}",
                    money.format_signed(cliff.after - cliff.before),
                    match probe.quota {
                        Some(q) => format_percent(cliff.at / q, 2),
                        None => money.format(cliff.at),
                    }
                ),
                series: i,
            });
        }
        series.push(Series {
            label: line.label.clone(),
            points,
            dashed: i > 0,
        });
        let name = probe.measure_name().to_string();
        if !measure_names.contains(&name) {
            measure_names.push(name);
        }
        money_measure = probe.measure_is_money();
        if probe.gate_assumed {
            if let Some(g) = &c.gate {
                assumed.push(format!("gate {} taken as met", g.text));
            }
        }
        period = c.period.name().to_string();
    }
    let by_attainment = by_attainment.unwrap_or(true);
    let quota_text = lines
        .first()
        .and_then(|l| l.component.quota.map(|q| &l.ws.quotas[q]))
        .map(|q| format!(" (quota {}: {})", q.name, money.format(q.amount)))
        .unwrap_or_default();
    Ok(LineChart {
        title: title.to_string(),
        subtitle: Some(format!(
            "payout per {period} against {}{quota_text}{}{}",
            if by_attainment {
                format!("attainment of {}", measure_names.join(" and "))
            } else {
                measure_names.join(" and ")
            },
            assumed.iter().map(|a| format!("; {a}")).collect::<String>(),
            if markers.is_empty() {
                ""
            } else {
                "; circles mark cliffs"
            }
        )),
        x_label: if by_attainment {
            "attainment (% of quota)".into()
        } else if money_measure {
            format!("{} ({})", measure_names.join(", "), money.code)
        } else {
            measure_names.join(", ")
        },
        y_label: format!("payout ({})", money.code),
        x_unit: if by_attainment {
            Unit::Percent
        } else if money_measure {
            Unit::Money(money.clone())
        } else {
            Unit::Number
        },
        y_unit: Unit::Money(money),
        series,
        markers,
        guides: if by_attainment {
            vec![Guide {
                x: Decimal::ONE,
                label: "quota".into(),
            }]
        } else {
            Vec::new()
        },
        x_range: if by_attainment {
            Some((Decimal::ZERO, Decimal::new(25, 1)))
        } else {
            None
        },
    })
}

/// One payout as a distribution reads it: from a calculation or from a
/// stored run.
#[derive(Debug, Clone)]
pub struct PayoutRow {
    pub participant: String,
    pub plan: String,
    pub component: String,
    pub period: String,
    pub amount: Decimal,
    /// Measure ÷ quota, when the component has a quota.
    pub attainment: Option<Decimal>,
}

/// The payouts of a calculation as rows.
pub fn rows_of(ws: &Workspace, people: &Participants, calc: &Calculation) -> Vec<PayoutRow> {
    calc.payouts
        .iter()
        .map(|p| PayoutRow {
            participant: people.ids[p.participant as usize].clone(),
            plan: ws.plans[p.plan].id.clone(),
            component: ws.plans[p.plan].components[p.component].id.clone(),
            period: p.period.to_string(),
            amount: p.amount,
            attainment: p.trace.steps.iter().find_map(|s| match s {
                Step::Attainment { value } => Some(*value),
                _ => None,
            }),
        })
        .collect()
}

/// Which payouts a distribution counts.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub plan: Option<String>,
    pub component: Option<String>,
    pub period: Option<String>,
}

impl Selection {
    fn keeps(&self, r: &PayoutRow) -> bool {
        self.plan.as_ref().is_none_or(|p| *p == r.plan)
            && self.component.as_ref().is_none_or(|c| *c == r.component)
            && self.period.as_ref().is_none_or(|p| *p == r.period)
    }

    fn describe(&self, year: &str) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.plan {
            parts.push(format!("plan {p}"));
        }
        if let Some(c) = &self.component {
            parts.push(format!("component {c}"));
        }
        parts.push(self.period.clone().unwrap_or_else(|| year.to_string()));
        parts.join(", ")
    }
}

/// Histograms of attainment (one value per person, period and component
/// with a quota) and of payouts (each person's total, in `money`) over the
/// selected payouts; `None` when nothing is selected.
pub fn distribution(
    rows: &[PayoutRow],
    selection: &Selection,
    year: &str,
    money: &Currency,
) -> Option<(Histogram, Histogram)> {
    let kept: Vec<&PayoutRow> = rows.iter().filter(|r| selection.keeps(r)).collect();
    if kept.is_empty() {
        return None;
    }
    let attainment: Vec<Decimal> = kept.iter().filter_map(|r| r.attainment).collect();
    let mut per_person: BTreeMap<&str, Decimal> = BTreeMap::new();
    for r in &kept {
        *per_person.entry(&r.participant).or_default() += r.amount;
    }
    let totals: Vec<Decimal> = per_person.values().copied().collect();
    let total: Decimal = totals.iter().copied().sum();
    let what = selection.describe(year);
    let one_period = selection.period.is_some();
    let attainment_chart = Histogram {
        title: "Attainment across people".into(),
        subtitle: Some(format!(
            "{what}: {} (one per person{} and component with a quota)",
            count(attainment.len(), "value"),
            if one_period { "" } else { ", period" }
        )),
        x_label: "attainment (% of quota)".into(),
        y_label: if one_period {
            "people".into()
        } else {
            "people × periods".into()
        },
        unit: Unit::Percent,
        bins: bins(&attainment, 20),
        fill: "#1f5fa8".into(),
    };
    let payout_chart = Histogram {
        title: "Payouts across people".into(),
        subtitle: Some(format!(
            "{what}: each person's total; {}, {} in all",
            count(totals.len(), "person"),
            money.format(total)
        )),
        x_label: format!("payout per person ({})", money.code),
        y_label: "people".into(),
        unit: Unit::Money(money.clone()),
        bins: bins(&totals, 20),
        fill: "#d9531e".into(),
    };
    Some((attainment_chart, payout_chart))
}

fn count(n: usize, what: &str) -> String {
    let number = Unit::Number.label(Decimal::from(n as u64));
    match (n, what) {
        (1, _) => format!("1 {what}"),
        (_, "person") => format!("{number} people"),
        _ => format!("{number} {what}s"),
    }
}
