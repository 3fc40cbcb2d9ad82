// graph-workbook-session for Node 20+, Deno and Bun: the "node", "deno" and
// "bun" export conditions. The wasm is read from beside this file and
// instantiated synchronously, so there is no top-level await and Node's
// require() of this ES module works too (Node 20.19+, 22.12+).
import { readFileSync } from "node:fs";
import { initSync } from "./graph_workbook_session.js";

initSync({ module: readFileSync(new URL("./graph_workbook_session_bg.wasm", import.meta.url)) });

// The glue exports GraphError and isGraphError too, from the package's one
// graph-error.js (xtask/src/build.rs): one class for every entry.
export * from "./graph_workbook_session.js";
export { default } from "./graph_workbook_session.js";
