// A Node service typed with @types/node only: no DOM lib. Compiles with
// `tsc -p tsconfig.node.json` (strict, skipLibCheck false); never runs.
import { refreshSession, createSession, WorkbookSession, GraphError, isGraphError, type CallOptions } from "graph-workbook-session";

// @azure/identity's DefaultAzureCredential, by shape.
const credential = {
  async getToken(scopes: string | string[], options?: { abortSignal?: AbortSignal }) {
    console.log(scopes, options?.abortSignal?.aborted);
    return { token: "eyJ0", expiresOnTimestamp: Date.now() + 3_600_000 };
  },
};

export async function service(signal: AbortSignal): Promise<number> {
  const call: CallOptions = {
    workbook: "/drives/b!x/items/01ABC",
    accessToken: credential,
    scopes: ["https://graph.microsoft.com/.default"],
    // Node's own fetch, wrapped (a proxy agent would go here).
    fetch: (url, init) => fetch(url, init),
    signal,
  };
  const { id } = await createSession(call);
  try {
    return (await refreshSession({ ...call, sessionId: id })).status;
  } catch (e) {
    if (e instanceof GraphError && e.code === "tokenProvider") console.error(e.cause, e.toJSON());
    if (isGraphError(e)) return e.status;
    throw e;
  } finally {
    await using session = WorkbookSession.attach({ ...call, sessionId: id });
    session.keepAlive({ onError: (e, next) => console.log(e.code, next.willRetry), signal });
  }
}
