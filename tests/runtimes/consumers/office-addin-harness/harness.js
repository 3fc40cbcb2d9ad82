// Drives examples/office-addin's panel as the task pane would, with a token
// provider stub in place of MSAL and the emulator in place of Graph
// (?emulator=URL&workbook=PATH). window.__harness reports to the test.
import { startPanel } from "./src/panel.js";
import { resolveWorkbook, sharingId } from "./src/workbook.js";

const params = new URLSearchParams(location.search);
const baseUrl = `${params.get("emulator")}/v1.0`;
const tokenCalls = { count: 0 };
const getToken = async () => {
  tokenCalls.count += 1;
  return "addin-test-token";
};

window.__harness = { tokenCalls };
(async () => {
  // The document-URL → item-path step, with a stub fetch (the emulator has no /shares).
  const seen = [];
  const fakeFetch = async (url, init) => {
    seen.push({ url, authorization: init.headers.authorization });
    return new Response(JSON.stringify({ id: "01ITEM", parentReference: { driveId: "b!drive" } }), { status: 200 });
  };
  const documentUrl = "https://contoso.sharepoint.com/sites/Team/Shared Documents/Book 1.xlsx";
  window.__harness.resolved = await resolveWorkbook(documentUrl, getToken, { baseUrl, fetch: fakeFetch });
  window.__harness.resolveRequest = seen[0];
  window.__harness.sharingId = sharingId(documentUrl);

  const panel = await startPanel(document.getElementById("panel"), {
    workbook: params.get("workbook"),
    getToken,
    baseUrl,
    intervalMs: 100,
  });
  window.__harness.sessionId = () => panel.session.id;
  window.__harness.ready = true;
})().catch((e) => {
  window.__harness.failed = String(e?.stack ?? e);
});
