// Who may use the worker, and on which workbooks. The worker acts in Graph
// as one user (the token in graph.js): whoever can call it acts as that
// user, so every route checks its caller and the workbook first, before
// any Graph request (a refused workbook learns nothing about the file).
//
// Callers: a shared secret (the Worker secret API_SECRET) sent as
// `Authorization: Bearer <secret>`, for the backend that drives this
// worker. Not the caller's own Graph token: a Graph access token is for
// Graph to validate, not for a third party, so the worker could not tell a
// valid one from a forged one. For end users, put Cloudflare Access in
// front, or verify your own identity provider's JWT here.

/**
 * A 401 Response unless the request carries `Authorization: Bearer
 * {API_SECRET}`; null when it does. Fails closed when API_SECRET is unset.
 * Compared in constant time (digests of equal length).
 */
export async function refuseCaller(request, env) {
  const given = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  if (env.API_SECRET && given && (await same(given, env.API_SECRET))) return null;
  return Response.json({ error: "unauthorized" }, { status: 401, headers: { "www-authenticate": "Bearer" } });
}

async function same(a, b) {
  const digest = (s) => crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  return crypto.subtle.timingSafeEqual(x, y);
}

/**
 * A 403 Response unless `workbook` is one of ALLOWED_WORKBOOKS (a JSON
 * array of item paths, compared exactly); null when it is.
 */
export function refuseWorkbook(workbook, env) {
  const allowed = JSON.parse(env.ALLOWED_WORKBOOKS ?? "[]");
  if (typeof workbook === "string" && allowed.includes(workbook)) return null;
  return Response.json({ error: "workbookNotAllowed", workbook: typeof workbook === "string" ? workbook : null }, { status: 403 });
}

/** The most sessions the worker keeps (MAX_SESSIONS, default 10; a value that is not a count keeps none). */
export function maxSessions(env) {
  const max = Number(env.MAX_SESSIONS ?? 10);
  return Number.isInteger(max) && max >= 0 ? max : 0;
}
