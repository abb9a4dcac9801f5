//! A component's payout as a function of its measure, with the quota at its
//! plan amount: probed exactly (decimals, to the cent) over 0-250% of quota,
//! and cut into linear pieces and jumps. The plan lint reads the pieces for
//! cliffs, dead zones and payouts that fall; the payout-curve chart draws
//! them.
//!
//! Pieces are found by bisection: between two probed points the payout is
//! taken as linear when three points inside lie on the line (to a cent);
//! otherwise both halves are probed again, down to one step of the measure
//! (a cent of a money measure). So a jump is located to the cent and a kink
//! to within a fraction of a dollar, with a few thousand evaluations.

use super::evaluate::Evaluated;
use super::measures::QuotaValue;
use crate::expr::{BinaryOp, Expr, ExprKind, Type, UnaryOp};
use crate::plan::{Basis, Component, MeasureKind, PayRule, PlanTest, Workspace};
use rust_decimal::Decimal;

/// A component ready to be probed.
pub struct Probe<'a> {
    ws: &'a Workspace,
    /// The component as the lint studies it (see `gate_assumed`).
    pub component: Component,
    /// The same without its final rounding, whose cent steps would hide the
    /// shape.
    unrounded: Component,
    measure: usize,
    /// The quota at its plan amount, when the component has one.
    pub quota: Option<Decimal>,
    /// The gate reads values other than this measure and its quota (another
    /// measure): it is taken as met.
    pub gate_assumed: bool,
    /// The smallest move of the measure: a cent of money, a millionth of a
    /// plain number.
    pub step: Decimal,
    /// The range probed.
    pub low: Decimal,
    pub high: Decimal,
    /// Where the grid probes, before bisection.
    grid: Decimal,
    /// Every quota at its plan amount, as a full period sees it.
    quotas: Vec<QuotaValue>,
}

/// A piece of the payout curve: linear from `(x0, y0)` to `(x1, y1)`, or a
/// jump between two points one step apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub x0: Decimal,
    pub y0: Decimal,
    pub x1: Decimal,
    pub y1: Decimal,
    pub jump: bool,
}

/// The payout curve over the probed range, unrounded, in measure order.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub pieces: Vec<Piece>,
}

/// Evaluations allowed for one component: far above what any plan written
/// by hand needs (a few thousand), low enough to stay instant.
const EVALUATION_BUDGET: usize = 400_000;

impl<'a> Probe<'a> {
    /// `None` when the component has no measure, or when it has no quota and
    /// nothing (band edges, curve points, cap) tells which values matter.
    pub fn new(ws: &'a Workspace, c: &Component) -> Option<Probe<'a>> {
        let measure = c.measure?;
        if !within_reason(ws, c) {
            return None;
        }
        let quota = c
            .quota
            .map(|q| ws.quotas[q].amount)
            .filter(|q| *q > Decimal::ZERO);
        if c.quota.is_some() && quota.is_none() {
            return None;
        }
        let is_money = ws.measures[measure].ty == Type::Money;
        let step = if is_money {
            Decimal::new(1, ws.minor_unit)
        } else {
            Decimal::new(1, 6)
        };
        let negative = can_be_negative(ws, measure);
        let (low, high, grid) = match quota {
            Some(q) => {
                let low = if negative {
                    -q / Decimal::TWO
                } else {
                    Decimal::ZERO
                };
                (low, q * Decimal::new(25, 1), q / Decimal::ONE_HUNDRED)
            }
            None => {
                let edges = edges_without_quota(c);
                let top = edges.iter().copied().max().filter(|t| *t > Decimal::ZERO)?;
                let bottom = edges.iter().copied().min().unwrap_or_default();
                if is_money {
                    let low = if negative {
                        -top / Decimal::TWO
                    } else {
                        Decimal::ZERO
                    };
                    let high = top * Decimal::new(25, 1);
                    (low, high, high / Decimal::from(250))
                } else {
                    // A plain number (a rate, a count): the lint cannot know
                    // its ceiling (a renewal rate stops at 100%), so it stops
                    // at the last edge the plan names.
                    let low = bottom.min(Decimal::ZERO);
                    (low, top, (top - low) / Decimal::ONE_HUNDRED)
                }
            }
        };
        let grid = round_to(grid, step).max(step);
        let mut component = c.clone();
        let gate_assumed = c.gate.as_ref().is_some_and(|g| {
            let own = [
                ws.measures[measure].name.as_str(),
                "quota",
                "attainment",
                c.quota.map_or("", |q| ws.quotas[q].name.as_str()),
            ];
            g.expr.references().iter().any(|r| !own.contains(r))
        });
        if gate_assumed {
            component.gate = None;
        }
        let mut unrounded = component.clone();
        unrounded.rounding.places = 28;
        let quotas = ws
            .quotas
            .iter()
            .map(|q| QuotaValue::new(q, q.amount, false, 1, 1))
            .collect();
        Some(Probe {
            ws,
            quotas,
            component,
            unrounded,
            measure,
            quota,
            gate_assumed,
            step,
            low,
            high,
            grid,
        })
    }

    /// The measure's name.
    pub fn measure_name(&self) -> &str {
        &self.ws.measures[self.measure].name
    }

    pub fn measure_is_money(&self) -> bool {
        self.ws.measures[self.measure].ty == Type::Money
    }

    /// What the component pays at measure `x`, rounded as the plan says,
    /// with its trace.
    pub fn paid(&self, x: Decimal) -> Result<Evaluated, String> {
        self.evaluate(&self.component, x)
    }

    /// What it pays at `x` before the final rounding.
    pub fn exact(&self, x: Decimal) -> Result<Decimal, String> {
        self.evaluate(&self.unrounded, x).map(|e| e.amount)
    }

    fn evaluate(&self, c: &Component, x: Decimal) -> Result<Evaluated, String> {
        let ws = self.ws;
        let test = PlanTest {
            name: String::new(),
            period: None,
            start: None,
            measures: vec![(self.measure, x)],
            quotas: Vec::new(),
            expect: Vec::new(),
            location: String::new(),
            data: None,
        };
        super::evaluate_example(ws, c, &test, &self.quotas)
    }

    /// Where the plan itself says something changes: band edges, curve
    /// points, the quota; each with the step below it.
    fn landmarks(&self) -> Vec<Decimal> {
        let scale = |e: Decimal, basis: Basis| match (basis, self.quota) {
            (Basis::Attainment, Some(q)) => e * q,
            _ => e,
        };
        let mut marks: Vec<Decimal> = Vec::new();
        match &self.component.rule {
            PayRule::Tiers { basis, bands, .. } => {
                for b in bands {
                    marks.push(scale(b.from, *basis));
                    marks.extend(b.to.map(|t| scale(t, *basis)));
                }
            }
            PayRule::PerPoint { bands, .. } => {
                for b in bands {
                    marks.push(scale(b.from, Basis::Attainment));
                    marks.extend(b.to.map(|t| scale(t, Basis::Attainment)));
                }
            }
            PayRule::Curve { basis, points } => {
                marks.extend(points.iter().map(|(at, _)| scale(*at, *basis)));
            }
            _ => {}
        }
        marks.extend(self.quota);
        let mut out = Vec::new();
        for m in marks {
            let m = round_to(m, self.step);
            out.push(m);
            out.push(m - self.step);
        }
        out
    }

    /// The payout curve over the probed range.
    pub fn shape(&self) -> Result<Shape, String> {
        let mut xs: Vec<Decimal> = Vec::new();
        let mut x = self.low;
        while x < self.high {
            xs.push(x);
            x += self.grid;
        }
        xs.push(self.high);
        xs.extend(self.landmarks());
        xs.retain(|x| *x >= self.low && *x <= self.high);
        xs.sort();
        xs.dedup();
        let mut budget = EVALUATION_BUDGET;
        let mut points = Vec::with_capacity(xs.len());
        for x in xs {
            points.push((x, self.exact(x)?));
        }
        let mut pieces = Vec::new();
        // Values probed inside the pieces being cut, so a half does not
        // probe again what its parent did.
        let mut known = std::collections::HashMap::new();
        for w in points.windows(2) {
            self.refine(w[0], w[1], &mut pieces, &mut budget, &mut known)?;
        }
        mark_jumps(&mut pieces, self.step, Decimal::new(1, self.ws.minor_unit));
        Ok(Shape { pieces })
    }

    fn refine(
        &self,
        (a, fa): (Decimal, Decimal),
        (b, fb): (Decimal, Decimal),
        out: &mut Vec<Piece>,
        budget: &mut usize,
        known: &mut std::collections::HashMap<Decimal, Decimal>,
    ) -> Result<(), String> {
        let piece = Piece {
            x0: a,
            y0: fa,
            x1: b,
            y1: fb,
            jump: false,
        };
        if b - a <= self.step {
            out.push(piece);
            return Ok(());
        }
        let at = |k: i64| round_to(a + (b - a) * Decimal::from(k) / Decimal::from(4), self.step);
        let mid = at(2);
        if mid <= a || mid >= b {
            out.push(piece);
            return Ok(());
        }
        let tolerance = Decimal::new(1, self.ws.minor_unit);
        let mut fmid = fa;
        let mut linear = true;
        for k in [2, 1, 3] {
            let x = at(k);
            if x <= a || x >= b {
                continue;
            }
            let y = match known.get(&x) {
                Some(y) => *y,
                None => {
                    *budget = budget
                        .checked_sub(1)
                        .ok_or("the payout changes too often to be studied")?;
                    let y = self.exact(x)?;
                    known.insert(x, y);
                    y
                }
            };
            if k == 2 {
                fmid = y;
            }
            let line = fa + (fb - fa) * (x - a) / (b - a);
            if (y - line).abs() > tolerance {
                // Split anyway: the other points are probed in the halves.
                linear = false;
                break;
            }
        }
        if linear {
            out.push(piece);
            return Ok(());
        }
        self.refine((a, fa), (mid, fmid), out, budget, known)?;
        self.refine((mid, fmid), (b, fb), out, budget, known)
    }
}

/// A one-step piece is a jump when it moves by at least `cent` and by far
/// more than the slope of the pieces beside it would.
fn mark_jumps(pieces: &mut [Piece], step: Decimal, cent: Decimal) {
    let slope = |p: &Piece| {
        if p.x1 > p.x0 {
            ((p.y1 - p.y0) / (p.x1 - p.x0)).abs()
        } else {
            Decimal::ZERO
        }
    };
    for i in 0..pieces.len() {
        let p = pieces[i];
        if p.x1 - p.x0 > step {
            continue;
        }
        let rise = (p.y1 - p.y0).abs();
        if rise < cent {
            continue;
        }
        let beside = [i.checked_sub(1), Some(i + 1)]
            .into_iter()
            .flatten()
            .filter_map(|j| pieces.get(j))
            .filter(|q| q.x1 - q.x0 > p.x1 - p.x0)
            .map(slope)
            .max()
            .unwrap_or_default();
        if rise > beside * (p.x1 - p.x0) * Decimal::from(4) {
            pieces[i].jump = true;
        }
    }
}

/// Whether every number of the component is small enough to probe
/// without overflowing 28 digits (a trillion: far above any quota or pay).
fn within_reason(ws: &Workspace, c: &Component) -> bool {
    let limit = Decimal::from(1_000_000_000_000_i64);
    let mut numbers: Vec<Decimal> = Vec::new();
    numbers.extend(c.quota.map(|q| ws.quotas[q].amount));
    numbers.extend(c.cap);
    numbers.extend(c.floor);
    match &c.rule {
        PayRule::Rate(r) | PayRule::Fixed(r) => numbers.push(*r),
        PayRule::Tiers { bands, .. } | PayRule::PerPoint { bands, .. } => {
            for b in bands {
                numbers.extend([b.from, b.rate]);
                numbers.extend(b.to);
            }
        }
        PayRule::Curve { points, .. } => {
            for (at, pay) in points {
                numbers.extend([*at, *pay]);
            }
        }
        PayRule::Formula(_) => {}
    }
    numbers.iter().all(|n| n.abs() <= limit)
}

fn round_to(x: Decimal, step: Decimal) -> Decimal {
    (x / step).round() * step
}

/// Band edges, curve points and the measure at which a cap is reached, for
/// a component with no quota.
fn edges_without_quota(c: &Component) -> Vec<Decimal> {
    let mut edges = Vec::new();
    match &c.rule {
        PayRule::Tiers { bands, .. } => {
            for b in bands {
                edges.push(b.from);
                edges.extend(b.to);
            }
        }
        PayRule::Curve { points, .. } => edges.extend(points.iter().map(|(at, _)| *at)),
        PayRule::Rate(rate) if !rate.is_zero() => {
            if let Some(cap) = c.cap {
                edges.extend(cap.checked_div(*rate));
            }
        }
        _ => {}
    }
    edges
}

/// Whether a measure can fall below zero: a difference, a negation, or a
/// sum of a field that allows negatives.
pub fn can_be_negative(ws: &Workspace, measure: usize) -> bool {
    fn subtracts(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Unary(UnaryOp::Neg, _) | ExprKind::Binary(BinaryOp::Sub, _, _) => true,
            ExprKind::Number(v, _) => v.is_sign_negative(),
            ExprKind::Unary(_, a) => subtracts(a),
            ExprKind::Binary(_, a, b) => subtracts(a) || subtracts(b),
            ExprKind::Call(_, args) | ExprKind::List(args) => args.iter().any(subtracts),
            _ => false,
        }
    }
    match &ws.measures[measure].kind {
        MeasureKind::Sum { field: None, .. } => ws
            .transactions
            .amount
            .min
            .is_none_or(|m| m.is_sign_negative()),
        MeasureKind::Sum { field: Some(f), .. } => ws.transactions.fields[*f]
            .min
            .is_none_or(|m| m.is_sign_negative()),
        MeasureKind::Count { .. }
        | MeasureKind::CountDistinct { .. }
        | MeasureKind::CountGroups { .. } => false,
        MeasureKind::Rollup { of, .. } => match of {
            crate::plan::ValueRef::Measure(m) => can_be_negative(ws, *m),
            crate::plan::ValueRef::Quota(_) => false,
        },
        MeasureKind::Derived(e) => {
            subtracts(e)
                || e.references()
                    .iter()
                    .filter_map(|n| ws.measure(n))
                    .any(|m| can_be_negative(ws, m))
        }
    }
}
