// Browsers: a consumer page built by Vite (production and dev server) and by
// webpack, and examples/office-addin built by Vite, each loaded in headless
// Chromium from a loopback port and calling the emulator cross-origin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { assertScenario, bin, chromium, consumer, consumers, control, emulator, examples, run, serve, unique } from "../lib/harness.mjs";

// Each test installs a consumer, builds it and drives Chromium: about 10 to
// 40 s here; the bound is several times that. Playwright's own waits are
// bounded by WAIT_MS unless a call names its own timeout.
const BOUND = { timeout: 300_000 };
const WAIT_MS = 30_000;

/** Opens `page` of a served site with the emulator URL, waits for the scenario's result. */
async function scenarioIn(t, site, runtime, url) {
  const page = await (await chromium(t)).newPage();
  page.setDefaultTimeout(WAIT_MS);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${site}?emulator=${encodeURIComponent(url)}&runtime=${runtime}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.__result, null, { timeout: 60_000 });
  const r = await page.evaluate(() => window.__result);
  assert.equal(r.failed, undefined, r.failed);
  assert.deepEqual(errors, []);
  assertScenario(r, runtime);
  const log = await control.requests(url, `Runtimes/${runtime}/`);
  assert.ok(log.some((q) => q.clientRequestId === `${runtime}-refresh` && q.status === 204));
}

const page = () => [[join(consumers, "browser")], [join(consumers, "scenario.mjs")]];

test("Vite production build in Chromium: import without init, refresh, create/close, errors, WorkbookSession", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("vite", { copy: page() });
  run(bin("vite"), ["build", "--logLevel", "warn"], { cwd: dir });
  const assets = readdirSync(join(dir, "dist", "assets"));
  assert.ok(assets.some((f) => f.endsWith(".wasm")), `the .wasm is emitted as an asset: ${assets}`);
  await scenarioIn(t, `${await serve(t, join(dir, "dist"))}/`, "vite", url);
});

test("Vite dev server in Chromium: the same page unbundled, through Vite's dependency optimizer", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("vite-dev", { copy: page() });
  const child = spawn(bin("vite"), ["--host", "127.0.0.1", "--port", "0", "--clearScreen", "false"], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => child.kill());
  const site = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.replace(/\x1b\[[0-9;]*m/g, "").match(/Local:\s+(http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`vite exited ${code}: ${out}`)));
  });
  await scenarioIn(t, site, "vite-dev", url);
});

test("webpack production build in Chromium: the same page", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = consumer("webpack", { copy: page() });
  const { default: webpack } = await import("webpack");
  const stats = await new Promise((resolve, reject) =>
    webpack(
      {
        mode: "production",
        context: dir,
        entry: "./main.js",
        output: { path: join(dir, "dist"), filename: "main.js", clean: true },
        performance: { hints: false },
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    ),
  );
  assert.equal(stats.hasErrors(), false, stats.toString("errors-warnings"));
  assert.equal(stats.hasWarnings(), false, stats.toString("errors-warnings"));
  const emitted = readdirSync(join(dir, "dist"));
  assert.ok(emitted.some((f) => f.endsWith(".wasm")), `the .wasm is emitted as an asset: ${emitted}`);
  copyFileSync(join(dir, "webpack.html"), join(dir, "dist", "index.html"));
  await scenarioIn(t, `${await serve(t, join(dir, "dist"))}/`, "webpack", url);
});

/** examples/office-addin with the test harness, built by Vite into dist/ (the real task pane and harness.html). */
function addinBuild(name) {
  const harness = join(consumers, "office-addin-harness");
  const dir = consumer(name, {
    copy: [[join(examples, "office-addin")], [join(harness, "harness.html")], [join(harness, "harness.js")], [join(harness, "vite.test.config.js")]],
    links: ["@azure/msal-browser", "@azure/msal-common"],
  });
  run(bin("vite"), ["build", "--config", "vite.test.config.js"], { cwd: dir });
  return dir;
}

test("examples/office-addin: builds with Vite; its task-pane logic runs in Chromium with a token stub", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = addinBuild("office-addin");
  const dist = join(dir, "dist");

  // The manifest is well-formed and points at files the build produced.
  const manifest = readFileSync(join(dir, "manifest.xml"), "utf8");
  const urls = [...manifest.matchAll(/DefaultValue="https:\/\/localhost:3000\/([^"]+)"/g)].map((m) => m[1]);
  assert.ok(urls.includes("taskpane.html"));
  for (const path of urls) assert.ok(existsSync(join(dist, path)), `manifest.xml names ${path}, missing from dist/`);
  const taskpane = readFileSync(join(dist, "taskpane.html"), "utf8");
  assert.match(taskpane, /appsforoffice\.microsoft\.com\/lib\/1\/hosted\/office\.js/);
  assert.match(taskpane, /<script type="module"[^>]* src="\/assets\/taskpane-[^"]+\.js"/);

  const browser = await chromium(t);
  const page = await browser.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const parsed = await page.evaluate((xml) => {
    const doc = new DOMParser().parseFromString(xml, "application/xml");
    return {
      error: doc.querySelector("parsererror")?.textContent ?? null,
      hosts: [...doc.getElementsByTagName("Host")].map((h) => h.getAttribute("Name") ?? h.getAttribute("xsi:type")),
      source: doc.getElementsByTagName("SourceLocation")[0].getAttribute("DefaultValue"),
    };
  }, manifest);
  assert.equal(parsed.error, null);
  assert.deepEqual(parsed.hosts, ["Workbook", "Workbook"]);
  assert.equal(parsed.source, "https://localhost:3000/taskpane.html");

  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const folder = unique("Add-in");
  const workbook = `/me/drive/root:/${folder}/Budget 2026.xlsx:`;
  const site = await serve(t, dist);
  await page.goto(`${site}/harness.html?emulator=${encodeURIComponent(url)}&workbook=${encodeURIComponent(workbook)}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.__harness?.ready || window.__harness?.failed, null, { timeout: 60_000 });
  const h = await page.evaluate(() => ({ ...window.__harness, sessionId: window.__harness.sessionId?.() }));
  assert.equal(h.failed, undefined, h.failed);
  assert.equal(h.resolved, "/drives/b!drive/items/01ITEM");
  const docUrl = "https://contoso.sharepoint.com/sites/Team/Shared Documents/Book 1.xlsx";
  assert.equal(h.sharingId, `u!${Buffer.from(docUrl).toString("base64url")}`);
  assert.equal(h.resolveRequest.url, `${url}/v1.0/shares/${h.sharingId}/driveItem?$select=id,parentReference`);
  assert.equal(h.resolveRequest.authorization, "Bearer addin-test-token");

  const text = (id) => page.locator(`[data-id="${id}"]`).textContent();
  assert.equal(await text("state"), "active");
  assert.equal(await text("session"), h.sessionId);
  await page.waitForFunction(() => Number(document.querySelector('[data-id="count"]').textContent) >= 2, null, { timeout: 30_000 });

  // Graph forgets the session: the pane opens a new one and says so.
  await control.expire(url, h.sessionId);
  await page.locator('[data-id="log"]', { hasText: "session expired; opened a new one" }).waitFor({ timeout: 30_000 });
  const recreated = await text("session");
  assert.notEqual(recreated, h.sessionId);

  await page.click('[data-id="refresh"]', { timeout: WAIT_MS });
  await page.locator('[data-id="log"]', { hasText: "refreshed" }).waitFor({ timeout: WAIT_MS });
  await page.click('[data-id="close"]', { timeout: WAIT_MS });
  await page.locator('[data-id="log"]', { hasText: "session closed" }).waitFor({ timeout: WAIT_MS });
  assert.equal(await text("state"), "closed");
  assert.equal(await page.locator('[data-id="close"]').isDisabled(), true);
  const tokenCalls = await page.evaluate(() => window.__harness.tokenCalls.count);
  assert.ok(tokenCalls >= 5, `the token provider is asked before every request (${tokenCalls})`);
  assert.deepEqual((await control.sessions(url)).filter((s) => s.item === workbook), [], "nothing left open");
  const sent = await control.requests(url, `${folder}/Budget 2026.xlsx`);
  assert.ok(sent.every((q) => q.hasAuthorization));
  assert.deepEqual(errors, []);
  if (process.env.GWS_SCREENSHOTS) await page.screenshot({ path: join(process.env.GWS_SCREENSHOTS, "office-addin.png"), timeout: WAIT_MS });
});

// Issue 23 point 8: when MSAL needs the user hours into a session, the pane
// never opens a popup from keep-alive's timer: keep-alive pauses, a button
// appears, and its click (a user gesture) signs in and resumes.
test("examples/office-addin: a token that needs the user pauses keep-alive behind a sign-in button; its click resumes", BOUND, async (t) => {
  const url = await emulator(t);
  const dir = addinBuild("office-addin-sign-in");
  const browser = await chromium(t);
  const page = await browser.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const workbook = `/me/drive/items/${unique("ADDIN-SIGN-IN")}`;
  const site = await serve(t, join(dir, "dist"));
  // Tokens 1 and 2: the /shares lookup and createSession; from the 5th on, MSAL needs the user.
  await page.goto(`${site}/harness.html?emulator=${encodeURIComponent(url)}&workbook=${encodeURIComponent(workbook)}&interactionAfter=5`);
  await page.waitForFunction(() => window.__harness?.ready || window.__harness?.failed, null, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => window.__harness.failed), undefined);

  const log = page.locator('[data-id="log"]');
  await log.filter({ hasText: "sign-in needed: keep-alive paused" }).waitFor({ timeout: 30_000 });
  const signIn = page.locator('[data-id="sign-in"]');
  assert.equal(await signIn.isVisible(), true);
  const count = async () => Number(await page.locator('[data-id="count"]').textContent());
  const paused = await count();
  const calls = await page.evaluate(() => window.__harness.tokenCalls.count);
  await page.waitForTimeout(600); // six keep-alive intervals
  assert.equal(await count(), paused, "no refresh while paused");
  assert.equal(await page.evaluate(() => window.__harness.tokenCalls.count), calls, "and no token asked for");
  assert.deepEqual(await page.evaluate(() => window.__harness.signIns), [], "nothing interactive without a click");

  await signIn.click();
  await log.filter({ hasText: "signed in: keep-alive resumed" }).waitFor();
  assert.deepEqual(await page.evaluate(() => window.__harness.signIns), [{ userActivation: true }], "signIn ran in the click's user gesture");
  assert.equal(await signIn.isVisible(), false);
  await page.waitForFunction((n) => Number(document.querySelector('[data-id="count"]').textContent) >= n + 2, paused, { timeout: 30_000 });

  await page.click('[data-id="close"]');
  await log.filter({ hasText: "session closed" }).waitFor();
  assert.deepEqual((await control.sessions(url)).filter((s) => s.item === workbook), [], "nothing left open");
  assert.deepEqual(errors, []);
});
