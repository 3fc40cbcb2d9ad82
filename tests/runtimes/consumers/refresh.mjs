// The refresh-only entry: `graph-workbook-session/refresh` exports
// refreshSession and closeSession (its own, smaller wasm) and the same
// GraphError contract, and nothing of the lifecycle.
import * as refresh from "graph-workbook-session/refresh";
import { GraphError, createSession } from "graph-workbook-session";

const baseUrl = `${process.argv[2]}/v1.0`;
const call = { workbook: `/me/drive/items/REFRESH-${Date.now().toString(36)}`, accessToken: "runtime-test-token", baseUrl };
const { id } = await createSession(call);
const refreshed = await refresh.refreshSession({ ...call, sessionId: id, clientRequestId: "refresh-entry" });
const closed = await refresh.closeSession({ ...call, sessionId: id });
let error;
try {
  await refresh.refreshSession({ ...call, sessionId: id });
} catch (e) {
  error = {
    name: e.name,
    code: e.code,
    innerCode: e.innerCode,
    status: e.status,
    instance: e instanceof refresh.GraphError,
    isGraphError: refresh.isGraphError(e),
    // One class for every entry (issue 23): the package's graph-error.js.
    mainInstance: e instanceof GraphError,
    sameClass: refresh.GraphError === GraphError,
  };
  // toJSON → JSON text (as over postMessage or a Durable Object RPC) → fromJSON.
  const back = GraphError.fromJSON(JSON.parse(JSON.stringify(e)));
  const fromText = refresh.GraphError.fromJSON(JSON.stringify(e));
  error.roundTrip = {
    instance: back instanceof refresh.GraphError && fromText instanceof GraphError,
    same: JSON.stringify(back) === JSON.stringify(e) && JSON.stringify(fromText) === JSON.stringify(e),
    message: back.message === e.message && back.name === "GraphError",
  };
}
// Every field, none at its default, stateLost included.
const full = new GraphError("m", {
  code: "serviceUnavailable",
  innerCode: "invalidSessionReCreatable",
  innerCodes: ["invalidSessionReCreatable", "deeper"],
  status: 503,
  requestId: "r",
  clientRequestId: "c",
  retryAfterMs: 5000,
  attempts: 3,
  recreatable: true,
  date: "2026-12-04T10:00:00",
});
full.stateLost = true;
const fullBack = GraphError.fromJSON(JSON.stringify(full));
const fromJSON = { fields: JSON.stringify(fullBack.toJSON()) === JSON.stringify(full.toJSON()), stateLost: fullBack.stateLost, json: full.toJSON() };
let refused;
try {
  GraphError.fromJSON(null);
} catch (e) {
  refused = e instanceof TypeError;
}
let invalid;
try {
  await refresh.refreshSession({ ...call, sessionId: id, maxRetries: 11 });
} catch (e) {
  invalid = { code: e.code, attempts: e.attempts };
}
console.log(
  JSON.stringify({
    exports: Object.keys(refresh).sort(),
    refreshed: { status: refreshed.status, clientRequestId: refreshed.clientRequestId, attempts: refreshed.attempts },
    closed: closed.status,
    error,
    invalid,
    fromJSON,
    refused,
  }),
);
