// Row 1: the bytes a user downloads, gzip -9 (the same `gzip -9 -c FILE` as
// `cargo xtask build`). Ours: the wasm and the JS glue (the GraphError class
// bundled in since 2026-12-01) as built, and the same for the refresh-only
// entry (row 1b). The anchors: each contender module (contenders/*.js, the
// code rows 2 and 3 run) bundled by esbuild --bundle --minify --format=esm
// --platform=browser, so each is tree-shaken to this one call.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { GLUE, WASM, emit, env, need } from "./lib.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const out = join(need("BENCH_OUT", process.env.BENCH_OUT), "size");
mkdirSync(out, { recursive: true });

const gz = (file) => execFileSync("gzip", ["-9", "-c", file], { maxBuffer: 1 << 28 }).length;
const raw = (file) => statSync(file).size;

async function bundle(name, entry) {
  const outfile = join(out, `${name}.min.js`);
  await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    outfile,
    logLevel: "warning",
    legalComments: "none",
  });
  return { raw: raw(outfile), gzip: gz(outfile) };
}

const pkg = need("BENCH_PKG", env.pkg);
// The wasm and the glue (what `cargo xtask build` adds up), for the whole
// package and for the refresh-only entry (pkg/refresh/, row 1b). A build
// from before 2026-12-01 has the GraphError class in a graph_error.js of its
// own beside the glue, which the glue imports: counted when present; since
// 2026-12-04 both glues import the package's one graph-error.js (issue 23).
function weigh(dir) {
  const wasm = join(dir, WASM);
  const js = [join(dir, GLUE), join(dir, "graph_error.js"), join(pkg, "graph-error.js")].filter((f) => existsSync(f));
  const w = { wasm: { raw: raw(wasm), gzip: gz(wasm) }, js: { raw: 0, gzip: 0 } };
  for (const f of js) {
    w.js.raw += raw(f);
    w.js.gzip += gz(f);
  }
  w.gzip = w.wasm.gzip + w.js.gzip;
  w.raw = w.wasm.raw + w.js.raw;
  return w;
}
const glue = join(pkg, GLUE);
const ours = weigh(pkg);
const refresh = weigh(join(pkg, "refresh"));

// For information: our glue as a bundler would ship it (what an app that
// bundles the package downloads), beside the wasm.
const entry = join(out, "ours-entry.js");
writeFileSync(entry, `export { default as init, refreshSession } from ${JSON.stringify(glue)};\n`);
const oursBundled = await bundle("ours-glue", entry);
const refreshEntry = join(out, "refresh-entry.js");
writeFileSync(refreshEntry, `export { default as init, refreshSession } from ${JSON.stringify(join(pkg, "refresh", GLUE))};\n`);
const refreshBundled = await bundle("refresh-glue", refreshEntry);

const anchors = {};
for (const name of ["graph-sdk", "ky", "fetch"]) {
  anchors[name] = await bundle(name, join(here, "contenders", `${name}.js`));
}
// The floor: bench/floor/ (one refreshSession through fetch from a Rust
// async fn, nothing else), built by `cargo xtask bench` into BENCH_FLOOR
// with bench/floor/build.sh; absent when that build failed.
const floorDir = process.env.BENCH_FLOOR;
if (floorDir && existsSync(join(floorDir, "floor_bg.wasm")) && existsSync(join(floorDir, "floor.min.js"))) {
  const wasm = join(floorDir, "floor_bg.wasm");
  const js = join(floorDir, "floor.min.js");
  anchors.floor = { raw: raw(wasm) + raw(js), gzip: gz(wasm) + gz(js) };
}

emit({
  ours,
  oursGlueBundled: { js: oursBundled, gzip: ours.wasm.gzip + oursBundled.gzip },
  refresh,
  refreshGlueBundled: { js: refreshBundled, gzip: refresh.wasm.gzip + refreshBundled.gzip },
  anchors,
  goalBytes: 25600,
  met: ours.gzip <= 25600,
  refreshGoalBytes: 10240,
});
