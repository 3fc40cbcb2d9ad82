// CommonJS consumer: require() of the package (Node's require(esm), 20.19+).
const { createSession, refreshSession, closeSession, initSync } = require("graph-workbook-session");

(async () => {
  const baseUrl = `${process.argv[2]}/v1.0`;
  const call = { workbook: "/me/drive/items/CJS-01", accessToken: "runtime-test-token", baseUrl };
  const { id } = await createSession(call);
  const refreshed = await refreshSession({ ...call, sessionId: id });
  const closed = await closeSession({ ...call, sessionId: id });
  let error;
  try {
    await refreshSession({ ...call, sessionId: id, maxRetries: 11 });
  } catch (e) {
    error = { name: e.name, code: e.code, attempts: e.attempts };
  }
  console.log(JSON.stringify({ initSync: typeof initSync, refreshed: refreshed.status, closed: closed.status, error }));
})();
