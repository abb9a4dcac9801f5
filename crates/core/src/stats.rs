//! Distributions of amounts, exact: nearest-rank percentiles (what-if
//! reports, sweeps, forecasts) and the bins histograms count into (the
//! what-if table, the charts).

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// Where a set of amounts lies. Percentiles are nearest-rank (the smallest
/// value with at least p% of the values at or below it): always one of the
/// values, never an interpolation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Distribution {
    pub count: usize,
    pub min: Decimal,
    pub p10: Decimal,
    pub p25: Decimal,
    pub p50: Decimal,
    pub p75: Decimal,
    pub p90: Decimal,
    pub max: Decimal,
    pub total: Decimal,
}

impl Distribution {
    pub fn of(values: &[Decimal]) -> Distribution {
        let mut sorted = values.to_vec();
        sorted.sort();
        let n = sorted.len();
        let rank = |p: usize| nearest_rank(&sorted, p).unwrap_or_default();
        Distribution {
            count: n,
            min: sorted.first().copied().unwrap_or_default(),
            p10: rank(10),
            p25: rank(25),
            p50: rank(50),
            p75: rank(75),
            p90: rank(90),
            max: sorted.last().copied().unwrap_or_default(),
            total: sorted.iter().sum(),
        }
    }

    /// (label, value) in order, for renderers.
    pub fn points(&self) -> [(&'static str, Decimal); 7] {
        [
            ("min", self.min),
            ("p10", self.p10),
            ("p25", self.p25),
            ("p50", self.p50),
            ("p75", self.p75),
            ("p90", self.p90),
            ("max", self.max),
        ]
    }
}

/// The `p`th percentile of `sorted` (ascending) by nearest rank: the value
/// at rank ⌈p·n/100⌉ (at least 1), always one of the values, so exact and
/// reproducible; `None` when there is none.
pub fn nearest_rank(sorted: &[Decimal], p: usize) -> Option<Decimal> {
    let n = sorted.len();
    let r = (p * n).div_ceil(100).clamp(1, n.max(1));
    sorted.get(r - 1).copied()
}

/// A bar of a histogram: values `from <= v < to` ([`even_bins`]' last bin
/// includes its top).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    pub from: Decimal,
    pub to: Decimal,
    pub count: usize,
}

/// Up to `bins` bins of one width, a whole number of currency units,
/// covering every value; no bin when there is no value. For tables, where
/// a fixed number of rows matters; a chart wants round edges instead
/// (`chart::bins`).
pub fn even_bins(values: &[Decimal], bins: usize) -> Vec<Bin> {
    let (Some(min), Some(max)) = (values.iter().min(), values.iter().max()) else {
        return Vec::new();
    };
    let bins = bins.max(1);
    let low = min.floor();
    let span = max.ceil() - low;
    let width = (span / Decimal::from(bins)).ceil().max(Decimal::ONE);
    let mut out: Vec<Bin> = (0..bins)
        .map(|i| Bin {
            from: low + width * Decimal::from(i),
            to: low + width * Decimal::from(i + 1),
            count: 0,
        })
        .filter(|b| b.from <= *max)
        .collect();
    let last = out.len() - 1;
    for v in values {
        let i = ((*v - low) / width).floor();
        let i = i.to_usize().unwrap_or(0).min(last);
        out[i].count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: i64) -> Decimal {
        Decimal::from(v)
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<Decimal> = (1..=10).map(d).collect();
        let s = Distribution::of(&values);
        assert_eq!(
            (s.min, s.p10, s.p25, s.p50, s.p75, s.p90, s.max),
            (d(1), d(1), d(3), d(5), d(8), d(9), d(10))
        );
        assert_eq!(s.total, d(55));
        assert_eq!(Distribution::of(&[]).count, 0);
    }

    #[test]
    fn histogram_bins_cover_every_value() {
        let values = [d(-250), d(0), d(0), d(10), d(750)];
        let h = even_bins(&values, 4);
        assert_eq!(h.len(), 4);
        assert_eq!((h[0].from, h[0].to), (d(-250), d(0)));
        assert_eq!(
            h.iter().map(|b| b.count).collect::<Vec<_>>(),
            vec![1, 3, 0, 1]
        );
    }
}
