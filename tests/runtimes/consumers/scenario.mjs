// The calls every runtime makes against the emulator, through nothing but
// `import ... from "graph-workbook-session"` (no init by hand). Runs in Node,
// Deno, Bun and (bundled by Vite) in Chromium; returns plain JSON that
// lib/harness.mjs assertScenario checks.
import init, {
  initSync,
  createSession,
  refreshSession,
  closeSession,
  refreshSessions,
  WorkbookSession,
  GraphError,
  isGraphError,
} from "graph-workbook-session";

export async function scenario(emulatorUrl, runtime) {
  const baseUrl = `${emulatorUrl}/v1.0`;
  // A path-form item with a space: percent-encoding happens in the library.
  const workbook = `/me/drive/root:/Runtimes/${runtime}/Book 1.xlsx:`;
  const accessToken = async () => "runtime-test-token"; // a token provider, as real code has
  const call = { workbook, accessToken, baseUrl };
  const out = { runtime };

  out.exports = {
    default: typeof init, initSync: typeof initSync, refreshSession: typeof refreshSession,
    createSession: typeof createSession, closeSession: typeof closeSession,
    refreshSessions: typeof refreshSessions, WorkbookSession: typeof WorkbookSession,
    GraphError: typeof GraphError, isGraphError: typeof isGraphError,
  };
  // Already loaded by the package's entry: both return the same exports.
  out.initIsIdempotent = (await init()) === initSync({ module: new Uint8Array(0) });

  out.created = await createSession({ ...call, persistChanges: false });
  const sessionId = out.created.id;
  out.refreshed = await refreshSession({ ...call, sessionId, clientRequestId: `${runtime}-refresh` });
  const batch = await refreshSessions([{ workbook, sessionId }, { workbook, sessionId: "cluster=EMU&session=unknown" }], { accessToken, baseUrl });
  out.batch = batch.map(plain);
  out.batchEntryIsInstance = batch[1] instanceof GraphError;
  out.closed = await closeSession({ ...call, sessionId });
  out.expired = await failure(refreshSession({ ...call, sessionId }));
  out.invalid = await failure(refreshSession({ ...call, workbook: "me/drive/items/relative", sessionId }));

  // The exported class, the provider's own error as cause, toJSON; a custom fetch.
  const interaction = new Error("interaction_required");
  try {
    await refreshSession({ ...call, sessionId, accessToken: async () => { throw interaction; } });
  } catch (e) {
    out.graphError = {
      instance: e instanceof GraphError, isError: e instanceof Error, guard: isGraphError(e),
      notGuarded: isGraphError(new Error("x")), causeKept: e.cause === interaction, json: Object.keys(e.toJSON()),
    };
  }
  let fetched = 0;
  const counting = (url, init) => { fetched++; return fetch(url, init); };
  // One createSession request (no respond-async polls), so the count is exact.
  const viaFetch = await createSession({ ...call, preferAsync: false, fetch: counting });
  await closeSession({ ...call, sessionId: viaFetch.id, fetch: counting });
  out.customFetch = fetched;

  // Throttled once (429, Retry-After: 0), then answered: one retry.
  const other = await createSession(call);
  await fetch(`${emulatorUrl}/_emulator/faults`, {
    method: "POST",
    body: JSON.stringify({ operation: "refreshSession", pathContains: `Runtimes/${runtime}/`, status: 429, retryAfter: "0", times: 1 }),
  });
  out.throttled = await refreshSession({ ...call, sessionId: other.id });
  await closeSession({ ...call, sessionId: other.id });

  // WorkbookSession: create, keep alive (two refreshes), stop, close.
  const session = await WorkbookSession.create(call);
  const ticks = [];
  await new Promise((resolve, reject) => {
    session.keepAlive({
      intervalMs: 50,
      onRefresh: (r) => ticks.push(r.status) === 2 && resolve(),
      onError: reject,
      onLost: reject,
    });
  });
  session.stop();
  out.session = {
    id: session.id,
    persistChanges: session.persistChanges,
    state: session.state,
    lastRefreshedAt: typeof session.lastRefreshedAt,
    ticks,
  };
  out.session.closed = await session.close();
  out.session.stateAfterClose = session.state;
  session.free();

  // `await using`: Symbol.asyncDispose closes (where the runtime has the symbol).
  const disposable = await WorkbookSession.create(call);
  if (typeof Symbol.asyncDispose === "symbol") {
    await disposable[Symbol.asyncDispose]();
    out.disposed = disposable.state;
  } else {
    await disposable.close();
    out.disposed = "closed (no Symbol.asyncDispose)";
  }
  return out;
}

async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return plain(e);
  }
  return { isError: false };
}

/** A result or a GraphError as JSON (an Error's own fields are not enumerable everywhere). */
function plain(v) {
  if (!(v instanceof Error)) return v;
  const { name, message, code, innerCode, status, requestId, clientRequestId, retryAfterMs, attempts, recreatable } = v;
  return { isError: true, name, message, code, innerCode, status, requestId, clientRequestId, retryAfterMs, attempts, recreatable };
}
