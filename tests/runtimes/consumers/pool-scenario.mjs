// SessionPool (graph-workbook-session/pool) in a runtime: three sessions on
// two workbooks kept alive through $batch for 1.5 s, then stopped and
// closed. Runs in Deno, Bun (pool-cli.mjs) and workerd (workerd-pool);
// returns plain JSON that the tests check.
import { SessionPool } from "graph-workbook-session/pool";

export async function poolScenario(baseUrl, runtime) {
  const out = { runtime, refreshed: 0, errors: [], sent: [] };
  // Every request the pool sends, by its last path segment.
  const counting = (input, init) => {
    const u = typeof input === "string" ? input : input.url;
    out.sent.push(u.split("?")[0].split("/").at(-1));
    return fetch(input, init);
  };
  const pool = new SessionPool({
    accessToken: "runtime-test-token",
    baseUrl,
    fetch: counting,
    intervalMs: 300,
    windowMs: 150,
    onRefresh: () => out.refreshed++,
    onError: (_, e) => out.errors.push(`error ${e.code}`),
    onLost: (_, e) => out.errors.push(`lost ${e.code}`),
  });
  const run = `${runtime}-${Date.now().toString(36)}`;
  const books = [`/me/drive/items/POOL-${run}-A`, `/me/drive/items/POOL-${run}-B`];
  const sessions = await Promise.all([0, 1, 2].map((i) => pool.create({ workbook: books[i % 2] })));
  await new Promise((r) => setTimeout(r, 1500));
  pool.stop();
  out.size = pool.size;
  out.states = sessions.map((s) => s.state);
  await pool.close();
  out.closed = sessions.map((s) => s.state);
  out.batches = out.sent.filter((p) => p === "$batch").length;
  out.books = books;
  delete out.sent;
  return out;
}
