// The benchmark driver that `cargo xtask bench` runs: each row in a child
// process of its own, then one table (row, ours, anchors, ratio, goal, met),
// bench/results.json, and the table in bench/README.md (between the
// bench-table markers). Figures are printed, never asserted: a missed goal is
// a result, and only a broken harness makes this exit non-zero.
//
//   node bench/run.mjs [--rows 1,2,3,4,5,6,7,8]
//
// Set by xtask: BENCH_PKG (snapshot of pkg/), BENCH_OUT (work directory),
// BENCH_EMULATOR_URL, BENCH_EMULATOR_SHORT_URL (TTL = 3 keep-alive intervals),
// BENCH_KEEPALIVE_INTERVAL_MS, BENCH_EMULATOR_BENCH (the emulator-bench
// binary), BENCH_QUICK=1 for a short smoke run (written to
// BENCH_OUT/results-quick.json only; results.json and the README stay).

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { arg, env, GLUE, need, WASM } from "./lib.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const out = need("BENCH_OUT", process.env.BENCH_OUT);
const rows = (arg("rows", "1,2,3,4,5,6,7,8") ?? "")
  .split(",")
  .map(Number)
  .filter((n) => n >= 1 && n <= 8);
const intervalMs = Number(process.env.BENCH_KEEPALIVE_INTERVAL_MS ?? 10000);

// ---------------------------------------------------------------- formatting
const int = (n) => Math.round(n).toLocaleString("en-US");
const fix = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "?");
const bytes = (n) => `${int(n)} B`;
const kib = (n) => `${n < 0 ? "−" : "+"}${fix(Math.abs(n) / 1024, 0)} KiB`;
const ms = (n) => `${fix(n, 1)} ms`;
const x = (n) => `${fix(n, 2)}×`;
const grow = (g, half) =>
  `wasm ${kib(g.wasmBytes)}, heap ${kib(g.heapUsedBytes)} (2nd half ${kib(half.wasmBytes)}, ${kib(half.heapUsedBytes)})`;

// ---------------------------------------------------------------- children
function child(script, args = [], nodeFlags = []) {
  const file = join(out, `${script.replace(/\W+/g, "-")}-${args.join("-").replace(/\W+/g, "-")}.json`);
  const r = spawnSync(process.execPath, [...nodeFlags, join(here, script), ...args, "--out", file], {
    stdio: ["ignore", "inherit", "inherit"],
    env: process.env,
  });
  if (r.status !== 0) throw new Error(`${script} ${args.join(" ")} failed (${r.signal ?? `exit ${r.status}`})`);
  return JSON.parse(readFileSync(file, "utf8"));
}

// Rows 2 and 8: calls.mjs's sequential figures as the table's cells (median
// µs per call; each anchor's ratio to fetch) and ours' ratio to fetch.
function sequential(d) {
  const f = d.figures;
  const base = f.fetch.medianUs;
  const us = (n) => `${fix(n, 0)} µs`;
  const ratio = f.ours.medianUs / base;
  return {
    ratio,
    cells: {
      ours: us(f.ours.medianUs),
      anchors: `fetch ${us(base)} · Graph SDK ${us(f["graph-sdk"].medianUs)} (${x(f["graph-sdk"].medianUs / base)}) · ky ${us(f.ky.medianUs)} (${x(f.ky.medianUs / base)})`,
      ratio: `${x(ratio)} fetch`,
    },
  };
}

// ---------------------------------------------------------------- the rows
const ROWS = {
  1: {
    title: "size a user downloads (gzip -9)",
    run() {
      const d = child("size.mjs");
      const a = d.anchors;
      const floor = a.floor ? ` · the floor (bench/floor/) ${bytes(a.floor.gzip)}` : "";
      return {
        ours: `${bytes(d.ours.gzip)} (wasm ${int(d.ours.wasm.gzip)} + JS ${int(d.ours.js.gzip)})`,
        anchors: `Graph SDK ${bytes(a["graph-sdk"].gzip)} · ky ${bytes(a.ky.gzip)} · fetch ${bytes(a.fetch.gzip)}${floor}`,
        ratio: `${x(d.ours.gzip / a["graph-sdk"].gzip)} Graph SDK`,
        goal: "≤ 25,600 B",
        met: d.ours.gzip <= 25600,
        data: d,
        // Row 1b: the refresh-only entry, weighed in the same run.
        also: {
          "1b": {
            title: "size of the refresh-only entry graph-workbook-session/refresh (gzip -9)",
            ours: `${bytes(d.refresh.gzip)} (wasm ${int(d.refresh.wasm.gzip)} + JS ${int(d.refresh.js.gzip)})`,
            anchors: `Graph SDK ${bytes(a["graph-sdk"].gzip)} · ky ${bytes(a.ky.gzip)} · fetch ${bytes(a.fetch.gzip)}${floor}`,
            ratio: `${x(d.refresh.gzip / a["graph-sdk"].gzip)} Graph SDK`,
            goal: "≤ 10,240 B, under the Graph SDK",
            met: d.refresh.gzip <= 10240 && d.refresh.gzip < a["graph-sdk"].gzip,
            data: { refresh: d.refresh, refreshGlueBundled: d.refreshGlueBundled },
          },
        },
      };
    },
  },
  2: {
    title: "call overhead, sequential (median per call)",
    run() {
      const d = child("calls.mjs", ["--mode", "sequential"]);
      const f = d.figures;
      const r = sequential(d);
      return {
        ...r.cells,
        goal: "≤ 1.10×, under Graph SDK and ky",
        met: r.ratio <= 1.1 && f.ours.medianUs < f["graph-sdk"].medianUs && f.ours.medianUs < f.ky.medianUs,
        data: { ...d, ratio: r.ratio },
      };
    },
  },
  3: {
    title: "1,000 concurrent calls (wall time)",
    run() {
      const d = child("calls.mjs", ["--mode", "concurrent"]);
      const f = d.figures;
      const base = f.fetch.medianMs;
      return {
        ours: ms(f.ours.medianMs),
        anchors: `fetch ${ms(base)} · Graph SDK ${ms(f["graph-sdk"].medianMs)} (${x(f["graph-sdk"].medianMs / base)}) · ky ${ms(f.ky.medianMs)} (${x(f.ky.medianMs / base)})`,
        ratio: `${x(f.ours.medianMs / base)} fetch`,
        goal: "≤ 1.10×, under ky",
        met: f.ours.medianMs / base <= 1.1 && f.ours.medianMs < f.ky.medianMs,
        data: { ...d, ratio: f.ours.medianMs / base },
      };
    },
  },
  4: {
    title: "memory growth (calls, then WorkbookSession create/close cycles)",
    run() {
      const o = child("memory.mjs", ["--contender", "ours"], ["--expose-gc"]);
      const f = child("memory.mjs", ["--contender", "fetch"], ["--expose-gc"]);
      const total = o.totalGrowth.wasmBytes + o.totalGrowth.heapUsedBytes;
      return {
        ours:
          `${int(o.calls)} calls (${fix(o.callSeconds, 0)} s): ${grow(o.callGrowth, o.callGrowthSecondHalf)}; ` +
          `${int(o.cycles)} create/close (${fix(o.cycleSeconds, 0)} s): ${grow(o.cycleGrowth, o.cycleGrowthSecondHalf)}`,
        anchors: `fetch, ${int(f.calls)} calls (${fix(f.callSeconds, 0)} s): heap ${kib(f.callGrowth.heapUsedBytes)} (2nd half ${kib(f.callGrowthSecondHalf.heapUsedBytes)})`,
        ratio: `total ${kib(total)}`,
        goal: "growth < 1 MiB",
        met: total < 1 << 20,
        data: { ours: o, fetch: f, totalGrowthBytes: total },
      };
    },
  },
  5: {
    title: "start-up: compile + instantiate + first call",
    run() {
      const d = child("startup.mjs");
      const n = d.node, c = d.chromium;
      return {
        ours:
          `Node ${ms(n.ours.totalMs)} · Chromium ${ms(c.ours.totalMs)}` +
          (c.entry ? ` (through the browser entry index.js: ${ms(c.entry.totalMs)})` : ""),
        anchors: `fetch's first call: Node ${ms(n.fetch.totalMs)} · Chromium ${ms(c.fetch.totalMs)}`,
        ratio: `Node ${x(n.ours.totalMs / n.fetch.totalMs)} · Chromium ${x(c.ours.totalMs / c.fetch.totalMs)}`,
        goal: "— (figures)",
        met: null,
        data: d,
      };
    },
  },
  6: {
    title: "keep-alive at scale (sessions in one Node process)",
    run() {
      const args = ["--interval-ms", String(intervalMs)];
      const o = child("keepalive.mjs", ["--contender", "ours", ...args], ["--expose-gc"]);
      const p = child("keepalive.mjs", ["--contender", "pool", ...args], ["--expose-gc"]);
      const f = child("keepalive.mjs", ["--contender", "fetch", ...args], ["--expose-gc"]);
      const show = (r) =>
        `${int(r.window.refreshesPerSecond)}/s of ${int(r.expectedPerSecond)} in ${int(r.window.requestsPerSecond)} requests/s, CPU ${fix(r.cpuShare * 100, 0)} %, ` +
        `RSS ${fix(r.memory.rssBytes / 2 ** 20, 0)} MiB, ${int(r.sessionsLost)} lost, created in ${fix(r.createSeconds, 1)} s`;
      const requests = p.window.requestsPerSecond / f.window.requestsPerSecond;
      const cpu = p.cpuShare / f.cpuShare;
      return {
        title: `keep-alive: ${int(o.sessions)} sessions, every ${o.intervalMs / 1000} s, TTL ${o.emulatorTtlMs / 1000} s`,
        ours: `keepAlive: ${show(o)} (wasm ${fix(o.memory.wasmBytes / 2 ** 20, 1)} MiB) · SessionPool ($batch): ${show(p)}`,
        anchors: `setTimeout + fetch: ${show(f)}`,
        ratio: `keepAlive CPU ${x(o.cpuShare / f.cpuShare)} fetch · pool requests ${x(requests)}, CPU ${x(cpu)} fetch`,
        goal: "0 lost; keepAlive ≤ 1.2× CPU; pool ≤ 0.1× requests, ≤ 0.5× CPU",
        met: o.sessionsLost === 0 && p.sessionsLost === 0 && o.cpuShare / f.cpuShare <= 1.2 && requests <= 0.1 && cpu <= 0.5,
        data: { ours: o, pool: p, fetch: f },
      };
    },
  },
  7: {
    title: "emulator throughput (64 connections)",
    run() {
      const bin = need("BENCH_EMULATOR_BENCH", process.env.BENCH_EMULATOR_BENCH);
      const file = join(out, "emulator-bench.json");
      const seconds = env.quick ? "1" : "3";
      const r = spawnSync(bin, ["--seconds", seconds, "--json", file], { stdio: ["ignore", "inherit", "inherit"] });
      if (r.status !== 0) throw new Error(`emulator-bench failed (${r.signal ?? `exit ${r.status}`})`);
      const d = JSON.parse(readFileSync(file, "utf8"));
      const show = (f) => `${int(f.rps)} req/s, p50 ${int(f.p50Us)} µs, p99 ${int(f.p99Us)} µs`;
      return {
        ours: `emulator ${show(d.emulator)}`,
        anchors: `bare hyper ${show(d.bare)}`,
        ratio: `${fix(d.ratio, 2)} of bare`,
        goal: "≥ 0.70",
        met: d.ratio >= 0.7,
        data: d,
      };
    },
  },
  8: {
    title: "session.fetch GET overhead, sequential (median per call)",
    run() {
      const d = child("calls.mjs", ["--mode", "sequential", "--call", "range-get"]);
      const r = sequential(d);
      return { ...r.cells, goal: "≤ 1.10×", met: r.ratio <= 1.1, data: { ...d, ratio: r.ratio } };
    },
  },
};

// ---------------------------------------------------------------- the run
// xtask's snapshot records when pkg/ was built (the copy's own times are the
// copy's). Row 7 alone needs no package.
const usesPkg = (n) => n !== 7;
let pkgInfo = null;
if (rows.some(usesPkg)) {
  const pkg = need("BENCH_PKG", env.pkg);
  const source = existsSync(join(pkg, "source.json")) ? JSON.parse(readFileSync(join(pkg, "source.json"), "utf8")) : {};
  pkgInfo = {
    wasmBytes: statSync(join(pkg, WASM)).size,
    jsBytes: statSync(join(pkg, GLUE)).size,
    builtAt: new Date(source.wasmModifiedMs || statSync(join(pkg, WASM)).mtimeMs).toISOString(),
  };
}
const started = new Date();
const results = {};
let broken = 0;
for (const n of rows) {
  const row = ROWS[n];
  console.log(`\n==> row ${n}: ${row.title}`);
  const load = os.loadavg()[0];
  const t = Date.now();
  try {
    const { also, ...r } = row.run();
    results[n] = { title: row.title, ...r };
    for (const [k, extra] of Object.entries(also ?? {})) {
      results[k] = { ...extra, measuredAt: new Date().toISOString(), pkg: pkgInfo };
    }
  } catch (e) {
    broken++;
    console.error(`row ${n} failed: ${e.message}`);
    results[n] = { title: row.title, ours: "error", anchors: "", ratio: "", goal: "", met: null, error: e.message };
  }
  Object.assign(results[n], {
    measuredAt: new Date().toISOString(),
    seconds: (Date.now() - t) / 1000,
    loadAverage: { before: load, after: os.loadavg()[0] },
    ...(usesPkg(n) ? { pkg: pkgInfo } : {}),
  });
}

// Merge with the previous results (rows not run this time keep theirs).
const resultsFile = env.quick ? join(out, "results-quick.json") : join(here, "results.json");
let previous = {};
if (!env.quick && existsSync(resultsFile)) {
  try {
    previous = JSON.parse(readFileSync(resultsFile, "utf8"));
  } catch {
    previous = {};
  }
}
const doc = {
  command: "cargo xtask bench",
  generatedAt: new Date().toISOString(),
  quick: env.quick,
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  },
  pkg: pkgInfo ?? previous.pkg ?? null,
  rows: { ...(previous.rows ?? {}), ...results },
};
writeFileSync(resultsFile, JSON.stringify(doc, null, 2) + "\n");

// The table.
const met = (m) => (m === true ? "yes" : m === false ? "**no**" : "—");
const header = ["#", "measure", "ours", "anchors", "ratio", "goal", "met"];
// Row keys are "1", "1b", "2" ...: by number, then by suffix.
const lines = Object.keys(doc.rows)
  .sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b))
  .map((n) => {
    const r = doc.rows[n];
    return [String(n), r.title, r.ours, r.anchors, r.ratio, r.goal, met(r.met)];
  });
const cell = (s) => String(s).replaceAll("|", "\\|");
const table = [header, header.map(() => "---"), ...lines].map((l) => `| ${l.map(cell).join(" | ")} |`).join("\n");
const shown = lines.filter((l) => rows.includes(parseInt(l[0], 10)));
console.log(
  `\nbenchmarks (${started.toISOString()}${pkgInfo ? `, pkg/ built ${pkgInfo.builtAt}` : ""}, ${os.cpus().length} cores, Node ${process.version})\n`,
);
for (const l of shown) {
  console.log(`${l[0]}. ${l[1]}\n   ours:    ${l[2]}\n   anchors: ${l[3]}\n   ratio:   ${l[4]}   goal: ${l[5]}   met: ${l[6].replaceAll("*", "")}`);
}
console.log(`\n${[header, header.map(() => "---"), ...shown].map((l) => `| ${l.map(cell).join(" | ")} |`).join("\n")}`);
console.log(`\nwrote ${resultsFile}`);

// The README's table (full runs only).
const readme = join(here, "README.md");
const BEGIN = "<!-- bench-table:begin -->";
const END = "<!-- bench-table:end -->";
if (!env.quick && existsSync(readme)) {
  const text = readFileSync(readme, "utf8");
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  if (i >= 0 && j > i) {
    const p = doc.pkg;
    const stamp =
      `Measured ${doc.generatedAt.slice(0, 16).replace("T", " ")} UTC on ${doc.machine.cpus} cores ` +
      `(${doc.machine.cpuModel ?? "?"}), Node ${doc.machine.node}` +
      (p ? `; pkg/ built ${p.builtAt.slice(0, 16).replace("T", " ")} UTC (wasm ${int(p.wasmBytes)} B, JS glue ${int(p.jsBytes)} B raw)` : "") +
      `. Rows not run this time keep their earlier figures (each row's date is in results.json).`;
    writeFileSync(readme, `${text.slice(0, i + BEGIN.length)}\n${stamp}\n\n${table}\n${text.slice(j)}`);
    console.log(`updated the table in ${readme}`);
  }
}

if (broken) {
  console.error(`\n${broken} row(s) could not be measured (see above)`);
  process.exit(1);
}
