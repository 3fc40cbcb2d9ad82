// graph-workbook-session/graph-sdk: the Graph SDK's middleware chains
// (@microsoft/microsoft-graph-client's Client.initWithMiddleware and Kiota's
// HttpClient) hand the requests under a session's workbook to that
// session's own `session.fetch`, which adds the session id, takes turns in
// the session's line and applies the Excel policy (cooldowns, recreation,
// stateLost) in the wasm. Plain JS with no import: it adds nothing to the
// main entry, and it holds no policy of its own. Every other request goes
// on down the chain untouched.

// The lifecycle requests a session owns: never sent through session.fetch.
const LIFECYCLE = /^\/(createsession|refreshsession|closesession|operations|sessioninforesource)(\/|\(|$)/i;
// Headers that belong to the session: the chain's own Authorization (the
// session sends its token source's) and a chain's Retry-Attempt.
const SESSION_OWNED = ["authorization", "retry-attempt"];

export class WorkbookSessionMiddleware {
  #entries = [];
  #recreate;
  #nextSdk;

  /** `recreate` is `session.fetch`'s `init.recreate` for every request (default: the session's keep-alive setting). */
  constructor(options = {}) {
    if (options.recreate !== undefined && typeof options.recreate !== "boolean") {
      throw new TypeError("options.recreate must be a boolean");
    }
    this.#recreate = options.recreate;
    /** Kiota's chain link (HttpClient sets it). */
    this.next = undefined;
  }

  /**
   * Routes the requests under `where.workbook` (the item path the session was
   * created on, as given to WorkbookSession.create) on `where.baseUrl`'s
   * origin, any version segment, to `session.fetch`. `where` defaults to
   * `session.toJSON()` when the session has one.
   */
  add(session, where = typeof session?.toJSON === "function" ? session.toJSON() : undefined) {
    if (typeof session?.fetch !== "function") throw new TypeError("add(session): session must be a WorkbookSession");
    const workbook = where?.workbook;
    if (typeof workbook !== "string" || !workbook.startsWith("/") || workbook.endsWith("/")) {
      throw new TypeError("add(session, { workbook }): workbook must be the session's item path, e.g. /me/drive/items/01ABC");
    }
    const base = new URL(where.baseUrl ?? "https://graph.microsoft.com/v1.0");
    const path = base.pathname.replace(/\/+$/, "");
    // Any version segment: the prefix is the base path without its last one.
    const prefix = path.slice(0, path.lastIndexOf("/") + 1);
    this.#entries.push({ session, origin: base.origin, prefix, head: `${workbook}/workbook` });
    return this;
  }

  /** Stops routing `session`'s requests; true when it was routed. */
  delete(session) {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((e) => e.session !== session);
    return this.#entries.length !== before;
  }

  /** The Graph SDK's chain link. */
  setNext(next) {
    this.#nextSdk = next;
  }

  /**
   * Graph SDK: `execute(context)`, sets `context.response`. Kiota:
   * `execute(url, requestInit, requestOptions)`, resolves to the Response.
   */
  async execute(context, requestInit, requestOptions) {
    if (typeof context === "string") {
      const routed = this.#route(context, requestInit, undefined);
      if (!routed) {
        if (!this.next) throw new Error("WorkbookSessionMiddleware is the last link of Kiota's chain: add a fetch handler after it");
        return this.next.execute(context, requestInit, requestOptions);
      }
      return answer(routed.session.fetch(context, routed.init));
    }
    const request = context.request;
    const url = typeof request === "string" ? request : request?.url;
    const routed = typeof url === "string" ? this.#route(url, context.options, request) : null;
    if (!routed) {
      if (!this.#nextSdk) throw new Error("WorkbookSessionMiddleware is the last link of the chain: add HTTPMessageHandler after it");
      return this.#nextSdk.execute(context);
    }
    context.response = await answer(routed.session.fetch(url, routed.init));
  }

  /** The session a request belongs to, and session.fetch's init; null: not a session's request. */
  #route(url, options = {}, request) {
    let u;
    try {
      u = new URL(url);
    } catch {
      return null;
    }
    let path;
    try {
      path = decodeURIComponent(u.pathname);
    } catch {
      return null;
    }
    for (const e of this.#entries) {
      if (u.origin !== e.origin || !path.startsWith(e.prefix)) continue;
      const rest = path.slice(e.prefix.length);
      const slash = rest.indexOf("/");
      if (slash <= 0 || !rest.startsWith(e.head, slash)) continue;
      const tail = rest.slice(slash + e.head.length);
      if (tail !== "" && tail[0] !== "/") continue;
      if (LIFECYCLE.test(tail)) return null;
      const headers = new Headers(options.headers ?? (typeof request === "object" ? request.headers : undefined));
      // A request carrying a session id of its own is the caller's business.
      if (headers.has("workbook-session-id")) return null;
      for (const name of SESSION_OWNED) headers.delete(name);
      const init = { method: options.method ?? (typeof request === "object" ? request.method : undefined), headers };
      if (options.body != null) init.body = options.body;
      if (options.signal) init.signal = options.signal;
      if (this.#recreate !== undefined) init.recreate = this.#recreate;
      return { session: e.session, init };
    }
    return null;
  }
}

/**
 * session.fetch's answer for the chain: its Response; when Graph answered
 * with an error, that error as Graph's JSON body and headers, so the SDK
 * raises its own error (statusCode, code, requestId, body) as it would
 * without the middleware. A failure without an answer (timeout, abort,
 * network, a refused request) rejects with the package's GraphError.
 */
async function answer(pending) {
  try {
    return await pending;
  } catch (e) {
    if (e?.name !== "GraphError" || !(e.status > 0)) throw e;
    const codes = Array.isArray(e.innerCodes) ? e.innerCodes : [];
    let inner = {};
    for (let i = codes.length - 1; i >= 0; i--) inner = i === codes.length - 1 ? { code: codes[i] } : { code: codes[i], innerError: inner };
    const innerError = { ...inner, "request-id": e.requestId ?? undefined, "client-request-id": e.clientRequestId ?? undefined, date: e.date ?? undefined };
    const headers = new Headers({ "content-type": "application/json" });
    if (e.requestId) headers.set("request-id", e.requestId);
    if (e.clientRequestId) headers.set("client-request-id", e.clientRequestId);
    if (e.retryAfterMs != null) headers.set("retry-after", String(Math.ceil(e.retryAfterMs / 1000)));
    const body = JSON.stringify({ error: { code: e.code, message: e.message, innerError } });
    return new Response(body, { status: e.status, headers });
  }
}
