// Row 4: memory under churn, in a process of its own (node --expose-gc).
//
//   --contender ours    100,000 sequential refreshSession calls, then 10,000
//                       WorkbookSession create/close cycles (close() only, no
//                       free(): the wrapper is left to the garbage collector,
//                       as most callers leave it).
//   --contender fetch   the anchor: 100,000 raw-fetch calls.
//
// Measured after a warm-up (1,000 calls, 1,000 cycles), halfway through and
// at the end of each phase, each time after full garbage collections: the
// wasm linear memory (memory.buffer.byteLength, which only grows) and V8's
// heapUsed.

import { performance } from "node:perf_hooks";
import { arg, contenders, createSession, emit, env, graphBase, ITEM, loadOurs, log, need, sleep, TOKEN } from "./lib.mjs";

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");

const who = arg("contender", "ours");
const base = graphBase(need("BENCH_EMULATOR_URL", env.emulator));
const CALLS = env.quick ? 10_000 : 100_000;
const CYCLES = env.quick ? 1_000 : 10_000;

let memory = null;
async function snapshot() {
  // Several rounds: finalizers (FinalizationRegistry) run between them.
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(20);
  }
  return { wasmBytes: memory ? memory.buffer.byteLength : 0, heapUsedBytes: process.memoryUsage().heapUsed };
}
const growth = (a, b) => ({
  wasmBytes: b.wasmBytes - a.wasmBytes,
  heapUsedBytes: b.heapUsedBytes - a.heapUsedBytes,
});

let glue = null;
if (who === "ours") {
  const loaded = await loadOurs();
  glue = loaded.glue;
  memory = loaded.exports.memory;
}
const [c] = await contenders(base, [who]);
const sessionId = await createSession(base);

async function calls(n) {
  const t = performance.now();
  for (let i = 0; i < n; i++) await c.call(ITEM, sessionId);
  return (performance.now() - t) / 1000;
}
async function cycles(n) {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const s = await glue.WorkbookSession.create({ workbook: ITEM, accessToken: TOKEN, baseUrl: base });
    await s.close();
  }
  return (performance.now() - t) / 1000;
}

// Warm-up: JIT, the connection pool, allocator high-water marks: one-off
// costs, not growth with use.
await calls(1000);
if (glue) await cycles(1000);
const before = await snapshot();

// Each phase in two halves: growth in the second half too means growth with
// use (a leak); growth in the first half only is a one-off plateau.
async function phase(run, n) {
  const first = await run(n / 2);
  const mid = await snapshot();
  const second = await run(n / 2);
  const end = await snapshot();
  return { seconds: first + second, mid, end };
}

log(`${who}: ${CALLS} calls ...`);
const c1 = await phase(calls, CALLS);
const result = {
  contender: who,
  calls: CALLS,
  callSeconds: c1.seconds,
  before,
  afterCalls: c1.end,
  callGrowth: growth(before, c1.end),
  callGrowthSecondHalf: growth(c1.mid, c1.end),
};
if (glue) {
  log(`${who}: ${CYCLES} create/close cycles ...`);
  const c2 = await phase(cycles, CYCLES);
  Object.assign(result, {
    cycles: CYCLES,
    cycleSeconds: c2.seconds,
    afterCycles: c2.end,
    cycleGrowth: growth(c1.end, c2.end),
    cycleGrowthSecondHalf: growth(c2.mid, c2.end),
  });
}
const end = result.afterCycles ?? result.afterCalls;
result.totalGrowth = growth(before, end);
log(
  `${who}: wasm ${before.wasmBytes} → ${end.wasmBytes} B, heap ${before.heapUsedBytes} → ${end.heapUsedBytes} B` +
    ` (${result.callSeconds.toFixed(1)} s calls${glue ? `, ${result.cycleSeconds.toFixed(1)} s cycles` : ""})`,
);
emit(result);
