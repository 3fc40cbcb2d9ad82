// Row 5: start-up, compile + instantiate + first call, ours beside a raw
// fetch's first call. Node: a fresh process per measurement
// (startup-node.mjs). Chromium (headless, Debian's /usr/bin/chromium through
// playwright-core): a fresh browser context (cold caches) per measurement,
// loading page/startup.html from a local static server. Ours and the anchor
// alternate; the figure is the median.

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
const runs = env.quick ? 3 : 9;
const sessionId = await createSession(base);

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
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

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const version = browser.version();
const web = { ours: [], fetch: [] };
try {
  // One unmeasured page per contender first: the browser's own first-page costs.
  for (let i = -1; i < runs; i++) {
    for (const who of i % 2 ? ["fetch", "ours"] : ["ours", "fetch"]) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const url = `${origin}/startup.html?who=${who}&base=${encodeURIComponent(base)}&session=${encodeURIComponent(sessionId)}`;
      await page.goto(url);
      await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 30_000 });
      const result = await page.evaluate(() => window.__result);
      await context.close();
      if (result.error) throw new Error(`Chromium start-up (${who}): ${result.error}`);
      if (i >= 0) web[who].push(result);
    }
  }
} finally {
  await browser.close();
  server.close();
}
const webFigures = { ours: summarize(web.ours), fetch: summarize(web.fetch), runs, version };
log(`Chromium ${version}: ours ${webFigures.ours.totalMs.toFixed(1)} ms, raw fetch ${webFigures.fetch.totalMs.toFixed(1)} ms`);

emit({ node: nodeFigures, chromium: webFigures });
