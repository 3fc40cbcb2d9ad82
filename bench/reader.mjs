// Call overhead of builds of the package side by side, with `fetch` stubbed:
// what one refreshSession costs in the package itself (option reading, the
// attempt's AbortController and timer, the result), without a network. Used
// to weigh one build against another (bench/README.md, "The design card's
// crates"), not a row of `cargo xtask bench`.
//
//   node bench/reader.mjs hand=pkg other=/tmp/pkg-other [--rounds 30] [--calls 2000] [--concurrent 1000]
//
// Each LABEL=DIR is a package directory as `cargo xtask build` writes it
// (glue + wasm), loaded with initSync as its own instance. The builds take
// turns in rounds, the order rotating each round; round 0 warms up and is not
// counted. Prints the median µs per call of each build and its ratio to the
// first.

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(args[i + 1]);
};
const rounds = opt("rounds", 30);
const calls = opt("calls", 2000);
// --concurrent N: the calls started N at a time (Promise.all), as row 3
// does with 1,000, so that N calls' allocations are live at once.
const concurrent = opt("concurrent", 1);
const builds = [];
for (const a of args.filter((a) => a.includes("="))) {
  const [label, dir] = a.split("=");
  const glue = await import(pathToFileURL(resolve(dir, "graph_workbook_session.js")).href);
  glue.initSync({ module: readFileSync(join(dir, "graph_workbook_session_bg.wasm")) });
  builds.push({ label, glue, samples: [] });
}
if (builds.length === 0) throw new Error("usage: node bench/reader.mjs LABEL=PKGDIR [LABEL=PKGDIR ...]");

// One 204 answer, shared: a 204 body is never read.
const answer = new Response(null, { status: 204, headers: { "request-id": "5e8b6c1a-0000-4000-8000-000000000001" } });
globalThis.fetch = () => Promise.resolve(answer);

// The options a typical caller passes: the four of the contract's example.
const options = {
  workbook: "/me/drive/items/01ABC",
  sessionId: "cluster=PS1&session=15.SN3PEPF000074F1.A82.1.V24.6230",
  accessToken: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.bench",
  baseUrl: "https://graph.microsoft.com/v1.0",
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

for (let round = 0; round <= rounds; round++) {
  for (let k = 0; k < builds.length; k++) {
    const b = builds[(round + k) % builds.length];
    const t = performance.now();
    for (let i = 0; i < calls; i += concurrent) {
      if (concurrent === 1) {
        const r = await b.glue.refreshSession(options);
        if (r.status !== 204) throw new Error(`${b.label}: status ${r.status}`);
        continue;
      }
      const rs = await Promise.all(Array.from({ length: concurrent }, () => b.glue.refreshSession(options)));
      if (rs.some((r) => r.status !== 204)) throw new Error(`${b.label}: a status other than 204`);
    }
    if (round > 0) b.samples.push(((performance.now() - t) * 1000) / calls);
  }
}

const first = median(builds[0].samples);
for (const b of builds) {
  const m = median(b.samples);
  console.log(
    `${b.label.padEnd(12)} ${m.toFixed(2)} µs per call (median of ${rounds} rounds of ${calls}), ` +
      `${(m / first).toFixed(3)}× ${builds[0].label}`,
  );
}
