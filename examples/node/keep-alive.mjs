#!/usr/bin/env node
// Opens a workbook session, keeps it alive with progress output, closes it.
//
//   GRAPH_TOKEN=eyJ... WORKBOOK=/me/drive/items/01ABC node keep-alive.mjs
//
// Environment:
//   WORKBOOK        item path, e.g. /me/drive/items/{id} or "/me/drive/root:/Folder/Book.xlsx:" (required)
//   GRAPH_TOKEN     bearer token with Files.ReadWrite (required; e.g. `az account get-access-token
//                   --resource-type ms-graph --query accessToken -o tsv`)
//   GRAPH_BASE_URL  default https://graph.microsoft.com/v1.0 (the emulator: http://127.0.0.1:PORT/v1.0)
//   PERSIST         "false" for a non-persistent session (default true)
//   DURATION_S      stop after this many seconds (default: run until Ctrl-C)
//   INTERVAL_MS     refresh interval (default: the library's, about 3 minutes)
//
// Ctrl-C (SIGINT) or SIGTERM stops keep-alive and closes the session.
import { WorkbookSession } from "graph-workbook-session";

const env = process.env;
const workbook = required("WORKBOOK");
const token = required("GRAPH_TOKEN");
const options = {
  workbook,
  accessToken: () => token, // a function is called for every request: return a fresh token here
  baseUrl: env.GRAPH_BASE_URL || undefined,
  persistChanges: env.PERSIST !== "false",
};

const started = Date.now();
const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`;

let session;
try {
  session = await WorkbookSession.create(options);
} catch (e) {
  fail("createSession", e);
}
console.log(`${stamp()} created ${session.id} (persistChanges: ${session.persistChanges})`);

let refreshes = 0;
session.keepAlive({
  intervalMs: env.INTERVAL_MS ? Number(env.INTERVAL_MS) : undefined,
  recreate: true,
  onRefresh: (r) => console.log(`${stamp()} refreshed #${++refreshes}: ${r.status} in ${Math.round(r.elapsedMs)} ms, request-id ${r.requestId}`),
  onError: (e) => console.log(`${stamp()} refresh failed, will retry: ${e.code} (${e.status})`),
  onRecreated: (ev) => console.log(`${stamp()} recreated: ${ev.previousId} -> ${ev.id}${ev.stateLost ? " (unsaved changes lost)" : ""}`),
  onLost: (e) => {
    console.log(`${stamp()} lost: ${e.code} ${e.innerCode ?? ""}`);
    process.exitCode = 1;
  },
});
console.log(`${stamp()} keeping alive${env.DURATION_S ? ` for ${env.DURATION_S} s` : " (Ctrl-C to stop)"}`);

let timer;
await new Promise((resolve) => {
  process.once("SIGINT", resolve);
  process.once("SIGTERM", resolve);
  if (env.DURATION_S) timer = setTimeout(resolve, Number(env.DURATION_S) * 1000);
});
clearTimeout(timer);
process.removeAllListeners("SIGINT").removeAllListeners("SIGTERM");

session.stop();
try {
  const closed = await session.close();
  console.log(`${stamp()} closed: ${closed ? closed.status : "nothing to close"} after ${refreshes} refreshes`);
} catch (e) {
  fail("closeSession", e);
} finally {
  session.free();
}

function required(name) {
  if (!env[name]) {
    console.error(`set ${name} (see the top of keep-alive.mjs)`);
    process.exit(2);
  }
  return env[name];
}

function fail(what, e) {
  if (e?.name !== "GraphError") throw e;
  console.error(`${what} failed: ${e.message}`);
  console.error(`  code ${e.code}, inner ${e.innerCode}, status ${e.status}, request-id ${e.requestId}, client-request-id ${e.clientRequestId}`);
  process.exit(1);
}
