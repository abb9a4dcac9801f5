//! The explanation carried by every payout: each input read, each
//! intermediate amount, each rounding. Statements render it; they never
//! recompute.

use crate::money::Rounding;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A measure the component read.
    Measure {
        name: String,
        value: Decimal,
        is_money: bool,
    },
    /// The quota and how it was prorated.
    Quota {
        name: String,
        full: Decimal,
        overridden: bool,
        active_days: i32,
        period_days: i32,
        value: Decimal,
        rounding: Option<Rounding>,
    },
    Attainment {
        value: Decimal,
    },
    /// The quota is zero, so attainment has no value.
    NoAttainment,
    Gate {
        condition: String,
        met: bool,
    },
    /// `base × rate`.
    Rate {
        base: Decimal,
        rate: Decimal,
        amount: Decimal,
    },
    /// One band of a marginal table: the part of the measure (or of the
    /// points) inside it, times its rate.
    Band {
        name: String,
        from: String,
        to: String,
        portion: Decimal,
        rate: Decimal,
        per_point: bool,
        amount: Decimal,
    },
    /// The band a retroactive table reached, applied to everything.
    RetroactiveBand {
        name: String,
        from: String,
        to: String,
        base: Decimal,
        rate: Decimal,
        amount: Decimal,
    },
    /// Below the first band: nothing is paid.
    BelowBands {
        first: String,
    },
    Points {
        exact: Decimal,
        rounded: Decimal,
        rounding: Option<Rounding>,
    },
    Curve {
        x: String,
        lower: (String, Decimal),
        upper: Option<(String, Decimal)>,
        amount: Decimal,
    },
    Fixed {
        amount: Decimal,
    },
    Formula {
        text: String,
        inputs: Vec<(String, Decimal)>,
        amount: Decimal,
    },
    Floor {
        floor: Decimal,
        before: Decimal,
    },
    Cap {
        cap: Decimal,
        before: Decimal,
    },
    Rounded {
        before: Decimal,
        after: Decimal,
        rounding: Rounding,
        by_default: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    pub steps: Vec<Step>,
}

/// A trace being written, or not: a run that wants amounts only (`calc`'s
/// hundred thousand payouts) makes no step at all, as steps hold text
/// (names, band edges) whose making cost more than the amounts.
pub(crate) struct Steps {
    keep: bool,
    steps: Vec<Step>,
}

impl Steps {
    pub(crate) fn new(keep: bool) -> Steps {
        Steps {
            keep,
            steps: Vec::new(),
        }
    }

    /// Adds the step `make` makes, when steps are kept.
    pub(crate) fn push(&mut self, make: impl FnOnce() -> Step) {
        if self.keep {
            self.steps.push(make());
        }
    }

    pub(crate) fn into_trace(self) -> Trace {
        Trace { steps: self.steps }
    }
}
