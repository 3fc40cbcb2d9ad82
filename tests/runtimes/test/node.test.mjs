// Node 20+: ESM import, CommonJS require, and examples/node run as a user would.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { assertScenario, consumer, consumers, control, emulator, examples, lastJson, run, unique } from "../lib/harness.mjs";

// Each test takes 2 to 10 s here; the bound is several times that.
const BOUND = { timeout: 120_000 };

test("Node ESM: import without init, refresh, create/close, errors, WorkbookSession", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("node-esm", { copy: [[join(consumers, "scenario.mjs")], [join(consumers, "cli.mjs")]] });
  const r = lastJson(run("node", ["cli.mjs", url, "node"], { cwd: dir }).stdout);
  assertScenario(r, "node");
  const log = await control.requests(url, "Runtimes/node/");
  assert.ok(log.some((q) => q.operation === "refreshSession" && q.clientRequestId === "node-refresh" && q.status === 204));
  assert.ok(log.some((q) => q.batch), "refreshSessions went through $batch");
});

test("Node CommonJS: require() of the package", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("node-cjs", { copy: [[join(consumers, "cjs.cjs")]], packageJson: { type: "commonjs" } });
  const r = lastJson(run("node", ["cjs.cjs", url], { cwd: dir }).stdout);
  assert.deepEqual(r, {
    initSync: "function",
    refreshed: 204,
    closed: 204,
    error: { name: "GraphError", code: "invalidArgument", attempts: 0 },
  });
});

test("Node: the refresh-only entry graph-workbook-session/refresh; its GraphError is the main entry's; fromJSON round-trips toJSON", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("node-refresh", { copy: [[join(consumers, "refresh.mjs")]] });
  const r = lastJson(run("node", ["refresh.mjs", url], { cwd: dir }).stdout);
  assert.deepEqual(r, {
    exports: ["GraphError", "closeSession", "default", "initSync", "isGraphError", "refreshSession"],
    refreshed: { status: 204, clientRequestId: "refresh-entry", attempts: 1 },
    closed: 204,
    error: {
      name: "GraphError",
      code: "notFound",
      innerCode: null,
      status: 404,
      instance: true,
      isGraphError: true,
      mainInstance: true,
      sameClass: true,
      roundTrip: { instance: true, same: true, message: true },
    },
    invalid: { code: "invalidArgument", attempts: 0 },
    fromJSON: {
      fields: true,
      stateLost: true,
      json: {
        name: "GraphError",
        message: "m",
        code: "serviceUnavailable",
        innerCode: "invalidSessionReCreatable",
        innerCodes: ["invalidSessionReCreatable", "deeper"],
        status: 503,
        requestId: "r",
        clientRequestId: "c",
        retryAfterMs: 5000,
        attempts: 3,
        recreatable: true,
        date: "2026-12-04T10:00:00",
        stateLost: true,
      },
    },
    refused: true,
  });
});

test("Node: a caller's fetch is let go once its call is over (refreshSession; a freed WorkbookSession)", BOUND, async () => {
  const dir = consumer("node-retain", { copy: [[join(consumers, "retain.mjs")]] });
  const r = lastJson(run("node", ["--expose-gc", "retain.mjs"], { cwd: dir }).stdout);
  assert.deepEqual(r, { refreshSession: true, attachFreed: true });
});

test("examples/node: create, keep alive with progress, recreate after expiry, close", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("example-node", { copy: [[join(examples, "node")]] });
  const workbook = `/me/drive/items/${unique("EXAMPLE-NODE")}`;
  const child = spawn("node", ["keep-alive.mjs"], {
    cwd: dir,
    env: { ...process.env, GRAPH_BASE_URL: `${url}/v1.0`, GRAPH_TOKEN: "example-token", WORKBOOK: workbook, INTERVAL_MS: "150", DURATION_S: "2" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => child.kill());
  let out = "";
  let expired = false;
  child.stderr.on("data", (d) => (out += d));
  const code = await new Promise((resolve, reject) => {
    child.stdout.on("data", async (d) => {
      out += d;
      // After the first refresh, expire the session behind the script's back.
      if (!expired && /refreshed #1/.test(out)) {
        expired = true;
        const [first] = (await control.sessions(url)).filter((s) => s.item === workbook);
        await control.expire(url, first.id).catch(reject);
      }
    });
    child.on("exit", resolve);
  });
  assert.equal(code, 0, out);
  const created = out.match(/created (\S+) \(persistChanges: true\)/);
  assert.ok(created, out);
  assert.match(out, /keeping alive for 2 s/);
  assert.match(out, /refreshed #1: 204/);
  assert.match(out, new RegExp(`recreated: ${escape(created[1])} -> cluster=EMU&session=`));
  assert.match(out, /refreshed #[3-9]\d*: 204/, "keep-alive went on after the recreation");
  assert.match(out, /closed: 204 after \d+ refreshes/);
  assert.deepEqual((await control.sessions(url)).filter((s) => s.item === workbook), [], "nothing left open");
});

test("examples/node: a GraphError is reported with its fields", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("example-node", { copy: [[join(examples, "node")]] });
  const r = run("node", ["keep-alive.mjs"], {
    cwd: dir,
    env: { GRAPH_BASE_URL: `${url}/v1.0`, GRAPH_TOKEN: "example-token", WORKBOOK: "/me/drive/items/../escape", DURATION_S: "1" },
    expectFailure: true,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /createSession failed: .*\n  code invalidArgument, inner null, status 0/);
});

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
