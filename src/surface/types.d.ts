/** An access token, or where to get one for each call. */
export type AccessToken =
  | string
  | (() => string | Promise<string>)
  | { getAccessToken(): Promise<string> };

/** Options every call shares. */
export interface CallOptions {
  /** Item path, unencoded: "/me/drive/items/{id}", "/me/drive/root:/Folder/Book 1.xlsx:" ... */
  workbook: string;
  /** A token, a function returning one (or a promise of one), or a Graph SDK AuthenticationProvider. */
  accessToken: AccessToken;
  /** Default "https://graph.microsoft.com/v1.0". http only to loopback. */
  baseUrl?: string;
  /** Cancels the call at once, including a backoff wait. */
  signal?: AbortSignal;
  /** Per attempt, integer 1..600000, default 30000. */
  timeoutMs?: number;
  /** Resends of what the Excel error policy says to resend after the cooldown
   * (429/503/504, tooManyRequestsUncategorized, transientFailure ...), network
   * errors and timeouts; integer 0..10, default 3. */
  maxRetries?: number;
  /** The longest `Retry-After` cooldown the call waits, integer 0..86400000,
   * default 180000. A cooldown is never cut short: a longer one ends the call
   * at once with the GraphError, its `retryAfterMs` as Graph sent it. */
  maxRetryAfterMs?: number;
  /** Default: a fresh UUID v4 per call, the same on its retries. */
  clientRequestId?: string;
  /** Hosts besides Graph's and loopback that may receive the token. */
  allowedHosts?: string[];
}

/** Options of refreshSession and closeSession. */
export interface SessionOptions extends CallOptions {
  /** The workbook-session-id. */
  sessionId: string;
}

/** A successful refreshSession or closeSession. */
export interface RefreshResult {
  /** 204; or 404 when a closeSession retry found the session already closed by an attempt whose answer was lost. */
  status: number;
  requestId: string | null;
  clientRequestId: string;
  attempts: number;
  elapsedMs: number;
}

/** The codes this library raises itself; Graph's own codes pass through. */
export type LocalErrorCode =
  | "invalidArgument" | "hostNotAllowed" | "insecureUrl" | "timeout"
  | "aborted" | "network" | "tokenProvider" | "invalidResponse";

/** createSession options. */
export interface CreateSessionOptions extends CallOptions {
  /** Default true. */
  persistChanges?: boolean;
  /** Send "Prefer: respond-async" (Graph may then answer 202 and a long-running operation). Default false. */
  preferAsync?: boolean;
  /** Deadline of the whole call, polling included; integer 1..1800000, default 240000. */
  createTimeoutMs?: number;
}

/** A session as Graph describes it. */
export interface SessionInfo {
  id: string;
  persistChanges: boolean;
}

/** WorkbookSession.attach options. */
export interface AttachSessionOptions extends CreateSessionOptions {
  sessionId: string;
  /** Default true. */
  persistChanges?: boolean;
}

export type SessionState = "active" | "lost" | "closed";

/** Passed to onRecreated. stateLost is true when the old session was non-persistent: its uncommitted changes are gone. */
export interface RecreatedEvent {
  previousId: string;
  id: string;
  stateLost: boolean;
}

/** WorkbookSession.keepAlive options. */
export interface KeepAliveOptions {
  /** Mean ms between refreshes (±10 % jitter); integer 50..86400000; default 180000 (persistent) or 240000. */
  intervalMs?: number;
  /** Recreate the session on invalidSessionReCreatable. Default false: the session turns "lost". */
  recreate?: boolean;
  onRefresh?: (result: RefreshResult) => void;
  /** A refresh failed and the session is still active (keep-alive goes on after transient errors, stops after others). */
  onError?: (error: GraphError) => void;
  onLost?: (error: GraphError) => void;
  onRecreated?: (event: RecreatedEvent) => void;
}

/** One session of a refreshSessions batch. */
export interface BatchItem {
  workbook: string;
  sessionId: string;
}

/** refreshSessions options: the shared ones, without workbook (each item has its own). */
export type BatchOptions = Omit<CallOptions, "workbook">;

/** Every rejection: an Error with name "GraphError". Check `e.name === "GraphError"`. */
export interface GraphError extends Error {
  name: "GraphError";
  /** Graph's top-level code (e.g. "itemNotFound") or a LocalErrorCode. */
  code: LocalErrorCode | (string & {});
  /** The second-level code (`error.innerError.code`) as Graph sent it, e.g.
   * "invalidSessionReCreatable": the one Graph's error-handling doc says to act
   * on. Compare case-insensitively. */
  innerCode: string | null;
  /** Every nested innerError code, outermost first, the top-level code
   * excluded, e.g. ["internalServerErrorUncategorized", "GenericFileOpenError"]. */
  innerCodes: string[];
  /** HTTP status, 0 when no answer came. */
  status: number;
  requestId: string | null;
  clientRequestId: string | null;
  /** The server's Retry-After (cooldown) in ms, exactly as it sent it. */
  retryAfterMs: number | null;
  /** Requests sent (0 when the call failed before sending). */
  attempts: number;
  /** True when innerCode is invalidSessionReCreatable (any case): create a new session and go on. */
  recreatable: boolean;
  /** Graph's innerError.date, when given. */
  date: string | null;
}

/** The `init` of `WorkbookSession.fetch`: a `RequestInit`, plus: */
export type SessionFetchInit = RequestInit & {
  /** Send at once instead of waiting for this session's earlier `fetch` calls
   * to be answered. Default false: one request at a time per session, in call
   * order, as Graph's best-practice doc asks for a workbook. */
  concurrent?: boolean;
  /** Recreate an expired persistent session (`invalidSessionReCreatable`) and
   * resend once. Default: keep-alive's `recreate` setting (false without
   * keep-alive). A non-persistent session is never recreated by `fetch`: its
   * expiry rejects with `stateLost: true`. */
  recreate?: boolean;
};

export interface GraphError {
  /** `WorkbookSession.fetch` only: true when the session was non-persistent
   * and Graph ended it (`recreatable`): its uncommitted changes are gone, so
   * the request was not resent on a new session. */
  stateLost?: boolean;
}
