// graph-workbook-session/pool against the emulator: many sessions kept
// alive through $batch (at most 20 per request, never two of one workbook
// in a batch), a throttled item resent after its own Retry-After, an
// expired session recreated or reported lost; none lost otherwise; a
// pooled session's refresh waits in its line (session.fetch, cooldowns).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { consumer, control, emulator, unique } from "../lib/harness.mjs";

// Each test takes 2 to 4 s here; the bound is several times that.
const BOUND = { timeout: 120_000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let loaded;
function load() {
  loaded ??= (async () => {
    const dir = consumer("pool", {
      files: { "entry.mjs": 'export * from "graph-workbook-session";\nexport { SessionPool } from "graph-workbook-session/pool";\n' },
    });
    return import(pathToFileURL(join(dir, "entry.mjs")).href);
  })();
  return loaded;
}

/** A fetch that records every $batch body the pool sends. */
function spy() {
  const batches = [];
  const fetchSpy = async (input, init) => {
    const u = typeof input === "string" ? input : input.url;
    if (u.endsWith("/$batch")) batches.push(JSON.parse(init.body).requests);
    return fetch(input, init);
  };
  return { batches, fetch: fetchSpy };
}

test("SessionPool: 45 sessions on 3 workbooks refreshed through $batch, at most 20 per batch, one per workbook per batch, none lost", BOUND, async (t) => {
  const url = await emulator(t);
  const { SessionPool } = await load();
  const s = spy();
  let refreshed = 0;
  const lost = [];
  const pool = new SessionPool({ accessToken: "pool-token", baseUrl: `${url}/v1.0`, fetch: s.fetch, intervalMs: 400, windowMs: 200, onRefresh: () => refreshed++, onLost: (_, e) => lost.push(e) });
  t.after(() => pool.close());
  const books = [0, 1, 2].map((i) => `/me/drive/items/${unique(`POOL${i}`)}`);
  const sessions = await Promise.all(Array.from({ length: 45 }, (_, i) => pool.create({ workbook: books[i % 3] })));
  assert.equal(pool.size, 45);
  await sleep(1500);
  pool.stop(); // no callback after this: the counts below stand still
  assert.deepEqual(lost, []);
  assert.ok(refreshed >= 90, `${refreshed} refreshes in 1.5 s at a 400 ms interval`);
  assert.ok(s.batches.length > 0);
  for (const b of s.batches) {
    assert.ok(b.length <= 20, `a batch of ${b.length}`);
    const books = b.map((r) => r.url.replace("/workbook/refreshSession", ""));
    assert.equal(new Set(books).size, books.length, `one session per workbook in a batch: ${books}`);
  }
  // Each workbook has one session per batch, so 45 sessions on 3 workbooks take 15 batches per round.
  const items = s.batches.reduce((n, b) => n + b.length, 0);
  assert.ok(items >= refreshed, `${items} batch items, ${refreshed} refreshes reported (a batch may still be in flight)`);
  const logged = [];
  for (const b of books) logged.push(...(await control.requests(url, b.split("/").at(-1))).filter((q) => q.operation === "refreshSession"));
  assert.ok(logged.length >= refreshed);
  assert.ok(logged.every((q) => q.batch && q.status === 204), "every refresh went through $batch and succeeded");
  const live = new Set((await control.sessions(url)).map((x) => x.id));
  assert.ok(sessions.every((x) => live.has(x.id) && x.state === "active"), "none lost on the emulator");
});

test("SessionPool: a throttled item waits its own Retry-After, the others are not held", BOUND, async (t) => {
  const url = await emulator(t);
  const { SessionPool } = await load();
  const pool = new SessionPool({ accessToken: "pool-token", baseUrl: `${url}/v1.0`, intervalMs: 300, windowMs: 100 });
  t.after(() => pool.close());
  const slow = `/me/drive/items/${unique("POOL-429")}`;
  const fast = `/me/drive/items/${unique("POOL-OK")}`;
  const a = await pool.create({ workbook: slow });
  await pool.create({ workbook: fast });
  await control.fault(url, { operation: "refreshSession", pathContains: slow, status: 429, retryAfter: "1", times: 1 });
  await sleep(1800);
  const sent = (await control.requests(url, slow.split("/").at(-1))).filter((q) => q.operation === "refreshSession");
  const at = sent.findIndex((q) => q.status === 429);
  assert.ok(at >= 0, "the fault fired inside a $batch");
  assert.ok(sent[at].batch);
  const next = sent[at + 1];
  assert.ok(next, "the throttled session was refreshed again");
  assert.ok(next.timeMs - sent[at].timeMs >= 1000, `resent ${next.timeMs - sent[at].timeMs} ms after the 429`);
  assert.equal(next.status, 204);
  const others = (await control.requests(url, fast.split("/").at(-1))).filter((q) => q.operation === "refreshSession" && q.timeMs > sent[at].timeMs && q.timeMs < sent[at].timeMs + 1000);
  assert.ok(others.length >= 2, "the other workbook went on being refreshed during the cooldown");
  assert.equal(a.state, "active");
});

test("SessionPool: an expired session is recreated with recreate: true, reported lost without", BOUND, async (t) => {
  const url = await emulator(t);
  const { SessionPool } = await load();
  const recreated = [];
  const lost = [];
  const options = { accessToken: "pool-token", baseUrl: `${url}/v1.0`, intervalMs: 200, windowMs: 50 };
  const renewing = new SessionPool({ ...options, recreate: true, onRecreated: (prev, next) => recreated.push([prev.id, next.id, next]) });
  const plain = new SessionPool({ ...options, onLost: (s, e) => lost.push([s.id, e.recreatable]) });
  t.after(() => Promise.all([renewing.close(), plain.close()]));
  const a = await renewing.create({ workbook: `/me/drive/items/${unique("POOL-RENEW")}` });
  const b = await plain.create({ workbook: `/me/drive/items/${unique("POOL-LOST")}` });
  await control.expire(url, a.id);
  await control.expire(url, b.id);
  // The recreation's createSession (respond-async, polled) takes about a second.
  await sleep(3000);
  assert.equal(recreated.length, 1);
  assert.equal(recreated[0][0], a.id);
  assert.ok((await control.sessions(url)).some((x) => x.id === recreated[0][1]), "the new session is alive");
  assert.equal(renewing.size, 1);
  // The pool holds the new session, not the one it replaced.
  assert.equal(renewing.delete(a), false);
  assert.equal(renewing.delete(recreated[0][2]), true);
  assert.equal(renewing.size, 0);
  t.after(() => recreated[0][2].close());
  assert.deepEqual(lost, [[b.id, true]]);
  assert.equal(b.state, "lost");
  assert.equal(plain.size, 0);
});

test("SessionPool: a pooled session's refresh waits for its session.fetch in flight, and for the cooldown that fetch got", BOUND, async (t) => {
  const url = await emulator(t);
  const { SessionPool } = await load();
  const book = `/me/drive/items/${unique("POOL-LINE")}`;
  const item = book.split("/").at(-1);
  // Every refresh of the session that leaves, in a $batch or on its own, with the time it left.
  const refreshes = [];
  const fetchSpy = async (input, init) => {
    const u = typeof input === "string" ? input : input.url;
    const at = performance.now();
    if (u.endsWith("/$batch") && JSON.parse(init.body).requests.some((r) => r.url.includes(item))) refreshes.push(at);
    if (u.endsWith("/refreshSession") && u.includes(item)) refreshes.push(at);
    return fetch(input, init);
  };
  const pool = new SessionPool({ accessToken: "pool-token", baseUrl: `${url}/v1.0`, fetch: fetchSpy, intervalMs: 200, windowMs: 100 });
  t.after(() => pool.close());
  const a = await pool.create({ workbook: book });
  await sleep(500);
  const range = "/worksheets('Sheet1')/range(address='A1')";
  // One request at a time per session: a slow session.fetch holds the pool's refreshes.
  await control.fault(url, { operation: "range", pathContains: item, delayMs: 1200, times: 1 });
  const t0 = performance.now();
  assert.equal((await a.fetch(range)).status, 200);
  const t1 = performance.now();
  // A 429 with Retry-After: 1 on session.fetch: nothing leaves on the session before it passes.
  await control.fault(url, { operation: "range", pathContains: item, status: 429, retryAfter: "1", times: 1 });
  const t2 = performance.now();
  assert.equal((await a.fetch(range)).status, 200);
  const t3 = performance.now();
  await sleep(600);
  pool.stop();
  assert.ok(t1 - t0 >= 1100 && t3 - t2 >= 950, `the fetch took ${t1 - t0} ms, the resend ${t3 - t2} ms`);
  const between = (from, to) => refreshes.filter((at) => at > from && at < to).map((at) => Math.round(at - from));
  assert.deepEqual(between(t0 + 50, t1 - 50), [], "no refresh of the session while its fetch was out");
  assert.deepEqual(between(t2 + 50, t3 - 50), [], "no refresh of the session during its cooldown");
  assert.ok(refreshes.some((at) => at > t3), "refreshed again once the fetch was answered");
  assert.ok(refreshes.some((at) => at < t0), "refreshed before");
  assert.equal(a.state, "active");
});

test("SessionPool: a batch item's Retry-After holds the session's own session.fetch until it passes", BOUND, async (t) => {
  const url = await emulator(t);
  const { SessionPool } = await load();
  const book = `/me/drive/items/${unique("POOL-ITEM-429")}`;
  const item = book.split("/").at(-1);
  let throttled; // resolves with the time the $batch that throttled the item answered
  const answered = new Promise((r) => (throttled = r));
  let rangeSentAt = null;
  const fetchSpy = async (input, init) => {
    const u = typeof input === "string" ? input : input.url;
    if (u.includes("/range(") && u.includes(item)) rangeSentAt ??= performance.now();
    const r = await fetch(input, init);
    if (u.endsWith("/$batch")) {
      const body = await r.clone().json();
      if (body.responses.some((x) => x.status === 429)) throttled(performance.now());
    }
    return r;
  };
  const pool = new SessionPool({ accessToken: "pool-token", baseUrl: `${url}/v1.0`, fetch: fetchSpy, intervalMs: 300, windowMs: 100 });
  t.after(() => pool.close());
  const a = await pool.create({ workbook: book });
  await control.fault(url, { operation: "refreshSession", pathContains: item, status: 429, retryAfter: "1", times: 1 });
  const at = await answered;
  const r = await a.fetch("/worksheets('Sheet1')/range(address='A1')");
  assert.equal(r.status, 200);
  assert.ok(rangeSentAt - at >= 950, `session.fetch sent ${Math.round(rangeSentAt - at)} ms after the item's 1 s cooldown began`);
  assert.equal(a.state, "active");
});

test("SessionPool: delete() lets a session go (open, no longer refreshed) while the others of its workbook go on", BOUND, async (t) => {
  const url = await emulator(t);
  const { SessionPool } = await load();
  const pool = new SessionPool({ accessToken: "pool-token", baseUrl: `${url}/v1.0`, intervalMs: 200, windowMs: 50 });
  t.after(() => pool.close());
  const book = `/me/drive/items/${unique("POOL-DELETE")}`;
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => pool.create({ workbook: book })));
  t.after(() => b.close());
  await sleep(500);
  assert.equal(pool.delete(b), true);
  assert.equal(pool.delete(b), false);
  assert.equal(pool.size, 2);
  // A refresh of b already in flight may still land: count after it would have.
  await sleep(300);
  const count = async (s) => (await control.requests(url, book.split("/").at(-1))).filter((q) => q.operation === "refreshSession" && q.sessionId === s.id).length;
  const before = [await count(a), await count(b), await count(c)];
  assert.ok(before[1] >= 1, "b was refreshed while held");
  await sleep(1000);
  const after = [await count(a), await count(b), await count(c)];
  assert.equal(after[1], before[1], "b is not refreshed once let go");
  assert.ok(after[0] >= before[0] + 3 && after[2] >= before[2] + 3, `a and c go on: ${before} -> ${after}`);
  assert.equal(b.state, "active");
  assert.ok((await control.sessions(url)).some((x) => x.id === b.id), "b stays open");
});

test("SessionPool: a pooled session freed by its holder is let go (no uncaught error), the others go on, close() resolves", BOUND, async (t) => {
  const url = await emulator(t);
  const { SessionPool } = await load();
  const uncaught = [];
  const onUncaught = (e) => uncaught.push(String(e));
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  t.after(() => {
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUncaught);
  });
  const lost = [];
  const pool = new SessionPool({ accessToken: "pool-token", baseUrl: `${url}/v1.0`, intervalMs: 200, windowMs: 0, onLost: (_, e) => lost.push(e) });
  t.after(() => pool.stop());
  const a = await pool.create({ workbook: `/me/drive/items/${unique("POOL-FREE-A")}` });
  const bookB = `/me/drive/items/${unique("POOL-FREE-B")}`;
  const b = await pool.create({ workbook: bookB });
  t.after(() => b.close().catch(() => null));
  await sleep(300);
  a.free();
  const count = async () => (await control.requests(url, bookB.split("/").at(-1))).filter((q) => q.operation === "refreshSession").length;
  const before = await count();
  await sleep(1200);
  const after = await count();
  // Before: the pump read the freed session's `state`, which threw out of
  // its timer (an uncaught exception), and b got one refresh in 1.5 s.
  assert.deepEqual(uncaught, []);
  assert.ok(after >= before + 3, `b goes on: ${before} -> ${after} refreshes`);
  assert.equal(pool.size, 1, "the freed session is let go");
  assert.deepEqual(lost, [], "freed is not lost");
  await pool.close(); // rejected with the freed session's plain Error before
  assert.equal(b.state, "closed");
});

test("SessionPool: a session made while the pool stops is closed, not left open; create after stop and bad options are GraphErrors", BOUND, async (t) => {
  const url = await emulator(t);
  const { SessionPool, isGraphError } = await load();
  const book = `/me/drive/items/${unique("POOL-STOPPED")}`;
  const pool = new SessionPool({ accessToken: "pool-token", baseUrl: `${url}/v1.0` });
  const creating = pool.create({ workbook: book });
  const closing = pool.close();
  const e = await creating.then(() => null, (x) => x);
  await closing;
  assert.ok(isGraphError(e) && e.code === "invalidArgument", `create racing close: ${e}`);
  const tag = book.split("/").at(-1);
  const sent = async (operation) => (await control.requests(url, tag)).filter((q) => q.operation === operation).length;
  const open = (await control.sessions(url)).filter((s) => s.item.includes(tag));
  assert.equal(await sent("createSession"), 1);
  assert.equal(await sent("closeSession"), 1, "the session made meanwhile was closed");
  assert.deepEqual(open, []);
  const after = await pool.create({ workbook: book }).then(() => null, (x) => x);
  assert.ok(isGraphError(after) && after.code === "invalidArgument", `create after stop: ${after}`);
  assert.equal(await sent("createSession"), 1, "nothing sent");
  for (const bad of [{ intervalMs: 0 }, { recreate: "yes" }, { onLost: 1 }, null]) {
    let thrown = null;
    try {
      new SessionPool(bad === null ? null : { accessToken: "t", ...bad });
    } catch (x) {
      thrown = x;
    }
    assert.ok(isGraphError(thrown) && thrown.code === "invalidArgument", `new SessionPool(${JSON.stringify(bad)}): ${thrown}`);
  }
  const p = new SessionPool({ accessToken: "t", baseUrl: `${url}/v1.0` });
  t.after(() => p.stop());
  const nul = await p.create(null).then(() => null, (x) => x);
  assert.ok(isGraphError(nul) && nul.code === "invalidArgument", `create(null): ${nul}`);
  p.stop();
});

test("the package's classes keep their names through minification (console.log prints them)", BOUND, async () => {
  const { WorkbookSession, GraphError, SessionPool } = await load();
  // Before, the minified glue named them with one letter ("r", "n").
  assert.deepEqual([WorkbookSession.name, GraphError.name, SessionPool.name], ["WorkbookSession", "GraphError", "SessionPool"]);
  assert.equal(new GraphError("m", { code: "x" }).name, "GraphError");
});
