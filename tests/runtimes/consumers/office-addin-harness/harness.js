// Drives examples/office-addin's panel as the task pane would, with a token
// provider stub in place of MSAL's calls (its error class and the
// example's needsUser are the real ones) and the emulator in place of Graph
// (?emulator=URL&workbook=PATH[&interactionAfter=N]). window.__harness
// reports to the test.
import { InteractionRequiredAuthError } from "@azure/msal-browser";
import { needsUser } from "./src/auth.js";
import { startPanel } from "./src/panel.js";
import { resolveWorkbook, sharingId } from "./src/workbook.js";

const params = new URLSearchParams(location.search);
const baseUrl = `${params.get("emulator")}/v1.0`;
const tokenCalls = { count: 0 };
// ?interactionAfter=N: from the Nth token on, MSAL needs the user (as after
// a sign-in expired) until signIn runs; signIn records whether it ran in a
// user gesture (Chromium's transient activation), as a popup must.
const interactionAfter = Number(params.get("interactionAfter") ?? Infinity);
let signedInAgain = false;
const signIns = [];
const getToken = async () => {
  tokenCalls.count += 1;
  if (tokenCalls.count >= interactionAfter && !signedInAgain) throw new InteractionRequiredAuthError("interaction_required");
  return "addin-test-token";
};
const signIn = async () => {
  signIns.push({ userActivation: navigator.userActivation.isActive });
  signedInAgain = true;
};

window.__harness = { tokenCalls, signIns };
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
    signIn,
    needsUser,
    baseUrl,
    intervalMs: 100,
  });
  window.__harness.sessionId = () => panel.session.id;
  window.__harness.ready = true;
})().catch((e) => {
  window.__harness.failed = String(e?.stack ?? e);
});
