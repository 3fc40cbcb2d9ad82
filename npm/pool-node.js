// graph-workbook-session/pool for the runtimes of ./node.js: the pool over
// that entry's module (one wasm instance, shared with the main entry).
import { refreshSessions, WorkbookSession } from "./node.js";
import { definePool } from "./pool.js";

export const SessionPool = definePool({ refreshSessions, WorkbookSession });
