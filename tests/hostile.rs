//! Issue 22, point 2: caller objects that throw or re-enter. A caller's
//! signal, `fetch`, its `Response` and option bags are read once, through
//! catching accessors, at the boundary; a JS exception never leaves a
//! session's line or state half-updated. Each case was reproduced first
//! against the package before the change (an uncaught exception, a call
//! pending for good, or `RuntimeError: unreachable` and a trapping `state`
//! getter). In Node and headless Chromium, against the emulator; the cases
//! are listed in `tests/FAULTS.md` ("Hostile callers").
#![cfg(target_arch = "wasm32")]

mod support;

use support::scenario::scenario;
use wasm_bindgen_test::*;

/// What every hostile case shares: the global errors seen while it runs
/// (an exception thrown through the wasm must never reach the host), a
/// bound on every call, and a session that still works afterwards.
const HOSTILE: &str = r#"
const uncaught = [];
const onError = (e) => { uncaught.push(String((e && (e.error || e.reason)) || e)); if (e && e.preventDefault) e.preventDefault(); };
const isNode = typeof process !== "undefined" && process.versions && process.versions.node;
if (isNode) { process.on("uncaughtException", onError); process.on("unhandledRejection", onError); }
else { addEventListener("error", onError); addEventListener("unhandledrejection", onError); }
const done = () => { if (isNode) { process.off("uncaughtException", onError); process.off("unhandledRejection", onError); } else { removeEventListener("error", onError); removeEventListener("unhandledrejection", onError); } };
const settle = (p, ms = 4000) => Promise.race([p.then(() => "ok", (e) => "rejected " + (e && e.code)), sleep(ms).then(() => "pending")]);
// A real AbortSignal behind a Proxy whose `aborted` read runs `onRead(n)`.
const signalWith = (onRead) => { const c = new AbortController(); let n = 0; return new Proxy(c.signal, { get(t, k) { if (k === "aborted") { onRead(++n); return false; } const v = Reflect.get(t, k); return typeof v === "function" ? v.bind(t) : v; } }); };
// A Response behind a Proxy whose getter `key` throws from its `from`-th read.
const responseWith = (key, from) => (url, init) => fetch(url, init).then((r) => { let n = 0; return new Proxy(r, { get(t, k) { if (k === key && ++n >= from) throw new Error("hostile " + key); const v = Reflect.get(t, k); return typeof v === "function" ? v.bind(t) : v; } }); });
const stillWorks = async (s, why) => {
  let state; try { state = s.state; } catch (e) { state = "trap " + e; }
  assert(state === "active", why + ": state " + state);
  assert((await settle(s.refresh())) === "ok", why + ": a later refresh()");
  assert((await settle(s.fetch("/worksheets"))) === "ok", why + ": a later session.fetch");
};
const finish = (why) => { done(); assert(uncaught.length === 0, why + ": uncaught " + uncaught.join("; ")); };
"#;

async fn hostile(body: &str) {
    scenario(&[HOSTILE, body].concat()).await;
}

/// A signal whose `aborted` getter throws on its Nth read: read once, so a
/// throw on a later read never happens; a throw on the first read is
/// `invalidArgument`. The line's turn is released either way.
#[wasm_bindgen_test]
async fn a_signal_whose_aborted_getter_throws_on_its_nth_read() {
    hostile(
        r#"
const s = await WorkbookSession.create(opts("h-nth"));
for (const n of [1, 2, 3]) {
  const signal = signalWith((i) => { if (i >= n) throw new Error("aborted getter " + i); });
  const fetched = await settle(s.fetch("/worksheets", { signal }));
  assert(fetched === (n === 1 ? "rejected invalidArgument" : "ok"), "fetch, throw on read " + n + ": " + fetched);
  const refreshed = await settle(s.refresh({ signal: signalWith((i) => { if (i >= n) throw new Error("x"); }) }));
  assert(refreshed === (n === 1 ? "rejected invalidArgument" : "ok"), "refresh, throw on read " + n + ": " + refreshed);
  const o = opts("h-nth-f");
  const created = await WorkbookSession.create(o);
  const r = await settle(refreshSession({ ...o, sessionId: created.id, signal: signalWith((i) => { if (i >= n) throw new Error("x"); }) }));
  assert(r === (n === 1 ? "rejected invalidArgument" : "ok"), "refreshSession, throw on read " + n + ": " + r);
  await created.close();
}
await stillWorks(s, "after throwing signals");
await s.close();
finish("nth read");
"#,
    )
    .await;
}

/// Signals whose getters re-enter the session: `keepAlive({ signal })`
/// whose `aborted` calls `stop()` (the issue's trap), `refresh({ signal })`
/// calling `close()`, `addEventListener` calling `keepAlive()`.
#[wasm_bindgen_test]
async fn signals_that_reenter_the_session() {
    hostile(
        r#"
const s = await WorkbookSession.create(opts("h-reenter"));
s.keepAlive({ intervalMs: 1000, signal: signalWith(() => s.stop()) });
await stillWorks(s, "keepAlive signal calling stop()");
s.stop();
const c = new AbortController();
const adding = new Proxy(c.signal, { get(t, k) { if (k === "addEventListener") { s.keepAlive({ intervalMs: 1000 }); s.stop(); } const v = Reflect.get(t, k); return typeof v === "function" ? v.bind(t) : v; } });
assert((await settle(s.fetch("/worksheets", { signal: adding }))) === "ok", "addEventListener re-entering");
await stillWorks(s, "addEventListener calling keepAlive()");
const t = await WorkbookSession.create(opts("h-reenter-close"));
const closing = await settle(t.refresh({ signal: signalWith(() => { t.close().catch(() => {}); }) }));
assert(closing.startsWith("ok") || closing.startsWith("rejected"), "refresh with a closing signal settled: " + closing);
assert(await until(3000, () => t.state === "closed"), "closed: " + t.state);
await s.close();
finish("re-entry");
"#,
    )
    .await;
}

/// A caller `fetch` whose `Response` has throwing getters: read once, so a
/// getter that throws on its second read changes nothing; one that throws
/// on its first read is an unusable answer (`network`), never a throw.
#[wasm_bindgen_test]
async fn a_response_whose_getters_throw() {
    hostile(
        r#"
for (const key of ["status", "headers", "body"]) {
  for (const from of [1, 2]) {
    const o = opts("h-resp", { maxRetries: 0 });
    const s = await WorkbookSession.create(o);
    const hostileFetch = responseWith(key, from);
    // A body that cannot be read is no body: a 204 or a 200 needs none.
    const expected = from === 1 && key !== "body" ? "rejected network" : "ok";
    const r = await settle(refreshSession({ ...o, sessionId: s.id, fetch: hostileFetch }));
    assert(r === expected, `refreshSession, ${key} throwing from read ${from}: ${r}`);
    const a = WorkbookSession.attach({ ...o, sessionId: s.id, fetch: hostileFetch });
    const f = await settle(a.fetch("/worksheets"));
    assert(f === expected, `session.fetch, ${key} throwing from read ${from}: ${f}`);
    let state; try { state = a.state; } catch (e) { state = "trap " + e; }
    assert(state === "active", "state after a hostile Response: " + state);
    await s.close();
  }
}
// An error answer whose body stream throws on read: the status decides.
const o = opts("h-body", { maxRetries: 0 });
const s = await WorkbookSession.create(o);
const throwingBody = async () => new Proxy(new Response("{}", { status: 500 }), { get(t, k) { if (k === "body") return { getReader() { return { read() { throw new Error("read"); }, cancel() { throw new Error("cancel"); } }; } }; const v = Reflect.get(t, k); return typeof v === "function" ? v.bind(t) : v; } });
const r = await settle(refreshSession({ ...o, sessionId: s.id, fetch: throwingBody }));
assert(r === "rejected internalServerError", "a throwing body reader: " + r);
// An error answer whose body never ends, from a fetch that ignores its
// signal (a wrapper, a service binding): timeoutMs covers the body's read
// (it never settled, and the session's line stayed held, close() too).
const endless = async () => new Response(new ReadableStream({ pull() { return new Promise(() => {}); } }), { status: 400 });
const t0 = Date.now();
const stalled = await settle(refreshSession({ ...o, sessionId: s.id, fetch: endless, timeoutMs: 300 }));
assert(stalled === "rejected timeout", "an endless error body: " + stalled);
assert(Date.now() - t0 < 3000, "ended by its timeout: " + (Date.now() - t0) + " ms");
const held = WorkbookSession.attach({ ...o, sessionId: s.id, fetch: endless, timeoutMs: 300 });
assert((await settle(held.refresh())) === "rejected timeout", "a session's refresh with an endless error body");
assert((await settle(held.close())) === "rejected timeout", "close() after it: its turn came, its body timed out too");
await stillWorks(s, "after hostile Responses");
await s.close();
finish("Response getters");
"#,
    )
    .await;
}

/// Option bags with throwing getters and Proxies (a revoked one included):
/// `invalidArgument`, nothing sent, the session untouched.
#[wasm_bindgen_test]
async fn option_bags_with_throwing_getters_and_proxies() {
    hostile(
        r#"
const { proxy, revoke } = Proxy.revocable({}, {}); revoke();
assert((await settle(refreshSession(proxy))) === "rejected invalidArgument", "a revoked Proxy as options");
const o = opts("h-bags");
const s = await WorkbookSession.create(o);
const scopes = new Proxy(["a"], { get(t, k) { if (k === "length") throw new Error("length"); return Reflect.get(t, k); } });
assert((await settle(refreshSession({ ...o, sessionId: s.id, allowedHosts: scopes }))) === "rejected invalidArgument", "a Proxy array whose length throws");
assert((await settle(refreshSession({ ...o, sessionId: s.id, allowedHosts: proxy }))) === "rejected invalidArgument", "a revoked Proxy as an array");
assert((await settle(s.fetch("/worksheets", { get credentials() { throw new Error("boom"); } }))) === "rejected invalidArgument", "an init getter that throws");
assert((await settle(s.fetch("/worksheets", proxy))) === "rejected invalidArgument", "a revoked Proxy as init");
assert((await settle(s.fetch("/worksheets", { method: "PATCH", body: proxy }))) !== "pending", "a revoked Proxy as body");
assert((await settle(s.refresh(proxy))) === "rejected invalidArgument", "a revoked Proxy as refresh options");
let threw = null; try { s.keepAlive(proxy); } catch (e) { threw = e.code; }
assert(threw === "invalidArgument", "keepAlive with a revoked Proxy: " + threw);
// A token provider whose method is a getter that throws: refused, and the
// message names the member read (it said the option had a wrong shape).
for (const [name, token] of [
  ["getAccessToken", { get getAccessToken() { throw new Error("boom"); } }],
  ["getAccessToken", new Proxy({}, { get() { throw new Error("trap"); } })],
  ["getToken", { getAccessToken: 1, get getToken() { throw new Error("boom"); } }],
]) {
  const why = await refreshSession({ ...o, sessionId: s.id, accessToken: token }).then(() => "ok", (e) => e.code + ": " + e.message);
  assert(why === "invalidArgument: refreshSession: options.accessToken." + name + " could not be read", "a token provider whose " + name + " getter throws: " + why);
}
// refreshSessions' items read through Array.from, whose throw is refused,
// never thrown through the wasm (it left the call pending and the
// exception uncaught).
const item = { workbook: o.workbook, sessionId: s.id };
for (const [why, items] of [
  ["length", new Proxy([item], { get(t, k) { if (k === "length") throw new Error("length"); return Reflect.get(t, k); } })],
  ["iterator", Object.assign([item], { [Symbol.iterator]() { throw new Error("iterator"); } })],
  ["index", new Proxy([item], { get(t, k) { if (k === "0") throw new Error("index"); return Reflect.get(t, k); } })],
]) {
  assert((await settle(refreshSessions(items, o))) === "rejected invalidArgument", "refreshSessions items whose " + why + " throws");
}
// A lone surrogate reached Rust as U+FFFD: the request went to another
// item ("...%EF%BF%BD"), silently. Refused.
const lone = o.workbook + String.fromCharCode(0xd800);
assert((await settle(refreshSession({ ...o, sessionId: s.id, workbook: lone }))) === "rejected invalidArgument", "a workbook with a lone surrogate");
let loneThrew = null; try { WorkbookSession.attach({ ...o, sessionId: s.id, workbook: lone }); } catch (e) { loneThrew = e.code; }
assert(loneThrew === "invalidArgument", "attach with a lone surrogate: " + loneThrew);
assert((await settle(refreshSession({ ...o, sessionId: s.id, allowedHosts: ["a" + String.fromCharCode(0xdc00)] }))) === "rejected invalidArgument", "allowedHosts with a lone surrogate");
// Getters that re-enter while the options are read.
s.keepAlive({ intervalMs: 1000, get onRefresh() { s.stop(); s.keepAlive({ intervalMs: 2000 }); return undefined; } });
await stillWorks(s, "after hostile option bags");
await s.close();
finish("option bags");
"#,
    )
    .await;
}

/// A getter that re-enters the library while an option bag is read, and
/// reads a bag of its own meanwhile (`WorkbookSession.attach` is
/// synchronous): each call keeps its own values. The outer session's
/// requests go through the outer `fetch`, not the one the getter passed.
#[wasm_bindgen_test]
async fn a_getter_reading_another_option_bag_meanwhile() {
    hostile(
        r#"
const o = opts("h-nested");
const s = await WorkbookSession.create(o);
let outer = 0, inner = 0;
const outerFetch = (u, i) => (outer++, fetch(u, i));
const innerFetch = (u, i) => (inner++, fetch(u, i));
// `baseUrl` is read after `fetch`: its getter attaches another object.
const a = WorkbookSession.attach({
  ...o,
  sessionId: s.id,
  fetch: outerFetch,
  get baseUrl() {
    WorkbookSession.attach({ ...o, sessionId: s.id, fetch: innerFetch, intervalMs: undefined }).free();
    return o.baseUrl;
  },
});
assert((await settle(a.refresh())) === "ok", "the outer object refreshes");
assert(outer === 1 && inner === 0, "through its own fetch: outer " + outer + ", inner " + inner);
a.free();
await s.close();
finish("nested option bags");
"#,
    )
    .await;
}

/// Calls made right after `close()`, before its request goes out: refused
/// with `invalidArgument`, unsent.
/// `refresh()` rejected with `aborted` ("the call was aborted by its
/// AbortSignal", with no signal given) and `keepAlive()` was accepted and
/// did nothing; a refresh in flight that `close()` ends says so.
#[wasm_bindgen_test]
async fn calls_right_after_close_are_refused() {
    hostile(
        r#"
const s = await WorkbookSession.create(opts("h-after-close"));
const closing = s.close();
assert((await settle(s.refresh())) === "rejected invalidArgument", "refresh() after close()");
assert((await settle(s.fetch("/worksheets"))) === "rejected invalidArgument", "fetch() after close()");
let threw = null; try { s.keepAlive({}); } catch (e) { threw = e.code; }
assert(threw === "invalidArgument", "keepAlive() after close(): " + threw);
assert((await settle(closing)) === "ok", "close()");
const t = await WorkbookSession.create(opts("h-close-in-flight"));
const refreshing = t.refresh().then(() => "ok", (e) => e.code + ": " + e.message);
await t.close();
const ended = await refreshing;
assert(ended === "ok" || ended === "aborted: WorkbookSession.refresh: the refresh was ended by close()", "a refresh in flight: " + ended);
finish("after close");
"#,
    )
    .await;
}

/// After `free()`: every member refuses with a `GraphError`
/// (`invalidArgument`), the promise-returning ones by rejecting; `free()`
/// again and `stop()` do nothing. Each threw a plain "null pointer passed
/// to rust" `Error`, synchronously, `refresh()` and `close()` too.
#[wasm_bindgen_test]
async fn members_of_a_freed_session_refuse_with_a_graph_error() {
    hostile(
        r#"
const s = await WorkbookSession.create(opts("h-freed"));
const saved = s.toJSON();
s.keepAlive({ intervalMs: 1000 });
s.free();
for (const m of ["refresh", "fetch", "json", "close"]) {
  let r;
  try { r = await settle(m === "fetch" || m === "json" ? s[m]("/worksheets") : s[m]()); } catch (e) { r = "threw " + e; }
  assert(r === "rejected invalidArgument", m + " after free(): " + r);
}
for (const get of [() => s.state, () => s.id, () => s.toJSON(), () => s.keepAlive({})]) {
  let code = null; try { get(); } catch (e) { code = e && e.name === "GraphError" ? e.code : "plain " + e; }
  assert(code === "invalidArgument", "a member after free(): " + code);
}
s.free();
s.stop();
// The Graph session is still open: attach it again and close it.
const again = WorkbookSession.attach({ ...opts("h-freed"), ...saved });
assert((await settle(again.close())) === "ok", "closed through a new object");
finish("after free");
"#,
    )
    .await;
}
