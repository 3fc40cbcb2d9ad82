// Preloaded (`node --import ./runner.mjs out/readme-NN.js`) before a README
// block runs. The blocks call the real Graph host (no baseUrl), as users
// do; this sends those requests to the emulator instead, by replacing the
// global fetch, which the package looks up at call time:
//   https://graph.microsoft.com/...  ->  GRAPH_EMULATOR_URL's origin/...
// Anything else a block fetches fails. A minimal `document` gives the blocks
// a button a simulated user clicks (below). Answers naming the emulator's origin
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

// A page's buttons for the blocks that ask the user to act (msal's popup):
// document.querySelector gives a button; once shown (`hidden = false`) and
// given a click handler, a simulated user clicks it after 50 ms. The
// handler's synchronous part runs with `userGesture` set, as a browser's
// transient activation; the msal fake opens a popup only then.
class Button {
  #hidden = true;
  onclick = null;
  constructor(selector) {
    this.selector = selector;
  }
  get hidden() {
    return this.#hidden;
  }
  set hidden(value) {
    this.#hidden = value;
    if (!value) setTimeout(() => !this.#hidden && this.click(), 50);
  }
  click() {
    seen.clicks = (seen.clicks ?? 0) + 1;
    seen.userGesture = true;
    try {
      this.onclick?.({ type: "click", target: this });
    } finally {
      seen.userGesture = false;
    }
  }
}
const buttons = new Map();
globalThis.document = {
  querySelector: (selector) => buttons.get(selector) ?? buttons.set(selector, new Button(selector)).get(selector),
};

process.on("exit", () => console.log(JSON.stringify(seen)));
