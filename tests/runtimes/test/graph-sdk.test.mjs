// graph-workbook-session/graph-sdk inside the real Graph SDK
// (@microsoft/microsoft-graph-client's Client.initWithMiddleware) and Kiota's
// HttpClient (@microsoft/kiota-http-fetchlibrary), against the emulator:
// a range PATCH inside a session, a scripted throttle, an expiry, and the
// requests the middleware must leave alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { consumer, control, emulator, unique } from "../lib/harness.mjs";

// Each test takes 1 to 5 s here (the throttle waits 1 s); the bound is several times that.
const BOUND = { timeout: 120_000 };
const require = createRequire(import.meta.url);
const { Client, AuthenticationHandler, RetryHandler, TelemetryHandler, HTTPMessageHandler } = require("@microsoft/microsoft-graph-client");
const { KiotaClientFactory, CustomFetchHandler, RetryHandler: KiotaRetryHandler } = await import("@microsoft/kiota-http-fetchlibrary");

// The packed package in a consumer project; its entries resolved through
// its exports map, as a user's import would.
let loaded;
function load() {
  loaded ??= (async () => {
    const dir = consumer("graph-sdk", {
      files: {
        "entry.mjs": 'export * from "graph-workbook-session";\nexport { WorkbookSessionMiddleware } from "graph-workbook-session/graph-sdk";\n',
      },
    });
    return import(pathToFileURL(join(dir, "entry.mjs")).href);
  })();
  return loaded;
}

/** The Graph SDK's chain with ours after authentication (so the SDK's RetryHandler never sees a session's request). */
function sdkClient(url, middleware) {
  const auth = new AuthenticationHandler({ getAccessToken: async () => "sdk-token" });
  const chain = [auth, middleware, new RetryHandler(), new TelemetryHandler(), new HTTPMessageHandler()];
  for (let i = 0; i < chain.length - 1; i++) chain[i].setNext(chain[i + 1]);
  return Client.initWithMiddleware({ middleware: auth, baseUrl: url, defaultVersion: "v1.0" });
}

async function open(url, name, extra = {}) {
  const m = await load();
  const workbook = `/me/drive/items/${unique(name)}`;
  const baseUrl = `${url}/v1.0`;
  const session = await m.WorkbookSession.create({ workbook, baseUrl, accessToken: "session-token", ...extra });
  const middleware = new m.WorkbookSessionMiddleware().add(session, { workbook, baseUrl });
  return { m, workbook, session, middleware, client: sdkClient(url, middleware) };
}

test("Graph SDK: a range PATCH inside the session carries its id and the session's token; other requests are left alone", BOUND, async (t) => {
  const url = await emulator(t);
  const { workbook, session, client } = await open(url, "SDK-PATCH");
  t.after(() => session.close());
  const cell = `${workbook}/workbook/worksheets('Sheet1')/range(address='A1')`;
  const patched = await client.api(cell).patch({ values: [[42]] });
  assert.deepEqual(patched.values, [[42]]);
  assert.deepEqual((await (await session.fetch("/worksheets('Sheet1')/range(address='A1')")).json()).values, [[42]]);

  // Another workbook and the session's own lifecycle path: not routed.
  const other = `/me/drive/items/${unique("SDK-OTHER")}/workbook/worksheets`;
  await assert.rejects(client.api(other).get(), (e) => e.statusCode === 401);
  await assert.rejects(client.api(`${workbook}/workbook/refreshSession`).post({}), (e) => e.statusCode === 401);

  const log = await control.requests(url, workbook.split("/").at(-1));
  const patch = log.find((q) => q.method === "PATCH");
  assert.equal(patch.sessionId, session.id);
  assert.equal(patch.hasAuthorization, true);
  assert.equal(patch.status, 200);
  const refresh = log.find((q) => q.operation === "refreshSession" && !q.hasAuthorization);
  assert.equal(refresh.sessionId, null, "the lifecycle request went down the SDK's chain untouched");
  const passed = (await control.requests(url, "SDK-OTHER")).at(-1);
  assert.equal(passed.sessionId, null);
  assert.equal(passed.hasAuthorization, false, "no session token on another workbook's request");
});

test("Graph SDK: a throttled PATCH waits Graph's Retry-After in the session's line, then succeeds", BOUND, async (t) => {
  const url = await emulator(t);
  const { workbook, session, client } = await open(url, "SDK-THROTTLE");
  t.after(() => session.close());
  await control.fault(url, { operation: "range", pathContains: workbook, status: 429, retryAfter: "1", times: 1 });
  const cell = `${workbook}/workbook/worksheets('Sheet1')/range(address='B2')`;
  const patched = await client.api(cell).patch({ values: [["after the cooldown"]] });
  assert.deepEqual(patched.values, [["after the cooldown"]]);
  const sent = (await control.requests(url, workbook.split("/").at(-1))).filter((q) => q.method === "PATCH");
  assert.deepEqual(sent.map((q) => q.status), [429, 200]);
  assert.ok(sent[1].timeMs - sent[0].timeMs >= 1000, `resent ${sent[1].timeMs - sent[0].timeMs} ms after the 429`);
  assert.equal(sent[1].retryAttempt, "1");
  assert.equal(sent[1].sessionId, session.id);
});

test("Graph SDK: an expired persistent session is recreated and the PATCH resent once in the new one", BOUND, async (t) => {
  const url = await emulator(t);
  const m = await load();
  const workbook = `/me/drive/items/${unique("SDK-EXPIRE")}`;
  const baseUrl = `${url}/v1.0`;
  const session = await m.WorkbookSession.create({ workbook, baseUrl, accessToken: "session-token" });
  t.after(() => session.close());
  const client = sdkClient(url, new m.WorkbookSessionMiddleware({ recreate: true }).add(session, { workbook, baseUrl }));
  const first = session.id;
  await control.expire(url, first);
  const patched = await client.api(`${workbook}/workbook/worksheets('Sheet1')/range(address='C3')`).patch({ values: [[7]] });
  assert.deepEqual(patched.values, [[7]]);
  assert.notEqual(session.id, first);
  const sent = (await control.requests(url, workbook.split("/").at(-1))).filter((q) => q.method === "PATCH");
  assert.deepEqual(sent.map((q) => [q.sessionId, q.status]), [[first, 404], [session.id, 200]]);
});

test("Graph SDK: a non-persistent session's expiry reaches the SDK as Graph's 404, and the write is not replayed", BOUND, async (t) => {
  const url = await emulator(t);
  const { workbook, session, client } = await open(url, "SDK-LOST", { persistChanges: false });
  // Graph ended it: close() gets its 404.
  t.after(() => session.close().catch(() => null));
  await control.expire(url, session.id);
  await assert.rejects(
    client.api(`${workbook}/workbook/worksheets('Sheet1')/range(address='A1')`).patch({ values: [[1]] }),
    (e) => e.statusCode === 404 && e.code === "notFound" && typeof e.requestId === "string",
  );
  const sent = (await control.requests(url, workbook.split("/").at(-1))).filter((q) => q.method === "PATCH");
  assert.equal(sent.length, 1, "sent once");
});

test("Kiota's HttpClient: the same middleware routes a range PATCH to the session and leaves other requests to the chain", BOUND, async (t) => {
  const url = await emulator(t);
  const m = await load();
  const workbook = `/me/drive/items/${unique("KIOTA")}`;
  const baseUrl = `${url}/v1.0`;
  const session = await m.WorkbookSession.create({ workbook, baseUrl, accessToken: "session-token" });
  t.after(() => session.close());
  const middleware = new m.WorkbookSessionMiddleware().add(session, { workbook, baseUrl });
  const http = KiotaClientFactory.create(undefined, [middleware, new KiotaRetryHandler(), new CustomFetchHandler((...a) => fetch(...a))]);
  await control.fault(url, { operation: "range", pathContains: workbook, status: 429, retryAfter: "1", times: 1 });
  const r = await http.executeFetch(`${baseUrl}${workbook}/workbook/worksheets('Sheet1')/range(address='A1')`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ values: [["kiota"]] }),
  });
  assert.equal(r.status, 200);
  assert.deepEqual((await r.json()).values, [["kiota"]]);
  const other = await http.executeFetch(`${baseUrl}/me/drive/items/${unique("KIOTA-OTHER")}/workbook/worksheets`, { method: "GET", headers: {} });
  assert.equal(other.status, 401, "left to the chain: no session, no token");
  const sent = (await control.requests(url, workbook.split("/").at(-1))).filter((q) => q.method === "PATCH");
  assert.deepEqual(sent.map((q) => [q.sessionId, q.status]), [[session.id, 429], [session.id, 200]]);
});
