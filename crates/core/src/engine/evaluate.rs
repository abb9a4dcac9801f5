//! One component for one participant and period: from measures and quota to
//! a rounded payout with its trace.

use super::measures::QuotaValue;
use super::trace::{Step, Steps, Trace};
use crate::expr::{eval, Expr, Value};
use crate::money::format_percent;
use crate::plan::{Band, Basis, Component, PayRule, Quota, TierMode, Workspace};
use rust_decimal::Decimal;

/// What a component reads, already computed.
pub struct ComponentInputs<'a> {
    pub ws: &'a Workspace,
    /// Values of measures and quotas by name.
    pub named: &'a dyn Fn(&str) -> Option<Decimal>,
    pub measure: Option<Decimal>,
    /// The quota, prorated, with its definition (which names it in the
    /// trace).
    pub quota: Option<(&'a QuotaValue, &'a Quota)>,
    /// Whether the payout's trace is wanted: without it only the amount
    /// is made.
    pub explain: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    pub amount: Decimal,
    pub trace: Trace,
}

/// A band edge or curve point as the trace shows it, an amount in `ws`'s
/// currency. Only called when a trace is made: the currency is not built
/// for a payout nobody reads.
fn edge_label(v: Decimal, basis: Basis, ws: &Workspace) -> String {
    match basis {
        Basis::Attainment => format_percent(v, 4),
        Basis::Amount => ws.money().format(v),
        Basis::Value => v.normalize().to_string(),
    }
}

fn band_name(b: &Band, i: usize) -> String {
    b.name.clone().unwrap_or_else(|| format!("band {}", i + 1))
}

/// A marginal table: each band's rate on the part of `value` inside it,
/// band edges scaled by `scale` into `value`'s unit; a step per band
/// reached. Returns the sum and whether any band was reached.
fn marginal(
    ws: &Workspace,
    bands: &[Band],
    value: Decimal,
    scale: impl Fn(Decimal) -> Decimal,
    basis: Basis,
    per_point: bool,
    steps: &mut Steps,
) -> (Decimal, bool) {
    let mut total = Decimal::ZERO;
    let mut reached = false;
    for (i, b) in bands.iter().enumerate() {
        let top = match b.to {
            Some(t) => value.min(scale(t)),
            None => value,
        };
        let portion = (top - scale(b.from)).max(Decimal::ZERO);
        if portion.is_zero() {
            continue;
        }
        let amount = portion * b.rate;
        total += amount;
        reached = true;
        steps.push(|| Step::Band {
            name: band_name(b, i),
            from: edge_label(b.from, basis, ws),
            to: b.to.map_or_else(String::new, |t| edge_label(t, basis, ws)),
            portion,
            rate: b.rate,
            per_point,
            amount,
        });
    }
    (total, reached)
}

/// Evaluates a component; errors are arithmetic in a formula.
pub fn evaluate(c: &Component, inputs: &ComponentInputs) -> Result<Evaluated, String> {
    let mut steps = Steps::new(inputs.explain);
    if let (Some(m), Some(mi)) = (inputs.measure, c.measure) {
        let measure = &inputs.ws.measures[mi];
        steps.push(|| Step::Measure {
            name: measure.name.clone(),
            value: m,
            is_money: measure.ty == crate::expr::Type::Money,
        });
    }
    let quota = inputs.quota.map(|(q, _)| q.value);
    if let Some((q, def)) = inputs.quota {
        steps.push(|| q.step(def));
    }
    let attainment = match (inputs.measure, quota) {
        (Some(m), Some(q)) if !q.is_zero() => {
            let a = m.checked_div(q).ok_or("attainment is too large")?;
            steps.push(|| Step::Attainment { value: a });
            Some(a)
        }
        (_, Some(_)) => {
            steps.push(|| Step::NoAttainment);
            None
        }
        _ => None,
    };
    let named = |name: &str| -> Option<Value> {
        match name {
            "quota" => quota.map(Value::Num),
            "attainment" => attainment.map(Value::Num),
            _ => (inputs.named)(name).map(Value::Num),
        }
    };
    let run = |e: &Expr| eval(e, &named).map_err(|e| e.message);

    if let Some(gate) = &c.gate {
        let met = match run(&gate.expr) {
            Ok(Value::Bool(b)) => b,
            Ok(_) => false,
            // A gate on attainment with no quota is simply not met.
            Err(_) if attainment.is_none() && quota.is_some() => false,
            Err(e) => return Err(format!("gate `{}`: {e}", gate.text)),
        };
        steps.push(|| Step::Gate {
            condition: gate.text.clone(),
            met,
        });
        if !met {
            let amount = c.rounding.apply(Decimal::ZERO);
            return Ok(Evaluated {
                amount,
                trace: steps.into_trace(),
            });
        }
    }

    let m = inputs.measure.unwrap_or_default();
    let raw = match &c.rule {
        PayRule::Rate(rate) => {
            let amount = m * rate;
            steps.push(|| Step::Rate {
                base: m,
                rate: *rate,
                amount,
            });
            amount
        }
        PayRule::Fixed(amount) => {
            steps.push(|| Step::Fixed { amount: *amount });
            *amount
        }
        PayRule::Tiers { mode, basis, bands } => {
            // Edges as amounts of the measure.
            let scale = |e: Decimal| match basis {
                Basis::Attainment => e * quota.unwrap_or_default(),
                _ => e,
            };
            if *basis == Basis::Attainment && attainment.is_none() {
                Decimal::ZERO
            } else {
                match mode {
                    TierMode::Marginal => {
                        let (total, reached) =
                            marginal(inputs.ws, bands, m, scale, *basis, false, &mut steps);
                        if !reached {
                            if let Some(first) = bands.first() {
                                steps.push(|| Step::BelowBands {
                                    first: edge_label(first.from, *basis, inputs.ws),
                                });
                            }
                        }
                        total
                    }
                    TierMode::Retroactive => {
                        let reached =
                            bands.iter().enumerate().rev().find(|(_, b)| {
                                m >= scale(b.from) && b.to.is_none_or(|t| m < scale(t))
                            });
                        match reached {
                            Some((i, b)) => {
                                let base = m.max(Decimal::ZERO);
                                let amount = base * b.rate;
                                steps.push(|| Step::RetroactiveBand {
                                    name: band_name(b, i),
                                    from: edge_label(b.from, *basis, inputs.ws),
                                    to: b.to.map_or_else(String::new, |t| {
                                        edge_label(t, *basis, inputs.ws)
                                    }),
                                    base,
                                    rate: b.rate,
                                    amount,
                                });
                                amount
                            }
                            None => {
                                if let Some(first) = bands.first() {
                                    steps.push(|| Step::BelowBands {
                                        first: edge_label(first.from, *basis, inputs.ws),
                                    });
                                }
                                Decimal::ZERO
                            }
                        }
                    }
                }
            }
        }
        PayRule::PerPoint {
            bands,
            points_rounding,
        } => match (inputs.measure, quota) {
            (Some(m), Some(q)) if !q.is_zero() => {
                let exact = (m * Decimal::ONE_HUNDRED)
                    .checked_div(q)
                    .ok_or("points are too large")?;
                let points = points_rounding.map_or(exact, |r| r.apply(exact));
                steps.push(|| Step::Points {
                    exact,
                    rounded: points,
                    rounding: *points_rounding,
                });
                let hundred = |e: Decimal| e * Decimal::ONE_HUNDRED;
                let (total, _) = marginal(
                    inputs.ws,
                    bands,
                    points,
                    hundred,
                    Basis::Attainment,
                    true,
                    &mut steps,
                );
                total
            }
            _ => Decimal::ZERO,
        },
        PayRule::Curve { basis, points } => {
            let x = match basis {
                Basis::Attainment => attainment,
                _ => inputs.measure,
            };
            match x {
                None => Decimal::ZERO,
                Some(x) => {
                    let label = |v: Decimal| edge_label(v, *basis, inputs.ws);
                    let first = points[0];
                    let last = points[points.len() - 1];
                    // The points read, labelled only if the trace is made.
                    let (amount, lower, upper) = if x < first.0 {
                        (Decimal::ZERO, (first.0, Decimal::ZERO), None)
                    } else if x >= last.0 {
                        (last.1, last, None)
                    } else {
                        let k = points
                            .windows(2)
                            .position(|w| x >= w[0].0 && x < w[1].0)
                            .unwrap_or(0);
                        let (a, b) = (points[k], points[k + 1]);
                        let amount = a.1 + (x - a.0) * (b.1 - a.1) / (b.0 - a.0);
                        (amount, a, Some(b))
                    };
                    steps.push(|| Step::Curve {
                        x: label(x),
                        lower: (label(lower.0), lower.1),
                        upper: upper.map(|(at, paid)| (label(at), paid)),
                        amount,
                    });
                    amount
                }
            }
        }
        PayRule::Formula(f) => {
            let value = match run(&f.expr)? {
                Value::Num(v) => v,
                other => return Err(format!("payout `{}` gave {other}, not an amount", f.text)),
            };
            let inputs_read = f
                .expr
                .references()
                .into_iter()
                .filter_map(|n| match named(n) {
                    Some(Value::Num(v)) => Some((n.to_string(), v)),
                    _ => None,
                })
                .collect();
            steps.push(|| Step::Formula {
                text: f.text.clone(),
                inputs: inputs_read,
                amount: value,
            });
            value
        }
    };
    let rounded = c.rounding.apply(raw);
    if rounded != raw {
        steps.push(|| Step::Rounded {
            before: raw,
            after: rounded,
            rounding: c.rounding,
            by_default: c.rounding_is_default,
        });
    }
    let mut amount = rounded;
    if let Some(floor) = c.floor {
        if amount < floor {
            steps.push(|| Step::Floor {
                floor,
                before: amount,
            });
            amount = c.rounding.apply(floor);
        }
    }
    if let Some(cap) = c.cap {
        if amount > cap {
            steps.push(|| Step::Cap {
                cap,
                before: amount,
            });
            amount = c.rounding.apply(cap);
        }
    }
    Ok(Evaluated {
        amount,
        trace: steps.into_trace(),
    })
}
