// graph-workbook-session for browser pages, module Web Workers, Office
// add-ins and bundlers (Vite, webpack): the "browser" and "default" export
// conditions. The wasm loads once, here, by top-level await; bundlers
// see `new URL("./….wasm", import.meta.url)` and emit the file as an asset.
// For manual control (no top-level await, your own wasm URL) import
// "graph-workbook-session/manual" and call `init` yourself.
import init from "./graph_workbook_session.js";

await init({ module_or_path: new URL("./graph_workbook_session_bg.wasm", import.meta.url) });

// The glue exports GraphError and isGraphError too, from the package's one
// graph-error.js (xtask/src/build.rs): one class for every entry.
export * from "./graph_workbook_session.js";
export { default } from "./graph_workbook_session.js";
