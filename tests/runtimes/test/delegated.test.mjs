// Who may call (issue 21, point 6): workbook sessions take delegated work or
// school tokens only (the permission tables of createSession, refreshSession
// and closeSession: Application and personal accounts "Not supported"), on
// the hosts the session pages support (global, US Government L4 and L5; not
// China operated by 21Vianet). The packed package in Node, against the
// emulator: Graph's refusal of an app-only token says why; a delegated
// token's refusal does not; the default hosts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { consumer, control, emulator, lastJson, run, unique } from "../lib/harness.mjs";

const BOUND = { timeout: 180_000 };

const MAIN = `
import { createSession, refreshSession, refreshSessions, WorkbookSession } from "graph-workbook-session";

const [url, prefix] = process.argv.slice(2);
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const jwt = (claims) => \`\${b64({ alg: "RS256", typ: "JWT" })}.\${b64(claims)}.c2lnbmF0dXJl\`;
const tokens = {
  clientCredentials: jwt({ aud: "https://graph.microsoft.com", roles: ["Files.ReadWrite.All"], appid: "app" }),
  idtypApp: jwt({ aud: "https://graph.microsoft.com", idtyp: "app" }),
  delegated: jwt({ aud: "https://graph.microsoft.com", scp: "Files.ReadWrite", idtyp: "user" }),
  opaque: "not-a-jwt-token",
};
const baseUrl = url + "/v1.0";
const failure = async (p) => {
  try {
    await p;
    return null;
  } catch (e) {
    return { name: e.name, code: e.code, status: e.status, attempts: e.attempts, message: e.message };
  }
};

const out = {};
// createSession refused with 403 (a string token: sent once), per token kind:
// the app-only ones by the emulator itself, as Graph's permission tables say.
for (const [kind, accessToken] of Object.entries(tokens)) {
  out[kind] = await failure(createSession({ workbook: \`/drives/b!x/items/\${prefix}-\${kind}\`, accessToken, baseUrl }));
}
// refreshSession refused with 401 after one renewal: the renewed token is app-only too.
const { id } = await createSession({ workbook: \`/me/drive/items/\${prefix}-refresh\`, accessToken: tokens.delegated, baseUrl });
out.renewed = await failure(
  refreshSession({ workbook: \`/me/drive/items/\${prefix}-refresh\`, sessionId: id, accessToken: async () => tokens.idtypApp, baseUrl }),
);
// The other ways a refusal reaches the caller: session.fetch, and a $batch item.
// The session is made with a delegated token; its source then hands out an app-only one.
let given = 0;
const source = () => (given++ === 0 ? tokens.delegated : tokens.clientCredentials);
const session = await WorkbookSession.create({ workbook: \`/me/drive/items/\${prefix}-fetch\`, accessToken: source, baseUrl });
out.sessionFetch = await failure(session.fetch("/worksheets('Sheet1')/range(address='A1')"));
out.sessionClose = await failure(session.close());
const kept = await createSession({ workbook: \`/me/drive/items/\${prefix}-batch\`, accessToken: tokens.delegated, baseUrl });
const [item] = await refreshSessions([{ workbook: \`/me/drive/items/\${prefix}-batch\`, sessionId: kept.id }], { accessToken: tokens.idtypApp, baseUrl });
out.batchItem = { name: item.name, status: item.status, message: item.message };
// The token never appears in the message.
out.tokenInMessage = Object.values(out).some((e) => e && Object.values(tokens).some((t) => e.message.includes(t)));

// Hosts: global, L4, L5 (+ loopback) by default; China and canary only through allowedHosts.
const sent = [];
const fetch = async (u) => {
  sent.push(new URL(u).host);
  return new Response(null, { status: 204 });
};
const call = (host, allowedHosts) =>
  refreshSession({ workbook: "/me/drive/items/HOSTS", sessionId: "s", accessToken: tokens.delegated, baseUrl: \`https://\${host}/v1.0\`, fetch, allowedHosts })
    .then((r) => r.status, (e) => e.code);
out.hosts = {};
for (const host of ["graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn", "canary.graph.microsoft.com"]) {
  out.hosts[host] = [await call(host), await call(host, [host])];
}
out.sent = sent;
console.log(JSON.stringify(out));
`;

test("who may call: a refused app-only token is named in the GraphError; China and canary only through allowedHosts", BOUND, async (t) => {
  const url = await emulator(t);
  const prefix = unique("DELEGATED");
  const dir = consumer("delegated", { files: { "main.mjs": MAIN } });
  // Graph refuses every token kind here (the app-only ones by the emulator's
  // own permission check): only the app-only ones are explained.
  for (const kind of ["delegated", "opaque"]) {
    await control.fault(url, { operation: "createSession", pathContains: `${prefix}-${kind}`, status: 403 });
  }
  await control.fault(url, { operation: "refreshSession", pathContains: `${prefix}-refresh`, status: 401, times: 2 });

  const out = lastJson(run("node", ["main.mjs", url, prefix], { cwd: dir, timeout: 60_000 }).stdout);

  const DELEGATED = /Workbook sessions need a delegated token \(a signed-in work or school user.s\): this access token is app-only/;
  for (const kind of ["clientCredentials", "idtypApp"]) {
    assert.equal(out[kind].name, "GraphError", kind);
    assert.equal(out[kind].status, 403, kind);
    assert.equal(out[kind].code, "accessDenied", kind);
    assert.match(out[kind].message, /^createSession: Graph answered 403 accessDenied/, kind);
    assert.match(out[kind].message, DELEGATED, kind);
  }
  for (const kind of ["delegated", "opaque"]) {
    assert.equal(out[kind].status, 403, kind);
    assert.doesNotMatch(out[kind].message, /delegated/, kind);
  }
  assert.equal(out.renewed.status, 401);
  assert.equal(out.renewed.attempts, 2, "one resend with a fresh token");
  assert.match(out.renewed.message, DELEGATED);
  for (const via of ["sessionFetch", "sessionClose", "batchItem"]) {
    assert.equal(out[via].name, "GraphError", via);
    assert.equal(out[via].status, 403, via);
    assert.match(out[via].message, DELEGATED, via);
  }
  assert.equal(out.tokenInMessage, false);

  assert.deepEqual(out.hosts, {
    "graph.microsoft.com": [204, 204],
    "graph.microsoft.us": [204, 204],
    "dod-graph.microsoft.us": [204, 204],
    "microsoftgraph.chinacloudapi.cn": ["hostNotAllowed", 204],
    "canary.graph.microsoft.com": ["hostNotAllowed", 204],
  });
  assert.deepEqual(out.sent, [
    "graph.microsoft.com", "graph.microsoft.com", "graph.microsoft.us", "graph.microsoft.us",
    "dod-graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn", "canary.graph.microsoft.com",
  ], "nothing was sent to a host that was not allowed");
});
