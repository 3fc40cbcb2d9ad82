// Shared helpers of the benchmark scripts: the contenders, the emulator, and
// small statistics. Every script gets its settings from the environment that
// `cargo xtask bench` sets (see run.mjs).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const env = {
  /** Snapshot of pkg/ taken when the run started (target/bench/pkg). */
  pkg: process.env.BENCH_PKG,
  /** Emulator with default TTLs (rows 2-5). */
  emulator: process.env.BENCH_EMULATOR_URL,
  /** Emulator with TTLs of seconds (row 6). */
  shortEmulator: process.env.BENCH_EMULATOR_SHORT_URL,
  quick: process.env.BENCH_QUICK === "1",
};

export const GLUE = "graph_workbook_session.js";
export const WASM = "graph_workbook_session_bg.wasm";
export const GRAPH = "https://graph.microsoft.com/v1.0";
export const TOKEN = "bench-token";
export const ITEM = "/me/drive/items/BENCH";

export function need(name, value) {
  if (!value) throw new Error(`${name} is not set: run the benchmarks with cargo xtask bench`);
  return value;
}

/** Loads our package from the snapshot: the glue, then initSync with the wasm bytes (once). */
let ours = null;
export async function loadOurs() {
  ours ??= instantiateOurs();
  return ours;
}

async function instantiateOurs() {
  const dir = need("BENCH_PKG", env.pkg);
  const glue = await import(pathToFileURL(join(dir, GLUE)).href);
  const exports = glue.initSync({ module: readFileSync(join(dir, WASM)) });
  if (!exports || !(exports.memory instanceof WebAssembly.Memory)) {
    throw new Error("initSync did not return the wasm exports with their memory");
  }
  return { glue, exports };
}

/**
 * The Graph SDK attaches the token only to https Graph hosts, so it is given
 * the real Graph URL and, while it runs, `fetch` maps that URL to the
 * emulator (one startsWith and one string concatenation per call). Returns
 * the function that restores the real fetch.
 */
export function installGraphFetchShim(base /* {emulator}/v1.0 */) {
  const real = globalThis.fetch;
  globalThis.fetch = (input, init) =>
    real(typeof input === "string" && input.startsWith(GRAPH) ? base + input.slice(GRAPH.length) : input, init);
  return () => {
    globalThis.fetch = real;
  };
}

/** Row 8's request: one cell of Sheet1, relative to `{base}{workbook}/workbook`. */
export const RANGE = "/worksheets('Sheet1')/range(address='A1')";

/**
 * The contenders of the speed rows, each `{ name, call(workbook, sessionId),
 * enter(), leave(), close() }`: enter/leave bracket a run of calls (the Graph
 * SDK's fetch mapping); close ends what setting up opened. `kind` is the call:
 *
 * - "refresh" (rows 2 to 4): one refreshSession; `contenders/NAME.js`.
 * - "range-get" (row 8): a GET of RANGE inside the session, the body read as
 *   JSON; `contenders/range-get/NAME.js`. Ours is `session.fetch(RANGE)` and
 *   `.json()` on a WorkbookSession created here on ITEM: the session carries
 *   its workbook and id, so the call's arguments (ITEM and the anchors'
 *   session id) are not its.
 */
export async function contenders(base, names = ["ours", "fetch", "graph-sdk", "ky"], kind = "refresh") {
  if (kind !== "refresh" && kind !== "range-get") throw new Error(`unknown kind of call ${JSON.stringify(kind)}`);
  const dir = kind === "refresh" ? "./contenders" : `./contenders/${kind}`;
  const none = () => {};
  const out = [];
  for (const name of names) {
    if (name === "ours" && kind === "refresh") {
      const { glue } = await loadOurs();
      out.push({
        name,
        call: (workbook, sessionId) => glue.refreshSession({ workbook, sessionId, accessToken: TOKEN, baseUrl: base }),
        enter: none,
        leave: none,
        close: none,
      });
    } else if (name === "ours") {
      const { glue } = await loadOurs();
      const session = await glue.WorkbookSession.create({ workbook: ITEM, accessToken: TOKEN, baseUrl: base });
      out.push({
        name,
        call: async () => (await session.fetch(RANGE)).json(),
        enter: none,
        leave: none,
        close: () => session.close(),
      });
    } else if (name === "graph-sdk") {
      const { setup } = await import(`${dir}/graph-sdk.js`);
      let restore = null;
      out.push({
        name,
        call: setup({ baseUrl: GRAPH, accessToken: TOKEN, path: RANGE }),
        enter() {
          restore = installGraphFetchShim(base);
        },
        leave() {
          restore?.();
          restore = null;
        },
        close: none,
      });
    } else {
      const { setup } = await import(`${dir}/${name}.js`);
      out.push({ name, call: setup({ baseUrl: base, accessToken: TOKEN, path: RANGE }), enter: none, leave: none, close: none });
    }
  }
  return out;
}

/** createSession through a raw fetch; returns the session id. */
export async function createSession(base, workbook = ITEM) {
  const r = await fetch(`${base}${workbook}/workbook/createSession`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: '{"persistChanges":true}',
  });
  if (r.status !== 201) throw new Error(`createSession answered ${r.status}: ${await r.text()}`);
  return (await r.json()).id;
}

/** Writes `values` to RANGE through a raw fetch in the session (row 8 reads it back). */
export async function writeRange(base, sessionId, values, workbook = ITEM) {
  const r = await fetch(`${base}${workbook}/workbook${RANGE}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${TOKEN}`, "workbook-session-id": sessionId, "content-type": "application/json" },
    body: JSON.stringify({ values }),
  });
  if (r.status !== 200) throw new Error(`PATCH ${RANGE} answered ${r.status}: ${await r.text()}`);
  await r.arrayBuffer();
}

/** Graph base URL ({emulator}/v1.0) of an emulator URL. */
export const graphBase = (emulatorUrl) => `${emulatorUrl}/v1.0`;

export function median(xs) {
  return percentile(xs, 0.5);
}

export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(s.length * p) - 1));
  return s[i];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn(i)` for i in 0..n with at most `limit` in flight. */
export async function pool(n, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** Writes a row script's result where run.mjs reads it (argv: --out PATH). */
export function emit(result) {
  const i = process.argv.indexOf("--out");
  const json = JSON.stringify(result, null, 2);
  if (i > 0) writeFileSync(process.argv[i + 1], json);
  else console.log(json);
}

export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

export const log = (...a) => console.error("  ", ...a);
