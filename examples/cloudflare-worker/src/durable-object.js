// The Durable Object variant: one SessionKeeper per workbook (the package's
// WorkbookSessionKeeper), whose alarm refreshes that workbook's session on
// its own schedule. Deploy with
//   npx wrangler deploy -c wrangler.durable-object.toml
//
// fetch:  POST   /keep {workbook, persistChanges?}  opens (or returns) the workbook's session
//         GET    /keep?workbook=…                    the session and its next alarm
//         DELETE /keep {workbook}                    closes it and cancels the alarm
//         Every route: `Authorization: Bearer {API_SECRET}` (else 401) and a workbook of
//         ALLOWED_WORKBOOKS (else 403): one object per allowed workbook, so the list bounds them.
// The user's refresh token (graph.js) is kept in each object's own storage.
import { WorkbookSessionKeeper } from "graph-workbook-session/cloudflare";
import { refuseCaller, refuseWorkbook } from "./access.js";
import { graph } from "./graph.js";

/**
 * The package's keeper (alarm-driven refresh, recreation, the session's
 * state in this object's storage, errors as GraphError.toJSON() data),
 * with this worker's token (graph.js) and refresh interval.
 */
export class SessionKeeper extends WorkbookSessionKeeper {
  callOptions() {
    return graph(this.env, this.ctx.storage);
  }

  /** ms between refreshes: 3 minutes unless REFRESH_INTERVAL_MS says otherwise. */
  intervalMs() {
    return Number(this.env.REFRESH_INTERVAL_MS ?? 180_000);
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
    if (request.method === "POST") result = await keeper.open({ workbook: body.workbook, persistChanges: body.persistChanges ?? true });
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
