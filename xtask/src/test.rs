//! `cargo xtask test`: every test layer, after setting up what is missing.

use std::process::Command;

use crate::{emulator, setup, step, Result};

pub fn run(_args: &[String]) -> Result {
    setup::all()?;

    step("habits: cargo fmt --check and cargo clippy -D warnings (workspace, wasm32, fuzz crate)");
    habits()?;

    step("native tests: the sans-IO protocol and the emulator over loopback");
    crate::run(Command::new("cargo").args(["test", "--workspace"]))?;
    crate::fuzz::smoke(500_000)?;

    crate::build::package()?;

    // The wasm tests in Chromium and the runtime consumers' pages call the
    // control API and Graph from loopback pages on ports chosen at run time.
    // The emulator holds only the items seeded (others answer 404
    // itemNotFound): the suites' paths live under TEST_WORKBOOKS.
    let emu = emulator::start(
        &[
            &["--operation-delay-ms", "300", "--control-origin", "loopback"][..],
            &emulator::TEST_WORKBOOKS,
            // tests/faults.rs's batch_faults isolates its outer $batch
            // faults by a version segment of its own (/v-batch-…).
            &["--test-version-prefix", "v-batch-"],
            // until the library recreates on a plain 404 (issue 20/21)
            &["--recreatable-404"],
        ]
        .concat(),
    )?;
    let short = emulator::start(
        &[
            &[
                "--persistent-ttl-ms",
                "1500",
                "--non-persistent-ttl-ms",
                "2000",
                "--control-origin",
                "loopback",
                // tests/faults.rs redirects a Chromium fetch here from the
                // other emulator: after a cross-origin redirect the browser
                // sends `Origin: null`, which only this flag answers.
                "--cors-any-origin",
            ][..],
            &emulator::TEST_WORKBOOKS,
            // until the library recreates on a plain 404 (issue 20/21)
            &["--recreatable-404"],
        ]
        .concat(),
    )?;
    println!("emulators at {} and (short TTL) {}", emu.url, short.url);
    for (runtime, env) in [
        ("Node", "WASM_BINDGEN_USE_NODE_EXPERIMENTAL"),
        ("headless Chromium", "WASM_BINDGEN_USE_BROWSER"),
    ] {
        step(&format!("wasm tests in {runtime}, against the emulator"));
        wasm_tests(&emu.url, &short.url, env, &[])?;
    }
    // The Rust API's optional feature: one file, once, in Node.
    step("wasm test of the `serde` feature in Node (tests/serde.rs)");
    wasm_tests(
        &emu.url,
        &short.url,
        "WASM_BINDGEN_USE_NODE_EXPERIMENTAL",
        &["--features", "serde", "--test", "serde"],
    )?;
    // Issue 13's property test: a fixed seed, bounded steps (about 20 s).
    crate::model::run_model(Some(13), 300)?;
    crate::soak::short()?;
    crate::runtimes::run(&emu.url)?;
    crate::e2e::run()?;
    Ok(())
}

fn wasm_tests(emulator_url: &str, short_ttl_url: &str, mode_env: &str, extra: &[&str]) -> Result {
    let mut cmd = Command::new("cargo");
    cmd.args([
        "test",
        "--target",
        "wasm32-unknown-unknown",
        "--no-fail-fast",
        "-p",
        "graph-workbook-session",
    ])
    .args(extra)
    .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
    .env("GRAPH_EMULATOR_URL", emulator_url)
    .env("GRAPH_EMULATOR_SHORT_TTL_URL", short_ttl_url)
    .env("GRAPH_CLOSED_URL", closed_url())
    .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
    .env(mode_env, "1");
    if mode_env == "WASM_BINDGEN_USE_BROWSER" {
        cmd.env("CHROMEDRIVER", "/usr/bin/chromedriver");
    }
    crate::run(&mut cmd)
}

/// A loopback port nobody listens on (bound, then let go): the fault
/// matrix's "connection refused". One per run: it is compiled into the
/// tests, and a new value would rebuild them for the second runtime.
fn closed_url() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| format!("http://{a}"))
            .unwrap_or_else(|_| "http://127.0.0.1:2".into())
    })
}

/// `cargo fmt --check` and `cargo clippy -- -D warnings` over every crate:
/// the workspace natively and for wasm32 (the npm build's configuration
/// too), and the fuzz crate (its own workspace).
fn habits() -> Result {
    crate::run(Command::new("cargo").args(["fmt", "--all", "--check"]))?;
    crate::run(Command::new("cargo").args(["fmt", "--check"]).current_dir("fuzz"))?;
    crate::run(Command::new("cargo").args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    // The library for wasm32: with std and every target (serde too); the
    // refresh-only npm entry (no default features); the whole npm package
    // (`full` without std); and its benchmark builds (`phases`, `alloc-count`).
    for config in [
        &["--all-targets", "--features", "serde"][..],
        &["--no-default-features", "--release"][..],
        &["--no-default-features", "--features", "full", "--release"][..],
        &[
            "--no-default-features",
            "--features",
            "full,phases,alloc-count",
            "--release",
        ][..],
    ] {
        crate::run(
            Command::new("cargo")
                .args([
                    "clippy",
                    "-p",
                    "graph-workbook-session",
                    "--target",
                    "wasm32-unknown-unknown",
                ])
                .args(config)
                .args(["--", "-D", "warnings"]),
        )?;
    }
    crate::run(
        Command::new("cargo")
            .args(["clippy", "--all-targets", "--", "-D", "warnings"])
            .current_dir("fuzz"),
    )
}
