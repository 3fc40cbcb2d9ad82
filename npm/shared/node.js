// graph-workbook-session/shared for the "node" condition of the main entry:
// that entry loads the wasm (its side effect), then SharedWorkbookSession
// uses the same glue. Its own module, so the main entry does not grow.
import "../node.js";
export { SharedWorkbookSession } from "./shared.js";
