//! `cargo xtask fuzz [target] [--seconds N] [--asan]`: fuzzes the sans-IO
//! core with cargo-fuzz (libFuzzer), installing cargo-fuzz when missing.
//!
//! libFuzzer's instrumentation needs nightly-only rustc flags. Rather than a
//! second toolchain, the installed stable one is told to accept them
//! (`RUSTC_BOOTSTRAP=1`), so this works on any machine with Rust.
//! The sanitizer is off by default: the library denies `unsafe`, so
//! AddressSanitizer would find nothing that the panics and debug assertions
//! (overflow checks are on) do not, at a third of the speed. `--asan` turns
//! it on.
//!
//! Each target starts from its committed seed corpus (`fuzz/corpus/<target>`)
//! and writes what it learns to `target/fuzz-corpus/<target>` (not committed).
//! A crash is saved in `fuzz/artifacts/<target>/` and fails the command;
//! turn it into a named regression test next to the code (see
//! `fuzz/README.md`).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::{output, run, step, Result};

/// Every fuzz target (`fuzz/fuzz_targets/<name>.rs`).
pub const TARGETS: [&str; 7] = [
    "options",
    "error_body",
    "retry_after",
    "operation",
    "batch",
    "json",
    "workbook_path",
];

/// Seconds per target for `cargo xtask fuzz` without `--seconds`.
const DEFAULT_SECONDS: u64 = 60;

/// `cargo xtask fuzz [target] [--seconds N] [--asan]`.
pub fn run_command(args: &[String]) -> Result {
    let mut seconds = DEFAULT_SECONDS;
    let mut targets: Vec<&str> = Vec::new();
    let mut asan = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                let v = it.next().ok_or("--seconds needs a value")?;
                seconds = v
                    .parse()
                    .map_err(|_| format!("--seconds: {v:?} is not a whole number"))?;
            }
            "--asan" => asan = true,
            t if TARGETS.contains(&t) => targets.push(t),
            other => {
                return Err(format!(
                    "unknown fuzz target or flag {other:?}; targets: {}",
                    TARGETS.join(", ")
                ))
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    fuzz(&targets, Budget::Seconds(seconds), asan, false)
}

/// How long each target runs.
#[derive(Clone, Copy)]
enum Budget {
    /// Wall time: exploratory runs (`cargo xtask fuzz`).
    Seconds(u64),
    /// A fixed number of inputs from a fixed seed: the same binary and corpus
    /// then explore exactly the same inputs on every machine, so the run in
    /// `cargo xtask test` passes or fails the same way everywhere.
    Runs(u64),
}

/// Seed of the deterministic runs.
const SMOKE_SEED: u64 = 20261127;

/// The short run of `cargo xtask test`: every target for `runs` inputs from
/// the committed corpus and a fixed seed (10 to 20 s each here).
pub fn smoke(runs: u64) -> Result {
    fuzz(&TARGETS, Budget::Runs(runs), false, true)
}

fn fuzz(targets: &[&str], budget: Budget, asan: bool, fresh: bool) -> Result {
    install()?;
    let sanitizer = if asan { "address" } else { "none" };
    step(&format!(
        "building the fuzz targets (cargo fuzz, sanitizer {sanitizer})"
    ));
    run(cargo_fuzz().args(["build", "--sanitizer", sanitizer]))?;
    let mut rows = Vec::new();
    for &target in targets {
        let (limit, what) = match budget {
            Budget::Seconds(s) => (vec![format!("-max_total_time={s}")], format!("for {s} s")),
            Budget::Runs(n) => (
                vec![format!("-runs={n}"), format!("-seed={SMOKE_SEED}")],
                format!("for {n} inputs, seed {SMOKE_SEED}"),
            ),
        };
        step(&format!("fuzzing {target} {what}"));
        let scratch = Path::new("target/fuzz-corpus").join(target);
        if fresh {
            let _ = std::fs::remove_dir_all(&scratch);
        }
        std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let seeds = Path::new("fuzz/corpus").join(target);
        let started = Instant::now();
        let out = crate::watchdog::capture(
            cargo_fuzz()
                .args(["run", "--sanitizer", sanitizer, target])
                .arg(&scratch)
                .arg(&seeds)
                .arg("--")
                .args(&limit)
                .args(["-print_final_stats=1", "-timeout=10"]),
        )?;
        let log = String::from_utf8_lossy(&out.stderr);
        let stat = |name: &str| {
            log.lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
                .unwrap_or_else(|| "?".into())
        };
        let execs = stat("stat::number_of_executed_units:");
        let per_sec = stat("stat::average_exec_per_sec:");
        let corpus = std::fs::read_dir(&scratch).map(|d| d.count()).unwrap_or(0);
        crate::say(&format!(
            "{target}: {execs} executions ({per_sec}/s) in {:.0} s, corpus {corpus} inputs",
            started.elapsed().as_secs_f64()
        ));
        if !out.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            for l in tail.into_iter().rev() {
                crate::say(&format!("  {l}"));
            }
            let artifact = log
                .lines()
                .find_map(|l| l.split("Test unit written to ").nth(1))
                .unwrap_or("fuzz/artifacts/")
                .to_string();
            return Err(format!(
                "fuzz target {target} failed; input saved in {artifact}. Reproduce with \
                 `RUSTC_BOOTSTRAP=1 cargo fuzz run -s none {target} {artifact}` and add it as a named \
                 regression test next to the code (fuzz/README.md)"
            ));
        }
        rows.push((target, execs, per_sec));
    }
    let each = match budget {
        Budget::Seconds(s) => format!("{s} s"),
        Budget::Runs(n) => format!("{n} inputs"),
    };
    crate::say(&format!("\nfuzzing: {} targets, {each} each, no crash", rows.len()));
    crate::say(&format!("{:<12} {:>14} {:>10}", "target", "executions", "per s"));
    for (t, e, s) in rows {
        crate::say(&format!("{t:<12} {e:>14} {s:>10}"));
    }
    Ok(())
}

/// `cargo fuzz` with the stable toolchain accepting nightly flags.
fn cargo_fuzz() -> Command {
    let mut c = Command::new("cargo");
    c.arg("fuzz").env("RUSTC_BOOTSTRAP", "1");
    c
}

fn install() -> Result {
    // libfuzzer-sys compiles libFuzzer, which is C++.
    if output(Command::new("c++").arg("--version")).is_none() {
        let _apt = crate::setup::APT.lock().unwrap_or_else(|p| p.into_inner());
        step("installing a C++ compiler for libFuzzer (apt-get install g++)");
        run(Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "g++"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    if output(Command::new("cargo").args(["fuzz", "--version"])).is_some() {
        return Ok(());
    }
    step("installing cargo-fuzz (about 2 minutes, once)");
    run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}
