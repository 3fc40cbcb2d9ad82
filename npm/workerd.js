// graph-workbook-session for Cloudflare Workers (workerd, wrangler, Miniflare):
// the "workerd" export condition. workerd forbids compiling wasm from bytes at
// run time, so the wasm is imported as a module (wrangler and Miniflare turn
// a `.wasm` import into a compiled WebAssembly.Module) and instantiated here.
import wasm from "./graph_workbook_session_bg.wasm";
import { initSync } from "./graph_workbook_session.js";

initSync({ module: wasm });

// The glue exports GraphError and isGraphError too, from the package's one
// graph-error.js (xtask/src/build.rs): one class for every entry.
export * from "./graph_workbook_session.js";
export { default } from "./graph_workbook_session.js";
