//! `cargo xtask test [LAYER...] [--repeat N] [--serial] [--list]`: every
//! test layer (or the named ones), after setting up what they need, each
//! under the watchdog ([`crate::watchdog`]), in lanes side by side
//! ([`lane_of`]; `--serial`: one layer at a time); a table of when each layer
//! started and how long it took at the end, also when one fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::watchdog::{self, watch, watch_as};
use crate::{disk, emulator, setup, Result};

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
        about: "the model-based property test (seeds 13 and 1, 300 steps each)",
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
    let mut serial = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--list" => {
                list();
                return Ok(());
            }
            "--serial" => serial = true,
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
    // Before any thread starts: it sets TMPDIR for every tool the layers run.
    let _tmp = disk::TempDir::enter()?;
    // On CI every build is cold: cargo's incremental state (400-600 MB)
    // would only be written, never read, and a cold build without it is
    // faster (CONTRIBUTING.md, "The disk a run needs").
    if std::env::var_os("CI").is_some() && std::env::var_os("CARGO_INCREMENTAL").is_none() {
        std::env::set_var("CARGO_INCREMENTAL", "0");
    }
    disk::check_room();
    let result = run_chosen(&chosen, repeat, serial);
    if result.is_err() {
        disk::after_failure();
    }
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
    println!("cargo xtask test [LAYER...] [--repeat N] [--serial]: the layers, each lane's in the order it runs");
    println!("them, the lanes side by side (--serial: one layer at a time, in this order)");
    println!("(bounds scale with XTASK_LAYER_TIMEOUT_SCALE; XTASK_TIMEOUT_<LAYER>=SECONDS sets one)\n");
    for l in &LAYERS {
        let bound = watchdog::bound(l.name, l.bound).unwrap_or(l.bound);
        let default = if l.default { "" } else { " [not run by default]" };
        let lane = ["Rust", "Node", "Chromium", "set-up", "package", "fuzz"][lane_of(l.name)];
        println!(
            "  {:<18} usual {:<16} bound {:>5.0} s, {lane} lane{default}\n  {:<18} {}",
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

/// Where a layer runs when lanes run side by side (the default): each lane
/// runs its layers in order, the lanes at once. The Rust lane is CPU bound
/// (compiles, clippy, fuzzing); the wasm tests, the model test, the soak and
/// e2e spend most of their time waiting on the emulators' delays, TTLs and
/// timeouts, so they fill the cores the Rust lane leaves idle. Each wasm
/// runtime has a lane and emulators of its own (its tests count the
/// emulator's requests and sessions, so two runs must never share one); the
/// runtime tests, the model test, the soak and e2e start their own.
fn lane_of(name: &str) -> usize {
    match name {
        "wasm-node" | "serde" | "model" | "soak" => 1,
        "wasm-chromium" | "e2e" => 2,
        "runtimes" => 3,
        // Its own workspace and target directory (fuzz/): it never waits
        // for cargo's lock on target/.
        "fuzz" => 5,
        // habits, native, the watchdog's self-test.
        _ => 0,
    }
}

/// A step of a lane: a set-up step, or a layer.
enum Step<'a> {
    /// wasm-bindgen-cli, the npm tools, Chromium, the test projects' npm
    /// packages.
    Tools(setup::ForTests),
    /// `pkg/`: its cargo builds at once, the rest once the tools are in.
    Package,
    Layer {
        chosen: &'a Chosen,
        label: String,
    },
}

/// A set-up step other lanes wait on: opened once, with whether it
/// succeeded.
#[derive(Default)]
struct Gate {
    state: Mutex<Option<bool>>,
    opened: Condvar,
}

impl Gate {
    fn open(&self, ok: bool) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.is_none() {
            *s = Some(ok);
            self.opened.notify_all();
        }
    }

    fn wait(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(ok) = *s {
                return ok;
            }
            s = self.opened.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// What the lanes share: the set-up gates, and whether a layer failed (the
/// other lanes then start nothing more).
#[derive(Default)]
struct Shared {
    tools: Gate,
    package: Gate,
    failed: AtomicBool,
}

fn run_chosen(chosen: &[Chosen], repeat: u32, serial: bool) -> Result {
    let needs: Vec<Need> = chosen.iter().map(need).collect();
    let browser = needs.iter().any(|n| {
        matches!(
            n,
            Need::WasmTests { browser: true } | Need::Package { browser: true, .. }
        )
    });
    let wasm = needs.iter().any(|n| !matches!(n, Need::Cargo | Need::Nothing));
    let tools = needs
        .iter()
        .any(|n| matches!(n, Need::WasmTests { .. } | Need::Package { .. }));
    let package = needs.iter().any(|n| matches!(n, Need::Package { .. }));

    // The wasm32 target first, alone: every lane's cargo may need it.
    if wasm {
        watch("setup", watchdog::bound("setup", minutes(10))?, setup::wasm_target)?;
    }
    let mut lanes: Vec<Vec<Step>> = (0..if serial { 1 } else { 6 }).map(|_| Vec::new()).collect();
    if tools {
        let named = |name: &str| chosen.iter().any(|c| c.layer.name == name);
        lanes[if serial { 0 } else { 3 }].push(Step::Tools(setup::ForTests {
            browser,
            runtimes: named("runtimes"),
            e2e: named("e2e"),
        }));
    }
    if package {
        lanes[if serial { 0 } else { 4 }].push(Step::Package);
    }
    for round in 1..=repeat {
        for c in chosen {
            let label = if repeat > 1 {
                format!("{} #{round}", c.label())
            } else {
                c.label()
            };
            let lane = if serial { 0 } else { lane_of(c.layer.name) };
            lanes[lane].push(Step::Layer { chosen: c, label });
        }
    }
    lanes.retain(|l| !l.is_empty());
    let shared = Shared::default();
    if lanes.len() == 1 {
        return run_lane(&lanes[0], &shared, false);
    }
    let results: Vec<Result> = std::thread::scope(|s| {
        let running: Vec<_> = lanes
            .iter()
            .map(|lane| s.spawn(|| run_lane(lane, &shared, true)))
            .collect();
        running
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err("a lane of cargo xtask test panicked".into()))
            })
            .collect()
    });
    let failures: Vec<String> = results.into_iter().filter_map(|r| r.err()).collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n\nxtask: "))
    }
}

/// Runs one lane's steps in order, each under the watchdog (`held`: its
/// output printed when it ends, as lanes run side by side); stops at the
/// first failure, or when another lane failed. Opens the set-up gates it
/// owns, failed when it stops before them.
fn run_lane(steps: &[Step], shared: &Shared, held: bool) -> Result {
    let mut rig: Option<Rig> = None;
    let result = (|| {
        for step in steps {
            if shared.failed.load(Ordering::SeqCst) {
                return Ok(());
            }
            let r = match step {
                Step::Tools(what) => {
                    let r = watch_as("tools", watchdog::bound("tools", minutes(30))?, held, || {
                        setup::for_tests(*what)
                    });
                    shared.tools.open(r.is_ok());
                    r
                }
                Step::Package => {
                    // Its 20 minutes, and the wait for the tools (bound by theirs).
                    let bound = watchdog::bound("package", minutes(20 + 30))?;
                    let r = watch_as("package", bound, held, || {
                        // cargo needs no tool; wasm-bindgen and wasm-opt do.
                        crate::build::cargo_builds()?;
                        if !shared.tools.wait() {
                            return Err("not built: the tools step failed".into());
                        }
                        crate::build::package().map(|_| ())
                    });
                    shared.package.open(r.is_ok());
                    r
                }
                Step::Layer { chosen, label } => {
                    let ready = match need(chosen) {
                        // The wasm tests build first, and wait for the
                        // tools (wasm-bindgen-test-runner) only to run.
                        Need::Package { .. } => shared.package.wait(),
                        _ => true,
                    };
                    if !ready {
                        if shared.failed.load(Ordering::SeqCst) {
                            return Ok(());
                        }
                        return Err(format!("{label} not run: `package` did not finish"));
                    }
                    let mut bound = watchdog::bound(chosen.layer.name, chosen.layer.bound)?;
                    if matches!(need(chosen), Need::WasmTests { .. }) {
                        // It builds while the tools install, then waits
                        // for them (bound by theirs).
                        bound += watchdog::bound("tools", minutes(30))?;
                    }
                    if !held {
                        crate::step(&format!(
                            "{label}: {} (bound {:.0} s)",
                            chosen.layer.about,
                            bound.as_secs_f64()
                        ));
                    }
                    watch_as(label, bound, held, || {
                        if held {
                            crate::step(&format!("{label}: {}", chosen.layer.about));
                        }
                        layer(chosen, &mut rig, &shared.tools)
                    })
                }
            };
            if r.is_err() {
                shared.failed.store(true, Ordering::SeqCst);
                return r;
            }
        }
        Ok(())
    })();
    // The gates this lane owns, failed if it stopped before them.
    for step in steps {
        match step {
            Step::Tools(_) => shared.tools.open(false),
            Step::Package => shared.package.open(false),
            Step::Layer { .. } => {}
        }
    }
    result
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

/// The emulator of the runtime tests, as the wasm tests' main one.
const MAIN_FLAGS: [&str; 6] = [
    "--operation-delay-ms",
    "300",
    "--control-origin",
    "loopback",
    // tests/faults.rs's batch_faults isolates its outer $batch
    // faults by a version segment of its own (/v-batch-…).
    "--test-version-prefix",
    "v-batch-",
];

fn start_main_emulator() -> Result<emulator::Emulator> {
    emulator::start(&[&MAIN_FLAGS[..], &emulator::TEST_WORKBOOKS].concat())
}

fn start_emulators() -> Result<Emulators> {
    // The wasm tests in Chromium and the runtime consumers' pages call the
    // control API and Graph from loopback pages on ports chosen at run time.
    // The emulator holds only the items seeded (others answer 404
    // itemNotFound): the suites' paths live under TEST_WORKBOOKS. An expired
    // session answers a plain 404, as Graph's does (resources/excel.md).
    let main = start_main_emulator()?;
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
    crate::say(&format!("emulators at {} and (short TTL) {}", main.url, short.url));
    Ok(Emulators { main, short })
}

/// A wasm lane's emulators: a pair for each of its shards ([`SHARDS`]).
struct Rig {
    shards: Vec<Emulators>,
}

fn layer(c: &Chosen, rig: &mut Option<Rig>, tools: &Gate) -> Result {
    match c.layer.name {
        "habits" => habits(),
        "native" => {
            crate::run(Command::new("cargo").args(["test", "--workspace"]))?;
            Ok(())
        }
        "fuzz" => crate::fuzz::smoke(500_000),
        "wasm-node" => wasm_tests(rig, Runtime::Node, &[], tools),
        "wasm-chromium" => wasm_tests(rig, Runtime::Chromium, &[], tools),
        // The Rust API's optional feature: one file, once, in Node.
        "serde" => wasm_tests(rig, Runtime::Node, &["--features", "serde", "--test", "serde"], tools),
        // Issue 13's property test: fixed seeds, bounded steps (about 20 s
        // each). Seed 1 overlaps a refresh or close with a session.fetch in
        // flight, which seed 13 never does (the one-at-a-time check of the
        // session line fails there on the code before the line took them).
        "model" => [13, 1]
            .into_iter()
            .try_for_each(|seed| crate::model::run_model(Some(seed), 300)),
        "soak" => crate::soak::short(),
        "runtimes" => {
            let emu = start_main_emulator()?;
            crate::say(&format!("emulator at {}", emu.url));
            crate::runtimes::run(&emu.url, &c.files)
        }
        "e2e" => crate::e2e::run(),
        "watchdog-selftest" => selftest(),
        other => Err(format!("layer {other} has no runner")),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Runtime {
    Node,
    Chromium,
}

/// The wasm test files (tests/NAME.rs) of each shard: the shards of a
/// runtime run side by side, each against emulators of its own (a test
/// counts the requests or sessions an emulator saw, so two files running at
/// once must never share one), each file of a shard after the other. Files
/// not named here go to the last shard; the library's own tests to the
/// first. About 50 s of tests each on the project's machine (lifecycle and
/// robustness 30 s, pipeline 24 s, faults 18 s, hostile 15 s ...).
const SHARDS: [&[&str]; 3] = [
    &["lifecycle", "pipeline"],
    &["robustness", "faults", "refresh", "security", "delegated"],
    &[],
];

/// The wasm tests in `runtime` (`extra`: cargo's flags choosing some, run
/// as one shard): each shard built with `cargo test --no-run` with its
/// emulators' URLs compiled in (copied out of cargo's target directory,
/// which the next build overwrites), then each binary run by
/// wasm-bindgen-test-runner as `cargo test` would, every one even after a
/// failure; a binary's output is shown when it ends. The builds start at
/// once; the runs wait for the `tools` step (wasm-bindgen-test-runner,
/// Chromium).
fn wasm_tests(rig: &mut Option<Rig>, runtime: Runtime, extra: &[&str], tools: &Gate) -> Result {
    let shards: Vec<Vec<String>> = if extra.is_empty() {
        shard_flags()?
    } else {
        vec![extra.iter().map(|s| s.to_string()).collect()]
    };
    let rig = rig.get_or_insert_with(|| Rig { shards: Vec::new() });
    while rig.shards.len() < shards.len() {
        rig.shards.push(start_emulators()?);
    }
    let layer = watchdog::Layer::current();
    let failed: Vec<String> = std::thread::scope(|s| {
        let running: Vec<_> = shards
            .iter()
            .zip(&rig.shards)
            .enumerate()
            .map(|(i, (flags, emus))| {
                let layer = layer.clone();
                s.spawn(move || {
                    layer.enter();
                    wasm_shard(runtime, i, flags, emus, tools)
                })
            })
            .collect();
        running
            .into_iter()
            .flat_map(|t| t.join().unwrap_or_else(|_| vec!["a shard panicked".into()]))
            .collect()
    });
    match failed.iter().find(|e| e.starts_with("watchdog:")) {
        Some(e) => Err(e.clone()),
        None if failed.is_empty() => Ok(()),
        None => Err(format!(
            "{} wasm test binaries failed: {}",
            failed.len(),
            failed.join("; ")
        )),
    }
}

/// cargo's flags choosing each shard's tests (`--lib`, `--test NAME`).
fn shard_flags() -> Result<Vec<Vec<String>>> {
    let mut files: Vec<String> = std::fs::read_dir("tests")
        .map_err(|e| format!("tests/: {e}"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".rs").map(str::to_string))
        .collect();
    files.sort();
    let last = SHARDS.len() - 1;
    Ok((0..SHARDS.len())
        .map(|i| {
            let mine: Vec<&String> = files
                .iter()
                .filter(|f| {
                    let named = SHARDS.iter().position(|s| s.contains(&f.as_str()));
                    named == Some(i) || (named.is_none() && i == last)
                })
                .collect();
            let mut flags: Vec<String> = if i == 0 { vec!["--lib".into()] } else { Vec::new() };
            for f in mine {
                flags.extend(["--test".to_string(), f.clone()]);
            }
            flags
        })
        .collect())
}

/// One shard: built, then each binary run; the failures.
fn wasm_shard(runtime: Runtime, shard: usize, flags: &[String], emus: &Emulators, tools: &Gate) -> Vec<String> {
    let which = match runtime {
        Runtime::Node => "node",
        Runtime::Chromium => "chromium",
    };
    let dir = crate::root().join("target/wasm-tests").join(format!(
        "{which}-{shard}{}",
        if flags.iter().any(|f| f == "--features") {
            "-features"
        } else {
            ""
        }
    ));
    let binaries = match wasm_build(emus, flags, &dir) {
        Ok(b) => b,
        Err(e) => return vec![e],
    };
    if !tools.wait() {
        return vec!["not run: the tools step failed".into()];
    }
    let mut failed = Vec::new();
    for wasm in &binaries {
        let name = wasm.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let mut cmd = Command::new("wasm-bindgen-test-runner");
        cmd.arg(wasm).env("WASM_BINDGEN_TEST_TIMEOUT", "120");
        match runtime {
            Runtime::Node => cmd.env("WASM_BINDGEN_USE_NODE_EXPERIMENTAL", "1"),
            Runtime::Chromium => cmd
                .env("WASM_BINDGEN_USE_BROWSER", "1")
                .env("CHROMEDRIVER", "/usr/bin/chromedriver"),
        };
        let started = std::time::Instant::now();
        let out = watchdog::capture(&mut cmd);
        let mut text = format!("\n     Running {name} ({which}, shard {shard})\n").into_bytes();
        match out {
            Ok(out) => {
                text.extend_from_slice(&out.stdout);
                text.extend_from_slice(&out.stderr);
                text.extend_from_slice(
                    format!(
                        "     {name}: {} in {:.1} s\n",
                        out.status,
                        started.elapsed().as_secs_f64()
                    )
                    .as_bytes(),
                );
                if !out.status.success() {
                    failed.push(format!("{name} in {which} ({})", out.status));
                }
            }
            Err(e) => {
                watchdog::show(&text);
                failed.push(e);
                return failed;
            }
        }
        watchdog::show(&text);
    }
    // The copies are kept for a look at a failure only: each shard's are
    // about 40-110 MB.
    if failed.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    failed
}

/// `cargo test --target wasm32-unknown-unknown --no-run` with the shard's
/// emulator URLs; the test binaries copied to `dir`, in the order `cargo
/// test` runs them (the library's, then tests/ by name).
fn wasm_build(emus: &Emulators, flags: &[String], dir: &Path) -> Result<Vec<PathBuf>> {
    let out = watchdog::capture(
        Command::new("cargo")
            .args([
                "test",
                "--target",
                "wasm32-unknown-unknown",
                "--no-run",
                "-p",
                "graph-workbook-session",
            ])
            .args(flags)
            .env("GRAPH_EMULATOR_URL", &emus.main.url)
            .env("GRAPH_EMULATOR_SHORT_TTL_URL", &emus.short.url)
            .env("GRAPH_CLOSED_URL", closed_url()),
    )?;
    let mut shown = format!(
        "\n==> building the wasm tests: cargo test --no-run {}\n",
        flags.join(" ")
    )
    .into_bytes();
    shown.extend_from_slice(&out.stderr);
    watchdog::show(&shown);
    if !out.status.success() {
        return Err(format!(
            "building the wasm tests ({}) failed ({})",
            flags.join(" "),
            out.status
        ));
    }
    // cargo names each binary: `Executable tests/faults.rs (target/…/faults-….wasm)`.
    let mut found: Vec<(String, PathBuf)> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            let (src, exe) = l.trim().strip_prefix("Executable ")?.split_once(" (")?;
            let exe = exe.strip_suffix(')')?;
            // The library's unit tests first, as cargo runs them.
            let order = if src.starts_with("unittests") {
                String::new()
            } else {
                src.to_string()
            };
            Some((order, crate::root().join(exe)))
        })
        .collect();
    if found.is_empty() {
        return Err(format!(
            "cargo test --no-run {} named no test binary (no `Executable …` line)",
            flags.join(" ")
        ));
    }
    found.sort();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    found
        .into_iter()
        .map(|(_, exe)| {
            let to = dir.join(exe.file_name().unwrap_or_default());
            std::fs::copy(&exe, &to).map_err(|e| format!("{} → {}: {e}", exe.display(), to.display()))?;
            Ok(to)
        })
        .collect()
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
            crate::say(&format!(
                "watchdog self-test: the test's processes (runner, test file, detached sleep: {}) and process \
                 group {} are all gone",
                listed.trim(),
                group.unwrap_or(0)
            ));
            Err(e)
        }
        Err(e) => Err(format!(
            "watchdog self-test: the layer failed, but not by the watchdog: {e}"
        )),
    }
}
