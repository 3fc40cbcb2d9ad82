// graph-workbook-session/pool
import type { AccessTokenSource, GraphError, RefreshResult, WorkbookSession } from "./index.js";

export interface SessionPoolOptions {
  accessToken: AccessTokenSource;
  scopes?: string[];
  baseUrl?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  maxRetries?: number;
  maxRetryAfterMs?: number;
  allowedHosts?: string[];
  /** Refresh interval per session, ±10 % jitter (default about 3 min persistent, 4 min non-persistent). */
  intervalMs?: number;
  /** Refreshes due within this many ms go out together (default a tenth of the interval). */
  windowMs?: number;
  /** An expired session (recreatable) is replaced by a new one (`onRecreated`) instead of dropped (`onLost`). */
  recreate?: boolean;
  onRefresh?: (session: WorkbookSession, result: RefreshResult) => void;
  onError?: (session: WorkbookSession, error: GraphError) => void;
  onLost?: (session: WorkbookSession, error: GraphError) => void;
  onRecreated?: (previous: WorkbookSession, session: WorkbookSession) => void;
}

/** Keeps many sessions alive through `$batch` (20 per request, one batch per workbook at a time). */
export declare class SessionPool {
  constructor(options: SessionPoolOptions);
  /** Sessions the pool keeps alive. */
  readonly size: number;
  /** Creates a session with the pool's call options and keeps it alive. */
  create(options: { workbook: string; persistChanges?: boolean; signal?: AbortSignal }): Promise<WorkbookSession>;
  /** Attaches to an existing session and keeps it alive. */
  attach(options: { workbook: string; sessionId: string; persistChanges?: boolean }): WorkbookSession;
  /** Stops keeping `session` alive (it stays open); true when the pool held it. */
  delete(session: WorkbookSession): boolean;
  /** Stops every refresh and timer; the sessions stay open. */
  stop(): void;
  /** Stops, then closes every session. */
  close(): Promise<void>;
}
