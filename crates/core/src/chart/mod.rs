//! Charts as SVG text: a payout curve (payout against attainment, plans
//! side by side) and histograms (attainment and payouts across people).
//!
//! The renderers take plain data (series of exact `(x, y)` points with
//! labels, lists of values) so any part of attain can draw with them; the
//! builders in [`plans`] turn a component or a calculation into that data.
//! Coordinates are computed in decimals and printed with one decimal
//! place: no floating point, and the same input gives the same bytes.
//!
//! Hand-written rather than a plotting crate: the ones that exist compute
//! in `f64` (which the workspace's lints forbid on the path of an amount)
//! and their output is not byte-stable across versions; two chart kinds
//! need a few hundred lines.

mod axis;
mod frame;
mod histogram;
mod line;
pub mod plans;
mod svg;

pub use crate::stats::Bin;
pub use axis::Unit;
pub use histogram::{bins, Histogram};
pub use line::{Guide, LineChart, Marker, Series};
pub use svg::Svg;

/// Several charts, one under the other, in one SVG document.
pub fn stack(parts: &[&dyn Chart]) -> String {
    let width = parts.iter().map(|p| p.size().0).max().unwrap_or(0);
    let height: i64 = parts.iter().map(|p| p.size().1).sum();
    let mut svg = Svg::new(width, height);
    let mut top = 0;
    for p in parts {
        p.draw(&mut svg, top);
        top += p.size().1;
    }
    svg.finish()
}

/// A chart that draws itself at a vertical offset of a document.
pub trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (i64, i64);
    fn draw(&self, svg: &mut Svg, top: i64);

    /// The chart alone as an SVG document.
    fn to_svg(&self) -> String {
        let (w, h) = self.size();
        let mut svg = Svg::new(w, h);
        self.draw(&mut svg, 0);
        svg.finish()
    }
}
