// graph-workbook-session/testing: the emulator compiled to wasm answers
// Graph's hosts in-process. The same scenario (consumers/testing) runs in
// Node, Deno (without any network permission), Bun and workerd through
// Miniflare (bundled by wrangler: the "workerd" condition, the .wasm as a
// module); and the README's Vitest example runs with Vitest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { bin, consumer, consumers, here, lastJson, root, run } from "../lib/harness.mjs";

// Each test takes 3 to 20 s here; the bound is several times that.
const BOUND = { timeout: 180_000 };

const { expected } = await import(join(consumers, "testing", "expected.mjs"));
const dir = () => consumer("testing", { copy: [[join(consumers, "testing")]] });

test("./testing in Node: WorkbookSession against createTestGraph's fetch, faults, expire, requests, workbooks", BOUND, () => {
  const cwd = dir();
  assert.deepEqual(lastJson(run("node", ["cli.mjs"], { cwd }).stdout), expected);
});

test("./testing in Deno, with no network permission at all", BOUND, () => {
  const cwd = dir();
  const { stdout } = run(bin("deno"), ["run", "--no-prompt", `--allow-read=${cwd}`, "cli.mjs"], {
    cwd,
    env: { DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(cwd, ".deno") },
  });
  assert.deepEqual(lastJson(stdout), expected);
});

test("./testing in Bun", BOUND, () => {
  const cwd = dir();
  assert.deepEqual(lastJson(run(bin("bun"), ["cli.mjs"], { cwd, env: { DO_NOT_TRACK: "1" } }).stdout), expected);
});

test("./testing in workerd (Miniflare): the emulator's wasm imported as a module", BOUND, async (t) => {
  const cwd = dir();
  run(bin("wrangler"), ["deploy", "--dry-run", "--outdir", "dist"], {
    cwd,
    env: { WRANGLER_SEND_METRICS: "false", WRANGLER_LOG_PATH: join(cwd, ".wrangler-logs"), CI: "1" },
  });
  const toml = readFileSync(join(cwd, "wrangler.toml"), "utf8");
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(cwd, "dist", "worker.js"),
    modulesRoot: join(cwd, "dist"),
    modulesRules: [
      { type: "CompiledWasm", include: ["**/*.wasm"] },
      { type: "ESModule", include: ["**/*.js"] },
    ],
    compatibilityDate: toml.match(/^compatibility_date = "([^"]+)"/m)[1],
  });
  t.after(() => mf.dispose());
  const r = await mf.dispatchFetch("http://worker/");
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  assert.deepEqual(body, expected);
});

test("./testing adds nothing to the main entry: no file of the main or refresh entry imports it", BOUND, () => {
  const pkg = join(consumer("testing-bytes", {}), "node_modules", "graph-workbook-session");
  for (const f of ["index.js", "node.js", "workerd.js", "manual.js", "graph_workbook_session.js", "graph-error.js", "refresh/node.js", "refresh/graph_workbook_session.js"]) {
    assert.doesNotMatch(readFileSync(join(pkg, f), "utf8"), /testing|emulator/, f);
  }
  assert.ok(statSync(join(pkg, "testing", "emulator_bg.wasm")).size > 0);
  assert.ok(existsSync(join(here, "node_modules", ".bin", "wrangler")));
});

test("README's \"Testing your code\" Vitest example passes under Vitest", BOUND, () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Testing your code"));
  const block = section.match(/```ts vitest\n([\s\S]*?)```/);
  assert.ok(block && /from "vitest"/.test(block[1]) && /createTestGraph/.test(block[1]), "the section has a Vitest block");
  const cwd = consumer("testing-vitest", { files: { "keep-alive.test.ts": block[1] } });
  // Vitest from this folder's lockfile, linked (not copied) so its own
  // dependencies resolve from here.
  symlinkSync(join(here, "node_modules", "vitest"), join(cwd, "node_modules", "vitest"), "dir");
  writeFileSync(join(cwd, "vitest.config.mjs"), "export default { test: { testTimeout: 30000 } };\n");
  // The example type-checks against ./testing's declarations.
  const compilerOptions = { strict: true, noEmit: true, skipLibCheck: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "DOM"], types: [] };
  writeFileSync(join(cwd, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["keep-alive.test.ts"] }));
  run(bin("tsc"), ["-p", "tsconfig.json", "--pretty", "false"], { cwd });
  const r = run(bin("vitest"), ["run", "--root", cwd, "--reporter=verbose"], { cwd, env: { CI: "1" } });
  assert.match(r.stdout, /1 passed/, r.stdout);
});
