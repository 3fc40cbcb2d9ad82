// graph-workbook-session/pool: keep-alive of many sessions in one process
// through $batch. The refreshes that fall due within a window go out
// together through `refreshSessions` (20 per $batch, each item judged by
// the Excel policy in the wasm), one round per batch; sessions on the same
// workbook never share a batch, and a workbook has one batch in flight at a
// time (Graph's one request at a time per workbook). An item the batch did
// not refresh goes, once its own Retry-After has passed, to the session's
// own `refresh()`, whose line and policy decide (resent, or a dead or
// expired session turns `lost`). A refresh in a $batch takes its session's
// line first (one request at a time per session, its cooldowns): a session
// whose line is busy or cooling down is refreshed through its own
// `refresh()` instead, in its turn. This file only schedules: it imports the
// runtime's main entry (pool-node.js, pool-workerd.js, pool-browser.js) and
// adds nothing to it.

import { GraphError } from "./graph-error.js";

const MAX_BATCH = 20;
// The call options refreshSessions and WorkbookSession.create share.
const CALL_OPTIONS = ["accessToken", "scopes", "baseUrl", "fetch", "timeoutMs", "maxRetries", "maxRetryAfterMs", "allowedHosts"];

export function definePool({ refreshSessions, WorkbookSession }) {
  return class SessionPool {
    #call;
    #intervalMs;
    #windowMs;
    #recreate;
    #on;
    // session -> entry, for every session the pool holds.
    #entries = new Map();
    // workbook -> { queue: its waiting entries by deadline, busy, at }.
    #books = new Map();
    // The workbooks with no batch in flight and an entry waiting, by their
    // first entry's deadline: a pump step takes O(log n), not a scan.
    #free = new Heap((book) => book.queue.peek().wake);
    #timer = null;
    #wakeAt = Infinity;
    #pumpQueued = false;
    #stopped = false;

    constructor(options) {
      if (options == null || typeof options !== "object") throw invalid("options must be an object");
      this.#call = {};
      for (const k of CALL_OPTIONS) if (options[k] !== undefined) this.#call[k] = options[k];
      const ms = (name, min, max) => {
        const v = options[name];
        if (v === undefined) return undefined;
        if (!Number.isInteger(v) || v < min || v > max) throw invalid(`options.${name} must be an integer from ${min} to ${max}`);
        return v;
      };
      this.#intervalMs = ms("intervalMs", 1, 3_600_000);
      this.#windowMs = ms("windowMs", 0, 3_600_000);
      if (options.recreate !== undefined && typeof options.recreate !== "boolean") throw invalid("options.recreate must be a boolean");
      this.#recreate = options.recreate === true;
      this.#on = {};
      for (const k of ["onRefresh", "onError", "onLost", "onRecreated"]) {
        if (options[k] !== undefined && typeof options[k] !== "function") throw invalid(`options.${k} must be a function`);
        this.#on[k] = options[k];
      }
    }

    /** Sessions the pool keeps alive. */
    get size() {
      return this.#entries.size;
    }

    /** Creates a session with the pool's call options and keeps it alive. */
    async create(options = {}) {
      if (options === null || typeof options !== "object") throw invalid("create(options): options must be an object");
      const { workbook, persistChanges, signal } = options;
      if (this.#stopped) throw stopped();
      const session = await WorkbookSession.create({ ...this.#call, workbook, persistChanges, signal });
      // Stopped or closed while it was being made: nobody would hold or close it.
      if (this.#stopped) {
        await session.close().catch(() => null);
        throw stopped();
      }
      this.#add(session, workbook);
      return session;
    }

    /** Attaches to an existing session and keeps it alive. */
    attach(options) {
      if (options === null || typeof options !== "object") throw invalid("attach(options): options must be an object");
      const { workbook, sessionId, persistChanges } = options;
      if (this.#stopped) throw stopped();
      const session = WorkbookSession.attach({ ...this.#call, workbook, sessionId, persistChanges });
      this.#add(session, workbook);
      return session;
    }

    /** Stops keeping `session` alive (it stays open); true when the pool held it. */
    delete(session) {
      const e = this.#entries.get(session);
      if (!e) return false;
      this.#let(e);
      return true;
    }

    /** Stops every refresh and timer; the sessions stay open. */
    stop() {
      this.#stopped = true;
      clearTimeout(this.#timer);
      this.#timer = null;
    }

    /** Stops, then closes every session (closeSession each); the first failure rejects after all were tried. */
    async close() {
      this.stop();
      const sessions = [...this.#entries.keys()];
      for (const e of this.#entries.values()) {
        e.held = false;
        e.at = -1;
      }
      this.#entries.clear();
      this.#books.clear();
      this.#free = new Heap(this.#free.keyOf);
      // A session freed by its holder (free()) has nothing left to close here.
      const results = await Promise.allSettled(sessions.map(async (s) => (stateOf(s) === "freed" ? null : s.close())));
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    }

    #add(session, workbook) {
      const interval = this.#intervalMs ?? (session.persistChanges ? 180_000 : 240_000);
      const e = { session, workbook, interval, due: Date.now() + jitter(interval), notBefore: 0, wake: 0, failed: null, held: true, at: -1 };
      this.#entries.set(session, e);
      this.#queue(e);
      this.#queuePump();
    }

    // Into its workbook's queue, by the time it falls due or its cooldown
    // ends, whichever is later.
    #queue(e) {
      let book = this.#books.get(e.workbook);
      if (!book) this.#books.set(e.workbook, (book = { queue: new Heap((x) => x.wake), busy: false, at: -1 }));
      e.wake = Math.max(e.due, e.notBefore);
      book.queue.push(e);
      if (book.busy) return;
      if (book.at < 0) this.#free.push(book);
      else this.#free.update(book);
    }

    // The pool no longer holds `e` (delete, lost): out of its queue, or,
    // in flight, not queued again when its answer comes.
    #let(e) {
      e.held = false;
      if (this.#entries.get(e.session) === e) this.#entries.delete(e.session);
      if (e.at < 0) return;
      const book = this.#books.get(e.workbook);
      book.queue.remove(e);
      if (book.busy) return;
      if (book.queue.size) this.#free.update(book);
      else {
        this.#free.remove(book);
        this.#books.delete(e.workbook);
      }
    }

    #queuePump() {
      if (this.#pumpQueued || this.#stopped) return;
      this.#pumpQueued = true;
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#pump();
      });
    }

    // Every refresh due within the window whose workbook is free and whose
    // cooldown has passed: one per workbook, in batches of 20, taken in
    // deadline order. The others wait for their workbook's batch (which
    // pumps again) or the timer. A workbook's first entry decides whether
    // it goes, and the first free workbook whether the pump goes on: one
    // still cooling down (or, windowMs unset, a persistent session's shorter
    // window) holds later ones until then (never past their own deadline,
    // only less early).
    #pump() {
      if (this.#stopped) return;
      const now = Date.now();
      const picked = [];
      while (this.#free.size) {
        const book = this.#free.peek();
        const e = book.queue.peek();
        const window = this.#windowMs ?? Math.round(e.interval / 10);
        if (e.notBefore > now || e.due > now + window) break;
        this.#free.pop();
        book.queue.pop();
        // Closed, lost or freed behind the pool's back (close(), session.fetch, free()): let go.
        if (stateOf(e.session) !== "active") {
          this.#let(e);
          if (book.queue.size) this.#free.push(book);
          else this.#books.delete(e.workbook);
          continue;
        }
        book.busy = true;
        picked.push(e);
      }
      const batch = [];
      for (const e of picked) {
        // A refresh in a $batch cannot wait inside it: it takes the
        // session's line now (empty, not cooling down), or goes through the
        // session's own refresh(), which waits its turn and the cooldown.
        if (e.failed || !claimLine(e.session)) this.#fallback(e);
        else batch.push(e);
      }
      for (let i = 0; i < batch.length; i += MAX_BATCH) this.#send(batch.slice(i, i + MAX_BATCH));
      if (this.#free.size) this.#arm(this.#free.peek().queue.peek().wake);
    }

    #arm(at) {
      if (at === Infinity || at >= this.#wakeAt) return;
      clearTimeout(this.#timer);
      this.#wakeAt = at;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#wakeAt = Infinity;
        this.#pump();
      }, Math.max(0, at - Date.now()));
    }

    async #send(batch) {
      let results;
      let whole = false;
      try {
        // One round per batch (maxRetries 0): a throttled item waits for
        // its cooldown outside the batch, holding no other item of it.
        results = await refreshSessions(
          batch.map((e) => ({ workbook: e.workbook, sessionId: e.session.id })),
          { ...this.#call, maxRetries: 0 },
        );
      } catch (error) {
        // The whole call failed before any item was judged (the token
        // source, an abort): each item goes to its session's own refresh.
        results = batch.map(() => error);
        whole = true;
      }
      const now = Date.now();
      batch.forEach((e, i) => {
        const r = results[i];
        // The session's line goes on; an item's own cooldown holds it.
        releaseLine(e.session, !(r instanceof Error), r instanceof Error && !whole ? r.retryAfterMs : undefined);
        if (r instanceof Error) {
          e.failed = r;
          // Graph's cooldown for this item: nothing leaves on the session before it passes.
          e.notBefore = now + (Number.isFinite(r.retryAfterMs) ? r.retryAfterMs : 0);
        } else {
          e.due = now + jitter(e.interval);
          this.#report("onRefresh", e.session, r);
        }
        this.#release(e);
      });
    }

    // The item the batch did not refresh: the session's own refresh, whose
    // line and Excel policy decide; a lost session is recreated (recreate:
    // true and a recreatable error) or reported and dropped.
    async #fallback(e) {
      const first = e.failed;
      e.failed = null;
      try {
        const r = await e.session.refresh();
        e.due = Date.now() + jitter(e.interval);
        this.#report("onRefresh", e.session, r);
      } catch (error) {
        const state = stateOf(e.session);
        if (state === "freed") {
          // Freed by its holder meanwhile (free()): let go, as delete() does.
          this.#let(e);
        } else if (state === "active") {
          e.due = Date.now() + jitter(e.interval);
          e.notBefore = Date.now() + (Number.isFinite(error?.retryAfterMs) ? error.retryAfterMs : 0);
          this.#report("onError", e.session, error);
        } else if (this.#recreate && (error?.recreatable || first?.recreatable) && !this.#stopped) {
          const previous = e.session;
          try {
            const next = await WorkbookSession.create({ ...this.#call, workbook: e.workbook, persistChanges: previous.persistChanges });
            // The pool was stopped or closed meanwhile: nobody holds the new session.
            if (this.#stopped) return void (await next.close().catch(() => null));
            if (e.held) {
              this.#entries.delete(previous);
              this.#entries.set(next, e);
            }
            e.session = next;
            e.due = Date.now() + jitter(e.interval);
            this.#report("onRecreated", previous, e.session);
          } catch (again) {
            this.#drop(e, again);
          }
        } else {
          this.#drop(e, error);
        }
      }
      this.#release(e);
    }

    #drop(e, error) {
      this.#let(e);
      this.#report("onLost", e.session, error);
    }

    #release(e) {
      const book = this.#books.get(e.workbook);
      // The pool was closed meanwhile (its workbooks forgotten): nothing to free.
      if (book) {
        book.busy = false;
        if (e.held) this.#queue(e);
        else if (book.queue.size) this.#free.push(book);
        else this.#books.delete(e.workbook);
      }
      this.#queuePump();
    }

    // A callback that throws does not stop the pool.
    #report(name, ...args) {
      const f = this.#on[name];
      if (!f || this.#stopped) return;
      try {
        const r = f(...args);
        if (r && typeof r.then === "function") r.then(undefined, reportError);
      } catch (error) {
        reportError(error);
      }
    }
  };
}

// A binary min-heap of objects by `keyOf`; each item knows its place
// (`at`, -1 outside), so one can leave or move in O(log n).
class Heap {
  items = [];
  constructor(keyOf) {
    this.keyOf = keyOf;
  }
  get size() {
    return this.items.length;
  }
  peek() {
    return this.items[0];
  }
  push(x) {
    x.at = this.items.length;
    this.items.push(x);
    this.#up(x);
  }
  pop() {
    const x = this.items[0];
    this.remove(x);
    return x;
  }
  remove(x) {
    const last = this.items.pop();
    if (last !== x) {
      this.items[x.at] = last;
      last.at = x.at;
      this.update(last);
    }
    x.at = -1;
  }
  update(x) {
    this.#up(x);
    this.#down(x);
  }
  #up(x) {
    const k = this.keyOf(x);
    while (x.at > 0) {
      const p = this.items[(x.at - 1) >> 1];
      if (this.keyOf(p) <= k) break;
      this.#swap(x, p);
    }
  }
  #down(x) {
    const k = this.keyOf(x);
    for (;;) {
      const l = 2 * x.at + 1;
      if (l >= this.items.length) break;
      let c = this.items[l];
      const r = this.items[l + 1];
      if (r && this.keyOf(r) < this.keyOf(c)) c = r;
      if (this.keyOf(c) >= k) break;
      this.#swap(x, c);
    }
  }
  #swap(a, b) {
    const i = a.at;
    this.items[i] = b;
    this.items[b.at] = a;
    a.at = b.at;
    b.at = i;
  }
}

// ±10 %, as keep-alive's.
const jitter = (ms) => Math.round(ms * (0.9 + 0.2 * Math.random()));

// A session's line (one request at a time, its cooldowns), taken for a
// refresh sent in a $batch and let go when the batch answered. A session
// freed behind the pool's back has no line: its refresh goes through
// refresh(), which reports it.
// `session.state`; "freed" once its holder called free() (every member of
// a freed session throws).
function stateOf(session) {
  try {
    return session.state;
  } catch {
    return "freed";
  }
}

// Argument errors are GraphErrors (`invalidArgument`), as the package's own.
function invalid(message) {
  return new GraphError(`SessionPool: ${message}`, { code: "invalidArgument" });
}

function stopped() {
  return invalid("this SessionPool is stopped; create a new one");
}

function claimLine(session) {
  try {
    return session.__claimLine();
  } catch {
    return false;
  }
}

function releaseLine(session, refreshed, retryAfterMs) {
  try {
    session.__releaseLine(refreshed, retryAfterMs);
  } catch {
    // freed meanwhile: nothing waits in its line
  }
}

function reportError(error) {
  if (typeof globalThis.reportError === "function") globalThis.reportError(error);
  else console.error(error);
}
