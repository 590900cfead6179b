//! Bar charts drawn as SVG on the server: no script, so the console's Content-Security-
//! Policy can forbid scripts altogether, and a screen reader gets the figures from the
//! chart's title and each bar's label.

use std::fmt::Write as _;

/// One group of bars (a kind of request), with one value per series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    /// The group's label.
    pub(crate) label: String,
    /// One value per series, in the order of the series.
    pub(crate) values: Vec<u64>,
}

/// One series: its name and its colour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Series {
    pub(crate) name: &'static str,
    pub(crate) colour: &'static str,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A grouped bar chart titled `title`. Each bar carries `data-series`, `data-group` and
/// `data-value`, so tests and people's tools can read the figures back.
pub(crate) fn grouped_bars(title: &str, series: &[Series], groups: &[Group]) -> String {
    const BAR: u64 = 14;
    const GAP: u64 = 18;
    const HEIGHT: u64 = 160;
    const TOP: u64 = 28;
    const BOTTOM: u64 = 40;
    let max = groups.iter().flat_map(|g| g.values.iter().copied()).max().unwrap_or(0).max(1);
    let group_width = BAR * series.len() as u64 + GAP;
    let width = 40 + group_width * groups.len().max(1) as u64;
    let total = TOP + HEIGHT + BOTTOM + 18 * series.len() as u64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {total}" width="{width}" height="{total}" class="chart" aria-labelledby="chart-title"><title id="chart-title">{}</title>"#,
        escape(title)
    );
    let _ = write!(svg, r##"<line x1="30" y1="{y}" x2="{width}" y2="{y}" stroke="#555"/>"##, y = TOP + HEIGHT);
    let _ = write!(svg, r##"<text x="2" y="{}" font-size="11" fill="#333">{max}</text>"##, TOP + 4);
    for (g, group) in groups.iter().enumerate() {
        let x0 = 36 + group_width * g as u64;
        for (s, (value, one)) in group.values.iter().zip(series).enumerate() {
            let h = value * HEIGHT / max;
            let x = x0 + BAR * s as u64;
            let _ = write!(
                svg,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{colour}" data-series="{series}" data-group="{group}" data-value="{value}"><title>{group}, {series}: {value}</title></rect>"#,
                y = TOP + HEIGHT - h,
                w = BAR - 2,
                colour = one.colour,
                series = escape(one.name),
                group = escape(&group.label),
            );
        }
        let _ = write!(
            svg,
            r##"<text x="{x}" y="{y}" font-size="11" fill="#222">{}</text>"##,
            escape(&group.label),
            x = x0,
            y = TOP + HEIGHT + 14
        );
    }
    for (s, one) in series.iter().enumerate() {
        let y = TOP + HEIGHT + BOTTOM + 18 * s as u64;
        let _ = write!(
            svg,
            r##"<rect x="36" y="{}" width="10" height="10" fill="{}"/><text x="52" y="{}" font-size="12" fill="#222">{}</text>"##,
            y - 10,
            one.colour,
            y,
            escape(one.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_their_figures_and_text_is_escaped() {
        let series = [Series { name: "open", colour: "#0b4fa8" }, Series { name: "done", colour: "#2e7d32" }];
        let groups = [
            Group { label: "access".into(), values: vec![3, 1] },
            Group { label: "<erasure>".into(), values: vec![0, 6] },
        ];
        let svg = grouped_bars("Requests & states", &series, &groups);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"data-series="open" data-group="access" data-value="3""#), "{svg}");
        assert!(svg.contains(r#"data-series="done" data-group="&lt;erasure&gt;" data-value="6""#), "{svg}");
        assert!(svg.contains("<title id=\"chart-title\">Requests &amp; states</title>"));
        assert!(!svg.contains("<erasure>"), "escaped");
        // The tallest bar fills the plot; the others are in proportion.
        assert!(svg.contains(r##"height="160" fill="#2e7d32""##), "{svg}");
        assert!(svg.contains(r##"height="80" fill="#0b4fa8""##), "{svg}");
    }
}
