// GraphError, the class of every rejection of graph-workbook-session, and
// the JS half of WorkbookSession's `Symbol.asyncDispose`. Plain JS because
// wasm-bindgen cannot make an exported class extend `Error`; the wasm builds
// each error through `graphError` below. xtask/src/build.rs ships this
// file once, as the package's `graph-error.js`, and points every glue
// (the main entry's and ./refresh's) at it: one class for every entry, so
// an error from "graph-workbook-session/refresh" is `instanceof` the main
// entry's GraphError. The glue re-exports `GraphError` and `isGraphError`.

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
    if (this.stateLost !== undefined) o.stateLost = this.stateLost;
    return o;
  }

  // The inverse of toJSON, for an error that crossed a structured clone,
  // a Durable Object RPC or a postMessage as JSON (an object, or its text):
  // a GraphError again, with the same message and fields.
  static fromJSON(json) {
    const o = typeof json === "string" ? JSON.parse(json) : json;
    if (o === null || typeof o !== "object") throw new TypeError("GraphError.fromJSON: expected an object or its JSON text");
    const e = new GraphError(typeof o.message === "string" ? o.message : "", o);
    if (typeof o.stateLost === "boolean") e.stateLost = o.stateLost;
    return e;
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
  guardFreed(proto);
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

// After `free()` the object has no session behind it (wasm-bindgen sets its
// pointer to 0, and every member threw a plain "null pointer passed to
// rust" Error, the promise-returning ones synchronously): each member
// refuses with a GraphError (`invalidArgument`), the methods that return a
// promise by rejecting it; `free()` again and `stop()` do nothing (free()
// has ended keep-alive already).
const ASYNC = ["refresh", "fetch", "json", "close"];
function guardFreed(proto) {
  for (const k of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, k);
    if (k === "constructor" || !d.configurable) continue;
    const freed = () => new GraphError(`WorkbookSession.${k}: the object was freed (free()); attach the session again`, { code: "invalidArgument" });
    if (typeof d.value === "function") {
      const f = d.value;
      d.value =
        k === "free" || k === "stop"
          ? function () {
              if (this.__wbg_ptr !== 0) f.call(this);
            }
          : ASYNC.includes(k)
            ? function (...a) {
                return this.__wbg_ptr === 0 ? Promise.reject(freed()) : f.apply(this, a);
              }
            : function (...a) {
                if (this.__wbg_ptr === 0) throw freed();
                return f.apply(this, a);
              };
    } else if (d.get) {
      const g = d.get;
      d.get = function () {
        if (this.__wbg_ptr === 0) throw freed();
        return g.call(this);
      };
    } else continue;
    Object.defineProperty(proto, k, d);
  }
}
