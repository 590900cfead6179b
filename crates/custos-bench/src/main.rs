//! `custos-bench SCENARIO`: runs one end-to-end scenario against the real code and prints
//! one JSON object on the last line of standard output, in the format of DESIGN.md
//! "Benchmarks": the scenario, the git revision, the machine, the figures with their
//! units, and each target with whether it was met.
//!
//! Scenarios:
//! - `gate`: gate decisions per second on one core (target ≥ 1,000,000/s), and
//!   purpose-gated reads over HTTP, each audited (target ≥ 10,000/s);
//! - `seal`: sealing and opening 200-byte values per second;
//! - `rotation`: re-wrapping data keys under a new master key, extrapolated to 1,000,000;
//! - `audit`: audit appends per second with 16 concurrent writers;
//! - `ingest`: durable cookieless page views over HTTP on loopback (target ≥ 20,000/s and
//!   ≥ 0.5 of a raw batch insert of the same rows, measured in the same run);
//! - `consent`: consent records written and current state read over HTTP (targets ≥ 10,000
//!   writes/s and ≥ 20,000 reads/s);
//! - `rights`: access and erasure for one person with 1,000 events among `size` events of
//!   others, against a store 100 times smaller in the same run, and verified requests
//!   per second end to end (targets: access ≤ 20 ms, erasure ≤ 10 ms, growth ≤ 1.5×,
//!   ≥ 200/s);
//! - `pii`: the PII detector on a generated, labelled corpus: MB/s on one core and
//!   record-level recall and precision (targets ≥ 50 MB/s, ≥ 0.98, ≥ 0.95); with
//!   `--with-presidio`, Microsoft Presidio on a sample of the same corpus in the same run
//!   (installed into a venv under `~/.cache/custos-bench` from PyPI on first use; targets
//!   ≥ 1,000× its throughput, and higher recall and precision).
//! - `banner`: custos.js gzipped (target ≤ 10 KB) and, in headless Chromium, when the
//!   banner is interactive on a fresh load of /demo (p95 ≤ 200 ms on loopback);
//! - `memory`: the resident memory of a real `custos serve` (the binary next to this one)
//!   over a store of `size` people, idle, during gated reads and during ingest (target
//!   ≤ 200 MB);
//! - `soak`: page views, gated reads, rights requests and partner uploads mixed on loopback
//!   for `--seconds` (default 600), with throughput, p99, errors and RSS over time
//!   (targets: zero errors; RSS over the last minute within 10 % of the RSS after warm-up).
//!
//! `custos-bench report --input results.jsonl --out docs` turns the JSON lines of earlier
//! runs into `docs/PERFORMANCE.md` with an SVG chart per scenario and backend.
//!
//! Figures are measured, never asserted: CI runs each scenario at a tiny `--size` only to
//! show that it still works.

/// mimalloc instead of glibc's malloc: profiles of the HTTP paths spent 15% of their CPU
/// time in malloc and free (docs/PERFORMANCE.md, "Profiles").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod banner;
mod consent;
mod gate_http;
mod ingest;
mod memory;
mod performance;
mod pii;
mod presidio;
mod report;
mod rights;
mod scenarios;
mod served;
mod soak;

use clap::{Parser, ValueEnum};

/// Benchmarks of custos.
#[derive(Debug, Parser)]
#[command(name = "custos-bench", version)]
struct Cli {
    /// The scenario to run.
    scenario: Scenario,
    /// How much work: decisions, values, keys, appends or records (each scenario has a default).
    #[arg(long)]
    size: Option<u64>,
    /// Run storage scenarios on this PostgreSQL server (a database is created and dropped);
    /// SQLite in a temporary directory otherwise.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// For `pii`: also run Microsoft Presidio on a sample of the corpus (creates a Python
    /// venv under ~/.cache/custos-bench and installs Presidio from PyPI on first use).
    #[arg(long)]
    with_presidio: bool,
    /// For `pii --with-presidio`: the sample is the first this many records.
    #[arg(long, value_name = "N", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    presidio_records: u64,
    /// For `pii --with-presidio`: a record is positive for Presidio when a finding scores at
    /// least this.
    #[arg(long, value_name = "SCORE", default_value_t = 0.5)]
    presidio_threshold: f64,
    /// For `soak`: how long to run, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    seconds: u64,
    /// For `report`: the JSON lines of earlier runs (`-` for standard input).
    #[arg(long, value_name = "FILE", default_value = "-")]
    input: String,
    /// For `report`: the directory PERFORMANCE.md and perf/*.svg are written to.
    #[arg(long, value_name = "DIR", default_value = "docs")]
    out: std::path::PathBuf,
}

/// The scenarios.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Scenario {
    /// Gate decisions per second.
    Gate,
    /// Seal and open of 200-byte values.
    Seal,
    /// Key rotation.
    Rotation,
    /// Concurrent audit appends.
    Audit,
    /// Page-view ingest over HTTP on loopback, against a raw batch insert.
    Ingest,
    /// Consent records written and read over HTTP.
    Consent,
    /// Access and erasure for one person in a full store; verified requests per second.
    Rights,
    /// The PII detector: throughput, recall and precision on a labelled corpus.
    Pii,
    /// custos.js: its gzipped size, and when the banner is interactive in headless Chromium.
    Banner,
    /// The RSS of a real `custos serve` over a store of `size` people, idle and under load.
    Memory,
    /// A long mixed load: throughput, p99, errors and memory over time.
    Soak,
    /// Writes PERFORMANCE.md and its charts from the JSON lines of earlier runs.
    Report,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.with_presidio && !matches!(cli.scenario, Scenario::Pii) {
        anyhow::bail!("--with-presidio belongs to the pii scenario: custos-bench pii --with-presidio");
    }
    let report = match cli.scenario {
        Scenario::Gate => {
            runtime()?.block_on(gate_http::run(cli.size.unwrap_or(5_000_000), cli.postgres.as_deref()))?
        }
        Scenario::Seal => scenarios::seal(cli.size.unwrap_or(500_000)),
        Scenario::Rotation => {
            runtime()?.block_on(scenarios::rotation(cli.size.unwrap_or(100_000), cli.postgres.as_deref()))?
        }
        Scenario::Audit => {
            runtime()?.block_on(scenarios::audit(cli.size.unwrap_or(20_000), cli.postgres.as_deref()))?
        }
        Scenario::Ingest => runtime()?.block_on(ingest::run(cli.size.unwrap_or(50_000), cli.postgres.as_deref()))?,
        Scenario::Consent => runtime()?.block_on(consent::run(cli.size.unwrap_or(50_000), cli.postgres.as_deref()))?,
        Scenario::Rights => runtime()?.block_on(rights::run(cli.size.unwrap_or(1_000_000), cli.postgres.as_deref()))?,
        Scenario::Banner => runtime()?.block_on(banner::run(cli.size.unwrap_or(50)))?,
        Scenario::Memory => runtime()?.block_on(memory::run(cli.size.unwrap_or(1_000_000), cli.postgres.as_deref()))?,
        Scenario::Soak => {
            runtime()?.block_on(soak::run(cli.size.unwrap_or(1_000), cli.seconds, cli.postgres.as_deref()))?
        }
        Scenario::Pii => {
            let presidio = cli.with_presidio.then_some(pii::PresidioOptions {
                records: cli.presidio_records as usize,
                threshold: cli.presidio_threshold,
            });
            pii::run(cli.size.unwrap_or(20_000), presidio)?
        }
        Scenario::Report => {
            let input = if cli.input == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&cli.input).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", cli.input))?
            };
            let date = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
            let runs = performance::write(&input, &cli.out, &date)?;
            eprintln!("wrote {} from {runs} run(s)", cli.out.join("PERFORMANCE.md").display());
            return Ok(());
        }
    };
    println!("{}", report.to_json());
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}
