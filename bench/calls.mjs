// Rows 2, 3 and 8: the cost of one call against the emulator in Node, ours
// beside a raw fetch, the Graph SDK and ky.
//
//   --mode sequential   N calls one after another; median µs per call.
//   --mode concurrent   1,000 calls at once; wall time of the batch.
//   --call refresh      the call is refreshSession (rows 2 and 3; the default).
//   --call range-get    the call is a GET of one cell inside a session, its
//                       body read as JSON: ours `session.fetch(RANGE)` on a
//                       WorkbookSession, then `.json()` (row 8, sequential).
//
// The contenders take turns in rounds (the order rotating each round), so a
// burst of load from elsewhere on the machine hits all of them alike. All of
// them go through Node's one global fetch (undici) and so share its
// connection pool; before each measured concurrent batch the contender runs
// an unmeasured batch of the same size, so every measured batch finds the
// same warm pool.

import { performance } from "node:perf_hooks";
import { arg, contenders, createSession, emit, env, graphBase, ITEM, log, median, need, percentile, RANGE, writeRange } from "./lib.mjs";

const mode = arg("mode", "sequential");
const kind = arg("call", "refresh");
const base = graphBase(need("BENCH_EMULATOR_URL", env.emulator));
const sessionId = await createSession(base);
if (kind === "range-get") {
  // A number in the cell, before ours opens its session on the same item, so
  // that every contender reads the same body; checked once per contender.
  await writeRange(base, sessionId, [[42]]);
}
const all = await contenders(base, undefined, kind);
if (kind === "range-get") {
  for (const c of all) {
    c.enter();
    try {
      const body = await c.call(ITEM, sessionId);
      if (JSON.stringify(body?.values) !== "[[42]]") throw new Error(`${c.name}: GET ${RANGE} read ${JSON.stringify(body)}`);
    } finally {
      c.leave();
    }
  }
}

async function sequential() {
  const rounds = env.quick ? 6 : 30;
  const perRound = env.quick ? 50 : 200;
  const samples = Object.fromEntries(all.map((c) => [c.name, []]));
  // Round 0 warms up the JIT and the pool; it is not counted.
  for (let round = 0; round <= rounds; round++) {
    for (let k = 0; k < all.length; k++) {
      const c = all[(round + k) % all.length];
      c.enter();
      try {
        for (let i = 0; i < perRound; i++) {
          const t = performance.now();
          await c.call(ITEM, sessionId);
          if (round > 0) samples[c.name].push((performance.now() - t) * 1000);
        }
      } finally {
        c.leave();
      }
    }
  }
  const figures = {};
  for (const c of all) {
    const s = samples[c.name];
    figures[c.name] = { calls: s.length, medianUs: median(s), p90Us: percentile(s, 0.9), p99Us: percentile(s, 0.99) };
    log(`${c.name.padEnd(10)} median ${figures[c.name].medianUs.toFixed(1)} µs over ${s.length} calls`);
  }
  return { callsPerContender: rounds * perRound, rounds, figures };
}

async function concurrent() {
  const n = 1000;
  const rounds = env.quick ? 2 : 8;
  const walls = Object.fromEntries(all.map((c) => [c.name, []]));
  const batch = async (c) => {
    const t = performance.now();
    const ps = new Array(n);
    for (let i = 0; i < n; i++) ps[i] = c.call(ITEM, sessionId);
    await Promise.all(ps);
    return performance.now() - t;
  };
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < all.length; k++) {
      const c = all[(round + k) % all.length];
      c.enter();
      try {
        await batch(c); // warm: fills the pool, settles the JIT
        walls[c.name].push(await batch(c));
      } finally {
        c.leave();
      }
    }
  }
  const figures = {};
  for (const c of all) {
    const w = walls[c.name];
    figures[c.name] = { batches: w.length, medianMs: median(w), minMs: Math.min(...w), maxMs: Math.max(...w) };
    log(`${c.name.padEnd(10)} median ${figures[c.name].medianMs.toFixed(1)} ms for ${n} concurrent calls`);
  }
  return { concurrency: n, rounds, figures };
}

const result = mode === "concurrent" ? await concurrent() : await sequential();
for (const c of all) await c.close();
emit({ call: kind, ...(kind === "range-get" ? { path: RANGE } : {}), ...result });
