// Deno (npm package `deno`): the consumer's node_modules (from package.json)
// resolved by Deno itself, with the "deno" export condition.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertPoolScenario, assertScenario, bin, consumer, consumers, control, emulator, lastJson, run } from "../lib/harness.mjs";

// Each test takes about 5 s here; the bound is several times that.
const BOUND = { timeout: 120_000 };

/** Runs `script` of the consumer in `dir` under Deno; its last JSON line. */
function deno(dir, script, url) {
  const { stdout } = run(
    bin("deno"),
    // Network to loopback only; read only the consumer's own folder (the wasm).
    ["run", "--no-prompt", "--allow-net=127.0.0.1", `--allow-read=${dir}`, script, url, "deno"],
    { cwd: dir, env: { DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(dir, ".deno") } },
  );
  return lastJson(stdout);
}

test("Deno: import without init, refresh, create/close, errors, WorkbookSession", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("deno", { copy: [[join(consumers, "scenario.mjs")], [join(consumers, "cli.mjs")]] });
  assertScenario(deno(dir, "cli.mjs", url), "deno");
  const log = await control.requests(url, "Runtimes/deno/");
  assert.ok(log.some((q) => q.clientRequestId === "deno-refresh" && q.status === 204));
});

test("Deno: SessionPool keeps three sessions alive through $batch, then closes them", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("deno-pool", { copy: [[join(consumers, "pool-scenario.mjs")], [join(consumers, "pool-cli.mjs")]] });
  await assertPoolScenario(deno(dir, "pool-cli.mjs", url), "deno", url);
});
