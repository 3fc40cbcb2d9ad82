//! The runtime tests: the packed npm package, installed into throwaway
//! consumer projects under `target/runtimes/`, run in Node (ESM and CJS),
//! Deno, Bun, Cloudflare workerd (Miniflare), a Vite build in headless
//! Chromium and `tsc --strict`, plus the examples in `examples/`. The tools
//! are pinned in `tests/runtimes/package-lock.json`; the tests are
//! `tests/runtimes/test/*.test.mjs` (node:test). Expects `pkg/` to be built.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{step, Result};

const DIR: &str = "tests/runtimes";
const WORK: &str = "target/runtimes";

/// Runs every test file, or only `files` (`browser` for
/// `test/browser.test.mjs` ...).
pub fn run(emulator_url: &str, files: &[String]) -> Result {
    npm_ci()?;
    let tarball = pack()?;
    step("runtime tests: Node, Deno, Bun, workerd (Miniflare), Vite + Chromium, tsc; the examples");
    let mut tests: Vec<PathBuf> = if files.is_empty() {
        std::fs::read_dir(Path::new(DIR).join("test"))
            .map_err(|e| format!("{DIR}/test: {e}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
            .collect()
    } else {
        files
            .iter()
            .map(|f| test_file(f).ok_or_else(|| format!("no {DIR}/test/{f}.test.mjs")))
            .collect::<Result<_>>()?
    };
    tests.sort();
    let files: Vec<String> = tests
        .iter()
        .map(|p| p.strip_prefix(DIR).unwrap_or(p).to_string_lossy().into_owned())
        .collect();
    crate::run(
        node_test()
            .args(&files)
            .current_dir(DIR)
            .env("GRAPH_EMULATOR_URL", emulator_url)
            .env("GWS_TARBALL", &tarball),
    )
    .map_err(|e| format!("runtime tests failed: {e} (consumer projects in {WORK}/)"))
}

/// `node --test`, one file at a time, as the runtime and e2e tests run.
/// Every test names its own timeout; `--test-timeout` bounds any that would
/// not, and `--test-force-exit` ends a file's process once its tests are
/// done, whatever handle a test left open.
pub fn node_test() -> Command {
    let mut node = Command::new("node");
    node.args([
        "--test",
        "--test-concurrency=1",
        "--test-reporter=spec",
        "--test-timeout=600000",
        "--test-force-exit",
    ]);
    node
}

/// `tests/runtimes/test/{name}.test.mjs`, when it exists.
pub fn test_file(name: &str) -> Option<PathBuf> {
    let p = Path::new(DIR).join("test").join(format!("{name}.test.mjs"));
    (!name.contains(['/', '\\']) && p.is_file()).then_some(p)
}

/// Install scripts run (bun, deno, workerd and esbuild fetch their binaries
/// from the npm registry in postinstall; `allowScripts` approves them).
pub fn npm_ci() -> Result {
    let tools = [
        ".bin/bun",
        ".bin/deno",
        ".bin/miniflare",
        ".bin/tsc",
        ".bin/vite",
        ".bin/wrangler",
        ".bin/attw",
        ".bin/vitest",
        "@microsoft/microsoft-graph-client/package.json",
        "@microsoft/kiota-http-fetchlibrary/package.json",
    ];
    crate::setup::npm_ci(DIR, &tools, "the runtime tests' npm packages")
}

/// `npm pack pkg/` into target/runtimes/; returns the tarball's absolute path.
fn pack() -> Result<PathBuf> {
    let work = crate::root().join(WORK);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let done = crate::watchdog::capture(
        Command::new("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(&work)
            .arg(crate::root().join("pkg")),
    )?;
    if !done.status.success() {
        return Err(format!(
            "npm pack pkg/ failed ({}): {}",
            done.status,
            String::from_utf8_lossy(&done.stderr)
        ));
    }
    let out = String::from_utf8_lossy(&done.stdout);
    let name = out
        .lines()
        .rev()
        .find(|l| l.trim_end().ends_with(".tgz"))
        .ok_or_else(|| format!("npm pack printed no tarball name: {out}"))?;
    let tarball = work.join(name.trim());
    crate::say(&format!("packed {}", tarball.display()));
    Ok(tarball)
}
