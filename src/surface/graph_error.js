// GraphError, the class of every rejection of graph-workbook-session, and
// the JS half of WorkbookSession's `Symbol.asyncDispose`. Plain JS because
// wasm-bindgen cannot make an exported class extend `Error`; the wasm builds
// each error through `graphError` below. xtask/src/build.rs bundles this
// file into the glue (one module, one request), which also exports
// `GraphError` and `isGraphError`; the package's entries re-export them.

const FIELDS = [
  "code",
  "innerCode",
  "innerCodes",
  "status",
  "requestId",
  "clientRequestId",
  "retryAfterMs",
  "attempts",
  "recreatable",
  "date",
];

const DEFAULTS = {
  code: "unknown",
  innerCode: null,
  innerCodes: [],
  status: 0,
  requestId: null,
  clientRequestId: null,
  retryAfterMs: null,
  attempts: 0,
  recreatable: false,
  date: null,
};

export class GraphError extends Error {
  constructor(message, fields, options) {
    super(message, options);
    this.name = "GraphError";
    for (const k of FIELDS) this[k] = fields != null && fields[k] !== undefined ? fields[k] : DEFAULTS[k];
  }

  // The documented fields, for logs and HTTP answers. `cause` is left out:
  // it is the token provider's own object, which may hold anything.
  toJSON() {
    const o = { name: this.name, message: this.message };
    for (const k of FIELDS) o[k] = this[k];
    return o;
  }
}

// By name and shape too, so errors from another realm (an iframe, a vm
// context, a second copy of the package) pass.
export function isGraphError(x) {
  return (
    x instanceof GraphError ||
    (typeof x === "object" &&
      x !== null &&
      x.name === "GraphError" &&
      typeof x.message === "string" &&
      typeof x.code === "string" &&
      typeof x.status === "number")
  );
}

// Called by the wasm: the fields come as one JSON string (one crossing);
// `cause` is attached only when the provider gave one.
export function graphError(message, fields, cause) {
  return new GraphError(message, JSON.parse(fields), cause === undefined ? undefined : { cause });
}

// `await using session = await WorkbookSession.create(...)` closes it; a
// failed close rejects, as `close()` does. Installed on the prototype when
// the first session is made (wasm-bindgen cannot name symbol methods).
// wasm-bindgen's own `Symbol.dispose` (`free()`, which frees the session
// without closing it) is taken off: a synchronous `using` cannot send
// closeSession, so it must not look like it disposes of a session. (The
// package's glue never has it: xtask strips it; this covers the tests'
// unbundled glue.)
export function addAsyncDispose(proto) {
  if (typeof Symbol !== "function") return;
  if (typeof Symbol.dispose === "symbol" && Object.prototype.hasOwnProperty.call(proto, Symbol.dispose)) {
    delete proto[Symbol.dispose];
  }
  const key = Symbol.asyncDispose;
  if (typeof key !== "symbol" || Object.prototype.hasOwnProperty.call(proto, key)) return;
  Object.defineProperty(proto, key, {
    value: async function () {
      await this.close();
    },
    writable: true,
    configurable: true,
  });
}
