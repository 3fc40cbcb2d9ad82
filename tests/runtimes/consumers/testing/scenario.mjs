// graph-workbook-session/testing as a user's test would use it: a fake
// Graph in-process (the emulator compiled to wasm), no server, no network.
// Run by cli.mjs (Node, Deno) and worker.js (workerd through Miniflare).
import { createTestGraph } from "graph-workbook-session/testing";
import { GraphError, WorkbookSession, createSession } from "graph-workbook-session";

export async function scenario() {
  const graph = createTestGraph();
  const workbook = "/me/drive/items/01TESTING";

  // Any item path is a workbook with an empty Sheet1.
  const session = await WorkbookSession.create({ workbook, accessToken: "t", fetch: graph.fetch });
  const sheets = await (await session.fetch("/worksheets")).json();
  const cell = "/worksheets('Sheet1')/range(address='A1')";
  await session.fetch(cell, { method: "PATCH", body: JSON.stringify({ values: [[42]] }), headers: { "content-type": "application/json" } });
  const range = await (await session.fetch(cell)).json();
  const live = graph.sessions().map((s) => ({ id: s.id === session.id, item: s.item, persistChanges: s.persistChanges }));

  // A throttle with a second-level code and Retry-After: one resend after it.
  const faultId = graph.fail({ operation: "refreshSession", status: 429, innerCode: "tooManyRequestsUncategorized", retryAfter: "1" });
  const started = Date.now();
  const refreshed = await session.refresh();
  const throttled = { faultId: typeof faultId, status: refreshed.status, attempts: refreshed.attempts, waited: Date.now() - started >= 900 };

  // An expired session: a plain 404, recreatable.
  const expired = graph.expire(session.id);
  let gone;
  try {
    await session.refresh();
  } catch (e) {
    gone = { instance: e instanceof GraphError, code: e.code, status: e.status, recreatable: e.recreatable };
  }
  const log = graph.requests();
  const requests = {
    refreshes: log.filter((q) => q.operation === "refreshSession").map((q) => q.status),
    faulted: log.filter((q) => q.fault !== null).length,
  };
  graph.reset();
  const afterReset = { sessions: graph.sessions().length, requests: graph.requests().length };

  // options.workbooks limits the items: any other is itemNotFound.
  const only = createTestGraph({ workbooks: ["/me/drive/items/HELD"] });
  const held = await createSession({ workbook: "/me/drive/items/HELD", accessToken: "t", fetch: only.fetch });
  let missing;
  try {
    await createSession({ workbook: "/me/drive/items/OTHER", accessToken: "t", fetch: only.fetch });
  } catch (e) {
    missing = { code: e.code, innerCode: e.innerCode, status: e.status };
  }

  // Not a Graph host: rejected, never sent.
  let elsewhere;
  try {
    await graph.fetch("https://example.com/");
  } catch (e) {
    elsewhere = e instanceof TypeError;
  }

  // A scripted delay ends at once when the caller's signal aborts.
  graph.fail({ operation: "createSession", delayMs: 60000 });
  const controller = new AbortController();
  const t0 = Date.now();
  const pending = graph.fetch("https://graph.microsoft.com/v1.0/me/drive/items/X/workbook/createSession", {
    method: "POST",
    headers: { authorization: "Bearer t", "content-type": "application/json" },
    body: "{}",
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 50);
  let aborted;
  try {
    await pending;
  } catch (e) {
    aborted = { name: e.name, soon: Date.now() - t0 < 10000 };
  }

  return {
    sheets: sheets.value.map((s) => s.name),
    range: range.values,
    live,
    throttled,
    expired,
    gone,
    requests,
    afterReset,
    held: typeof held.id === "string" && held.persistChanges,
    missing,
    elsewhere,
    aborted,
  };
}
