// Where a wasm's bytes go, grouped (the profile behind rows 1 and 1b).
//
//   twiggy top -n 100000 -f csv OPT.wasm > top.csv   (twiggy: cargo install twiggy --version 0.8.0 --locked)
//   node bench/bytes.mjs top.csv
//
// OPT.wasm: the package's wasm built as `cargo xtask build` builds it, but
// with `wasm-opt -Oz -g` (and without its import renaming, `short_imports`),
// so that the items keep their names (the names
// section itself is left out of the shares). Items are grouped by name:
// the async state machines of the exported async functions, wasm-bindgen's
// shims, data, core/alloc, core::fmt and panic paths, the allocator, and
// ours by `graph_workbook_session::<layer>::<module>`. Inlining decides
// where a function's bytes land (an inlined call counts where it landed).
import { readFileSync } from "node:fs";

const file = process.argv[2];
if (!file) throw new Error("usage: node bench/bytes.mjs top.csv (twiggy top -n 100000 -f csv)");

function group(name) {
  if (name.includes("function names")) return null;
  if (/future_to_promise|js_sys::futures|wasm_bindgen_futures/.test(name))
    return "async glue (the exported async functions' state machines, the futures queue)";
  if (name.startsWith("data segment")) return "data (messages, code tables, header names, hosts, panic locations)";
  if (/talc|lol_alloc|__rust_(alloc|dealloc|realloc)/.test(name)) return "allocator";
  if (/core::fmt|core\[[0-9a-f]+\]::fmt|panicking|panic_|_fail\b|slice_index|slice_error/.test(name))
    return "core::fmt and panic paths";
  if (/shim|__wbg|__wbindgen|externref|wasm_bindgen::|wbg_cast/.test(name))
    return "wasm-bindgen: shims, imports, exports, externref table";
  const ours = /graph_workbook_session::(\w+)::(\w+)/.exec(name);
  if (ours) return `ours: ${ours[1]}::${ours[2]}`;
  if (/js_sys|web_sys/.test(name)) return "js-sys / web-sys bindings";
  if (/alloc::|core::|core\[|alloc\[|mem(cpy|set|cmp|move)/.test(name)) return "core/alloc: strings, vectors, UTF-8, iterators";
  return "other (tables, types, unnamed code)";
}

// twiggy's CSV: Name,ShallowSize,... with names quoted when they hold commas.
const lines = readFileSync(file, "utf8").trim().split("\n").slice(1);
const totals = new Map();
let total = 0;
for (const line of lines) {
  const m = /^("(?:[^"]|"")*"|[^,]*),(\d+),/.exec(line);
  if (!m) continue;
  const name = m[1].startsWith('"') ? m[1].slice(1, -1).replaceAll('""', '"') : m[1];
  const g = group(name);
  if (g === null) continue;
  const bytes = Number(m[2]);
  totals.set(g, (totals.get(g) ?? 0) + bytes);
  total += bytes;
}
console.log("| part | bytes | share |\n|---|---|---|");
for (const [g, b] of [...totals].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${g} | ${b.toLocaleString("en-US")} | ${((100 * b) / total).toFixed(1)} % |`);
}
console.log(`| total (without the names section) | ${total.toLocaleString("en-US")} | |`);
