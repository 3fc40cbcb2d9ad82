// The options every Graph call of the worker shares, and its token.

/**
 * baseUrl, token provider and time limits. A Worker invocation has a
 * wall-clock budget, so a stuck attempt fails early and retries are few.
 */
export function graph(env) {
  return { baseUrl: env.GRAPH_BASE_URL, accessToken: () => token(env), timeoutMs: 10_000, maxRetries: 2 };
}

let cached; // per isolate: { value, expires }

/**
 * The bearer token: GRAPH_TOKEN when set (a secret; also how the tests
 * reach the local emulator), else an app-only token by the
 * client-credentials grant (secrets TENANT_ID, CLIENT_ID, CLIENT_SECRET;
 * application permission Files.ReadWrite.All or Sites.ReadWrite.All),
 * cached in the isolate until two minutes before it expires.
 */
async function token(env) {
  if (env.GRAPH_TOKEN) return env.GRAPH_TOKEN;
  if (cached && cached.expires > Date.now()) return cached.value;
  const response = await fetch(`https://login.microsoftonline.com/${env.TENANT_ID}/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: env.CLIENT_ID,
      client_secret: env.CLIENT_SECRET,
      scope: "https://graph.microsoft.com/.default",
    }),
  });
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  const body = await response.json();
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
