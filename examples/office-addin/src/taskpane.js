// The add-in's entry: Office.js ready → MSAL NAA token provider (silent; a
// sign-in button when Office needs the user) → the open workbook's Graph
// path → the session panel.
import { config } from "./config.js";
import { msalTokenProvider, needsUser } from "./auth.js";
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
  const { getToken, signIn } = msalTokenProvider(config);
  const start = async () => {
    const workbook = await resolveWorkbook(Office.context.document.url, getToken, config);
    await startPanel(root, { workbook, getToken, signIn, needsUser, baseUrl: config.baseUrl, intervalMs: config.intervalMs });
  };
  try {
    await start();
  } catch (e) {
    if (!needsUser(e)) {
      root.textContent = e?.message ?? String(e);
      return;
    }
    // First run (consent): the popup may open only from a click.
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Sign in to Microsoft 365";
    button.addEventListener("click", () => signIn().then(start).catch((err) => (root.textContent = err?.message ?? String(err))));
    root.replaceChildren(button);
  }
});
