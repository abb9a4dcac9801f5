//! A few SVG elements written as text, coordinates printed with one
//! decimal place.

use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt::Write;

/// A document being written.
pub struct Svg {
    out: String,
}

/// A coordinate as SVG text: one decimal place, no trailing `.0`.
pub fn coord(v: Decimal) -> String {
    v.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string()
}

pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            _ => s.push(c),
        }
    }
    s
}

/// Where a text is anchored.
#[derive(Clone, Copy)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Svg {
    pub fn new(width: i64, height: i64) -> Svg {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"13\">"
        );
        let _ = writeln!(
            out,
            "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"white\"/>"
        );
        Svg { out }
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }

    /// A line; `style` is extra attributes (`stroke-dasharray="4 3"`).
    pub fn line(
        &mut self,
        from: (Decimal, Decimal),
        to: (Decimal, Decimal),
        stroke: &str,
        style: &str,
    ) {
        let _ = writeln!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\"{}{style}/>",
            coord(from.0),
            coord(from.1),
            coord(to.0),
            coord(to.1),
            if style.is_empty() { "" } else { " " }
        );
    }

    pub fn polyline(&mut self, points: &[(Decimal, Decimal)], stroke: &str, style: &str) {
        let mut text = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            let _ = write!(text, "{},{}", coord(*x), coord(*y));
        }
        let _ = writeln!(
            self.out,
            "<polyline points=\"{text}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"2\" stroke-linejoin=\"round\"{}{style}/>",
            if style.is_empty() { "" } else { " " }
        );
    }

    pub fn rect(
        &mut self,
        x: Decimal,
        y: Decimal,
        w: Decimal,
        h: Decimal,
        fill: &str,
        title: &str,
    ) {
        let _ = write!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" stroke=\"white\" stroke-width=\"1\">",
            coord(x),
            coord(y),
            coord(w),
            coord(h)
        );
        let _ = writeln!(self.out, "<title>{}</title></rect>", escape(title));
    }

    /// The frame of a legend: white, with a thin grey border.
    pub fn legend_box(&mut self, x: Decimal, y: Decimal, w: Decimal, h: Decimal) {
        let _ = writeln!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#cccccc\"/>",
            coord(x),
            coord(y),
            coord(w),
            coord(h)
        );
    }

    pub fn circle(&mut self, at: (Decimal, Decimal), r: i64, stroke: &str, title: &str) {
        let _ = writeln!(
            self.out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{r}\" fill=\"white\" stroke=\"{stroke}\" stroke-width=\"2\"><title>{}</title></circle>",
            coord(at.0),
            coord(at.1),
            escape(title)
        );
    }

    /// Text; `style` is extra attributes (`font-weight="bold"`).
    pub fn text(&mut self, at: (Decimal, Decimal), anchor: Anchor, style: &str, text: &str) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let _ = writeln!(
            self.out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\"{}{style}>{}</text>",
            coord(at.0),
            coord(at.1),
            if style.is_empty() { "" } else { " " },
            escape(text)
        );
    }
}
