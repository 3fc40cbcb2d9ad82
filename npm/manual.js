// graph-workbook-session without automatic loading: "graph-workbook-session/manual".
// Nothing is fetched or instantiated until you call `init` (async, from a URL,
// Response, bytes or WebAssembly.Module) or `initSync` (bytes or Module).
export * from "./graph_workbook_session.js";
export { default } from "./graph_workbook_session.js";
export { GraphError, isGraphError } from "./graph_error.js";
