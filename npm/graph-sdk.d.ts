// graph-workbook-session/graph-sdk
import type { WorkbookSession } from "./index.js";

/** Where a session's requests are: the item path it was created on and its base URL. */
export interface SessionRoute {
  /** The item path given to WorkbookSession.create, e.g. "/me/drive/items/01ABC". */
  workbook: string;
  /** The session's base URL (default "https://graph.microsoft.com/v1.0"); any version segment matches. */
  baseUrl?: string;
}

/**
 * A link of the Graph SDK's chain (`Client.initWithMiddleware`) and of
 * Kiota's (`KiotaClientFactory.create`, `HttpClient`): requests under an
 * added session's workbook go to `session.fetch` (session id, the session's
 * line, the Excel policy); every other request goes on down the chain.
 */
export declare class WorkbookSessionMiddleware {
  /** `recreate`: `session.fetch`'s `init.recreate` for every routed request (default: the session's keep-alive setting). */
  constructor(options?: { recreate?: boolean });
  /** Routes the requests under `route.workbook` to `session.fetch`; `route` defaults to `session.toJSON()` where sessions have one. */
  add(session: WorkbookSession, route?: SessionRoute): this;
  /** Stops routing `session`'s requests; true when it was routed. */
  delete(session: WorkbookSession): boolean;
  /** Graph SDK: the next link. */
  setNext(next: { execute(context: any): Promise<void> }): void;
  /** Kiota: the next link. */
  next: { execute(url: string, requestInit: RequestInit, requestOptions?: Record<string, unknown>): Promise<Response> } | undefined;
  /** Graph SDK: `execute(context)`. */
  execute(context: { request: RequestInfo; options?: RequestInit; response?: Response }): Promise<void>;
  /** Kiota: `execute(url, requestInit, requestOptions)`. */
  execute(url: string, requestInit: RequestInit, requestOptions?: Record<string, unknown>): Promise<Response>;
}
