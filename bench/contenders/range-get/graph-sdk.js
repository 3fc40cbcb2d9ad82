// Row 8: the Microsoft Graph JS SDK doing the same GET: one Client made once,
// one api(...).header(...).get() per call (which reads the body as JSON). It
// is given the real Graph URL, like row 2's (see lib.mjs, graphFetchShim).
import { Client } from "@microsoft/microsoft-graph-client";

export function setup({ baseUrl, accessToken, path }) {
  const client = Client.init({ authProvider: (done) => done(null, accessToken) });
  return (workbook, sessionId) => client.api(`${baseUrl}${workbook}/workbook${path}`).header("workbook-session-id", sessionId).get();
}
