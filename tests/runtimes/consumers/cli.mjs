// Node, Deno and Bun consumer: `<runtime> cli.mjs <emulator url> <runtime name>`.
// Prints the scenario's result as one JSON line.
import { scenario } from "./scenario.mjs";

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
console.log(JSON.stringify(await scenario(args[0], args[1])));
