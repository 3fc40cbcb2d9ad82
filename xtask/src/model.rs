//! The model-based property test of issue 13 (`tests/model/model.test.mjs`):
//! random sequences of calls over several `WorkbookSession`s of the built
//! package, with random faults, invariants checked after every step. Needs
//! `pkg/` built. `cargo xtask test` runs a fixed seed for a bounded number of
//! steps; `cargo xtask soak` runs more steps with a random seed.

use std::process::Command;

use crate::{emulator, run, step, Result};

/// Idle lifetime of the emulator's sessions: short, so that keep-alive's
/// schedule and expiry are exercised within a run.
const TTL_MS: &str = "3000";

/// One run: `seed` (random when `None`; the test prints it on failure).
pub fn run_model(seed: Option<u64>, steps: u64) -> Result {
    let emu = emulator::start(&[
        "--persistent-ttl-ms",
        TTL_MS,
        "--non-persistent-ttl-ms",
        TTL_MS,
        "--workbook-prefix",
        "/me/drive/items/",
    ])?;
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64 % 1_000_000)
            .unwrap_or(1)
    });
    step(&format!(
        "model test: seed {seed}, {steps} steps over 4 sessions under random faults (emulator {})",
        emu.url
    ));
    let mut cmd = Command::new("node");
    cmd.args(["--expose-gc", "tests/model/model.test.mjs", "--emulator", &emu.url])
        .args([
            "--seed",
            &seed.to_string(),
            "--steps",
            &steps.to_string(),
            "--ttl-ms",
            TTL_MS,
        ]);
    run(&mut cmd).map_err(|e| format!("the model test failed with --seed {seed} (its report is above): {e}"))
}
