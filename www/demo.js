// The graph-workbook-session demo page. Plain ES module: it imports the npm
// package exactly as an app would (wasm-bindgen `--target web` build in
// /pkg/) and uses only its public API. Optional query parameters:
// ?interval=<ms> (keep-alive interval), ?baseUrl=<Graph base URL>. The
// Workbook card calls the workbook inside the session with session.fetch.

import init, { WorkbookSession } from "/pkg/graph_workbook_session.js";

/** Graph's idle lifetimes (the emulator's may differ; read from its config). */
const GRAPH_TTL_MS = { persistent: 300_000, nonPersistent: 420_000 };
const DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0";
const DEFAULT_TOKEN = "demo-token-accepted-by-the-emulator";
const DEFAULT_WORKBOOK = "/me/drive/root:/Demo/Budget 2026.xlsx:";
const DEFAULT_INTERVAL_MS = 10_000;
const MAX_LOG_ENTRIES = 200;
/** Log operations that are calls to Graph (summarised under "Last call"). */
const CALLS = new Set(["createSession", "refreshSession", "closeSession", "recreate", "fetch"]);

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("connection"),
  baseUrl: $("base-url"),
  token: $("token"),
  workbook: $("workbook"),
  persist: $("persist"),
  interval: $("interval"),
  create: $("create"),
  refresh: $("refresh"),
  keepAlive: $("keep-alive"),
  close: $("close"),
  state: $("state"),
  countdown: $("countdown"),
  lastRefreshed: $("last-refreshed"),
  sessionId: $("session-id"),
  lastCall: $("last-call"),
  emulator: $("emulator"),
  emulatorUrl: $("emulator-url"),
  throttle: $("throttle"),
  expire: $("expire"),
  log: $("log"),
  clearLog: $("clear-log"),
  cell: $("cell"),
  cellValue: $("cell-value"),
  writeCell: $("write-cell"),
  readCell: $("read-cell"),
  compare: $("compare"),
  cellRead: $("cell-read"),
  compareTable: $("compare-table"),
  compareRows: $("compare-rows"),
};

const app = {
  ready: false,
  /** The emulator's origin from /demo-config.json, when the page was served by `cargo xtask demo`. */
  knownEmulator: null,
  /** @type {WorkbookSession | null} */
  session: null,
  /** The emulator origin the current session lives on, or null (real Graph). */
  sessionEmulator: null,
  keepAlive: false,
  /** Operations in flight started by buttons (create, refresh, close). */
  busy: new Set(),
  /** Manual refreshes in flight: their outcome is logged by the button, not by the keep-alive callbacks. */
  manualRefreshes: 0,
  /** A recreation that happened inside a manual refresh, logged after that refresh's error. */
  pendingRecreated: null,
  ttl: { ...GRAPH_TTL_MS },
  expiredByEmulator: false,
};

// ---------------------------------------------------------------- the log

function clock() {
  const d = new Date();
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/**
 * Adds an entry at the top of the log.
 * @param {{op: string, kind?: string, outcome: "ok"|"error"|"info", badge: string, status?: number|null,
 *          requestId?: string|null, attempts?: number|null, elapsedMs?: number|null,
 *          error?: string|null, note?: string|null}} e
 */
function log(e) {
  const li = document.createElement("li");
  li.className = `entry ${e.outcome}`;
  li.dataset.op = e.op;
  li.dataset.outcome = e.outcome;
  if (e.kind) li.dataset.kind = e.kind;
  if (e.status != null) li.dataset.status = String(e.status);
  if (e.attempts != null) li.dataset.attempts = String(e.attempts);
  if (e.error) li.dataset.error = e.error;

  const head = document.createElement("div");
  head.className = "entry-head";
  const time = document.createElement("time");
  time.dateTime = new Date().toISOString();
  time.textContent = clock();
  const op = document.createElement("span");
  op.className = "op";
  op.textContent = e.kind ? `${e.op} · ${e.kind}` : e.op;
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.textContent = e.badge;
  head.append(time, " ", op, " ", badge);
  li.append(head);

  const fields = [
    ["HTTP status", e.status == null ? null : e.status === 0 ? "none (no answer)" : String(e.status)],
    ["request-id", e.requestId],
    ["attempts", e.attempts == null ? null : String(e.attempts)],
    ["elapsed", e.elapsedMs == null ? null : `${Math.round(e.elapsedMs)} ms`],
    ["error", e.error],
  ].filter(([, v]) => v != null && v !== "");
  if (fields.length) {
    const dl = document.createElement("dl");
    dl.className = "entry-fields";
    for (const [name, value] of fields) {
      const div = document.createElement("div");
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.field = name;
      div.append(dt, dd);
      dl.append(div);
    }
    li.append(dl);
  }
  if (e.note) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = e.note;
    li.append(p);
  }
  ui.log.prepend(li);
  if (CALLS.has(e.op)) {
    const parts = [e.kind ? `${e.op} (${e.kind})` : e.op, e.badge];
    if (e.attempts != null) parts.push(`attempts ${e.attempts}`);
    if (e.elapsedMs != null) parts.push(`${Math.round(e.elapsedMs)} ms`);
    if (e.error) parts.push(e.error);
    ui.lastCall.textContent = parts.join(" · ");
    ui.lastCall.dataset.outcome = e.outcome;
  }
  while (ui.log.childElementCount > MAX_LOG_ENTRIES) ui.log.lastElementChild.remove();
}

/** A RefreshResult ({status, requestId, clientRequestId, attempts, elapsedMs}). */
function logResult(op, r, kind = null, note = null) {
  const retried = r.attempts > 1 ? `Retried: ${r.attempts} attempts, the same client-request-id ${r.clientRequestId}.` : null;
  log({
    op,
    kind,
    outcome: "ok",
    badge: String(r.status),
    status: r.status,
    requestId: r.requestId,
    attempts: r.attempts,
    elapsedMs: r.elapsedMs,
    note: [retried, note].filter(Boolean).join(" ") || null,
  });
}

/** A GraphError (or any other thrown value: the page never lets one go unhandled). */
function logError(op, e, elapsedMs = null, kind = null, note = null) {
  const graph = e && e.name === "GraphError";
  const code = graph ? [e.code, e.innerCode].filter(Boolean).join(" / ") : (e && e.name) || "Error";
  log({
    op,
    kind,
    outcome: "error",
    badge: graph ? (e.status ? String(e.status) : e.code) : "error",
    status: graph ? e.status : null,
    requestId: graph ? e.requestId : null,
    attempts: graph ? e.attempts : null,
    elapsedMs,
    error: code,
    note: [e && e.message ? String(e.message) : String(e), note].filter(Boolean).join(" "),
  });
}

function logInfo(op, badge, note, extra = {}) {
  log({ op, outcome: "info", badge, note, ...extra });
}

// ---------------------------------------------------------------- emulator

/** The emulator origin behind a Graph base URL, when it is the one this page was served with. */
function emulatorFor(baseUrl) {
  if (!app.knownEmulator) return null;
  try {
    return new URL(baseUrl).origin === app.knownEmulator ? app.knownEmulator : null;
  } catch {
    return null;
  }
}

function currentEmulator() {
  return app.session ? app.sessionEmulator : emulatorFor(ui.baseUrl.value.trim());
}

async function emulatorCall(path, init = {}) {
  const root = currentEmulator();
  if (!root) throw new Error("not connected to the emulator");
  const response = await fetch(root + path, { cache: "no-store", ...init });
  if (!response.ok && response.status !== 404) {
    throw new Error(`the emulator answered ${response.status} to ${init.method || "GET"} ${path}`);
  }
  return response;
}

/** The TTLs the countdown uses: the emulator's configuration, or Graph's. */
async function loadTtl() {
  if (!app.sessionEmulator) {
    app.ttl = { ...GRAPH_TTL_MS };
    return;
  }
  try {
    const config = await (await emulatorCall("/_emulator/config")).json();
    app.ttl = { persistent: config.persistentTtlMs, nonPersistent: config.nonPersistentTtlMs };
  } catch (e) {
    logError("emulator config", e, null, null, "The countdown uses Graph's lifetimes.");
    app.ttl = { ...GRAPH_TTL_MS };
  }
  render();
}

async function throttle() {
  try {
    const fault = { operation: "refreshSession", status: 429, retryAfter: "1", times: 1 };
    await emulatorCall("/_emulator/faults", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(fault),
    });
    logInfo("emulator", "throttle armed",
      "The next refreshSession answers 429 Too Many Requests with Retry-After: 1. Click Refresh (or let keep-alive refresh): the library waits 1 s and retries.",
      { kind: "fault" });
  } catch (e) {
    logError("emulator", e, null, "fault");
  }
}

async function expire() {
  const s = app.session;
  if (!s) return;
  const id = s.id;
  try {
    const r = await emulatorCall(`/_emulator/sessions/${encodeURIComponent(id)}/expire`, { method: "POST" });
    if (r.status === 404) {
      logInfo("emulator", "not found", "The emulator had already forgotten this session.", { kind: "expire" });
    } else {
      app.expiredByEmulator = true;
      logInfo("emulator", "expired",
        app.keepAlive
          ? "The emulator forgot the session. Keep-alive's next refresh gets a plain 404 (Graph's answer for an expired session) and the library creates a new session."
          : "The emulator forgot the session. The next refresh gets a plain 404 (Graph's answer for an expired session); turn Keep alive on first to see the library recreate it, or Refresh to see it lost.",
        { kind: "expire" });
    }
  } catch (e) {
    logError("emulator", e, null, "expire");
  }
  render();
}

// ---------------------------------------------------------------- session

function readForm() {
  const baseUrl = ui.baseUrl.value.trim();
  const accessToken = ui.token.value.trim();
  const workbook = ui.workbook.value.trim();
  for (const [input, value] of [[ui.baseUrl, baseUrl], [ui.token, accessToken], [ui.workbook, workbook]]) {
    if (!value) {
      const label = document.querySelector(`label[for="${input.id}"]`).textContent;
      log({ op: "form", outcome: "error", badge: "invalid", error: "invalidArgument", note: `${label} is empty.` });
      input.focus();
      return null;
    }
  }
  // The token goes to the library only; the page never logs it.
  return { baseUrl, accessToken, workbook, persistChanges: ui.persist.checked };
}

async function createSession() {
  const options = readForm();
  if (!options) return;
  app.busy.add("create");
  render();
  const started = performance.now();
  try {
    const previous = app.session;
    const session = await WorkbookSession.create(options);
    app.session = session;
    if (previous) {
      previous.stop();
      previous.free(); // the old (closed or lost) session's wasm object
    }
    app.sessionEmulator = emulatorFor(options.baseUrl);
    app.keepAlive = false;
    app.expiredByEmulator = false;
    log({
      op: "createSession",
      outcome: "ok",
      badge: "created",
      elapsedMs: performance.now() - started,
      note: `Session ${session.id} (persistChanges: ${session.persistChanges}).`,
    });
    await loadTtl();
  } catch (e) {
    logError("createSession", e, performance.now() - started);
  } finally {
    app.busy.delete("create");
    render();
    moveFocusFrom(ui.create, ui.refresh);
  }
}

async function refresh() {
  const s = app.session;
  if (!s) return;
  app.manualRefreshes++;
  app.busy.add("refresh");
  render();
  const started = performance.now();
  try {
    const r = await s.refresh();
    app.expiredByEmulator = false;
    logResult("refreshSession", r);
    await loadTtl();
  } catch (e) {
    logError("refreshSession", e, performance.now() - started, null,
      s.state === "lost" ? "The session is lost: create a new one (or keep it alive with recreation)." : null);
    if (app.pendingRecreated) logRecreated(app.pendingRecreated);
  } finally {
    app.pendingRecreated = null;
    app.manualRefreshes--;
    app.busy.delete("refresh");
    if (s.state !== "active") app.keepAlive = false;
    render();
    moveFocusFrom(ui.refresh, ui.create);
  }
}

function isTransient(e) {
  return e && e.name === "GraphError" &&
    (e.code === "network" || e.code === "timeout" || e.status === 408 || e.status === 429 || e.status >= 500);
}

function logRecreated(event) {
  log({
    op: "recreate",
    kind: "keep-alive",
    outcome: "info",
    badge: "recreated",
    note: `The session was gone (a plain 404: Graph's answer for an expired session), so the library created a new one and goes on: ` +
      `${event.previousId} → ${event.id}. ` +
      (event.stateLost ? "It was non-persistent: its unsaved changes are lost." : "It was persistent: saved changes are kept."),
  });
}

function toggleKeepAlive() {
  const s = app.session;
  if (!s) return;
  if (app.keepAlive) {
    s.stop();
    app.keepAlive = false;
    logInfo("keepAlive", "off", "Keep-alive stopped; its timer is released.");
    render();
    return;
  }
  const intervalMs = Number(ui.interval.value);
  try {
    s.keepAlive({
      intervalMs,
      recreate: true,
      onRefresh: (r) => {
        app.expiredByEmulator = false;
        if (app.manualRefreshes === 0) logResult("refreshSession", r, "keep-alive");
        loadTtl();
      },
      onError: (e) => {
        if (app.manualRefreshes > 0) return;
        const goesOn = isTransient(e);
        logError("refreshSession", e, null, "keep-alive", goesOn ? "Keep-alive will try again soon." : "Keep-alive stopped.");
        if (!goesOn) app.keepAlive = false;
        render();
      },
      onLost: (e) => {
        app.keepAlive = false;
        logError("keepAlive", e, null, "lost", "The session is lost and keep-alive stopped: create a new one.");
        render();
      },
      onRecreated: (event) => {
        app.expiredByEmulator = false;
        if (app.manualRefreshes > 0) app.pendingRecreated = event;
        else logRecreated(event);
        loadTtl();
        render();
      },
    });
    app.keepAlive = true;
    logInfo("keepAlive", "on", `Refreshing about every ${intervalMs} ms (±10 % jitter), recreating the session if Graph forgets it.`);
  } catch (e) {
    logError("keepAlive", e);
    ui.interval.focus();
  }
  render();
}

async function closeSession() {
  const s = app.session;
  if (!s) return;
  app.busy.add("close");
  render();
  const started = performance.now();
  try {
    const r = await s.close();
    app.keepAlive = false;
    if (r) logResult("closeSession", r, null, "The session is closed; keep-alive stopped.");
    else logInfo("closeSession", "nothing to close", "The session was already closed or lost.");
  } catch (e) {
    logError("closeSession", e, performance.now() - started);
  } finally {
    app.keepAlive = false;
    app.busy.delete("close");
    render();
    moveFocusFrom(ui.close, ui.create);
  }
}

// ---------------------------------------------------------------- workbook (session.fetch)

/** `/worksheets('Sheet1')/range(address='A1')`, relative to the workbook. */
function rangePath(address) {
  return `/worksheets('Sheet1')/range(address='${address.replaceAll("'", "''")}')`;
}

function readCellAddress() {
  const address = ui.cell.value.trim().toUpperCase();
  if (!/^[A-Z]{1,3}[1-9][0-9]{0,6}$/.test(address)) {
    log({ op: "form", outcome: "error", badge: "invalid", error: "invalidArgument", note: "Cell must be one cell, like A1." });
    ui.cell.focus();
    return null;
  }
  return address;
}

/**
 * One session.fetch call, logged. Resolves to the parsed JSON body; a
 * GraphError is logged and thrown again.
 */
async function fetchLogged(session, kind, path, init, note = null) {
  const started = performance.now();
  try {
    const response = await session.fetch(path, init);
    const body = await response.json();
    log({
      op: "fetch",
      kind,
      outcome: "ok",
      badge: String(response.status),
      status: response.status,
      requestId: response.headers.get("request-id"),
      elapsedMs: performance.now() - started,
      note,
    });
    return body;
  } catch (e) {
    logError("fetch", e, performance.now() - started, kind,
      e && e.stateLost ? "The session was non-persistent and Graph ended it: its changes are gone (stateLost)." : null);
    throw e;
  }
}

const cellText = (body) => String(body.values?.[0]?.[0] ?? "");

/**
 * Runs `request(session, address)` for the form's cell in the current
 * session (busy meanwhile) and shows the cell's value from its answer.
 */
async function cellRequest(request) {
  const s = app.session;
  const address = readCellAddress();
  if (!s || !address) return;
  app.busy.add("fetch");
  render();
  try {
    const body = await request(s, address);
    setText(ui.cellRead, `Sheet1!${address} = "${cellText(body)}"`);
  } catch {
    // Logged by fetchLogged.
  } finally {
    app.busy.delete("fetch");
    render();
  }
}

function writeCell() {
  return cellRequest((s, address) => {
    const value = ui.cellValue.value;
    return fetchLogged(s, `PATCH ${address}`, rangePath(address), { method: "PATCH", body: { values: [[value]] } },
      `Wrote "${value}" to Sheet1!${address} in this ${s.persistChanges ? "persistent" : "non-persistent"} session.`);
  });
}

function readCell() {
  return cellRequest((s, address) => fetchLogged(s, `GET ${address}`, rangePath(address)));
}

/**
 * Writes a cell in a persistent and in a non-persistent session, closes
 * both, and reads both cells back in a new session.
 */
async function compareKinds() {
  const options = readForm();
  if (!options) return;
  app.busy.add("compare");
  render();
  const stamp = new Date().toLocaleTimeString();
  const rows = [
    { persistChanges: true, address: "D1", value: `persistent ${stamp}` },
    { persistChanges: false, address: "D2", value: `non-persistent ${stamp}` },
  ];
  try {
    for (const row of rows) {
      const session = await WorkbookSession.create({ ...options, persistChanges: row.persistChanges });
      try {
        await fetchLogged(session, `PATCH ${row.address}`, rangePath(row.address), { method: "PATCH", body: { values: [[row.value]] } },
          `persistChanges: ${row.persistChanges}: wrote "${row.value}".`);
        const closed = await session.close();
        if (closed) logResult("closeSession", closed, row.persistChanges ? "persistent" : "non-persistent");
      } finally {
        session.free();
      }
    }
    // A non-persistent reader changes nothing.
    const reader = await WorkbookSession.create({ ...options, persistChanges: false });
    try {
      const body = await fetchLogged(reader, "GET D1:D2", rangePath("D1:D2"), undefined, "Read back in a new session.");
      rows.forEach((row, i) => { row.read = String(body.values?.[i]?.[0] ?? ""); });
      await reader.close();
    } finally {
      reader.free();
    }
    ui.compareRows.replaceChildren(...rows.map((row) => {
      const tr = document.createElement("tr");
      const kept = row.read === row.value;
      tr.dataset.persistChanges = String(row.persistChanges);
      tr.dataset.kept = String(kept);
      for (const cell of [String(row.persistChanges), row.address, row.value, row.read || "(empty)", kept ? "kept" : "gone"]) {
        const td = document.createElement("td");
        td.textContent = cell;
        tr.append(td);
      }
      return tr;
    }));
    ui.compareTable.hidden = false;
    logInfo("compare", "done",
      `Persistent change ${rows[0].read === rows[0].value ? "kept" : "lost"}; non-persistent change ${rows[1].read === rows[1].value ? "kept" : "gone"}, as Graph documents.`);
  } catch (e) {
    logError("compare", e);
  } finally {
    app.busy.delete("compare");
    render();
  }
}

/** When the button just used is now disabled, keeps keyboard users in place. */
function moveFocusFrom(from, to) {
  if (from.disabled && (document.activeElement === from || document.activeElement === document.body) && !to.disabled) {
    to.focus();
  }
}

// ---------------------------------------------------------------- rendering

function formatRemaining(ms) {
  const total = Math.ceil(ms / 1000);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** Writes only changes, so live regions announce changes, not ticks. */
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function render() {
  const s = app.session;
  const state = s ? s.state : "none";
  const active = state === "active";
  const busy = app.busy.size > 0;

  ui.state.dataset.state = state;
  setText(ui.state, s ? state + (active && app.keepAlive ? " · kept alive" : "") : "no session");
  setText(ui.sessionId, s ? s.id : "–");

  const last = s ? s.lastRefreshedAt : null;
  setText(ui.lastRefreshed, last ? new Date(last).toLocaleTimeString() : "–");

  let remaining = null;
  let text = "–";
  if (active && app.expiredByEmulator) {
    text = "expired by the emulator";
    remaining = 0;
  } else if (active && last) {
    const ttl = s.persistChanges ? app.ttl.persistent : app.ttl.nonPersistent;
    remaining = last + ttl - Date.now();
    text = remaining > 0 ? `in ${formatRemaining(remaining)}` : "past due (unless refreshed elsewhere)";
  }
  setText(ui.countdown, text);
  ui.countdown.dataset.remainingMs = remaining == null ? "" : String(Math.max(0, Math.round(remaining)));
  ui.countdown.classList.toggle("expired", remaining != null && remaining <= 0);

  ui.create.disabled = !app.ready || busy || active;
  ui.refresh.disabled = !active || app.busy.has("refresh") || app.busy.has("close");
  ui.keepAlive.disabled = !active || app.busy.has("close");
  ui.keepAlive.setAttribute("aria-pressed", String(active && app.keepAlive));
  ui.close.disabled = !active || busy;
  ui.writeCell.disabled = !active || app.busy.has("fetch") || app.busy.has("close");
  ui.readCell.disabled = !active || app.busy.has("fetch") || app.busy.has("close");
  ui.compare.disabled = !app.ready || app.busy.has("compare");

  const emulator = currentEmulator();
  ui.emulator.hidden = !emulator;
  setText(ui.emulatorUrl, emulator ? `${emulator}/_emulator/` : "");
  ui.throttle.disabled = !emulator;
  ui.expire.disabled = !emulator || !active || app.expiredByEmulator;
}

// ---------------------------------------------------------------- start

function on(button, handler) {
  // Every handler's failure lands in the log, never in an unhandled rejection.
  button.addEventListener("click", () => {
    Promise.resolve()
      .then(handler)
      .catch((e) => logError(button.textContent.trim(), e));
  });
}

async function main() {
  const params = new URLSearchParams(location.search);
  ui.form.addEventListener("submit", (e) => e.preventDefault());
  on(ui.create, createSession);
  on(ui.refresh, refresh);
  on(ui.keepAlive, toggleKeepAlive);
  on(ui.close, closeSession);
  on(ui.throttle, throttle);
  on(ui.expire, expire);
  on(ui.clearLog, () => ui.log.replaceChildren());
  on(ui.writeCell, writeCell);
  on(ui.readCell, readCell);
  on(ui.compare, compareKinds);
  ui.baseUrl.addEventListener("input", render);

  let config = null;
  try {
    const response = await fetch("/demo-config.json", { cache: "no-store" });
    if (response.ok) config = await response.json();
  } catch {
    // Served by something else than `cargo xtask demo`: no emulator defaults.
  }
  try {
    app.knownEmulator = config && config.emulatorUrl ? new URL(config.emulatorUrl).origin : null;
  } catch {
    app.knownEmulator = null;
  }
  ui.baseUrl.value = params.get("baseUrl") || (config && config.graphBaseUrl) || DEFAULT_BASE_URL;
  ui.token.value = DEFAULT_TOKEN;
  ui.workbook.value = DEFAULT_WORKBOOK;
  ui.interval.value = String(Number(params.get("interval")) || DEFAULT_INTERVAL_MS);
  render();

  const started = performance.now();
  try {
    await init();
    app.ready = true;
    logInfo("init", "ready",
      `WebAssembly module loaded in ${Math.round(performance.now() - started)} ms. ` +
      (app.knownEmulator ? "Graph is the local emulator: Create, Refresh and Close work as they are." : "Enter a Graph base URL and an access token."));
  } catch (e) {
    logError("init", e, performance.now() - started, null, "The package in /pkg/ could not be loaded: run cargo xtask demo.");
  }
  $("loading").hidden = app.ready;
  $("intro-emulator").hidden = !app.knownEmulator;
  render();
  setInterval(render, 250);
  document.body.dataset.ready = String(app.ready);
}

main().catch((e) => logError("page", e));
