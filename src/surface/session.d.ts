/** WorkbookSession's members that wasm-bindgen cannot declare (symbol-keyed). */
export interface WorkbookSession {
  /** `await using session = await WorkbookSession.create(...)`: closes the
   * session (`close()`) at the end of the scope; a failed close rejects. */
  [Symbol.asyncDispose](): Promise<void>;
}
