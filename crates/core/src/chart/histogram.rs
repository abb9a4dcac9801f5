//! A histogram: values counted into bins of a round width.

use super::axis::{round_step, Scale, Unit};
use super::frame::{axis_labels, px, title, Plot, WIDTH};
use super::svg::{Anchor, Svg};
use super::Chart;
use crate::stats::Bin;
use rust_decimal::Decimal;

/// Counts `values` into about `target` bins of a round width (1, 2, 2.5 or
/// 5 times a power of ten), the first starting at a multiple of the width.
pub fn bins(values: &[Decimal], target: u32) -> Vec<Bin> {
    let (Some(low), Some(high)) = (values.iter().min(), values.iter().max()) else {
        return Vec::new();
    };
    let spread = if high > low {
        *high - *low
    } else {
        high.abs().max(Decimal::ONE)
    };
    let width = round_step(spread / Decimal::from(target.max(1)));
    let start = (*low / width).floor() * width;
    let count = ((*high - start) / width).floor() + Decimal::ONE;
    let count = usize::try_from(count.mantissa() / 10_i128.pow(count.scale())).unwrap_or(0);
    let mut out: Vec<Bin> = (0..count)
        .map(|i| {
            let from = start + width * Decimal::from(i as u64);
            Bin {
                from: from.normalize(),
                to: (from + width).normalize(),
                count: 0,
            }
        })
        .collect();
    for v in values {
        let i = ((*v - start) / width).floor();
        if let Ok(i) = usize::try_from(i.mantissa() / 10_i128.pow(i.scale())) {
            if let Some(b) = out.get_mut(i) {
                b.count += 1;
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
pub struct Histogram {
    pub title: String,
    pub subtitle: Option<String>,
    /// What the values are, with their unit: `payout (USD)`.
    pub x_label: String,
    /// What is counted: `people`.
    pub y_label: String,
    pub unit: Unit,
    pub bins: Vec<Bin>,
    pub fill: String,
}

const HEIGHT: i64 = 460;

impl Chart for Histogram {
    fn size(&self) -> (i64, i64) {
        (WIDTH, HEIGHT)
    }

    fn draw(&self, svg: &mut Svg, top: i64) {
        title(svg, top, &self.title, self.subtitle.as_deref());
        let Plot {
            left,
            right,
            top: plot_top,
            bottom,
        } = Plot::new(top, HEIGHT);
        axis_labels(svg, top, HEIGHT, &self.x_label, &self.y_label);
        let (Some(first), Some(last)) = (self.bins.first(), self.bins.last()) else {
            svg.text(
                (
                    (left + right) / Decimal::TWO,
                    (plot_top + bottom) / Decimal::TWO,
                ),
                Anchor::Middle,
                "fill=\"#555555\"",
                "no values",
            );
            return;
        };
        let most = self.bins.iter().map(|b| b.count).max().unwrap_or(0);
        let ys = Scale::new(
            Decimal::ZERO,
            Decimal::from(most as u64).max(Decimal::ONE),
            5,
        );
        // Counts are whole: no tick between two integers.
        let y_ticks: Vec<Decimal> = ys
            .ticks
            .iter()
            .copied()
            .filter(|t| t.fract().is_zero())
            .collect();
        let span = last.to - first.from;
        let x_at = |x: Decimal| left + (x - first.from) * (right - left) / span;
        let y_at = |y: Decimal| ys.place(y, bottom, plot_top);
        for t in &y_ticks {
            let y = y_at(*t);
            svg.line((left, y), (right, y), "#e3e3e3", "");
            svg.text(
                (left - px(8), y + px(4)),
                Anchor::End,
                "",
                &Unit::Number.label(*t),
            );
        }
        let bar_width = (right - left) / Decimal::from(self.bins.len() as u64);
        for b in &self.bins {
            let x = x_at(b.from);
            let y = y_at(Decimal::from(b.count as u64));
            let label = format!(
                "{} to {}: {}",
                self.unit.label(b.from),
                self.unit.label(b.to),
                b.count
            );
            svg.rect(x, y, bar_width, bottom - y, &self.fill, &label);
            if b.count > 0 && bar_width >= px(18) {
                svg.text(
                    (x + bar_width / Decimal::TWO, y - px(4)),
                    Anchor::Middle,
                    "font-size=\"11\" fill=\"#333333\"",
                    &Unit::Number.label(Decimal::from(b.count as u64)),
                );
            }
        }
        // Edge labels, thinned to about a dozen.
        let edges: Vec<Decimal> = self
            .bins
            .iter()
            .map(|b| b.from)
            .chain(std::iter::once(last.to))
            .collect();
        let every = edges.len().div_ceil(12).max(1);
        for (i, e) in edges.iter().enumerate() {
            let x = x_at(*e);
            svg.line((x, bottom), (x, bottom + px(5)), "#333333", "");
            if i % every == 0 {
                svg.text(
                    (x, bottom + px(20)),
                    Anchor::Middle,
                    "",
                    &self.unit.label(*e),
                );
            }
        }
        svg.line((left, bottom), (right, bottom), "#333333", "");
        svg.line((left, plot_top), (left, bottom), "#333333", "");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fall_in_round_bins() {
        let v = |n: i64, s: u32| Decimal::new(n, s);
        let values = [v(0, 0), v(95, 2), v(1, 0), v(105, 2), v(2499, 3)];
        let b = bins(&values, 20);
        // Spread 2.499 / 20 = 0.125 -> bins of 0.2 from 0.
        assert_eq!(b.len(), 13);
        assert_eq!((b[0].from, b[0].to, b[0].count), (v(0, 0), v(2, 1), 1));
        assert_eq!(b[4].count, 1); // 0.95 in [0.8, 1.0)
        assert_eq!(b[5].count, 2); // 1 and 1.05 in [1.0, 1.2)
        assert_eq!(b[12].count, 1); // 2.499 in [2.4, 2.6)
        assert!(bins(&[], 10).is_empty());
    }
}
