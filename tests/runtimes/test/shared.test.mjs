// graph-workbook-session/shared in headless Chromium (issue 24): three pages
// of one browser context open SharedWorkbookSession on the same workbook
// and share one Graph session through Web Locks and a BroadcastChannel.
// The page imports the packed package's files as they are, unbundled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chromium, consumer, control, emulator, serve, unique } from "../lib/harness.mjs";

// About 10 to 20 s here; the bound is several times that. Playwright's own
// waits are bounded by WAIT_MS unless a call names its own timeout.
const BOUND = { timeout: 180_000 };
const WAIT_MS = 30_000;
// Each range write is held this long by the emulator, so that two writes
// sent at once would land closer together than this.
const DELAY_MS = 150;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shared session</title></head><body>
<script type="module">
import { SharedWorkbookSession } from "./node_modules/graph-workbook-session/shared/index.js";
const q = new URLSearchParams(location.search);
// ?nolocks: a context without Web Locks, as some webviews are.
if (q.has("nolocks")) Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined });
const o = { workbook: q.get("workbook"), accessToken: "shared-test-token", baseUrl: q.get("emulator") + "/v1.0", intervalMs: Number(q.get("interval")) };
window.changes = [];
window.open_ = async () => {
  window.session = await SharedWorkbookSession.open({ ...o, onChange: (c) => changes.push(c) });
  return { id: session.id, keeper: session.keeper, shared: session.shared, fallbackReason: session.fallbackReason };
};
// Writes "{tag}-{i}" into column {column}, rows 1..n; what each write answered.
window.write = async (tag, column, n) => {
  const out = [];
  for (let i = 1; i <= n; i++) {
    const r = await session.fetch("/worksheets('Sheet1')/range(address='" + column + i + "')", { method: "PATCH", body: { values: [[tag + "-" + i]] } });
    out.push(r.status);
  }
  return out;
};
window.read = async (address) => (await session.json("/worksheets('Sheet1')/range(address='" + address + "')")).values;
window.state = () => ({ id: session.id, keeper: session.keeper, state: session.state });
window.leave = async () => {
  const r = await session.close();
  return r && r.status;
};
window.ready = true;
</script></body></html>
`;

test("shared (Chromium): three pages share one session, take turns on the workbook, survive the keeper's page closing, and the last close() closes it", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("shared", { files: { "index.html": PAGE } });
  const site = await serve(t, dir);
  const item = unique("SHARED");
  const workbook = `/me/drive/items/${item}`;
  const context = await (await chromium(t)).newContext();
  const errors = [];
  const open = opener(context, site, url, workbook, errors);
  const pages = [await open(), await open(), await open()];
  await control.fault(url, { operation: "range", pathContains: item, delayMs: DELAY_MS, times: 40 });

  // Three contexts open at once: one createSession, one keeper, one id.
  const opened = await Promise.all(pages.map((p) => p.evaluate(() => window.open_())));
  assert.deepEqual(opened.map((o) => [o.shared, o.fallbackReason]), [[true, null], [true, null], [true, null]]);
  const [id] = new Set(opened.map((o) => o.id));
  assert.deepEqual(opened.map((o) => o.id), [id, id, id]);
  assert.equal(opened.filter((o) => o.keeper).length, 1, JSON.stringify(opened));
  const keeper = pages[opened.findIndex((o) => o.keeper)];
  const others = pages.filter((p) => p !== keeper);

  // Every page writes at once; the keeper's page closes while the others go on.
  const writing = others.map((p, i) => p.evaluate(([tag, col]) => window.write(tag, col, 8), [`p${i}`, "AB"[i]]));
  assert.deepEqual(await keeper.evaluate(() => window.write("k", "C", 4)), [200, 200, 200, 200]);
  await keeper.close();
  const written = await Promise.all(writing);
  assert.deepEqual(written, [Array(8).fill(200), Array(8).fill(200)]);

  // Another page took over the same session and keeps it alive.
  const end = Date.now() + WAIT_MS;
  while (!(await Promise.all(others.map((p) => p.evaluate(() => window.state().keeper)))).some(Boolean)) {
    assert.ok(Date.now() < end, "a page took over within the bound");
    await new Promise((r) => setTimeout(r, 50));
  }
  const states = await Promise.all(others.map((p) => p.evaluate(() => window.state())));
  assert.deepEqual(states.map((s) => [s.id, s.state]), [[id, "active"], [id, "active"]]);
  assert.equal(states.filter((s) => s.keeper).length, 1, "one page took over");
  const refreshedBefore = (await control.sessions(url)).find((s) => s.id === id).refreshCount;
  await new Promise((r) => setTimeout(r, 1_000));
  assert.ok((await control.sessions(url)).find((s) => s.id === id).refreshCount > refreshedBefore, "the new keeper refreshes");

  // Nothing lost: every cell as written, in the one session.
  const values = await others[1].evaluate(() => window.read("A1:C8"));
  for (let row = 1; row <= 8; row++) {
    assert.deepEqual(values[row - 1].slice(0, 2), [`p0-${row}`, `p1-${row}`]);
    if (row <= 4) assert.equal(values[row - 1][2], `k-${row}`);
  }

  // The journal: one createSession, every request on the one id, the writes one at a time.
  const log = (await control.requests(url, item)).filter((q) => !q.batch);
  assert.equal(log.filter((q) => q.operation === "createSession").length, 1, "exactly one createSession");
  assert.deepEqual([...new Set(log.filter((q) => q.sessionId).map((q) => q.sessionId))], [id]);
  const writes = log.filter((q) => q.operation === "range" && q.method === "PATCH").map((q) => q.timeMs).sort((a, b) => a - b);
  assert.equal(writes.length, 20);
  const gaps = writes.slice(1).map((t, i) => t - writes[i]);
  assert.ok(gaps.every((g) => g >= DELAY_MS - 5), `writes never overlap (each held ${DELAY_MS} ms): gaps ${gaps}`);

  // close(): the first of the two leaves the session open, the last holder closes it.
  assert.equal(await others[0].evaluate(() => window.leave()), null);
  assert.ok((await control.sessions(url)).some((s) => s.id === id), "still open for the last holder");
  assert.equal(await others[1].evaluate(() => window.leave()), 204);
  assert.deepEqual((await control.sessions(url)).filter((s) => s.item === workbook), []);
  assert.equal((await control.requests(url, item)).filter((q) => q.operation === "closeSession").length, 1);
  assert.deepEqual(errors, []);
});

/** Opens the page in `context` on `workbook`; `extra` is added to its query. */
function opener(context, site, url, workbook, errors) {
  return async (extra = "") => {
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${site}/index.html?emulator=${encodeURIComponent(url)}&workbook=${encodeURIComponent(workbook)}&interval=400${extra}`);
    await page.waitForFunction(() => window.ready === true);
    return page;
  };
}

test("shared (Chromium): an expired session is recreated once for every page; without Web Locks a page keeps a session of its own and says so", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("shared-recreate", { files: { "index.html": PAGE } });
  const site = await serve(t, dir);
  const item = unique("SHARED-RECREATE");
  const workbook = `/me/drive/items/${item}`;
  const context = await (await chromium(t)).newContext();
  const errors = [];
  const open = opener(context, site, url, workbook, errors);
  const pages = [await open(), await open()];
  const opened = await Promise.all(pages.map((p) => p.evaluate(() => window.open_())));
  const first = opened[0].id;
  assert.equal(opened[1].id, first);
  const follower = pages[opened.findIndex((o) => !o.keeper)];

  // Graph forgets the session: the follower's read is answered in the one new session.
  await control.expire(url, first);
  assert.deepEqual(await follower.evaluate(() => window.read("B2")), [[""]]);
  const states = await Promise.all(pages.map((p) => p.evaluate(() => window.state())));
  const second = states[0].id;
  assert.notEqual(second, first);
  assert.deepEqual(states.map((s) => [s.id, s.state]), [[second, "active"], [second, "active"]]);
  const changes = await follower.evaluate(() => window.changes);
  assert.deepEqual(changes.map((c) => c.reason), ["attached", "recreated"]);
  assert.deepEqual(changes[1], { id: second, previousId: first, reason: "recreated" });
  const created = (await control.requests(url, item)).filter((q) => q.operation === "createSession");
  assert.equal(created.length, 2, "the first and one recreation");

  // No Web Locks: a session of this page only, said so; it closes its own.
  const alone = await open("&nolocks");
  const own = await alone.evaluate(() => window.open_());
  assert.equal(own.shared, false);
  assert.match(own.fallbackReason, /Web Locks/);
  assert.notEqual(own.id, second);
  assert.equal(await alone.evaluate(() => window.leave()), 204);

  assert.equal(await pages[0].evaluate(() => window.leave()), null);
  assert.equal(await pages[1].evaluate(() => window.leave()), 204);
  assert.deepEqual((await control.sessions(url)).filter((s) => s.item === workbook), []);
  assert.deepEqual(errors, []);
});
