//! `cargo xtask bench [emulator | ROW...] [--build] [--quick]`: the package
//! against its anchors (the Graph JS SDK, ky, a hand-written fetch; for
//! row 1 also the floor, `bench/floor/`), eight
//! rows, printed as one table and written to `bench/results.json` (and the
//! table in `bench/README.md`). Figures are ratios measured in the same run;
//! a missed goal is a result, not a failure.
//!
//! * `cargo xtask bench` — all eight rows (about five minutes).
//! * `cargo xtask bench emulator` — row 7 only (the emulator's throughput).
//! * `cargo xtask bench 2 3` — the rows named.
//! * `cargo xtask bench phases` — not a row: where one call's time goes,
//!   phase by phase, from a build with the `phases` feature.
//! * `--build` builds `pkg/` first; otherwise `pkg/` is measured as it is
//!   (built only when missing). `--quick` is a short smoke run, written to
//!   `target/bench/results-quick.json` only.
//!
//! The Node scripts are in `bench/` (their npm packages pinned by
//! `bench/package-lock.json`, installed with `npm ci` when stale). `pkg/` is
//! copied to `target/bench/pkg` first, so a rebuild during the run changes
//! nothing. The emulators are the `fast` (optimized) build.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::{build, emulator, setup, step, Result};

/// The benchmarks' emulator flags: their items (`/me/drive/items/BENCH`,
/// `01ABC`, `KEEP…`) and row 1's Chromium page on a loopback port.
const BENCH_FLAGS: [&str; 4] = ["--workbook-prefix", "/me/drive/items/", "--control-origin", "loopback"];

const DIR: &str = "bench";
const OUT: &str = "target/bench";
const GLUE: &str = "graph_workbook_session.js";
const WASM: &str = "graph_workbook_session_bg.wasm";

/// Row 6: keep-alive interval; the short-TTL emulator gets three of them.
const KEEPALIVE_INTERVAL_MS: u64 = 10_000;
const KEEPALIVE_INTERVAL_MS_QUICK: u64 = 2_000;

pub fn run(args: &[String]) -> Result {
    if args.first().map(String::as_str) == Some("phases") {
        return phases(args.iter().any(|a| a == "--quick"));
    }
    let mut rows: Vec<u32> = Vec::new();
    let (mut quick, mut rebuild) = (false, false);
    for a in args {
        match a.as_str() {
            "emulator" => rows.push(7),
            "--quick" => quick = true,
            "--build" => rebuild = true,
            n => match n.parse::<u32>() {
                Ok(n @ 1..=8) => rows.push(n),
                _ => return Err(format!("bench: unknown argument {a:?} (usage: cargo xtask bench [emulator | 1..8 ...] [--build] [--quick], or cargo xtask bench phases [--quick])")),
            },
        }
    }
    if rows.is_empty() {
        rows = (1..=8).collect();
    }
    rows.sort_unstable();
    rows.dedup();
    // Row 7 measures the emulator alone; every other row, the package.
    let needs_pkg = rows.iter().any(|&r| r != 7);

    if needs_pkg {
        if rebuild || !pkg_present() {
            setup::for_build()?;
            build::package()?;
        }
        npm_ci()?;
    }
    if rows.contains(&5) {
        setup::chromium()?;
    }
    fast_emulator_build()?;

    let out = crate::root().join(OUT);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let snapshot = out.join("pkg");
    if needs_pkg {
        snapshot_pkg(&snapshot)?;
    }

    let interval = if quick {
        KEEPALIVE_INTERVAL_MS_QUICK
    } else {
        KEEPALIVE_INTERVAL_MS
    };
    let ttl = (3 * interval).to_string();
    let emu = if rows.iter().any(|&r| (2..=5).contains(&r) || r == 8) {
        // A fast creation (201 even with `Prefer: respond-async`, as
        // Graph's within seconds): row 4's 10,000 create/close cycles and
        // row 8's session are made in one request each, not a 202 and polls
        // (with the default 2 s operation, row 4 ran for hours).
        Some(emulator::start_fast(
            &[&BENCH_FLAGS[..], &["--operation-delay-ms", "0"]].concat(),
        )?)
    } else {
        None
    };
    let short = if rows.contains(&6) {
        Some(emulator::start_fast(
            &[
                &BENCH_FLAGS[..],
                &["--persistent-ttl-ms", &ttl, "--non-persistent-ttl-ms", &ttl],
                // A fast creation: createSession answers 201 even with
                // `Prefer: respond-async` (ours and the pool send it), as
                // Graph does when the session is made "within seconds"
                // (workbook-best-practice.md), so every contender creates
                // its sessions in one request, as the hand loop does.
                &["--operation-delay-ms", "0"],
            ]
            .concat(),
        )?)
    } else {
        None
    };

    step(&format!(
        "benchmarks: rows {}",
        rows.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
    ));
    // Row 1's floor: the smallest package that can make the call
    // (bench/floor/), built as the package is built. Not ours: when it
    // cannot be built, row 1 goes on without it.
    if rows.contains(&1) {
        if let Err(e) = crate::run(
            Command::new("sh")
                .arg("bench/floor/build.sh")
                .current_dir(crate::root()),
        ) {
            eprintln!("xtask: the floor of row 1 (bench/floor/build.sh) was not built: {e}");
        }
    }
    let list = rows.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let mut cmd = Command::new("node");
    cmd.arg(Path::new(DIR).join("run.mjs"))
        .args(["--rows", &list])
        .env("BENCH_PKG", &snapshot)
        .env("BENCH_OUT", &out)
        .env("BENCH_FLOOR", crate::root().join("target/floor"))
        .env("BENCH_KEEPALIVE_INTERVAL_MS", interval.to_string())
        .env("BENCH_EMULATOR_BENCH", crate::root().join("target/fast/emulator-bench"))
        .env("BENCH_QUICK", if quick { "1" } else { "0" });
    if let Some(e) = &emu {
        cmd.env("BENCH_EMULATOR_URL", &e.url);
    }
    if let Some(e) = &short {
        cmd.env("BENCH_EMULATOR_SHORT_URL", &e.url);
    }
    crate::run(&mut cmd)
}

/// `cargo xtask bench phases`: where one call's time goes, phase by phase
/// (`bench/phases.mjs`), from a build with the `phases` feature made into
/// `target/bench/phases` (pkg/ is left as it is).
fn phases(quick: bool) -> Result {
    setup::for_build()?;
    let dir = crate::root().join(OUT).join("phases");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    step("building the package with --features full,phases into target/bench/phases");
    build::variant(&["--no-default-features", "--features", "full,phases"], &dir)?;
    // The glue imports the shared GraphError module from `../`, an ES module.
    build::write_graph_error(&crate::root().join(OUT).join(build::GRAPH_ERROR))?;
    std::fs::write(
        crate::root().join(OUT).join("package.json"),
        "{ \"type\": \"module\" }\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(dir.join("package.json"), "{ \"type\": \"module\" }\n").map_err(|e| e.to_string())?;
    npm_ci()?;
    fast_emulator_build()?;
    let emu = emulator::start_fast(&BENCH_FLAGS)?;
    step("where a call's time goes (bench/phases.mjs)");
    crate::run(
        Command::new("node")
            .arg(Path::new(DIR).join("phases.mjs"))
            .env("BENCH_PKG", &dir)
            .env("BENCH_EMULATOR_URL", &emu.url)
            .env("BENCH_QUICK", if quick { "1" } else { "0" }),
    )
}

/// The emulator and `emulator-bench`, built with the optimized `fast` profile.
fn fast_emulator_build() -> Result {
    step("building the emulator and emulator-bench (profile fast)");
    crate::run(Command::new("cargo").args([
        "build",
        "--quiet",
        "--profile",
        "fast",
        "-p",
        "graph-workbook-emulator",
        "--bins",
    ]))
}

fn pkg_present() -> bool {
    build::pkg_file(GLUE).is_file() && build::pkg_file(WASM).is_file()
}

/// Copies the glue and the wasm out of `pkg/`, which someone may be
/// rebuilding: waits for both files to be there and unchanged across the copy.
fn snapshot_pkg(to: &Path) -> Result {
    let stamp = |p: &PathBuf| std::fs::metadata(p).and_then(|m| Ok((m.len(), m.modified()?))).ok();
    // Row 1 weighs the refresh-only entry too (row 1b). Both glues import
    // the one GraphError class from graph-error.js (xtask/src/build.rs).
    // Row 5 loads the browser entry in Chromium.
    let names = [
        GLUE.to_string(),
        WASM.to_string(),
        "graph-error.js".to_string(),
        "index.js".to_string(),
        // Row 6's SessionPool (graph-workbook-session/pool).
        "pool.js".to_string(),
        format!("{}/{GLUE}", build::REFRESH),
        format!("{}/{WASM}", build::REFRESH),
    ];
    let files: Vec<PathBuf> = names.iter().map(|n| build::pkg_file(n)).collect();
    for _ in 0..60 {
        let before: Vec<Option<(u64, SystemTime)>> = files.iter().map(stamp).collect();
        let settled = before
            .iter()
            .all(|s| s.is_some_and(|(_, t)| t.elapsed().unwrap_or_default() > Duration::from_secs(1)));
        if settled {
            let _ = std::fs::remove_dir_all(to);
            std::fs::create_dir_all(to.join(build::REFRESH)).map_err(|e| format!("{}: {e}", to.display()))?;
            let copied = files
                .iter()
                .zip(&names)
                .all(|(f, n)| std::fs::copy(f, to.join(n)).is_ok());
            let after: Vec<Option<(u64, SystemTime)>> = files.iter().map(stamp).collect();
            if copied && before == after {
                // The glue is an ES module; Node needs to be told. source.json:
                // when the measured wasm was built.
                let built = before[1]
                    .and_then(|(_, t)| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_millis());
                std::fs::write(to.join("package.json"), "{ \"type\": \"module\" }\n").map_err(|e| e.to_string())?;
                return std::fs::write(to.join("source.json"), format!("{{ \"wasmModifiedMs\": {built} }}\n"))
                    .map_err(|e| e.to_string());
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    Err("pkg/ kept changing (or is incomplete) for a minute: cannot take a snapshot to measure".into())
}

/// `npm ci` in bench/ when its packages are missing or older than the lockfile.
fn npm_ci() -> Result {
    let packages = [
        "esbuild/package.json",
        "ky/package.json",
        "playwright-core/package.json",
        "@microsoft/microsoft-graph-client/package.json",
    ];
    crate::setup::npm_ci(DIR, &packages, "the benchmarks' npm packages")
}
