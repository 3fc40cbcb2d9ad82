// graph-workbook-session/testing: a fake Microsoft Graph for your tests,
// the repository's emulator compiled to wasm, answering in-process.

/** `createTestGraph`'s options. */
export interface TestGraphOptions {
  /** The item paths it holds (e.g. "/me/drive/items/01ABC"); a request on any other answers 404 `itemNotFound`. Default: every item path is a workbook with an empty Sheet1. */
  workbooks?: string[];
  /** Idle expiry of a persistent session, ms (default 300000, as Graph's). */
  persistentTtlMs?: number;
  /** Idle expiry of a non-persistent session, ms (default 420000, as Graph's). */
  nonPersistentTtlMs?: number;
  /** How long a `Prefer: respond-async` createSession runs before its operation succeeds, ms. Default 0: 201 at once. */
  operationDelayMs?: number;
  /** The only bearer token accepted (401 otherwise). Default: any non-empty token. */
  token?: string;
  /** An expired session's 404 carries the second-level code `invalidSessionReCreatable` (default false: a plain 404, as Graph promises). */
  recreatable404?: boolean;
}

/** A scripted fault: the next matching request(s) get this answer instead (the emulator's FaultSpec). */
export interface TestGraphFault {
  /** Match only this operation. */
  operation?: "createSession" | "refreshSession" | "closeSession" | "operation" | "sessionInfo" | "batch" | "worksheets" | "range" | "names";
  /** Match only paths containing this. */
  pathContains?: string;
  /** Status (default 503). */
  status?: number;
  /** Top-level error code (default: Graph's for the status). */
  code?: string;
  /** Second-level code (`error.innerError.code`), e.g. "invalidSessionReCreatable". */
  innerCode?: string;
  /** Deeper codes, outermost first. */
  innerCodes?: string[];
  /** `Retry-After` as sent (delta-seconds or an HTTP-date). */
  retryAfter?: string;
  /** The request's session ends when the fault fires. */
  endSession?: boolean;
  /** A redirect's `Location` (status defaults to 302). */
  location?: string;
  /** Wait this long first. */
  delayMs?: number;
  /** No answer: fetch rejects with a TypeError. */
  drop?: boolean;
  /** Status, headers and half the body, then the body stream errors. */
  dropMidResponse?: boolean;
  /** A raw body instead of Graph's error body. */
  body?: string;
  /** Its Content-Type. */
  contentType?: string;
  /** A body of this many filler bytes. */
  bodyBytes?: number;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** createSession: its operation (202 flow) ends `failed`, or a synchronous create fails. */
  operationFails?: boolean;
  /** How many matching requests it answers (default 1; 0: every one). */
  times?: number;
}

/** One logged request. */
export interface TestGraphRequest {
  seq: number;
  method: string;
  path: string;
  operation: string | null;
  sessionId: string | null;
  clientRequestId: string | null;
  retryAttempt: string | null;
  prefer: string | null;
  hasAuthorization: boolean;
  status: number;
  batch: boolean;
  fault: string | null;
  timeMs: number;
  [field: string]: unknown;
}

/** One live session. */
export interface TestGraphSession {
  id: string;
  item: string;
  persistChanges: boolean;
  createdAtMs: number;
  lastRefreshedAtMs: number;
  lastActivityAtMs: number;
  expiresAtMs: number;
  ttlMs: number;
  refreshCount: number;
}

/** A fake Graph: pass `fetch` to any call or to WorkbookSession. */
export interface TestGraph {
  /** A fetch that answers graph.microsoft.com (and the US Government hosts) in-process; any other host rejects. */
  fetch: typeof fetch;
  /** Every request answered, oldest first. */
  requests(): TestGraphRequest[];
  /** The live sessions. */
  sessions(): TestGraphSession[];
  /** Scripts a fault; returns its id. Throws on an invalid rule. */
  fail(rule: TestGraphFault): string;
  /** Ends a session now, as an idle expiry would; false when it was not live. */
  expire(sessionId: string): boolean;
  /** Forgets sessions, faults, workbook changes and the log. */
  reset(): void;
}

/** A fake Graph with the emulator's behaviour, no server, no network. */
export function createTestGraph(options?: TestGraphOptions): TestGraph;
