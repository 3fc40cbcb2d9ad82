//! `cargo xtask <command>`: the project's build, test and demo commands.
//!
//! * `test [LAYER...] [--repeat N] [--list]` — sets up what the layers need
//!   (wasm32 target, wasm-bindgen-cli equal to Cargo.lock's wasm-bindgen, npm
//!   tools, Chromium, `pkg/`, the emulators) and runs every layer, or the
//!   named ones, each under a watchdog (`watchdog.rs`); prints each layer's
//!   duration at the end.
//! * `build` — builds the npm package in `pkg/` and prints its size.
//! * `bench [emulator | ROW...] [--build] [--quick]` — the benchmarks against
//!   the anchors (bench/README.md).
//! * `emulator [flags]` — runs the Graph emulator in the foreground.
//! * `demo` — builds, starts the emulator and serves the demo page (`www/`).
//! * `fuzz [target] [--seconds N]` — fuzzes the core (cargo-fuzz, fuzz/README.md).
//! * `soak [--minutes N] [--sessions N]` — 1,000 sessions kept alive under random faults.
//! * `setup [wasm-bindgen-cli [--root DIR]]` — installs what is missing; with
//!   `wasm-bindgen-cli`, (re)installs that tool, `--locked` to
//!   `xtask/wasm-bindgen-cli.lock`, into DIR (default ~/.cargo/bin).

mod bench;
mod build;
mod demo;
mod disk;
mod e2e;
mod emulator;
mod fuzz;
mod layers;
mod model;
mod runtimes;
mod setup;
mod soak;
mod test;
mod watchdog;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

pub type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    if let Err(e) = std::env::set_current_dir(&root) {
        eprintln!("xtask: cannot enter {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("build") => setup::for_build().and_then(|_| build::package().map(|_| ())),
        Some("emulator") => emulator::foreground(&args[1..]),
        Some("demo") => demo::run(),
        Some("setup") => match args.get(1).map(String::as_str) {
            None => setup::all(),
            Some("wasm-bindgen-cli") => setup::wasm_bindgen_cli_command(&args[2..]),
            Some(other) => Err(format!(
                "unknown setup step {other:?} (cargo xtask setup [wasm-bindgen-cli [--root DIR]])"
            )),
        },
        Some("fuzz") => fuzz::run_command(&args[1..]),
        Some("soak") => soak::run_command(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <test|build|bench|demo|emulator|setup|fuzz|soak>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask's parent directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Prints a step heading, so long runs show where they are (held with the
/// layer's output when the layer runs beside others: [`watchdog::say`]).
pub fn step(what: &str) {
    watchdog::say(&format!("\n==> {what}"));
}

pub use watchdog::say;

/// Runs a command to completion; a non-zero exit is an error naming it.
/// Inside a layer of `cargo xtask test`, under that layer's watchdog.
pub fn run(cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}");
    let status = match watchdog::run(cmd) {
        Some(status) => status?,
        None => cmd.status().map_err(|e| format!("cannot start {shown}: {e}"))?,
    };
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// Runs a command and returns its stdout, or `None` if it failed.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
