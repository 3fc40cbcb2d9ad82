// graph-workbook-session/cloudflare: WorkbookSessionKeeper, a Durable Object
// that keeps one workbook's session alive on Cloudflare Workers. Its own
// module (workerd only: it imports "cloudflare:workers"), so the main entry
// does not grow.
//
// One object per workbook (idFromName(workbook)). The session's state
// ({ workbook, sessionId, persistChanges, baseUrl } and counters) lives in
// the object's storage under "session", so an object evicted or restarted
// between two alarms attaches to the same session instead of creating one.
// Errors cross the RPC hop as data: `{ error: GraphError.toJSON() }`.
import { DurableObject } from "cloudflare:workers";
import { GraphError, WorkbookSession } from "../workerd.js";

const KEY = "session";
// Headers the session sets itself (README, session.fetch), and hop headers.
const OWNED = new Set(["authorization", "workbook-session-id", "retry-attempt", "host", "content-length"]);

/** Worth another try at the next alarm (the library already retried). */
function transient(e) {
  return e.status === 0 || e.status === 429 || e.status >= 500;
}

/** A GraphError as RPC data; anything else is thrown on. */
function failed(e) {
  if (e?.name !== "GraphError") throw e;
  return { error: e.toJSON() };
}

/** What storage keeps of a session: its `toJSON()`, the fields of WorkbookSession.attach. */
function saved(session) {
  return session.toJSON(); // { workbook, sessionId, persistChanges, baseUrl }: never the token
}

export class WorkbookSessionKeeper extends DurableObject {
  #session = null; // the WorkbookSession of the stored state, built on first use

  /**
   * The options of every Graph call but `workbook` (accessToken, baseUrl,
   * fetch, timeoutMs ...). Override it; the default reads
   * `env.GRAPH_BASE_URL` and `env.GRAPH_TOKEN`.
   */
  callOptions() {
    return { baseUrl: this.env?.GRAPH_BASE_URL, accessToken: this.env?.GRAPH_TOKEN };
  }

  /** ms between two alarms: `env.REFRESH_INTERVAL_MS`, else 3 minutes. Override at will. */
  intervalMs() {
    const ms = Number(this.env?.REFRESH_INTERVAL_MS ?? 180_000);
    return Number.isFinite(ms) && ms > 0 ? ms : 180_000;
  }

  async #kept() {
    return (await this.ctx.storage.get(KEY)) ?? null;
  }

  /** The WorkbookSession on the stored id (attached again after a restart). */
  async #current() {
    const kept = await this.#kept();
    if (!kept) return null;
    if (this.#session?.id !== kept.sessionId) {
      const old = this.#session;
      this.#session = WorkbookSession.attach({ ...this.callOptions(), workbook: kept.workbook, sessionId: kept.sessionId, persistChanges: kept.persistChanges });
      old?.free();
    }
    return { kept, session: this.#session };
  }

  async #arm() {
    await this.ctx.storage.setAlarm(Date.now() + this.intervalMs());
  }

  /**
   * Opens a session on `workbook` unless this object keeps one, and arms
   * the first alarm. `{ session }` (the stored state) or `{ error }`.
   */
  async open({ workbook, persistChanges = true } = {}) {
    let kept = await this.#kept();
    if (!kept) {
      try {
        const o = { ...this.callOptions(), workbook };
        const session = await WorkbookSession.create({ ...o, persistChanges });
        // Another call may have opened one while this one waited on Graph: keep the first.
        kept = await this.#kept();
        if (kept) {
          await session.close().catch(() => {});
        } else {
          kept = { ...saved(session), refreshes: 0 };
          this.#session?.free();
          this.#session = session;
          await this.ctx.storage.put(KEY, kept);
        }
      } catch (e) {
        return failed(e);
      }
    }
    if ((await this.ctx.storage.getAlarm()) === null) await this.#arm();
    return { session: kept };
  }

  /** The stored state and the next alarm (ms since the epoch), or nulls. */
  async status() {
    return { session: await this.#kept(), alarm: await this.ctx.storage.getAlarm() };
  }

  /** One refresh now. `{ refreshed }` (refreshSession's result), `{ refreshed: null }` with no session, or `{ error }`. */
  async refresh() {
    const current = await this.#current();
    if (!current) return { refreshed: null };
    try {
      const refreshed = await current.session.refresh();
      await this.#count(current.kept.sessionId);
      return { refreshed };
    } catch (e) {
      return failed(e);
    }
  }

  async #count(sessionId) {
    const kept = await this.#kept();
    if (kept?.sessionId !== sessionId) return;
    kept.refreshes += 1;
    await this.ctx.storage.put(KEY, kept);
  }

  /**
   * `stub.fetch(url, init)`: `session.fetch` of the URL's path and query,
   * relative to `{workbook}/workbook` (its host is ignored), with the
   * request's method, headers and body; the session is recreated when
   * Graph says it expired. Graph's answer, or a JSON `{ error }` answer
   * with the GraphError's status (when none came: 400 for `invalidArgument`,
   * else 502; 409 with no session).
   */
  async fetch(request) {
    const current = await this.#current();
    if (!current) {
      const e = new GraphError("this keeper holds no session: call open() first", { code: "invalidArgument" });
      return Response.json({ error: e.toJSON() }, { status: 409 });
    }
    const url = new URL(request.url);
    const headers = {};
    for (const [k, v] of request.headers) if (!OWNED.has(k.toLowerCase())) headers[k] = v;
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
    const { session, kept } = current;
    try {
      return await session.fetch(url.pathname + url.search, { method: request.method, headers, body, recreate: true });
    } catch (e) {
      const { error } = failed(e);
      return Response.json({ error }, { status: error.status || (error.code === "invalidArgument" ? 400 : 502) });
    } finally {
      // A recreation inside session.fetch changed the id: store it.
      if (session.id !== kept.sessionId && (await this.#kept())?.sessionId === kept.sessionId) {
        await this.ctx.storage.put(KEY, { ...kept, sessionId: session.id, recreatedFrom: kept.sessionId });
      }
    }
  }

  /**
   * The alarm: refresh, recreate when Graph says so, arm the next one. The
   * next alarm is armed in `finally`: a failed recreation or a throw (a
   * network outage, a token provider down) does not end keep-alive; only
   * close() or an unrecoverable error, which delete the stored state, do.
   */
  async alarm() {
    try {
      const current = await this.#current();
      if (!current) return;
      const { kept, session } = current;
      try {
        await session.refresh();
        await this.#count(kept.sessionId);
      } catch (e) {
        if (e?.name !== "GraphError") throw e;
        if (e.recreatable) {
          const o = { ...this.callOptions(), workbook: kept.workbook };
          const created = await WorkbookSession.create({ ...o, persistChanges: kept.persistChanges });
          // close() may have run while this waited on Graph: then close the new one too.
          if ((await this.#kept())?.sessionId !== kept.sessionId) {
            await created.close().catch(() => {});
            return;
          }
          this.#session?.free();
          this.#session = created;
          await this.ctx.storage.put(KEY, { ...saved(created), refreshes: 0, recreatedFrom: kept.sessionId });
        } else if (!transient(e)) {
          await this.ctx.storage.delete(KEY); // not recoverable: stop keeping it
          console.error(`stopped keeping ${kept.workbook}: ${e.message}`);
        }
      }
    } finally {
      if (await this.#kept()) await this.#arm();
    }
  }

  /** Cancels the alarm and closes the session. `{ closed }` (null when none was kept) or `{ error }`. */
  async close() {
    const current = await this.#current();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.delete(KEY);
    this.#session = null;
    if (!current) return { closed: null };
    try {
      return { closed: await current.session.close() };
    } catch (e) {
      return failed(e);
    }
  }
}
