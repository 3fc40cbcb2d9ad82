// The task pane's logic, free of Office.js and MSAL so that it runs (and is
// tested) in any browser page: opens a workbook session, keeps it alive,
// shows what happens, and closes it on request or when the pane unloads.
import { WorkbookSession } from "graph-workbook-session";

/**
 * Renders into `root` and starts a session on `workbook`.
 * `getToken` is the Graph token provider (MSAL NAA in the add-in), silent
 * only; when a refresh fails because the user must act (`needsUser(error)`),
 * keep-alive stops and a button calls `signIn` (the popup, from a click)
 * and resumes it.
 * Resolves to { session, close } once the session is open.
 */
export async function startPanel(root, { workbook, getToken, signIn, needsUser = () => false, baseUrl, intervalMs, persistChanges = true }) {
  root.innerHTML = `
    <p>Session: <strong data-id="state">opening…</strong></p>
    <p class="id" data-id="session"></p>
    <p>Refreshes: <span data-id="count">0</span>, last at <span data-id="last">—</span></p>
    <button type="button" data-id="refresh" disabled>Refresh now</button>
    <button type="button" data-id="close" disabled>Close session</button>
    <button type="button" data-id="sign-in" hidden>Sign in again</button>
    <ol data-id="log" class="log"></ol>`;
  const el = (id) => root.querySelector(`[data-id="${id}"]`);
  const log = (text) => {
    const li = document.createElement("li");
    li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    el("log").prepend(li);
  };
  let refreshes = 0;
  const show = () => {
    el("state").textContent = session.state;
    el("session").textContent = session.id;
    el("count").textContent = String(refreshes);
    el("last").textContent = session.lastRefreshedAt ? new Date(session.lastRefreshedAt).toLocaleTimeString() : "—";
    const open = session.state === "active";
    el("refresh").disabled = !open;
    el("close").disabled = !open;
  };
  const describe = (e) => (e?.name === "GraphError" ? `${e.code}${e.innerCode ? ` (${e.innerCode})` : ""}, HTTP ${e.status}` : String(e));

  let session;
  try {
    session = await WorkbookSession.create({ workbook, accessToken: getToken, baseUrl, persistChanges });
  } catch (e) {
    el("state").textContent = "failed";
    log(`could not open a session: ${describe(e)}`);
    throw e;
  }
  log("session opened");
  const keepAlive = {
    intervalMs,
    recreate: true,
    onRefresh: () => {
      refreshes += 1;
      show();
    },
    onError: (e) => {
      if (!needsUser(e) || !signIn) return log(`refresh failed, retrying later: ${describe(e)}`);
      // Only the user can fix this, and a popup needs their click: stop until they do.
      session.stop();
      log("sign-in needed: keep-alive paused");
      el("sign-in").hidden = false;
    },
    onRecreated: (ev) => {
      log(`session expired; opened a new one${ev.stateLost ? " (unsaved changes were lost)" : ""}`);
      show();
    },
    onLost: (e) => {
      log(`session lost: ${describe(e)}`);
      show();
    },
  };
  session.keepAlive(keepAlive);
  show();

  el("sign-in").addEventListener("click", async () => {
    try {
      await signIn();
      el("sign-in").hidden = true;
      session.keepAlive(keepAlive);
      log("signed in: keep-alive resumed");
    } catch (e) {
      log(`sign-in failed: ${describe(e)}`);
    }
  });

  el("refresh").addEventListener("click", async () => {
    try {
      await session.refresh();
      refreshes += 1;
      log("refreshed");
    } catch (e) {
      log(`refresh failed: ${describe(e)}`);
    }
    show();
  });
  const close = async () => {
    session.stop();
    try {
      await session.close();
      log("session closed");
    } catch (e) {
      log(`close failed: ${describe(e)}`);
    }
    show();
  };
  el("close").addEventListener("click", close);
  // Best effort: a closing pane may not finish the request.
  addEventListener("pagehide", () => session.state === "active" && close());
  return { session, close };
}
