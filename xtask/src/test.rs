//! `cargo xtask test [LAYER...] [--repeat N] [--list]`: every test layer
//! (or the named ones), after setting up what they need, each under the
//! watchdog ([`crate::watchdog`]); a table of each layer's duration at the
//! end, also when one fails.

use std::process::Command;
use std::time::Duration;

use crate::watchdog::{self, watch};
use crate::{emulator, setup, Result};

/// What a layer needs before it runs.
#[derive(Clone, Copy, PartialEq)]
enum Need {
    /// Nothing past cargo.
    Cargo,
    /// The wasm32 target (clippy for wasm32).
    WasmTarget,
    /// wasm-bindgen-test-runner, the emulators; Chromium when `browser`.
    WasmTests { browser: bool },
    /// The npm package in `pkg/` (and, for `runtimes`, the emulator;
    /// Chromium for the browser tests and e2e).
    Package { emulator: bool, browser: bool },
    /// Nothing at all (the watchdog's self-test).
    Nothing,
}

struct Layer {
    name: &'static str,
    about: &'static str,
    /// Its usual time on the project's two-core machine, for `--list`.
    usual: &'static str,
    /// Its bound: a few times the usual time of a cold run.
    bound: Duration,
    /// Run by a bare `cargo xtask test`.
    default: bool,
    need: Need,
}

const fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

const LAYERS: [Layer; 11] = [
    Layer {
        name: "habits",
        about: "cargo fmt --check and cargo clippy -D warnings (workspace, wasm32 builds, fuzz crate)",
        usual: "1-6 min",
        bound: minutes(30),
        default: true,
        need: Need::WasmTarget,
    },
    Layer {
        name: "native",
        about: "cargo test --workspace: the sans-IO protocol and the emulator over loopback",
        usual: "1-5 min",
        bound: minutes(30),
        default: true,
        need: Need::Cargo,
    },
    Layer {
        name: "fuzz",
        about: "every fuzz target for 500,000 inputs from a fixed seed",
        usual: "3-8 min",
        bound: minutes(30),
        default: true,
        need: Need::Cargo,
    },
    Layer {
        name: "wasm-node",
        about: "the wasm tests in Node, against the emulator",
        usual: "1-4 min",
        bound: minutes(20),
        default: true,
        need: Need::WasmTests { browser: false },
    },
    Layer {
        name: "wasm-chromium",
        about: "the wasm tests in headless Chromium, against the emulator",
        usual: "1-4 min",
        bound: minutes(20),
        default: true,
        need: Need::WasmTests { browser: true },
    },
    Layer {
        name: "serde",
        about: "the Rust API's `serde` feature in Node (tests/serde.rs)",
        usual: "0.5-2 min",
        bound: minutes(10),
        default: true,
        need: Need::WasmTests { browser: false },
    },
    Layer {
        name: "model",
        about: "the model-based property test (seed 13, 300 steps)",
        usual: "20-40 s",
        bound: minutes(5),
        default: true,
        need: Need::Package {
            emulator: false,
            browser: false,
        },
    },
    Layer {
        name: "soak",
        about: "1,000 sessions kept alive for 30 s under random faults",
        usual: "40-60 s",
        bound: minutes(5),
        default: true,
        need: Need::Package {
            emulator: false,
            browser: false,
        },
    },
    Layer {
        name: "runtimes",
        about: "the packed package in Node, Deno, Bun, workerd, Vite/webpack + Chromium, tsc, the README \
                (runtimes:FILE[,FILE] runs tests/runtimes/test/FILE.test.mjs only, e.g. runtimes:browser)",
        usual: "3-8 min",
        bound: minutes(30),
        default: true,
        need: Need::Package {
            emulator: true,
            browser: true,
        },
    },
    Layer {
        name: "e2e",
        about: "the demo page driven by Playwright in headless Chromium",
        usual: "1-2 min",
        bound: minutes(15),
        default: true,
        need: Need::Package {
            emulator: false,
            browser: true,
        },
    },
    Layer {
        name: "watchdog-selftest",
        about: "not in the default run: a node:test test that hangs on purpose (a server waiting on a client \
                that never lets go, as in issue 19), to see the watchdog kill it and fail the layer by name",
        usual: "its bound, 20 s",
        bound: Duration::from_secs(20),
        default: false,
        need: Need::Nothing,
    },
];

/// One layer to run: its row in [`LAYERS`] and, for `runtimes`, the test
/// files chosen (none: all).
struct Chosen {
    layer: &'static Layer,
    files: Vec<String>,
}

impl Chosen {
    fn label(&self) -> String {
        if self.files.is_empty() {
            self.layer.name.to_string()
        } else {
            format!("{}:{}", self.layer.name, self.files.join(","))
        }
    }
}

pub fn run(args: &[String]) -> Result {
    let mut chosen = Vec::new();
    let mut repeat: u32 = 1;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--list" => {
                list();
                return Ok(());
            }
            "--repeat" => {
                let v = it.next().ok_or("--repeat needs a number")?;
                repeat = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--repeat: {v:?} is not a positive whole number"))?;
            }
            name => chosen.push(choose(name)?),
        }
    }
    if chosen.is_empty() {
        chosen = LAYERS
            .iter()
            .filter(|l| l.default)
            .map(|layer| Chosen {
                layer,
                files: Vec::new(),
            })
            .collect();
    }
    let result = run_chosen(&chosen, repeat);
    watchdog::table();
    result
}

fn choose(arg: &str) -> Result<Chosen> {
    let (name, files) = match arg.split_once(':') {
        Some((name, files)) => (name, files.split(',').map(str::to_string).collect::<Vec<_>>()),
        None => (arg, Vec::new()),
    };
    let layer = LAYERS
        .iter()
        .find(|l| l.name == name)
        .ok_or_else(|| format!("no layer {name:?}; `cargo xtask test --list` names them"))?;
    if !files.is_empty() {
        if layer.name != "runtimes" {
            return Err(format!(
                "{arg:?}: only the runtimes layer takes test files (runtimes:browser,node)"
            ));
        }
        for f in &files {
            if crate::runtimes::test_file(f).is_none() {
                return Err(format!("{arg:?}: no tests/runtimes/test/{f}.test.mjs"));
            }
        }
    }
    Ok(Chosen { layer, files })
}

fn list() {
    println!("cargo xtask test [LAYER...] [--repeat N]: the layers, in the order they run");
    println!("(bounds scale with XTASK_LAYER_TIMEOUT_SCALE; XTASK_TIMEOUT_<LAYER>=SECONDS sets one)\n");
    for l in &LAYERS {
        let bound = watchdog::bound(l.name, l.bound).unwrap_or(l.bound);
        let default = if l.default { "" } else { " [not run by default]" };
        println!(
            "  {:<18} usual {:<16} bound {:>5.0} s{default}\n  {:<18} {}",
            l.name,
            l.usual,
            bound.as_secs_f64(),
            "",
            l.about
        );
    }
}

/// The emulators the wasm tests and the runtime tests talk to.
struct Emulators {
    main: emulator::Emulator,
    short: emulator::Emulator,
}

fn run_chosen(chosen: &[Chosen], repeat: u32) -> Result {
    let needs: Vec<Need> = chosen.iter().map(need).collect();
    let browser = needs.iter().any(|n| {
        matches!(
            n,
            Need::WasmTests { browser: true } | Need::Package { browser: true, .. }
        )
    });
    let wasm = needs.iter().any(|n| !matches!(n, Need::Cargo | Need::Nothing));
    let package = needs.iter().any(|n| matches!(n, Need::Package { .. }));
    let emulators = needs
        .iter()
        .any(|n| matches!(n, Need::WasmTests { .. } | Need::Package { emulator: true, .. }));

    let mut emus = None;
    if wasm || browser || emulators {
        watch("setup", watchdog::bound("setup", minutes(30))?, || {
            if needs.iter().all(|n| *n == Need::WasmTarget) {
                setup::wasm_target()
            } else {
                setup::for_build()?;
                if browser {
                    setup::chromium()?;
                }
                if emulators {
                    emus = Some(start_emulators()?);
                }
                Ok(())
            }
        })?;
    }
    if package {
        watch("package", watchdog::bound("package", minutes(20))?, || {
            crate::build::package().map(|_| ())
        })?;
    }
    for round in 1..=repeat {
        for c in chosen {
            let label = if repeat > 1 {
                format!("{} #{round}", c.label())
            } else {
                c.label()
            };
            let bound = watchdog::bound(c.layer.name, c.layer.bound)?;
            crate::step(&format!(
                "{label}: {} (bound {:.0} s)",
                c.layer.about,
                bound.as_secs_f64()
            ));
            watch(&label, bound, || layer(c, emus.as_ref()))?;
        }
    }
    Ok(())
}

/// What `c` needs: the browser tests only when the runtimes files chosen
/// include them.
fn need(c: &Chosen) -> Need {
    match c.layer.need {
        Need::Package { emulator, .. } if c.layer.name == "runtimes" && !c.files.is_empty() => Need::Package {
            emulator,
            browser: c.files.iter().any(|f| f == "browser"),
        },
        n => n,
    }
}

fn start_emulators() -> Result<Emulators> {
    // The wasm tests in Chromium and the runtime consumers' pages call the
    // control API and Graph from loopback pages on ports chosen at run time.
    // The emulator holds only the items seeded (others answer 404
    // itemNotFound): the suites' paths live under TEST_WORKBOOKS. An expired
    // session answers a plain 404, as Graph's does (resources/excel.md).
    let main = emulator::start(
        &[
            &["--operation-delay-ms", "300", "--control-origin", "loopback"][..],
            &emulator::TEST_WORKBOOKS,
            // tests/faults.rs's batch_faults isolates its outer $batch
            // faults by a version segment of its own (/v-batch-…).
            &["--test-version-prefix", "v-batch-"],
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
        ]
        .concat(),
    )?;
    println!("emulators at {} and (short TTL) {}", main.url, short.url);
    Ok(Emulators { main, short })
}

fn layer(c: &Chosen, emus: Option<&Emulators>) -> Result {
    let emus = || emus.ok_or_else(|| format!("layer {} needs the emulators, which were not started", c.layer.name));
    match c.layer.name {
        "habits" => habits(),
        "native" => {
            crate::run(Command::new("cargo").args(["test", "--workspace"]))?;
            Ok(())
        }
        "fuzz" => crate::fuzz::smoke(500_000),
        "wasm-node" => wasm_tests(emus()?, "WASM_BINDGEN_USE_NODE_EXPERIMENTAL", &[]),
        "wasm-chromium" => wasm_tests(emus()?, "WASM_BINDGEN_USE_BROWSER", &[]),
        // The Rust API's optional feature: one file, once, in Node.
        "serde" => wasm_tests(
            emus()?,
            "WASM_BINDGEN_USE_NODE_EXPERIMENTAL",
            &["--features", "serde", "--test", "serde"],
        ),
        // Issue 13's property test: a fixed seed, bounded steps (about 20 s).
        "model" => crate::model::run_model(Some(13), 300),
        "soak" => crate::soak::short(),
        "runtimes" => crate::runtimes::run(&emus()?.main.url, &c.files),
        "e2e" => crate::e2e::run(),
        "watchdog-selftest" => selftest(),
        other => Err(format!("layer {other} has no runner")),
    }
}

fn wasm_tests(emus: &Emulators, mode_env: &str, extra: &[&str]) -> Result {
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
    .env("GRAPH_EMULATOR_URL", &emus.main.url)
    .env("GRAPH_EMULATOR_SHORT_TTL_URL", &emus.short.url)
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
    // The emulator without its socket server, as the ./testing entry's wasm.
    crate::run(Command::new("cargo").args([
        "clippy",
        "-p",
        "graph-workbook-emulator-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--release",
        "--",
        "-D",
        "warnings",
    ]))?;
    crate::run(
        Command::new("cargo")
            .args(["clippy", "--all-targets", "--", "-D", "warnings"])
            .current_dir("fuzz"),
    )
}

/// The hang of issue 19 on purpose (`xtask/selftest/hang.test.mjs`, under
/// `node --test` as the runtime tests run): the watchdog must kill it at
/// the layer's bound and fail the layer by name. Afterwards, checks that the
/// test's processes (the node:test runner, the leader of the layer's process
/// group; the test file's process; and a `sleep` it started in a process
/// group of its own) are gone, and says so.
fn selftest() -> Result {
    let pids = crate::root().join(watchdog::LOG_DIR).join("watchdog-selftest.pids");
    let _ = std::fs::remove_file(&pids);
    let result = crate::run(
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "xtask/selftest/hang.test.mjs"])
            .env("XTASK_SELFTEST_PIDS", &pids),
    );
    let listed = std::fs::read_to_string(&pids).unwrap_or_default();
    let group: Option<u32> = listed.split_whitespace().next().and_then(|p| p.parse().ok());
    let alive = || -> Vec<&str> {
        listed
            .split_whitespace()
            .filter(|p| p.parse().is_ok_and(watchdog::running))
            .collect()
    };
    // A killed process takes a moment to go.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while (!alive().is_empty() || group.is_some_and(watchdog::group_alive)) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let alive = alive();
    match result {
        Ok(()) => Err("watchdog self-test: the hanging test finished; it must hang".into()),
        Err(e) if e.starts_with("watchdog:") => {
            if listed.is_empty() {
                return Err(format!(
                    "{e}\nwatchdog self-test: the test never wrote its pids to {}",
                    pids.display()
                ));
            }
            if !alive.is_empty() || group.is_some_and(watchdog::group_alive) {
                return Err(format!(
                    "{e}\nwatchdog self-test: processes {alive:?} (or group {group:?}) outlived the kill"
                ));
            }
            println!(
                "watchdog self-test: the test's processes (runner, test file, detached sleep: {}) and process \
                 group {} are all gone",
                listed.trim(),
                group.unwrap_or(0)
            );
            Err(e)
        }
        Err(e) => Err(format!(
            "watchdog self-test: the layer failed, but not by the watchdog: {e}"
        )),
    }
}
