//! Axes: round tick steps (1, 2, 2.5 or 5 times a power of ten) and tick
//! labels in the axis's unit, all in decimals.

use crate::money::{format_percent, group_thousands, Currency};
use rust_decimal::Decimal;

/// What an axis measures, for its tick labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// Money of this currency, labelled with its symbol (`$12,500`,
    /// `JPY 12,500`).
    Money(Currency),
    /// A ratio shown as a percentage (1 is 100%).
    Percent,
    /// A plain number (a count of people).
    Number,
}

impl Unit {
    pub fn label(&self, v: Decimal) -> String {
        match self {
            Unit::Money(currency) => {
                let sign = if v.is_sign_negative() && !v.is_zero() {
                    "-"
                } else {
                    ""
                };
                let v = v.abs().normalize();
                let text = v.to_string();
                let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
                // A round tick keeps no decimals (`$12,500`, not
                // `$12,500.00`); one between whole amounts shows the
                // currency's minor unit (`$2.50`).
                let frac = if frac.is_empty() {
                    String::new()
                } else {
                    let places = currency.minor_unit as usize;
                    format!(".{frac:0<places$}")
                };
                format!("{sign}{}{}{frac}", currency.symbol, group_thousands(int))
            }
            Unit::Percent => format_percent(v, 2),
            Unit::Number => {
                let v = v.normalize().to_string();
                let (int, frac) = v.split_once('.').unwrap_or((&v, ""));
                let (sign, int) = int.strip_prefix('-').map_or(("", int), |i| ("-", i));
                if frac.is_empty() {
                    format!("{sign}{}", group_thousands(int))
                } else {
                    format!("{sign}{}.{frac}", group_thousands(int))
                }
            }
        }
    }
}

/// The smallest round step (1, 2, 2.5 or 5 times a power of ten) at least
/// `raw`; 1 for a step of zero or less.
pub fn round_step(raw: Decimal) -> Decimal {
    if raw <= Decimal::ZERO {
        return Decimal::ONE;
    }
    let ten = Decimal::TEN;
    let mut magnitude = Decimal::ONE;
    while magnitude * ten <= raw && magnitude < Decimal::from(1_000_000_000_000_i64) {
        magnitude *= ten;
    }
    while magnitude > raw && magnitude > Decimal::new(1, 12) {
        magnitude /= ten;
    }
    for m in [
        Decimal::ONE,
        Decimal::TWO,
        Decimal::new(25, 1),
        Decimal::from(5),
        ten,
    ] {
        if magnitude * m >= raw {
            return (magnitude * m).normalize();
        }
    }
    magnitude * ten
}

/// An axis from `low` to `high` widened to whole steps, with its ticks.
pub struct Scale {
    pub low: Decimal,
    pub high: Decimal,
    pub ticks: Vec<Decimal>,
}

impl Scale {
    /// About `count` ticks over `[low, high]`.
    pub fn new(low: Decimal, high: Decimal, count: u32) -> Scale {
        let (low, high) = if high > low {
            (low, high)
        } else {
            (low, low + Decimal::ONE)
        };
        let step = round_step((high - low) / Decimal::from(count.max(1)));
        let first = (low / step).floor() * step;
        let last = (high / step).ceil() * step;
        let mut ticks = Vec::new();
        let mut t = first;
        while t <= last {
            ticks.push(t.normalize());
            t += step;
        }
        Scale {
            low: first,
            high: last,
            ticks,
        }
    }

    /// Where `v` falls between `from` (at `low`) and `to` (at `high`), in
    /// pixels.
    pub fn place(&self, v: Decimal, from: Decimal, to: Decimal) -> Decimal {
        from + (v - self.low) * (to - from) / (self.high - self.low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        let d = |n: i64, s: u32| Decimal::new(n, s);
        assert_eq!(round_step(d(3000, 0)), d(5000, 0));
        assert_eq!(round_step(d(2100, 0)), d(2500, 0));
        assert_eq!(round_step(d(25, 2)), d(25, 2));
        assert_eq!(round_step(d(9, 2)), d(1, 1));
        let s = Scale::new(Decimal::ZERO, d(57_250, 0), 6);
        assert_eq!(s.ticks.last().copied(), Some(d(60_000, 0)));
        assert_eq!(s.ticks.len(), 7);
    }

    #[test]
    fn labels_carry_their_unit() {
        let money = Unit::Money(Currency::usd());
        assert_eq!(money.label(Decimal::new(12_500, 0)), "$12,500");
        assert_eq!(money.label(Decimal::new(25, 1)), "$2.50");
        assert_eq!(money.label(Decimal::new(-1000, 0)), "-$1,000");
        let yen = Unit::Money(Currency::new("JPY", 0));
        assert_eq!(yen.label(Decimal::new(12_500, 0)), "JPY 12,500");
        assert_eq!(yen.label(Decimal::new(25, 1)), "JPY 2.5");
        let euro = Unit::Money(Currency::new("EUR", 2));
        assert_eq!(euro.label(Decimal::new(-25, 1)), "-€2.50");
        assert_eq!(Unit::Percent.label(Decimal::new(125, 2)), "125%");
        assert_eq!(Unit::Number.label(Decimal::new(1200, 0)), "1,200");
    }
}
