// Wasm↔JS crossings (imports + exports called) per call of the calls that
// read an option bag of their own (createSession's, WorkbookSession.create
// and attach, keepAlive, session.fetch with an init, a session's refresh,
// refreshSessions' items), fetch stubbed; not a row of `cargo xtask bench`
// (bench/README.md, "Call overhead: the options in one crossing").
//
//   node bench/option-crossings.mjs PKGDIR   (the full package)
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
const dir = resolve(process.argv[2]);
let n = 0;
const Instance = WebAssembly.Instance;
WebAssembly.Instance = function (module, imports) {
  const wrapped = {};
  for (const [mod, fns] of Object.entries(imports)) {
    wrapped[mod] = {};
    for (const [name, f] of Object.entries(fns)) wrapped[mod][name] = typeof f === "function" ? function (...a) { n++; return f.apply(this, a); } : f;
  }
  const inst = new Instance(module, wrapped);
  const exp = {};
  for (const [name, v] of Object.entries(inst.exports)) exp[name] = typeof v === "function" ? (...a) => (n++, v(...a)) : v;
  return { exports: exp };
};
const glue = await import(pathToFileURL(join(dir, "graph_workbook_session.js")).href);
glue.initSync({ module: readFileSync(join(dir, "graph_workbook_session_bg.wasm")) });
const sid = "cluster=PS1&session=15.SN3PEPF000074F1.A82.1.V24.6230";
const o = { workbook: "/me/drive/items/01ABC", accessToken: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.bench", baseUrl: "https://graph.microsoft.com/v1.0" };
globalThis.fetch = (url) => Promise.resolve(url.endsWith("/createSession")
  ? new Response(JSON.stringify({ id: sid, persistChanges: true }), { status: 201, headers: { "content-type": "application/json" } })
  : new Response("{}", { status: 200, headers: { "content-type": "application/json" } }));
const measure = async (label, f, calls = 300) => {
  for (let k = 0; k < 20; k++) await f();
  n = 0;
  for (let k = 0; k < calls; k++) await f();
  console.log(`${(n / calls).toFixed(1).padStart(6)}  ${label}`);
};
const s = glue.WorkbookSession.attach({ ...o, sessionId: sid });
await measure("WorkbookSession.attach({ ..., sessionId, persistChanges: false, pollIntervalMs: 1000 }) + free", () => glue.WorkbookSession.attach({ ...o, sessionId: sid, persistChanges: false, pollIntervalMs: 1000 }).free());
await measure("WorkbookSession.create({ ..., preferAsync: false }) + free", async () => (await glue.WorkbookSession.create({ ...o, preferAsync: false })).free());
await measure("createSession({ ..., persistChanges: false })", () => glue.createSession({ ...o, persistChanges: false }));
await measure("keepAlive({ intervalMs: 60000, onError, recreate: true }) + stop()", () => { s.keepAlive({ intervalMs: 60000, onError() {}, recreate: true }); s.stop(); });
await measure("session.fetch(path, { method: 'PATCH', json: {values: [[1]]}, headers: { 'x-a': '1' } }) + .json()", async () => (await s.fetch("/worksheets('Sheet1')/range(address='A1')", { method: "PATCH", json: { values: [[1]] }, headers: { "x-a": "1" } })).json());
await measure("session.refresh({ signal })", () => s.refresh({ signal: new AbortController().signal }));
await measure("refreshSessions(3 items, options)", () => glue.refreshSessions([1, 2, 3].map((k) => ({ workbook: o.workbook, sessionId: sid + k })), { accessToken: o.accessToken }));
process.exit(0);
