/**
 * Where the access token comes from, asked once per call (and once more
 * after a 401, for anything but a string):
 * - a string: the bearer token itself;
 * - a function returning a token or a promise of one (e.g. MSAL's
 *   `acquireTokenSilent(...).then(r => r.accessToken)`);
 * - a Microsoft Graph JS SDK `AuthenticationProvider` (`getAccessToken()`);
 * - an `@azure/identity` `TokenCredential` (`getToken(scopes, { abortSignal })`,
 *   e.g. `DefaultAzureCredential`), asked for {@link CallOptions.scopes};
 *   resolving to `null` fails the call with `tokenProvider`;
 * - a Kiota `AccessTokenProvider` (`getAuthorizationToken(url)`), given the
 *   URL of the request the token is for.
 *
 * What a function or provider throws or rejects with becomes the
 * {@link GraphError.cause} of the `tokenProvider` error (MSAL's
 * `InteractionRequiredAuthError` reaches you intact).
 */
export type AccessTokenSource =
  | string
  | (() => string | Promise<string>)
  | { getAccessToken(): Promise<string> }
  | {
      /** An `@azure/identity` TokenCredential's `getToken`. */
      getToken(
        scopes: string[],
        options?: { abortSignal?: AbortSignal },
      ): Promise<{ token: string; expiresOnTimestamp?: number } | null>;
    }
  | { getAuthorizationToken(url: string): Promise<string> };

/**
 * A `fetch` to send the requests with instead of the global one (a proxy,
 * a Cloudflare service binding's `fetch`, a test double). Called with the
 * absolute URL and a `RequestInit` (method, headers, body, `signal`,
 * `redirect: "manual"`); must resolve to a `Response`.
 */
export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

/** Options every call shares. */
export interface CallOptions {
  /** Item path, unencoded: "/me/drive/items/{id}", "/me/drive/root:/Folder/Book 1.xlsx:" ... */
  workbook: string;
  /** The token, or where to get one for each call: see {@link AccessTokenSource}. */
  accessToken: AccessTokenSource;
  /** The scopes a `TokenCredential` is asked for: 1 to 32 non-empty strings.
   * Default `["https://{graph host}/.default"]` for the host of `baseUrl`
   * (`graph.microsoft.com` for loopback and `allowedHosts`). Other token
   * sources ignore it. */
  scopes?: string[];
  /** Default "https://graph.microsoft.com/v1.0". http only to loopback. */
  baseUrl?: string;
  /** Sends every request of the call (createSession's polls, `$batch`, a
   * WorkbookSession's later refreshes and close) instead of the global
   * `fetch`. See {@link FetchFunction}. */
  fetch?: FetchFunction;
  /** Cancels the call at once, including a backoff wait. */
  signal?: AbortSignal;
  /** Per attempt, integer 1..600000, default 30000 (token acquisition included). */
  timeoutMs?: number;
  /** Resends of what the Excel error policy says to resend after the cooldown
   * (429/503/504, tooManyRequestsUncategorized, transientFailure ...), network
   * errors and timeouts; integer 0..10, default 3. The one resend after a
   * 401 with a fresh token is not counted. */
  maxRetries?: number;
  /** The longest `Retry-After` cooldown the call waits, integer 0..86400000,
   * default 180000. A cooldown is never cut short: a longer one ends the call
   * at once with the GraphError, its `retryAfterMs` as Graph sent it. */
  maxRetryAfterMs?: number;
  /** Default: a fresh UUID v4 per call, the same on its retries. */
  clientRequestId?: string;
  /** Hosts besides Graph's and loopback that may receive the token. */
  allowedHosts?: string[];
  /** Told what the call does, as it happens: each request sent, each answer,
   * each resend it schedules and why, and (a WorkbookSession's) each
   * recreation and loss. See {@link SessionEvent}. No event carries the
   * token, a header or a body. Called synchronously; a throw (or a rejected
   * promise) is reported (`reportError`, else `console.error`) and never
   * breaks the call. On `WorkbookSession.create`/`attach`, it hears every
   * request of the session (refreshes, keep-alive, `session.fetch`, the
   * recreation, close). */
  onEvent?: (event: SessionEvent) => void;
}

/** What {@link CallOptions.onEvent} is told. */
export type SessionEvent = RequestEvent | ResponseEvent | RetryEvent | RecreatedSessionEvent | LostEvent;

/** A request is being sent (attempt 1, or a resend). */
export interface RequestEvent {
  type: "request";
  /** "POST", "GET", "PATCH" ... */
  method: string;
  /** The request's URL (the token travels in a header, never here). */
  url: string;
  /** 1 for the first attempt. */
  attempt: number;
}

/** An attempt ended: Graph's answer, or none (`status` 0, `failure` says why). */
export interface ResponseEvent {
  type: "response";
  method: string;
  url: string;
  attempt: number;
  /** The HTTP status; 0 when no answer came. */
  status: number;
  /** Graph's `request-id`, when it sent one. */
  requestId: string | null;
  /** From sending to the answer's head. */
  elapsedMs: number;
  /** Why no answer came; null when one did. */
  failure: "network" | "timeout" | "redirect" | "aborted" | null;
}

/** The request will be sent again after `delayMs`. */
export interface RetryEvent {
  type: "retry";
  method: string;
  url: string;
  /** The attempt that failed. */
  attempt: number;
  delayMs: number;
  /** `cooldown`: Graph's `Retry-After`, waited out whole; `backoff`: none
   * was sent (exponential, jittered); `tokenRenewal`: a 401, sent again at
   * once with a fresh token. */
  reason: "cooldown" | "backoff" | "tokenRenewal";
}

/** A WorkbookSession's session expired and was replaced (as onRecreated). */
export interface RecreatedSessionEvent extends RecreatedEvent {
  type: "recreated";
}

/** A WorkbookSession turned "lost" (as onLost). */
export interface LostEvent {
  type: "lost";
  error: GraphError;
}

/** Options of refreshSession and closeSession. */
export interface SessionOptions extends CallOptions {
  /** The `workbook-session-id` (the `id` createSession gave). */
  sessionId: string;
}

/** A successful refreshSession or closeSession. */
export interface RefreshResult {
  /** 204; or 404 when a closeSession retry found the session already closed by an attempt whose answer was lost. */
  status: number;
  /** Graph's `request-id` of the answer, for support cases. */
  requestId: string | null;
  /** The `client-request-id` sent (the same on every attempt). */
  clientRequestId: string;
  /** Requests sent, resends included. */
  attempts: number;
  /** Wall time of the whole call, token acquisition and waits included. */
  elapsedMs: number;
}

/** The codes this library raises itself; Graph's own codes pass through. */
export type LocalErrorCode =
  | "invalidArgument" | "hostNotAllowed" | "insecureUrl" | "timeout"
  | "aborted" | "network" | "tokenProvider" | "invalidResponse";

/** createSession options. */
export interface CreateSessionOptions extends CallOptions {
  /** Whether the session's changes are saved to the workbook. Default true. */
  persistChanges?: boolean;
  /** Send "Prefer: respond-async" (Graph may then answer 202 and a long-running operation), as workbook-best-practice.md recommends. Default true. */
  preferAsync?: boolean;
  /** Deadline of the whole call, polling included; integer 1..1800000, default 240000. */
  createTimeoutMs?: number;
  /** Longest wait between two polls of the operation when Graph sends no Retry-After (the doc's "around 30 seconds"); polls start near 1 s and grow to it; never less than 1 s apart. Integer 1000..1800000, default 30000. */
  pollIntervalMs?: number;
}

/** A session as Graph describes it. */
export interface SessionInfo {
  /** The `workbook-session-id`. */
  id: string;
  /** Whether the session's changes are saved to the workbook. */
  persistChanges: boolean;
}

/** WorkbookSession.attach options. */
export interface AttachSessionOptions extends CreateSessionOptions {
  /** The `workbook-session-id` of the session to keep. */
  sessionId: string;
  /** Whether that session persists changes (used when it is recreated). Default true. */
  persistChanges?: boolean;
}

/** A WorkbookSession's state: `lost` once Graph forgot it and it was not recreated; `closed` after close(). */
export type SessionState = "active" | "lost" | "closed";

/** Passed to onRecreated. */
export interface RecreatedEvent {
  /** The id of the session that expired. */
  previousId: string;
  /** The id of the new session, now {@link WorkbookSession.id}. */
  id: string;
  /** True when the old session was non-persistent: its uncommitted changes are gone. */
  stateLost: boolean;
}

/** What keep-alive does after a failed refresh (the second argument of onError). */
export interface KeepAliveNext {
  /** Whether keep-alive will try again (false: it stopped). */
  willRetry: boolean;
  /** When, in ms from now (Graph's cooldown respected); null when it will not. */
  retryInMs: number | null;
}

/** WorkbookSession.keepAlive options. */
export interface KeepAliveOptions {
  /** Mean ms between refreshes (±10 % jitter); integer 50..86400000; default 180000 (persistent) or 240000. */
  intervalMs?: number;
  /** Recreate the session on invalidSessionReCreatable. Default false: the session turns "lost". */
  recreate?: boolean;
  /** Stops keep-alive, as `stop()` does. */
  signal?: AbortSignal;
  /** After each successful refresh. May call any method of the session;
   * a throw (or a rejected promise) does not stop keep-alive. */
  onRefresh?: (result: RefreshResult) => void;
  /** A refresh failed and the session is still active: keep-alive goes on
   * after transient errors (network, timeout, 429, 5xx, a token provider's
   * failure, a 401 with a token source that renews) and stops after others
   * (`next.willRetry`). */
  onError?: (error: GraphError, next: KeepAliveNext) => void;
  /** Graph forgot the session and it was not (or could not be) recreated:
   * the state is now "lost" and keep-alive has stopped. */
  onLost?: (error: GraphError) => void;
  /** The session expired and a new one replaced it (`recreate: true`). */
  onRecreated?: (event: RecreatedEvent) => void;
}

/** One session of a refreshSessions batch. */
export interface BatchItem {
  /** Item path, unencoded, as in {@link CallOptions.workbook}. */
  workbook: string;
  /** Its `workbook-session-id`. */
  sessionId: string;
}

/** refreshSessions options: the shared ones, without workbook (each item has its own). */
export type BatchOptions = Omit<CallOptions, "workbook">;

/** The documented fields of a {@link GraphError}, as `toJSON()` gives them. */
export interface GraphErrorJSON {
  /** Always "GraphError". */
  name: "GraphError";
  /** The operation, then what went wrong; never contains the token. */
  message: string;
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
  /** Graph's `request-id`, for support cases. */
  requestId: string | null;
  /** The call's `client-request-id`. */
  clientRequestId: string | null;
  /** The server's Retry-After (cooldown) in ms, exactly as it sent it. */
  retryAfterMs: number | null;
  /** Requests sent (0 when the call failed before sending). */
  attempts: number;
  /** The session is gone and a new one may be made: innerCode is invalidSessionReCreatable (any case), or a request in the session got a plain 404 (an expired session). Create a new session and go on. */
  recreatable: boolean;
  /** Graph's innerError.date, when given. */
  date: string | null;
  /** `WorkbookSession.fetch` only: see {@link GraphError}'s `stateLost`. */
  stateLost?: boolean;
}

/**
 * Every rejection of every call, and every error entry of refreshSessions:
 * `e instanceof GraphError` (or, across realms, {@link isGraphError}).
 * Its documented fields are {@link GraphErrorJSON}'s (merged in below).
 */
export class GraphError extends Error {
  /** Mostly for tests; the library builds its own. Missing fields take their "nothing known" value. */
  constructor(message: string, fields?: Partial<Omit<GraphErrorJSON, "name" | "message">>, options?: { cause?: unknown });
  /** Always "GraphError". */
  name: "GraphError";
  /** For `tokenProvider` errors: what the token function, provider or
   * credential threw or rejected with (an object; a thrown string is not
   * kept, as it may be the token). Absent otherwise. */
  cause?: unknown;
  /** The documented fields (not `cause`, not `stack`), for logs and HTTP answers. */
  toJSON(): GraphErrorJSON;
  /**
   * The inverse of `toJSON()`: a GraphError again (`instanceof` this class,
   * which every entry of the package shares), with the same message and
   * fields, after it crossed a Durable Object RPC, a `postMessage` or an
   * HTTP answer as JSON (the object or its text). Missing fields take their
   * "nothing known" value; `cause` and `stack` do not travel.
   */
  static fromJSON(json: Partial<GraphErrorJSON> | string): GraphError;
}

/** GraphError's fields: those of {@link GraphErrorJSON}, one declaration for both. */
export interface GraphError extends GraphErrorJSON {}

/** True for a GraphError, also one from another realm or another copy of the package (checked by name and shape). */
export function isGraphError(x: unknown): x is GraphError;

declare global {
  // `Symbol.dispose` and `Symbol.asyncDispose` for projects whose libs lack
  // them (ES2022 with @cloudflare/workers-types): WorkbookSession's
  // `[Symbol.asyncDispose]` is keyed by one (it has no `[Symbol.dispose]`).
  // As @types/node declares them; merges with lib.esnext.disposable.
  interface SymbolConstructor {
    /** The key of a synchronous disposer (`using`). */
    readonly dispose: unique symbol;
    /** The key of an asynchronous disposer (`await using`). */
    readonly asyncDispose: unique symbol;
  }
}

/** The `init` of `WorkbookSession.fetch` and `WorkbookSession.json`: the
 * fields of a `RequestInit` that make sense inside a session, plus `json`,
 * `concurrent` and `recreate`. Any other field (`mode`, `credentials`,
 * `redirect`, `referrer`, `integrity` ...) is refused with
 * `invalidArgument`, nothing sent; runtime-specific extras (undici's
 * `dispatcher`, Workers' `cf`) belong in the call's `fetch` option. */
export interface SessionFetchInit {
  /** Default "GET". */
  method?: string;
  /** Yours are kept; `Authorization`, `workbook-session-id` and
   * `Retry-Attempt` belong to the session and are refused. */
  headers?: RequestInit["headers"];
  /** Sent as given (a string starting with `{` or `[` gets
   * `Content-Type: application/json` unless you set one). A plain object or
   * array is serialized as JSON too; prefer `json` for values. A
   * `ReadableStream` is refused (a request may be resent). */
  body?: RequestInit["body"] | Record<string, unknown> | unknown[];
  /** Any JSON value, serialized as the body with
   * `Content-Type: application/json` (unless you set one); not with `body`. */
  json?: unknown;
  /** Ends the call, and its place in the session's line. */
  signal?: AbortSignal;
  /** Passed to `fetch`. */
  cache?: "default" | "no-store" | "reload" | "no-cache" | "force-cache" | "only-if-cached";
  /** Passed to `fetch`. */
  priority?: "high" | "low" | "auto";
  /** Passed to `fetch` (the request may outlive the page; bodies up to 64 KiB). */
  keepalive?: boolean;
  /** Send at once instead of waiting for this session's earlier `fetch` calls
   * to be answered. Default false: one request at a time per session, in call
   * order, as Graph's best-practice doc asks for a workbook. */
  concurrent?: boolean;
  /** Recreate an expired persistent session (`invalidSessionReCreatable`) and
   * resend once. Default: keep-alive's `recreate` setting (false without
   * keep-alive). A non-persistent session is never recreated by `fetch`: its
   * expiry rejects with `stateLost: true`. */
  recreate?: boolean;
}

/** What `session.toJSON()` (and `JSON.stringify(session)`) gives: enough to
 * resume the session with `WorkbookSession.attach({ ...saved, accessToken })`.
 * Never the token; `allowedHosts`, `fetch` and the other options are given
 * to `attach` again. */
export interface SavedSession {
  /** The item path, as given to `create` or `attach`. */
  workbook: string;
  /** The current `workbook-session-id`. */
  sessionId: string;
  /** Whether the session persists changes. */
  persistChanges: boolean;
  /** The Graph root, e.g. "https://graph.microsoft.com/v1.0". */
  baseUrl: string;
}

export interface GraphError {
  /** `WorkbookSession.fetch` and `json` only: true when the session was non-persistent
   * and Graph ended it (`recreatable`): its uncommitted changes are gone, so
   * the request was not resent on a new session. */
  stateLost?: boolean;
}
