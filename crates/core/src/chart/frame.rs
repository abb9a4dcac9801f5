//! What every chart draws around its plot: the title, the axis labels,
//! and where the plot sits inside the margins. One place, so that charts
//! stacked in one document line up.

use super::svg::{Anchor, Svg};
use rust_decimal::Decimal;

/// Every chart's width, in pixels.
pub(super) const WIDTH: i64 = 900;
const LEFT: i64 = 100;
const RIGHT: i64 = 40;
const TOP: i64 = 76;
const BOTTOM: i64 = 70;

/// A whole number of pixels as a coordinate.
pub(super) fn px(v: i64) -> Decimal {
    Decimal::from(v)
}

/// The plot's edges in a chart `height` tall drawn from `top`.
pub(super) struct Plot {
    pub left: Decimal,
    pub right: Decimal,
    pub top: Decimal,
    pub bottom: Decimal,
}

impl Plot {
    pub fn new(top: i64, height: i64) -> Plot {
        Plot {
            left: px(LEFT),
            right: px(WIDTH - RIGHT),
            top: px(top + TOP),
            bottom: px(top + height - BOTTOM),
        }
    }
}

pub(super) fn title(svg: &mut Svg, top: i64, text: &str, subtitle: Option<&str>) {
    svg.text(
        (px(WIDTH / 2), px(top + 28)),
        Anchor::Middle,
        "font-size=\"18\" font-weight=\"bold\"",
        text,
    );
    if let Some(s) = subtitle {
        svg.text(
            (px(WIDTH / 2), px(top + 50)),
            Anchor::Middle,
            "fill=\"#555555\"",
            s,
        );
    }
}

pub(super) fn axis_labels(svg: &mut Svg, top: i64, height: i64, x: &str, y: &str) {
    svg.text(
        (px((LEFT + WIDTH - RIGHT) / 2), px(top + height - 22)),
        Anchor::Middle,
        "font-weight=\"bold\"",
        x,
    );
    let mid = top + TOP + (height - TOP - BOTTOM) / 2;
    svg.text(
        (px(22), px(mid)),
        Anchor::Middle,
        &format!("font-weight=\"bold\" transform=\"rotate(-90 22 {mid})\""),
        y,
    );
}
