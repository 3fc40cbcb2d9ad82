// The bounded soak: N WorkbookSessions (default 1,000) kept alive by the
// npm package's own keep-alive for a few minutes, in one Node process,
// against the emulator with a short idle TTL, while random faults arrive
// through its control API. Run by `cargo xtask soak` (and a 30 s version by
// `cargo xtask test`); by hand, after `cargo xtask build`:
//
//   node tests/soak/soak.mjs --emulator http://127.0.0.1:PORT --ttl-ms 30000 \
//        [--sessions 1000] [--seconds 300] [--interval-ms 8000] [--seed 1]
//
// The emulator must have been started with `--persistent-ttl-ms` equal to
// --ttl-ms. Faults are of two kinds:
// * transient (429 with seconds / HTTP-date / garbage Retry-After, 503, 504,
//   dropped connections, answers cut short, slow answers, attempt timeouts,
//   throttled createSession), which must cost no session at all;
// * intended losses: a session expired through the control API, or answered
//   404 invalidSessionReCreatable / invalidSessionNotFound. Sessions with
//   `recreate: true` (half of them) must come back under a new id; the
//   others turn "lost", and only those count as intended.
// At the end every session the library believes active must be alive in the
// emulator (refreshed within its TTL), and closing them all must leave none.
// Exit code 1 when a session was lost that no fault meant to kill, when an
// active session is dead in the emulator, or when the token shows up in any
// error.

import { WorkbookSession } from "../../pkg/node.js";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const EMU = args.emulator ?? process.env.GRAPH_EMULATOR_URL;
if (!EMU) throw new Error("--emulator http://HOST:PORT is required");
const N = Number(args.sessions ?? 1000);
const SECONDS = Number(args.seconds ?? 300);
const TTL = Number(args["ttl-ms"] ?? 30000);
const INTERVAL = Number(args["interval-ms"] ?? Math.floor(TTL / 4));
const TIMEOUT = Math.min(5000, Math.floor(INTERVAL / 2));
const TOKEN = "soak-token-4be1-SECRET";
let seed = Number(args.seed ?? Date.now() % 100000);
const SEED = seed;
const random = () => {
  // mulberry32: reproducible with --seed
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const base = `${EMU}/v1.0`;
const run = Math.floor(random() * 1e9).toString(36);

async function control(method, path, body) {
  const r = await fetch(`${EMU}/_emulator${path}`, {
    // A control call never waits forever (issue 19).
    signal: AbortSignal.timeout(30_000),
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const leaks = [];
function scan(what, e) {
  const seen = new Set();
  const texts = [];
  const walk = (v, d) => {
    if (v == null || d > 4) return;
    if (typeof v === "string") return texts.push(v);
    if (typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    for (const k of Object.getOwnPropertyNames(v)) walk(v[k], d + 1);
    walk(v.cause, d + 1);
  };
  walk(e, 0);
  if (texts.some((t) => t.includes(TOKEN))) leaks.push(`${what}: ${texts.join(" | ")}`);
}

// ---- the sessions -----------------------------------------------------------

const config = await control("GET", "/config");
if (config.persistentTtlMs !== TTL) throw new Error(`the emulator's persistent TTL is ${config.persistentTtlMs}, expected ${TTL}`);

const sessions = [];
const tally = { refreshes: 0, errors: 0, recreated: 0, lostIntended: 0, lostUnintended: 0, errorCodes: {} };
const intended = new Set(); // indexes a fault meant to kill
const started = Date.now();
console.log(`soak: ${N} sessions, ${SECONDS} s, TTL ${TTL} ms, keep-alive every ${INTERVAL} ms, seed ${SEED}`);

for (let i = 0; i < N; i += 50) {
  const batch = [];
  for (let j = i; j < Math.min(N, i + 50); j++) {
    const workbook = `/me/drive/items/soak-${run}-${j}`;
    const recreate = j % 2 === 0;
    batch.push(
      WorkbookSession.create({
        workbook,
        accessToken: () => Promise.resolve(TOKEN),
        baseUrl: base,
        timeoutMs: TIMEOUT,
        maxRetries: 3,
      }).then((s) => {
        const rec = { i: j, s, workbook, recreate, ids: [s.id], lost: null };
        s.keepAlive({
          intervalMs: INTERVAL,
          recreate,
          onRefresh: () => tally.refreshes++,
          onError: (e) => {
            tally.errors++;
            tally.errorCodes[e.code] = (tally.errorCodes[e.code] ?? 0) + 1;
            scan(`onError ${j}`, e);
          },
          onRecreated: (ev) => {
            tally.recreated++;
            rec.ids.push(ev.id);
          },
          onLost: (e) => {
            scan(`onLost ${j}`, e);
            rec.lost = e;
            if (intended.has(j)) tally.lostIntended++;
            else {
              tally.lostUnintended++;
              console.log(`UNINTENDED LOSS of session ${j}: ${e.code} ${e.innerCode} ${e.message}`);
            }
          },
        });
        sessions[j] = rec;
      }),
    );
  }
  await Promise.all(batch);
}
console.log(`created ${sessions.length} sessions in ${Date.now() - started} ms`);

// ---- the faults -------------------------------------------------------------

const faults = { transient: 0, kill: 0, byKind: {} };
const count = (kind) => (faults.byKind[kind] = (faults.byKind[kind] ?? 0) + 1);
const active = () => sessions.filter((r) => r.s.state === "active" && !intended.has(r.i));
const httpDate = (ms) => new Date(Date.now() + ms).toUTCString();

const transient = [
  ["429 seconds", (p) => ({ pathContains: p, operation: "refreshSession", status: 429, retryAfter: "1", times: 1 + Math.floor(random() * 2) })],
  ["429 HTTP-date", (p) => ({ pathContains: p, operation: "refreshSession", status: 429, retryAfter: httpDate(1500), times: 1 })],
  ["429 garbage", (p) => ({ pathContains: p, operation: "refreshSession", status: 429, retryAfter: "later", times: 1 })],
  ["503", (p) => ({ pathContains: p, status: 503, retryAfter: pick(["0", "1"]), times: 1 + Math.floor(random() * 3) })],
  ["504", (p) => ({ pathContains: p, status: 504, times: 1 })],
  ["drop", (p) => ({ pathContains: p, operation: "refreshSession", drop: true, times: 1 })],
  ["drop mid-response", (p) => ({ pathContains: p, status: 503, dropMidResponse: true, times: 1 })],
  ["slow", (p) => ({ pathContains: p, delayMs: Math.floor(TIMEOUT / 3), times: 2 })],
  ["attempt timeout", (p) => ({ pathContains: p, delayMs: TIMEOUT + 1500, times: 1 })],
  ["HTML 502 then retried 503", (p) => ({ pathContains: p, status: 503, contentType: "text/html", body: "<html>busy</html>", times: 1 })],
];
const broad = [
  ["503 on the next 25 refreshes", () => ({ operation: "refreshSession", status: 503, retryAfter: "0", times: 25 })],
  ["429 on the next 25 refreshes", () => ({ operation: "refreshSession", status: 429, retryAfter: "1", times: 25 })],
  ["slow next 25 refreshes", () => ({ operation: "refreshSession", delayMs: 700, times: 25 })],
  ["503 on the next 3 createSessions", () => ({ operation: "createSession", status: 503, retryAfter: "0", times: 3 })],
];

async function killOne() {
  const victims = active();
  if (victims.length < 2) return;
  const r = pick(victims);
  intended.add(r.i);
  faults.kill++;
  const how = pick(["expire", "404 recreatable", "404 not found"]);
  count(`kill: ${how}`);
  if (how === "expire") {
    await control("POST", `/sessions/${encodeURIComponent(r.s.id)}/expire`).catch(() => {});
    // Expired sessions are recreatable (recreate:true) or lost (false).
  } else if (how === "404 recreatable") {
    await control("POST", "/faults", { pathContains: r.workbook + "/workbook/", operation: "refreshSession", status: 404, innerCode: "invalidSessionReCreatable", times: 1 });
  } else {
    // Gone for good: lost even with recreate:true.
    await control("POST", "/faults", { pathContains: r.workbook + "/workbook/", operation: "refreshSession", status: 404, innerCode: "invalidSessionNotFound", times: 1 });
  }
}

const deadline = started + SECONDS * 1000;
let tick = 0;
while (Date.now() < deadline) {
  tick++;
  const targets = active();
  if (targets.length) {
    for (let k = 0; k < 3; k++) {
      const [kind, make] = pick(transient);
      await control("POST", "/faults", make(pick(targets).workbook + "/workbook/"));
      faults.transient++;
      count(kind);
    }
  }
  if (tick % 10 === 0) {
    const [kind, make] = pick(broad);
    await control("POST", "/faults", make());
    faults.transient++;
    count(kind);
  }
  if (tick % 7 === 0) await killOne();
  if (tick % 30 === 0) {
    const alive = sessions.filter((r) => r.s.state === "active").length;
    console.log(`  ${Math.round((Date.now() - started) / 1000)} s: ${alive} active, ${tally.refreshes} refreshes, ${tally.errors} transient errors, ${tally.recreated} recreated, ${tally.lostIntended} lost as intended, ${tally.lostUnintended} lost unintended`);
  }
  await sleep(1000);
}

// ---- the verdict ------------------------------------------------------------

// Let the last faults play out (longest: a Retry-After wait plus a timeout).
await control("DELETE", "/faults");
await sleep(Math.min(INTERVAL, 10000) + TIMEOUT);
const live = new Map((await control("GET", "/sessions")).sessions.map((s) => [s.id, s]));
let deadButActive = 0;
let recreatedAlive = 0;
for (const r of sessions) {
  if (r.s.state !== "active") continue;
  const info = live.get(r.s.id);
  // A session killed in the last seconds may not have been refreshed since.
  if (!info && intended.has(r.i)) continue;
  if (!info) {
    deadButActive++;
    console.log(`session ${r.i} is active in the library but dead in the emulator (ids ${r.ids.join(" -> ")})`);
  } else if (r.ids.length > 1) recreatedAlive++;
}
// Sessions a fault targeted that came back (recreate: true) are not lost.
const lost = sessions.filter((r) => r.s.state === "lost");
const unintendedLost = lost.filter((r) => !intended.has(r.i));
const held = new Set(sessions.filter((r) => r.s.state === "active").map((r) => r.s.id));
const toClose = sessions.filter((r) => r.s.state === "active");
const closing = [];
for (let k = 0; k < toClose.length; k += 100) {
  closing.push(...(await Promise.allSettled(toClose.slice(k, k + 100).map((r) => r.s.close()))));
}
for (const c of closing) if (c.status === "rejected") scan("close", c.reason);
// Closing a session killed on purpose (not yet noticed) may fail: expected.
// So may a retried close whose first attempt did close it but answered after
// the attempt timeout (closeSession is not idempotent: the retry gets 404).
const closedOnRetry = closing.filter((c) => c.status === "rejected" && c.reason?.status === 404 && c.reason?.attempts > 1).length;
const closeFailures = closing.filter(
  (c, k) => c.status === "rejected" && !intended.has(toClose[k].i) && !(c.reason?.status === 404 && c.reason?.attempts > 1),
);
const closeCodes = {};
for (const c of closeFailures) closeCodes[c.reason?.code] = (closeCodes[c.reason?.code] ?? 0) + 1;
// Sessions a fault answered for (404 not found, 404 recreatable) stay alive
// in the emulator until their TTL: only the ids the library held count.
const left = (await control("GET", "/sessions")).sessions.filter((s) => held.has(s.id)).length;
const elapsed = Math.round((Date.now() - started) / 1000);
const mem = process.memoryUsage();

const report = {
  sessions: N,
  seconds: elapsed,
  ttlMs: TTL,
  intervalMs: INTERVAL,
  seed: SEED,
  refreshes: tally.refreshes,
  transientErrorsReported: tally.errors,
  errorCodes: tally.errorCodes,
  faultsInjected: faults.transient + faults.kill,
  transientFaults: faults.transient,
  killFaults: faults.kill,
  faultKinds: faults.byKind,
  recreated: tally.recreated,
  recreatedAndAlive: recreatedAlive,
  lostAsIntended: lost.length - unintendedLost.length,
  lostUnintended: unintendedLost.length,
  activeButDeadInEmulator: deadButActive,
  closeFailures: closeFailures.length,
  closeFailureCodes: closeCodes,
  closedButRetryAnswered404: closedOnRetry,
  leftInEmulatorAfterClose: left,
  tokenLeaks: leaks.length,
  rssMB: Math.round(mem.rss / 1048576),
};
console.log(JSON.stringify(report, null, 2));
const ok = unintendedLost.length === 0 && deadButActive === 0 && leaks.length === 0 && left === 0 && closeFailures.length === 0;
console.log(
  ok
    ? `soak passed: ${N} sessions for ${elapsed} s, ${report.faultsInjected} faults, sessions lost: 0 unintended (${report.lostAsIntended} intended)`
    : `soak FAILED: ${unintendedLost.length} unintended losses, ${deadButActive} dead-but-active, ${leaks.length} token leaks, ${left} left open, ${closeFailures.length} close failures`,
);
for (const l of leaks.slice(0, 5)) console.log("token leak:", l);
process.exit(ok ? 0 : 1);
