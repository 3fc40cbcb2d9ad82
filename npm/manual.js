// graph-workbook-session without automatic loading: "graph-workbook-session/manual".
// Nothing is fetched or instantiated until you call `init` (async, from a URL,
// Response, bytes or WebAssembly.Module) or `initSync` (bytes or Module).
// The glue exports GraphError and isGraphError too, from the package's one
// graph-error.js (xtask/src/build.rs): one class for every entry.
export * from "./graph_workbook_session.js";
export { default } from "./graph_workbook_session.js";
