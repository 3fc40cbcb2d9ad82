// SharedWorkbookSession ("graph-workbook-session/shared"): one Graph session
// per workbook for every page, task pane and worker of one origin.
//
// Three Web Locks per workbook (name: "graph-workbook-session:" + baseUrl +
// workbook, and `user` when given):
//   ":keeper"  exclusive, held by one context, which creates (or attaches to)
//              the session and keeps it alive; the others queue for it, so
//              when the keeper's tab closes the next one takes over;
//   ":request" exclusive, taken around every request on the workbook, from
//              every context (Graph's one request at a time per workbook,
//              workbook-best-practice.md);
//   ":holder"  shared, held by every open SharedWorkbookSession, so that
//              close() knows whether it is the last holder.
// A BroadcastChannel of the same name carries the current id from the keeper
// to the others ("id"), a recreation asked for by another context
// ("recreate"), a loss ("lost"), and questions from newcomers ("ask").
// Where Web Locks or BroadcastChannel are missing, each context keeps a
// session of its own (`shared === false`, `fallbackReason` says why).
import { GraphError, WorkbookSession } from "../graph_workbook_session.js";

const DEFAULT_INTERVAL_MS = { true: 180_000, false: 240_000 };
// How long a context waits for the keeper's session id before failing.
const READY_MS = 300_000;

/** Why the session cannot be shared here, or null. */
function missing() {
  const locks = typeof navigator === "object" && navigator !== null ? navigator.locks : undefined;
  if (!locks || typeof locks.request !== "function") return "Web Locks (navigator.locks) are not available: a session per context";
  if (typeof BroadcastChannel !== "function") return "BroadcastChannel is not available: a session per context";
  return null;
}

/** Worth another try at the next keep-alive tick (the library already retried). */
function transient(e) {
  return e.status === 0 || e.status === 429 || e.status >= 500;
}

function closedError(state) {
  return new GraphError(`the shared session is ${state}`, { code: "invalidArgument" });
}

/**
 * The Response of `session.fetch`, read whole inside the request lock, so
 * the next context's request leaves only after this one's answer is in.
 */
async function buffered(r) {
  const empty = r.status === 204 || r.status === 205 || r.status === 304;
  const body = empty ? null : await r.arrayBuffer();
  return new Response(body, { status: r.status, statusText: r.statusText, headers: r.headers });
}

export class SharedWorkbookSession {
  #o; // the call options (workbook, accessToken, baseUrl ...)
  #name;
  #channel = null;
  #session = null; // this context's WorkbookSession on the current id
  #persistChanges;
  #state = "active";
  #reason;
  #keeper = false;
  #timer = null;
  #ready;
  #settle; // resolves #ready
  #waiters = []; // resolved on the next id
  #releaseHolder = null;
  #holderHeld = null;
  #releaseKeeper = null;
  #keeperHeld = null;
  #stopQueue = new AbortController();
  #intervalMs;
  #onChange;

  constructor(token, o, reason) {
    if (token !== TOKEN) throw new TypeError("use SharedWorkbookSession.open(options)");
    const { intervalMs, user, onChange, persistChanges = true, ...call } = o;
    this.#o = call;
    this.#persistChanges = persistChanges;
    this.#intervalMs = intervalMs ?? DEFAULT_INTERVAL_MS[persistChanges !== false];
    this.#onChange = onChange;
    this.#reason = reason;
    this.#name = `graph-workbook-session:${call.baseUrl ?? "https://graph.microsoft.com/v1.0"}${call.workbook}${user === undefined ? "" : `#${user}`}`;
    this.#ready = new Promise((ok, fail) => (this.#settle = { ok, fail }));
    this.#ready.catch(() => {});
  }

  /**
   * Opens the workbook's shared session: creates it when no context of
   * this origin holds one, else attaches to the one the keeper announces.
   */
  static async open(o) {
    if (o === null || typeof o !== "object") throw new TypeError("SharedWorkbookSession.open(options): options must be an object");
    const s = new SharedWorkbookSession(TOKEN, o, missing());
    if (s.#reason) {
      // A session of this context only, kept alive by the library's own keep-alive.
      s.#session = await WorkbookSession.create({ ...s.#o, persistChanges: s.#persistChanges });
      s.#persistChanges = s.#session.persistChanges;
      s.#session.keepAlive({
        intervalMs: s.#intervalMs,
        recreate: true,
        onRecreated: ({ previousId, id }) => s.#changed(id, previousId, "recreated"),
        onLost: (e) => s.#lose(e.toJSON(), false),
      });
      s.#changed(s.#session.id, null, "created");
      return s;
    }
    await s.#start();
    const timer = setTimeout(() => s.#settle.fail(new GraphError("no session id from the keeper in time", { code: "timeout" })), READY_MS);
    try {
      await s.#ready;
    } catch (e) {
      await s.close().catch(() => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return s;
  }

  /** The current Graph session id (it changes when the session is recreated). */
  get id() {
    return this.#session?.id ?? null;
  }
  get persistChanges() {
    return this.#persistChanges;
  }
  /** "active", "lost" (Graph no longer knows it and it was not recreated) or "closed". */
  get state() {
    return this.#state;
  }
  /** Whether the session is shared with the other contexts of this origin. */
  get shared() {
    return this.#reason === null;
  }
  /** Why it is not shared (Web Locks or BroadcastChannel missing), or null. */
  get fallbackReason() {
    return this.#reason;
  }
  /** Whether this context keeps the session alive (refreshes, recreates). */
  get keeper() {
    return this.#reason === null ? this.#keeper : true;
  }

  async #start() {
    const locks = navigator.locks;
    await new Promise((granted) => {
      this.#holderHeld = locks.request(`${this.#name}:holder`, { mode: "shared" }, () => {
        granted();
        return new Promise((release) => (this.#releaseHolder = release));
      });
    });
    this.#channel = new BroadcastChannel(this.#name);
    this.#channel.onmessage = (event) => this.#message(event.data);
    this.#keeperHeld = locks
      .request(`${this.#name}:keeper`, { signal: this.#stopQueue.signal }, () => this.#keep())
      .catch(() => {});
    this.#channel.postMessage({ t: "ask" });
  }

  #message(m) {
    if (this.#state !== "active" || m === null || typeof m !== "object") return;
    if (m.t === "ask") {
      if (this.#keeper && this.#session) this.#announce(null);
    } else if (m.t === "id" && typeof m.id === "string" && !this.#keeper) {
      if (m.id !== this.id) this.#use(m.id, m.persistChanges, m.previousId ?? null, m.previousId ? "recreated" : "attached");
    } else if (m.t === "recreate" && this.#keeper && m.id === this.id) {
      this.#recreate().catch(() => {});
    } else if (m.t === "lost" && !this.#keeper) {
      this.#lose(m.error, false);
    }
  }

  /** This context's WorkbookSession on `id` (attached; the keeper owns the refreshes). */
  #use(id, persistChanges, previousId, reason) {
    const old = this.#session;
    this.#session = WorkbookSession.attach({ ...this.#o, sessionId: id, persistChanges });
    this.#persistChanges = persistChanges;
    if (old) old.free();
    this.#changed(id, previousId, reason);
  }

  #changed(id, previousId, reason) {
    this.#settle.ok();
    for (const w of this.#waiters.splice(0)) w();
    this.#notify({ id, previousId, reason });
  }

  /** The caller's onChange; one that throws is reported and changes nothing. */
  #notify(change) {
    if (typeof this.#onChange !== "function") return;
    try {
      this.#onChange(change);
    } catch (e) {
      (globalThis.reportError ?? console.error)(e);
    }
  }

  #announce(previousId) {
    this.#channel?.postMessage({ t: "id", id: this.id, persistChanges: this.#persistChanges, previousId });
  }

  #lose(error, broadcast) {
    if (this.#state !== "active") return;
    this.#state = "lost";
    clearTimeout(this.#timer);
    if (broadcast) this.#channel?.postMessage({ t: "lost", error });
    this.#settle.fail(error ? GraphError.fromJSON(error) : new GraphError("the session was lost", { code: "notFound" }));
    for (const w of this.#waiters.splice(0)) w();
    this.#notify({ id: this.id, previousId: null, reason: "lost" });
  }

  /** Holds the keeper lock until close(): creates or takes over the session, keeps it alive. */
  async #keep() {
    if (this.#state !== "active") return;
    this.#keeper = true;
    const held = new Promise((release) => (this.#releaseKeeper = release));
    try {
      if (this.#session) {
        // Taking over: the session the previous keeper announced, refreshed at
        // once, and announced for contexts that asked while none kept it.
        await this.#refresh();
        if (this.#state === "active") this.#announce(null);
      } else {
        await this.#turn(async () => {
          if (this.#session || this.#state !== "active") return;
          const created = await WorkbookSession.create({ ...this.#o, persistChanges: this.#persistChanges });
          this.#session = created;
          this.#persistChanges = created.persistChanges;
        });
        this.#announce(null);
        this.#changed(this.id, null, "created");
      }
    } catch (e) {
      this.#settle.fail(e);
    }
    this.#tick();
    await held;
  }

  #tick() {
    if (this.#state !== "active" || !this.#keeper) return;
    this.#timer = setTimeout(() => {
      this.#refresh()
        .catch((e) => (globalThis.reportError ?? console.error)(e))
        .finally(() => this.#tick());
    }, this.#intervalMs);
  }

  /** One keep-alive refresh, in turn with every context's requests. */
  async #refresh() {
    if (this.#state !== "active" || !this.#session) return;
    try {
      await this.#turn(() => this.#session.refresh());
    } catch (e) {
      if (e?.name !== "GraphError") throw e;
      if (e.recreatable) await this.#recreate();
      else if (!transient(e)) this.#lose(e.toJSON(), true);
    }
  }

  /** The keeper replaces a session Graph no longer knows, once, for every context. */
  async #recreate() {
    const previousId = this.id;
    await this.#turn(async () => {
      if (this.#state !== "active" || this.id !== previousId) return;
      const created = await WorkbookSession.create({ ...this.#o, persistChanges: this.#persistChanges });
      const old = this.#session;
      this.#session = created;
      old?.free();
    });
    if (this.id !== previousId) {
      this.#announce(previousId);
      this.#changed(this.id, previousId, "recreated");
    }
  }

  /** `fn` inside the workbook's request lock: one request at a time across contexts. */
  #turn(fn, signal) {
    return navigator.locks.request(`${this.#name}:request`, signal ? { signal } : {}, fn);
  }

  /**
   * `session.fetch` in turn with every context of this origin on the same
   * workbook; the answer is read whole before the next request leaves. When
   * Graph says the session expired, the keeper recreates it (once for all
   * contexts) and a GET, HEAD or an answer 404 (nothing applied) is resent
   * once in the new session.
   */
  async fetch(path, init) {
    if (this.#reason) return this.#session.fetch(path, init);
    await this.#ready;
    if (this.#state !== "active") throw closedError(this.#state);
    const signal = init?.signal ?? undefined;
    const once = () => this.#turn(async () => buffered(await this.#session.fetch(path, init)), signal);
    const id = this.id;
    try {
      return await once();
    } catch (e) {
      if (e?.name !== "GraphError" || !e.recreatable || e.stateLost) throw e;
      await this.#renewed(id);
      const method = (init?.method ?? "GET").toUpperCase();
      if (this.id === id || (method !== "GET" && method !== "HEAD" && e.status !== 404)) throw e;
      return once();
    }
  }

  /** Waits until the session is no longer `id` (the keeper recreated it, or it was lost). */
  async #renewed(id) {
    if (this.id !== id || this.#state !== "active") return;
    const next = new Promise((ok) => this.#waiters.push(ok));
    if (this.#keeper) this.#recreate().catch(() => {});
    else this.#channel.postMessage({ t: "recreate", id });
    let timer;
    await Promise.race([next, new Promise((ok) => (timer = setTimeout(ok, READY_MS)))]);
    clearTimeout(timer);
  }

  /** `fetch`, then the answer's JSON (null for an empty answer). */
  async json(path, init) {
    const r = await this.fetch(path, init);
    const text = await r.text();
    return text ? JSON.parse(text) : null;
  }

  /**
   * Leaves the shared session: the last holder of this origin closes the
   * Graph session (resolves to closeSession's result), the others resolve
   * to null and the session goes on for them (a keeper hands over). Safe
   * to call twice.
   */
  async close() {
    if (this.#state === "closed") return null;
    const was = this.#state;
    this.#state = "closed";
    clearTimeout(this.#timer);
    for (const w of this.#waiters.splice(0)) w();
    this.#settle.fail(closedError("closed"));
    if (this.#reason) return this.#session.close();
    this.#stopQueue.abort();
    this.#releaseKeeper?.();
    this.#keeper = false;
    this.#channel?.close();
    this.#releaseHolder?.();
    await Promise.all([this.#holderHeld, this.#keeperHeld]).catch(() => {});
    const session = this.#session;
    if (!session || was !== "active") return null;
    // The last holder: no other context holds the session, so none is using it.
    const result = await navigator.locks.request(`${this.#name}:holder`, { ifAvailable: true }, async (lock) => {
      if (lock === null) return null;
      return { closed: await this.#turn(() => session.close()) };
    });
    if (result === null) session.free();
    return result?.closed ?? null;
  }
}

const TOKEN = Symbol("SharedWorkbookSession");
