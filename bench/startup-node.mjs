// Row 5, Node, one measurement per fresh process: from the script's start to
// the first refreshSession answered. Ours: import the glue, read and compile
// the wasm, instantiate (initSync), first call. The anchor: a raw fetch's
// first call (Node loads its fetch, undici, lazily: both pay for that).
//   node startup-node.mjs ours|fetch GRAPH_BASE SESSION_ID PKG_DIR
import { performance } from "node:perf_hooks";
const t0 = performance.now();
const [who, base, sessionId, pkg] = process.argv.slice(2);
const workbook = "/me/drive/items/BENCH";
const out = {};
if (who === "ours") {
  const { readFileSync } = await import("node:fs");
  const glue = await import(new URL(`file://${pkg}/graph_workbook_session.js`).href);
  const t1 = performance.now();
  const module = await WebAssembly.compile(readFileSync(`${pkg}/graph_workbook_session_bg.wasm`));
  const t2 = performance.now();
  glue.initSync({ module });
  const t3 = performance.now();
  const r = await glue.refreshSession({ workbook, sessionId, accessToken: "bench-token", baseUrl: base });
  const t4 = performance.now();
  if (r.status !== 204) throw new Error(`status ${r.status}`);
  Object.assign(out, { importMs: t1 - t0, compileMs: t2 - t1, instantiateMs: t3 - t2, firstCallMs: t4 - t3, totalMs: t4 - t0 });
} else {
  const r = await fetch(`${base}${workbook}/workbook/refreshSession`, {
    method: "POST",
    headers: { authorization: "Bearer bench-token", "workbook-session-id": sessionId },
  });
  if (r.status !== 204) throw new Error(`status ${r.status}`);
  const t4 = performance.now();
  Object.assign(out, { firstCallMs: t4 - t0, totalMs: t4 - t0 });
}
console.log(JSON.stringify(out));
