// A strict TypeScript consumer using every export of graph-workbook-session.
// Compiles with `tsc --noEmit --strict` (tsconfig.*.json); never runs.
import init, {
  initSync,
  refreshSession,
  createSession,
  closeSession,
  refreshSessions,
  WorkbookSession,
  GraphError,
  isGraphError,
  type AccessTokenSource,
  type FetchFunction,
  type GraphErrorJSON,
  type KeepAliveNext,
  type AttachSessionOptions,
  type BatchItem,
  type BatchOptions,
  type CallOptions,
  type CreateSessionOptions,
  type InitInput,
  type InitOutput,
  type KeepAliveOptions,
  type LocalErrorCode,
  type RecreatedEvent,
  type RefreshResult,
  type SavedSession,
  type SessionFetchInit,
  type SessionInfo,
  type SessionOptions,
  type SessionState,
  type SessionEvent,
  type SyncInitInput,
} from "graph-workbook-session";
import manualInit, { initSync as manualInitSync, refreshSession as manualRefresh } from "graph-workbook-session/manual";

// ---- type-level checks ---------------------------------------------------
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
type IsAny<T> = 0 extends 1 & T ? true : false;
/** Keys of T whose type is `any` (never when there is none). */
type AnyKeys<T> = { [K in keyof T]-?: IsAny<T[K]> extends true ? K : never }[keyof T];
type NoAny<T> = Equal<AnyKeys<T>, never>;

export type Checks = [
  Assert<Equal<Parameters<typeof refreshSession>, [options: SessionOptions]>>,
  Assert<Equal<ReturnType<typeof refreshSession>, Promise<RefreshResult>>>,
  Assert<Equal<ReturnType<typeof closeSession>, Promise<RefreshResult>>>,
  Assert<Equal<Parameters<typeof createSession>, [options: CreateSessionOptions]>>,
  Assert<Equal<ReturnType<typeof createSession>, Promise<SessionInfo>>>,
  Assert<Equal<Parameters<typeof refreshSessions>, [items: BatchItem[], options: BatchOptions]>>,
  Assert<Equal<ReturnType<typeof refreshSessions>, Promise<Array<RefreshResult | GraphError>>>>,
  Assert<Equal<ReturnType<typeof WorkbookSession.create>, Promise<WorkbookSession>>>,
  Assert<Equal<ReturnType<typeof WorkbookSession.attach>, WorkbookSession>>,
  Assert<Equal<WorkbookSession["state"], SessionState>>,
  Assert<Equal<SessionState, "active" | "lost" | "closed">>,
  Assert<Equal<WorkbookSession["id"], string>>,
  Assert<Equal<WorkbookSession["persistChanges"], boolean>>,
  Assert<Equal<ReturnType<WorkbookSession["refresh"]>, Promise<RefreshResult>>>,
  Assert<Equal<ReturnType<WorkbookSession["close"]>, Promise<RefreshResult | null>>>,
  Assert<Equal<Parameters<WorkbookSession["keepAlive"]>, [options?: KeepAliveOptions]>>,
  Assert<Equal<ReturnType<WorkbookSession["fetch"]>, Promise<Response>>>,
  Assert<Equal<ReturnType<WorkbookSession["toJSON"]>, SavedSession>>,
  Assert<Equal<SavedSession, { workbook: string; sessionId: string; persistChanges: boolean; baseUrl: string }>>,
  Assert<Equal<WorkbookSession["workbook"], string>>,
  Assert<Equal<WorkbookSession["baseUrl"], string>>,
  Assert<Equal<Parameters<WorkbookSession["json"]>, [path: string, init?: SessionFetchInit]>>,
  Assert<Equal<Parameters<WorkbookSession["fetch"]>, [path: string, init?: SessionFetchInit]>>,
  Assert<Equal<SessionFetchInit["concurrent"], boolean | undefined>>,
  Assert<Equal<SessionFetchInit["recreate"], boolean | undefined>>,
  Assert<Equal<GraphError["stateLost"], boolean | undefined>>,
  Assert<Equal<ReturnType<typeof init>, Promise<InitOutput>>>,
  Assert<Equal<ReturnType<typeof initSync>, InitOutput>>,
  Assert<Equal<typeof manualInit, typeof init>>,
  Assert<Equal<typeof manualInitSync, typeof initSync>>,
  Assert<Equal<typeof manualRefresh, typeof refreshSession>>,
  Assert<Equal<BatchOptions, Omit<CallOptions, "workbook">>>,
  Assert<Equal<GraphError["name"], "GraphError">>,
  Assert<Equal<GraphError["innerCode"], string | null>>,
  Assert<Equal<GraphError["status"], number>>,
  Assert<Equal<GraphError["requestId"], string | null>>,
  Assert<Equal<GraphError["clientRequestId"], string | null>>,
  Assert<Equal<GraphError["retryAfterMs"], number | null>>,
  Assert<Equal<GraphError["attempts"], number>>,
  Assert<Equal<GraphError["recreatable"], boolean>>,
  Assert<Equal<GraphError["innerCodes"], string[]>>,
  Assert<Equal<ReturnType<GraphError["toJSON"]>, GraphErrorJSON>>,
  Assert<Equal<ReturnType<typeof GraphError.fromJSON>, GraphError>>,
  Assert<Equal<Parameters<typeof GraphError.fromJSON>, [json: Partial<GraphErrorJSON> | string]>>,
  Assert<Equal<ReturnType<WorkbookSession[typeof Symbol.asyncDispose]>, Promise<void>>>,
  Assert<Equal<Parameters<NonNullable<KeepAliveOptions["onError"]>>, [error: GraphError, next: KeepAliveNext]>>,
  Assert<Equal<CallOptions["fetch"], FetchFunction | undefined>>,
  Assert<Equal<CallOptions["scopes"], string[] | undefined>>,
  Assert<NoAny<GraphErrorJSON>>, Assert<NoAny<KeepAliveNext>>,
  Assert<Equal<RefreshResult, { status: number; requestId: string | null; clientRequestId: string; attempts: number; elapsedMs: number }>>,
  Assert<Equal<Extract<LocalErrorCode, "invalidArgument" | "timeout" | "aborted">, "invalidArgument" | "timeout" | "aborted">>,
  // No `any` anywhere in the public surface.
  Assert<NoAny<CallOptions>>, Assert<NoAny<SessionOptions>>, Assert<NoAny<CreateSessionOptions>>,
  Assert<NoAny<AttachSessionOptions>>, Assert<NoAny<RefreshResult>>, Assert<NoAny<GraphError>>,
  Assert<NoAny<SessionInfo>>, Assert<NoAny<KeepAliveOptions>>, Assert<NoAny<RecreatedEvent>>,
  Assert<NoAny<BatchItem>>, Assert<NoAny<InitOutput>>, Assert<NoAny<WorkbookSession>>,
  Assert<NoAny<typeof WorkbookSession>>,
  Assert<Equal<IsAny<AccessTokenSource>, false>>, Assert<Equal<IsAny<InitInput>, false>>, Assert<Equal<IsAny<SyncInitInput>, false>>,
];

// ---- value-level use -------------------------------------------------------
const graph = { workbook: "/me/drive/items/01ABC", baseUrl: "https://graph.microsoft.com/v1.0" } as const;
// Every token source Graph users have: a string, a function, the Graph SDK's
// AuthenticationProvider, an @azure/identity TokenCredential (shaped as
// DefaultAzureCredential's getToken), a Kiota AccessTokenProvider.
const credential = {
  async getToken(scopes: string | string[], options?: { abortSignal?: AbortSignal; tenantId?: string }) {
    console.log(scopes, options?.abortSignal?.aborted);
    return { token: "eyJ0", expiresOnTimestamp: Date.now() + 3_600_000, tokenType: "Bearer" as const };
  },
};
const kiota = {
  getAuthorizationToken: async (url?: string, context?: Record<string, unknown>) => `eyJ0${url ?? ""}${context ? "" : ""}`,
  getAllowedHostsValidator: () => ({ isUrlHostValid: (url: string) => url.length > 0 }),
};
const tokens: AccessTokenSource[] = [
  "eyJ0",
  () => "eyJ0",
  async () => "eyJ0",
  { getAccessToken: async () => "eyJ0" },
  credential,
  { getToken: async () => null },
  kiota,
];
const viaProxy: FetchFunction = (url, init) => fetch(url, { ...init, headers: init.headers });

export async function everything(signal: AbortSignal, bytes: Uint8Array, module: WebAssembly.Module): Promise<void> {
  const exports: InitOutput = await init();
  exports.memory.grow(0);
  initSync({ module: bytes });
  initSync({ module });
  await init({ module_or_path: new URL("https://cdn.example/graph_workbook_session_bg.wasm") });
  await init({ module_or_path: fetch("/graph_workbook_session_bg.wasm") });

  const call: CallOptions = {
    ...graph,
    accessToken: tokens[1]!,
    signal,
    timeoutMs: 30_000,
    maxRetries: 3,
    clientRequestId: "b2f3c4d5-0000-4000-8000-000000000000",
    allowedHosts: ["graph.contoso.example"],
    scopes: ["https://graph.microsoft.com/.default"],
    fetch: viaProxy,
  };
  const globalFetch: CallOptions = { ...call, accessToken: tokens[4]!, fetch };
  console.log(globalFetch.fetch === fetch);
  const info: SessionInfo = await createSession({ ...call, persistChanges: false, preferAsync: true, createTimeoutMs: 60_000 });
  const refreshed: RefreshResult = await refreshSession({ ...call, sessionId: info.id });
  const status: number = refreshed.status;
  const requestId: string | null = refreshed.requestId;
  const closed = await closeSession({ ...call, sessionId: info.id });
  console.log(status, requestId, closed.elapsedMs.toFixed(0));

  const items: BatchItem[] = [{ workbook: graph.workbook, sessionId: info.id }];
  for (const r of await refreshSessions(items, { accessToken: "eyJ0", maxRetries: 0 })) {
    if (r instanceof Error) console.log(r.code, r.innerCode, r.recreatable);
    else console.log(r.status, r.attempts);
  }

  try {
    await refreshSession({ ...call, sessionId: "gone" });
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    const err: GraphError = e;
    const json: GraphErrorJSON = err.toJSON();
    const back: GraphError = GraphError.fromJSON(json);
    console.log(back.code, GraphError.fromJSON(JSON.stringify(json)).status);
    const cause: unknown = err.cause;
    console.log(json.innerCodes, cause, isGraphError(e), new GraphError("x", { code: "timeout" }, { cause: e }).code);
    if (err.name === "GraphError" && err.recreatable) await createSession(call);
    const code: LocalErrorCode | string = err.code;
    const retry: number | null = err.retryAfterMs;
    const date: string | null = err.date;
    console.log(code, retry, date, err.message, err.stack, err.attempts, err.status, err.requestId, err.clientRequestId);
  }

  const session: WorkbookSession = await WorkbookSession.create({ ...call, persistChanges: true });
  const keep: KeepAliveOptions = {
    intervalMs: 180_000,
    recreate: true,
    onRefresh: (r: RefreshResult) => console.log(r.status),
    onError: (e: GraphError, next: KeepAliveNext) => console.log(e.code, next.willRetry, next.retryInMs),
    onLost: (e: GraphError) => console.log(e.innerCode),
    onRecreated: (ev: RecreatedEvent) => console.log(ev.previousId, ev.id, ev.stateLost),
  };
  session.keepAlive(keep);
  session.keepAlive();
  const state: SessionState = session.state;
  const last: number | undefined = session.lastRefreshedAt;
  console.log(session.id, session.persistChanges, state, last);
  await session.refresh();
  const range = "/worksheets('Sheet1')/range(address='A1')";
  const written: Response = await session.fetch(range, { method: "PATCH", body: JSON.stringify({ values: [[1]] }) });
  const read = await session.fetch(range, { concurrent: true, recreate: true, signal: AbortSignal.timeout(5000) });
  console.log(written.status, (await read.json()) as unknown);
  await session.fetch(range, { method: "PATCH", json: { values: [[2]] }, cache: "no-store", keepalive: false });
  const cell = await session.json<{ values: unknown[][] }>(range, { priority: "high" });
  const values: unknown[][] = cell.values;
  const none: unknown = await session.json(range, { method: "PATCH", json: { values: [[3]] } });
  console.log(values, none, session.workbook, session.baseUrl);
  const saved: SavedSession = JSON.parse(JSON.stringify(session)) as SavedSession;
  const resumed = WorkbookSession.attach({ ...saved, accessToken: "eyJ0" });
  console.log(resumed.toJSON().sessionId);
  session.stop();
  const closedOrNull: RefreshResult | null = await session.close();
  console.log(closedOrNull?.status);
  session.free();

  const attach: AttachSessionOptions = { ...call, sessionId: info.id, persistChanges: false };
  const attached = WorkbookSession.attach(attach); // no `using`: there is no synchronous dispose
  console.log(attached.state);
  await using disposed = await WorkbookSession.create(call);
  console.log(disposed.id);
  const u: unknown = null;
  if (isGraphError(u)) console.log(u.innerCode);
}

// ---- onEvent (issue 23) ----------------------------------------------------
const onEvent = (e: SessionEvent): void => {
  if (e.type === "retry") {
    const reason: "cooldown" | "backoff" | "tokenRenewal" = e.reason;
    const delay: number = e.delayMs;
    void reason, delay;
  } else if (e.type === "response") {
    const id: string | null = e.requestId;
    const status: number = e.status;
    void id, status;
  } else if (e.type === "recreated") {
    const ids: [string, string] = [e.previousId, e.id];
    void ids;
  } else if (e.type === "lost") {
    const err: GraphError = e.error;
    void err;
  }
};
void refreshSession({ workbook: "/me/drive/items/1", accessToken: "t", sessionId: "s", onEvent });
void WorkbookSession.attach({ workbook: "/me/drive/items/1", accessToken: "t", sessionId: "s", onEvent });
// @ts-expect-error an event's type is one of five
const notAnEvent: SessionEvent = { type: "sent", method: "GET", url: "u", attempt: 1 };
void notAnEvent;
