// graph-workbook-session/cloudflare: a Durable Object that keeps one
// workbook's Graph session alive (workerd only; the types of
// "cloudflare:workers" come from @cloudflare/workers-types).
import { DurableObject } from "cloudflare:workers";
import type { CallOptions, GraphErrorJSON, RefreshResult } from "../index.js";

/** What the keeper stores under "session". */
export interface KeptSession {
  workbook: string;
  sessionId: string;
  persistChanges: boolean;
  baseUrl: string | null;
  /** Alarms and refresh() calls that refreshed this id. */
  refreshes: number;
  /** The id an alarm or a fetch replaced, after Graph expired it. */
  recreatedFrom?: string;
}

/** A failure, as data (GraphError.toJSON()). */
export type KeeperError = { error: GraphErrorJSON };

/**
 * One workbook's session, kept alive by the object's alarm; its state in
 * the object's storage under "session". Extend it, export it from your
 * Worker, bind it as a Durable Object; one object per workbook
 * (`idFromName(workbook)`).
 */
export declare class WorkbookSessionKeeper<Env = unknown> extends DurableObject<Env> {
  /** The options of every Graph call but `workbook`; default `{ baseUrl: env.GRAPH_BASE_URL, accessToken: env.GRAPH_TOKEN }`. */
  callOptions(): Omit<CallOptions, "workbook">;
  /** ms between alarms: env.REFRESH_INTERVAL_MS, else 180000. */
  intervalMs(): number;
  /** Opens a session on `workbook` unless one is kept; arms the first alarm. */
  open(o: { workbook: string; persistChanges?: boolean }): Promise<{ session: KeptSession } | KeeperError>;
  /** The stored state and the next alarm. */
  status(): Promise<{ session: KeptSession | null; alarm: number | null }>;
  /** One refresh now. */
  refresh(): Promise<{ refreshed: RefreshResult | null } | KeeperError>;
  /** session.fetch of the request's path and query (relative to `{workbook}/workbook`); errors as a JSON `{ error }` answer. */
  fetch(request: Request): Promise<Response>;
  /** Refresh, recreate when Graph says so; the next alarm is armed in `finally`. */
  alarm(): Promise<void>;
  /** Cancels the alarm and closes the session. */
  close(): Promise<{ closed: RefreshResult | null } | KeeperError>;
}
