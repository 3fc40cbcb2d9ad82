// A Cloudflare Worker typed with @cloudflare/workers-types only: no DOM
// lib. Compiles with `tsc -p tsconfig.workers.json` (strict, skipLibCheck
// false); never runs.
import { refreshSessions, WorkbookSession, GraphError, type RefreshResult } from "graph-workbook-session";

interface Env {
  GRAPH_TOKEN: string;
  /** A service binding in front of Graph. */
  GRAPH_PROXY: Fetcher;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const { workbook, sessionId } = await request.json<{ workbook: string; sessionId: string }>();
    const fetch = (url: string, init: RequestInit) => env.GRAPH_PROXY.fetch(url, init);
    const [result] = await refreshSessions([{ workbook, sessionId }], { accessToken: env.GRAPH_TOKEN, fetch });
    if (result instanceof GraphError) return Response.json(result.toJSON(), { status: 502 });
    const ok: RefreshResult | undefined = result;
    // No `await using` without lib esnext.disposable; the method is there.
    const session = WorkbookSession.attach({ workbook, sessionId, accessToken: () => env.GRAPH_TOKEN, fetch });
    ctx.waitUntil(session.refresh().then(() => session[Symbol.asyncDispose]()));
    return Response.json(ok);
  },
} satisfies ExportedHandler<Env>;
