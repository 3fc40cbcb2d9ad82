// Where one refreshSession's time goes, phase by phase (not a row of the
// table: the profile behind rows 2 and 8). Needs a build with the `phases`
// feature, which times each phase inside the wasm with performance.now()
// (src/shell/phases.rs); `cargo xtask bench phases` builds one into
// target/bench/phases and runs this script against the emulator.
//
// Two runs of sequential calls, taking turns in rounds:
//   stubbed  `fetch` answers at once with one shared 204 Response: the
//            package's own cost, with hot caches;
//   emulator the real call over loopback, beside a raw fetch of the same
//            request: the same phases with undici's work in between.
// Beside them, two anchors: a raw fetch of the same request, and the same
// with an AbortController and a timer (what bounding an attempt costs).
// Per phase: median µs per call over the rounds. "outside the phases" is the
// call's wall time (measured in JS) minus the phases: the async glue that
// starts the call and settles its promise.

import { performance } from "node:perf_hooks";
import { arg, createSession, env, GLUE, graphBase, ITEM, median, need, TOKEN, WASM } from "./lib.mjs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const dir = need("BENCH_PKG", env.pkg);
const base = graphBase(need("BENCH_EMULATOR_URL", env.emulator));
const rounds = Number(arg("rounds", env.quick ? 4 : 12));
const perRound = Number(arg("calls", env.quick ? 200 : 1000));

const glue = await import(pathToFileURL(join(dir, GLUE)).href);
glue.initSync({ module: readFileSync(join(dir, WASM)) });
if (typeof glue.__gws_phases !== "function") throw new Error(`${dir} was not built with --features phases`);
const PHASES = ["(idle)", "reading the options", "checking them (Call::new)", "the token", "attempt set-up (AbortController, timer, fetch init)", "fetch, until the answer's head", "reading the answer", "after the answer (retry decision)", "the result into JS"];

const sessionId = await createSession(base);
const stub = new Response(null, { status: 204, headers: { "request-id": "5e8b6c1a-0000-4000-8000-000000000001" } });
const runs = {
  stubbed: () => glue.refreshSession({ workbook: ITEM, sessionId, accessToken: TOKEN, baseUrl: base, fetch: () => stub }),
  emulator: () => glue.refreshSession({ workbook: ITEM, sessionId, accessToken: TOKEN, baseUrl: base }),
};
const url = `${base}${ITEM}/workbook/refreshSession`;
const headers = () => ({ authorization: `Bearer ${TOKEN}`, "workbook-session-id": sessionId });
const raw = async () => {
  const r = await fetch(url, { method: "POST", headers: headers() });
  if (r.status !== 204) throw new Error(`raw fetch: ${r.status}`);
};
// The least any call with an abortable per-attempt timeout can cost: a raw
// fetch with its own AbortController and timer (undici follows the signal).
const rawWithTimer = async () => {
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(), 30000);
  try {
    const r = await fetch(url, { method: "POST", headers: headers(), signal: c.signal });
    if (r.status !== 204) throw new Error(`raw fetch: ${r.status}`);
  } finally {
    clearTimeout(timer);
  }
};

const samples = { stubbed: [], emulator: [], fetch: [], timer: [] };
const anchors = { fetch: raw, timer: rawWithTimer };
for (let round = 0; round <= rounds; round++) {
  for (const name of ["stubbed", "emulator", "fetch", "timer"]) {
    const call = anchors[name] ?? runs[name];
    const p0 = Array.from(glue.__gws_phases());
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) await call();
    const wall = performance.now() - t0;
    const p1 = Array.from(glue.__gws_phases());
    // Round 0 warms up the JIT and the connection pool.
    if (round > 0) samples[name].push({ wall, phases: p1.map((v, k) => v - p0[k]) });
  }
}

const us = (ms) => (ms * 1000) / perRound;
const column = (name) => {
  const s = samples[name];
  const wall = median(s.map((x) => us(x.wall)));
  const phases = PHASES.map((_, k) => median(s.map((x) => us(x.phases[k]))));
  return { wall, phases };
};
const cols = { stubbed: column("stubbed"), emulator: column("emulator") };
const fetchUs = median(samples.fetch.map((x) => us(x.wall)));
const timerUs = median(samples.timer.map((x) => us(x.wall)));
const fmt = (v) => v.toFixed(1).padStart(9);
console.log(`refreshSession, µs per call (median of ${rounds} rounds of ${perRound} sequential calls)`);
console.log(`${"phase".padEnd(54)}${"stubbed".padStart(9)}${"emulator".padStart(9)}`);
let inside = { stubbed: 0, emulator: 0 };
PHASES.forEach((p, k) => {
  if (k === 0) return;
  inside.stubbed += cols.stubbed.phases[k];
  inside.emulator += cols.emulator.phases[k];
  console.log(`${p.padEnd(54)}${fmt(cols.stubbed.phases[k])}${fmt(cols.emulator.phases[k])}`);
});
console.log(`${"outside the phases (async glue, promise settling)".padEnd(54)}${fmt(cols.stubbed.wall - inside.stubbed)}${fmt(cols.emulator.wall - inside.emulator)}`);
console.log(`${"the whole call".padEnd(54)}${fmt(cols.stubbed.wall)}${fmt(cols.emulator.wall)}`);
const ownEmu = cols.emulator.wall - cols.emulator.phases[5];
console.log(`raw fetch of the same request: ${fetchUs.toFixed(1)} µs; ours ${(cols.emulator.wall / fetchUs).toFixed(2)}× it; ours outside fetch: ${ownEmu.toFixed(1)} µs`);
console.log(`raw fetch with its own AbortController and timer: ${timerUs.toFixed(1)} µs, ${(timerUs / fetchUs).toFixed(2)}× raw fetch`);
