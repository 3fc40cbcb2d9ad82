// Per-call profile of a package build, with `fetch` stubbed (one shared 204
// Response, as bench/reader.mjs): the wasm↔JS crossings of one
// refreshSession, by name (every wasm import and export call is counted by
// wrapping the instance's imports and exports), and, for a build made with
// the `alloc-count` feature, the Rust allocations per call. Used to find
// where the call overhead of rows 2 and 3 goes (bench/README.md), not a row
// of `cargo xtask bench`. With --session-fetch, the call is row 8's instead:
// `session.fetch(RANGE)` on a WorkbookSession and `.json()`, fetch answering
// a fresh 200 JSON Response each time (201 for the createSession). With
// --keep-alive, row 6's unit instead: 100 attached sessions keeping alive
// every 50 ms, counted per refresh sent (PKGDIR must be the full package).
//
//   node bench/crossings.mjs PKGDIR [--calls 1000] [--session-fetch | --keep-alive]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const dir = resolve(args.find((a) => !a.startsWith("--")) ?? "pkg");
const i = args.indexOf("--calls");
const calls = i < 0 ? 1000 : Number(args[i + 1]);
const sessionFetch = args.includes("--session-fetch");
const keepAlive = args.includes("--keep-alive");

const counts = new Map();
const count = (name) => counts.set(name, (counts.get(name) ?? 0) + 1);
const Instance = WebAssembly.Instance;
let exportsSeen = null;
WebAssembly.Instance = function (module, imports) {
  const wrapped = {};
  for (const [mod, fns] of Object.entries(imports)) {
    wrapped[mod] = {};
    for (const [name, f] of Object.entries(fns)) {
      // The hash suffix goes; wasm-bindgen's numbered casts keep their number
      // (…_1: closure made, …_2: externref as is, …_3: string read).
      // Since 2026-12-04 the package's imports have short names (`a`, `b`,
      // ...: xtask/src/build.rs short_imports): such an import is labelled
      // by what it does, the start of its function's text.
      const label =
        name.length <= 2 && typeof f === "function"
          ? `import ${name}: ${String(f).replace(/^function\s*\([^)]*\)\s*\{\s*(return\s*)?/, "").replace(/\s+/g, " ").slice(0, 60)}`
          : `import ${name.replace(/_[0-9a-f]{16}$/, (m) => (name.startsWith("__wbindgen_generic") ? `_${Number.parseInt(m.slice(1), 16)}` : ""))}`;
      wrapped[mod][name] = typeof f === "function" ? function (...a) { count(label); return f.apply(this, a); } : f;
    }
  }
  const inst = new Instance(module, wrapped);
  const exp = {};
  for (const [name, v] of Object.entries(inst.exports)) {
    exp[name] = typeof v === "function" ? (...a) => (count(`export ${name}`), v(...a)) : v;
  }
  exportsSeen = inst.exports;
  return { exports: exp };
};

const glue = await import(pathToFileURL(join(dir, "graph_workbook_session.js")).href);
glue.initSync({ module: readFileSync(join(dir, "graph_workbook_session_bg.wasm")) });
const requestId = "5e8b6c1a-0000-4000-8000-000000000001";
const options = {
  workbook: "/me/drive/items/01ABC",
  sessionId: "cluster=PS1&session=15.SN3PEPF000074F1.A82.1.V24.6230",
  accessToken: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.bench",
  baseUrl: "https://graph.microsoft.com/v1.0",
};
let call;
let sent = 0;
if (sessionFetch) {
  // A Response body can be read once: a fresh one per request.
  const range = '{"address":"Sheet1!A1","columnCount":1,"rowCount":1,"values":[[42]],"text":[["42"]]}';
  const created = JSON.stringify({ id: options.sessionId, persistChanges: true });
  globalThis.fetch = (url) => {
    const create = url.endsWith("/createSession");
    return Promise.resolve(new Response(create ? created : range, {
      status: create ? 201 : 200,
      headers: { "content-type": "application/json", "request-id": requestId },
    }));
  };
  const { sessionId: _, ...createOptions } = options;
  const session = await glue.WorkbookSession.create(createOptions);
  const path = "/worksheets('Sheet1')/range(address='A1')";
  call = async () => (await session.fetch(path)).json();
} else if (keepAlive) {
  const answer = new Response(null, { status: 204, headers: { "request-id": requestId } });
  let waiting = null;
  globalThis.fetch = () => {
    sent++;
    if (waiting && sent >= waiting.until) waiting.resolve();
    return Promise.resolve(answer);
  };
  const { sessionId: _, ...attach } = options;
  for (let k = 0; k < 100; k++) {
    glue.WorkbookSession.attach({ ...attach, sessionId: `${options.sessionId}${k}` }).keepAlive({ intervalMs: 50 });
  }
  // One "call" is one refresh sent by some keep-alive.
  call = () => new Promise((resolve) => (waiting = { until: sent + 1, resolve }));
} else {
  const answer = new Response(null, { status: 204, headers: { "request-id": requestId } });
  globalThis.fetch = () => Promise.resolve(answer);
  call = () => glue.refreshSession(options);
}
for (let k = 0; k < 100; k++) await call();
counts.clear();
const sent0 = sent;
const allocs = exportsSeen.__gws_alloc_count;
const a0 = allocs ? allocs() : 0;
for (let k = 0; k < calls; k++) await call();
const a1 = allocs ? allocs() : 0;
counts.delete("export __gws_alloc_count");
// Keep-alive: per refresh sent (a wait may see several sessions' refreshes).
const per = keepAlive ? sent - sent0 : calls;
const rows = [...counts].sort((a, b) => b[1] - a[1]);
const total = (kind) => rows.filter(([n]) => n.startsWith(kind)).reduce((s, [, c]) => s + c, 0) / per;
console.log(`${dir}: per ${sessionFetch ? "session.fetch (+ .json())" : keepAlive ? "keep-alive refresh" : "refreshSession"} call (${per} ${keepAlive ? "refreshes" : "calls"}, fetch stubbed)`);
console.log(`  imports called: ${total("import").toFixed(1)}, exports called: ${total("export").toFixed(1)}` +
  (allocs ? `, Rust allocations: ${((a1 - a0) / calls).toFixed(1)}` : " (build with --features alloc-count for allocations)"));
for (const [n, c] of rows) console.log(`  ${(c / per).toFixed(2).padStart(6)}  ${n}`);
if (keepAlive) process.exit(0);
