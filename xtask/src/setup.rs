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

/// What `cargo xtask test` installs before its layers run.
#[derive(Clone, Copy)]
pub struct ForTests {
    /// Debian's Chromium and chromedriver.
    pub browser: bool,
    /// The runtime tests' npm packages (tests/runtimes).
    pub runtimes: bool,
    /// The end-to-end test's npm packages (tests/e2e).
    pub e2e: bool,
}

/// [`for_build`] and what `what` names, the installs side by side (on a
/// fresh machine, `cargo install` compiles for minutes while npm and apt
/// download), inside the calling layer of `cargo xtask test`.
pub fn for_tests(what: ForTests) -> Result {
    wasm_target()?;
    let layer = crate::watchdog::Layer::current();
    let none = || Ok(());
    let installs: [fn() -> Result; 5] = [
        wasm_bindgen_cli,
        npm_tools,
        if what.browser { chromium } else { none },
        if what.runtimes { crate::runtimes::npm_ci } else { none },
        if what.e2e { crate::e2e::npm_ci } else { none },
    ];
    std::thread::scope(|s| {
        let running: Vec<_> = installs
            .into_iter()
            .map(|install| {
                let layer = layer.clone();
                s.spawn(move || {
                    layer.enter();
                    install()
                })
            })
            .collect();
        running
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|_| Err("an install panicked".into())))
            .collect::<Result<Vec<()>>>()
            .map(|_| ())
    })
}

pub fn wasm_target() -> Result {
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
    package_version(&lock, "wasm-bindgen").ok_or_else(|| "wasm-bindgen is not in Cargo.lock".into())
}

fn wasm_bindgen_cli() -> Result {
    let want = locked_wasm_bindgen()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    let runner = output(Command::new("wasm-bindgen-test-runner").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) && runner.contains(&want) {
        return Ok(());
    }
    install_wasm_bindgen_cli(None)
}

/// The lockfile wasm-bindgen-cli is installed with (`--locked`): the
/// crate's own Cargo.lock, except for dependencies yanked since it was
/// published (webpki-roots 1.0.11, yanked: pinned to 1.0.10 with
/// `cargo update -p webpki-roots --precise 1.0.10`). The tool writes the JS
/// glue we ship, so its dependencies are the ones reviewed here, not
/// whatever the registry serves on the day.
const CLI_LOCK: &str = "xtask/wasm-bindgen-cli.lock";

/// `cargo xtask setup wasm-bindgen-cli [--root DIR]`: installs
/// wasm-bindgen-cli (with wasm-bindgen-test-runner) at Cargo.lock's
/// wasm-bindgen version, `--locked` to [`CLI_LOCK`], into `root` (default:
/// cargo's, ~/.cargo/bin), even when it is installed already.
pub fn wasm_bindgen_cli_command(args: &[String]) -> Result {
    match args {
        [] => install_wasm_bindgen_cli(None),
        [flag, dir] if flag == "--root" => install_wasm_bindgen_cli(Some(Path::new(dir))),
        _ => Err("usage: cargo xtask setup wasm-bindgen-cli [--root DIR]".into()),
    }
}

/// `cargo install --locked` needs the crate's source with our lockfile in
/// it: the `.crate` from crates.io (checked against the index's sha256)
/// unpacked under target/, [`CLI_LOCK`] copied in as its Cargo.lock, then
/// `cargo install --path`.
fn install_wasm_bindgen_cli(root: Option<&Path>) -> Result {
    let want = locked_wasm_bindgen()?;
    let lock = std::fs::read_to_string(CLI_LOCK).map_err(|e| format!("{CLI_LOCK}: {e}"))?;
    let pinned = package_version(&lock, "wasm-bindgen-cli");
    if pinned.as_deref() != Some(want.as_str()) {
        return Err(format!(
            "{CLI_LOCK} locks wasm-bindgen-cli {}, but Cargo.lock has wasm-bindgen {want}. Regenerate it \
             (CONTRIBUTING.md, \"wasm-bindgen-cli\"): curl -sSfL \
             https://static.crates.io/crates/wasm-bindgen-cli/wasm-bindgen-cli-{want}.crate | tar -xz -C /tmp, \
             then in /tmp/wasm-bindgen-cli-{want}: `cargo update -p <yanked crate> --precise <last good version>` \
             for each yanked dependency `cargo install --locked` names, and copy its Cargo.lock to {CLI_LOCK}",
            pinned.as_deref().unwrap_or("nothing")
        ));
    }
    step(&format!(
        "installing wasm-bindgen-cli {want}, --locked to {CLI_LOCK} (about 3 minutes, once)"
    ));
    let work = crate::root().join("target/wasm-bindgen-cli");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let name = format!("wasm-bindgen-cli-{want}");
    let archive = work.join(format!("{name}.crate"));
    run(Command::new("curl")
        .args(["-sSfL", "--retry", "3", "--max-time", "300", "-o"])
        .arg(&archive)
        .arg(format!("https://static.crates.io/crates/wasm-bindgen-cli/{name}.crate")))?;
    let index = output(Command::new("curl").args([
        "-sSfL",
        "--retry",
        "3",
        "--max-time",
        "60",
        "https://index.crates.io/wa/sm/wasm-bindgen-cli",
    ]))
    .ok_or("cannot read wasm-bindgen-cli's entry in the crates.io index")?;
    // One JSON object per version; compared without whitespace, however
    // the index (or a mirror) spaces it.
    let needle = format!("\"vers\":\"{want}\"");
    let entry = index
        .lines()
        .map(|l| l.split_whitespace().collect::<String>())
        .find(|l| l.contains(&needle))
        .ok_or_else(|| format!("wasm-bindgen-cli {want} is not in the crates.io index"))?;
    let cksum = entry
        .split("\"cksum\":\"")
        .nth(1)
        .and_then(|rest| rest.get(..64))
        .ok_or_else(|| format!("wasm-bindgen-cli {want}: no sha256 in the crates.io index"))?;
    let sum = output(Command::new("sha256sum").arg(&archive)).unwrap_or_default();
    if sum.split_whitespace().next() != Some(cksum) {
        return Err(format!(
            "{}: sha256 {} is not the index's {cksum}",
            archive.display(),
            sum.split_whitespace().next().unwrap_or("?")
        ));
    }
    // Unpacked outside the workspace: under it, cargo would take the crate
    // for a member that the workspace does not list, and refuse it.
    let unpacked = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&unpacked).map_err(|e| format!("{}: {e}", unpacked.display()))?;
    run(Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(&unpacked))?;
    let src = unpacked.join(&name);
    std::fs::write(src.join("Cargo.lock"), lock).map_err(|e| format!("{}: {e}", src.display()))?;
    let mut install = Command::new("cargo");
    install
        .args(["install", "--locked", "--force", "--path"])
        .arg(&src)
        // Its own target dir, not the workspace's, which has another
        // lockfile; removed once installed (about 440 MB, of use only to
        // an install of the same version).
        .arg("--target-dir")
        .arg(work.join("target"));
    if let Some(root) = root {
        install.arg("--root").arg(root);
    }
    let installed = run(&mut install);
    let _ = std::fs::remove_dir_all(&unpacked);
    if installed.is_ok() {
        let _ = std::fs::remove_dir_all(work.join("target"));
    }
    installed
}

/// The version of package `name` in a Cargo.lock's text.
fn package_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines();
    let header = format!("name = \"{name}\"");
    while let Some(l) = lines.next() {
        if l == header {
            return lines
                .next()
                .and_then(|v| v.strip_prefix("version = \""))
                .map(|v| v.trim_end_matches('"').to_string());
        }
    }
    None
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

/// Held while apt-get runs: two lanes of `cargo xtask test` may each need
/// a package (Chromium, g++ for the fuzzer), and dpkg takes one at a time.
pub static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Debian's Chromium and chromedriver, for the browser tests.
pub fn chromium() -> Result {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    let _apt = APT.lock().unwrap_or_else(|p| p.into_inner());
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
