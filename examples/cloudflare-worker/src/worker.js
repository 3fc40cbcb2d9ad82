// Keeps Microsoft Graph workbook sessions alive from a Cloudflare Worker.
//
// * fetch:     POST /sessions {workbook}            creates a session and remembers it
//              GET  /sessions                       lists the remembered sessions
//              POST /refresh {workbook, sessionId}  refreshes one session now (per request)
//              DELETE /sessions {workbook, sessionId} closes a remembered session and forgets it
//              Every route: `Authorization: Bearer {API_SECRET}` (else 401), a workbook of
//              ALLOWED_WORKBOOKS (else 403), at most MAX_SESSIONS kept (else 409).
// * scheduled: the Cron Trigger in wrangler.toml refreshes every remembered
//              session through one $batch call per 20 sessions, and replaces
//              those Graph says are gone but re-creatable.
//
// A Worker holds no timers between invocations (see README.md), so the
// keep-alive clock is the Cron Trigger, not WorkbookSession.keepAlive.
import { createSession, closeSession, refreshSession, refreshSessions } from "graph-workbook-session";
import { maxSessions, refuseCaller, refuseWorkbook } from "./access.js";
import { graph, graphError, transient } from "./graph.js";

const KEY = "sessions";

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const refused = await refuseCaller(request, env);
    if (refused) return refused;
    try {
      if (url.pathname === "/sessions" && request.method === "GET") {
        return json(await load(env));
      }
      const methods = { "/sessions": ["POST", "DELETE"], "/refresh": ["POST"] }[url.pathname];
      if (!methods) return json({ error: "not found" }, 404);
      if (!methods.includes(request.method)) return json({ error: "method not allowed" }, 405);
      const { workbook, sessionId, persistChanges = true } = await request.json();
      const notAllowed = refuseWorkbook(workbook, env);
      if (notAllowed) return notAllowed;
      const list = await load(env);
      if (url.pathname === "/sessions" && request.method === "POST") {
        // One session per workbook, and a bounded list.
        const kept = list.find((s) => s.workbook === workbook);
        if (kept) return json({ id: kept.sessionId, persistChanges: kept.persistChanges });
        if (list.length >= maxSessions(env)) return json({ error: "tooManySessions", max: maxSessions(env) }, 409);
        const session = await createSession({ ...graph(env, env.SESSIONS), workbook, persistChanges });
        list.push({ workbook, sessionId: session.id, persistChanges: session.persistChanges });
        await save(env, list);
        return json(session, 201);
      }
      if (url.pathname === "/refresh" && request.method === "POST") {
        return json(await refreshSession({ ...graph(env, env.SESSIONS), workbook, sessionId }));
      }
      if (url.pathname === "/sessions" && request.method === "DELETE") {
        // Only what this worker opened: never a session id someone names.
        if (!list.some((s) => s.workbook === workbook && s.sessionId === sessionId)) return json({ error: "unknownSession" }, 404);
        const closed = await closeSession({ ...graph(env, env.SESSIONS), workbook, sessionId });
        await save(env, (await load(env)).filter((s) => s.sessionId !== sessionId));
        return json(closed);
      }
    } catch (e) {
      if (e?.name !== "GraphError") throw e;
      // Local errors have status 0: a bad request from our caller, or no answer from Graph.
      return json(graphError(e), e.status || (e.code === "invalidArgument" ? 400 : 502));
    }
  },

  async scheduled(controller, env, ctx) {
    const list = await load(env);
    if (list.length === 0) return;
    const results = await refreshSessions(
      list.map(({ workbook, sessionId }) => ({ workbook, sessionId })),
      { ...graph(env, env.SESSIONS), signal: AbortSignal.timeout(25_000) },
    );
    const kept = [];
    for (const [i, result] of results.entries()) {
      const entry = list[i];
      if (!(result instanceof Error)) {
        kept.push(entry);
      } else if (result.recreatable) {
        // Expired or closed elsewhere: open a new one on the same workbook.
        try {
          const session = await createSession({ ...graph(env, env.SESSIONS), workbook: entry.workbook, persistChanges: entry.persistChanges });
          kept.push({ ...entry, sessionId: session.id, recreatedFrom: entry.sessionId });
        } catch (e) {
          console.error(`could not re-create a session on ${entry.workbook}: ${e.message}`);
          kept.push(entry); // try again at the next trigger
        }
      } else if (transient(result)) {
        kept.push(entry); // transient: try again at the next trigger
      } else {
        console.error(`dropping ${entry.workbook}: ${result.message}`);
      }
    }
    await save(env, kept);
  },
};

async function load(env) {
  return (await env.SESSIONS.get(KEY, "json")) ?? [];
}

async function save(env, list) {
  await env.SESSIONS.put(KEY, JSON.stringify(list));
}

function json(body, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
