// graph-workbook-session/testing for Node, Deno and Bun: the emulator's
// wasm is read from beside this file and instantiated synchronously.
import { readFileSync } from "node:fs";
import { initSync } from "./emulator.js";

initSync({ module: readFileSync(new URL("./emulator_bg.wasm", import.meta.url)) });

export { createTestGraph } from "./graph.js";
