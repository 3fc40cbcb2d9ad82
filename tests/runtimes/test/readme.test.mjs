// README.md's ```ts blocks, as a user would paste them: each is compiled with
// `tsc --strict` against the packed package's declarations and then run
// with Node against the Graph emulator, so the README cannot rot.
//
// Conventions of the README's blocks:
// - Each ```ts block is one ES module (`readme-NN.ts`, NN its order in the
//   README). A block may use, without declaring them, the names exported by
//   consumers/readme/prelude.ts: `getToken` (your token function),
//   `workbook` (an item path) and `session` (an open WorkbookSession on
//   it); the test imports the ones a block uses (an object key `workbook:`
//   is no use) and does not declare.
// - The blocks talk to the real Graph host (no `baseUrl`), as users' code
//   does. consumers/readme/runner.mjs, preloaded with `node --import`,
//   replaces the global fetch (the package looks it up at call time) so
//   https://graph.microsoft.com goes to the emulator and nothing else is
//   reachable. The emulator's control API is never used by a block.
// - `import ... from "@azure/msal-browser"` compiles against the real
//   msal-browser (this folder's lockfile) and runs against a fake with its
//   shape (consumers/readme/fakes/msal-browser: the first silent call needs
//   interaction; a popup opens only in a click handler). runner.mjs gives
//   the blocks a `document` whose buttons a simulated user clicks once
//   shown. `@azure/identity` is a stub with its declarations and an
//   OnBehalfOfCredential that records its scopes (fakes/identity).
// - `console.log(...); // prints X`: the block's output has the line X.
// - ```ts vitest: a Vitest test file (README's "Testing your code"), run
//   by test/testing.test.mjs under Vitest, not here.
// - ```ts compile-only: compiled, not run (a runtime Node cannot be); with
//   `workerd` (```ts compile-only workerd) against @cloudflare/workers-types
//   (lib ES2022, no DOM) instead of the DOM lib. The others use lib ES2022 +
//   ESNext.Disposable + DOM, no @types.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { bin, consumer, consumers, emulator, lastJson, root, run } from "../lib/harness.mjs";

// Each test takes about 60 s here; the bound is several times that.
const BOUND = { timeout: 600_000 };

const PRELUDE = ["getToken", "session", "workbook"];
const TOKENS = { prelude: "Bearer readme-token", msal: "Bearer msal-token", identity: "Bearer identity-token" };

/** The ```ts blocks of README.md: { n, line, code, compileOnly, workerd }. */
function blocks() {
  const lines = readFileSync(join(root, "README.md"), "utf8").split("\n");
  const found = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^```(\S+)(.*)$/);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l === "```");
    assert.ok(end > i, `README.md:${i + 1}: unclosed code block`);
    if (/^(ts|typescript|tsx|js|javascript|mjs)$/.test(open[1])) {
      assert.equal(open[1], "ts", `README.md:${i + 1}: write code as \`\`\`ts, so it is compiled and run`);
      const flags = open[2].trim().split(/\s+/).filter(Boolean);
      assert.ok(flags.every((f) => f === "compile-only" || f === "workerd" || f === "vitest"), `README.md:${i + 1}: unknown flags ${flags}`);
      // ```ts vitest: a Vitest test file, run by test/testing.test.mjs under Vitest.
      if (flags.includes("vitest")) {
        i = end;
        continue;
      }
      found.push({
        n: found.length + 1,
        line: i + 1,
        code: lines.slice(i + 1, end).join("\n"),
        compileOnly: flags.includes("compile-only"),
        workerd: flags.includes("workerd"),
      });
    }
    i = end;
  }
  return found;
}

const file = (b) => `readme-${String(b.n).padStart(2, "0")}`;
const declares = (code, name) =>
  new RegExp(`\\b(const|let|var|function|class|using)\\s+${name}\\b|\\{[^}]*\\b${name}\\b[^}]*\\}\\s*=`).test(code) ||
  new RegExp(`import\\s*\\{[^}]*\\b${name}\\b[^}]*\\}\\s*from`).test(code);

/** The prelude names a block uses (outside comments and strings) and does not declare. */
function needs(b) {
  const code = b.code.replace(/\/\/[^\n]*|"(?:[^"\\]|\\.)*"/g, (m) => (m.startsWith("//") ? "" : '""'));
  return PRELUDE.filter((name) => new RegExp(`\\b${name}\\b(?!\\s*:)`).test(code) && !declares(b.code, name));
}

/** The module written for a block: the prelude names it needs, the block, `export {}`. */
function source(b) {
  const head = needs(b).length ? `import { ${needs(b).join(", ")} } from "./prelude.js";\n` : "";
  return `${head}${b.code}\nexport {};\n`;
}

/** What `// prints X` comments promise. */
const promised = (b) => [...b.code.matchAll(/console\.log\(.*\);\s*\/\/ prints (.+)$/gm)].map((m) => m[1].trim());

function tsconfig(files, workerd) {
  const compilerOptions = {
    strict: true,
    skipLibCheck: false,
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    outDir: "out",
    ...(workerd
      ? { lib: ["ES2022"], types: ["@cloudflare/workers-types"], noEmit: true }
      : { lib: ["ES2022", "ESNext.Disposable", "DOM"], types: [] }),
  };
  return JSON.stringify({ compilerOptions, files }, null, 2);
}

test("README.md: every ```ts block compiles under tsc --strict and runs against the emulator", BOUND, async (t) => {
  const url = await emulator(t);
  const all = blocks();
  const runnable = all.filter((b) => !b.compileOnly);
  const compileOnly = all.filter((b) => b.compileOnly);
  assert.ok(all.length >= 10, `README.md has ${all.length} ts blocks`);
  assert.ok(compileOnly.length <= 2, "compile-only is for the few blocks Node cannot run");

  const files = Object.fromEntries(all.map((b) => [`${file(b)}.ts`, source(b)]));
  const dom = ["prelude.ts", ...all.filter((b) => !b.workerd).map((b) => `${file(b)}.ts`)];
  const workers = all.filter((b) => b.workerd).map((b) => `${file(b)}.ts`);
  files["tsconfig.json"] = tsconfig(dom, false);
  if (workers.length) files["tsconfig.workerd.json"] = tsconfig(workers, true);
  const cwd = consumer("readme", {
    copy: [[join(consumers, "readme")]],
    files,
    links: ["@azure/msal-browser", "@azure/msal-common", "@cloudflare/workers-types", "@microsoft/microsoft-graph-client"],
  });
  cpSync(join(cwd, "fakes", "identity"), join(cwd, "node_modules", "@azure", "identity"), { recursive: true });

  const where = (out) => out.replace(/^readme-(\d+)\.ts\((\d+)/gm, (_, n, l) => {
    const b = all[Number(n) - 1];
    return `README.md:${b.line + Number(l) - (needs(b).length ? 1 : 0)} (block ${n}, line ${l}`;
  });
  for (const config of ["tsconfig.json", ...(workers.length ? ["tsconfig.workerd.json"] : [])]) {
    try {
      run(bin("tsc"), ["-p", config, "--pretty", "false"], { cwd, timeout: 300_000 });
    } catch (e) {
      throw new Error(where(e.message));
    }
  }

  // Compiled against msal-browser's real declarations; run against its fake.
  rmSync(join(cwd, "node_modules", "@azure", "msal-browser"), { recursive: true, force: true });
  cpSync(join(cwd, "fakes", "msal-browser"), join(cwd, "node_modules", "@azure", "msal-browser"), { recursive: true });

  for (const b of runnable) {
    await t.test(`block ${b.n} (README.md:${b.line}) runs`, { timeout: 120_000 }, () => {
      const r = run("node", ["--import", "./runner.mjs", join("out", `${file(b)}.js`)], {
        cwd,
        env: { GRAPH_EMULATOR_URL: url },
        timeout: 60_000,
      });
      const seen = lastJson(r.stdout);
      const printed = r.stdout.trim().split("\n").slice(0, -1);
      assert.ok(seen.requests > 0, `block ${b.n} sent no Graph request`);
      for (const line of promised(b)) assert.ok(printed.includes(line), `block ${b.n} promised "${line}", printed:\n${printed.join("\n")}`);
      const sources = /@azure\/msal-browser/.test(b.code) ? ["msal"] : /@azure\/identity/.test(b.code) ? ["identity"] : [];
      if (needs(b).length || sources.length === 0) sources.push("prelude");
      assert.deepEqual(
        seen.authorization.filter((a) => !sources.some((s) => TOKENS[s] === a)),
        [],
        `block ${b.n}: every request carried the block's token (${sources})`,
      );
      if (sources.includes("msal")) {
        // Interaction needed on the first visit; the popup opened from the
        // button's click (the fake refuses it anywhere else, a timer
        // included), once; every other token came silently.
        assert.deepEqual(seen.msal.slice(0, 2), ["acquireTokenSilent", "acquireTokenPopup"], seen.msal.join());
        assert.ok(seen.msal.length >= 3 && seen.msal.slice(2).every((c) => c === "acquireTokenSilent"), seen.msal.join());
        assert.equal(seen.clicks, 1, "the user clicked the sign-in button once");
      }
      if (sources.includes("identity")) {
        assert.ok(seen.scopes.length > 0);
        for (const s of seen.scopes) assert.deepEqual(s, ["https://graph.microsoft.com/.default"]);
      }
      t.diagnostic(`block ${b.n}: ${seen.requests} requests: ${[...new Set(seen.paths.map((p) => p.replace(/\/v1\.0\/.*\/workbook\//, " …/workbook/")))].join(", ")}`);
    });
  }
  t.diagnostic(`${all.length} ts blocks: ${runnable.length} compiled and run, ${compileOnly.length} compile-only`);
});
