// Bun (npm package `bun`): the "bun" export condition.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertPoolScenario, assertScenario, bin, consumer, consumers, control, emulator, lastJson, run } from "../lib/harness.mjs";

// Each test takes about 5 s here; the bound is several times that.
const BOUND = { timeout: 120_000 };

test("Bun: import without init, refresh, create/close, errors, WorkbookSession", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("bun", { copy: [[join(consumers, "scenario.mjs")], [join(consumers, "cli.mjs")]] });
  const { stdout } = run(bin("bun"), ["cli.mjs", url, "bun"], { cwd: dir, env: { DO_NOT_TRACK: "1" } });
  assertScenario(lastJson(stdout), "bun");
  const log = await control.requests(url, "Runtimes/bun/");
  assert.ok(log.some((q) => q.clientRequestId === "bun-refresh" && q.status === 204));
});

test("Bun: require() of the package", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("bun-cjs", { copy: [[join(consumers, "cjs.cjs")]], packageJson: { type: "commonjs" } });
  const r = lastJson(run(bin("bun"), ["cjs.cjs", url], { cwd: dir, env: { DO_NOT_TRACK: "1" } }).stdout);
  assert.deepEqual(r, { initSync: "function", refreshed: 204, closed: 204, error: { name: "GraphError", code: "invalidArgument", attempts: 0 } });
});

test("Bun: SessionPool keeps three sessions alive through $batch, then closes them", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("bun-pool", { copy: [[join(consumers, "pool-scenario.mjs")], [join(consumers, "pool-cli.mjs")]] });
  const { stdout } = run(bin("bun"), ["pool-cli.mjs", url, "bun"], { cwd: dir, env: { DO_NOT_TRACK: "1" } });
  await assertPoolScenario(lastJson(stdout), "bun", url);
});
