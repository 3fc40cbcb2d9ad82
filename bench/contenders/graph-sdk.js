// The Microsoft Graph JS SDK doing the same call: one Client made once, one
// api(...).header(...).post() per call. The SDK attaches the token only to
// https Graph hosts, so the benchmarks give it the real Graph URL and route
// its fetch to the emulator (see lib.mjs, graphFetchShim).
import { Client } from "@microsoft/microsoft-graph-client";

export function setup({ baseUrl, accessToken }) {
  const client = Client.init({ authProvider: (done) => done(null, accessToken) });
  return (workbook, sessionId) =>
    client.api(`${baseUrl}${workbook}/workbook/refreshSession`).header("workbook-session-id", sessionId).post();
}
