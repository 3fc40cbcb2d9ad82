// graph-workbook-session/pool for browser pages, workers and bundlers: the
// pool over ./index.js (one wasm instance, shared with the main entry).
import { refreshSessions, WorkbookSession } from "./index.js";
import { definePool } from "./pool.js";

export const SessionPool = definePool({ refreshSessions, WorkbookSession });
