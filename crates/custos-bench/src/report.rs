//! The JSON report of one scenario.

use serde_json::{Map, Value, json};

/// Figures and targets of one run.
pub(crate) struct Report {
    scenario: &'static str,
    figures: Map<String, Value>,
    targets: Map<String, Value>,
    notes: Map<String, Value>,
}

impl Report {
    pub(crate) fn new(scenario: &'static str) -> Self {
        Self { scenario, figures: Map::new(), targets: Map::new(), notes: Map::new() }
    }

    /// Records a figure.
    pub(crate) fn figure(&mut self, name: &str, value: f64, unit: &str) -> &mut Self {
        self.figures.insert(name.into(), json!({"value": (value * 1000.0).round() / 1000.0, "unit": unit}));
        self
    }

    /// Records a figure rounded to `decimals` places, for figures far below 1.
    pub(crate) fn figure_decimals(&mut self, name: &str, value: f64, unit: &str, decimals: i32) -> &mut Self {
        let scale = 10f64.powi(decimals);
        self.figures.insert(name.into(), json!({"value": (value * scale).round() / scale, "unit": unit}));
        self
    }

    /// Records a target `figure op value` and whether it was met.
    pub(crate) fn target(&mut self, figure: &str, op: &str, value: f64) -> &mut Self {
        let actual = self.figures.get(figure).and_then(|f| f["value"].as_f64()).unwrap_or(f64::NAN);
        let met = match op {
            ">=" => actual >= value,
            "<=" => actual <= value,
            _ => false,
        };
        self.targets.insert(figure.into(), json!({"op": op, "value": value, "met": met}));
        self
    }

    /// Records a fact about the run (sizes, backend).
    pub(crate) fn note(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.notes.insert(name.into(), value.into());
        self
    }

    pub(crate) fn to_json(&self) -> String {
        json!({
            "scenario": self.scenario,
            "revision": revision(),
            "machine": {
                "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
                "os": std::env::consts::OS,
                "arch": std::env::consts::ARCH,
            },
            "run": self.notes,
            "figures": self.figures,
            "targets": self.targets,
        })
        .to_string()
    }
}

fn revision() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}
