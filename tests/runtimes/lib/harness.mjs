// Shared helpers of the runtime tests: the packed package, throwaway
// consumer projects under target/runtimes/, the emulator, child processes.
//
// Inputs (set by `cargo xtask test`; each has a fallback for running
// `npm test` here by hand after `cargo xtask build`):
//   GRAPH_EMULATOR_URL  a running emulator   (else target/debug/workbook-emulator is started)
//   GWS_TARBALL         the `npm pack` of pkg/ (else pkg/ is packed now)
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { basename, dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

export const here = dirname(dirname(fileURLToPath(import.meta.url))); // tests/runtimes
export const root = resolve(here, "..", ".."); // the workspace
export const work = join(root, "target", "runtimes");
export const bin = (name) => join(here, "node_modules", ".bin", name);
export const consumers = join(here, "consumers");
export const examples = join(root, "examples");

/** The packed package: GWS_TARBALL, or `npm pack pkg/` into target/runtimes/. */
export function tarball() {
  if (process.env.GWS_TARBALL) return resolve(process.env.GWS_TARBALL);
  mkdirSync(work, { recursive: true });
  const out = run("npm", ["pack", join(root, "pkg"), "--pack-destination", work, "--json", "--silent"], { cwd: work });
  return join(work, JSON.parse(out.stdout)[0].filename);
}

/**
 * A fresh consumer project at target/runtimes/<name>: the given files copied
 * in, package.json's "graph-workbook-session" dependency pointed at the
 * tarball, its devDependencies dropped (the tools come from this folder's
 * lockfile), and `npm install` run. Never imports the source tree.
 */
export function consumer(name, { copy = [], files = {}, packageJson = {}, links = [] } = {}) {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [from, to = statSync(from).isFile() ? basename(from) : "."] of copy) {
    cpSync(from, join(dir, to), { recursive: true, filter: (src) => !/[/\\](node_modules|dist)$/.test(src) });
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const pj = join(dir, "package.json");
  const pkg = existsSync(pj) ? JSON.parse(readFileSync(pj, "utf8")) : { name: `consumer-${name}`, private: true, type: "module" };
  Object.assign(pkg, packageJson);
  delete pkg.devDependencies;
  pkg.dependencies = { ...pkg.dependencies, "graph-workbook-session": `file:${tarball()}` };
  for (const dep of links) delete pkg.dependencies[dep];
  writeFileSync(pj, JSON.stringify(pkg, null, 2));
  run("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"], { cwd: dir });
  // Packages the consumer needs besides ours (e.g. @azure/msal-browser) come
  // from this folder's lockfile, linked in, so no test run reaches a registry.
  for (const dep of links) {
    mkdirSync(dirname(join(dir, "node_modules", dep)), { recursive: true });
    cpSync(join(here, "node_modules", dep), join(dir, "node_modules", dep), { recursive: true, dereference: true });
  }
  return dir;
}

/** Runs a command to completion; throws with its output when it fails. */
export function run(cmd, args, { cwd, env = {}, timeout = 180_000, expectFailure = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout, maxBuffer: 64 << 20 });
  const shown = `${cmd} ${args.join(" ")} (in ${cwd})`;
  if (r.error) throw new Error(`${shown}: ${r.error.message}\n${r.stdout ?? ""}${r.stderr ?? ""}`);
  if (!expectFailure && r.status !== 0) throw new Error(`${shown} exited ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`);
  if (expectFailure && r.status === 0) throw new Error(`${shown} succeeded, but it must fail\n${r.stdout}${r.stderr}`);
  return r;
}

/** The last line of stdout, parsed as JSON (what each consumer prints). */
export function lastJson(stdout) {
  const line = stdout.trim().split("\n").at(-1);
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`no JSON result line in:\n${stdout}`);
  }
}

/** The emulator: GRAPH_EMULATOR_URL, or one started for this test file. */
export async function emulator(t) {
  if (process.env.GRAPH_EMULATOR_URL) return process.env.GRAPH_EMULATOR_URL.replace(/\/$/, "");
  const exe = join(root, "target", "debug", "workbook-emulator");
  if (!existsSync(exe)) throw new Error(`set GRAPH_EMULATOR_URL or build ${exe} (cargo build -p graph-workbook-emulator)`);
  // The items the runtime tests address and browser pages on loopback ports
  // (as xtask/src/test.rs starts it).
  const items = ["/me/drive/items/", "/me/drive/root:/", "/drives/", "/sites/"].flatMap((p) => ["--workbook-prefix", p]);
  const flags = ["--listen", "127.0.0.1:0", ...items, "--control-origin", "loopback"];
  const child = spawn(exe, flags, { stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => child.kill("SIGKILL"));
  return await new Promise((ok, fail) => {
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`the emulator exited (${code}) before it listened`)));
    child.stdout.once("data", (d) => ok(String(d).split("\n")[0].replace("listening on ", "").trim()));
  });
}

/** A name no earlier run against the same emulator used (workbook paths). */
export function unique(name) {
  return `${name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** How long one call of the emulator's control API may take, body included. */
const CONTROL_MS = 30_000;
const bounded = (init = {}) => ({ ...init, signal: AbortSignal.timeout(CONTROL_MS) });

/** The emulator's control API. */
export const control = {
  async sessions(url) {
    return (await (await fetch(`${url}/_emulator/sessions`, bounded())).json()).sessions;
  },
  async requests(url, pathContains) {
    const r = await fetch(`${url}/_emulator/requests?pathContains=${encodeURIComponent(pathContains)}`, bounded());
    return (await r.json()).requests;
  },
  async fault(url, spec) {
    const r = await fetch(`${url}/_emulator/faults`, bounded({ method: "POST", body: JSON.stringify(spec) }));
    assert.equal(r.status, 201, await r.text());
  },
  async expire(url, id) {
    const r = await fetch(`${url}/_emulator/sessions/${encodeURIComponent(id)}/expire`, bounded({ method: "POST" }));
    assert.equal(r.status, 204);
  },
};

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".json": "application/json" };

/** Serves a folder on a free loopback port; closed after the test. */
export async function serve(t, dir) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = join(dir, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise((ok, fail) => server.once("error", fail).listen(0, "127.0.0.1", ok));
  // close() alone waits for every open connection to end, and a browser
  // keeps its keep-alive connections open as long as it runs: the run once
  // sat 14 minutes there (issue 19). Cut them instead of waiting on a client.
  release(t, "the static server", () => new Promise((ok) => {
    server.close(() => ok());
    server.closeAllConnections();
  }));
  return `http://127.0.0.1:${server.address().port}`;
}

/** How long one release (a browser's close, a server's close) may take. */
const RELEASE_MS = 15_000;
const releases = new WeakMap();

/**
 * Registers `fn` to release what test `t` opened, once it ends: browsers
 * first (`browser: true`; a page holds connections to the servers it
 * loaded from), then everything else, last opened first. Each release is
 * bounded by RELEASE_MS and all are tried; one that fails or times out
 * fails the test, naming `what`.
 */
export function release(t, what, fn, { browser = false } = {}) {
  let list = releases.get(t);
  if (!list) {
    list = { browsers: [], others: [] };
    releases.set(t, list);
    t.after(async () => {
      const failed = [];
      for (const r of [...list.browsers.reverse(), ...list.others.reverse()]) {
        let timer;
        const late = new Promise((_, fail) => {
          timer = setTimeout(() => fail(new Error(`not released within ${RELEASE_MS} ms`)), RELEASE_MS);
        });
        try {
          await Promise.race([Promise.resolve().then(r.fn), late]);
        } catch (e) {
          failed.push(`${r.what}: ${e?.message ?? e}`);
        } finally {
          clearTimeout(timer);
        }
      }
      if (failed.length) throw new Error(`teardown failed: ${failed.join("; ")}`);
    });
  }
  (browser ? list.browsers : list.others).push({ what, fn });
}

/** Headless Debian Chromium through playwright-core (never a downloaded browser). */
export async function chromium(t) {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    ],
  });
  release(t, "Chromium", () => browser.close(), { browser: true });
  return browser;
}

/**
 * Checks what consumers/pool-scenario.mjs returned, in any runtime, and the
 * emulator's log of its workbooks: every refresh went through $batch and
 * succeeded, none lost, every session closed.
 */
export async function assertPoolScenario(r, runtime, url) {
  assert.equal(r.runtime, runtime, JSON.stringify(r));
  assert.deepEqual(r.errors, []);
  assert.equal(r.size, 3);
  assert.deepEqual(r.states, ["active", "active", "active"]);
  assert.deepEqual(r.closed, ["closed", "closed", "closed"]);
  assert.ok(r.refreshed >= 6, `${r.refreshed} refreshes of 3 sessions in 1.5 s at a 300 ms interval`);
  assert.ok(r.batches >= 2, `${r.batches} $batch requests`);
  const log = [];
  for (const b of r.books) log.push(...(await control.requests(url, b.split("/").at(-1))));
  const refreshes = log.filter((q) => q.operation === "refreshSession");
  assert.ok(refreshes.length >= r.refreshed);
  assert.ok(refreshes.every((q) => q.batch && q.status === 204), "every refresh went through $batch and succeeded");
  assert.equal(log.filter((q) => q.operation === "closeSession" && q.status === 204).length, 3);
}

/** Checks what consumers/scenario.mjs returned, in any runtime. */
export function assertScenario(r, runtime) {
  assert.equal(r.runtime, runtime);
  assert.deepEqual(r.exports, {
    default: "function", initSync: "function", refreshSession: "function", createSession: "function",
    closeSession: "function", refreshSessions: "function", WorkbookSession: "function",
    GraphError: "function", isGraphError: "function",
  });
  assert.equal(r.batchEntryIsInstance, true, "a refreshSessions error entry is a GraphError");
  assert.deepEqual(r.graphError, {
    instance: true, isError: true, guard: true, notGuarded: false, causeKept: true,
    json: ["name", "message", "code", "innerCode", "innerCodes", "status", "requestId", "clientRequestId",
      "retryAfterMs", "attempts", "recreatable", "date"],
  });
  assert.equal(r.customFetch, 2, "createSession and closeSession went through the fetch option");
  assert.match(r.disposed, /^closed/);
  assert.equal(r.initIsIdempotent, true, "init() after the automatic load returns the same exports");
  assert.match(r.created.id, /^cluster=EMU&session=/);
  assert.equal(r.created.persistChanges, false);
  assert.equal(r.refreshed.status, 204);
  assert.equal(r.refreshed.clientRequestId, `${runtime}-refresh`);
  assert.equal(r.refreshed.attempts, 1);
  assert.equal(typeof r.refreshed.requestId, "string");
  assert.equal(typeof r.refreshed.elapsedMs, "number");
  assert.equal(r.batch.length, 2);
  assert.equal(r.batch[0].status, 204);
  assert.equal(r.batch[1].name, "GraphError");
  assert.equal(r.batch[1].recreatable, true);
  assert.equal(r.closed.status, 204);
  assert.deepEqual(pick(r.expired), {
    isError: true, name: "GraphError", code: "notFound", innerCode: null, status: 404,
    recreatable: true, attempts: 1, retryAfterMs: null,
  });
  assert.equal(typeof r.expired.requestId, "string");
  assert.deepEqual(pick(r.invalid), {
    isError: true, name: "GraphError", code: "invalidArgument", innerCode: null, status: 0,
    recreatable: false, attempts: 0, retryAfterMs: null,
  });
  assert.match(r.invalid.message, /workbook/);
  assert.equal(r.throttled.status, 204);
  assert.equal(r.throttled.attempts, 2, "a 429 with Retry-After: 0 is retried once");
  assert.equal(r.session.state, "active");
  assert.equal(r.session.persistChanges, true);
  assert.deepEqual(r.session.ticks, [204, 204]);
  assert.equal(r.session.lastRefreshedAt, "number");
  assert.equal(r.session.closed.status, 204);
  assert.equal(r.session.stateAfterClose, "closed");
}

function pick(e) {
  const { isError, name, code, innerCode, status, recreatable, attempts, retryAfterMs } = e;
  return { isError, name, code, innerCode, status, recreatable, attempts, retryAfterMs };
}
