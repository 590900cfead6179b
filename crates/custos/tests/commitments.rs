//! docs/COMMITMENTS.md stays true: every test it names exists, and every section of the
//! policy that holds a promise has a row.

use std::path::{Path, PathBuf};

/// Sections of the policy that hold promises custos keeps at run time.
const SECTIONS_WITH_PROMISES: &[&str] = &[
    "1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3", "3.4", "4", "5", "7", "8", "8.1", "8.2", "8.3", "8.4", "8.5", "8.6",
    "8.7", "9", "10", "11",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// The problems with `table` (the Markdown of COMMITMENTS.md) against the tree at `root`.
fn problems(table: &str, root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut sections = std::collections::BTreeSet::new();
    let rows = table.lines().filter(|l| l.starts_with("| C"));
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let [id, section, _promise, _kept_by, proved_by, status] = cells[..] else {
            problems.push(format!("malformed row: {row}"));
            continue;
        };
        sections.extend(section.split(',').map(|s| s.trim().to_owned()));
        if proved_by == "not yet" {
            if status != "not yet" {
                problems.push(format!("{id} names no test but its status is `{status}`"));
            }
            continue;
        }
        for name in proved_by.split(',').map(|n| n.trim().trim_matches('`')) {
            let Some((file, function)) = name.split_once("::") else {
                problems.push(format!("{id}: `{name}` is not `path/to/file.rs::function`"));
                continue;
            };
            match std::fs::read_to_string(root.join(file)) {
                Ok(source) if source.contains(&format!("fn {function}(")) => {}
                Ok(_) => problems.push(format!("{id}: no test `{function}` in {file}")),
                Err(_) => problems.push(format!("{id}: no file {file}")),
            }
        }
    }
    for section in SECTIONS_WITH_PROMISES {
        if !sections.contains(*section) {
            problems.push(format!("section {section} of the policy has no row"));
        }
    }
    problems
}

#[test]
fn every_named_test_exists_and_every_section_has_a_row() {
    let root = workspace_root();
    let table = std::fs::read_to_string(root.join("docs/COMMITMENTS.md")).expect("docs/COMMITMENTS.md");
    let problems = problems(&table, &root);
    assert!(problems.is_empty(), "docs/COMMITMENTS.md is out of date:\n{}", problems.join("\n"));
}

#[test]
fn a_missing_test_is_caught() {
    let root = workspace_root();
    let mut table =
        String::from("| C1 | 1 | p | `m` | `crates/custos/tests/commitments.rs::no_such_test` | partial |\n");
    table.push_str("| C2 | 2.2 | p | `m` | `crates/nowhere.rs::x` | kept |\n");
    table.push_str("| C3 | 2.3 | p | `m` | not yet | kept |\n");
    table.push_str("| C4 | 2.4 | p | `m` | `crates/custos/tests/commitments.rs::a_missing_test_is_caught` | kept |\n");
    let problems = problems(&table, &root);
    assert!(
        problems.contains(&"C1: no test `no_such_test` in crates/custos/tests/commitments.rs".to_owned()),
        "{problems:?}"
    );
    assert!(problems.contains(&"C2: no file crates/nowhere.rs".to_owned()), "{problems:?}");
    assert!(problems.contains(&"C3 names no test but its status is `kept`".to_owned()), "{problems:?}");
    assert!(problems.iter().all(|p| !p.starts_with("C4")), "C4 names a real test: {problems:?}");
    assert!(problems.contains(&"section 11 of the policy has no row".to_owned()), "{problems:?}");
}
