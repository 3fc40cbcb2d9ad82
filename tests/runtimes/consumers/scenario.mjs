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
  };
  // Already loaded by the package's entry: both return the same exports.
  out.initIsIdempotent = (await init()) === initSync({ module: new Uint8Array(0) });

  out.created = await createSession({ ...call, persistChanges: false });
  const sessionId = out.created.id;
  out.refreshed = await refreshSession({ ...call, sessionId, clientRequestId: `${runtime}-refresh` });
  out.batch = (
    await refreshSessions([{ workbook, sessionId }, { workbook, sessionId: "cluster=EMU&session=unknown" }], { accessToken, baseUrl })
  ).map(plain);
  out.closed = await closeSession({ ...call, sessionId });
  out.expired = await failure(refreshSession({ ...call, sessionId }));
  out.invalid = await failure(refreshSession({ ...call, workbook: "me/drive/items/relative", sessionId }));

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
