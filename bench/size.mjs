// Row 1: the bytes a user downloads, gzip -9 (the same `gzip -9 -c FILE` as
// `cargo xtask build`). Ours: the wasm and the JS glue as built. The anchors:
// each contender module (contenders/*.js, the code rows 2 and 3 run) bundled
// by esbuild --bundle --minify --format=esm --platform=browser, so each is
// tree-shaken to this one call.

import { execFileSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
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
const wasm = join(pkg, WASM);
const glue = join(pkg, GLUE);
const ours = {
  wasm: { raw: raw(wasm), gzip: gz(wasm) },
  js: { raw: raw(glue), gzip: gz(glue) },
};
ours.gzip = ours.wasm.gzip + ours.js.gzip;
ours.raw = ours.wasm.raw + ours.js.raw;

// For information: our glue as a bundler would ship it (what an app that
// bundles the package downloads), beside the wasm.
const entry = join(out, "ours-entry.js");
writeFileSync(entry, `export { default as init, refreshSession } from ${JSON.stringify(glue)};\n`);
const oursBundled = await bundle("ours-glue", entry);

const anchors = {};
for (const name of ["graph-sdk", "ky", "fetch"]) {
  anchors[name] = await bundle(name, join(here, "contenders", `${name}.js`));
}

emit({
  ours,
  oursGlueBundled: { js: oursBundled, gzip: ours.wasm.gzip + oursBundled.gzip },
  anchors,
  goalBytes: 10240,
  met: ours.gzip <= 10240,
});
