// Cloudflare workerd through Miniflare 4: examples/cloudflare-worker bundled
// by wrangler as for a deploy (the "workerd" export condition, the .wasm as
// a module), then run with a fetch per request and a Cron trigger.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { assertPoolScenario, bin, consumer, consumers, control, emulator, examples, run, unique } from "../lib/harness.mjs";

// Each test takes 5 to 20 s here; the bound is several times that.
const BOUND = { timeout: 180_000 };

/**
 * The worker in `dir` bundled by `wrangler deploy --dry-run` as for a
 * deploy (the "workerd" export condition), then Miniflare over the bundle
 * `dist/{script}`: the .wasm as a compiled module, the config's
 * compatibility date, and `options` (bindings ...). The config's text too.
 */
function bundled(dir, { config = "wrangler.toml", script = "worker.js", ...options }) {
  run(bin("wrangler"), ["deploy", "--dry-run", "-c", config, "--outdir", "dist"], {
    cwd: dir,
    env: { WRANGLER_SEND_METRICS: "false", WRANGLER_LOG_PATH: join(dir, ".wrangler-logs"), CI: "1" },
  });
  const toml = readFileSync(join(dir, config), "utf8");
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(dir, "dist", script),
    modulesRoot: join(dir, "dist"),
    modulesRules: [
      { type: "CompiledWasm", include: ["**/*.wasm"] },
      { type: "ESModule", include: ["**/*.js"] },
    ],
    compatibilityDate: toml.match(/^compatibility_date = "([^"]+)"/m)[1],
    ...options,
  });
  return { toml, mf };
}

/** The example's caller secret, and a request to it with (or without) the secret. */
const API_SECRET = "worker-test-secret";
const caller = (mf, secret = API_SECRET) => async (method, path, body) => {
  const headers = secret === null ? {} : { authorization: `Bearer ${secret}` };
  const r = await mf.dispatchFetch(`http://worker${path}`, { method, headers, body: body && JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
};

test("workerd (Miniflare): examples/cloudflare-worker refreshes per request and from its Cron trigger", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("cloudflare-worker", { copy: [[join(examples, "cloudflare-worker")]] });
  const [a, b] = [`/me/drive/items/${unique("WORKER-A")}`, `/drives/b!x/items/${unique("WORKER-B")}`];
  const { toml, mf } = bundled(dir, {
    kvNamespaces: ["SESSIONS"],
    // "/me/drive/items/../x" is allowed here so that the library's own check answers.
    bindings: { GRAPH_BASE_URL: `${url}/v1.0`, GRAPH_TOKEN: "worker-test-token", API_SECRET, ALLOWED_WORKBOOKS: JSON.stringify([a, b, "/me/drive/items/../x"]) },
  });
  const [cron] = JSON.parse(toml.match(/^crons = (\[.*\])/m)[1]);
  try {
    const call = caller(mf);

    // Per request: create two sessions, refresh one.
    const createdA = await call("POST", "/sessions", { workbook: a });
    assert.equal(createdA.status, 201, JSON.stringify(createdA.body));
    const createdB = await call("POST", "/sessions", { workbook: b, persistChanges: false });
    assert.equal(createdB.status, 201);
    assert.equal(createdB.body.persistChanges, false);
    const refreshed = await call("POST", "/refresh", { workbook: a, sessionId: createdA.body.id });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.status, 204);
    assert.equal(refreshed.body.attempts, 1);

    // Errors reach the caller with their fields.
    const unknown = await call("POST", "/refresh", { workbook: a, sessionId: "cluster=EMU&session=gone" });
    assert.equal(unknown.status, 404);
    assert.deepEqual(
      { name: unknown.body.name, code: unknown.body.code, innerCode: unknown.body.innerCode, recreatable: unknown.body.recreatable },
      { name: "GraphError", code: "notFound", innerCode: null, recreatable: true },
    );
    const invalid = await call("POST", "/refresh", { workbook: "/me/drive/items/../x", sessionId: createdA.body.id });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.code, "invalidArgument");
    assert.equal(invalid.body.attempts, 0);

    // B expires; the Cron trigger refreshes A (one $batch) and replaces B.
    await control.expire(url, createdB.body.id);
    const before = (await control.sessions(url)).find((s) => s.id === createdA.body.id).refreshCount;
    const worker = await mf.getWorker();
    const outcome = await worker.scheduled({ cron, scheduledTime: new Date() });
    assert.equal(outcome.outcome, "ok", JSON.stringify(outcome));
    const live = await control.sessions(url);
    assert.equal(live.find((s) => s.id === createdA.body.id).refreshCount, before + 1);
    const list = (await call("GET", "/sessions")).body;
    assert.equal(list.length, 2);
    assert.equal(list[0].sessionId, createdA.body.id);
    assert.equal(list[1].recreatedFrom, createdB.body.id);
    assert.ok(live.some((s) => s.id === list[1].sessionId && s.item === b && !s.persistChanges), "the replacement is live");
    const viaBatch = (await control.requests(url, a)).filter((q) => q.batch && q.operation === "refreshSession");
    assert.deepEqual(viaBatch.map((q) => q.status), [204], "the trigger refreshed through $batch");

    // Close both; nothing is left open.
    for (const s of list) assert.equal((await call("DELETE", "/sessions", s)).body.status, 204);
    assert.deepEqual((await call("GET", "/sessions")).body, []);
    assert.deepEqual((await control.sessions(url)).filter((s) => s.item === a || s.item === b), []);
  } finally {
    await mf.dispose();
  }
});

test("workerd (Miniflare): the Durable Object alarm variant keeps one workbook's session alive", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("cloudflare-worker-do", { copy: [[join(examples, "cloudflare-worker")]] });
  const workbook = `/sites/contoso/drive/items/${unique("WORKER-DO")}`;
  const { mf } = bundled(dir, {
    config: "wrangler.durable-object.toml",
    script: "durable-object.js",
    durableObjects: { SESSION_KEEPER: "SessionKeeper" },
    // Alarms every 150 ms instead of 3 minutes; "relative/path" allowed so that the library's own check answers.
    bindings: {
      GRAPH_BASE_URL: `${url}/v1.0`, GRAPH_TOKEN: "worker-test-token", REFRESH_INTERVAL_MS: "150",
      API_SECRET, ALLOWED_WORKBOOKS: JSON.stringify([workbook, "relative/path"]),
    },
  });
  try {
    const call = caller(mf);
    const opened = await call("POST", "/keep", { workbook });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const first = opened.body.session.sessionId;
    assert.match(first, /^cluster=EMU&session=/);
    assert.equal((await call("POST", "/keep", { workbook })).body.session.sessionId, first, "one session per workbook");

    const refreshCount = async (id) => (await control.sessions(url)).find((s) => s.id === id)?.refreshCount ?? -1;
    await until(async () => (await refreshCount(first)) >= 2, "two alarms refreshed the session");

    // Graph forgets the session: the next alarm opens a new one.
    await control.expire(url, first);
    let status;
    await until(async () => {
      status = (await call("GET", `/keep?workbook=${encodeURIComponent(workbook)}`)).body;
      return status.session?.recreatedFrom === first;
    }, "the alarm re-created the expired session");
    assert.equal(typeof status.alarm, "number", "the next alarm is set");
    await until(async () => (await refreshCount(status.session.sessionId)) >= 1, "the new session is refreshed too");

    const invalid = await call("POST", "/keep", { workbook: "relative/path" });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.name, "GraphError");
    assert.equal(invalid.body.code, "invalidArgument");
    assert.match(invalid.body.message, /workbook/);

    const closed = await call("DELETE", "/keep", { workbook });
    assert.equal(closed.body.closed.status, 204);
    assert.deepEqual((await call("GET", `/keep?workbook=${encodeURIComponent(workbook)}`)).body, { session: null, alarm: null });
    assert.deepEqual((await control.sessions(url)).filter((s) => s.item === workbook), []);
  } finally {
    await mf.dispose();
  }
});

// The `fetch` option in workerd: every request of every call goes through a
// service binding (GRAPH, served here by Node, forwarding to the emulator),
// as a Worker fronting Graph with another Worker would do.
const FETCH_WORKER = `
import { createSession, refreshSession, closeSession, refreshSessions, WorkbookSession, GraphError, isGraphError } from "graph-workbook-session";

export default {
  async fetch(request, env) {
    const { workbook } = await request.json();
    const seen = [];
    const fetch = (url, init) => { seen.push(new URL(url).pathname); return env.GRAPH.fetch(url, init); };
    const call = { workbook, accessToken: async () => "worker-fetch-token", baseUrl: env.GRAPH_BASE_URL, fetch };
    const created = await createSession({ ...call, preferAsync: true });
    const refreshed = await refreshSession({ ...call, sessionId: created.id });
    const [batched] = await refreshSessions([{ workbook, sessionId: created.id }], { ...call, workbook: undefined });
    await closeSession({ ...call, sessionId: created.id });
    const session = await WorkbookSession.create(call);
    await session.refresh();
    const asyncDispose = typeof session[Symbol.asyncDispose];
    if (asyncDispose === "function") await session[Symbol.asyncDispose]();
    else await session.close();
    let error = null;
    try {
      await refreshSession({ ...call, sessionId: created.id, fetch: "https://proxy.example" });
    } catch (e) {
      error = { instance: e instanceof GraphError, guard: isGraphError(e), json: e.toJSON() };
    }
    return Response.json({ seen, refreshed: refreshed.status, batched: batched.status, state: session.state, asyncDispose, error });
  },
};
`;

test("workerd (Miniflare): the fetch option sends every request through a service binding", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("workerd-fetch", {
    files: {
      "src/worker.js": FETCH_WORKER,
      "wrangler.toml": 'name = "fetch-option"\nmain = "src/worker.js"\ncompatibility_date = "2026-04-01"\n',
    },
  });
  let forwarded = 0;
  const { mf } = bundled(dir, {
    bindings: { GRAPH_BASE_URL: `${url}/v1.0` },
    serviceBindings: {
      async GRAPH(request) {
        forwarded++;
        return forward(request);
      },
    },
  });
  try {
    const workbook = `/me/drive/items/${unique("WORKER-FETCH")}`;
    const r = await mf.dispatchFetch("http://worker/", { method: "POST", body: JSON.stringify({ workbook }) });
    const out = await r.json();
    assert.equal(r.status, 200, JSON.stringify(out));
    assert.equal(out.refreshed, 204);
    assert.equal(out.batched, 204);
    assert.equal(out.state, "closed");
    assert.deepEqual(out.error, {
      instance: true,
      guard: true,
      json: { ...out.error.json, name: "GraphError", code: "invalidArgument", attempts: 0 },
    });
    assert.match(out.error.json.message, /fetch/);
    // Every request the emulator saw for this workbook came through the binding.
    const logged = (await control.requests(url, workbook)).filter((q) => !q.batch);
    const batches = out.seen.filter((p) => p.endsWith("/$batch")).length;
    assert.equal(batches, 1);
    assert.equal(out.seen.length, logged.length + batches, JSON.stringify(out.seen));
    assert.equal(forwarded, out.seen.length);
    assert.ok(out.seen.some((p) => p.includes("/workbook/operations/")), "createSession's polls went through it");
  } finally {
    await mf.dispose();
  }
});

test("workerd (Miniflare): session.fetch writes a range with PATCH, reads it back with GET, closes", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("workerd-session-fetch", { copy: [[join(consumers, "workerd-fetch")]] });
  const { mf } = bundled(dir, {
    bindings: { GRAPH_BASE_URL: `${url}/v1.0`, GRAPH_TOKEN: "worker-test-token" },
  });
  try {
    const workbook = `/me/drive/items/${unique("WORKER-FETCH")}`;
    const r = await mf.dispatchFetch("http://worker/", { method: "POST", body: JSON.stringify({ workbook }) });
    const body = await r.json();
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.deepEqual(
      { patch: body.patchStatus, get: body.getStatus, values: body.values, refused: body.refused, closed: body.closed },
      { patch: 200, get: 200, values: [["from workerd", 14]], refused: { name: "GraphError", code: "invalidArgument" }, closed: 204 },
    );
    const log = await control.requests(url, workbook);
    const ranges = log.filter((q) => q.operation === "range");
    assert.deepEqual(ranges.map((q) => [q.method, q.status, q.sessionId]), [
      ["PATCH", 200, body.sessionId],
      ["GET", 200, body.sessionId],
    ]);
    assert.deepEqual((await control.sessions(url)).filter((s) => s.item === workbook), [], "closed");
  } finally {
    await mf.dispose();
  }
});

test("workerd (Miniflare): SessionPool keeps three sessions alive through $batch within a request, then closes them", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("workerd-pool", {
    copy: [[join(consumers, "workerd-pool")], [join(consumers, "pool-scenario.mjs")]],
  });
  const { mf } = bundled(dir, { bindings: { GRAPH_BASE_URL: `${url}/v1.0` } });
  try {
    const r = await mf.dispatchFetch("http://worker/");
    const body = await r.json();
    assert.equal(r.status, 200, JSON.stringify(body));
    await assertPoolScenario(body, "workerd", url);
  } finally {
    await mf.dispose();
  }
});

/** Sends a request a worker made on to where it was going (the emulator), from Node. */
async function forward(request) {
  const body = ["GET", "HEAD"].includes(request.method) ? undefined : await request.arrayBuffer();
  const r = await fetch(request.url, { method: request.method, headers: request.headers, body, redirect: "manual" });
  return new Response(r.status === 204 ? null : await r.arrayBuffer(), { status: r.status, headers: r.headers });
}

// Issue 22 point 5: the example acts in Graph as one user, so it must not
// act for anyone who calls it.
test("workerd (Miniflare): examples/cloudflare-worker refuses unknown callers, unlisted workbooks, sessions past MAX_SESSIONS and others' session ids; its token is a user's, redeemed from a refresh token kept in KV", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("cloudflare-worker-access", { copy: [[join(examples, "cloudflare-worker")]] });
  const [a, b, c, other] = ["A", "B", "C", "OTHER"].map((n) => `/me/drive/items/${unique(`WORKER-ACCESS-${n}`)}`);
  const redeemed = []; // what Microsoft's token endpoint was sent
  const bearer = new Set(); // the Authorization of every Graph request
  const { mf } = bundled(dir, {
    kvNamespaces: ["SESSIONS"],
    bindings: {
      GRAPH_BASE_URL: `${url}/v1.0`, API_SECRET, ALLOWED_WORKBOOKS: JSON.stringify([a, b, c]), MAX_SESSIONS: "2",
      TENANT_ID: "contoso", CLIENT_ID: "client-1", GRAPH_REFRESH_TOKEN: "refresh-0",
    },
    // The worker's outbound fetch: Microsoft's token endpoint answered here, Graph forwarded to the emulator.
    async outboundService(request) {
      const u = new URL(request.url);
      if (u.host !== "login.microsoftonline.com") {
        bearer.add(request.headers.get("authorization"));
        return forward(request);
      }
      const form = new URLSearchParams(await request.text());
      redeemed.push({ path: u.pathname, ...Object.fromEntries(form) });
      const n = redeemed.length;
      return Response.json({ token_type: "Bearer", access_token: `user-access-${n}`, refresh_token: `refresh-${n}`, expires_in: 3600 });
    },
  });
  try {
    const call = caller(mf);
    const graphRequests = async (item) => (await control.requests(url, item)).length;

    // Callers without the secret, or with another one: 401, nothing reaches Graph.
    for (const anyone of [caller(mf, null), caller(mf, "guess"), caller(mf, "")]) {
      assert.equal((await anyone("GET", "/sessions")).status, 401);
      assert.equal((await anyone("POST", "/sessions", { workbook: a })).status, 401);
      assert.equal((await anyone("DELETE", "/sessions", { workbook: a, sessionId: "x" })).status, 401);
    }
    assert.equal(await graphRequests(a), 0);
    assert.deepEqual(redeemed, [], "no token was even asked for");

    // A workbook not listed: 403, nothing sent (its existence stays unknown).
    const refused = await call("POST", "/sessions", { workbook: other });
    assert.deepEqual(refused, { status: 403, body: { error: "workbookNotAllowed", workbook: other } });
    assert.equal((await call("POST", "/refresh", { workbook: other, sessionId: "x" })).status, 403);
    assert.equal(await graphRequests(other), 0);

    // At most MAX_SESSIONS (2), one per workbook.
    const [sa, sb] = [await call("POST", "/sessions", { workbook: a }), await call("POST", "/sessions", { workbook: b })];
    assert.deepEqual([sa.status, sb.status], [201, 201], JSON.stringify([sa, sb]));
    assert.deepEqual(await call("POST", "/sessions", { workbook: a }), { status: 200, body: { id: sa.body.id, persistChanges: true } });
    assert.deepEqual(await call("POST", "/sessions", { workbook: c }), { status: 409, body: { error: "tooManySessions", max: 2 } });
    assert.equal(await graphRequests(c), 0);
    assert.equal((await call("GET", "/sessions")).body.length, 2);
    assert.deepEqual(await call("GET", "/refresh"), { status: 405, body: { error: "method not allowed" } });
    assert.deepEqual(await call("PUT", "/sessions", { workbook: a }), { status: 405, body: { error: "method not allowed" } });

    // Only sessions it keeps are closed: not an id someone names.
    assert.deepEqual(await call("DELETE", "/sessions", { workbook: a, sessionId: sb.body.id }), { status: 404, body: { error: "unknownSession" } });
    assert.ok((await control.sessions(url)).some((s) => s.id === sb.body.id), "b's session is still open");
    for (const [workbook, s] of [[a, sa], [b, sb]]) {
      assert.equal((await call("DELETE", "/sessions", { workbook, sessionId: s.body.id })).body.status, 204);
    }
    assert.deepEqual((await control.sessions(url)).filter((s) => s.item === a || s.item === b), []);

    // A user's token: the refresh token redeemed once (then cached), the rotated one kept in KV.
    assert.deepEqual(redeemed, [{
      path: "/contoso/oauth2/v2.0/token", grant_type: "refresh_token", client_id: "client-1", refresh_token: "refresh-0",
      scope: "https://graph.microsoft.com/Files.ReadWrite offline_access",
    }]);
    assert.equal(await (await mf.getKVNamespace("SESSIONS")).get("graph-refresh-token"), "refresh-1");
    assert.deepEqual([...bearer], ["Bearer user-access-1"]);
  } finally {
    await mf.dispose();
  }
});

test("workerd (Miniflare): the Durable Object variant refuses unknown callers and unlisted workbooks", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("cloudflare-worker-do-access", { copy: [[join(examples, "cloudflare-worker")]] });
  const [allowed, other] = [`/me/drive/items/${unique("WORKER-DO-ALLOWED")}`, `/me/drive/items/${unique("WORKER-DO-OTHER")}`];
  const { mf } = bundled(dir, {
    config: "wrangler.durable-object.toml",
    script: "durable-object.js",
    durableObjects: { SESSION_KEEPER: "SessionKeeper" },
    bindings: { GRAPH_BASE_URL: `${url}/v1.0`, GRAPH_TOKEN: "worker-test-token", API_SECRET, ALLOWED_WORKBOOKS: JSON.stringify([allowed]) },
  });
  try {
    for (const anyone of [caller(mf, null), caller(mf, "guess")]) {
      assert.equal((await anyone("POST", "/keep", { workbook: allowed })).status, 401);
      assert.equal((await anyone("GET", `/keep?workbook=${encodeURIComponent(allowed)}`)).status, 401);
    }
    const call = caller(mf);
    assert.deepEqual(await call("POST", "/keep", { workbook: other }), { status: 403, body: { error: "workbookNotAllowed", workbook: other } });
    assert.equal((await call("DELETE", "/keep", { workbook: other })).status, 403);
    assert.equal((await control.requests(url, allowed)).length + (await control.requests(url, other)).length, 0, "nothing reached Graph");
    const opened = await call("POST", "/keep", { workbook: allowed });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    assert.equal((await call("DELETE", "/keep", { workbook: allowed })).body.closed.status, 204);
  } finally {
    await mf.dispose();
  }
});

async function until(check, what, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
