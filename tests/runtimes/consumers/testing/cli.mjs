// Node and Deno: prints the scenario's result as one JSON line.
import { scenario } from "./scenario.mjs";

console.log(JSON.stringify(await scenario()));
