// Row 5: start-up, compile + instantiate + first call, ours beside a raw
// fetch's first call. Node: a fresh process per measurement
// (startup-node.mjs). Chromium (headless, Debian's /usr/bin/chromium through
// playwright-core): a fresh browser context (cold caches) per measurement,
// loading page/startup.html from a local static server. Ours and the anchor
// alternate; the figure is the median. Ours twice in Chromium: the glue
// imported and `init()` called by the page (the figure in the table), and
// the package's browser entry (`index.js`, which calls `init()` itself, by
// top-level await), what a page that imports the package from a CDN loads.
//
// The page reports through one console message, and nothing is evaluated in
// it from here: until 2026-12-01 the result was polled with
// page.waitForFunction, whose first use compiles Playwright's injected
// script (15 to 25 ms of the page's main thread, in a Chromium trace) as
// soon as the page's load event has fired. That was after a raw fetch's
// first call had answered, but in the middle of ours (a dynamic import does
// not hold up the load event), so ours was charged for it.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { createSession, emit, env, graphBase, log, median, need } from "./lib.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const base = graphBase(need("BENCH_EMULATOR_URL", env.emulator));
const pkg = need("BENCH_PKG", env.pkg);
// Samples per contender. In Chromium the spread on this machine is ±15 ms
// around medians of 20 to 70 ms (a module request alone takes 5 to 20 ms),
// so 9 samples (until 2026-12-01) could not resolve a 10 ms change.
const runs = env.quick ? 3 : 15;
const webRuns = env.quick ? 3 : 25;
const sessionId = await createSession(base);

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// The WebUI omnibox popup features: with them, every new browser context
// (a new window) starts a second renderer that loads the omnibox popup's
// pages (omnibox_popup.js, aim_app.js and a dozen modules) during the first
// ~100 ms, while the measured page runs, on a machine of 2 cores.
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
  "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup",
];

function summarize(samples) {
  const keys = Object.keys(samples[0] ?? {});
  return Object.fromEntries(keys.map((k) => [k, median(samples.map((s) => s[k]))]));
}

// Node.
const node = { ours: [], fetch: [] };
for (let i = 0; i < runs; i++) {
  for (const who of i % 2 ? ["fetch", "ours"] : ["ours", "fetch"]) {
    const out = execFileSync(process.execPath, [join(here, "startup-node.mjs"), who, base, sessionId, pkg], {
      encoding: "utf8",
    });
    node[who].push(JSON.parse(out.trim().split("\n").pop()));
  }
}
const nodeFigures = { ours: summarize(node.ours), fetch: summarize(node.fetch), runs };
log(`Node: ours ${nodeFigures.ours.totalMs.toFixed(1)} ms, raw fetch ${nodeFigures.fetch.totalMs.toFixed(1)} ms`);

// Chromium.
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  const file = path.startsWith("/pkg/") ? join(pkg, normalize(path.slice(5))) : join(here, "page", normalize(path));
  if (!file.startsWith(pkg) && !file.startsWith(join(here, "page"))) {
    res.writeHead(403).end();
    return;
  }
  try {
    const body = readFileSync(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${server.address().port}`;

// The page's one console message: this prefix, then the figures as JSON.
const RESULT = "startup-result ";
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const version = browser.version();
const web = { ours: [], fetch: [], entry: [] };
try {
  // One unmeasured page per contender first: the browser's own first-page costs.
  for (let i = -1; i < webRuns; i++) {
    const order = ["ours", "fetch", "entry"];
    for (let k = 0; k < order.length; k++) {
      const who = order[(k + i + 1) % order.length];
      const context = await browser.newContext();
      const page = await context.newPage();
      const url = `${origin}/startup.html?who=${who}&base=${encodeURIComponent(base)}&session=${encodeURIComponent(sessionId)}`;
      const reported = page.waitForEvent("console", {
        predicate: (m) => m.text().startsWith(RESULT),
        timeout: 30_000,
      });
      await page.goto(url);
      const result = JSON.parse((await reported).text().slice(RESULT.length));
      await context.close();
      if (result.error) throw new Error(`Chromium start-up (${who}): ${result.error}`);
      if (i >= 0) web[who].push(result);
    }
  }
} finally {
  await browser.close();
  server.close();
}
const webFigures = {
  ours: summarize(web.ours),
  fetch: summarize(web.fetch),
  entry: summarize(web.entry),
  runs: webRuns,
  version,
};
log(
  `Chromium ${version}: ours ${webFigures.ours.totalMs.toFixed(1)} ms (browser entry ` +
    `${webFigures.entry.totalMs.toFixed(1)} ms), raw fetch ${webFigures.fetch.totalMs.toFixed(1)} ms`,
);

emit({ node: nodeFigures, chromium: webFigures });
