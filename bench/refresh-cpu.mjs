// Row 6's unit, taken apart: the CPU of one keep-alive refresh against a
// local HTTP server that answers 204 at once (a child process, so its CPU
// is not counted), for three contenders run in turn, each in a process of
// its own, N sessions every second:
//
//   ours         N WorkbookSession.attach(...).keepAlive({ intervalMs: 1000 })
//   loop         row 6's hand loop: setTimeout + fetch with the same headers
//   loop-signal  the same loop, each fetch with an AbortController's signal
//                and a 30 s timer (what bounding an attempt costs undici)
//
// Not a row of `cargo xtask bench` (bench/README.md, "Per-refresh cost").
//
// --workbooks N spreads the sessions over N workbooks (default 1: every
// session on one workbook, as until 2026-12-05). Ours sends one request at a
// time per workbook (workbook-best-practice.md), the loops do not: on one
// workbook ours' requests go out one by one, each write waking the idle
// server, and the kernel's share of each write grows (bench/README.md,
// "Row by row").
//
//   node bench/refresh-cpu.mjs [--pkg pkg] [--sessions 1000] [--workbooks 1] [--seconds 8] [--rounds 5]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : args[i + 1];
};
const INTERVAL_MS = 1000;

if (arg("serve", null) !== null) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(204, { "request-id": "5e8b6c1a-0000-4000-8000-000000000001" });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => console.log(server.address().port));
} else if (arg("contender", null) !== null) {
  await contender(arg("contender"), Number(arg("sessions")), Number(arg("workbooks", "1")), Number(arg("seconds")), arg("base"), arg("pkg"));
} else {
  await main();
}

async function main() {
  const pkg = resolve(arg("pkg", "pkg"));
  const sessions = arg("sessions", "1000");
  const seconds = arg("seconds", "8");
  const workbooks = arg("workbooks", "1");
  const rounds = Number(arg("rounds", "5"));
  const self = fileURLToPath(import.meta.url);
  const server = spawn(process.execPath, [self, "--serve", "1"], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((ok) => server.stdout.once("data", (d) => ok(String(d).trim())));
  const base = `http://127.0.0.1:${port}/v1.0`;
  const seen = { ours: [], loop: [], "loop-signal": [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const who of Object.keys(seen)) {
        const child = spawn(
          process.execPath,
          [self, "--contender", who, "--sessions", sessions, "--workbooks", workbooks, "--seconds", seconds, "--base", base, "--pkg", pkg],
          { stdio: ["ignore", "pipe", "inherit"] },
        );
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        await new Promise((ok) => child.on("exit", ok));
        const figures = JSON.parse(out);
        seen[who].push(figures);
        console.log(`round ${r + 1} ${who.padEnd(12)} ${figures.perSecond}/s, CPU ${figures.cpuPercent} %, ${figures.microsPerRefresh} µs per refresh`);
      }
    }
  } finally {
    server.kill();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const m = Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, median(v.map((f) => f.microsPerRefresh))]));
  console.log(`medians, µs of CPU per refresh: ours ${m.ours}, loop ${m.loop}, loop-signal ${m["loop-signal"]}`);
  console.log(`ours / loop ${(m.ours / m.loop).toFixed(2)}×, loop-signal / loop ${(m["loop-signal"] / m.loop).toFixed(2)}×, ours / loop-signal ${(m.ours / m["loop-signal"]).toFixed(2)}×`);
}

async function contender(who, n, workbooks, seconds, base, pkg) {
  const workbook = (k) => `/me/drive/items/01ABC${k % workbooks}`;
  let sent = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    sent++;
    return realFetch(input, init);
  };
  const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.bench";
  const id = (k) => `cluster=PS1&session=15.SN3PEPF000074F1.A82.1.V24.${k}`;
  if (who === "ours") {
    const glue = await import(pathToFileURL(join(pkg, "graph_workbook_session.js")).href);
    glue.initSync({ module: readFileSync(join(pkg, "graph_workbook_session_bg.wasm")) });
    for (let k = 0; k < n; k++) {
      glue.WorkbookSession.attach({ workbook: workbook(k), accessToken: token, baseUrl: base, sessionId: id(k) }).keepAlive({
        intervalMs: INTERVAL_MS,
      });
    }
  } else {
    const withSignal = who === "loop-signal";
    const headers = { authorization: `Bearer ${token}` };
    for (let k = 0; k < n; k++) {
      const tick = () =>
        setTimeout(
          async () => {
            let controller, timer;
            if (withSignal) {
              controller = new AbortController();
              timer = setTimeout(() => controller.abort(), 30_000);
            }
            try {
              const r = await fetch(`${base}${workbook(k)}/workbook/refreshSession`, {
                method: "POST",
                headers: { ...headers, "workbook-session-id": id(k), "client-request-id": crypto.randomUUID() },
                signal: controller?.signal,
              });
              await r.body?.cancel();
            } finally {
              clearTimeout(timer);
            }
            tick();
          },
          INTERVAL_MS * (0.9 + 0.2 * Math.random()),
        );
      tick();
    }
  }
  // Settle for three intervals, then measure.
  await new Promise((ok) => setTimeout(ok, 3 * INTERVAL_MS));
  const cpu0 = process.cpuUsage();
  const sent0 = sent;
  const t0 = Date.now();
  await new Promise((ok) => setTimeout(ok, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const ms = Date.now() - t0;
  const refreshes = sent - sent0;
  const used = cpu.user + cpu.system;
  console.log(
    JSON.stringify({
      perSecond: Math.round((refreshes / ms) * 1000),
      cpuPercent: Number((used / ms / 10).toFixed(1)),
      microsPerRefresh: Number((used / refreshes).toFixed(1)),
    }),
  );
  process.exit(0);
}
