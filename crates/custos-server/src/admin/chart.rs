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

/// One line of a line chart: a value (0 to `max`) per x position, `None` where there is
/// nothing to plot.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) name: String,
    pub(crate) colour: &'static str,
    pub(crate) values: Vec<Option<f64>>,
}

/// A line chart titled `title` over `labels` (one per x position, every `label_every`th
/// shown), values from 0 to `max` written with `unit`. Each point carries `data-series`,
/// `data-x` and `data-value`.
pub(crate) fn lines(
    title: &str,
    labels: &[String],
    label_every: usize,
    lines: &[Line],
    max: f64,
    unit: &str,
) -> String {
    const STEP: f64 = 24.0;
    const HEIGHT: f64 = 140.0;
    const TOP: f64 = 24.0;
    const LEFT: f64 = 44.0;
    let width = LEFT + STEP * labels.len().max(1) as f64 + 10.0;
    let total = TOP + HEIGHT + 30.0 + 18.0 * lines.len() as f64;
    let max = if max > 0.0 { max } else { 1.0 };
    let y = |v: f64| TOP + HEIGHT - (v.clamp(0.0, max) / max) * HEIGHT;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {total}" width="{width}" height="{total}" class="chart" aria-label="{}">"#,
        escape(title)
    );
    let _ = write!(svg, "<title>{}</title>", escape(title));
    let _ = write!(svg, r##"<line x1="{LEFT}" y1="{b}" x2="{width}" y2="{b}" stroke="#555"/>"##, b = TOP + HEIGHT);
    let _ = write!(svg, r##"<text x="2" y="{}" font-size="11" fill="#333">{}{unit}</text>"##, TOP + 4.0, max);
    let _ = write!(svg, r##"<text x="2" y="{}" font-size="11" fill="#333">0{unit}</text>"##, TOP + HEIGHT);
    for (i, label) in labels.iter().enumerate() {
        if label_every > 0 && i % label_every == 0 {
            let _ = write!(
                svg,
                r##"<text x="{}" y="{}" font-size="10" fill="#222">{}</text>"##,
                LEFT + STEP * i as f64,
                TOP + HEIGHT + 14.0,
                escape(label)
            );
        }
    }
    for (n, line) in lines.iter().enumerate() {
        let points: Vec<(usize, f64)> = line.values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v))).collect();
        let path: Vec<String> =
            points.iter().map(|(i, v)| format!("{:.1},{:.1}", LEFT + STEP * *i as f64 + STEP / 2.0, y(*v))).collect();
        if path.len() > 1 {
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
                line.colour,
                path.join(" ")
            );
        }
        for (i, v) in &points {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}" data-series="{}" data-x="{}" data-value="{}"><title>{}, {}: {}{unit}</title></circle>"#,
                LEFT + STEP * *i as f64 + STEP / 2.0,
                y(*v),
                line.colour,
                escape(&line.name),
                escape(&labels[*i]),
                v,
                escape(&line.name),
                escape(&labels[*i]),
                v
            );
        }
        let ly = TOP + HEIGHT + 30.0 + 18.0 * n as f64;
        let _ = write!(
            svg,
            r##"<rect x="{LEFT}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{ly}" font-size="12" fill="#222">{}</text>"##,
            ly - 10.0,
            line.colour,
            LEFT + 16.0,
            escape(&line.name)
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

    #[test]
    fn lines_skip_days_without_figures() {
        let labels: Vec<String> = ["06-01", "06-02", "06-03"].iter().map(|s| (*s).to_owned()).collect();
        let line = Line { name: "analytics".into(), colour: "#0b4fa8", values: vec![Some(50.0), None, Some(100.0)] };
        let svg = lines("Grant rate", &labels, 1, &[line], 100.0, "%");
        assert_eq!(svg.matches("<circle").count(), 2, "no point where nothing was decided");
        assert!(svg.contains(r#"data-series="analytics" data-x="06-03" data-value="100""#), "{svg}");
        assert!(svg.contains("<polyline"));
    }
}
