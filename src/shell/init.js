// A request's `fetch` init built in one crossing, instead of an object, a
// headers object and a `Reflect.set` per field and header
// (bench/README.md, "Call overhead: the options in one crossing"). Bundled
// into each entry's glue by xtask/src/build.rs. `headers`: each header's
// name and value, each followed by a line feed (the values are checked
// printable ASCII, and the wasm refuses one with a line feed).
const lines = (headers, set) => {
  const l = headers.split("\n");
  for (let i = 1; i < l.length; i += 2) set(l[i - 1], l[i]);
};

export function requestInit(method, headers, body, signal) {
  const h = {};
  lines(headers, (k, v) => (h[k] = v));
  return body === undefined
    ? { method, redirect: "manual", headers: h, signal }
    : { method, redirect: "manual", headers: h, body, signal };
}

// `session.fetch`'s: the caller's fields (`base`, our own copy) and headers
// (`Headers`, our own), ours set over them. Throws when the platform's
// `Headers` refuses a value.
export function sessionInit(base, caller, method, headers, body, signal) {
  const h = new Headers(caller);
  lines(headers, (k, v) => h.set(k, v));
  const init = Object.assign({}, base);
  init.method = method;
  init.headers = h;
  if (body !== undefined) init.body = body;
  init.redirect = "manual";
  init.signal = signal;
  return init;
}
