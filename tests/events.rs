//! Issue 23, point 2: `onEvent`, on every call and on `WorkbookSession`.
//! The event sequences of a throttled refresh (429 + `Retry-After`), a
//! token renewal after a 401, a recreation and a loss, in Node and headless
//! Chromium against the emulator; no event carries the token, and a
//! listener that throws is reported, never breaking the call.
#![cfg(target_arch = "wasm32")]

mod support;

use support::scenario::scenario;
use wasm_bindgen_test::*;

/// A recorder: `events` (each event as given), `kinds()` (their types in
/// order), and the token check over every event.
const RECORDER: &str = r#"
const recorder = () => {
  const events = [];
  const onEvent = (e) => { events.push(e); };
  const kinds = () => events.map((e) => e.type === "retry" ? "retry:" + e.reason : e.type === "response" ? "response:" + e.status : e.type).join(" ");
  const tokenFree = () => { for (const e of events) assert(!JSON.stringify(e).includes(TOKEN) && !JSON.stringify(e).includes("renewed-"), "an event carries the token: " + JSON.stringify(e)); };
  return { events, onEvent, kinds, tokenFree };
};
"#;

async fn events(body: &str) {
    scenario(&[RECORDER, body].concat()).await;
}

/// A throttled refresh: the request, the 429 answer with its `request-id`,
/// the resend scheduled after the cooldown (reason `cooldown`, 1000 ms),
/// the second request and its 204.
#[wasm_bindgen_test]
async fn a_throttled_refresh_reports_its_cooldown() {
    events(
        r#"
const o = opts("ev-429");
const s = await WorkbookSession.create(o);
const r = recorder();
await fault({ operation: "refreshSession", pathContains: o.workbook, status: 429, retryAfter: "1", times: 1 });
const result = await refreshSession({ ...o, sessionId: s.id, onEvent: r.onEvent });
assert(result.attempts === 2, "attempts " + result.attempts);
assert(r.kinds() === "request response:429 retry:cooldown request response:204", "sequence: " + r.kinds());
const [req, res, retry, req2, res2] = r.events;
assert(req.method === "POST" && req.url.endsWith(o.workbook + "/workbook/refreshSession") && req.attempt === 1, "request: " + JSON.stringify(req));
assert(typeof res.requestId === "string" && res.requestId.length > 0 && res.elapsedMs >= 0 && res.failure === null, "response: " + JSON.stringify(res));
assert(retry.delayMs === 1000 && retry.attempt === 1, "retry: " + JSON.stringify(retry));
assert(req2.attempt === 2 && res2.attempt === 2, "second attempt");
r.tokenFree();
// The same through the session's own onEvent.
const q = recorder();
const t = WorkbookSession.attach({ ...o, sessionId: s.id, onEvent: q.onEvent });
await fault({ operation: "refreshSession", pathContains: o.workbook, status: 429, retryAfter: "1", times: 1 });
await t.refresh();
assert(q.kinds() === "request response:429 retry:cooldown request response:204", "session sequence: " + q.kinds());
// session.fetch reports its attempts too.
q.events.length = 0;
await t.fetch("/worksheets");
assert(q.kinds() === "request response:200" && q.events[0].method === "GET", "session.fetch: " + q.kinds());
q.tokenFree();
await s.close();
"#,
    )
    .await;
}

/// A 401 with a token source that renews: `retry` with reason
/// `tokenRenewal`; neither token appears in any event.
#[wasm_bindgen_test]
async fn a_token_renewal_is_a_retry_without_the_token() {
    events(
        r#"
const o = opts("ev-401");
const s = await WorkbookSession.create(o);
const r = recorder();
await fault({ operation: "refreshSession", pathContains: o.workbook, status: 401, times: 1 });
await refreshSession({ ...o, sessionId: s.id, accessToken: () => TOKEN, onEvent: r.onEvent });
assert(r.kinds() === "request response:401 retry:tokenRenewal request response:204", "sequence: " + r.kinds());
assert(r.events[2].delayMs === 0, "a renewal resends at once");
r.tokenFree();
await s.close();
"#,
    )
    .await;
}

/// A recreation (the session expired, `recreate: true`) and a loss (the
/// same without recreation): `recreated` with both ids, `lost` with the error.
#[wasm_bindgen_test]
async fn a_recreation_and_a_loss() {
    events(
        r#"
const r = recorder();
const o = opts("ev-recreate", { onEvent: r.onEvent });
const s = await WorkbookSession.create(o);
const first = s.id;
assert(r.kinds().startsWith("request response:20"), "creation reported: " + r.kinds());
r.events.length = 0;
s.keepAlive({ intervalMs: 60000, recreate: true });
await control("POST", "/_emulator/sessions/" + encodeURIComponent(first) + "/expire");
await s.refresh().catch(() => {});
assert(await until(5000, () => r.events.some((e) => e.type === "recreated")), "recreated: " + r.kinds());
const kinds = r.kinds();
assert(kinds.startsWith("request response:404 request response:20"), "refresh then createSession: " + kinds);
assert(kinds.endsWith("recreated"), "recreated last: " + kinds);
const rec = r.events.find((e) => e.type === "recreated");
assert(rec.previousId === first && rec.id === s.id && rec.id !== first, "ids: " + JSON.stringify(rec));
assert(r.events[2].url.endsWith("/workbook/createSession"), "the recreation's request: " + r.events[2].url);
r.tokenFree();
s.stop();
await s.close();
// A loss.
const l = recorder();
const t = await WorkbookSession.create(opts("ev-lost", { onEvent: l.onEvent, maxRetries: 0 }));
l.events.length = 0;
await control("POST", "/_emulator/sessions/" + encodeURIComponent(t.id) + "/expire");
const e = await t.refresh().then(() => null, (e) => e);
assert(e && e.status === 404, "refresh failed: " + (e && e.code));
assert(t.state === "lost", "state " + t.state);
assert(l.kinds() === "request response:404 lost", "loss sequence: " + l.kinds());
assert(l.events[2].error === e || l.events[2].error.code === e.code, "lost carries the error");
l.tokenFree();
"#,
    )
    .await;
}

/// A listener that throws (or rejects) is reported through `reportError`
/// and the call goes on.
#[wasm_bindgen_test]
async fn a_throwing_listener_is_reported_and_never_breaks_the_call() {
    events(
        r#"
const reported = [];
const had = Object.getOwnPropertyDescriptor(globalThis, "reportError");
Object.defineProperty(globalThis, "reportError", { value: (e) => reported.push(e), configurable: true, writable: true });
try {
  const o = opts("ev-throw");
  const s = await WorkbookSession.create(o);
  const res = await refreshSession({ ...o, sessionId: s.id, onEvent: () => { throw new Error("listener"); } });
  assert(res.status === 204, "the call succeeded");
  const t = WorkbookSession.attach({ ...o, sessionId: s.id, onEvent: async () => { throw new Error("async listener"); } });
  await t.refresh();
  await (await t.fetch("/worksheets")).text();
  await sleep(50);
  assert(reported.length === 6, "each throw reported: " + reported.length);
  assert(t.state === "active", "state " + t.state);
  await s.close();
} finally {
  if (had) Object.defineProperty(globalThis, "reportError", had); else delete globalThis.reportError;
}
"#,
    )
    .await;
}

/// Issue 20: a `session.fetch` answered `internalServerErrorUncategorized`
/// without recreation: not resent, and "further access to the session is
/// not expected" (workbook-error-handling.md), so the session turns `lost`
/// (`lost` event, `onLost`), and the next call is refused unsent.
#[wasm_bindgen_test]
async fn a_write_answered_500_uncategorized_without_recreation_loses_the_session() {
    events(
        r#"
const r = recorder();
const o = opts("ev-500", { onEvent: r.onEvent });
const s = await WorkbookSession.create(o);
let lostWith = null;
s.keepAlive({ intervalMs: 60000, onLost: (e) => { lostWith = e; } });
r.events.length = 0;
await fault({ operation: "range", pathContains: o.workbook, status: 500, innerCode: "internalServerErrorUncategorized", endSession: true, times: 1 });
const e = await s.fetch("/worksheets('Sheet1')/range(address='A1')", { method: "PATCH", body: { values: [[1]] } }).then(() => null, (e) => e);
assert(e && e.innerCode === "internalServerErrorUncategorized" && e.attempts === 1, "rejected once: " + (e && e.code));
assert(s.state === "lost", "state " + s.state);
assert(r.kinds() === "request response:500 lost", "sequence: " + r.kinds());
assert(lostWith && lostWith.innerCode === "internalServerErrorUncategorized", "onLost told");
const before = (await requests(o.workbook)).length;
const next = await s.fetch("/worksheets").then(() => null, (e) => e);
assert(next && next.code === "invalidArgument", "the next call refused: " + (next && next.code));
assert((await requests(o.workbook)).length === before, "nothing sent after the loss");
r.tokenFree();
"#,
    )
    .await;
}
