// Preloaded (`node --import ./runner.mjs out/readme-NN.js`) before a README
// block runs. The blocks call the real Graph host (no baseUrl), as users
// do; this sends those requests to the emulator instead, by replacing the
// global fetch, which the package looks up at call time:
//   https://graph.microsoft.com/...  ->  GRAPH_EMULATOR_URL's origin/...
// Anything else a block fetches fails. Answers naming the emulator's origin
// (createSession's Location, resourceLocation) name Graph's instead, as
// Graph's own would. At exit, prints one JSON line: what the block sent.
const GRAPH = "https://graph.microsoft.com";
const emulator = new URL(process.env.GRAPH_EMULATOR_URL).origin;
const seen = { requests: 0, paths: [], authorization: [], scopes: [], msal: [] };
globalThis.__readme = seen;

const realFetch = globalThis.fetch;
globalThis.fetch = async function graphToEmulator(input, init) {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (!url.startsWith(`${GRAPH}/`)) throw new TypeError(`a README block fetched ${url}; only ${GRAPH} is emulated`);
  seen.requests += 1;
  seen.paths.push(`${init?.method ?? "GET"} ${url.slice(GRAPH.length)}`);
  const authorization = new Headers(init?.headers).get("authorization");
  if (!seen.authorization.includes(authorization)) seen.authorization.push(authorization);
  const answer = await realFetch(emulator + url.slice(GRAPH.length), init);
  const location = answer.headers.get("location");
  const json = (answer.headers.get("content-type") ?? "").includes("json");
  if (!location?.startsWith(emulator) && !json) return answer;
  const headers = new Headers(answer.headers);
  if (location) headers.set("location", GRAPH + location.slice(emulator.length));
  const noBody = [101, 204, 205, 304].includes(answer.status);
  const body = noBody ? null : (await answer.text()).replaceAll(emulator, GRAPH);
  return new Response(body, { status: answer.status, statusText: answer.statusText, headers });
};

process.on("exit", () => console.log(JSON.stringify(seen)));
