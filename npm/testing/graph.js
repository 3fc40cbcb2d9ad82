// graph-workbook-session/testing: a fake Microsoft Graph for your tests.
// `createTestGraph()` returns an ordinary `fetch` that answers Graph's
// hosts in-process with the repository's emulator (emulator/, the same
// handler as the `workbook-emulator` server, compiled to wasm:
// emulator/wasm): sessions and their idle expiry, the 202 + operation
// flow, $batch, a minimal workbook (worksheets, ranges), Graph's error
// bodies and scripted faults with second-level codes and Retry-After.
// This file is the host: it reads each Request, hands it to the wasm,
// sleeps the delays it asks for and builds the Response.
import { Emulator } from "./emulator.js";

// The hosts the library sends tokens to (global, US Government L4 and L5).
const GRAPH_HOSTS = ["graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us"];
// The request headers the emulator reads.
const READ = ["authorization", "workbook-session-id", "client-request-id", "retry-attempt", "prefer", "content-type"];
// Graph's own statuses without a body.
const NULL_BODY = new Set([101, 204, 205, 304]);

const clock = () => (typeof performance === "object" && performance !== null ? performance.now() : Date.now());

function seed() {
  const c = globalThis.crypto;
  if (c && typeof c.getRandomValues === "function") {
    const [hi, lo] = c.getRandomValues(new Uint32Array(2));
    return (hi & 0x1fffff) * 2 ** 32 + lo;
  }
  return Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    if (signal) signal.addEventListener("abort", onAbort, { once: true });
  });
}

// A fetch whose connection closed: what a runtime's fetch rejects with.
const networkError = (why) => new TypeError(`fetch failed (test Graph: ${why})`);

function filler(n) {
  const chunk = new Uint8Array(Math.min(n, 64 * 1024)).fill(0x78);
  let left = n;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= c.length;
      controller.enqueue(c);
    },
  });
}

// Half the body, then the connection is gone.
function cut(bytes) {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes.subarray(0, Math.floor(bytes.length / 2)));
      controller.error(networkError("connection closed mid-response"));
    },
  });
}

/**
 * A fake Graph. Options: `workbooks` (item paths it holds; default: every
 * item path is a workbook with an empty Sheet1), `persistentTtlMs`,
 * `nonPersistentTtlMs` (idle expiry, default 300000 and 420000),
 * `operationDelayMs` (how long a `Prefer: respond-async` createSession
 * runs; default 0: 201 at once), `token` (the only bearer token accepted),
 * `recreatable404` (an expired session's 404 carries
 * `invalidSessionReCreatable`).
 */
export function createTestGraph(options = {}) {
  if (options === null || typeof options !== "object") throw new TypeError("createTestGraph: options must be an object");
  const { workbooks, persistentTtlMs, nonPersistentTtlMs, operationDelayMs, token, recreatable404 } = options;
  const config = JSON.stringify({ workbooks, persistentTtlMs, nonPersistentTtlMs, operationDelayMs, token, recreatable404, seed: seed() });
  const emulator = new Emulator(config);
  const empty = new Uint8Array(0);
  const encoder = new TextEncoder();

  // The control API (/_emulator/), as a loopback peer would call it.
  function control(method, path, body) {
    const a = emulator.handle(clock(), Date.now(), false, method, `/_emulator/${path}`, undefined, "127.0.0.1", false, "{}", body === undefined ? empty : encoder.encode(JSON.stringify(body)));
    const status = a.status;
    const text = new TextDecoder().decode(a.body);
    a.free();
    const json = text ? JSON.parse(text) : null;
    if (status >= 400) {
      const e = json && json.error;
      throw new Error(`test Graph: ${(e && e.message) || `status ${a.status}`}`);
    }
    return json;
  }

  async function fetch(input, init) {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (!GRAPH_HOSTS.includes(url.hostname.toLowerCase())) {
      throw networkError(`${url.host} is not a Graph host; only ${GRAPH_HOSTS.join(", ")} answer`);
    }
    const signal = request.signal;
    if (signal.aborted) throw signal.reason;
    const headers = {};
    for (const name of READ) {
      const v = request.headers.get(name);
      if (v !== null) headers[name] = v;
    }
    const body = request.body === null ? empty : new Uint8Array(await request.arrayBuffer());
    const query = url.search ? url.search.slice(1) : undefined;
    const send = (resumed) =>
      emulator.handle(clock(), Date.now(), resumed, request.method, url.pathname, query, url.host, url.protocol === "https:", JSON.stringify(headers), body);
    let a = send(false);
    for (;;) {
      if (a.delayMs > 0) {
        const ms = a.delayMs;
        try {
          await sleep(ms, signal);
        } catch (e) {
          a.free();
          throw e;
        }
      }
      if (a.action !== "resume") break;
      a.free();
      a = send(true);
    }
    const { action, status, filler: fill } = a;
    const pairs = JSON.parse(a.headers);
    const bytes = a.body;
    a.free();
    if (action === "drop") throw networkError("connection closed without a response");
    // What fetch cannot hand back (a scripted 1xx): the exchange failed.
    if (status < 200 || status > 599) throw networkError(`status ${status} cannot be a Response`);
    const out = new Headers();
    for (const [n, v] of pairs) out.append(n, v);
    let content = null;
    if (!NULL_BODY.has(status)) {
      if (action === "dropMidResponse") content = cut(bytes);
      else if (fill > 0) content = filler(fill);
      else content = bytes;
    }
    const response = new Response(content, { status, headers: out });
    // A Response built here has no URL; the library reads only status,
    // headers and body, but a test may look.
    Object.defineProperty(response, "url", { value: request.url });
    return response;
  }

  return {
    fetch,
    /** The request log, oldest first: method, path, operation, sessionId, status, fault, … */
    requests: () => control("GET", "requests").requests,
    /** The live sessions: id, item, persistChanges, expiresAtMs, refreshCount, … */
    sessions: () => control("GET", "sessions").sessions,
    /** Scripts a fault (the emulator's FaultSpec: status, innerCode, retryAfter, operation, times, …); its id. */
    fail: (rule) => control("POST", "faults", rule).id,
    /** Ends a session now, as an idle expiry would; false if it was not live. */
    expire(sessionId) {
      try {
        control("POST", `sessions/${encodeURIComponent(String(sessionId))}/expire`);
        return true;
      } catch {
        return false;
      }
    },
    /** Back to the state at creation: no sessions, faults, changes or log. */
    reset: () => void control("POST", "reset"),
  };
}
