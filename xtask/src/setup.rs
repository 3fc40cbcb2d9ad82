//! Installs what a fresh machine lacks. Each step checks first, so a set-up
//! machine pays only for the checks.

use std::path::Path;
use std::process::Command;

use crate::{output, run, step, Result};

/// Everything the tests need.
pub fn all() -> Result {
    for_build()?;
    chromium()
}

/// What `cargo xtask build` needs: the wasm target, wasm-bindgen-cli and the
/// npm tools (binaryen's wasm-opt).
pub fn for_build() -> Result {
    wasm_target()?;
    wasm_bindgen_cli()?;
    npm_tools()
}

fn wasm_target() -> Result {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    step("installing the wasm32-unknown-unknown target");
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The `wasm-bindgen` version pinned in Cargo.lock: the CLI must match it.
pub fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock").map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn wasm_bindgen_cli() -> Result {
    let want = locked_wasm_bindgen()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    let runner = output(Command::new("wasm-bindgen-test-runner").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) && runner.contains(&want) {
        return Ok(());
    }
    step(&format!("installing wasm-bindgen-cli {want} (about 3 minutes, once)"));
    // Not --locked: one of its locked dependencies is gone from the registry.
    run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &want, "--force"]))
}

fn npm_tools() -> Result {
    npm_ci(".", &[".bin/wasm-opt", ".bin/esbuild"], "npm tools")
}

/// `npm ci` in `dir` unless its node_modules is as new as the lockfile and
/// holds every path of `expect` (relative to node_modules). `what` names the
/// packages in the progress line.
pub fn npm_ci(dir: &str, expect: &[&str], what: &str) -> Result {
    let dir = Path::new(dir);
    let modules = dir.join("node_modules");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (
        modified(&dir.join("package-lock.json")),
        modified(&modules.join(".package-lock.json")),
    ) {
        (Some(lock), Some(done)) => done >= lock,
        _ => false,
    };
    if fresh && expect.iter().all(|p| modules.join(p).exists()) {
        return Ok(());
    }
    step(&format!("installing {what} (npm ci in {})", dir.display()));
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir))
}

/// Debian's Chromium and chromedriver, for the browser tests.
pub fn chromium() -> Result {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    step("installing chromium and chromium-driver (apt-get)");
    run(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("apt-get")
        .args([
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
