//! The plan lint: what a plan pays as its measure moves, and where that
//! surprises. Each component is probed with its quota at the plan amount
//! (`engine::probe`), and its payout curve read for
//!
//! - payouts that fall while the measure rises (a warning);
//! - cliffs: one cent more paying much more, at a gate, a retroactive tier,
//!   the foot of a curve or a lone jump of a formula (a warning);
//! - bands a cap makes unreachable (a warning);
//! - dead zones: a stretch where more performance pays nothing more,
//!   because of a cap or a flat stretch between two rises (a note: usually
//!   meant, worth knowing).
//!
//! Regular steps (a bonus per *whole* point, per whole $1,000) are what the
//! plan says and are not reported; nor is the zero paid below a first band.
//! Findings carry the numbers: where, how much, what one cent below pays.
//!
//! A component can `accept` kinds of finding its author means (the brief's
//! 80% gate is a cliff on purpose): those are set aside rather than
//! reported, and an acceptance that matches nothing any more is itself
//! reported, so it cannot outlive the plan change that made it needless.

use crate::diag::Diagnostic;
use crate::engine::probe::{Piece, Probe, Shape};
use crate::engine::trace::Step;
use crate::money::{format_number, format_percent, Currency};
use crate::plan::model::Finding;
use crate::plan::{Basis, Component, PayRule, Workspace};
use rust_decimal::Decimal;

/// What the lint found: the findings to report, and those the components
/// accept.
#[derive(Debug, Default)]
pub struct Findings {
    pub reported: Vec<Diagnostic>,
    pub accepted: Vec<(Finding, Diagnostic)>,
}

impl Findings {
    /// The accepted findings as notes that say so, for `--show-accepted`.
    pub fn accepted_as_notes(&self) -> Vec<Diagnostic> {
        self.accepted
            .iter()
            .map(|(kind, d)| Diagnostic {
                severity: crate::diag::Severity::Note,
                message: format!("accepted `{}`: {}", kind.name(), d.message),
                ..d.clone()
            })
            .collect()
    }
}

/// Every finding of every component, each component once (an included
/// component is reported where it is written).
pub fn lint(ws: &Workspace) -> Findings {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    let mut all = Findings::default();
    for plan in &ws.plans {
        for c in &plan.components {
            let key = (c.origin.as_str(), c.id.as_str());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let found = lint_component(ws, c);
            all.reported.extend(found.reported);
            all.accepted.extend(found.accepted);
        }
    }
    all
}

/// The findings of one component (none when it cannot be probed: no
/// measure, or no quota and nothing that says which values matter).
pub fn lint_component(ws: &Workspace, c: &Component) -> Findings {
    let mut found = Findings::default();
    let studied = match Probe::new(ws, c).map(|p| p.shape().map(|s| (p, s))) {
        None => false,
        Some(Err(e)) => {
            found.reported.push(Diagnostic::note(
                c.location.clone(),
                format!("component `{}` could not be studied: {e}", c.id),
            ));
            false
        }
        Some(Ok((probe, shape))) => {
            let money = ws.money();
            let mut l = Linter::new(&probe, c, &money);
            l.jumps(&shape);
            l.falls(&shape);
            l.unreachable_bands(&shape);
            l.dead_zones(&shape);
            found = l.found;
            true
        }
    };
    for (kind, location) in &c.accepts {
        let met = found.accepted.iter().any(|(k, _)| k == kind);
        if met {
            continue;
        }
        let (message, hint) = if studied {
            (
                format!(
                    "component `{}` accepts `{}`, but has none",
                    c.id,
                    kind.name()
                ),
                format!(
                    "the plan no longer pays this way; remove `{}` from `accept`",
                    kind.name()
                ),
            )
        } else {
            (
                format!(
                    "component `{}` accepts `{}`, but the lint cannot study it",
                    c.id,
                    kind.name()
                ),
                "only a component with a measure is linted; remove `accept`".to_string(),
            )
        };
        found
            .reported
            .push(Diagnostic::warning(location.clone(), message).with_hint(hint));
    }
    found
}

/// A cliff of a component's payout curve: one step of the measure below
/// `at` pays `before`, `at` pays `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cliff {
    pub at: Decimal,
    pub before: Decimal,
    pub after: Decimal,
}

/// The cliffs of a probed component paid in `money`, for charts that mark
/// them.
pub fn cliffs(probe: &Probe, shape: &Shape, c: &Component, money: &Currency) -> Vec<Cliff> {
    Linter::new(probe, c, money)
        .classified_jumps(shape)
        .into_iter()
        .filter(|f| f.3 > f.2)
        .map(|f| Cliff {
            at: f.1,
            before: f.2,
            after: f.3,
        })
        .collect()
}

struct Linter<'a> {
    probe: &'a Probe<'a>,
    c: &'a Component,
    /// The workspace's currency: findings print amounts in it, and its
    /// smallest unit is the least step that counts as a jump.
    money: &'a Currency,
    cent: Decimal,
    found: Findings,
}

/// Why the payout jumps.
enum Cause {
    Gate(String),
    Retroactive { band: String, rate: Decimal },
    CurveFoot,
    Formula,
}

impl<'a> Linter<'a> {
    fn new(probe: &'a Probe<'a>, c: &'a Component, money: &'a Currency) -> Linter<'a> {
        Linter {
            probe,
            c,
            money,
            cent: Decimal::new(1, money.minor_unit),
            found: Findings::default(),
        }
    }

    /// An amount of the workspace's currency.
    fn amount(&self, x: Decimal) -> String {
        self.money.format(x)
    }

    fn value(&self, x: Decimal) -> String {
        if self.probe.measure_is_money() {
            self.amount(x)
        } else {
            format_number(x)
        }
    }

    fn percent(&self, x: Decimal) -> Option<String> {
        let q = self.probe.quota?;
        Some(format_percent(x / q, 2))
    }

    /// `80% of quota ($240,000.00 of `grr`)`, or `$240,000.00 of `grr``.
    fn at(&self, x: Decimal) -> String {
        let m = self.probe.measure_name();
        match self.percent(x) {
            Some(p) => format!("{p} of quota ({} of `{m}`)", self.value(x)),
            None => format!("{} of `{m}`", self.value(x)),
        }
    }

    fn paid(&self, x: Decimal) -> Option<(Decimal, Vec<Step>)> {
        self.probe.paid(x).ok().map(|e| (e.amount, e.trace.steps))
    }

    fn warn(&mut self, kind: Finding, message: String, hint: String) {
        let d = Diagnostic::warning(self.c.location.clone(), message).with_hint(hint);
        self.file(kind, d);
    }

    fn note(&mut self, kind: Finding, message: String, hint: String) {
        let d = Diagnostic::note(self.c.location.clone(), message).with_hint(hint);
        self.file(kind, d);
    }

    /// Sets a finding aside when the component accepts its kind.
    fn file(&mut self, kind: Finding, d: Diagnostic) {
        if self.c.accepts.iter().any(|(k, _)| *k == kind) {
            self.found.accepted.push((kind, d));
        } else {
            self.found.reported.push(d);
        }
    }

    fn cause(&self, below: &[Step], above: &[Step], at: Decimal) -> Cause {
        let gate = |steps: &[Step]| {
            steps.iter().find_map(|s| match s {
                Step::Gate { condition, met } => Some((condition.clone(), *met)),
                _ => None,
            })
        };
        if let (Some((_, false)), Some((condition, true))) = (gate(below), gate(above)) {
            return Cause::Gate(condition);
        }
        let band = |steps: &[Step]| {
            steps.iter().find_map(|s| match s {
                Step::RetroactiveBand { name, rate, .. } => Some((name.clone(), *rate)),
                _ => None,
            })
        };
        if let Some((name, rate)) = band(above) {
            if band(below).is_none_or(|(n, _)| n != name) {
                return Cause::Retroactive { band: name, rate };
            }
        }
        if let PayRule::Curve { basis, points } = &self.c.rule {
            let first = match (basis, self.probe.quota) {
                (Basis::Attainment, Some(q)) => points[0].0 * q,
                _ => points[0].0,
            };
            if (first - at).abs() <= self.probe.step {
                return Cause::CurveFoot;
            }
        }
        Cause::Formula
    }

    /// Every jump: (one step below, at, paid below, paid at, why), without
    /// the regular steps of a formula or of rounded points (three or more
    /// rises with no other cause), which are the plan's own arithmetic.
    fn classified_jumps(&self, shape: &Shape) -> Vec<(Decimal, Decimal, Decimal, Decimal, Cause)> {
        let jumps: Vec<&Piece> = shape.pieces.iter().filter(|p| p.jump).collect();
        let mut found = Vec::new();
        for p in &jumps {
            let (Some((before, below)), Some((after, above))) = (self.paid(p.x0), self.paid(p.x1))
            else {
                continue;
            };
            let cause = self.cause(&below, &above, p.x1);
            found.push((p.x0, p.x1, before, after, cause));
        }
        let formula_rises = found
            .iter()
            .filter(|f| matches!(f.4, Cause::Formula) && f.3 > f.2)
            .count();
        found.retain(|f| {
            f.3 < f.2
                || (f.3 - f.2 >= self.cent
                    && !(matches!(f.4, Cause::Formula) && formula_rises >= 3))
        });
        found
    }

    /// Cliffs, and jumps down.
    fn jumps(&mut self, shape: &Shape) {
        let found = self.classified_jumps(shape);
        // A currency without cents steps by its smallest amount (`JPY 1`).
        let step_word = match (self.probe.measure_is_money(), self.money.minor_unit) {
            (true, 2) => "one cent".to_string(),
            (true, _) => self.amount(self.cent),
            (false, _) => "one step".to_string(),
        };
        for (x0, x1, before, after, cause) in found {
            if after < before {
                let loss = before - after;
                self.warn(
                    Finding::FallingPay,
                    format!(
                        "component `{}` pays less for more: {} pays {}, but {step_word} more, at {}, pays {}",
                        self.c.id,
                        self.value(x0),
                        self.amount(before),
                        self.at(x1),
                        self.amount(after)
                    ),
                    format!("a rep loses {} by doing better; check the rates, the cap and the formula", self.amount(loss)),
                );
                continue;
            }
            let jump = self.amount(after - before);
            // Nothing paid, as a round figure: `$0`, `€0`, `JPY 0`.
            let nothing = format!("{}0", self.money.symbol);
            let hint = match &cause {
                Cause::Gate(condition) => format!(
                    "the gate `{condition}` pays nothing below it: a rep {step_word} short earns {jump} less, so expect deals pulled into the period; a ramp (a `curve` rising from {nothing}) removes the jump"
                ),
                Cause::Retroactive { band, rate } => format!(
                    "tiers are retroactive: reaching `{band}` pays {} on the whole measure; `tiers = \"marginal\"` pays each rate on its own band, without a jump",
                    format_percent(*rate, 4)
                ),
                Cause::CurveFoot => format!("the curve pays nothing below its first point; a first point paying {nothing} removes the jump"),
                Cause::Formula => "the payout formula jumps here; check that the threshold is meant".to_string(),
            };
            self.warn(
                Finding::Cliff,
                format!(
                    "component `{}` has a cliff at {}: {step_word} more pays {jump} more ({} pays {}, {} pays {})",
                    self.c.id,
                    self.at(x1),
                    self.value(x0),
                    self.amount(before),
                    self.value(x1),
                    self.amount(after)
                ),
                hint,
            );
        }
    }

    /// Stretches where the payout falls smoothly as the measure rises.
    fn falls(&mut self, shape: &Shape) {
        let mut stretches: Vec<(Decimal, Decimal)> = Vec::new();
        for p in shape.pieces.iter().filter(|p| !p.jump) {
            if p.y1 < p.y0 {
                match stretches.last_mut() {
                    Some(last) if last.1 == p.x0 => last.1 = p.x1,
                    _ => stretches.push((p.x0, p.x1)),
                }
            }
        }
        for (a, b) in stretches {
            let (Some((pa, _)), Some((pb, _))) = (self.paid(a), self.paid(b)) else {
                continue;
            };
            if pa - pb < self.cent {
                continue;
            }
            self.warn(
                Finding::FallingPay,
                format!(
                    "component `{}` pays less for more: {} pays {}, but {} pays {}",
                    self.c.id,
                    self.at(a),
                    self.amount(pa),
                    self.at(b),
                    self.amount(pb)
                ),
                format!(
                    "a rep loses {} by doing better; check the rates, the cap and the formula",
                    self.amount(pa - pb)
                ),
            );
        }
    }

    /// Stretches of at least 5% of quota (or of the range probed) where a
    /// positive payout stays the same.
    fn dead_zones(&mut self, shape: &Shape) {
        let wide = match self.probe.quota {
            Some(q) => q / Decimal::from(20),
            None => (self.probe.high - self.probe.low) / Decimal::from(20),
        };
        let mut flats: Vec<(Decimal, Decimal, Decimal)> = Vec::new();
        for p in &shape.pieces {
            // Exactly flat: the probe's values are unrounded, so a slope of
            // any size shows.
            if p.jump || p.y1 != p.y0 {
                continue;
            }
            match flats.last_mut() {
                Some(last) if last.1 == p.x0 && p.y0 == last.2 => last.1 = p.x1,
                _ => flats.push((p.x0, p.x1, p.y0)),
            }
        }
        for (a, b, y) in flats {
            if b - a < wide || y <= Decimal::ZERO || b <= Decimal::ZERO {
                continue;
            }
            let Some((paid, steps)) = self.paid(a + (b - a) / Decimal::TWO) else {
                continue;
            };
            let capped = steps.iter().any(|s| matches!(s, Step::Cap { .. }));
            let to_the_end = b >= self.probe.high;
            if capped || to_the_end {
                let what = if capped {
                    format!("its cap of {}", self.amount(paid))
                } else {
                    self.amount(paid)
                };
                self.note(
                    Finding::DeadZone,
                    format!(
                        "component `{}` pays {what} from {} up: more performance pays nothing more",
                        self.c.id,
                        self.at(a)
                    ),
                    if capped {
                        "a cap stops the payout; raise it, or lower the rates near it, if top performers should still earn for more".to_string()
                    } else {
                        "the payout stops rising here; check that this ceiling is meant".to_string()
                    },
                );
            } else {
                self.note(
                    Finding::DeadZone,
                    format!(
                        "component `{}` pays {} whatever the result from {} to {}: more performance pays nothing more there",
                        self.c.id,
                        self.amount(paid),
                        self.at(a),
                        self.at(b)
                    ),
                    "a dead zone: reps in it gain nothing for more until the payout rises again".to_string(),
                );
            }
        }
    }

    /// Bands that start where the cap is already reached.
    fn unreachable_bands(&mut self, shape: &Shape) {
        let Some(cap) = self.c.cap else {
            return;
        };
        let (bands, per_point, basis) = match &self.c.rule {
            PayRule::Tiers { bands, basis, .. } => (bands, false, *basis),
            PayRule::PerPoint { bands, .. } => (bands, true, Basis::Attainment),
            _ => return,
        };
        let Some(reached) = shape.pieces.iter().find(|p| p.y1 >= cap).map(|p| {
            if p.jump || p.y1 == p.y0 {
                p.x1
            } else {
                let x = p.x0 + (cap - p.y0) * (p.x1 - p.x0) / (p.y1 - p.y0);
                (x / self.probe.step).ceil() * self.probe.step
            }
        }) else {
            return;
        };
        for (i, b) in bands.iter().enumerate() {
            let start = match (basis, self.probe.quota) {
                (Basis::Attainment, Some(q)) => b.from * q,
                _ => b.from,
            };
            if b.rate <= Decimal::ZERO || start < reached {
                continue;
            }
            let name = b.name.clone().unwrap_or_else(|| format!("band {}", i + 1));
            let rate = if per_point {
                format!("{} a point", self.amount(b.rate))
            } else {
                format_percent(b.rate, 4)
            };
            let from = match basis {
                Basis::Attainment => format_percent(b.from, 4),
                Basis::Amount => self.amount(b.from),
                Basis::Value => format_number(b.from),
            };
            self.warn(
                Finding::UnreachableBand,
                format!(
                    "band `{name}` of component `{}` ({rate} from {from}) is never paid: the cap of {} is reached at {}",
                    self.c.id,
                    self.amount(cap),
                    self.at(reached)
                ),
                "the cap stops the payout before this band starts; raise the cap or remove the band".to_string(),
            );
        }
    }
}
