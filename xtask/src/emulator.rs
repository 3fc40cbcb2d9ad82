//! Starting the Graph emulator for tests and the demo: on a free loopback
//! port, its URL read from the first line it prints.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::{run, step, Result};

/// The items the test suites address (wasm tests, runtimes, model, bench):
/// the emulator holds only seeded items, and these prefixes cover every
/// workbook path the suites make (`/me/drive/items/{test}-{random}`, the
/// runtimes' `/drives/…`, `/sites/…` and `/me/drive/root:/…` forms).
pub const TEST_WORKBOOKS: [&str; 8] = [
    "--workbook-prefix",
    "/me/drive/items/",
    "--workbook-prefix",
    "/me/drive/root:/",
    "--workbook-prefix",
    "/drives/",
    "--workbook-prefix",
    "/sites/",
];

/// A running emulator, stopped on drop.
pub struct Emulator {
    child: Child,
    pub url: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn build() -> Result {
    run(Command::new("cargo").args([
        "build",
        "--quiet",
        "-p",
        "graph-workbook-emulator",
        "--bin",
        "workbook-emulator",
    ]))
}

/// Builds and starts `workbook-emulator --listen 127.0.0.1:0 {flags}`.
pub fn start(flags: &[&str]) -> Result<Emulator> {
    build()?;
    spawn("target/debug/workbook-emulator", flags)
}

/// The emulator of the `fast` profile (optimized, for benchmarks), built by
/// the caller (`cargo build --profile fast -p graph-workbook-emulator --bins`).
pub fn start_fast(flags: &[&str]) -> Result<Emulator> {
    spawn("target/fast/workbook-emulator", flags)
}

fn spawn(binary: &str, flags: &[&str]) -> Result<Emulator> {
    let mut child = Command::new(binary)
        .args(["--listen", "127.0.0.1:0"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no emulator stdout")?;
    let mut reader = BufReader::new(stdout);
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first emulator line: {line:?}"))?
        .to_string();
    // Keep draining its stdout so it never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
            sink.clear();
        }
    });
    Ok(Emulator { child, url })
}

/// `cargo xtask emulator [flags]`: the emulator in the foreground.
pub fn foreground(flags: &[String]) -> Result {
    build()?;
    step("starting the Graph emulator (Ctrl-C stops it)");
    run(Command::new("target/debug/workbook-emulator").args(flags))
}
