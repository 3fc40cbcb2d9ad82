//! `cargo xtask soak [--minutes N] [--sessions N] [--seed N] [--model-steps N]`:
//! the model-based property test (`xtask/src/model.rs`, 3,000 steps by
//! default, random seed unless --seed) and then the bounded soak. Builds
//! the npm package, starts an emulator whose sessions expire after 30 s
//! idle, and runs `tests/soak/soak.mjs` in Node: N `WorkbookSession`s
//! (default 1,000) kept alive by the package's own
//! keep-alive for N minutes (default 5) under random faults from the
//! control API. Fails when a session is lost that no fault meant to kill.
//! `cargo xtask test` runs a 30 s version ([`short`]).

use std::process::Command;

use crate::{emulator, run, setup, step, Result};

/// `cargo xtask soak ...`.
pub fn run_command(args: &[String]) -> Result {
    let mut minutes: u64 = 5;
    let mut sessions: u64 = 1000;
    let mut seed: Option<String> = None;
    let mut model_steps: u64 = 3000;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--minutes" => minutes = number(a, value()?)?,
            "--sessions" => sessions = number(a, value()?)?,
            "--seed" => seed = Some(value()?.clone()),
            "--model-steps" => model_steps = number(a, value()?)?,
            other => {
                return Err(format!(
                    "unknown soak flag {other:?} (--minutes N, --sessions N, --seed N, --model-steps N)"
                ))
            }
        }
    }
    setup::for_build()?;
    crate::build::package()?;
    // The model-based property test first, longer than in `cargo xtask
    // test` and with a random seed (or --seed), printed on failure.
    let model_seed = match seed.as_deref() {
        Some(s) => Some(number("--seed", s)?),
        None => None,
    };
    crate::model::run_model(model_seed, model_steps)?;
    soak(sessions, minutes * 60, 30_000, seed.as_deref())
}

/// The 30 s soak of `cargo xtask test` (expects `pkg/` built): 1,000
/// sessions, a 10 s idle TTL, so every session must be refreshed through
/// the faults several times.
pub fn short() -> Result {
    soak(1000, 30, 10_000, None)
}

fn number(flag: &str, v: &str) -> Result<u64> {
    v.parse().map_err(|_| format!("{flag}: {v:?} is not a whole number"))
}

fn soak(sessions: u64, seconds: u64, ttl_ms: u64, seed: Option<&str>) -> Result {
    let ttl = ttl_ms.to_string();
    let emu = emulator::start(&[
        "--persistent-ttl-ms",
        &ttl,
        "--non-persistent-ttl-ms",
        &ttl,
        "--operation-delay-ms",
        "300",
        "--workbook-prefix",
        "/me/drive/items/soak-",
    ])?;
    step(&format!(
        "soak: {sessions} sessions kept alive for {seconds} s under random faults (emulator {})",
        emu.url
    ));
    let mut cmd = Command::new("node");
    cmd.args(["tests/soak/soak.mjs", "--emulator", &emu.url, "--ttl-ms", &ttl])
        .args(["--sessions", &sessions.to_string(), "--seconds", &seconds.to_string()]);
    if let Some(s) = seed {
        cmd.args(["--seed", s]);
    }
    run(&mut cmd).map_err(|e| format!("the soak failed (its report is above): {e}"))
}
