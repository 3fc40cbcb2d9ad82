// A web page's code: imports the package like any other dependency and runs
// the shared scenario cross-origin against the emulator
// (?emulator=URL&runtime=NAME). Bundled by Vite (index.html) or webpack.
import { scenario } from "./scenario.mjs";

const params = new URLSearchParams(location.search);
const out = document.getElementById("out");
scenario(params.get("emulator"), params.get("runtime") ?? "chromium").then(
  (result) => {
    window.__result = result;
    out.textContent = JSON.stringify(result, null, 2);
  },
  (e) => {
    window.__result = { failed: String(e?.stack ?? e) };
    out.textContent = window.__result.failed;
  },
);
