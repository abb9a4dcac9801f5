//! A line chart: series of exact points, dashed or not, with markers
//! (cliffs) and vertical guides (the quota).

use super::axis::{Scale, Unit};
use super::frame::{axis_labels, px, title, Plot, WIDTH};
use super::svg::{Anchor, Svg};
use super::Chart;
use rust_decimal::Decimal;

#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    /// In x order; a jump is two points with nearly the same x.
    pub points: Vec<(Decimal, Decimal)>,
    pub dashed: bool,
}

/// A point worth a circle and a label, e.g. a cliff.
#[derive(Debug, Clone)]
pub struct Marker {
    pub x: Decimal,
    pub y: Decimal,
    pub label: String,
    /// The series it belongs to (its colour).
    pub series: usize,
}

/// A vertical line across the plot, e.g. the quota at 100%.
#[derive(Debug, Clone)]
pub struct Guide {
    pub x: Decimal,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct LineChart {
    pub title: String,
    pub subtitle: Option<String>,
    pub x_label: String,
    pub y_label: String,
    pub x_unit: Unit,
    pub y_unit: Unit,
    pub series: Vec<Series>,
    pub markers: Vec<Marker>,
    pub guides: Vec<Guide>,
    /// The x range shown (default: the data's).
    pub x_range: Option<(Decimal, Decimal)>,
}

pub(super) const PALETTE: [&str; 4] = ["#1f5fa8", "#d9531e", "#2c8c3c", "#7a4fa3"];
const HEIGHT: i64 = 560;

impl Chart for LineChart {
    fn size(&self) -> (i64, i64) {
        (WIDTH, HEIGHT)
    }

    fn draw(&self, svg: &mut Svg, top: i64) {
        let all = || self.series.iter().flat_map(|s| s.points.iter());
        let (x_low, x_high) = self.x_range.unwrap_or_else(|| {
            let xs = all().map(|p| p.0);
            (
                xs.clone().min().unwrap_or_default(),
                xs.max().unwrap_or(Decimal::ONE),
            )
        });
        let y_low = all()
            .map(|p| p.1)
            .min()
            .unwrap_or_default()
            .min(Decimal::ZERO);
        let y_high = all()
            .map(|p| p.1)
            .max()
            .unwrap_or_default()
            .max(Decimal::ONE);
        let xs = Scale::new(x_low, x_high, 10);
        let ys = Scale::new(y_low, y_high, 6);
        let Plot {
            left,
            right,
            top: plot_top,
            bottom,
        } = Plot::new(top, HEIGHT);
        let x_at = |x: Decimal| xs.place(x, left, right);
        let y_at = |y: Decimal| ys.place(y, bottom, plot_top);
        title(svg, top, &self.title, self.subtitle.as_deref());
        // Grid and ticks.
        for t in &ys.ticks {
            let y = y_at(*t);
            svg.line((left, y), (right, y), "#e3e3e3", "");
            svg.text(
                (left - px(8), y + px(4)),
                Anchor::End,
                "",
                &self.y_unit.label(*t),
            );
        }
        for t in &xs.ticks {
            let x = x_at(*t);
            svg.line((x, plot_top), (x, bottom), "#eeeeee", "");
            svg.text(
                (x, bottom + px(20)),
                Anchor::Middle,
                "",
                &self.x_unit.label(*t),
            );
        }
        svg.line((left, bottom), (right, bottom), "#333333", "");
        svg.line((left, plot_top), (left, bottom), "#333333", "");
        axis_labels(svg, top, HEIGHT, &self.x_label, &self.y_label);
        for g in &self.guides {
            if g.x < xs.low || g.x > xs.high {
                continue;
            }
            let x = x_at(g.x);
            svg.line(
                (x, plot_top),
                (x, bottom),
                "#777777",
                "stroke-dasharray=\"5 4\"",
            );
            svg.text(
                (x, plot_top - px(6)),
                Anchor::Middle,
                "fill=\"#555555\"",
                &g.label,
            );
        }
        for (i, s) in self.series.iter().enumerate() {
            let points: Vec<(Decimal, Decimal)> = s
                .points
                .iter()
                .filter(|(x, _)| *x >= xs.low && *x <= xs.high)
                .map(|(x, y)| (x_at(*x), y_at(*y)))
                .collect();
            let dash = if s.dashed {
                "stroke-dasharray=\"8 5\""
            } else {
                ""
            };
            svg.polyline(&points, PALETTE[i % PALETTE.len()], dash);
        }
        for m in &self.markers {
            if m.x < xs.low || m.x > xs.high {
                continue;
            }
            let colour = PALETTE[m.series % PALETTE.len()];
            let at = (x_at(m.x), y_at(m.y));
            svg.circle(at, 5, colour, &m.label);
            svg.text(
                (at.0 - px(8), at.1 - px(8)),
                Anchor::End,
                &format!("fill=\"{colour}\" font-size=\"12\""),
                &m.label,
            );
        }
        // The legend, top left inside the plot, where rising curves leave room.
        let legend_x = left + px(14);
        let mut legend_y = plot_top + px(18);
        let box_height = px(10 + 20 * self.series.len() as i64);
        let box_width = self
            .series
            .iter()
            .map(|s| s.label.chars().count() as i64 * 13 / 2 + 56)
            .max()
            .unwrap_or(0);
        svg.legend_box(left + px(6), plot_top + px(4), px(box_width), box_height);
        for (i, s) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let dash = if s.dashed {
                "stroke-dasharray=\"8 5\" stroke-width=\"2\""
            } else {
                "stroke-width=\"2\""
            };
            svg.line(
                (legend_x, legend_y - px(4)),
                (legend_x + px(30), legend_y - px(4)),
                colour,
                dash,
            );
            svg.text((legend_x + px(38), legend_y), Anchor::Start, "", &s.label);
            legend_y += px(20);
        }
    }
}
