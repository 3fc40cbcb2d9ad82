// Row 6: keep-alive at scale, in a process of its own (node --expose-gc),
// against the emulator with TTLs of seconds (BENCH_EMULATOR_SHORT_URL).
//
//   --contender ours    N WorkbookSession.create + keepAlive({ intervalMs })
//   --contender pool    N sessions made by graph-workbook-session/pool's
//                       SessionPool({ intervalMs }): the refreshes due within a
//                       window go out through $batch, 20 per request.
//   --contender fetch   the anchor: N sessions created with a raw fetch, each
//                       kept alive by a hand-written setTimeout loop with the
//                       same interval and ±10 % jitter.
//
// Sessions are created 64 at a time and each starts its keep-alive as soon as
// it exists. The row's emulator creates sessions fast (`--operation-delay-ms
// 0`): it answers 201 at once even to `Prefer: respond-async`, which ours
// and the pool send (preferAsync defaults to true), as Graph does when a
// creation finishes within seconds (workbook-best-practice.md). So every
// contender creates a session in one request; with the emulator's default
// 2 s operation, ours polled each one (no less than 1 s apart) and took
// 394 to 553 s for what the hand loop did in seconds. After a settling time of one interval, a window of W seconds
// counts refreshes, HTTP requests, errors and lost sessions, the process's CPU time
// (process.cpuUsage, as a share of one core) and the event-loop delay.
// Then: memory after GC, and the emulator's own list of live sessions, which
// must still hold every session (none lost).

import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { arg, emit, env, graphBase, loadOurs, log, need, pool, sleep, TOKEN } from "./lib.mjs";

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");

const who = arg("contender", "ours");
const emulator = need("BENCH_EMULATOR_SHORT_URL", env.shortEmulator);
const base = graphBase(emulator);
const N = Number(arg("sessions", env.quick ? 2000 : 10000));
const intervalMs = Number(arg("interval-ms", process.env.BENCH_KEEPALIVE_INTERVAL_MS ?? 10000));
const windowMs = Number(arg("window-ms", env.quick ? 8000 : 30000));
// Not part of the row: blocks the event loop this long once, at the start
// of the window (a GC pause, a busy neighbour), to see whether a contender
// comes back to the expected rate or stays behind.
const stallMs = Number(arg("stall-ms", 0));
const workbook = (i) => `/me/drive/items/KEEP${i % 100}`;

// The emulator's TTL must leave room for the interval (and nobody else may
// have changed it through the control API).
const config = await (await fetch(`${emulator}/_emulator/config`)).json();
const emulatorTtlMs = Math.min(config.persistentTtlMs, config.nonPersistentTtlMs);
if (!(emulatorTtlMs >= 2 * intervalMs)) {
  throw new Error(`the emulator's TTL (${emulatorTtlMs} ms) is under twice the keep-alive interval (${intervalMs} ms)`);
}

const counts = { refreshes: 0, requests: 0, errors: 0, lost: 0 };
// Every contender's HTTP requests, counted at its fetch.
const countingFetch = (input, init) => {
  counts.requests++;
  return fetch(input, init);
};
let memory = null;
let ids; // () => string[], the live session ids as the client sees them
let activeCount; // () => number
let stopAll;

const tCreate = performance.now();
if (who === "ours") {
  const { glue, exports } = await loadOurs();
  memory = exports.memory;
  const sessions = new Array(N);
  const options = {
    intervalMs,
    onRefresh: () => counts.refreshes++,
    onError: () => counts.errors++,
    onLost: () => counts.lost++,
  };
  await pool(N, 64, async (i) => {
    const s = await glue.WorkbookSession.create({ workbook: workbook(i), accessToken: TOKEN, baseUrl: base, fetch: countingFetch });
    s.keepAlive(options);
    sessions[i] = s;
  });
  ids = () => sessions.map((s) => s.id);
  activeCount = () => sessions.filter((s) => s.state === "active").length;
  stopAll = () => sessions.forEach((s) => s.stop());
} else if (who === "pool") {
  const { glue, exports } = await loadOurs();
  memory = exports.memory;
  const { definePool } = await import(pathToFileURL(join(need("BENCH_PKG", env.pkg), "pool.js")).href);
  const SessionPool = definePool(glue);
  const sessionPool = new SessionPool({
    accessToken: TOKEN,
    baseUrl: base,
    fetch: countingFetch,
    intervalMs,
    onRefresh: () => counts.refreshes++,
    onError: () => counts.errors++,
    onLost: () => counts.lost++,
  });
  const sessions = new Array(N);
  await pool(N, 64, async (i) => {
    sessions[i] = await sessionPool.create({ workbook: workbook(i) });
  });
  ids = () => sessions.map((s) => s.id);
  activeCount = () => sessions.filter((s) => s.state === "active").length;
  stopAll = () => sessionPool.stop();
} else {
  const sessions = new Array(N);
  const headers = { authorization: `Bearer ${TOKEN}` };
  const tick = (s) => {
    s.timer = setTimeout(
      async () => {
        try {
          const r = await countingFetch(`${base}${s.workbook}/workbook/refreshSession`, {
            method: "POST",
            headers: { ...headers, "workbook-session-id": s.id },
          });
          if (r.status === 204) counts.refreshes++;
          else if (r.status === 404) {
            counts.lost++;
            s.lost = true;
            return;
          } else counts.errors++;
        } catch {
          counts.errors++;
        }
        if (!s.stopped) tick(s);
      },
      intervalMs * (0.9 + 0.2 * Math.random()),
    );
  };
  await pool(N, 64, async (i) => {
    const r = await countingFetch(`${base}${workbook(i)}/workbook/createSession`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: '{"persistChanges":true}',
    });
    if (r.status !== 201) throw new Error(`createSession answered ${r.status}`);
    const s = { id: (await r.json()).id, workbook: workbook(i), stopped: false, lost: false, timer: null };
    tick(s);
    sessions[i] = s;
  });
  ids = () => sessions.map((s) => s.id);
  activeCount = () => sessions.filter((s) => !s.lost).length;
  stopAll = () =>
    sessions.forEach((s) => {
      s.stopped = true;
      clearTimeout(s.timer);
    });
}
const createSeconds = (performance.now() - tCreate) / 1000;
log(`${who}: ${N} sessions created in ${createSeconds.toFixed(1)} s, keep-alive every ${intervalMs} ms`);

await sleep(intervalMs);
const start = { ...counts };
const RESOLUTION_MS = 10;
const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
loop.enable();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
if (stallMs > 0) {
  const until = performance.now() + stallMs;
  while (performance.now() < until);
}
await sleep(windowMs);
const wallUs = (performance.now() - t0) * 1000;
const cpu = process.cpuUsage(cpu0);
loop.disable();
const window = {
  seconds: wallUs / 1e6,
  refreshes: counts.refreshes - start.refreshes,
  errors: counts.errors - start.errors,
  lost: counts.lost - start.lost,
  requests: counts.requests - start.requests,
};
window.refreshesPerSecond = window.refreshes / window.seconds;
window.requestsPerSecond = window.requests / window.seconds;
const cpuShare = (cpu.user + cpu.system) / wallUs;

// Ask the emulator which of our sessions are still alive.
const listed = await (await fetch(`${emulator}/_emulator/sessions`)).json();
const live = new Set((listed.sessions ?? []).map((s) => s.id));
const missing = ids().filter((id) => !live.has(id)).length;
const active = activeCount();
stopAll();

for (let i = 0; i < 4; i++) {
  globalThis.gc();
  await sleep(20);
}
const mem = process.memoryUsage();
const result = {
  contender: who,
  sessions: N,
  intervalMs,
  emulatorTtlMs,
  // Whether createSession answered 201 at once (a fast creation) for the
  // contenders that send Prefer: respond-async.
  createAnswers201: config.operationDelayMs < config.syncCreateBelowMs,
  stallMs,
  expectedPerSecond: N / (intervalMs / 1000),
  createSeconds,
  window,
  cpuShare,
  // The histogram holds whole timer periods: the delay is what exceeds the resolution.
  eventLoopDelayMs: {
    p50: Math.max(0, loop.percentile(50) / 1e6 - RESOLUTION_MS),
    p99: Math.max(0, loop.percentile(99) / 1e6 - RESOLUTION_MS),
    max: Math.max(0, loop.max / 1e6 - RESOLUTION_MS),
  },
  memory: {
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    wasmBytes: memory ? memory.buffer.byteLength : 0,
  },
  lostTotal: counts.lost,
  errorsTotal: counts.errors,
  activeAtEnd: active,
  missingOnEmulator: missing,
};
result.sessionsLost = Math.max(N - active, missing, counts.lost);
log(
  `${who}: ${window.refreshesPerSecond.toFixed(0)} refreshes/s (expected ${result.expectedPerSecond}) in ${window.requestsPerSecond.toFixed(0)} HTTP requests/s, CPU ${(cpuShare * 100).toFixed(0)} % of a core,` +
    ` ${result.sessionsLost} lost, ${counts.errors} errors, RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB`,
);
emit(result);
process.exit(0);
