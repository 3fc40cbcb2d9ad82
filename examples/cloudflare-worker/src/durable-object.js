// The Durable Object variant: one SessionKeeper per workbook, whose alarm
// refreshes that workbook's session on its own schedule. Deploy with
//   npx wrangler deploy -c wrangler.durable-object.toml
//
// fetch:  POST   /keep {workbook, persistChanges?}  opens (or returns) the workbook's session
//         GET    /keep?workbook=…                    the session and its next alarm
//         DELETE /keep {workbook}                    closes it and cancels the alarm
//         Every route: `Authorization: Bearer {API_SECRET}` (else 401) and a workbook of
//         ALLOWED_WORKBOOKS (else 403): one object per allowed workbook, so the list bounds them.
// The user's refresh token (graph.js) is kept in each object's own storage.
import { DurableObject } from "cloudflare:workers";
import { closeSession, createSession, refreshSession } from "graph-workbook-session";
import { refuseCaller, refuseWorkbook } from "./access.js";
import { graph, graphError, transient } from "./graph.js";

export class SessionKeeper extends DurableObject {
  /** Opens a session on `workbook` unless one is kept already; schedules the first refresh. */
  async open(workbook, persistChanges = true) {
    let kept = await this.ctx.storage.get("session");
    if (!kept) {
      try {
        const info = await createSession({ ...graph(this.env, this.ctx.storage), workbook, persistChanges });
        kept = { workbook, sessionId: info.id, persistChanges: info.persistChanges, refreshes: 0 };
      } catch (e) {
        return failed(e);
      }
      await this.ctx.storage.put("session", kept);
    }
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + interval(this.env));
    return { session: kept };
  }

  async status() {
    return { session: (await this.ctx.storage.get("session")) ?? null, alarm: await this.ctx.storage.getAlarm() };
  }

  /**
   * The alarm: refresh, re-create when Graph says so, schedule the next one.
   * The next alarm is armed in `finally`: a failed recreation or a throw
   * (a network outage, a token provider down) must not end keep-alive; only
   * close() or an unrecoverable error, which delete the stored session, do.
   */
  async alarm() {
    const kept = await this.ctx.storage.get("session");
    if (!kept) return;
    const { sessionId } = kept;
    const call = { ...graph(this.env, this.ctx.storage), workbook: kept.workbook };
    try {
      try {
        await refreshSession({ ...call, sessionId });
        kept.refreshes += 1;
      } catch (e) {
        if (e?.name !== "GraphError") throw e;
        if (e.recreatable) {
          const info = await createSession({ ...call, persistChanges: kept.persistChanges });
          Object.assign(kept, { sessionId: info.id, recreatedFrom: sessionId });
        } else if (!transient(e)) {
          await this.ctx.storage.delete("session"); // not recoverable: stop keeping it
          console.error(`stopped keeping ${kept.workbook}: ${e.message}`);
          return;
        }
        // Transient errors: the library already retried; try again at the next alarm.
      }
      // Other calls may run while this one waits on Graph: if close() did, do
      // not bring the session back (and close the one just re-created).
      if ((await this.ctx.storage.get("session"))?.sessionId !== sessionId) {
        if (kept.sessionId !== sessionId) await closeSession({ ...call, sessionId: kept.sessionId }).catch(() => {});
        return;
      }
      await this.ctx.storage.put("session", kept);
    } finally {
      // Re-armed whatever happened above, as long as the session is still kept.
      if (await this.ctx.storage.get("session")) await this.ctx.storage.setAlarm(Date.now() + interval(this.env));
    }
  }

  /** Cancels the alarm and closes the session. */
  async close() {
    const kept = await this.ctx.storage.get("session");
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.delete("session");
    if (!kept) return { closed: null };
    try {
      return { closed: await closeSession({ ...graph(this.env, this.ctx.storage), workbook: kept.workbook, sessionId: kept.sessionId }) };
    } catch (e) {
      return failed(e);
    }
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const refused = await refuseCaller(request, env);
    if (refused) return refused;
    if (url.pathname !== "/keep") return Response.json({ error: "not found" }, { status: 404 });
    const body = request.method === "GET" ? { workbook: url.searchParams.get("workbook") } : await request.json();
    const notAllowed = refuseWorkbook(body.workbook, env);
    if (notAllowed) return notAllowed;
    // One Durable Object per workbook, addressed by its path.
    const keeper = env.SESSION_KEEPER.get(env.SESSION_KEEPER.idFromName(body.workbook));
    let result;
    if (request.method === "POST") result = await keeper.open(body.workbook, body.persistChanges ?? true);
    else if (request.method === "GET") result = await keeper.status();
    else if (request.method === "DELETE") result = await keeper.close();
    else return Response.json({ error: "method not allowed" }, { status: 405 });
    if (result.error) {
      const e = result.error;
      return Response.json(e, { status: e.status || (e.code === "invalidArgument" ? 400 : 502) });
    }
    return Response.json(result, { status: request.method === "POST" ? 201 : 200 });
  },
};

/**
 * A GraphError as a return value: across the RPC hop from a Durable Object
 * an Error keeps its message but not its name or GraphError fields, so
 * failures travel as data.
 */
function failed(e) {
  if (e?.name !== "GraphError") throw e;
  return { error: graphError(e) };
}

/** ms between refreshes: 3 minutes unless REFRESH_INTERVAL_MS says otherwise. */
function interval(env) {
  return Number(env.REFRESH_INTERVAL_MS ?? 180_000);
}
