/** WorkbookSession's members that wasm-bindgen cannot declare (symbol-keyed, generic). */
export interface WorkbookSession {
  /** `await using session = await WorkbookSession.create(...)`: closes the
   * session (`close()`) at the end of the scope; a failed close rejects.
   * There is no `Symbol.dispose`: a synchronous `using` cannot close a
   * session (closeSession is a request), so it is a type error, and at run
   * time the session has no synchronous disposer. */
  [Symbol.asyncDispose](): Promise<void>;
  /** `session.fetch(path, init)`, then the answer's body parsed as JSON:
   * `const { values } = await session.json<{ values: unknown[][] }>(range)`.
   * `init.json` (any JSON value) is sent as the body with
   * `Content-Type: application/json`. Resolves to `null` for an answer
   * without a body (a 204); a body that is not JSON rejects with
   * `invalidResponse`. `T` is not checked at run time. */
  json<T = unknown>(path: string, init?: SessionFetchInit): Promise<T>;
}
