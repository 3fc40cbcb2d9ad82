// graph-workbook-session/testing for browsers and bundlers (Vitest's
// browser mode, Jest with a bundler): the emulator's wasm loads once, here,
// by top-level await. Node, Deno and Bun read testing/node.js; workerd
// (Miniflare) testing/workerd.js.
import init from "./emulator.js";

await init({ module_or_path: new URL("./emulator_bg.wasm", import.meta.url) });

export { createTestGraph } from "./graph.js";
