//! Running the real `custos` binary in a directory of the test's, with no inherited
//! `CUSTOS_*` settings.
#![allow(dead_code, unreachable_pub)]

pub mod load;

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `custos ARGS` in `dir`, with a clean environment (only `PATH`).
pub fn custos(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_custos"));
    command.args(args).current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// Runs `command` to completion with no standard input.
pub fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("run custos")
}

/// `custos ARGS` in `dir`, run to completion.
pub fn custos_output(dir: &Path, args: &[&str]) -> Output {
    run(&mut custos(dir, args))
}
