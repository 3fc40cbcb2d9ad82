// The add-in's entry: Office.js ready → MSAL NAA token provider → the open
// workbook's Graph path → the session panel.
import { config } from "./config.js";
import { msalTokenProvider } from "./auth.js";
import { resolveWorkbook } from "./workbook.js";
import { startPanel } from "./panel.js";

const root = document.getElementById("panel");

Office.onReady(async (info) => {
  if (info.host !== Office.HostType.Excel) {
    root.textContent = "Open this add-in in Excel.";
    return;
  }
  if (!Office.context.requirements.isSetSupported("NestedAppAuth", "1.1")) {
    root.textContent = "This version of Office cannot sign in add-ins (NestedAppAuth 1.1): update Office.";
    return;
  }
  const getToken = msalTokenProvider(config);
  try {
    const workbook = await resolveWorkbook(Office.context.document.url, getToken, config);
    await startPanel(root, { workbook, getToken, baseUrl: config.baseUrl, intervalMs: config.intervalMs });
  } catch (e) {
    root.textContent = e?.message ?? String(e);
  }
});
