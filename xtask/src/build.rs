//! `cargo xtask build`: the npm package in `pkg/`.
//!
//! cargo (release profile: opt-level "z", LTO, one codegen unit, panic
//! abort) → `wasm-bindgen --target web` → esbuild minifies the glue, which
//! imports the GraphError class from the package's one `graph-error.js`
//! (shared by every entry) → `wasm-opt -Oz`
//! (npm binaryen; never Debian's 108, which breaks the externref table) →
//! the wasm's imports renamed short in the wasm and the glue together →
//! package.json + README. Twice: the whole package (feature `full`) in
//! `pkg/`, and the refresh-only entry (refreshSession and closeSession, no
//! `full`) in `pkg/refresh/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{run, step, Result};

pub const PKG: &str = "pkg";
const NAME: &str = "graph_workbook_session";

/// Sizes of the shipped files, raw and gzip -9.
pub struct Size {
    pub wasm_raw: u64,
    pub wasm_gz: u64,
    pub js_raw: u64,
    pub js_gz: u64,
}

pub fn package() -> Result<Size> {
    step("building the npm package in pkg/");
    let _ = std::fs::remove_dir_all(PKG);
    // Without std: a small allocator and a trapping panic handler (src/lib.rs).
    let size = variant(&["--no-default-features", "--features", "full"], Path::new(PKG))?;
    entries(Path::new(PKG), &ENTRIES)?;
    // The refresh-only entry (`graph-workbook-session/refresh`): the same
    // crate without the `full` feature, a wasm of its own.
    let refresh = Path::new(PKG).join(REFRESH);
    let small = variant(&["--no-default-features"], &refresh)?;
    entries(&refresh, &REFRESH_ENTRIES)?;
    let (shared_raw, shared_gz) = shared_graph_error()?;
    let (testing_raw, testing_gz) = testing()?;
    for file in OWN_ENTRIES {
        let to = pkg_file(file);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::copy(Path::new("npm").join(file), &to).map_err(|e| format!("npm/{file}: {e}"))?;
    }
    std::fs::write(pkg_file("package.json"), package_json()?).map_err(|e| e.to_string())?;
    for doc in ["README.md", "CHANGELOG.md"] {
        std::fs::copy(doc, pkg_file(doc)).map_err(|e| format!("{doc}: {e}"))?;
    }
    for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
        std::fs::copy(license, pkg_file(license)).map_err(|e| e.to_string())?;
    }
    for (dir, s) in [("pkg/", &size), ("pkg/refresh/", &small)] {
        crate::say(&format!(
            "{dir}: wasm {} B ({} B gzip -9), JS glue {} B ({} B gzip -9), total {} B gzip -9",
            s.wasm_raw,
            s.wasm_gz,
            s.js_raw,
            s.js_gz,
            s.wasm_gz + s.js_gz
        ));
    }
    crate::say(&format!(
        "pkg/{GRAPH_ERROR} (GraphError, imported by both glues): {shared_raw} B ({shared_gz} B gzip -9)"
    ));
    crate::say(&format!(
        "pkg/{TESTING}/ (the emulator, for users' tests): wasm {testing_raw} B ({testing_gz} B gzip -9)"
    ));
    Ok(size)
}

/// The package's three release builds (the full and the refresh-only
/// library, the `./testing` emulator), cargo only: `cargo xtask test`
/// compiles them while the tools install ([`package`] then finds them built).
pub fn cargo_builds() -> Result {
    cargo_wasm(
        &["-p", "graph-workbook-session"],
        &["--no-default-features", "--features", "full"],
    )?;
    cargo_wasm(&["-p", "graph-workbook-session"], &["--no-default-features"])?;
    cargo_wasm(&["-p", "graph-workbook-emulator-wasm"], &[])
}

/// `cargo build --quiet --lib --release --target wasm32-unknown-unknown`
/// of `package` with `features`.
fn cargo_wasm(package: &[&str], features: &[&str]) -> Result {
    run(Command::new("cargo")
        .args([
            "build",
            "--quiet",
            "--lib",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(package)
        .args(features))
}

/// The refresh-only entry's directory inside `pkg/`.
pub const REFRESH: &str = "refresh";

/// cargo with `features` → `wasm-bindgen --target web` into `dir` → the
/// glue minified, its GraphError import pointed at the package's one
/// `graph-error.js` → `wasm-opt -Oz`; the sizes (the glue without
/// `graph-error.js`, which `package` reports once).
pub fn variant(features: &[&str], dir: &Path) -> Result<Size> {
    cargo_wasm(&["-p", "graph-workbook-session"], features)?;
    let input = format!("target/wasm32-unknown-unknown/release/{NAME}.wasm");
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--out-dir"])
        .arg(dir)
        .args(["--out-name", NAME, &input]))?;
    no_sync_dispose(dir)?;
    let shared = if dir == Path::new(PKG) {
        format!("./{GRAPH_ERROR}")
    } else {
        format!("../{GRAPH_ERROR}")
    };
    bundle_snippet(dir, &shared)?;
    let wasm = dir.join(format!("{NAME}_bg.wasm"));
    wasm_opt(&wasm)?;
    let js = dir.join(format!("{NAME}.js"));
    short_imports(&wasm, &js)?;
    Ok(Size {
        wasm_raw: file_len(&wasm)?,
        wasm_gz: gzip_len(&wasm)?,
        js_raw: file_len(&js)?,
        js_gz: gzip_len(&js)?,
    })
}

/// `wasm-opt -Oz` in place, with the features the wasm uses.
fn wasm_opt(wasm: &Path) -> Result {
    run(Command::new("node_modules/.bin/wasm-opt")
        .arg("-Oz")
        .args([
            "--strip-debug",
            "--strip-producers",
            // The features section is read by wasm-bindgen, before this
            // step; no runtime reads it (132 B in each wasm).
            "--strip-target-features",
            "--enable-reference-types",
            "--enable-bulk-memory",
        ])
        .args([
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(wasm))
}

/// wasm-bindgen gives every exported class `[Symbol.dispose]` = `free()`,
/// which frees a `WorkbookSession` without closing it (closeSession is a
/// request; a synchronous disposer cannot send it). Taken out of the glue
/// and the declarations, so `using session = ...` is a type error and the
/// session has no synchronous disposer; `await using` closes it
/// (`Symbol.asyncDispose`, `graph_error.js`). Fails loudly if wasm-bindgen
/// writes it another way.
fn no_sync_dispose(dir: &Path) -> Result {
    let js_path = dir.join(format!("{NAME}.js"));
    let ts_path = dir.join(format!("{NAME}.d.ts"));
    let js = std::fs::read_to_string(&js_path).map_err(|e| e.to_string())?;
    let ts = std::fs::read_to_string(&ts_path).map_err(|e| e.to_string())?;
    if !ts.contains("export class WorkbookSession") {
        return Ok(()); // the refresh-only entry has no class
    }
    const WIRING: &str =
        "if (Symbol.dispose) WorkbookSession.prototype[Symbol.dispose] = WorkbookSession.prototype.free;";
    const DECLARED: &str = "  [Symbol.dispose](): void;\n";
    let class_at = ts.find("export class WorkbookSession").unwrap_or(0);
    let declared_at = ts[class_at..].find(DECLARED).map(|i| class_at + i);
    let (Some(declared_at), 1) = (declared_at, js.matches(WIRING).count()) else {
        return Err(format!(
            "{} / {}: wasm-bindgen's Symbol.dispose wiring for WorkbookSession not found: update xtask/src/build.rs",
            js_path.display(),
            ts_path.display()
        ));
    };
    let ts = format!("{}{}", &ts[..declared_at], &ts[declared_at + DECLARED.len()..]);
    std::fs::write(&js_path, js.replace(WIRING, "")).map_err(|e| e.to_string())?;
    std::fs::write(&ts_path, ts).map_err(|e| e.to_string())
}

/// The `./testing` entry's directory inside `pkg/`.
pub const TESTING: &str = "testing";

/// `graph-workbook-session/testing` in `pkg/testing/`: the emulator's pure
/// handler compiled to wasm (`emulator/wasm`, the emulator crate without
/// its `server` feature) → `wasm-bindgen --target web` as `emulator.js` →
/// `wasm-opt -Oz` → the host (`npm/testing/graph.js`: `createTestGraph`)
/// and its three loaders. Nothing of it is imported by another entry.
fn testing() -> Result<(u64, u64)> {
    cargo_wasm(&["-p", "graph-workbook-emulator-wasm"], &[])?;
    let dir = Path::new(PKG).join(TESTING);
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&dir)
        .args([
            "--out-name",
            "emulator",
            "target/wasm32-unknown-unknown/release/graph_workbook_emulator_wasm.wasm",
        ]))?;
    let wasm = dir.join("emulator_bg.wasm");
    wasm_opt(&wasm)?;
    for file in TESTING_ENTRIES {
        let from = Path::new("npm").join(file);
        std::fs::copy(&from, Path::new(PKG).join(file)).map_err(|e| format!("{}: {e}", from.display()))?;
    }
    Ok((file_len(&wasm)?, gzip_len(&wasm)?))
}

/// `npm/testing/` files copied into `pkg/testing/`.
const TESTING_ENTRIES: [&str; 5] = [
    "testing/graph.js",
    "testing/index.js",
    "testing/node.js",
    "testing/workerd.js",
    "testing/index.d.ts",
];

/// The JS half of the crate (`src/surface/graph_error.js`: the `GraphError`
/// class), which wasm-bindgen copies to
/// `snippets/graph-workbook-session-<hash>/src/surface/` and the glue
/// imports, ships once: as `graph-error.js` at the package's root
/// ([`shared_graph_error`]), which every glue (`pkg/` and `pkg/refresh/`)
/// imports instead of its own copy, so an error from one entry is
/// `instanceof` the class another entry exports (issue 23). `shared` is
/// that file's path from the glue (`./graph-error.js`, `../graph-error.js`).
/// The glue also exports `GraphError` and `isGraphError`, which the entries
/// re-export. The crate's other snippets (`src/shell/body.js`,
/// `src/shell/init.js`, `src/surface/options.js`) are
/// bundled into the glue. Minified as a CDN would serve it; `import.meta.url` stays
/// as it is (the imports object's keys are shortened later, by
/// [`short_imports`]). Fails loudly if wasm-bindgen's layout changes.
fn bundle_snippet(dir: &Path, shared: &str) -> Result {
    const SNIPPET: &str = "src/surface/graph_error.js";
    let snippets = dir.join("snippets");
    let found: Vec<PathBuf> = std::fs::read_dir(&snippets)
        .map_err(|e| format!("{}: {e}", snippets.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let [snippet_dir] = found.as_slice() else {
        return Err(format!(
            "expected one snippet directory in {}, found {found:?}",
            snippets.display()
        ));
    };
    let Some(dir_name) = snippet_dir.file_name().and_then(|n| n.to_str()) else {
        return Err(format!("{}: not UTF-8", snippet_dir.display()));
    };
    let from = snippet_dir.join(SNIPPET);
    let listed: Vec<_> = walk(snippet_dir)?;
    // The crate's other JS (`src/shell/body.js`, `init.js`,
    // `src/surface/options.js`) is bundled into the glue.
    let others = listed.iter().filter(|p| **p != from);
    if !listed.contains(&from) || others.clone().any(|p| p.extension().is_none_or(|e| e != "js")) {
        return Err(format!(
            "expected {} and other .js files in the snippets, found {listed:?}",
            from.display()
        ));
    }
    let glue_path = dir.join(format!("{NAME}.js"));
    let glue = std::fs::read_to_string(&glue_path).map_err(|e| e.to_string())?;
    let path = format!("./snippets/{dir_name}/{SNIPPET}");
    let mut replaced = false;
    let mut glue = glue;
    for quote in ['\'', '"'] {
        let from = format!(" from {quote}{path}{quote}");
        if glue.contains(from.as_str()) {
            glue = glue.replace(from.as_str(), &format!(" from \"{shared}\""));
            replaced = true;
        }
    }
    if !replaced {
        return Err(format!("the glue does not import {path}: update xtask/src/build.rs"));
    }
    // The class keeps its name through minification (`WorkbookSession.name`,
    // what `console.log` prints); `--keep-names` would keep every import's
    // long name too.
    let name = match glue.contains("\nexport class WorkbookSession ") {
        true => "\nObject.defineProperty(WorkbookSession, \"name\", { value: \"WorkbookSession\" });\n",
        false => "",
    };
    let glue = format!("{glue}{name}\nexport {{ GraphError, isGraphError }} from \"{shared}\";\n");
    std::fs::write(&glue_path, glue).map_err(|e| e.to_string())?;
    run(Command::new("node_modules/.bin/esbuild")
        .arg(&glue_path)
        .args([
            "--bundle",
            "--minify",
            "--format=esm",
            "--log-level=warning",
            "--allow-overwrite",
        ])
        .arg(format!("--external:{shared}"))
        .arg(format!("--outfile={}", glue_path.display())))?;
    std::fs::remove_dir_all(&snippets).map_err(|e| e.to_string())?;
    // Nothing left to fetch but the wasm and the shared class.
    let bundled = std::fs::read_to_string(&glue_path).map_err(|e| e.to_string())?;
    let imports = bundled.matches("from\"").count() + bundled.matches("import\"").count();
    let shared_imports = bundled.matches(format!("from\"{shared}\"").as_str()).count();
    if imports != shared_imports || ["from'", "import'"].iter().any(|i| bundled.contains(i)) || shared_imports == 0 {
        return Err(format!(
            "{}: the bundled glue imports another module than {shared}",
            glue_path.display()
        ));
    }
    Ok(())
}

/// The shared GraphError module, `pkg/graph-error.js`: the crate's
/// `src/surface/graph_error.js`, minified.
fn shared_graph_error() -> Result<(u64, u64)> {
    let out = pkg_file(GRAPH_ERROR);
    write_graph_error(&out)?;
    Ok((file_len(&out)?, gzip_len(&out)?))
}

/// The GraphError module (`src/surface/graph_error.js`, minified) at `out`:
/// a variant built outside `pkg/` imports it from its parent folder.
pub fn write_graph_error(out: &Path) -> Result {
    run(Command::new("node_modules/.bin/esbuild")
        .arg("src/surface/graph_error.js")
        .args(["--minify", "--keep-names", "--format=esm", "--log-level=warning"])
        .arg(format!("--outfile={}", out.display())))
}

/// The one GraphError module every entry's glue imports.
pub const GRAPH_ERROR: &str = "graph-error.js";

fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.is_dir() {
            out.extend(walk(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

pub fn pkg_file(name: &str) -> PathBuf {
    Path::new(PKG).join(name)
}

fn file_len(p: &Path) -> Result<u64> {
    std::fs::metadata(p)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// Bytes of `gzip -9` output: what a user downloads from a CDN.
pub fn gzip_len(p: &Path) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(p)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    Ok(out.stdout.len() as u64)
}

fn cargo_version() -> Result<String> {
    let toml = std::fs::read_to_string("Cargo.toml").map_err(|e| e.to_string())?;
    toml.lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .map(|v| v.trim_end_matches('"').to_string())
        .ok_or_else(|| "no version in Cargo.toml".into())
}

/// The package's entry files (templates in `npm/`): one per kind of runtime,
/// each loading the wasm its runtime's way, so that importing the package
/// is all a user does. And `index.d.ts`: wasm-bindgen's declarations with
/// its init section (whose `InitOutput` lists raw exports typed `any`)
/// replaced by `npm/init.d.ts`.
fn entries(dir: &Path, entries: &[&str]) -> Result {
    for entry in entries {
        let from = Path::new("npm").join(entry);
        let to = dir.join(Path::new(entry).file_name().unwrap_or_default());
        std::fs::copy(&from, to).map_err(|e| format!("{}: {e}", from.display()))?;
    }
    let glue = std::fs::read_to_string(dir.join(format!("{NAME}.d.ts"))).map_err(|e| e.to_string())?;
    let api = glue
        .find("export type InitInput")
        .map(|at| &glue[..at])
        .ok_or("wasm-bindgen's .d.ts has no `export type InitInput`: update npm/init.d.ts and xtask/src/build.rs")?;
    let init = std::fs::read_to_string("npm/init.d.ts").map_err(|e| format!("npm/init.d.ts: {e}"))?;
    std::fs::write(dir.join("index.d.ts"), format!("{}{init}", api.trim_end())).map_err(|e| e.to_string())
}

/// `npm/` files copied into the package: browser/bundler, Node/Deno/Bun,
/// workerd (and the other edges), and the no-auto-init entry with its
/// declarations for TypeScript's node10 resolution.
/// Then the integrations, plain JS over the main entry's module so they add
/// nothing to it: `./graph-sdk` (the Graph SDK and Kiota middleware) and
/// `./pool` ($batch keep-alive; one file per runtime, each importing that
/// runtime's main entry).
const ENTRIES: [&str; 12] = [
    "index.js",
    "node.js",
    "workerd.js",
    "manual.js",
    "manual.d.ts",
    "graph-sdk.js",
    "graph-sdk.d.ts",
    "pool.js",
    "pool.d.ts",
    "pool-node.js",
    "pool-workerd.js",
    "pool-browser.js",
];

/// `npm/refresh/` files copied into `pkg/refresh/`: the same three runtimes
/// for the refresh-only wasm.
const REFRESH_ENTRIES: [&str; 3] = ["refresh/index.js", "refresh/node.js", "refresh/workerd.js"];

/// `npm/` files of the entries that are modules over the main entry's
/// glue, with no wasm of their own, copied as they are: `./shared`
/// (SharedWorkbookSession, one file per runtime condition, each loading
/// the main entry's wasm first) and `./cloudflare` (WorkbookSessionKeeper,
/// workerd only). Neither adds a byte to the main entry.
const OWN_ENTRIES: [&str; 7] = [
    "shared/shared.js",
    "shared/index.js",
    "shared/node.js",
    "shared/workerd.js",
    "shared/index.d.ts",
    "cloudflare/index.js",
    "cloudflare/index.d.ts",
];

/// One entry's `exports` conditions for the runtimes, in `package_json`'s order:
/// `types`, the edges' module-import file, Node's (Deno and Bun too), the
/// browser's (also the default).
fn runtime_conditions(types: &str, workerd: &str, node: &str, browser: &str) -> String {
    format!(
        r#"{{
      "types": "{types}",
      "workerd": "{workerd}",
      "edge-light": "{workerd}",
      "deno": "{node}",
      "bun": "{node}",
      "node": "{node}",
      "browser": "{browser}",
      "worker": "{workerd}",
      "default": "{browser}"
    }}"#
    )
}

/// `exports`: `types` first (one declaration file for every entry), then
/// the runtimes by specificity. Deno and Bun read the `node` entry too; they
/// are named so the mapping is explicit. Edge runtimes, which forbid
/// compiling wasm from bytes, get the entry that imports the wasm as a
/// module: `workerd`, `edge-light` (Vercel's edge runtime) and `worker`;
/// `worker` comes after `browser`, so a bundler building a browser Web
/// Worker (conditions `worker` and `browser`) keeps the browser entry.
/// `engines`: `require()` of this ES module needs Node 20.19 or 22.12.
fn package_json() -> Result<String> {
    let version = cargo_version()?;
    let main = runtime_conditions("./index.d.ts", "./workerd.js", "./node.js", "./index.js");
    let refresh = runtime_conditions(
        "./refresh/index.d.ts",
        "./refresh/workerd.js",
        "./refresh/node.js",
        "./refresh/index.js",
    );
    let pool = runtime_conditions(
        "./pool.d.ts",
        "./pool-workerd.js",
        "./pool-node.js",
        "./pool-browser.js",
    );
    let testing = runtime_conditions(
        "./testing/index.d.ts",
        "./testing/workerd.js",
        "./testing/node.js",
        "./testing/index.js",
    );
    let shared = runtime_conditions(
        "./shared/index.d.ts",
        "./shared/workerd.js",
        "./shared/node.js",
        "./shared/index.js",
    );
    Ok(format!(
        r#"{{
  "name": "graph-workbook-session",
  "version": "{version}",
  "description": "Keeps Microsoft Graph Excel workbook sessions alive: refreshSession, createSession, closeSession, keep-alive and recreation, in every JavaScript runtime.",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "./node.js",
  "module": "./index.js",
  "types": "./index.d.ts",
  "exports": {{
    ".": {main},
    "./manual": {{
      "types": "./index.d.ts",
      "default": "./manual.js"
    }},
    "./refresh": {refresh},
    "./graph-sdk": {{
      "types": "./graph-sdk.d.ts",
      "default": "./graph-sdk.js"
    }},
    "./pool": {pool},
    "./testing": {testing},
    "./shared": {shared},
    "./cloudflare": {{
      "types": "./cloudflare/index.d.ts",
      "default": "./cloudflare/index.js"
    }},
    "./{NAME}_bg.wasm": "./{NAME}_bg.wasm",
    "./refresh/{NAME}_bg.wasm": "./refresh/{NAME}_bg.wasm",
    "./package.json": "./package.json"
  }},
  "files": [
    "index.js",
    "index.d.ts",
    "node.js",
    "workerd.js",
    "manual.js",
    "manual.d.ts",
    "graph-sdk.js",
    "graph-sdk.d.ts",
    "pool.js",
    "pool.d.ts",
    "pool-node.js",
    "pool-workerd.js",
    "pool-browser.js",
    "graph-error.js",
    "{NAME}.js",
    "{NAME}.d.ts",
    "{NAME}_bg.wasm",
    "{NAME}_bg.wasm.d.ts",
    "refresh/index.js",
    "refresh/index.d.ts",
    "refresh/node.js",
    "refresh/workerd.js",
    "refresh/{NAME}.js",
    "refresh/{NAME}.d.ts",
    "refresh/{NAME}_bg.wasm",
    "refresh/{NAME}_bg.wasm.d.ts",
    "testing/index.js",
    "testing/index.d.ts",
    "testing/node.js",
    "testing/workerd.js",
    "testing/graph.js",
    "testing/emulator.js",
    "testing/emulator_bg.wasm",
    "shared/shared.js",
    "shared/index.js",
    "shared/node.js",
    "shared/workerd.js",
    "shared/index.d.ts",
    "cloudflare/index.js",
    "cloudflare/index.d.ts",
    "README.md",
    "CHANGELOG.md",
    "LICENSE-MIT",
    "LICENSE-APACHE"
  ],
  "sideEffects": ["./index.js", "./node.js", "./workerd.js", "./refresh/index.js", "./refresh/node.js", "./refresh/workerd.js", "./testing/index.js", "./testing/node.js", "./testing/workerd.js", "./shared/index.js", "./shared/node.js", "./shared/workerd.js"],
  "engines": {{ "node": "^20.19.0 || >=22.12.0" }},
  "keywords": ["microsoft-graph", "msgraph", "excel", "workbook", "session", "keep-alive", "refreshSession", "wasm", "cloudflare-workers", "deno", "bun", "office-addin"]
}}
"#
    ))
}

/// The wasm's imports renamed short, in the wasm and in the glue's imports
/// object together: wasm-bindgen names each import
/// `__wbg_<name>_<16 hex digits>` under the module
/// `./graph_workbook_session_bg.js`, about 65 bytes an import, written twice
/// (the wasm's import section, the glue's keys), and the hashes do not
/// compress. Every entry instantiates the wasm with the glue's imports
/// object (none links it as an ES module), so the names are the glue's and
/// the wasm's business only. The module becomes `a`, the imports `a`, `b`,
/// ... `aa` ...; fails loudly when a name is not found exactly once in
/// the glue.
fn short_imports(wasm: &Path, js: &Path) -> Result {
    let bytes = std::fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let mut glue = std::fs::read_to_string(js).map_err(|e| format!("{}: {e}", js.display()))?;
    let bad = |what: &str| format!("{}: {what}: update xtask/src/build.rs (short_imports)", wasm.display());
    if bytes.get(..8) != Some(b"\0asm\x01\0\0\0".as_slice()) {
        return Err(bad("not a wasm module"));
    }
    let ts = wasm.with_extension("wasm.d.ts");
    let mut declared = std::fs::read_to_string(&ts).map_err(|e| format!("{}: {e}", ts.display()))?;
    let mut out = bytes[..8].to_vec();
    let mut at = 8;
    let mut renamed = false;
    while at < bytes.len() {
        let id = bytes[at];
        let (len, body) = leb(&bytes, at + 1).ok_or_else(|| bad("a section's size"))?;
        let end = body + len as usize;
        let section = bytes.get(body..end).ok_or_else(|| bad("a section past the end"))?;
        if id == 7 {
            let section = short_exports(section, &mut glue, &mut declared).ok_or_else(|| bad("the exports"))?;
            out.push(7);
            push_leb(&mut out, section.len() as u32);
            out.extend_from_slice(&section);
            at = end;
            continue;
        }
        if id != 2 {
            out.extend_from_slice(&bytes[at..end]);
            at = end;
            continue;
        }
        let mut new = Vec::new();
        let (count, mut p) = leb(section, 0).ok_or_else(|| bad("the import count"))?;
        push_leb(&mut new, count);
        let mut modules: Vec<String> = Vec::new();
        let mut renamed_fields = 0;
        for _ in 0..count {
            let name = |p: &mut usize| -> Result<String> {
                let (n, s) = leb(section, *p).ok_or_else(|| bad("an import name"))?;
                let text = section.get(s..s + n as usize).ok_or_else(|| bad("an import name"))?;
                *p = s + n as usize;
                String::from_utf8(text.to_vec()).map_err(|_| bad("an import name not UTF-8"))
            };
            let module = name(&mut p)?;
            let mut field = name(&mut p)?;
            let m = match modules.iter().position(|m| *m == module) {
                Some(m) => m,
                None => {
                    modules.push(module.clone());
                    modules.len() - 1
                }
            };
            // The glue's own functions; a snippet's (graph_error.js) keep
            // their names, which are that module's exports.
            if module.ends_with("_bg.js") {
                let short = short_name(renamed_fields);
                renamed_fields += 1;
                let at: Vec<usize> = glue
                    .match_indices(field.as_str())
                    .map(|(k, _)| k)
                    .filter(|&k| ident_at(&glue, k, field.len()))
                    .collect();
                let [k] = at[..] else {
                    return Err(bad(&format!(
                        "import {field} found {} times in {}",
                        at.len(),
                        js.display()
                    )));
                };
                glue.replace_range(k..k + field.len(), &short);
                field = short;
            }
            for s in [short_name(m as u32).as_str(), field.as_str()] {
                push_leb(&mut new, s.len() as u32);
                new.extend_from_slice(s.as_bytes());
            }
            let desc = p;
            p = import_desc_end(section, p).ok_or_else(|| bad("an import's kind"))?;
            new.extend_from_slice(&section[desc..p]);
        }
        if p != section.len() {
            return Err(bad("bytes after the imports"));
        }
        for (m, module) in modules.iter().enumerate() {
            let key = format!("\"{module}\":");
            if glue.matches(key.as_str()).count() != 1 {
                return Err(bad(&format!("the glue's key {key} not found once")));
            }
            glue = glue.replace(key.as_str(), &format!("{}:", short_name(m as u32)));
        }
        out.push(2);
        push_leb(&mut out, new.len() as u32);
        out.extend_from_slice(&new);
        renamed = true;
        at = end;
    }
    if !renamed {
        return Err(bad("no import section"));
    }
    std::fs::write(wasm, out).map_err(|e| e.to_string())?;
    std::fs::write(&ts, declared).map_err(|e| e.to_string())?;
    std::fs::write(js, glue).map_err(|e| e.to_string())
}

/// The export section with wasm-bindgen's own exports renamed short (`_a`,
/// `_b`, ...): those with a `_` in their name (`__wbindgen_malloc`, the
/// closures' `wasm_bindgen__convert__closures_____invoke__<hash>`, class
/// methods) that the glue reads as `.name`; every such read in the glue
/// and the declaration in `_bg.wasm.d.ts` follow. `memory` and the
/// exported functions' own names stay.
fn short_exports(section: &[u8], glue: &mut String, declared: &mut String) -> Option<Vec<u8>> {
    let mut new = Vec::new();
    let (count, mut p) = leb(section, 0)?;
    push_leb(&mut new, count);
    let mut renamed = 0;
    for _ in 0..count {
        let (n, s) = leb(section, p)?;
        let mut name = String::from_utf8(section.get(s..s + n as usize)?.to_vec()).ok()?;
        p = s + n as usize;
        let (_, end) = leb(section, p + 1)?;
        let reads: Vec<usize> = glue
            .match_indices(name.as_str())
            .map(|(k, _)| k)
            .filter(|&k| k > 0 && glue.as_bytes()[k - 1] == b'.' && ident_at(glue, k, name.len()))
            .collect();
        if name.contains('_') && !reads.is_empty() {
            let short = format!("_{}", short_name(renamed));
            renamed += 1;
            for &k in reads.iter().rev() {
                glue.replace_range(k..k + name.len(), &short);
            }
            let line = format!("export const {name}:");
            if declared.matches(line.as_str()).count() != 1 {
                return None;
            }
            *declared = declared.replace(line.as_str(), &format!("export const {short}:"));
            name = short;
        }
        push_leb(&mut new, name.len() as u32);
        new.extend_from_slice(name.as_bytes());
        new.extend_from_slice(section.get(p..end)?);
        p = end;
    }
    (p == section.len()).then_some(new)
}

/// `a` ... `z`, `A` ... `Z`, then two letters: identifiers, so the glue's
/// keys need no quotes.
fn short_name(i: u32) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let n = LETTERS.len() as u32;
    let mut s = String::new();
    if i >= n {
        s.push(LETTERS[(i / n - 1) as usize % LETTERS.len()] as char);
    }
    s.push(LETTERS[(i % n) as usize] as char);
    s
}

/// Whether `text[at..at + len]` is a whole identifier (not part of a longer one).
fn ident_at(text: &str, at: usize, len: usize) -> bool {
    let part = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    let b = text.as_bytes();
    let before = at.checked_sub(1).and_then(|i| b.get(i));
    !before.is_some_and(|&c| part(c)) && !b.get(at + len).is_some_and(|&c| part(c))
}

/// An unsigned LEB128 at `at`: the value and where it ends.
fn leb(b: &[u8], mut at: usize) -> Option<(u32, usize)> {
    let mut v: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *b.get(at)?;
        at += 1;
        v |= u32::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((v, at));
        }
    }
    None
}

fn push_leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Where an import's description (after its two names) ends.
fn import_desc_end(b: &[u8], at: usize) -> Option<usize> {
    let limits = |at: usize| -> Option<usize> {
        let flags = *b.get(at)?;
        let (_, at) = leb(b, at + 1)?;
        if flags & 1 == 1 {
            leb(b, at).map(|(_, at)| at)
        } else {
            Some(at)
        }
    };
    match *b.get(at)? {
        0 => leb(b, at + 1).map(|(_, at)| at),
        1 => limits(at + 2),
        2 => limits(at + 1),
        3 => Some(at + 3),
        4 => leb(b, at + 2).map(|(_, at)| at),
        _ => None,
    }
}
