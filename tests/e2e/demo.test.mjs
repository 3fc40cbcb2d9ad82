// End-to-end test of the demo page: Playwright (playwright-core, no bundled
// browser) drives Debian's Chromium through the page served by the same
// machinery as `cargo xtask demo`. Run by `cargo xtask test`, which sets:
//   DEMO_PAGE_URL      the page, e.g. http://127.0.0.1:40123/
//   DEMO_EMULATOR_URL  the emulator's root, e.g. http://127.0.0.1:40124
//   E2E_OUT_DIR        where screenshots go (default target/e2e)
// UPDATE_DOCS_SCREENSHOT=1 also copies the desktop screenshot to docs/demo.png
// (then shrink it: pngquant --quality 70-95 --strip). E2E_DEBUG=1 prints the
// page's console. Against a running `cargo xtask demo`:
//   DEMO_PAGE_URL=http://127.0.0.1:P/ DEMO_EMULATOR_URL=http://127.0.0.1:E node --test tests/e2e/

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const PAGE_URL = process.env.DEMO_PAGE_URL;
const EMULATOR_URL = process.env.DEMO_EMULATOR_URL;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const OUT_DIR = process.env.E2E_OUT_DIR || path.join(ROOT, "target/e2e");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };
const TTL_MS = 2000;
const KEEP_ALIVE_MS = 400;
// Bounds: every Playwright wait without a timeout of its own (WAIT_MS), each
// test (a few seconds to a minute here), each suite, each hook.
const WAIT_MS = 30_000;
const TEST = { timeout: 180_000 };
const SUITE = { concurrency: false, timeout: 300_000 };
const ALL = { concurrency: false, timeout: 600_000 };
const HOOK = { timeout: 60_000 };

if (!PAGE_URL || !EMULATOR_URL) {
  throw new Error("DEMO_PAGE_URL and DEMO_EMULATOR_URL must be set: run `cargo xtask test`");
}

/** The emulator's control API, from Node. */
async function control(pathname, init = {}) {
  const response = await fetch(EMULATOR_URL + pathname, {
    signal: AbortSignal.timeout(WAIT_MS),
    ...init,
    headers: init.body ? { "content-type": "application/json" } : {},
  });
  assert.ok(response.ok, `${init.method || "GET"} ${pathname}: ${response.status}`);
  return response.status === 204 ? null : response.json();
}

const sessions = async () => (await control("/_emulator/sessions")).sessions;
const setTtl = (ms) =>
  control("/_emulator/config", { method: "POST", body: JSON.stringify({ persistentTtlMs: ms, nonPersistentTtlMs: ms }) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let browser;
/** Console errors and page errors nobody expected. */
const problems = [];
/** The console errors the test provoked (proof that the listener works). */
const provoked = [];

/**
 * A failed HTTP answer the test provoked on purpose (the throttle's 429, the
 * expired session's 404) shows up in Chromium's console as "Failed to load
 * resource". Those, and only those, are expected.
 */
function expectedConsoleError(msg) {
  const url = msg.location()?.url || "";
  return /^Failed to load resource: the server responded with a status of (429|404)\b/.test(msg.text()) &&
    url.startsWith(EMULATOR_URL) && url.includes("/workbook/refreshSession");
}

async function openPage(query) {
  const context = await browser.newContext({ viewport: DESKTOP });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = await context.newPage();
  page.on("console", (msg) => {
    if (process.env.E2E_DEBUG) console.log("console", msg.type(), msg.text(), msg.location()?.url);
    if (msg.type() !== "error") return;
    if (expectedConsoleError(msg)) provoked.push(msg.text());
    else problems.push(`console error: ${msg.text()} (${msg.location()?.url || "?"})`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.stack || error}`));
  await page.goto(new URL(query, PAGE_URL).href, { timeout: WAIT_MS });
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  return page;
}

/** Waits for a log entry matching `selector` (attributes of #log > li) and returns its data. */
async function entry(page, selector, timeout = 10_000) {
  const li = page.locator(`#log > li${selector}`).first();
  await li.waitFor({ timeout });
  return li.evaluate((el) => ({
    ...el.dataset,
    requestId: el.querySelector('[data-field="request-id"]')?.textContent ?? null,
    text: el.textContent,
  }));
}

const count = (page, selector) => page.locator(`#log > li${selector}`).count();
const text = (page, selector) => page.locator(selector).textContent();
const sessionId = (page) => text(page, "#session-id");

/**
 * Text whose contrast with its background is below WCAG AA (4.5:1; 3:1 for
 * large text), for every visible element with text of its own. Disabled
 * controls are exempt, as WCAG says.
 */
function lowContrastText(page) {
  return page.evaluate(() => {
    const rgba = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const luminance = ({ r, g, b }) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const bad = [];
    for (const el of document.querySelectorAll("body *")) {
      const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!ownText || !el.checkVisibility() || el.closest(":disabled")) continue;
      const style = getComputedStyle(el);
      const fg = rgba(style.color);
      const [l1, l2] = [luminance(fg), luminance(background(el))].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName}#${el.id}.${el.className} ${ratio.toFixed(2)}: ${el.textContent.trim().slice(0, 40)}`);
    }
    return bad;
  });
}

const AXE = path.join(path.dirname(fileURLToPath(import.meta.url)), "node_modules/axe-core/axe.min.js");

/**
 * axe-core's WCAG 2.0 and 2.1 level A and AA rules run on the page as it is
 * now; the violations, one line per rule and element.
 */
async function axeViolations(page) {
  // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') refuses an injected <script>.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(await readFile(AXE, "utf8"));
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return r.violations.map((v) => ({ id: v.id, targets: v.nodes.map((n) => n.target.join(" ")) }));
  });
  return violations.flatMap((v) => v.targets.map((t) => `${v.id}: ${t}`));
}

async function screenshot(page, name, options = {}) {
  const file = path.join(OUT_DIR, name);
  await page.screenshot({ path: file, ...options });
  return file;
}

before(async () => {
  await mkdir(OUT_DIR, { recursive: true });
  await control("/_emulator/reset", { method: "POST" });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, HOOK);

after(async () => {
  await browser?.close();
  await control("/_emulator/reset", { method: "POST" }).catch(() => {});
}, HOOK);

describe("demo page", ALL, () => {
  describe("keeps a session alive through a 2 s TTL, a throttle and an expiry", SUITE, () => {
    let page;
    let id;

    before(async () => {
      page = await openPage(`?interval=${KEEP_ALIVE_MS}`);
    }, HOOK);
    after(async () => {
      await page?.context().close();
    }, HOOK);

    test("axe-core: no WCAG 2.1 A or AA violation on load", TEST, async () => {
      await entry(page, '[data-op="init"][data-outcome="info"]'); // the log has an entry
      assert.deepEqual(await axeViolations(page), []);
    });

    test("opens with the emulator's defaults, labelled and keyboard-ready", TEST, async () => {
      assert.equal(await page.inputValue("#base-url"), `${EMULATOR_URL}/v1.0`);
      assert.ok((await page.inputValue("#token")).length > 0);
      assert.equal(await page.inputValue("#workbook"), "/me/drive/root:/Demo/Budget 2026.xlsx:");
      assert.equal(await page.inputValue("#interval"), String(KEEP_ALIVE_MS));
      assert.ok(await page.isChecked("#persist"));
      assert.ok(await page.isVisible("#emulator"), "emulator controls are shown");
      assert.equal(await page.getAttribute("#keep-alive", "aria-pressed"), "false");
      assert.ok(await page.isDisabled("#refresh"));
      const unlabelled = await page.$$eval("input, button", (els) =>
        els.filter((el) => (el.labels ? el.labels.length === 0 : false) && !el.textContent.trim()).map((el) => el.id));
      assert.deepEqual(unlabelled, [], "every control has a label");
      await entry(page, '[data-op="init"][data-outcome="info"]');
    });

    test("shows errors in the log; emulator controls only for the emulator", TEST, async () => {
      await page.fill("#workbook", "Budget.xlsx");
      await page.click("#create");
      const failed = await entry(page, '[data-op="createSession"][data-outcome="error"]');
      assert.equal(failed.error, "invalidArgument");
      assert.equal(await text(page, "#state"), "no session");
      await page.fill("#workbook", "/me/drive/root:/Demo/Budget 2026.xlsx:");

      await page.fill("#base-url", "https://graph.microsoft.com/v1.0");
      assert.ok(await page.isHidden("#emulator"));
      await page.fill("#base-url", `${EMULATOR_URL}/v1.0`);
      assert.ok(await page.isVisible("#emulator"));
      await page.click("#clear-log");
      assert.equal(await count(page, ""), 0);
    });

    test("creates a session from the keyboard", TEST, async () => {
      // Shorten Graph's idle lifetime first: it applies from creation.
      await setTtl(TTL_MS);
      await page.focus("#create");
      await page.keyboard.press("Enter");
      const created = await entry(page, '[data-op="createSession"]');
      assert.equal(created.outcome, "ok", created.text);
      id = await sessionId(page);
      assert.match(id, /session=/);
      assert.equal(await text(page, "#state"), "active");
      const live = (await sessions()).find((s) => s.id === id);
      assert.ok(live, "the emulator knows the session");
      assert.equal(live.ttlMs, TTL_MS);
      // Focus moved on to Refresh (Create is now disabled) and is visible.
      assert.equal(await page.evaluate(() => document.activeElement.id), "refresh");
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, "none", "keyboard focus is visible");
      await page.waitForFunction(() => {
        const ms = Number(document.getElementById("countdown").dataset.remainingMs);
        return ms > 0 && ms <= 2000;
      });
    });

    test("axe-core: no WCAG 2.1 A or AA violation with a session open", TEST, async () => {
      assert.equal(await text(page, "#state"), "active");
      assert.ok((await count(page, "")) >= 1, "the log has entries");
      assert.deepEqual(await axeViolations(page), []);
    });

    test("refreshes", TEST, async () => {
      await page.click("#refresh");
      const r = await entry(page, '[data-op="refreshSession"]');
      assert.equal(r.outcome, "ok", r.text);
      assert.equal(r.status, "204");
      assert.equal(r.attempts, "1");
      assert.match(r.requestId, /^[0-9a-f-]{36}$/);
      assert.equal((await sessions()).find((s) => s.id === id)?.refreshCount, 1);
    });

    test("keep-alive holds it for 3× the TTL", TEST, async () => {
      await page.click("#keep-alive");
      assert.equal(await page.getAttribute("#keep-alive", "aria-pressed"), "true");
      await entry(page, '[data-op="keepAlive"][data-outcome="info"]');
      await sleep(3 * TTL_MS + 500);
      assert.equal(await sessionId(page), id, "the same session, never recreated");
      assert.equal(await count(page, '[data-op="recreate"]'), 0);
      assert.equal(await count(page, '[data-outcome="error"]'), 0);
      const live = (await sessions()).find((s) => s.id === id);
      assert.ok(live, "still alive in the emulator after 3× its TTL");
      assert.ok(live.refreshCount >= 6, `refreshed by keep-alive (${live.refreshCount} refreshes)`);
      assert.ok(await count(page, '[data-op="refreshSession"][data-kind="keep-alive"][data-status="204"]') >= 5);
      assert.equal(await text(page, "#state"), "active · kept alive");
      // A refresh by hand still works too.
      const before = await count(page, '[data-op="refreshSession"]:not([data-kind])');
      await page.click("#refresh");
      await page.waitForFunction(
        (n) => document.querySelectorAll('#log > li[data-op="refreshSession"]:not([data-kind])').length > n, before);
    });

    test("a throttled refresh is retried: attempts = 2", TEST, async () => {
      // A throttled refresh takes over a second (Retry-After: 1): give the
      // session room, so that a slow machine cannot turn this into an expiry.
      // The longer TTL applies from the next refresh by keep-alive.
      await setTtl(10_000);
      for (let i = 0; (await sessions()).find((s) => s.id === id)?.ttlMs !== 10_000; i++) {
        assert.ok(i < 50, "keep-alive refreshed within 5 s");
        await sleep(100);
      }
      await page.click("#throttle");
      await entry(page, '[data-op="emulator"][data-kind="fault"]');
      await page.click("#refresh");
      // Keep-alive may meet the fault before the click does: either way one
      // refresh took two attempts and succeeded.
      const r = await entry(page, '[data-op="refreshSession"][data-attempts="2"]');
      assert.equal(r.outcome, "ok", r.text);
      assert.equal(r.status, "204");
      const log = (await control("/_emulator/requests?pathContains=refreshSession")).requests;
      const throttled = log.filter((q) => q.status === 429);
      assert.equal(throttled.length, 1);
      const retry = log.find((q) => q.seq > throttled[0].seq && q.clientRequestId === throttled[0].clientRequestId);
      assert.equal(retry?.status, 204, "the retry kept the client-request-id and succeeded");
      assert.equal(await sessionId(page), id);
    });

    test("an expired session is recreated by keep-alive", TEST, async () => {
      await page.click("#expire");
      await entry(page, '[data-op="emulator"][data-kind="expire"]');
      const recreated = await entry(page, '[data-op="recreate"]');
      assert.match(recreated.text, /a plain 404/);
      const newId = await sessionId(page);
      assert.notEqual(newId, id);
      assert.ok(recreated.text.includes(id) && recreated.text.includes(newId), recreated.text);
      const ids = (await sessions()).map((s) => s.id);
      assert.ok(ids.includes(newId) && !ids.includes(id));
      assert.equal(await text(page, "#state"), "active · kept alive");
      id = newId;
      await sleep(2 * KEEP_ALIVE_MS);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, "keep-alive-desktop.png", { fullPage: true });
    });

    test("closes", TEST, async () => {
      await page.click("#close");
      const closed = await entry(page, '[data-op="closeSession"]');
      assert.equal(closed.outcome, "ok", closed.text);
      assert.equal(closed.status, "204");
      assert.equal(await text(page, "#state"), "closed");
      assert.equal(await page.getAttribute("#keep-alive", "aria-pressed"), "false");
      assert.ok(await page.isEnabled("#create"));
      assert.ok(!(await sessions()).some((s) => s.id === id), "gone from the emulator");
      // Keep-alive stopped with it.
      const n = await count(page, '[data-op="refreshSession"]');
      await sleep(3 * KEEP_ALIVE_MS);
      assert.equal(await count(page, '[data-op="refreshSession"]'), n);
    });
  });

  describe("a visitor's minute, with Graph's lifetimes", SUITE, () => {
    let page;

    before(async () => {
      await control("/_emulator/reset", { method: "POST" });
      page = await openPage("");
    }, HOOK);
    after(async () => {
      await page?.context().close();
    }, HOOK);

    test("create, refresh, throttle, keep alive, expire, refresh, close; screenshots", TEST, async () => {
      await page.click("#create");
      assert.equal((await entry(page, '[data-op="createSession"]')).outcome, "ok");
      // Graph's 5 minutes, from the emulator's default configuration.
      const remaining = Number(await page.getAttribute("#countdown", "data-remaining-ms"));
      assert.ok(remaining > 290_000 && remaining <= 300_000, `countdown ${remaining}`);
      assert.match(await text(page, "#countdown"), /^in [45]:\d\d$/);

      await page.click("#refresh");
      await entry(page, '[data-op="refreshSession"][data-attempts="1"]');
      await page.click("#throttle");
      await page.click("#refresh");
      const retried = await entry(page, '[data-op="refreshSession"][data-attempts="2"]');
      assert.equal(retried.status, "204");

      await page.click("#keep-alive"); // default interval 10 s: no timer fires during this test
      const first = await sessionId(page);
      await page.click("#expire");
      await entry(page, '[data-op="emulator"][data-kind="expire"]');
      assert.equal(await text(page, "#countdown"), "expired by the emulator");
      await page.click("#refresh");
      // The refresh by hand meets the 404; the library recreates the session.
      const recreated = await entry(page, '[data-op="recreate"]');
      const failed = await entry(page, '[data-op="refreshSession"][data-outcome="error"]');
      assert.equal(failed.status, "404");
      assert.equal(failed.error, "notFound");
      assert.notEqual(await sessionId(page), first);
      assert.match(recreated.text, new RegExp(first.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
      // Newest first: the recreation is logged above the error that caused it.
      const order = await page.$$eval("#log > li", (lis) => lis.slice(0, 2).map((li) => li.dataset.op + ":" + li.dataset.outcome));
      assert.deepEqual(order, ["recreate:info", "refreshSession:error"]);
      assert.equal(await text(page, "#state"), "active · kept alive");

      await page.mouse.move(0, 0);
      await page.evaluate(() => window.scrollTo(0, 0));
      const desktop = await screenshot(page, "demo-desktop.png");
      await screenshot(page, "demo-desktop-full.png", { fullPage: true });
      if (process.env.UPDATE_DOCS_SCREENSHOT === "1") {
        await mkdir(path.join(ROOT, "docs"), { recursive: true });
        await copyFile(desktop, path.join(ROOT, "docs/demo.png"));
      }

      assert.deepEqual(await lowContrastText(page), [], "text contrast is at least 4.5:1");

      await page.setViewportSize(PHONE);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling at 375 px (${overflow} px too wide)`);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, "demo-phone.png");
      await screenshot(page, "demo-phone-full.png", { fullPage: true });
      await page.setViewportSize(DESKTOP);

      await page.click("#close");
      assert.equal((await entry(page, '[data-op="closeSession"]')).status, "204");
      assert.equal(await text(page, "#state"), "closed");
      assert.deepEqual(await sessions(), []);
    });
  });

  describe("session.fetch: the workbook inside the session", SUITE, () => {
    let page;

    before(async () => {
      await control("/_emulator/reset", { method: "POST" });
      page = await openPage("");
    }, HOOK);
    after(async () => {
      await page?.context().close();
    }, HOOK);

    test("writes and reads a cell in the current session", TEST, async () => {
      assert.ok(await page.isDisabled("#write-cell"), "no session yet");
      await page.click("#create");
      await entry(page, '[data-op="createSession"][data-outcome="ok"]');
      await page.fill("#cell", "b3");
      await page.fill("#cell-value", "typed in the demo");
      await page.click("#write-cell");
      const written = await entry(page, '[data-op="fetch"][data-kind="PATCH B3"]');
      assert.equal(written.outcome, "ok", written.text);
      assert.equal(written.status, "200");
      await page.fill("#cell-value", "");
      await page.click("#read-cell");
      const read = await entry(page, '[data-op="fetch"][data-kind="GET B3"]');
      assert.equal(read.status, "200", read.text);
      assert.equal(await text(page, "#cell-read"), 'Sheet1!B3 = "typed in the demo"');
      const id = await sessionId(page);
      const ranges = (await control("/_emulator/requests?pathContains=range")).requests;
      assert.deepEqual(ranges.map((r) => [r.method, r.status, r.sessionId]), [["PATCH", 200, id], ["GET", 200, id]]);
      await page.click("#close");
      await entry(page, '[data-op="closeSession"]');
    });

    test("compares the session kinds: the non-persistent change is gone after close", TEST, async () => {
      await page.click("#compare");
      await entry(page, '[data-op="compare"]', 20_000);
      const done = await entry(page, '[data-op="compare"]');
      assert.equal(done.outcome, "info", done.text);
      const rows = await page.locator("#compare-rows > tr").evaluateAll((trs) =>
        trs.map((tr) => ({ persistChanges: tr.dataset.persistChanges, kept: tr.dataset.kept })));
      assert.deepEqual(rows, [
        { persistChanges: "true", kept: "true" },
        { persistChanges: "false", kept: "false" },
      ]);
      assert.ok(await page.isVisible("#compare-table"));
      assert.equal(await count(page, '[data-op="fetch"][data-outcome="error"]'), 0);
      assert.deepEqual(await sessions(), [], "every session it opened is closed");
      assert.deepEqual(await lowContrastText(page), [], "text contrast is at least 4.5:1");
      await page.setViewportSize(PHONE);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling at 375 px (${overflow} px too wide)`);
      await screenshot(page, "workbook-phone-full.png", { fullPage: true });
      await page.setViewportSize(DESKTOP);
    });
  });

  test("no console errors and no unhandled errors", TEST, () => {
    assert.deepEqual(problems, []);
    // The listener did see the failed answers the test asked for.
    assert.ok(provoked.length >= 2, `provoked console errors seen: ${provoked.length}`);
  });
});
