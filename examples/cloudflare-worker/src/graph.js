// The options every Graph call of the worker shares, and its token: a
// user's (delegated), since Graph supports createSession, refreshSession
// and closeSession only with delegated permissions (their permission
// tables: Application "Not supported").

/**
 * baseUrl, token provider and time limits. A Worker invocation has a
 * wall-clock budget, so a stuck attempt fails early and retries are few.
 * `store` keeps the user's refresh token: the KV namespace (Cron Trigger
 * worker) or a Durable Object's storage; both have get(key) and put(key, value).
 */
export function graph(env, store) {
  return { baseUrl: env.GRAPH_BASE_URL, accessToken: () => token(env, store), timeoutMs: 10_000, maxRetries: 2 };
}

const REFRESH_TOKEN = "graph-refresh-token";
let cached; // per isolate: { value, expires }

/**
 * A user's Graph access token. GRAPH_TOKEN when set (a user's access token,
 * used as is: about an hour; also how the tests reach the local emulator).
 * Otherwise redeemed from the user's refresh token (the secret
 * GRAPH_REFRESH_TOKEN the first time, then the one kept in `store`: the
 * token endpoint rotates it at every use) for the app CLIENT_ID (and
 * CLIENT_SECRET for a confidential client) in TENANT_ID, with the delegated
 * scope Files.ReadWrite; cached in the isolate until two minutes before it
 * expires. Get the first refresh token by signing the user in once with
 * the authorization-code flow and the scope offline_access.
 */
async function token(env, store) {
  if (env.GRAPH_TOKEN) return env.GRAPH_TOKEN;
  if (cached && cached.expires > Date.now()) return cached.value;
  const refreshToken = (await store.get(REFRESH_TOKEN)) ?? env.GRAPH_REFRESH_TOKEN;
  if (!refreshToken) throw new Error("no user token: set the secret GRAPH_REFRESH_TOKEN (or GRAPH_TOKEN)");
  const form = new URLSearchParams({
    grant_type: "refresh_token",
    client_id: env.CLIENT_ID,
    refresh_token: refreshToken,
    scope: "https://graph.microsoft.com/Files.ReadWrite offline_access",
  });
  if (env.CLIENT_SECRET) form.set("client_secret", env.CLIENT_SECRET);
  const response = await fetch(`https://login.microsoftonline.com/${env.TENANT_ID}/oauth2/v2.0/token`, { method: "POST", body: form });
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  const body = await response.json();
  if (body.refresh_token) await store.put(REFRESH_TOKEN, body.refresh_token);
  cached = { value: body.access_token, expires: Date.now() + (body.expires_in - 120) * 1000 };
  return cached.value;
}

/** Worth another try at the next trigger or alarm (the library already retried). */
export function transient(e) {
  return e.code === "timeout" || e.code === "network" || e.status === 429 || e.status >= 500;
}

/** A GraphError as JSON. */
export function graphError(e) {
  const { name, message, code, innerCode, status, requestId, clientRequestId, retryAfterMs, attempts, recreatable } = e;
  return { name, message, code, innerCode, status, requestId, clientRequestId, retryAfterMs, attempts, recreatable };
}
