//! Targets against actuals per period, as a server-drawn SVG (no script; the same figures are
//! in the table next to it).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write;

pub struct Point {
    pub label: String,
    pub target: Option<Decimal>,
    pub actual: Option<Decimal>,
}

const ROW: u32 = 30;
const LONGEST: f64 = 70.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One row per period: a thin target bar above a thick actual bar, both to the same scale.
pub fn target_vs_actual(label: &str, points: &[Point]) -> String {
    let max = points
        .iter()
        .flat_map(|p| [p.target, p.actual])
        .flatten()
        .max()
        .unwrap_or_default()
        .max(Decimal::ZERO);
    let width = |v: Option<Decimal>| match v {
        Some(v) if max > Decimal::ZERO && v > Decimal::ZERO => {
            ((v / max).to_f64().unwrap_or(0.0) * LONGEST).max(0.4)
        }
        _ => 0.0,
    };
    let height = ROW * points.len().max(1) as u32;
    let mut svg = String::with_capacity(200 + points.len() * 300);
    let _ = write!(
        svg,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{0}\" \
         width=\"100%\" height=\"{height}\"><title>{0}</title>",
        escape(label)
    );
    for (i, p) in points.iter().enumerate() {
        let top = ROW * i as u32;
        let (t, a) = (width(p.target), width(p.actual));
        let _ = write!(
            svg,
            "<text class=\"chart-label\" x=\"0\" y=\"{}\">{}</text>\
             <rect class=\"chart-target\" x=\"18%\" y=\"{}\" width=\"{t:.2}%\" height=\"4\" rx=\"1\"/>\
             <rect class=\"chart-bar\" x=\"18%\" y=\"{}\" width=\"{a:.2}%\" height=\"10\" rx=\"2\"/>",
            top + 15,
            escape(&p.label),
            top + 4,
            top + 10,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_figure_and_missing_values_draw_nothing() {
        let svg = target_vs_actual(
            "People assisted <per quarter>",
            &[
                Point {
                    label: "2026-Q1".into(),
                    target: Some(Decimal::from(100)),
                    actual: Some(Decimal::from(50)),
                },
                Point {
                    label: "2026-Q2".into(),
                    target: Some(Decimal::from(200)),
                    actual: None,
                },
            ],
        );
        assert!(svg.contains("aria-label=\"People assisted &lt;per quarter&gt;\""));
        assert!(svg.contains("width=\"35.00%\" height=\"4\""), "{svg}");
        assert!(svg.contains("width=\"17.50%\" height=\"10\""), "{svg}");
        assert!(svg.contains("width=\"70.00%\" height=\"4\""), "{svg}");
        assert!(svg.contains("width=\"0.00%\" height=\"10\""), "{svg}");
    }
}
