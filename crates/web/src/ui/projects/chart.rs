//! Horizontal bar charts drawn on the server as SVG: no script, light, and readable by screen
//! readers (`role="img"` with a label; the same figures are in a table next to each chart).
//!
//! Bars are sized in percent of the chart's width and every label sits on its own line above
//! its bar, so the chart stays legible at a phone's width without scaling its text down.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::fmt::Write;

/// One bar: what it is, its size, and the figure written next to it.
pub struct Bar {
    pub label: String,
    pub value: Decimal,
    pub text: String,
}

/// Height of one row (a label line and a bar), in pixels.
const ROW: u32 = 36;
/// The longest bar, in percent of the width, leaving room for the figure after it.
const LONGEST: f64 = 68.0;

/// An `<svg>` with one bar per entry; `label` names the chart for assistive technology.
pub fn horizontal_bars(label: &str, bars: &[Bar]) -> String {
    let height = ROW * bars.len().max(1) as u32;
    let max = bars
        .iter()
        .map(|b| b.value)
        .max()
        .unwrap_or_default()
        .max(Decimal::ZERO);
    let mut svg = String::with_capacity(160 + bars.len() * 260);
    let _ = write!(
        svg,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{}\" \
         width=\"100%\" height=\"{height}\"><title>{}</title>",
        escape(label),
        escape(label)
    );
    for (i, bar) in bars.iter().enumerate() {
        let top = ROW * i as u32;
        let share = if max > Decimal::ZERO && bar.value > Decimal::ZERO {
            (bar.value / max).to_f64().unwrap_or(0.0) * LONGEST
        } else {
            0.0
        };
        // A bar that is not zero stays visible, however small.
        let width = if bar.value > Decimal::ZERO {
            share.max(0.4)
        } else {
            0.0
        };
        let _ = write!(
            svg,
            "<text class=\"chart-label\" x=\"0\" y=\"{}\">{}</text>\
             <rect class=\"chart-bar\" x=\"0\" y=\"{}\" width=\"{width:.2}%\" height=\"12\" rx=\"2\"/>\
             <text class=\"chart-value\" x=\"{width:.2}%\" dx=\"6\" y=\"{}\">{}</text>",
            top + 13,
            escape(&bar.label),
            top + 18,
            top + 29,
            escape(&bar.text),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Escapes text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A short figure for a chart: `1.2 M USD`, `557.5 k USD`, `950 USD`. Tables give exact figures.
pub fn compact_usd(amount: Decimal) -> String {
    let value = amount.to_f64().unwrap_or(0.0);
    let (scaled, suffix) = match value.abs() {
        v if v >= 1e9 => (value / 1e9, " bn"),
        v if v >= 1e6 => (value / 1e6, " M"),
        v if v >= 1e3 => (value / 1e3, " k"),
        _ => (value, ""),
    };
    let digits = if suffix.is_empty() || scaled.abs() >= 100.0 {
        0
    } else {
        1
    };
    format!("{scaled:.digits$}{suffix} USD")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: i64) -> Bar {
        Bar {
            label: label.into(),
            value: Decimal::from(value),
            text: value.to_string(),
        }
    }

    #[test]
    fn bars_are_sized_against_the_largest_and_labels_are_escaped() {
        let svg = horizontal_bars(
            "Budget by \"region\"",
            &[
                bar("<Nairobi> & co", 200),
                bar("Dakar", 100),
                bar("Cairo", 0),
            ],
        );
        assert!(svg.starts_with("<svg class=\"chart\""));
        assert!(svg.contains("role=\"img\" aria-label=\"Budget by &quot;region&quot;\""));
        assert!(svg.contains("&lt;Nairobi&gt; &amp; co"));
        assert!(!svg.contains("<Nairobi>"));
        assert!(svg.contains("width=\"68.00%\""), "{svg}");
        assert!(svg.contains("width=\"34.00%\""), "{svg}");
        assert!(svg.contains("width=\"0.00%\""), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("height=\"108\""));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn an_empty_or_all_zero_chart_draws_no_bar_lengths() {
        let svg = horizontal_bars("Nothing", &[]);
        assert!(svg.contains("height=\"36\"") && !svg.contains("<rect"));
        let svg = horizontal_bars("Zero", &[bar("a", 0)]);
        assert!(svg.contains("width=\"0.00%\""));
    }

    #[test]
    fn chart_figures_are_short() {
        assert_eq!(compact_usd(Decimal::from(1_260_000)), "1.3 M USD");
        assert_eq!(compact_usd(Decimal::from(557_500)), "558 k USD");
        assert_eq!(compact_usd(Decimal::from(7_500)), "7.5 k USD");
        assert_eq!(compact_usd(Decimal::from(950)), "950 USD");
        assert_eq!(compact_usd(Decimal::from(2_000_000_000i64)), "2.0 bn USD");
    }
}
