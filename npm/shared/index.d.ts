// graph-workbook-session/shared: one Graph session per workbook for every
// page, task pane and worker of one origin (Web Locks + BroadcastChannel).
import type { CreateSessionOptions, RefreshResult, SessionFetchInit } from "../index.js";

export interface SharedSessionChange {
  /** The current session id (null when none was ever opened). */
  id: string | null;
  /** The id it replaced, for "recreated". */
  previousId: string | null;
  /** "created" (this context created it), "attached" (another context did), "recreated" or "lost". */
  reason: "created" | "attached" | "recreated" | "lost";
}

export interface SharedWorkbookSessionOptions extends CreateSessionOptions {
  /** The keeper's refresh interval; default 180000 (persistent) or 240000 (non-persistent). */
  intervalMs?: number;
  /** Part of the lock and channel name: contexts share a session only when they pass the same `user`. */
  user?: string;
  /** A new id (created, attached, recreated) or a loss, in this context. */
  onChange?: (change: SharedSessionChange) => void;
}

export declare class SharedWorkbookSession {
  private constructor();
  /** Creates the workbook's session, or attaches to the one another context of this origin holds. */
  static open(options: SharedWorkbookSessionOptions): Promise<SharedWorkbookSession>;
  readonly id: string | null;
  readonly persistChanges: boolean;
  readonly state: "active" | "lost" | "closed";
  /** false when Web Locks or BroadcastChannel are missing: a session per context. */
  readonly shared: boolean;
  /** Why the session is not shared, or null. */
  readonly fallbackReason: string | null;
  /** Whether this context keeps the session alive. */
  readonly keeper: boolean;
  /** `WorkbookSession.fetch`, one request at a time per workbook across contexts; the body is read before the next request leaves. */
  fetch(path: string, init?: SessionFetchInit): Promise<Response>;
  /** `fetch`, then the answer's JSON (null for an empty body). */
  json<T = unknown>(path: string, init?: SessionFetchInit): Promise<T>;
  /** The last holder of this origin closes the Graph session; the others resolve to null. */
  close(): Promise<RefreshResult | null>;
}
