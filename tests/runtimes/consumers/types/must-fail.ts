// Each line marked `// TSnnnn` must fail to compile with that error, and
// nothing else may fail: the test compares tsc's output with these marks.
import { createSession, refreshSession, refreshSessions, WorkbookSession, type GraphError } from "graph-workbook-session";

const workbook = "/me/drive/items/01ABC";
const accessToken = "eyJ0";

export async function wrong(e: GraphError, session: WorkbookSession): Promise<void> {
  await refreshSession({ workbook, accessToken, sessionID: "x" }); // TS2561
  await refreshSession({ workbook, accessToken }); // TS2345
  await createSession({ workbook, accessToken, persistChanges: "yes" }); // TS2322
  await createSession({ workbook, accessToken, timeoutMs: "30000" }); // TS2322
  await createSession({ workbook, accessToken: 42 }); // TS2322
  await createSession({ workbook, accessToken, baseURL: "https://graph.microsoft.com/v1.0" }); // TS2561
  await refreshSessions([{ workbook }], { accessToken }); // TS2741
  await refreshSessions([{ workbook, sessionId: "s" }], { workbook, accessToken }); // TS2353
  session.keepAlive({ interval: 1000 }); // TS2561
  session.keepAlive({ onRefresh: (r: string) => r }); // TS2322
  if (session.state === "expired") return; // TS2367
  const id: number = e.requestId; // TS2322
  const recreatable: string = e.recreatable; // TS2322
  new WorkbookSession(); // TS2673
  await session.fetch("/worksheets", { concurrent: "yes" }); // TS2322
  await session.fetch(42); // TS2345
  const r = await refreshSession({ workbook, accessToken, sessionId: "s" });
  r.status = "204"; // TS2322
  await refreshSession({ workbook, accessToken: { getToken: async () => "eyJ0" }, sessionId: "s" }); // TS2322
  await refreshSession({ workbook, accessToken, sessionId: "s", scopes: "User.Read" }); // TS2322
  await refreshSession({ workbook, accessToken, sessionId: "s", fetch: "https://proxy" }); // TS2322
  const code: number = e.code; // TS2322
  using sync = WorkbookSession.attach({ workbook, accessToken, sessionId: "s" }); // TS2850
  await session.fetch("/worksheets", { mode: "no-cors" }); // TS2353
  await session.fetch("/worksheets", { credentials: "include" }); // TS2353
  const n: number = await session.json<string>("/worksheets"); // TS2322
  const token: string = session.toJSON().accessToken; // TS2339
  console.log(sync, n, token);
  console.log(code);
  console.log(id, recreatable);
}
