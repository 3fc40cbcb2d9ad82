// TypeScript: `tsc --noEmit --strict` on a consumer that uses every export
// (bundler and NodeNext resolution), and on a file that must fail with
// exactly the errors marked in it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bin, consumer, consumers, run } from "../lib/harness.mjs";

// Each test takes 10 to 30 s (tsc) here; the bound is several times that.
const BOUND = { timeout: 300_000 };

const dir = () => consumer("types", { copy: [[join(consumers, "types")]] });

test("tsc --strict: a consumer of every export compiles (bundler and NodeNext resolution)", BOUND, () => {
  const cwd = dir();
  for (const config of ["tsconfig.bundler.json", "tsconfig.nodenext.json"]) {
    run(bin("tsc"), ["-p", config, "--pretty", "false"], { cwd });
  }
});

test("tsc --strict: a Node-only project (types: node, lib ES2022, no DOM) compiles", BOUND, () => {
  const cwd = consumer("types-node", { copy: [[join(consumers, "types")]], links: ["@types/node", "undici-types"] });
  run(bin("tsc"), ["-p", "tsconfig.node.json", "--pretty", "false"], { cwd });
});

test("tsc --strict: a @cloudflare/workers-types project (lib ES2022, no DOM) compiles", BOUND, () => {
  const cwd = consumer("types-workers", { copy: [[join(consumers, "types")]], links: ["@cloudflare/workers-types"] });
  run(bin("tsc"), ["-p", "tsconfig.workers.json", "--pretty", "false"], { cwd });
});

test("tsc --strict: wrong option names and types fail, with the marked errors and no others", BOUND, () => {
  const cwd = dir();
  const r = run(bin("tsc"), ["-p", "tsconfig.must-fail.json", "--pretty", "false"], { cwd, expectFailure: true });
  const got = [...r.stdout.matchAll(/^must-fail\.ts\((\d+),\d+\): error (TS\d+)/gm)].map((m) => `${m[1]} ${m[2]}`);
  const want = readFileSync(join(cwd, "must-fail.ts"), "utf8")
    .split("\n")
    .flatMap((line, i) => (line.match(/\/\/ (TS\d+)$/) ? [`${i + 1} ${line.match(/\/\/ (TS\d+)$/)[1]}`] : []));
  assert.ok(want.length >= 10);
  assert.deepEqual(got, want, r.stdout);
  assert.doesNotMatch(r.stdout, /node_modules/, "no error inside the package's own declarations");
});
