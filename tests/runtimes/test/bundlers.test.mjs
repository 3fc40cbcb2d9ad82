// Every bundler and edge (issue 23, point 7): the packed package checked by
// the ecosystem's own tools (publint, @arethetypeswrong/cli), a Node
// service bundled by esbuild (the README's recipe) run with no
// node_modules, and an `esbuild --conditions=edge-light` bundle run in
// workerd, an edge runtime that refuses to compile wasm from bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { bin, consumer, control, emulator, here, lastJson, run, tarball, unique, work } from "../lib/harness.mjs";

const BOUND = { timeout: 300_000 };

// What @arethetypeswrong/cli reports that is deliberate:
// - cjs-resolves-to-esm: the package is ESM only; require() of it works on
//   Node 20.19+ and 22.12+ (package.json "engines"), and TypeScript 5.8+
//   (module node18/nodenext) types it. Under older "node16" settings a
//   CommonJS file can only import() it.
// - The .wasm subpaths are assets for bundlers' loaders (esbuild's binary
//   loader, wrangler's CompiledWasm, Vite's ?url), not modules with
//   declarations: their type depends on the loader.
const ATTW_IGNORE = ["cjs-resolves-to-esm"];
const ATTW_EXCLUDE = ["./graph_workbook_session_bg.wasm", "./refresh/graph_workbook_session_bg.wasm"];

test("publint and @arethetypeswrong/cli: the packed tarball has no problem but the deliberate ones", BOUND, () => {
  const tgz = tarball();
  const publint = run("node", ["--input-type=module", "-e", `
    import { readFileSync } from "node:fs";
    import { publint } from "publint";
    import { formatMessage } from "publint/utils";
    const bytes = readFileSync(${JSON.stringify(tgz)});
    const { messages, pkg } = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }, level: "suggestion" });
    console.log(JSON.stringify(messages.map((m) => m.type + " " + m.code + ": " + formatMessage(m, pkg))));
  `], { cwd: here });
  assert.deepEqual(lastJson(publint.stdout), [], "publint (suggestions included)");

  const attw = run(bin("attw"), [tgz, "--format", "json", "--ignore-rules", ...ATTW_IGNORE, "--exclude-entrypoints", ...ATTW_EXCLUDE]);
  // attw exits non-zero on any problem not ignored; the report lists the ignored ones too.
  const report = JSON.parse(attw.stdout);
  assert.deepEqual(Object.keys(report.problems), ["CJSResolvesToESM"]);
  assert.ok(report.problems.CJSResolvesToESM.every((p) => p.resolutionKind === "node16-cjs"));
  const entrypoints = Object.keys(report.analysis.entrypoints);
  assert.deepEqual(entrypoints.sort(), [".", "./cloudflare", "./graph-sdk", "./manual", "./package.json", "./pool", "./refresh", "./shared", "./testing"]);
});

// What both services do, against the emulator at argv[2].
const CALLS = `
const [url, workbook] = process.argv.slice(2);
const call = { workbook, accessToken: "bundled-node-token", baseUrl: url + "/v1.0" };
const { id } = await createSession(call);
const refreshed = await refreshSession({ ...call, sessionId: id });
const closed = await closeSession({ ...call, sessionId: id });
console.log(JSON.stringify({ refreshed: refreshed.status, closed: closed.status }));
`;

// The package's own Node entry, bundled: it reads the wasm from beside the
// file that holds it, the bundle, where the README's recipe copies it.
const PLAIN = `
import { createSession, refreshSession, closeSession } from "graph-workbook-session";
${CALLS}`;

// The README's other recipe: the bytes embedded by esbuild's binary loader,
// given to the manual entry's initSync.
const SERVICE = `
import wasm from "graph-workbook-session/graph_workbook_session_bg.wasm"; // esbuild --loader:.wasm=binary: the bytes
import { initSync, createSession, refreshSession, closeSession } from "graph-workbook-session/manual";

initSync({ module: wasm });
${CALLS}`;

test("esbuild --platform=node --bundle: both README recipes run with no node_modules (the wasm copied beside the bundle; embedded, with initSync)", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("bundled-node", { files: { "plain.mjs": PLAIN, "service.mjs": SERVICE } });
  for (const [entry, flags, copyWasm] of [["plain.mjs", [], true], ["service.mjs", ["--loader:.wasm=binary"], false]]) {
    const out = join(work, `bundled-node-dist-${entry}`); // outside the consumer project: no package to resolve
    rmSync(out, { recursive: true, force: true });
    run(bin("esbuild"), [entry, "--bundle", "--platform=node", "--target=node20", "--format=esm", ...flags, `--outfile=${join(out, "service.mjs")}`, "--log-level=warning"], { cwd: dir });
    if (copyWasm) cpSync(join(dir, "node_modules", "graph-workbook-session", "graph_workbook_session_bg.wasm"), join(out, "graph_workbook_session_bg.wasm"));
    const workbook = `/me/drive/items/${unique("BUNDLED-NODE")}`;
    const r = lastJson(run("node", ["service.mjs", url, workbook], { cwd: out }).stdout);
    assert.deepEqual(r, { refreshed: 204, closed: 204 }, entry);
    // createSession asks for the long-running path (Prefer: respond-async); this emulator's operations
    // take 300 ms, so the session comes from one or more operation polls and the resource location.
    const ops = (await control.requests(url, workbook)).map((q) => q.operation);
    assert.ok(ops.filter((o) => o === "operation").length >= 1, `${entry}: ${ops}`);
    assert.deepEqual(ops.filter((o) => o !== "operation"), ["createSession", "sessionInfo", "refreshSession", "closeSession"], entry);
  }
});

const EDGE = `
import { createSession, refreshSession, closeSession } from "graph-workbook-session";
export default {
  async fetch(request, env) {
    const { workbook } = await request.json();
    const call = { workbook, accessToken: "edge-light-token", baseUrl: env.GRAPH_BASE_URL };
    const { id } = await createSession(call);
    const refreshed = await refreshSession({ ...call, sessionId: id });
    const closed = await closeSession({ ...call, sessionId: id });
    return Response.json({ refreshed: refreshed.status, closed: closed.status });
  },
};
`;

test("esbuild --conditions=edge-light: the bundle imports the wasm as a module and runs in workerd", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("edge-light", { files: { "edge.mjs": EDGE } });
  const out = join(dir, "dist");
  mkdirSync(out, { recursive: true });
  run(bin("esbuild"), ["edge.mjs", "--bundle", "--format=esm", "--platform=neutral", "--conditions=edge-light", "--external:*.wasm", `--outfile=${join(out, "edge.mjs")}`, "--log-level=warning"], { cwd: dir });
  const bundle = readFileSync(join(out, "edge.mjs"), "utf8");
  assert.match(bundle, /from\s*"\.\/node_modules\/graph-workbook-session\/graph_workbook_session_bg\.wasm"|from\s*"[^"]*graph_workbook_session_bg\.wasm"/, "the wasm stays a module import");
  assert.doesNotMatch(bundle, /readFileSync|import\.meta\.url/, "neither the Node nor the browser entry");
  // The .wasm where the bundle's import points, as a deploy tool would upload it.
  const specifier = bundle.match(/from\s*"([^"]*graph_workbook_session_bg\.wasm)"/)[1];
  cpSync(join(dir, "node_modules", "graph-workbook-session", "graph_workbook_session_bg.wasm"), join(out, specifier));
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(out, "edge.mjs"),
    modulesRoot: out,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }, { type: "ESModule", include: ["**/*.mjs"] }],
    compatibilityDate: "2026-04-01",
    bindings: { GRAPH_BASE_URL: `${url}/v1.0` },
  });
  try {
    const workbook = `/me/drive/items/${unique("EDGE-LIGHT")}`;
    const r = await mf.dispatchFetch("http://edge/", { method: "POST", body: JSON.stringify({ workbook }) });
    const body = await r.json();
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.deepEqual(body, { refreshed: 204, closed: 204 });
  } finally {
    await mf.dispose();
  }
});

test("export conditions: worker alone takes the module-import entry; worker with browser (a browser Web Worker build) keeps the browser entry", BOUND, () => {
  const dir = consumer("conditions", { files: { "entry.mjs": 'export { refreshSession } from "graph-workbook-session";\n' } });
  const entry = (flags) => {
    const meta = join(dir, "meta.json");
    run(bin("esbuild"), ["entry.mjs", "--bundle", "--format=esm", "--external:*.wasm", `--metafile=${meta}`, "--outfile=out.mjs", "--log-level=warning", ...flags], { cwd: dir });
    const inputs = Object.keys(JSON.parse(readFileSync(meta, "utf8")).inputs);
    return inputs.filter((i) => /graph-workbook-session\/(index|node|workerd|manual)\.js$/.test(i)).map((i) => i.split("/").at(-1));
  };
  assert.deepEqual(entry(["--platform=neutral", "--conditions=worker"]), ["workerd.js"]);
  assert.deepEqual(entry(["--platform=neutral", "--conditions=edge-light"]), ["workerd.js"]);
  assert.deepEqual(entry(["--platform=browser", "--conditions=worker"]), ["index.js"]);
  assert.deepEqual(entry(["--platform=neutral", "--conditions=workerd,worker,browser"]), ["workerd.js"], "wrangler's conditions");
});
