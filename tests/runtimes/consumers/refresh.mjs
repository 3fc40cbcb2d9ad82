// The refresh-only entry: `graph-workbook-session/refresh` exports
// refreshSession and closeSession (its own, smaller wasm) and the same
// GraphError contract, and nothing of the lifecycle.
import * as refresh from "graph-workbook-session/refresh";
import { createSession } from "graph-workbook-session";

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
  };
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
  }),
);
