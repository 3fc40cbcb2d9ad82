// The package lets go of a caller's objects once a call is over: a
// `fetch` given in the options of a finished refreshSession (and of a
// freed WorkbookSession) can be collected. Run with --expose-gc.
import { refreshSession, WorkbookSession } from "graph-workbook-session";

const answer = () => Promise.resolve(new Response(null, { status: 204, headers: { "request-id": "r" } }));
const call = { workbook: "/me/drive/items/RETAIN", accessToken: "runtime-test-token", sessionId: "cluster=PS1&session=1" };
const collected = async (make) => {
  let ref;
  await (async () => {
    const fetch = (u, i) => answer(u, i);
    ref = new WeakRef(fetch);
    await make(fetch);
  })();
  for (let k = 0; k < 20 && ref.deref(); k++) {
    await new Promise((r) => setTimeout(r, 10));
    globalThis.gc();
  }
  return ref.deref() === undefined;
};
const out = {
  refreshSession: await collected((fetch) => refreshSession({ ...call, fetch })),
  attachFreed: await collected(async (fetch) => {
    const s = WorkbookSession.attach({ ...call, fetch });
    await s.refresh();
    s.free();
  }),
};
console.log(JSON.stringify(out));
