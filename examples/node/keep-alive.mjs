#!/usr/bin/env node
// Opens a workbook session, keeps it alive with progress output, closes it.
//
//   TENANT_ID=... CLIENT_ID=... WORKBOOK=/me/drive/items/01ABC node keep-alive.mjs
//
// Workbook sessions take a delegated token (a signed-in work or school
// user's; Graph refuses app-only tokens for createSession, refreshSession
// and closeSession), so the script signs you in with a device code
// (@azure/identity), or uses a user's token you hand it.
//
// Environment:
//   WORKBOOK        item path, e.g. /me/drive/items/{id} or "/me/drive/root:/Folder/Book.xlsx:" (required)
//   TENANT_ID, CLIENT_ID  sign in with a device code (`npm install @azure/identity`; an app
//                   registration with "Allow public client flows" and the delegated Graph
//                   permission Files.ReadWrite)
//   GRAPH_TOKEN     or: a user's Graph access token with Files.ReadWrite, used as is (it is not
//                   renewed: about an hour)
//   GRAPH_BASE_URL  default https://graph.microsoft.com/v1.0 (the emulator: http://127.0.0.1:PORT/v1.0)
//   PERSIST         "false" for a non-persistent session (default true)
//   DURATION_S      stop after this many seconds (default: run until Ctrl-C)
//   INTERVAL_MS     refresh interval (default: the library's, about 3 minutes)
//
// Ctrl-C (SIGINT) or SIGTERM stops keep-alive and closes the session.
import { WorkbookSession } from "graph-workbook-session";

const env = process.env;
const workbook = required("WORKBOOK");
const options = {
  workbook,
  accessToken: await userToken(),
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

/** A delegated token source: GRAPH_TOKEN as is, else a device-code sign-in. */
async function userToken() {
  if (env.GRAPH_TOKEN) return () => env.GRAPH_TOKEN; // a function is asked for every request
  if (!env.TENANT_ID || !env.CLIENT_ID) required("GRAPH_TOKEN or TENANT_ID and CLIENT_ID");
  const { DeviceCodeCredential } = await import("@azure/identity");
  // Prints "To sign in, use a web browser to open ... and enter the code ...";
  // the credential then renews the user's token silently for as long as the script runs.
  return new DeviceCodeCredential({ tenantId: env.TENANT_ID, clientId: env.CLIENT_ID });
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
