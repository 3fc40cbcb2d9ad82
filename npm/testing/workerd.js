// graph-workbook-session/testing for Cloudflare Workers (workerd, Miniflare,
// @cloudflare/vitest-pool-workers): the wasm is imported as a module, since
// workerd forbids compiling wasm from bytes.
import wasm from "./emulator_bg.wasm";
import { initSync } from "./emulator.js";

initSync({ module: wasm });

export { createTestGraph } from "./graph.js";
