//! `custos-bench report`: turns the JSON lines of scenario runs into `PERFORMANCE.md` with
//! one SVG chart per scenario and backend, each target drawn as the line a figure must
//! reach. Only figures that were measured are written; the anchors' published figures are
//! listed apart, marked as such.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde_json::Value;

/// One scenario run, as `custos-bench SCENARIO` printed it.
#[derive(Debug, Clone)]
struct Run {
    scenario: String,
    backend: String,
    revision: String,
    cpus: u64,
    figures: BTreeMap<String, (f64, String)>,
    targets: BTreeMap<String, (String, f64, bool)>,
    notes: BTreeMap<String, String>,
}

impl Run {
    fn parse(line: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(line.trim()).ok()?;
        let scenario = v["scenario"].as_str()?.to_owned();
        let figures = v["figures"]
            .as_object()?
            .iter()
            .filter_map(|(k, f)| Some((k.clone(), (f["value"].as_f64()?, f["unit"].as_str().unwrap_or("").to_owned()))))
            .collect();
        let targets = v["targets"]
            .as_object()
            .map(|t| {
                t.iter()
                    .filter_map(|(k, t)| {
                        Some((k.clone(), (t["op"].as_str()?.to_owned(), t["value"].as_f64()?, t["met"].as_bool()?)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let notes = v["run"]
            .as_object()
            .map(|n| {
                // Series over time (the soak's timeline) stay in the JSON, out of the table.
                n.iter()
                    .filter(|(_, v)| !v.is_array())
                    .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            backend: v["run"]["backend"].as_str().unwrap_or("in process").to_owned(),
            revision: v["revision"].as_str().unwrap_or("unknown").to_owned(),
            cpus: v["machine"]["cpus"].as_u64().unwrap_or(0),
            scenario,
            figures,
            targets,
            notes,
        })
    }

    fn slug(&self) -> String {
        format!("{}-{}", self.scenario, self.backend.replace(' ', "-"))
    }
}

/// How far a figure is from its target, as a share where 1 means just met: the figure
/// over the target for "at least" targets, the target over the figure for "at most" ones.
fn share(value: f64, op: &str, target: f64) -> f64 {
    let share = match op {
        "<=" if value > 0.0 => target / value,
        "<=" => f64::INFINITY,
        _ if target > 0.0 => value / target,
        // A target of 0 (a margin that must not be negative) has no scale: met or not.
        _ if value >= target => 1.0,
        _ => 0.0,
    };
    if share.is_finite() { share } else { 10.0 }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A horizontal bar per target: how much of the target the figure reaches (capped at 3×),
/// with the target as a line.
fn chart(run: &Run) -> String {
    const ROW: f64 = 26.0;
    const LEFT: f64 = 190.0;
    const WIDTH: f64 = 360.0;
    const CAP: f64 = 3.0;
    let rows = run.targets.len().max(1) as f64;
    let height = 30.0 + ROW * rows + 20.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" width="{w}" height="{height}" font-family="sans-serif" font-size="12"><title>{} on {}: each figure against its target</title>"#,
        escape(&run.scenario),
        escape(&run.backend),
        w = LEFT + WIDTH + 230.0
    );
    let target_x = LEFT + WIDTH / CAP;
    for (i, (name, (op, target, met))) in run.targets.iter().enumerate() {
        let y = 24.0 + ROW * i as f64;
        let value = run.figures.get(name).map(|f| f.0).unwrap_or(f64::NAN);
        let reached = share(value, op, *target).clamp(0.0, CAP);
        let colour = if *met { "#2e7d32" } else { "#b00020" };
        let _ = write!(svg, r##"<text x="4" y="{}" fill="#222">{}</text>"##, y + 13.0, escape(name));
        let _ = write!(
            svg,
            r#"<rect x="{LEFT}" y="{y}" width="{:.1}" height="16" fill="{colour}" data-figure="{}" data-share="{:.3}"/>"#,
            WIDTH * reached / CAP,
            escape(name),
            reached
        );
        let unit = run.figures.get(name).map(|f| f.1.as_str()).unwrap_or("");
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" fill="#222">{} {} ({} {})</text>"##,
            LEFT + WIDTH + 6.0,
            y + 13.0,
            number(value),
            escape(unit),
            escape(op),
            number(*target)
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{target_x}" y1="14" x2="{target_x}" y2="{}" stroke="#222" stroke-dasharray="4 3"/><text x="{}" y="12" fill="#222">target</text>"##,
        24.0 + ROW * rows,
        target_x - 16.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn number(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v.abs() >= 1000.0 {
        let whole = v.round() as i64;
        let digits = whole.abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if whole < 0 { format!("-{grouped}") } else { grouped }
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() < 0.01 {
        // Three significant digits, so that 0.00356 MB/s does not read as 0.004.
        let decimals = (2 - v.abs().log10().floor() as i32).clamp(3, 9) as usize;
        format!("{v:.decimals$}").trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Published figures of the tools custos is compared with (../shared/REFERENCE.md).
const ANCHORS: &[(&str, &str)] = &[
    ("consent", "Fides's consent API: about 70 writes/s and 110-130 reads/s"),
    ("rights", "Fides 2.78: 0.56 s per access and 0.96 s per erasure (median); 2.6 accesses/s and 1.2 erasures/s"),
    ("banner", "fides.js: about 32 KB gzipped"),
    ("pii", "Presidio 2.2 with a small spaCy model: 0.008 MB/s, recall 0.86-0.92, precision 0.70-0.75"),
];

/// Writes `out/PERFORMANCE.md` and `out/perf/*.svg` from the JSON lines in `input`.
pub(crate) fn write(input: &str, out: &Path, date: &str) -> anyhow::Result<usize> {
    let runs: Vec<Run> = input.lines().filter(|l| l.trim_start().starts_with('{')).filter_map(Run::parse).collect();
    anyhow::ensure!(!runs.is_empty(), "no scenario results in the input: give the JSON lines custos-bench printed");
    let charts = out.join("perf");
    std::fs::create_dir_all(&charts).with_context(|| format!("cannot create {}", charts.display()))?;
    let mut md = String::new();
    let first = &runs[0];
    let _ = writeln!(md, "# Performance\n");
    let _ = writeln!(
        md,
        "Measured by `custos-bench` on {date}, revision `{}`, on a machine with {} CPU(s). Each scenario \
         measures its ceiling or anchor in the same run where it has one; the machine is shared, so \
         figures move between runs. Regenerate with `custos-bench SCENARIO ... > results.jsonl` then \
         `custos-bench report --input results.jsonl --out docs`.\n",
        first.revision, first.cpus
    );
    let met: usize = runs.iter().map(|r| r.targets.values().filter(|t| t.2).count()).sum();
    let all: usize = runs.iter().map(|r| r.targets.len()).sum();
    let _ = writeln!(md, "{met} of {all} targets met.\n");
    let _ = writeln!(md, "| scenario | backend | targets met | missed |\n|---|---|---|---|");
    for run in &runs {
        let missed: Vec<&str> = run.targets.iter().filter(|(_, t)| !t.2).map(|(k, _)| k.as_str()).collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} of {} | {} |",
            run.scenario,
            run.backend,
            run.targets.values().filter(|t| t.2).count(),
            run.targets.len(),
            if missed.is_empty() { "none".into() } else { missed.join(", ") }
        );
    }
    for run in &runs {
        let _ = writeln!(md, "\n## {} ({})\n", run.scenario, run.backend);
        if !run.targets.is_empty() {
            let file = format!("{}.svg", run.slug());
            std::fs::write(charts.join(&file), chart(run)).with_context(|| format!("cannot write {file}"))?;
            let _ = writeln!(md, "![{} on {}](perf/{file})\n", run.scenario, run.backend);
        }
        let _ = writeln!(md, "| figure | value | target | met |\n|---|---|---|---|");
        for (name, (value, unit)) in &run.figures {
            let (target, met) = match run.targets.get(name) {
                Some((op, t, met)) => (format!("{op} {}", number(*t)), if *met { "yes" } else { "**no**" }),
                None => (String::new(), ""),
            };
            let _ = writeln!(md, "| {name} | {} {unit} | {target} | {met} |", number(*value));
        }
        if !run.notes.is_empty() {
            let notes: Vec<String> = run.notes.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let _ = writeln!(md, "\nRun: {}.", notes.join("; "));
        }
        if run.revision != first.revision {
            let _ = writeln!(md, "\nMeasured at another revision: `{}`.", run.revision);
        }
    }
    // What profiling showed and what changed: written by hand beside the charts, kept
    // across regenerations.
    let profiles = charts.join("profiles.md");
    if let Ok(text) = std::fs::read_to_string(&profiles) {
        let _ = writeln!(md, "\n## Profiles\n\nFrom `perf/profiles.md`.\n\n{}", text.trim());
    }
    let _ = writeln!(md, "\n## The anchors, as published\n\nNot measured here; from `../shared/REFERENCE.md`.\n");
    for (scenario, text) in ANCHORS {
        let _ = writeln!(md, "- {scenario}: {text}");
    }
    std::fs::write(out.join("PERFORMANCE.md"), md).context("cannot write PERFORMANCE.md")?;
    Ok(runs.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_figures_keep_three_significant_digits() {
        assert_eq!(number(0.00356), "0.00356");
        assert_eq!(number(0.0041), "0.0041");
        assert_eq!(number(0.503), "0.503");
        assert_eq!(number(22330.44), "22,330");
    }

    #[test]
    fn a_target_of_zero_is_just_met_or_not() {
        assert_eq!(share(0.4, ">=", 0.0), 1.0);
        assert_eq!(share(0.0, ">=", 0.0), 1.0);
        assert_eq!(share(-0.1, ">=", 0.0), 0.0);
        assert_eq!(share(3.0, ">=", 2.0), 1.5);
    }

    #[test]
    fn the_report_names_every_figure_and_draws_each_target() {
        let input = r#"noise that is not JSON
{"scenario":"consent","revision":"abc","machine":{"cpus":2},"run":{"backend":"sqlite"},"figures":{"writes_per_s":{"value":5000.5,"unit":"1/s"},"reads_per_s":{"value":25000,"unit":"1/s"}},"targets":{"writes_per_s":{"op":">=","value":10000,"met":false},"reads_per_s":{"op":">=","value":20000,"met":true}}}
{"scenario":"rights","revision":"abc","machine":{"cpus":2},"run":{"backend":"sqlite","events":1000000},"figures":{"access_p50_ms":{"value":10,"unit":"ms"}},"targets":{"access_p50_ms":{"op":"<=","value":20,"met":true}}}
"#;
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(write(input, dir.path(), "2026-11-29").expect("report"), 2);
        let md = std::fs::read_to_string(dir.path().join("PERFORMANCE.md")).expect("md");
        assert!(md.contains("2 of 3 targets met."), "{md}");
        assert!(md.contains("| writes_per_s | 5,001 1/s | >= 10,000 | **no** |"), "{md}");
        assert!(md.contains("| consent | sqlite | 1 of 2 | writes_per_s |"), "{md}");
        assert!(md.contains("![rights on sqlite](perf/rights-sqlite.svg)"));
        assert!(md.contains("Run: backend: sqlite; events: 1000000."), "{md}");
        let svg = std::fs::read_to_string(dir.path().join("perf/consent-sqlite.svg")).expect("svg");
        assert!(svg.contains(r#"data-figure="writes_per_s" data-share="0.500""#), "{svg}");
        assert!(svg.contains(r#"data-figure="reads_per_s" data-share="1.250""#), "{svg}");
        let rights = std::fs::read_to_string(dir.path().join("perf/rights-sqlite.svg")).expect("svg");
        assert!(rights.contains(r#"data-share="2.000""#), "at most 20 ms, measured 10: twice as good: {rights}");
        assert!(rights.contains("(&lt;= 20)") && !rights.contains("(<="), "the operator is escaped: {rights}");
        assert!(write("not json", dir.path(), "x").is_err());
        assert!(!md.contains("## Profiles"), "no profiles written, no section");
    }

    #[test]
    fn the_profiles_written_by_hand_are_kept_in_the_report() {
        let input = r#"{"scenario":"gate","revision":"abc","machine":{"cpus":2},"run":{},"figures":{"decisions_per_s":{"value":1,"unit":"1/s"}},"targets":{}}"#;
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("perf")).expect("perf");
        std::fs::write(dir.path().join("perf/profiles.md"), "The gated read spent half its time switching threads.\n")
            .expect("profiles");
        write(input, dir.path(), "2026-11-29").expect("report");
        let md = std::fs::read_to_string(dir.path().join("PERFORMANCE.md")).expect("md");
        let profiles = md.find("## Profiles").expect("a profiles section");
        assert!(md[profiles..].contains("half its time switching threads"), "{md}");
        assert!(profiles < md.find("## The anchors").expect("anchors"), "before the anchors: {md}");
    }
}
